"""Statistics of a view at /stats/, and the SVG chart geometry behind them."""

import datetime
import re

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from cases import facets
from cases.facets import index as facet_index
from cases.filters import CaseFilter
from cases.models import Appearance, Case, Keyword
from cases.site.charts import (
    AXIS_CHAR_WIDTH,
    bar_chart,
    fill_months,
    nice_ceiling,
    period_label,
    timeline_chart,
)
from cases.site.stats import case_statistics, cases_per_month, exact_case_statistics
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
committed = pytest.mark.django_db(transaction=True)


def month(year, number):
    return datetime.date(year, number, 1)


@pytest.fixture
def world():
    """Three published cases and, for each, drafts and hidden cases tagged the same way."""
    nato, mi6 = KeywordFactory(name="NATO"), KeywordFactory(name="MI6")
    kazakhstan, uk = CountryFactory(name="Kazakhstan"), CountryFactory(name="UK")
    russian, english = (
        LanguageFactory(code="ru", name="Russian"),
        LanguageFactory(code="en", name="English"),
    )
    sputnik, rt = OutletFactory(name="Sputnik"), OutletFactory(name="RT")

    def case(title, date, keywords, countries, languages, outlets, status=Case.Status.PUBLISHED):
        created = CaseFactory(
            title=title,
            date=date,
            keywords=keywords,
            countries=countries,
            languages=languages,
            status=status,
        )
        for outlet in outlets:
            AppearanceFactory(case=created, outlet=outlet)
        return created

    case("One", datetime.date(2022, 1, 10), [nato, mi6], [kazakhstan], [russian], [sputnik, rt])
    case("Two", datetime.date(2022, 3, 5), [nato], [kazakhstan, uk], [russian], [sputnik, sputnik])
    case("Three", None, [mi6], [uk], [english], [rt])
    for status in (Case.Status.DRAFT, Case.Status.IN_REVIEW, Case.Status.WITHDRAWN):
        case(
            f"Hidden {status}",
            datetime.date(2021, 6, 1),
            [nato, mi6, KeywordFactory(name=f"Only {status}")],
            [kazakhstan, CountryFactory(name=f"Land {status}")],
            [russian, LanguageFactory(code=f"x-{status}", name=f"Tongue {status}")],
            [sputnik, OutletFactory(name=f"Outlet {status}")],
            status=status,
        )


def counts(rows):
    return {row["name"]: row["count"] for row in rows}


def published_filter(query=""):
    bound = CaseFilter(QueryDict(query), queryset=Case.objects.published())
    assert bound.is_valid(), bound.errors
    return bound


def test_the_statistics_count_published_cases_per_month_and_per_value(world):
    stats = case_statistics(published_filter())

    assert stats["total"] == 3
    assert stats["dated"] == 2
    assert stats["undated"] == 1
    assert stats["months"] == [(month(2022, 1), 1), (month(2022, 2), 0), (month(2022, 3), 1)]
    assert counts(stats["keywords"]) == {"NATO": 2, "MI6": 2}
    assert counts(stats["countries"]) == {"Kazakhstan": 2, "UK": 2}
    assert counts(stats["languages"]) == {"Russian": 2, "English": 1}
    # A case citing an outlet twice counts once for it.
    assert counts(stats["outlets"]) == {"Sputnik": 2, "RT": 2}


def test_no_draft_or_hidden_case_is_counted_in_any_statistic(client, world):
    html = client.get("/stats/").content.decode()
    stats = client.get("/stats/").context_data["stats"]

    assert stats["total"] == 3
    assert month(2021, 6) not in dict(stats["months"])
    for key in ("keywords", "countries", "languages", "outlets"):
        names = counts(stats[key])
        assert not [name for name in names if name.split()[0] in ("Only", "Land", "Tongue")]
        assert not [name for name in names if name.startswith("Outlet ")]
    for status in ("draft", "in_review", "withdrawn"):
        assert f"Only {status}" not in html
        assert f"Land {status}" not in html
    assert "June 2021" not in html


def test_the_most_frequent_values_come_first_with_ties_by_name(world):
    CaseFactory(keywords=[KeywordFactory(name="NATO")])

    stats = case_statistics(published_filter())

    assert [(row["name"], row["count"]) for row in stats["keywords"]] == [
        ("NATO", 3),
        ("MI6", 2),
    ]
    assert [row["key"] for row in stats["keywords"]] == ["nato", "mi6"]
    assert [row["key"] for row in stats["languages"]] == ["ru", "en"]


class TestFiltersOnTheStatistics:
    def test_keyword(self, client, world):
        stats = client.get("/stats/?keyword=mi6").context_data["stats"]
        assert stats["total"] == 2
        assert counts(stats["keywords"]) == {"MI6": 2, "NATO": 1}
        assert client.get("/stats/?keyword=topic-nobody-uses").status_code == 400
        # A keyword only drafts carry is unknown to the public, as one nobody uses.
        private = client.get("/stats/?keyword=only-draft")
        unknown = client.get("/stats/?keyword=never-used")
        assert private.status_code == 400
        assert private.content.decode().replace("only-draft", "never-used") == (
            unknown.content.decode()
        )

    def test_country_and_language(self, client, world):
        stats = client.get("/stats/?country=uk&language=ru").context_data["stats"]
        assert stats["total"] == 1
        assert stats["months"] == [(month(2022, 3), 1)]
        empty = client.get("/stats/?country=kazakhstan&language=en").context_data["stats"]
        assert empty["total"] == 0

    def test_outlet(self, client, world):
        stats = client.get("/stats/?outlet=rt").context_data["stats"]
        assert stats["total"] == 2
        assert counts(stats["outlets"]) == {"RT": 2, "Sputnik": 1}

    def test_search_and_dates(self, client, world):
        assert client.get("/stats/?q=two").context_data["stats"]["total"] == 1
        stats = client.get("/stats/?date_after=2022-02-01").context_data["stats"]
        assert stats["total"] == 1
        assert stats["undated"] == 0


def test_the_page_draws_svg_charts_with_a_bar_per_value_and_tables_of_the_numbers(client, world):
    html = client.get("/stats/").content.decode()

    charts = re.findall(r'<svg [^>]*role="img"[^>]*>.*?</svg>', html, re.DOTALL)
    assert len(charts) == 5
    timeline, countries = charts[0], charts[1]
    assert len(re.findall(r'<rect class="bar"', timeline)) == 3
    assert "<title>Jan 2022: 1</title>" in timeline
    assert "<title>Feb 2022: 0</title>" in timeline
    assert len(re.findall(r'<rect class="bar"', countries)) == 2
    assert "<title>Kazakhstan: 2</title>" in countries
    assert "<caption>Cases per month</caption>" in html
    assert (
        '<tr><th scope="row"><a href="/cases/?date_after=2022-03-01&amp;date_before=2022-03-31">'
        'Mar 2022</a></th><td class="num">1</td></tr>'
    ) in html
    assert (
        '<tr><th scope="row"><a href="/cases/?country=kazakhstan">Kazakhstan</a></th>'
        '<td class="num">2</td>'
    ) in html
    assert "Cases without a known date are not shown: 1." in html


def test_table_links_add_the_value_to_the_current_filters(client, world):
    html = client.get("/stats/?keyword=nato").content.decode()
    assert '<a href="/cases/?keyword=nato&amp;country=uk">UK</a>' in html
    assert "Keyword: NATO" in html


def test_an_empty_view_says_there_is_nothing_to_count(client):
    response = client.get("/stats/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "No published case matches these filters" in html
    assert "<svg" not in html


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("keyword=no-such-keyword", "keyword"),
        ("date_after=31-12-2020", "date_after"),
        ("ordering=sideways", "ordering"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it_on_the_page(client, query, parameter):
    response = client.get(f"/stats/?{query}")
    assert response.status_code == 400
    assert f"<strong>{parameter}</strong>: " in response.content.decode()


def test_with_uncommitted_writes_the_statistics_take_a_constant_number_of_queries(
    client, world, django_assert_num_queries
):
    # The data version (which finds this connection's own writes, so the index stays out),
    # then cases per month and the top countries, keywords, outlets and languages.
    with django_assert_num_queries(6):
        client.get("/stats/")
    for n in range(5):
        case = CaseFactory(
            keywords=[KeywordFactory(name=f"More {n}")], countries=[CountryFactory()]
        )
        AppearanceFactory(case=case)
    with django_assert_num_queries(6):
        client.get("/stats/")
    # Each slug parameter is looked up once to check it.
    with django_assert_num_queries(8):
        client.get("/stats/?keyword=nato&country=uk&q=claim")


# The statistics come from the facet index once writes are committed (the tests below
# commit them); they must stay what the aggregate queries count.

QUERIES = [
    "",
    "keyword=nato",
    "keyword=nato&keyword=mi6",
    "country=uk",
    "country=uk&language=ru",
    "language=en",
    "outlet=rt",
    "outlet=sputnik&keyword=mi6",
    "year=2022",
    "issue=7",
    "date_after=2022-02-01",
    "date_before=2022-01-31",
    "q=two",
    "q=one+or+three",
    "updated_since=2000-01-01T00:00:00Z",
    "keyword=only-draft",
]


def assert_statistics_agree_with_sql():
    assert facets.tally(published_filter()) is not None, "the index should count committed data"
    for query in QUERIES:
        bound = CaseFilter(QueryDict(query), queryset=Case.objects.published())
        if not bound.is_valid():
            # Unknown to the public while no published case carries it.
            assert query == "keyword=only-draft", bound.errors
            assert not Case.objects.published().filter(keywords__slug="only-draft").exists()
            continue
        assert case_statistics(bound) == exact_case_statistics(bound.qs), query


@pytest.fixture
def indexed_world(world):
    facets.reset()
    Case.objects.filter(title="Two").update(issue=IssueFactory(number=7))
    return {case.title: case for case in Case.objects.all()}


@committed
def test_the_statistics_count_published_cases_dated_and_undated(indexed_world):
    stats = case_statistics(published_filter())
    assert (stats["total"], stats["dated"], stats["undated"]) == (3, 2, 1)


@committed
def test_publishing_withdrawing_and_editing_a_case_change_the_statistics(indexed_world):
    assert_statistics_agree_with_sql()

    draft = indexed_world["Hidden draft"]
    edit(draft, status=Case.Status.PUBLISHED)
    assert_statistics_agree_with_sql()
    assert case_statistics(published_filter())["total"] == 4

    withdrawn = indexed_world["One"]
    edit(withdrawn, status=Case.Status.WITHDRAWN, withdrawal_reason="Duplicate.")
    assert_statistics_agree_with_sql()
    assert dict(case_statistics(published_filter())["months"])[month(2022, 1)] == 0

    edited = indexed_world["Three"]
    edit(edited, date=datetime.date(2023, 4, 5))
    edited.keywords.set([Keyword.objects.get(slug="nato")])
    edited.countries.add(CountryFactory(name="Latvia"))
    AppearanceFactory(case=edited, outlet=OutletFactory(name="Baltic Outlet"))
    Appearance.objects.filter(case=indexed_world["Two"]).delete()
    assert_statistics_agree_with_sql()
    stats = case_statistics(published_filter())
    assert stats["undated"] == 0
    # Two's appearances are gone and One is withdrawn: the published draft keeps Sputnik.
    assert counts(stats["outlets"]) == {
        "Sputnik": 1,
        "Outlet draft": 1,
        "RT": 1,
        "Baltic Outlet": 1,
    }

    # A rename moves the value among ties, which sort by name.
    Keyword.objects.filter(slug="mi6").update(name="Aardvark")
    Keyword.objects.filter(slug="nato").update(name="Zebra")
    assert_statistics_agree_with_sql()

    indexed_world["Two"].delete()
    assert_statistics_agree_with_sql()


@committed
def test_a_search_matching_most_cases_is_counted_exactly_not_estimated(indexed_world, monkeypatch):
    # Any search counts as common here, and the list pages estimate it from a sample.
    monkeypatch.setattr(facet_index, "COMMON_MIN_ROWS", 0)
    monkeypatch.setattr(facet_index, "COMMON_SHARE", 0)
    monkeypatch.setattr(facet_index, "SAMPLE_MIN", 0)
    monkeypatch.setattr(facet_index, "WINDOW_SAMPLE_MIN", 0)
    monkeypatch.setattr(facet_index, "ESTIMATE_MIN_HITS", 0)
    monkeypatch.setattr(facet_index, "SAMPLE_RATE", 1_000_000)
    facets.reset()
    bound = published_filter("q=one+or+two+or+three")
    assert facets.facet_counts(bound).approximate

    stats = case_statistics(bound)

    assert stats == exact_case_statistics(bound.qs)
    assert stats["total"] == 3
    # The estimate the list pages use is kept apart.
    assert facets.facet_counts(published_filter("q=one+or+two+or+three")).approximate


@committed
def test_the_statistics_from_a_warm_index_take_one_query_whatever_the_data(client, indexed_world):
    client.get("/stats/")

    def queries(url):
        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200
        return [query["sql"] for query in context.captured_queries]

    # The data version only.
    assert len(queries("/stats/")) == 1
    for n in range(5):
        case = CaseFactory(
            keywords=[KeywordFactory(name=f"More {n}")], countries=[CountryFactory()]
        )
        AppearanceFactory(case=case)
    client.get("/stats/")  # the index catches up
    assert len(queries("/stats/")) == 1
    # Each slug parameter is looked up once to check it.
    assert len(queries("/stats/?keyword=nato&country=uk")) == 3
    # A search fetches its matches once, in a transaction of its own for the planner
    # settings: BEGIN, the settings, the matches, COMMIT.
    assert len(queries("/stats/?q=claim")) == 1 + 4
    assert len(queries("/stats/?q=claim&year=2022")) == 1


class TestCharts:
    def test_missing_months_are_filled_with_zero(self):
        assert fill_months({month(2021, 11): 2, month(2022, 2): 1}) == [
            (month(2021, 11), 2),
            (month(2021, 12), 0),
            (month(2022, 1), 0),
            (month(2022, 2), 1),
        ]
        assert fill_months({}) == []

    def test_the_scale_ends_on_a_round_number(self):
        assert [nice_ceiling(n) for n in (0, 1, 7, 10, 11, 55, 230)] == [1, 1, 8, 10, 20, 60, 300]

    def test_the_tallest_column_reaches_the_top_of_the_scale(self):
        chart = timeline_chart([(month(2022, 1), 4), (month(2022, 2), 8), (month(2022, 3), 0)])
        heights = [column["height"] for column in chart["columns"]]
        assert heights[1] == chart["baseline"] - chart["ticks"][-1]["y"]
        assert heights[0] == heights[1] / 2
        assert heights[2] == 0
        assert [tick["value"] for tick in chart["ticks"]] == [0, 4, 8]
        assert chart["peak"]["month"] == month(2022, 2)
        assert [label["text"] for label in chart["axis_labels"]] == ["Jan 2022"]

    def test_a_few_months_take_a_twelfth_of_the_width_each_not_all_of_it(self):
        chart = timeline_chart([(month(2022, 1), 1)])
        plot_width = chart["width"] - chart["left"]
        assert chart["columns"][0]["width"] < plot_width / 12

    def test_bars_are_as_long_as_their_share_of_the_largest(self):
        chart = bar_chart([{"name": "A", "count": 10}, {"name": "B" * 40, "count": 5}])
        assert chart["bars"][1]["width"] == chart["bars"][0]["width"] / 2
        assert chart["bars"][1]["label"].endswith("…")
        assert chart["bars"][1]["name"] == "B" * 40

    def test_large_counts_are_grouped_by_thousands_and_fit_after_the_longest_bar(self):
        from cases.site.charts import BAR_VALUE_CHAR_WIDTH

        chart = bar_chart([{"name": "A", "count": 1_234_567}, {"name": "B", "count": 8}])
        longest = chart["bars"][0]
        assert [bar["value_text"] for bar in chart["bars"]] == ["1,234,567", "8"]
        value_end = longest["value_x"] + len(longest["value_text"]) * BAR_VALUE_CHAR_WIDTH
        assert value_end <= chart["width"]


class TestGranularity:
    def test_a_period_reads_as_its_month_quarter_or_year(self):
        assert period_label(month(2022, 3), "month") == "Mar 2022"
        assert period_label(month(2022, 1), "quarter") == "Q1 2022"
        assert period_label(month(2022, 10), "quarter") == "Q4 2022"
        assert period_label(month(2022, 1), "year") == "2022"

    def test_months_add_up_to_quarters_and_years(self):
        months = fill_months({month(2021, 11): 2, month(2022, 2): 1, month(2022, 4): 5})
        chart = timeline_chart(months, "quarter")
        assert [(c["label"], c["count"]) for c in chart["columns"]] == [
            ("Q4 2021", 2),
            ("Q1 2022", 1),
            ("Q2 2022", 5),
        ]
        assert chart["columns"][1]["end"] == datetime.date(2022, 3, 31)
        years = timeline_chart(months, "year")["columns"]
        assert [(c["label"], c["count"], c["end"]) for c in years] == [
            ("2021", 2, datetime.date(2021, 12, 31)),
            ("2022", 6, datetime.date(2022, 12, 31)),
        ]

    def test_crowded_labels_are_thinned_so_that_none_overlaps(self):
        months = fill_months({month(2015, 1): 1, month(2022, 12): 1})
        chart = timeline_chart(months)
        xs = [label["x"] for label in chart["axis_labels"]]
        assert 3 <= len(xs) < 96
        label_width = len("Mar 2022") * AXIS_CHAR_WIDTH
        assert all(b - a >= label_width for a, b in zip(xs, xs[1:], strict=False))
        assert xs[-1] + label_width <= chart["width"]

    def test_the_page_counts_by_quarter_with_each_column_linking_to_its_cases(self, client, world):
        html = client.get("/stats/?granularity=quarter").content.decode()
        assert '<h2 id="timeline-heading">Cases per quarter</h2>' in html
        assert (
            '<a href="/cases/?date_after=2022-01-01&amp;date_before=2022-03-31">Q1 2022</a></th>'
            '<td class="num">2</td>'
        ) in html
        assert '<text x="64.0" y="250">Q1 2022</text>' in html

    def test_a_column_link_keeps_the_filters_and_the_pages_own_date_range(self, client, world):
        html = client.get("/stats/?keyword=nato&date_after=2022-01-05&granularity=year").content
        assert (
            b'<a href="/cases/?keyword=nato&amp;date_after=2022-01-05&amp;date_before=2022-12-31">'
            b"2022</a>"
        ) in html

    def test_an_unknown_granularity_is_a_400_naming_it(self, client, world):
        response = client.get("/stats/?granularity=week")
        assert response.status_code == 400
        assert "<strong>granularity</strong>: " in response.content.decode()


def test_table_links_never_repeat_a_parameter(client, world):
    html = client.get("/stats/?keyword=nato").content.decode()
    links = re.findall(r'href="(/cases/\?[^"]*)"', html)
    assert '/cases/?keyword=nato">NATO</a>' in html
    for link in links:
        pairs = link.split("?", 1)[1].replace("&amp;", "&").split("&")
        assert len(pairs) == len(set(pairs)), link


class TestComparison:
    def test_two_keywords_are_drawn_as_lines_with_a_table(self, client, world):
        response = client.get("/stats/?compare=keyword:nato&compare=keyword:mi6")
        html = response.content.decode()
        assert response.status_code == 200
        chart = response.context_data["comparison"]
        assert [line["name"] for line in chart["lines"]] == ["NATO", "MI6"]
        assert [[p["count"] for p in line["points"]] for line in chart["lines"]] == [
            [1, 0, 1],
            [1, 0, 0],
        ]
        assert html.count('<polyline class="line"') == 2
        # Each point links to the cases it counts.
        assert (
            '<a href="/cases/?keyword=nato&amp;date_after=2022-03-01&amp;date_before=2022-03-31" '
            'tabindex="-1" class="series-0"><circle class="hit"'
        ) in html
        assert "<title>NATO, Mar 2022: 1</title>" in html

    def test_a_compared_value_takes_the_place_of_the_pages_own_on_its_facet(self, client, world):
        response = client.get("/stats/?keyword=mi6&country=uk&compare=keyword:nato")
        line = response.context_data["comparison"]["lines"][0]
        assert [(p["label"], p["count"]) for p in line["points"]] == [("Mar 2022", 1)]
        assert line["points"][0]["list_query"] == (
            "keyword=nato&country=uk&date_after=2022-03-01&date_before=2022-03-31"
        )

    def test_the_tables_offer_each_value_to_compare_and_the_form_keeps_the_view(
        self, client, world
    ):
        html = client.get("/stats/?country=uk&compare=keyword:nato").content.decode()
        assert (
            '<a href="/stats/?country=uk&amp;compare=keyword%3Anato&amp;compare=keyword%3Ami6'
            '&amp;granularity=month" aria-label="Compare MI6 over time">compare</a>'
        ) in html
        assert '<input type="hidden" name="country" value="uk">' in html
        assert '<input type="hidden" name="compare" value="keyword:nato">' in html
        assert '<option value="country:kazakhstan">Kazakhstan</option>' in html
        # Already compared: not offered again.
        assert '<option value="keyword:nato">' not in html

    @pytest.mark.parametrize(
        "compare",
        [
            "compare=topic:nato",
            "compare=nato",
            "compare=keyword:",
            "compare=keyword:never-used",
            "compare=keyword:only-draft",
            "compare=outlet:outlet-draft",
            "&".join(f"compare=keyword:{slug}" for slug in ("a", "b", "c", "d", "e", "f")),
        ],
    )
    def test_a_bad_comparison_is_a_400_naming_compare(self, client, world, compare):
        response = client.get(f"/stats/?{compare}")
        assert response.status_code == 400
        assert "<strong>compare</strong>: " in response.content.decode()

    def test_a_private_value_reads_as_an_unknown_one(self, client, world):
        private = client.get("/stats/?compare=keyword:only-draft").content.decode()
        unknown = client.get("/stats/?compare=keyword:never-used").content.decode()
        assert private.replace("only-draft", "never-used") == unknown


@committed
def test_compared_lines_count_from_the_index_as_sql_does_in_a_pinned_number_of_queries(
    client, indexed_world
):
    url = "/stats/?country=kazakhstan&compare=keyword:nato&compare=outlet:rt&compare=language:ru"
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    # The page: the data version and its slug. Each compared value: its filter checks its
    # own slug and the page's, and the index its data version. No count is a query.
    assert len(context.captured_queries) == 1 + 1 + 3 * 3
    for line in response.context_data["comparison"]["lines"]:
        kind, key = line["parameter"].split(":")
        bound = published_filter(f"country=kazakhstan&{kind}={key}")
        per_month, _ = cases_per_month(bound.qs.order_by())
        exact = {p: n for p, n in per_month.items() if n}
        assert {p["start"]: p["count"] for p in line["points"] if p["count"]} == exact
        assert exact, line["parameter"]


def test_a_comparison_counts_under_the_corrected_search(client, world):
    nato = Keyword.objects.get(slug="nato")
    CaseFactory(title="Riots in Kazakhstan were staged", date=month(2022, 5), keywords=[nato])

    response = client.get("/stats/?q=Kazakstan&compare=keyword:nato&compare=keyword:mi6")

    assert response.status_code == 200
    corrected = response.context_data["approximate"]["corrected"]
    assert corrected.lower() == "kazakhstan"
    lines = response.context_data["comparison"]["lines"]
    assert [(line["name"], line["total"]) for line in lines] == [("NATO", 1), ("MI6", 0)]
    assert lines[0]["points"][-1]["list_query"] == (
        f"q={corrected}&keyword=nato&date_after=2022-05-01&date_before=2022-05-31"
    )
