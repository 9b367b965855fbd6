import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    CountryFactory,
    IssueFactory,
    KeywordFactory,
    LanguageFactory,
    OutletFactory,
    edit,
)

pytestmark = pytest.mark.django_db


def listed_titles(response):
    return [case.title for case in response.context_data["cases"]]


def test_the_list_shows_published_cases_newest_first_with_their_count(client):
    CaseFactory(title="Older claim", date=datetime.date(2020, 1, 1))
    CaseFactory(title="Newer claim", date=datetime.date(2023, 1, 1))
    CaseFactory(title="Undated claim", date=None)

    response = client.get("/cases/")

    assert response.status_code == 200
    assert listed_titles(response) == ["Newer claim", "Older claim", "Undated claim"]
    assert "3 cases" in response.content.decode()


@pytest.mark.parametrize(
    "status", [Case.Status.DRAFT, Case.Status.IN_REVIEW, Case.Status.WITHDRAWN]
)
def test_unpublished_cases_never_appear_on_the_list_or_their_page(client, status):
    CaseFactory(title="Public claim")
    hidden = CaseFactory(title="Hidden claim", status=status)

    listing = client.get("/cases/")
    assert listed_titles(listing) == ["Public claim"]
    assert "Hidden claim" not in listing.content.decode()
    # A withdrawn case's page says so (tests/test_withdrawn.py); a draft is unknown.
    expected = 410 if status == Case.Status.WITHDRAWN else 404
    assert client.get(f"/cases/{hidden.pk}/{hidden.slug}/").status_code == expected
    assert client.get(f"/cases/{hidden.pk}/").status_code == expected


def test_the_filter_form_offers_the_typed_parameters_and_facets_offer_the_others(client):
    case = CaseFactory(
        date=datetime.date(2022, 1, 10),
        keywords=[KeywordFactory(name="NATO")],
        countries=[CountryFactory(name="UK")],
        languages=[LanguageFactory(code="ru", name="Russian")],
    )
    AppearanceFactory(case=case, outlet=OutletFactory(name="RT"))
    html = client.get("/cases/").content.decode()
    for name in ("q", "issue", "date_after", "date_before", "ordering"):
        assert f'name="{name}"' in html, name
    for link in ("?keyword=nato", "?country=uk", "?language=ru", "?outlet=rt", "?year=2022"):
        assert f'href="{link}"' in html, link


class TestFiltersOnThePage:
    def test_keyword(self, client):
        nato = KeywordFactory(name="NATO")
        KeywordFactory(name="Unused")
        CaseFactory(title="Match", keywords=[nato])
        CaseFactory(title="Other")
        assert listed_titles(client.get("/cases/?keyword=nato")) == ["Match"]
        assert listed_titles(client.get("/cases/?keyword=unused")) == []

    def test_keywords_are_ored_within_the_facet_and_anded_across_facets(self, client):
        a, b = KeywordFactory(name="Alpha"), KeywordFactory(name="Beta")
        uk = CountryFactory(name="UK")
        CaseFactory(title="A in UK", keywords=[a], countries=[uk])
        CaseFactory(title="B", keywords=[b])
        CaseFactory(title="Neither")
        assert sorted(listed_titles(client.get("/cases/?keyword=alpha&keyword=beta"))) == [
            "A in UK",
            "B",
        ]
        assert listed_titles(client.get("/cases/?keyword=alpha&keyword=beta&country=uk")) == [
            "A in UK"
        ]

    def test_country(self, client):
        kz = CountryFactory(name="Kazakhstan")
        CountryFactory(name="Lithuania")
        CaseFactory(title="Match", countries=[kz])
        CaseFactory(title="Other")
        assert listed_titles(client.get("/cases/?country=kazakhstan")) == ["Match"]
        assert listed_titles(client.get("/cases/?country=lithuania")) == []

    def test_language(self, client):
        ru = LanguageFactory(code="ru", name="Russian")
        LanguageFactory(code="de", name="German")
        CaseFactory(title="Match", languages=[ru])
        CaseFactory(title="Other")
        assert listed_titles(client.get("/cases/?language=ru")) == ["Match"]
        assert listed_titles(client.get("/cases/?language=de")) == []

    def test_outlet(self, client):
        sputnik = OutletFactory(name="Sputnik")
        rt = OutletFactory(name="RT")
        AppearanceFactory(case=CaseFactory(title="Match"), outlet=sputnik)
        AppearanceFactory(case=CaseFactory(title="Other"), outlet=rt)
        assert listed_titles(client.get("/cases/?outlet=sputnik")) == ["Match"]
        assert listed_titles(client.get("/cases/?outlet=rt")) == ["Other"]

    def test_issue(self, client):
        CaseFactory(title="Match", issue=IssueFactory(number=270))
        CaseFactory(title="Other", issue=IssueFactory(number=271))
        assert listed_titles(client.get("/cases/?issue=270")) == ["Match"]
        assert listed_titles(client.get("/cases/?issue=999")) == []

    def test_dates_are_inclusive(self, client):
        CaseFactory(title="January", date=datetime.date(2022, 1, 10))
        CaseFactory(title="March", date=datetime.date(2022, 3, 1))
        assert listed_titles(client.get("/cases/?date_after=2022-03-01")) == ["March"]
        assert listed_titles(client.get("/cases/?date_before=2022-01-10")) == ["January"]
        assert (
            listed_titles(client.get("/cases/?date_after=2022-01-11&date_before=2022-02-28")) == []
        )

    def test_search(self, client):
        CaseFactory(title="MI6 behind the protests in Kazakhstan")
        CaseFactory(title="Lithuania under Soviet rule")
        assert listed_titles(client.get("/cases/?q=kazakhstan")) == [
            "MI6 behind the protests in Kazakhstan"
        ]
        assert listed_titles(client.get("/cases/?q=venezuela")) == []

    def test_ordering_oldest_first(self, client):
        CaseFactory(title="Older", date=datetime.date(2020, 1, 1))
        CaseFactory(title="Newer", date=datetime.date(2023, 1, 1))
        assert listed_titles(client.get("/cases/?ordering=date")) == ["Older", "Newer"]
        assert listed_titles(client.get("/cases/?ordering=-date")) == ["Newer", "Older"]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("keyword=no-such-keyword", "keyword"),
        ("country=atlantis", "country"),
        ("language=xx", "language"),
        ("outlet=nowhere", "outlet"),
        ("date_after=notadate", "date_after"),
        ("date_before=2022-13-45", "date_before"),
        ("issue=abc", "issue"),
        ("ordering=title", "ordering"),
        ("year=abc", "year"),
        ("year=20222", "year"),
        ("cursor=abc", "cursor"),
        ("more=colour", "more"),
    ],
)
def test_bad_input_shows_a_form_error_naming_the_parameter(client, query, parameter):
    CaseFactory()
    response = client.get(f"/cases/?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert f"<strong>{parameter}</strong>" in html or f"{parameter}: " in html
    assert "Some filters need fixing" in html


def test_an_empty_result_says_so_and_offers_a_way_back(client):
    CaseFactory(title="Other claim", keywords=[KeywordFactory(name="Lonely")])
    html = client.get("/cases/?keyword=lonely&year=1999").content.decode()
    assert "No published case matches these filters." in html
    assert 'href="/cases/"' in html


def test_the_list_runs_the_same_number_of_queries_whatever_the_page_holds(client):
    def queries_for_list():
        with CaptureQueriesContext(connection) as context:
            response = client.get("/cases/")
            assert response.status_code == 200 and response.content
        return len(context.captured_queries)

    kw, country, lang = KeywordFactory(), CountryFactory(), LanguageFactory()
    case = CaseFactory(keywords=[kw], countries=[country], languages=[lang])
    AppearanceFactory(case=case)
    few = queries_for_list()
    for _ in range(15):
        case = CaseFactory(keywords=[KeywordFactory()], countries=[country], languages=[lang])
        AppearanceFactory(case=case)
    # 1. the data version (the test's writes are uncommitted, so facets use exact SQL)
    # 2. the total count
    # 3-7. the counts of the keyword, country, language, outlet and year facets
    # 8. the data version again, for the page's ids from the index (facets.newest_ids),
    #    which cannot answer with the writes uncommitted
    # 9. the page
    # 10. the page's languages, countries, keywords and appearances, in one statement
    assert queries_for_list() == few == 10


def test_a_filtered_search_runs_a_fixed_number_of_queries_whatever_the_page_holds(client):
    def queries_for_list():
        with CaptureQueriesContext(connection) as context:
            response = client.get("/cases/?q=claim&keyword=nato&year=2022&ordering=-date")
            assert response.status_code == 200 and response.content
        return len(context.captured_queries)

    nato, country, lang = KeywordFactory(name="NATO"), CountryFactory(), LanguageFactory()
    for _ in range(2):
        case = CaseFactory(keywords=[nato], countries=[country], languages=[lang])
        AppearanceFactory(case=case)
    few = queries_for_list()
    for _ in range(30):
        case = CaseFactory(keywords=[nato, KeywordFactory()], countries=[country])
        AppearanceFactory(case=case)
    # Before the matches are sent:
    # 1. validation of the keyword slugs
    # 2. the data version (the test's writes are uncommitted, so counts use exact SQL)
    # 3. the search's count: whether it matched anything (the index would estimate it)
    # 4. the data version again, for the page's ids from the index (facets.newest_ids)
    # 5. the page
    # 6. the page's languages, countries, keywords and appearances, in one statement
    # After them (cases/site/streaming.py):
    # 7. the data version again (without the page cache, nothing holds the first reading)
    # 8. the total count
    # 9-13. the counts of the five facets
    # 14-15. what each other value would add, in the two facets with a selection
    assert queries_for_list() == few == 15


class TestCasePage:
    def test_shows_every_field_with_links(self, client):
        case = CaseFactory(
            title="The ears of MI6",
            summary="What the outlet said.",
            disproof="See [the statement](https://example.org/statement).",
            issue=IssueFactory(number=270),
            keywords=[KeywordFactory(name="MI6")],
            countries=[CountryFactory(name="Kazakhstan")],
            languages=[LanguageFactory(code="ru", name="Russian")],
        )
        AppearanceFactory(
            case=case,
            outlet=OutletFactory(name="Sputnik"),
            url="https://sputnik.example/a",
            archive_url="https://archive.example/a",
        )
        html = client.get(case.get_absolute_url()).content.decode()
        for text in (
            "The ears of MI6",
            "What the outlet said.",
            'href="https://example.org/statement"',
            "Issue 270",
            "?keyword=mi6",
            "?country=kazakhstan",
            "?language=ru",
            "Sputnik",
            'href="https://sputnik.example/a"',
            'href="https://archive.example/a"',
            "10 January 2022",
        ):
            assert text in html, text

    def test_related_cases_link_both_ways_but_hide_drafts(self, client):
        first = CaseFactory(title="First claim")
        second = CaseFactory(title="Second claim")
        draft = CaseFactory(title="Draft claim", status=Case.Status.DRAFT)
        first.related.add(second, draft)
        first_html = client.get(first.get_absolute_url()).content.decode()
        second_html = client.get(second.get_absolute_url()).content.decode()
        assert second.get_absolute_url() in first_html
        assert first.get_absolute_url() in second_html
        assert "Draft claim" not in first_html

    def test_short_and_wrong_slug_urls_redirect_to_the_canonical_url(self, client):
        case = CaseFactory(title="A claim about NATO")
        canonical = f"/cases/{case.pk}/a-claim-about-nato/"
        assert case.get_absolute_url() == canonical
        for url in (f"/cases/{case.pk}/", f"/cases/{case.pk}/an-old-title/"):
            response = client.get(url)
            assert response.status_code == 301
            assert response["Location"] == canonical

    def test_renaming_a_case_keeps_old_links_working(self, client):
        case = CaseFactory(title="Old title")
        old_url = case.get_absolute_url()
        edit(case, title="New title")
        response = client.get(old_url)
        assert response.status_code == 301
        assert response["Location"] == f"/cases/{case.pk}/new-title/"

    def test_markup_in_the_disproof_is_rendered_harmless(self, client):
        case = CaseFactory(
            disproof='<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror="y">'
        )
        html = client.get(case.get_absolute_url()).content.decode()
        assert "<script>alert" not in html
        # A line opening with <script> is an HTML block in CommonMark: the link after it
        # stays text, shown as typed. No attribute may carry the URL.
        assert not re.search(r"=\s*[\"']?javascript:", html, re.IGNORECASE)
        assert "onerror" not in html
        edit(case, disproof="[x](javascript:alert(2)) and [y](https://example.org/y)")
        html = client.get(case.get_absolute_url()).content.decode()
        assert "javascript:" not in html
        assert ">x</a>" in html
        assert 'href="https://example.org/y"' in html


def test_a_pending_reference_links_up_when_its_case_arrives():
    waiting = CaseFactory(title="Waiting case")
    edit(waiting, related_titles=["Protests in Kazakhstan are a colour revolution."])
    assert waiting.pending_references.count() == 1

    arrived = CaseFactory(title="Protests in Kazakhstan are a colour revolution")

    assert list(waiting.related.all()) == [arrived]
    assert list(arrived.related.all()) == [waiting]
    assert waiting.pending_references.count() == 0
