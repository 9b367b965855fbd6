import datetime

import pytest
from django.db import connection
from django.http import QueryDict

from cases.facets import FACETS, exact_facet_counts, facet_counts
from cases.filters import CaseFilter
from cases.models import Case
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    CountryFactory,
    KeywordFactory,
    LanguageFactory,
    OutletFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus():
    """A dozen cases spread over every facet, plus drafts that must never count."""
    nato, mi6, eu = (KeywordFactory(name=n) for n in ("NATO", "MI6", "EU"))
    kz, lt, uk = (CountryFactory(name=n) for n in ("Kazakhstan", "Lithuania", "UK"))
    ru, en = LanguageFactory(code="ru", name="Russian"), LanguageFactory(code="en", name="English")
    rt, sputnik = OutletFactory(name="RT"), OutletFactory(name="Sputnik")
    spec = [
        # keywords, countries, languages, outlets, year, status
        ([nato], [kz], [ru], [rt], 2021, "published"),
        ([nato, mi6], [kz, uk], [ru], [rt, sputnik], 2022, "published"),
        ([mi6], [uk], [en], [sputnik], 2022, "published"),
        ([eu], [lt], [ru, en], [rt], 2023, "published"),
        ([nato, eu], [lt], [ru], [], 2023, "published"),
        ([], [], [], [sputnik], None, "published"),
        ([nato, mi6, eu], [kz, lt, uk], [ru, en], [rt, sputnik], 2022, "draft"),
        ([nato], [kz], [ru], [rt], 2021, "in_review"),
        ([eu], [uk], [en], [sputnik], 2023, "withdrawn"),
    ]
    for n, (keywords, countries, languages, outlets, year, status) in enumerate(spec):
        case = CaseFactory(
            title=f"Pipeline claim {n}" if n % 2 else f"Election claim {n}",
            keywords=keywords,
            countries=countries,
            languages=languages,
            date=datetime.date(year, 3, 1) if year else None,
            status=status,
        )
        for outlet in outlets:
            AppearanceFactory(case=case, outlet=outlet)
        # A second appearance in the same outlet still counts the case once.
        if outlets:
            AppearanceFactory(case=case, outlet=outlets[0])


FACET_SQL = {
    "keyword": """
        SELECT k.slug, count(DISTINCT c.id) FROM cases_case c
        JOIN cases_case_keywords ck ON ck.case_id = c.id
        JOIN cases_keyword k ON k.id = ck.keyword_id
        WHERE c.id = ANY(%s) GROUP BY k.slug""",
    "country": """
        SELECT x.slug, count(DISTINCT c.id) FROM cases_case c
        JOIN cases_case_countries cc ON cc.case_id = c.id
        JOIN cases_country x ON x.id = cc.country_id
        WHERE c.id = ANY(%s) GROUP BY x.slug""",
    "language": """
        SELECT l.code, count(DISTINCT c.id) FROM cases_case c
        JOIN cases_case_languages cl ON cl.case_id = c.id
        JOIN cases_language l ON l.id = cl.language_id
        WHERE c.id = ANY(%s) GROUP BY l.code""",
    "outlet": """
        SELECT o.slug, count(DISTINCT c.id) FROM cases_case c
        JOIN cases_appearance a ON a.case_id = c.id
        JOIN cases_outlet o ON o.id = a.outlet_id
        WHERE c.id = ANY(%s) GROUP BY o.slug""",
    "year": """
        SELECT extract(year FROM c.date)::int::text, count(*) FROM cases_case c
        WHERE c.id = ANY(%s) AND c.date IS NOT NULL GROUP BY 1""",
}


def direct_counts(query, facet):
    """Counts by plain SQL over the published cases the page lists without `facet`."""
    params = QueryDict(query, mutable=True)
    params.pop(facet, None)
    listed = CaseFilter(params, queryset=Case.objects.published()).qs
    ids = [case.pk for case in listed]
    with connection.cursor() as cursor:
        cursor.execute(FACET_SQL[facet], [ids])
        return {value: count for value, count in cursor.fetchall() if count}


@pytest.mark.parametrize(
    "query",
    [
        "",
        "keyword=nato",
        "keyword=nato&keyword=mi6",
        "keyword=nato&country=lithuania",
        "language=en&year=2022",
        "outlet=rt&year=2021&year=2023",
        "q=pipeline",
        "q=claim&date_after=2022-01-01&country=uk&country=kazakhstan",
    ],
)
def test_facet_counts_equal_a_direct_sql_count(corpus, query):
    case_filter = CaseFilter(QueryDict(query), queryset=Case.objects.published())
    assert case_filter.is_valid(), case_filter.errors

    for counts in (facet_counts, exact_facet_counts):
        result = counts(case_filter)
        assert (
            result.total
            == CaseFilter(QueryDict(query), queryset=Case.objects.published()).qs.count()
        )
        for facet in FACETS:
            counted = {v.value: v.count for v in result.facets[facet] if v.count}
            assert counted == direct_counts(query, facet), facet


def test_no_draft_is_counted_in_any_facet(corpus):
    result = facet_counts(CaseFilter(QueryDict(""), queryset=Case.objects.published()))
    assert result.total == 6
    counts = {facet: {v.value: v.count for v in result.facets[facet]} for facet in FACETS}
    # The draft, the case in review and the withdrawn case would each add one.
    assert counts["keyword"] == {"nato": 3, "mi6": 2, "eu": 2}
    assert counts["country"] == {"kazakhstan": 2, "lithuania": 2, "uk": 2}
    assert counts["language"] == {"ru": 4, "en": 2}
    assert counts["outlet"] == {"rt": 3, "sputnik": 3}
    assert counts["year"] == {"2021": 1, "2022": 2, "2023": 2}


def test_a_facets_own_values_do_not_narrow_its_counts(corpus):
    result = facet_counts(CaseFilter(QueryDict("keyword=mi6"), queryset=Case.objects.published()))
    keywords = {v.value: (v.count, v.selected) for v in result.facets["keyword"]}
    assert keywords == {"nato": (3, False), "mi6": (2, True), "eu": (2, False)}
    # Other facets count only the MI6 cases.
    assert {v.value: v.count for v in result.facets["country"]} == {"kazakhstan": 1, "uk": 2}


def test_values_are_sorted_by_count_then_label_and_limited_keeping_selected(corpus):
    case_filter = CaseFilter(QueryDict("keyword=eu"), queryset=Case.objects.published())
    keywords = facet_counts(case_filter)
    assert [v.label for v in keywords.facets["keyword"]] == ["NATO", "EU", "MI6"]
    limited = facet_counts(case_filter, limit=1)
    assert [v.label for v in limited.facets["keyword"]] == ["NATO", "EU"]


def test_a_selected_value_that_matches_nothing_stays_listed_with_zero(corpus):
    case_filter = CaseFilter(
        QueryDict("q=pipeline&keyword=mi6&country=lithuania"), queryset=Case.objects.published()
    )
    result = facet_counts(case_filter)
    lithuania = [v for v in result.facets["country"] if v.value == "lithuania"]
    assert lithuania and lithuania[0].selected


class TestFacetsOnTheListPage:
    def test_a_value_links_to_the_view_with_it_added_and_a_selected_one_to_it_removed(
        self, client, corpus
    ):
        html = client.get("/cases/?keyword=nato&ordering=date").content.decode()
        assert 'href="?keyword=nato&amp;keyword=mi6&amp;ordering=date"' in html
        assert 'href="?ordering=date"' in html  # removes NATO
        assert 'aria-current="true"' in html

    def test_active_filters_show_as_chips_that_remove_them(self, client, corpus):
        html = client.get("/cases/?keyword=nato&year=2022&q=claim").content.decode()
        chips = html[html.index('class="chips"') :]
        assert "Keyword: NATO" in chips
        assert "Year: 2022" in chips
        assert "Search: “claim”" in chips
        assert 'href="?year=2022&amp;q=claim"' in chips
        assert 'href="?keyword=nato&amp;q=claim"' in chips
        assert 'href="?keyword=nato&amp;year=2022"' in chips

    def test_the_form_keeps_the_facet_values_when_submitted(self, client, corpus):
        html = client.get("/cases/?keyword=nato&country=uk").content.decode()
        assert '<input type="hidden" name="keyword" value="nato">' in html
        assert '<input type="hidden" name="country" value="uk">' in html

    def test_a_paging_cursor_is_dropped_when_a_filter_changes(self, client, corpus):
        for _ in range(25):
            CaseFactory(keywords=[KeywordFactory(name="NATO")])
        response = client.get("/cases/?keyword=nato")
        next_url = response.context_data["next_url"]
        assert "cursor=" in next_url
        html = client.get(f"/cases/{next_url}").content.decode()
        assert "cursor=" not in html[html.index('id="facet-keyword"') :].split("</section>")[0]

    def test_long_facets_show_the_top_ten_and_a_link_to_all(self, client):
        keywords = [KeywordFactory(name=f"Theme {n:02}") for n in range(14)]
        CaseFactory(keywords=keywords)
        response = client.get("/cases/")
        panel = next(p for p in response.context_data["facets"] if p["name"] == "keyword")
        assert len(panel["values"]) == 10
        assert panel["more_url"] == "?more=keyword"
        expanded = client.get("/cases/?more=keyword")
        panel = next(p for p in expanded.context_data["facets"] if p["name"] == "keyword")
        assert len(panel["values"]) == 14
        assert panel["more_url"] is None
        assert panel["less_url"] == "?"


@pytest.mark.django_db
def test_an_absent_slug_filter_is_seen_empty_without_compiling_its_query(monkeypatch):
    from django.db.models.sql.compiler import SQLCompiler

    from cases.filters import no_values
    from cases.models import Keyword

    bound = CaseFilter(QueryDict("q=word"), queryset=Case.objects.published())
    assert bound.is_valid()
    absent = bound.form.cleaned_data["keyword"]

    def compiled(*args, **kwargs):
        raise AssertionError("compiled the SQL of an empty filter")

    monkeypatch.setattr(SQLCompiler, "as_sql", compiled)
    assert no_values(absent)
    assert no_values([])
    assert not no_values(["x"])
    assert bound.qs is not None  # filtering skips every absent slug filter too
    monkeypatch.undo()
    KeywordFactory(slug="used")
    assert not no_values(Keyword.objects.filter(slug="used"))
    assert no_values(Keyword.objects.filter(slug="unused"))


@pytest.mark.django_db
def test_each_filterset_has_its_own_filters_bound_to_it():
    searching = CaseFilter(QueryDict("q=tanks"), queryset=Case.objects.published())
    ordering = CaseFilter(QueryDict("ordering=date"), queryset=Case.objects.all())

    for filterset in (searching, ordering):
        for name, filter_ in filterset.filters.items():
            assert filter_ is not CaseFilter.base_filters[name]
            assert filter_.parent is filterset
            assert filter_.model is Case
    # A method filter calls the method of its own FilterSet, not of another one.
    assert searching.filters["q"].filter.method == searching.filter_search
    assert ordering.filters["ordering"].filter.method == ordering.filter_ordering
    assert not hasattr(CaseFilter.base_filters["q"], "parent")
    assert searching.is_valid() and ordering.is_valid()
    assert searching.active_ordering == "relevance"
    assert ordering.active_ordering == "date"
