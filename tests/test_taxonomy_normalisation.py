"""Import taxonomy: aliases, BCP 47 languages, ISO countries and regions, outlet spelling
variants, order-independent slugs and names sorted as people sort them."""

import hashlib
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext, override_settings

from cases.collation import human_order, uses_icu
from cases.facets import exact_browse_counts, exact_facet_counts
from cases.facets.common import cleaned_data
from cases.facets.index import FacetIndex
from cases.filters import CaseFilter
from cases.importers.base import (
    AppearanceRef,
    CountryRef,
    LanguageRef,
    ParsedCase,
    TaxonomyResolver,
)
from cases.importers.taxonomy import TaxonomyError, outlet_base
from cases.models import (
    Case,
    Country,
    CountryAlias,
    Keyword,
    KeywordAlias,
    Language,
    LanguageAlias,
    Outlet,
    OutletAlias,
    name_key,
    stable_slug,
)
from cases.services.imports import save_cases
from tests.editors import make_user
from tests.factories import CaseFactory, CountryFactory, KeywordFactory, OutletFactory

pytestmark = pytest.mark.django_db


def parsed(line=1, title=None, **values):
    return ParsedCase(path="file.csv", line=line, title=title or f"Claim {line}", **values)


def resolved(**values):
    resolver = TaxonomyResolver()
    resolver.prepare([parsed(**values)])
    return resolver


# Languages


@pytest.mark.parametrize(
    "name, code",
    [
        ("Castilian", "es"),
        ("Spanish", "es"),
        ("Montenegrin", "sr-ME"),
        ("cnr", "sr-ME"),
        ("Português (Brazil)", "pt-BR"),
        ("Moldovan", "ro-MD"),
        ("ru", "ru"),
        ("RU", "ru"),
        ("Deutsch", "de"),
        ("Farsi", "fa"),
        ("iw", "he"),
    ],
)
def test_language_names_and_codes_become_bcp_47_codes(name, code):
    assert TaxonomyResolver().language(LanguageRef(name)).code == code


def test_a_new_language_is_named_in_english_after_its_code():
    resolver = TaxonomyResolver()
    assert resolver.language(LanguageRef("Português (Brazil)")).name == "Portuguese (Brazil)"
    assert resolver.language(LanguageRef("Castilian")).name == "Spanish"
    assert resolver.language(LanguageRef("Moldovan")).name == "Moldovan"


def test_castilian_and_spanish_are_one_language_counted_once_in_the_facets():
    save_cases(
        [parsed(languages=[LanguageRef("Spanish"), LanguageRef("Castilian")])],
        status=Case.Status.PUBLISHED,
    )

    case = Case.objects.get()
    assert list(case.languages.values_list("code", flat=True)) == ["es"]
    case_filter = CaseFilter(QueryDict(""), queryset=Case.objects.published())
    languages = exact_facet_counts(case_filter).facets["language"]
    assert [(value.value, value.count) for value in languages] == [("es", 1)]


def test_a_code_given_directly_finds_the_existing_language():
    russian = Language.objects.create(code="ru", name="Russian")
    assert TaxonomyResolver().language(LanguageRef("ru")) == russian
    assert TaxonomyResolver().language(LanguageRef("Русский")) == russian


def test_an_unknown_language_is_a_problem_the_importer_can_report_and_nothing_is_made_up():
    case = parsed(languages=[LanguageRef("Xyzzyish"), LanguageRef("English")])
    resolver = TaxonomyResolver()
    resolver.prepare([case])

    assert resolver.problems_for(case) == ["languages: unknown language (Xyzzyish)"]
    with pytest.raises(TaxonomyError) as error:
        resolver.language(LanguageRef("Xyzzyish"))
    assert str(error.value) == "languages: unknown language (Xyzzyish)"
    assert list(Language.objects.values_list("code", flat=True)) == ["en"]
    assert resolver.problems_for(parsed(languages=[LanguageRef("English")])) == []


def test_a_code_that_is_not_bcp_47_gives_way_to_the_name():
    language = TaxonomyResolver().language(LanguageRef("Old Church Slavonic", "old-church-s"))
    assert (language.code, language.name) == ("cu", "Church Slavic")


def test_an_unknown_language_code_is_a_problem_too():
    case = parsed(languages=[LanguageRef("Elvish", code="not a code")])
    assert resolved(languages=case.languages).problems_for(case) == [
        "languages: unknown language code (not a code)"
    ]


def test_an_editor_alias_maps_a_name_the_libraries_do_not_know():
    spanish = Language.objects.create(code="es", name="Spanish")
    LanguageAlias.objects.create(language=spanish, name="Xyzzyish")
    case = parsed(languages=[LanguageRef("xyzzyish")])

    resolver = resolved(languages=case.languages)

    assert resolver.problems_for(case) == []
    assert resolver.language(LanguageRef("xyzzyish")) == spanish


# Countries and regions


@pytest.mark.parametrize(
    "name, iso_code",
    [
        ("Netherlands", "NL"),
        ("The Netherlands", "NL"),
        ("Malaysia", "MY"),
        ("Hong Kong", "HK"),
        ("Vatican", "VA"),
        ("UAE", "AE"),
        ("United Arab Emirates", "AE"),
        ("Kirgizstan", "KG"),
        ("Moldova", "MD"),
        ("Republic of Moldova", "MD"),
        ("Iran", "IR"),
        ("Côte d'Ivoire", "CI"),
        ("Bosnia and Herzegovina", "BA"),
        ("Türkiye", "TR"),
        ("United States of America", "US"),
        ("Federated States of Micronesia", "FM"),
        ("British Indian Ocean Territory", "IO"),
        ("Trinidad and Tobago", "TT"),
    ],
)
def test_country_names_get_their_iso_code(name, iso_code):
    country = TaxonomyResolver().country(CountryRef(name))
    assert (country.iso_code, country.kind) == (iso_code, Country.Kind.COUNTRY)


@pytest.mark.parametrize(
    "name,kind",
    [
        ("EU", Country.Kind.ALLIANCE),
        ("NATO", Country.Kind.ALLIANCE),
        ("CEE", Country.Kind.REGION),
        ("USSR", Country.Kind.HISTORICAL),
        ("GDR", Country.Kind.HISTORICAL),
        ("Yugoslavia", Country.Kind.HISTORICAL),
        ("Middle East and Africa", Country.Kind.REGION),
        ("Georgian region of Abkhazia", Country.Kind.REGION),
        ("Baltic states", Country.Kind.REGION),
    ],
)
def test_regions_alliances_and_historical_states_are_kinds_of_their_own_without_a_code(name, kind):
    country = TaxonomyResolver().country(CountryRef(name))
    assert (country.iso_code, country.kind) == ("", kind)


def test_only_countries_have_iso_codes():
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        CountryFactory(name="USSR", kind=Country.Kind.HISTORICAL, iso_code="SU")


def test_two_names_with_one_iso_code_are_one_country_named_as_the_file_usually_does():
    cases = [
        parsed(1, countries=[CountryRef("Kyrgyzstan")]),
        parsed(2, countries=[CountryRef("Kirgizstan")]),
        parsed(3, countries=[CountryRef("Kirgizstan")]),
    ]
    resolver = TaxonomyResolver()
    resolver.prepare(cases)

    assert resolver.country(CountryRef("Kyrgyzstan")) == resolver.country(CountryRef("Kirgizstan"))
    # pycountry's own name wins over the more frequent spelling.
    assert list(Country.objects.values_list("name", "iso_code")) == [("Kyrgyzstan", "KG")]


def test_an_existing_country_is_found_by_its_code_under_another_name():
    russia = CountryFactory(name="Russia", iso_code="RU")
    assert TaxonomyResolver().country(CountryRef("Russian Federation")) == russia
    assert Country.objects.count() == 1


def test_an_editor_alias_names_a_country():
    georgia = CountryFactory(name="Georgia", iso_code="GE")
    CountryAlias.objects.create(country=georgia, name="Sakartvelo")
    assert TaxonomyResolver().country(CountryRef("SAKARTVELO")) == georgia


def test_an_alias_may_not_be_the_name_of_a_value():
    from django.core.exceptions import ValidationError

    keyword = KeywordFactory(name="NATO")
    KeywordFactory(name="EU")
    with pytest.raises(ValidationError, match="already a keyword called 'eu'"):
        KeywordAlias(keyword=keyword, name="eu").full_clean()


def test_the_countries_page_and_the_api_say_which_values_are_regions(client):
    CaseFactory(
        countries=[
            CountryFactory(name="EU", kind="alliance"),
            CountryFactory(name="Estonia"),
            CountryFactory(name="Baltic states", kind="region"),
            CountryFactory(name="USSR", kind="historical"),
        ]
    )

    rows = client.get("/countries/").context_data["rows"]
    assert [(row["label"], row.get("note")) for row in rows] == [
        ("Baltic states", "region"),
        ("Estonia", None),
        ("EU", "alliance"),
        ("USSR", "historical state"),
    ]
    page = client.get("/countries/").content.decode()
    assert 'class="value-kind">historical state<' in page
    api = client.get("/api/v1/countries/").json()
    assert [(value["name"], value["kind"]) for value in api] == [
        ("Baltic states", "region"),
        ("Estonia", "country"),
        ("EU", "alliance"),
        ("USSR", "historical"),
    ]


# Outlets


def test_outlet_spelling_variants_are_one_outlet_and_each_variant_an_alias():
    cases = [
        parsed(1, appearances=[AppearanceRef(outlet="RIA Novosti")]),
        parsed(2, appearances=[AppearanceRef(outlet="Ria Novosti")]),
        parsed(3, appearances=[AppearanceRef(outlet="RIA Novosti")]),
        parsed(4, appearances=[AppearanceRef(outlet="REN-TV")]),
        parsed(5, appearances=[AppearanceRef(outlet="REN TV")]),
        parsed(6, appearances=[AppearanceRef(outlet="RT - YouTube")]),
        parsed(7, appearances=[AppearanceRef(outlet="RT (Telegram)")]),
        parsed(8, appearances=[AppearanceRef(outlet="RT – Russian")]),
    ]
    TaxonomyResolver().prepare(cases)

    # The most frequent spelling, ties broken by sort order; suffixes left out.
    assert sorted(Outlet.objects.values_list("name", flat=True)) == [
        "REN TV",
        "RIA Novosti",
        "RT",
    ]
    aliases = dict(OutletAlias.objects.values_list("name", "outlet__name"))
    assert aliases == {
        "REN-TV": "REN TV",
        "Ria Novosti": "RIA Novosti",
        "RT (Telegram)": "RT",
        "RT - YouTube": "RT",
        "RT – Russian": "RT",
    }


def test_a_new_outlets_name_does_not_depend_on_the_order_of_the_file():
    spellings = ["REN-TV", "REN TV", "ren tv", "REN-TV", "REN TV"]
    names = set()
    for order in (spellings, spellings[::-1]):
        with transaction.atomic():
            cases = [
                parsed(n, appearances=[AppearanceRef(outlet=name)]) for n, name in enumerate(order)
            ]
            TaxonomyResolver().prepare(cases)
            names.add(Outlet.objects.get().name)
            transaction.set_rollback(True)
    assert names == {"REN TV"}


def test_an_existing_outlets_name_never_changes_on_import():
    outlet = OutletFactory(name="Ria novosti")
    save_cases([parsed(n, appearances=[AppearanceRef(outlet="RIA Novosti")]) for n in range(3)])
    outlet.refresh_from_db()
    assert outlet.name == "Ria novosti"
    assert Outlet.objects.count() == 1
    assert list(outlet.aliases.values_list("name", flat=True)) == ["RIA Novosti"]


@pytest.mark.parametrize(
    "name, base",
    [
        ("TASS - English", "TASS"),
        ("Sputnik (in Russian)", "Sputnik"),
        ("Komsomolskaya Pravda - VK - Russian", "Komsomolskaya Pravda"),
        ("Sputnik Serbia", "Sputnik Serbia"),
        ("Radio Liberty (Russia)", "Radio Liberty (Russia)"),
        ("Echo - Moscow", "Echo - Moscow"),
    ],
)
def test_only_language_and_platform_suffixes_are_left_out(name, base):
    assert outlet_base(name) == base


# Slugs


def slugs_after(*files):
    with transaction.atomic():
        for names in files:
            save_cases([parsed(n, title=name, keywords=[name]) for n, name in enumerate(names)])
        slugs = {name_key(k.name): k.slug for k in Keyword.objects.all()}
        transaction.set_rollback(True)
    return slugs


def test_slugs_do_not_depend_on_the_order_of_imports():
    a = ["Café", "Россия", "COVID-19", "Disinformation"]
    b = ["Cafe", "Украина", "Covid 19", "NATO", "россия"]

    first, second = slugs_after(a, b), slugs_after(b, a)

    assert first == second
    assert first[name_key("Cafe")] == "cafe"
    assert first[name_key("COVID-19")] == "covid-19"
    # Names slugify() cannot spell get the hash of their name_key(), whoever came first.
    assert first[name_key("Россия")] == hashlib.sha1("россия".encode()).hexdigest()[:6]
    assert first[name_key("Россия")] != first[name_key("Украина")]


def test_slugs_do_not_depend_on_the_order_of_the_file():
    names = ["Straße", "Strae", "Zürich", "Zurich"]
    assert slugs_after(names) == slugs_after(names[::-1])


def test_a_slug_taken_by_a_value_an_editor_named_gets_the_hash_suffix():
    KeywordFactory(name="NATO")
    nato = Keyword.objects.create(name="Nato")  # the admin: names are case-sensitive
    assert nato.slug == "nato-" + hashlib.sha1(b"nato").hexdigest()[:6]
    assert stable_slug("Nato", taken={"nato"}) == nato.slug


def test_a_new_value_takes_the_slug_the_file_gives_for_it():
    KeywordFactory(name="Taken", slug="taken")
    case = parsed(
        keywords=["NATO", "Protest"],
        countries=[CountryRef("Estonia")],
        slugs={
            ("keyword", "NATO"): "north-atlantic-alliance",
            ("keyword", "Protest"): "taken",
            ("country", "Estonia"): "eesti",
        },
    )
    TaxonomyResolver().prepare([case])
    assert Keyword.objects.get(name="NATO").slug == "north-atlantic-alliance"
    assert Keyword.objects.get(name="Protest").slug == "protest"  # "taken" is taken
    assert Country.objects.get(name="Estonia").slug == "eesti"


# Human sorting

NAMES = ["Zelimkhan", "coronavirus", "CEE", "Canada", "Édition", "edition", "G20", "G7"]
HUMAN = ["Canada", "CEE", "coronavirus", "edition", "Édition", "G7", "G20", "Zelimkhan"]
# Without ICU, numbers sort as text.
FALLBACK = ["Canada", "CEE", "coronavirus", "edition", "Édition", "G20", "G7", "Zelimkhan"]


@pytest.fixture
def keywords_of_a_published_case():
    CaseFactory(keywords=[KeywordFactory(name=name) for name in NAMES])


def icu_server():
    """Whether this PostgreSQL can sort with ICU. A build without it may still list ICU
    collations in its catalog (the embedded server's "unicode"), but refuses to use them."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 'a' < 'b' COLLATE \"und-x-icu\"")
            return True
    except DatabaseError:
        return False


def test_the_icu_collation_is_used_where_the_server_has_icu():
    assert uses_icu() == icu_server()


@pytest.mark.parametrize("icu", [True, False])
def test_browse_pages_api_admin_and_facets_sort_names_as_people_do(
    client, keywords_of_a_published_case, icu
):
    if icu and not icu_server():
        pytest.skip("this PostgreSQL has no ICU")
    expected = HUMAN if icu else FALLBACK
    with override_settings(HUMAN_SORT_ICU=icu):
        rows = client.get("/keywords/").context_data["rows"]
        assert [row["label"] for row in rows] == expected
        api = client.get("/api/v1/keywords/").json()
        assert [value["name"] for value in api] == expected
        assert [name for _, name, _ in exact_browse_counts("keyword")] == expected
        # The facet index takes its order from the database as well.
        index = FacetIndex.build()
        assert [name for _, name, _ in index.browse_counts("keyword")] == expected
        case_filter = CaseFilter(QueryDict(""), queryset=Case.objects.published())
        facet = exact_facet_counts(case_filter).facets["keyword"]
        assert [value.label for value in facet] == expected  # all counts are 1
        counted = index.facet_counts(case_filter, cleaned_data(case_filter), None)
        assert [value.label for value in counted.facets["keyword"]] == expected
        ordered = Keyword.objects.order_by(*human_order("name"))
        assert list(ordered.values_list("name", flat=True)) == expected
        client.force_login(make_user("boss", superuser=True))
        page = client.get("/admin/cases/keyword/").content.decode()
        assert [page.index(f">{name}</a>") for name in expected] == sorted(
            page.index(f">{name}</a>") for name in expected
        )


# The admin


def test_editors_list_search_and_add_aliases_with_autocomplete_for_the_value(client):
    nato = KeywordFactory(name="NATO")
    KeywordFactory(name="EU")
    client.force_login(make_user("editor", "Editors"))

    response = client.post(
        "/admin/cases/keywordalias/add/", {"name": "North Atlantic Alliance", "keyword": nato.pk}
    )
    assert response.status_code == 302
    assert KeywordAlias.objects.get().keyword == nato
    listing = client.get("/admin/cases/keywordalias/", {"q": "north"}).content.decode()
    assert "North Atlantic Alliance" in listing
    found = client.get(
        "/admin/autocomplete/",
        {"app_label": "cases", "model_name": "keywordalias", "field_name": "keyword", "term": "NA"},
    ).json()
    assert [item["text"] for item in found["results"]] == ["NATO"]
    # The value's own page lists its aliases inline.
    page = client.get(f"/admin/cases/keyword/{nato.pk}/change/").content.decode()
    assert 'value="North Atlantic Alliance"' in page
    # And the importer reads the alias as the value.
    assert TaxonomyResolver().keyword("north atlantic alliance") == nato


def test_an_alias_added_inline_on_a_countrys_page_is_saved(client):
    georgia = CountryFactory(name="Georgia", iso_code="GE")
    client.force_login(make_user("publisher", "Publishers"))
    data = {
        "name": "Georgia",
        "iso_code": "GE",
        "kind": "country",
        "aliases-TOTAL_FORMS": "1",
        "aliases-INITIAL_FORMS": "0",
        "aliases-0-name": "Sakartvelo",
    }
    response = client.post(f"/admin/cases/country/{georgia.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(georgia.aliases.values_list("name", flat=True)) == ["Sakartvelo"]


# Speed


def test_a_whole_files_taxonomy_resolves_in_a_handful_of_queries_and_well_under_a_second():
    KeywordFactory(name="Existing")
    cases = [
        parsed(
            n,
            keywords=[f"Keyword {n % 600}", "existing"],
            countries=[CountryRef("Ukraine"), CountryRef("EU")],
            languages=[LanguageRef("Russian")],
            appearances=[AppearanceRef(outlet=f"Outlet number {n}", outlet_domain=f"o{n}.example")],
            issue=n % 50,
        )
        for n in range(3000)
    ]
    with CaptureQueriesContext(connection) as queries:
        resolver = TaxonomyResolver()
        resolver.prepare(cases)
    with CaptureQueriesContext(connection) as lookups:
        for case in cases:
            resolver.keyword(case.keywords[0])
            resolver.country(case.countries[0])
            resolver.language(case.languages[0])
            resolver.outlet(case.appearances[0].outlet, case.appearances[0].outlet_domain)
            resolver.issue(case.issue)

    assert Outlet.objects.count() == 3000
    assert Keyword.objects.count() == 601
    # One per table read, one per table written: however long the file.
    assert len(queries) <= 20
    assert len(lookups) == 0


def test_the_import_command_reports_an_unknown_language_with_file_and_line(tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "cases.csv"
    path.write_text("title,languages\nA claim,English\nAnother claim,Xyzzyish\n")
    with pytest.raises(CommandError) as error:
        call_command("import_cases", str(path))
    assert str(error.value) == f"{path}:3: languages: unknown language (Xyzzyish)"
    assert not Case.objects.exists()
    assert not Language.objects.exists()


def test_the_paste_import_reports_an_unknown_language():
    from cases.importers import paste

    text = (Path(__file__).resolve().parent.parent / "fixtures" / "seed_cases.txt").read_text()
    assert "Article language(s) Russian" in text
    _, errors = paste.parse(text.replace("language(s) Russian", "language(s) Xyzzyish", 1))
    assert [error.reason for error in errors] == ["languages: unknown language (Xyzzyish)"]


# Merges and renames


def test_a_merged_keywords_name_and_aliases_lead_imports_to_the_one_kept():
    from cases.services import taxonomy as services_taxonomy

    keep, old = KeywordFactory(name="Ukraine war"), KeywordFactory(name="War in Ukraine")
    KeywordAlias.objects.create(keyword=old, name="Ukrainian war")
    services_taxonomy.merge(keep, [old])

    resolver = TaxonomyResolver()
    assert resolver.keyword("War in Ukraine") == keep
    assert resolver.keyword("Ukrainian war") == keep
    assert Keyword.objects.count() == 1


def test_a_renamed_country_keeps_its_former_name_as_an_alias():
    from cases.services import taxonomy as services_taxonomy

    country = CountryFactory(name="Macedonia", iso_code="MK")
    country.name = "North Macedonia"
    services_taxonomy.save_value(country)

    assert list(country.aliases.values_list("name", flat=True)) == ["Macedonia"]
    assert TaxonomyResolver().country(CountryRef("Macedonia")) == country


@pytest.mark.parametrize("name", ["Klingonish", "Englishh", "English, Russian", "Other", "xx"])
def test_near_misses_and_lists_are_unknown_languages_not_guesses(name):
    case = parsed(languages=[LanguageRef(name)])
    assert resolved(languages=case.languages).problems_for(case) == [
        f"languages: unknown language ({name})"
    ]
    assert not Language.objects.exists()


def test_a_code_and_name_the_file_gives_are_kept_and_match_their_standard_form():
    resolver = TaxonomyResolver()
    montenegrin = resolver.language(LanguageRef("Crnogorski", code="cnr"))
    assert (montenegrin.code, montenegrin.name) == ("cnr", "Crnogorski")
    assert resolver.language(LanguageRef("Montenegrin")) == montenegrin
    assert TaxonomyResolver().language(LanguageRef("sr-ME")) == montenegrin


def test_values_the_file_gives_slugs_for_are_kept_apart_as_exported():
    case = parsed(
        keywords=["COVID-19", "Covid 19"],
        countries=[CountryRef("UK", "GB", "country"), CountryRef("Great Britain", "GB", "country")],
        appearances=[AppearanceRef(outlet="RT"), AppearanceRef(outlet="RT - YouTube")],
        slugs={
            ("keyword", "COVID-19"): "covid-19",
            ("keyword", "Covid 19"): "covid-19-2",
            ("country", "UK"): "uk",
            ("country", "Great Britain"): "great-britain",
            ("outlet", "RT"): "rt",
            ("outlet", "RT - YouTube"): "rt-youtube",
        },
    )
    TaxonomyResolver().prepare([case])

    assert sorted(Keyword.objects.values_list("name", "slug")) == [
        ("COVID-19", "covid-19"),
        ("Covid 19", "covid-19-2"),
    ]
    assert sorted(Country.objects.values_list("name", "slug")) == [
        ("Great Britain", "great-britain"),
        ("UK", "uk"),
    ]
    assert sorted(Outlet.objects.values_list("name", "slug")) == [
        ("RT", "rt"),
        ("RT - YouTube", "rt-youtube"),
    ]
    assert not OutletAlias.objects.exists()
