"""The public pages in English, Russian, Ukrainian, German and French (disinfo_db/i18n.py)."""

import datetime
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from cases.freshness import cache
from cases.site.page_filters import thousands
from tests.factories import CaseFactory, KeywordFactory

BASE_DIR = Path(__file__).resolve().parents[1]
LOCALE = BASE_DIR / "locale"
TRANSLATED = ["ru", "uk", "de", "fr"]
XHTML = "{http://www.w3.org/1999/xhtml}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def html_of(response):
    return response.content.decode()


@pytest.fixture(autouse=True)
def english_afterwards():
    """A request to a prefixed page leaves its language active in the thread: reset it."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.mark.django_db
class TestPrefixedPages:
    def test_a_prefixed_list_is_in_its_language_with_dates_in_its_format(self, client):
        CaseFactory(title="NATO builds biolabs", date=datetime.date(2022, 1, 10))
        html = html_of(client.get("/ru/cases/"))
        assert '<html lang="ru">' in html
        assert "<h1>Случаи дезинформации</h1>" in html
        assert "1 случай" in html
        assert "10 января 2022 г." in html
        assert "Disinformation cases" not in html

    def test_each_language_has_its_own_words_and_dates(self, client):
        CaseFactory(date=datetime.date(2022, 3, 5))
        expected = {
            "": ("Disinformation cases", "5 March 2022"),
            "/uk": ("Випадки дезінформації", "05 березня 2022 р."),
            "/de": ("Desinformationsfälle", "5. März 2022"),
            "/fr": ("Cas de désinformation", "5 mars 2022"),
        }
        for prefix, (heading, day) in expected.items():
            html = html_of(client.get(f"{prefix}/cases/"))
            assert f"<h1>{heading}</h1>" in html, prefix
            assert day in html, prefix

    def test_every_public_page_answers_in_every_language(self, client):
        case = CaseFactory(title="Biolabs in Ukraine")
        paths = ["/cases/", case.get_absolute_url(), "/stats/", "/match/?text=biolabs",
                 "/keywords/", "/countries/", "/languages/", "/outlets/", "/issues/",
                 "/corrections/", f"/cases/{case.pk}/{case.slug}/similar/"]  # fmt: skip
        for code in TRANSLATED:
            for path in paths:
                response = client.get(f"/{code}{path}")
                assert response.status_code == 200, (code, path)
                assert f'<html lang="{code}">' in html_of(response), (code, path)

    def test_numbers_are_grouped_as_the_language_groups_them(self):
        grouped = {"en": "1,234,567", "ru": "1\xa0234\xa0567", "de": "1.234.567"}
        for code, text in grouped.items():
            with translation.override(code):
                assert thousands(1234567) == text

    def test_case_texts_stay_in_their_own_language_and_say_so(self, client):
        case = CaseFactory(
            title="The West staged the protests",
            summary="A claim about protests.",
            disproof="No **evidence** supports it.",
        )
        html = html_of(client.get(f"/de{case.get_absolute_url()}"))
        assert '<h1 lang="en">The West staged the protests</h1>' in html
        assert '<div class="prose" lang="en"><p>A claim about protests.</p>' in html
        assert "<strong>evidence</strong>" in html
        assert '<h2 id="disproof-heading">Widerlegung</h2>' in html

    def test_links_on_a_prefixed_page_stay_in_its_language_but_data_has_one_url(self, client):
        keyword = KeywordFactory(slug="nato")
        case = CaseFactory()
        case.keywords.add(keyword)
        english_url = case.get_absolute_url()
        html = html_of(client.get("/fr/cases/?keyword=nato"))
        assert 'href="/fr/stats/"' in html
        assert f'href="/fr{english_url}"' in html
        assert 'href="/cases/export/?format=csv&amp;keyword=nato"' in html
        assert 'href="/cases/feed/atom/?keyword=nato"' in html
        assert "/fr/cases/export/" not in html

    def test_a_case_page_is_canonical_in_its_language_but_cites_the_one_permalink(self, client):
        case = CaseFactory(title="Sanctions hurt only Europe")
        path = case.get_absolute_url()
        html = html_of(client.get(f"/uk{path}"))
        assert f'<link rel="canonical" href="http://testserver/uk{path}">' in html
        assert f'<a href="http://testserver/cases/{case.pk}/">' in html
        assert f"випадок № {case.pk}, опубліковано " in html

    def test_data_names_cases_by_their_english_url_after_any_page(self, client):
        from cases.api.serializers import _case_path_prefix

        case = CaseFactory()
        _case_path_prefix.cache_clear()  # as in a fresh process whose first page is Russian
        assert client.get(f"/ru{case.get_absolute_url()}").status_code == 200
        api = client.get("/api/v1/cases/").json()
        assert api["results"][0]["url"] == f"http://testserver/cases/{case.pk}/{case.slug}/"
        export = client.get("/cases/export/?format=csv")
        csv = b"".join(export.streaming_content).decode()
        assert f"http://testserver/cases/{case.pk}/{case.slug}/" in csv
        assert "/ru/" not in csv

    def test_a_prefixed_data_url_goes_to_the_one_unprefixed_url(self, client):
        response = client.get("/ru/cases/export/?format=csv")
        assert response.status_code == 301
        assert response["Location"] == "/cases/export/?format=csv"

    def test_a_filter_error_is_explained_in_the_language_but_names_the_parameter(self, client):
        response = client.get("/ru/cases/?year=abc")
        assert response.status_code == 400
        assert "<strong>year</strong>: Введите год числом" in html_of(response)

    def test_a_missing_page_says_so_in_the_language(self, client):
        response = client.get("/uk/no/such/page/")
        assert response.status_code == 404
        assert "<h1>Сторінку не знайдено</h1>" in html_of(response)


@pytest.mark.django_db
class TestPreferredLanguage:
    def test_accept_language_sends_an_english_url_to_the_preferred_language(self, client):
        response = client.get("/cases/?q=nato", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
        assert response.status_code == 302
        assert response["Location"] == "/ru/cases/?q=nato"
        assert "Accept-Language" in response["Vary"] and "Cookie" in response["Vary"]

    def test_english_first_or_an_unsupported_language_stays_english(self, client):
        for header in ("en-GB,en;q=0.9,de;q=0.8", "ja,zh;q=0.5", ""):
            response = client.get("/cases/", headers={"Accept-Language": header})
            assert response.status_code == 200, header
            assert '<html lang="en">' in html_of(response)

    def test_a_regional_variant_finds_its_language(self, client):
        response = client.get("/stats/", headers={"Accept-Language": "fr-CA"})
        assert response["Location"] == "/fr/stats/"

    def test_the_cookie_outranks_accept_language(self, client):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        response = client.get("/cases/", headers={"Accept-Language": "de"})
        assert response.status_code == 200
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "uk"
        assert client.get("/cases/")["Location"] == "/uk/cases/"

    def test_a_prefixed_url_is_never_redirected(self, client):
        response = client.get("/de/cases/", headers={"Accept-Language": "ru"})
        assert response.status_code == 200
        assert '<html lang="de">' in html_of(response)

    def test_the_api_and_exports_ignore_the_preferred_language(self, client):
        CaseFactory()
        for path in ("/api/v1/cases/", "/cases/export/?format=csv", "/cases/feed/atom/"):
            response = client.get(path, headers={"Accept-Language": "ru"})
            assert response.status_code == 200, path


@pytest.mark.django_db
class TestSwitcher:
    def test_the_switcher_links_the_same_page_and_query_in_every_language(self, client):
        html = html_of(client.get("/ru/cases/?q=nato&ordering=date"))
        switcher = re.search(r'<nav class="language-switcher".*?</nav>', html, re.S).group(0)
        assert 'hreflang="en" lang="en"' in switcher
        assert 'href="/language/en/?next=/cases/%3Fq%3Dnato%26ordering%3Ddate"' in switcher
        assert 'href="/language/de/?next=/de/cases/%3Fq%3Dnato%26ordering%3Ddate"' in switcher
        assert '<a href="/ru/cases/?q=nato&amp;ordering=date" hreflang="ru" lang="ru"' in switcher
        assert switcher.count("<a ") == 5

    def test_switching_remembers_the_choice_and_goes_to_the_page(self, client):
        response = client.get("/language/en/?next=/cases/%3Fq%3Dnato")
        assert response.status_code == 302
        assert response["Location"] == "/cases/?q=nato"
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
        # Now English sticks, whatever the browser prefers.
        english = client.get("/cases/?q=nato", headers={"Accept-Language": "ru"})
        assert english.status_code == 200

    def test_switching_never_leaves_the_site_and_knows_only_its_languages(self, client):
        response = client.get("/language/de/?next=https://evil.example/")
        assert response["Location"] == "/de/"
        assert client.get("/language/xx/?next=/cases/").status_code == 404

    def test_each_page_names_its_versions_for_search_engines(self, client):
        html = html_of(client.get("/uk/stats/?keyword=nato"))
        for code, prefix in [("en", ""), ("ru", "/ru"), ("uk", "/uk"), ("de", "/de")]:
            link = (
                f'<link rel="alternate" hreflang="{code}" '
                f'href="http://testserver{prefix}/stats/?keyword=nato">'
            )
            assert link in html
        assert (
            '<link rel="alternate" hreflang="x-default" href="http://testserver/stats/?keyword=nato">'
        ) in html


@pytest.mark.django_db
def test_the_sitemap_gives_every_case_its_versions_and_english_as_default(client):
    case = CaseFactory()
    root = ET.fromstring(client.get("/sitemap-cases.xml").content)
    urls = root.findall(f"{SITEMAP}url")
    assert len(urls) == 5
    path = case.get_absolute_url()
    expected = {
        "en": f"http://testserver{path}",
        "ru": f"http://testserver/ru{path}",
        "uk": f"http://testserver/uk{path}",
        "de": f"http://testserver/de{path}",
        "fr": f"http://testserver/fr{path}",
        "x-default": f"http://testserver{path}",
    }
    for url in urls:
        alternates = {link.get("hreflang"): link.get("href") for link in url.iter(f"{XHTML}link")}
        assert alternates == expected
    assert sorted(url.find(f"{SITEMAP}loc").text for url in urls) == sorted(set(expected.values()))


@pytest.mark.django_db(transaction=True)
class TestPageCache:
    @pytest.fixture(autouse=True)
    def page_cache(self, settings):
        settings.PAGE_CACHE = True
        cache.clear()

    def test_a_kept_page_is_never_answered_in_another_language(self, client):
        CaseFactory()
        english = client.get("/cases/")
        assert '<html lang="en">' in html_of(english)

        preferring_russian = client.get("/cases/", headers={"Accept-Language": "ru"})
        assert preferring_russian.status_code == 302
        russian = client.get("/ru/cases/")
        assert '<html lang="ru">' in html_of(russian)
        german = client.get("/de/cases/")
        assert '<html lang="de">' in html_of(german)
        assert '<html lang="en">' in html_of(client.get("/cases/"))
        assert '<html lang="ru">' in html_of(client.get("/ru/cases/"))

    def test_prefixed_pages_are_kept_and_the_language_cookie_does_not_stop_it(self, client):
        CaseFactory()
        assert client.get("/ru/cases/").content  # kept once all of it is sent
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
        with CaptureQueriesContext(connection) as queries:
            again = client.get("/ru/cases/")
        assert len(queries.captured_queries) == 1  # the data version
        assert '<html lang="ru">' in html_of(again)
        # The same cookie sends the unprefixed URL on, without the kept English page.
        assert client.get("/cases/")["Location"] == "/ru/cases/"


def _extracted_messages(tmp_path):
    """The msgids `make messages` extracts, with the same command and mapping (babel.cfg)."""
    pot = tmp_path / "django.pot"
    subprocess.run(
        [str(BASE_DIR / ".venv" / "bin" / "pybabel"), "-q", "extract", "-F", "babel.cfg",
         "--no-location", "--omit-header", "-k", "_", "-k", "gettext", "-k", "gettext_lazy",
         "-k", "ngettext:1,2", "-o", str(pot), "."],
        cwd=BASE_DIR, check=True,
    )  # fmt: skip
    with open(pot, "rb") as extracted:
        ids = [message.id for message in read_po(extracted) if message.id]
    assert len(ids) > 150  # the templates' strings were found
    return ids


def _catalogue(code):
    with open(LOCALE / code / "LC_MESSAGES" / "django.po", "rb") as po:
        return read_po(po)


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_string_of_the_pages_is_translated(code, tmp_path):
    catalogue = _catalogue(code)
    missing = []
    for msgid in _extracted_messages(tmp_path):
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        message = catalogue.get(key)
        strings = () if message is None else message.string
        strings = (strings,) if isinstance(strings, str) else strings
        if message is None or message.fuzzy or not all(strings):
            missing.append(key)
    assert missing == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_every_placeholder_of_their_message(code):
    for message in _catalogue(code):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            # A singular may say "one" in words where English says %(num)s.
            assert set(PLACEHOLDER.findall(string)) <= wanted | set(PLACEHOLDER.findall(ids[0])), (
                message.id,
                string,
            )
            assert set(PLACEHOLDER.findall(string)) >= wanted - {"%(num)s"}, (message.id, string)


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_committed_mo_file_is_the_compiled_po_file(code):
    with open(LOCALE / code / "LC_MESSAGES" / "django.mo", "rb") as mo:
        compiled = {_key(message.id): _key(message.string) for message in read_mo(mo)}
    written = {
        _key(message.id): _key(message.string)
        for message in _catalogue(code)
        if message.id and not message.fuzzy
    }
    compiled.pop("", None)  # the header
    assert compiled == written


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value
