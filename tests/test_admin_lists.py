"""The admin's lists and the case form at a million cases: their queries are pinned here,
and their answers held to the plain ones (bench/admin_speed.py measures their time)."""

import datetime
import html
import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.admin_lists import EstimatedCountPaginator
from cases.models import Case
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    CountryFactory,
    IssueFactory,
    KeywordFactory,
    LanguageFactory,
    OutletFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client):
    client.force_login(User.objects.create_superuser("editor", "editor@example.org", "pw"))
    return client


def get(client, url, **params):
    """(response, SQL of its queries)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return response, [query["sql"] for query in queries.captured_queries]


def titles(response):
    return sorted(case.title for case in response.context["cl"].result_list)


# The case list

# The case list's queries, whatever the number of cases:
#  1-3. the session, the user, the user's two-factor devices
#  4. cases waiting for review, 5. revisions waiting for review
#  6. the issue filter's newest issues, 7-9. the languages, countries and keywords,
#  10. the import filter's batches
#  11. the data version, 12. the published cases (with uncommitted writes, as in a test, the
#      facet index does not answer: in production it does, and this query is not made)
#  13. the cases not published
#  14. the page of cases, with their issue
#  15. the date drill-down's distinct days (a list of up to FEW_MATCHES cases; a longer
#      one asks its first and last dates, then its periods, probing the date index in one
#      recursive statement, tested below)
CASE_LIST_QUERIES = 15


def test_the_case_list_asks_as_many_queries_for_many_cases_as_for_few(editor_client):
    day = datetime.date(2021, 5, 1)
    CaseFactory(title="Only claim", date=day)
    get(editor_client, "/admin/cases/case/")  # what a process or a connection asks once
    _, few = get(editor_client, "/admin/cases/case/")
    for number in range(12):
        CaseFactory(title=f"Claim {number}", date=day)
        CaseFactory(title=f"Draft {number}", date=day, status=Case.Status.DRAFT)
    _, many = get(editor_client, "/admin/cases/case/")
    assert len(few) == len(many) == CASE_LIST_QUERIES, "\n".join(few)


def test_the_case_list_counts_every_case_exactly_drafts_included(editor_client):
    CaseFactory(title="Published claim")
    CaseFactory(title="Draft claim", status=Case.Status.DRAFT)
    CaseFactory(title="Claim in review", status=Case.Status.IN_REVIEW)

    response, queries = get(editor_client, "/admin/cases/case/")

    changelist = response.context["cl"]
    assert changelist.result_count == Case.objects.count() == 3
    assert not changelist.paginator.estimated
    assert re.search(r"\s3 cases\s", response.content.decode())
    # Counted along the index of the cases not published, not by reading every case.
    assert not [
        sql
        for sql in queries
        if re.match(r'SELECT COUNT\(\*\) AS "__count" FROM "cases_case"$', sql)
    ]


def test_a_search_is_counted_exactly_up_to_a_limit_and_estimated_past_it(
    editor_client, monkeypatch
):
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_UP_TO", 3)
    for number in range(5):
        CaseFactory(title=f"The Kremlin warns, again ({number})")
    CaseFactory(title="Biolabs", status=Case.Status.DRAFT)

    response, _ = get(editor_client, "/admin/cases/case/", q="kremlin")
    changelist = response.context["cl"]
    assert changelist.paginator.estimated
    assert changelist.result_count >= 4  # PostgreSQL's estimate, never under what was seen
    assert len(titles(response)) == 5  # every match is still listed
    page = response.content.decode()
    assert re.search(rf"about {changelist.result_count} results", page)
    assert re.search(rf"about {changelist.result_count} cases", page)

    response, _ = get(editor_client, "/admin/cases/case/", q="biolab")
    assert not response.context["cl"].paginator.estimated
    assert titles(response) == ["Biolabs"]  # drafts too
    assert "about" not in response.content.decode()


@pytest.mark.parametrize("few_matches", [10_000, 0], ids=["few expected", "many expected"])
def test_a_search_finds_the_same_cases_whether_few_or_many_are_expected(
    editor_client, monkeypatch, few_matches
):
    """Expecting few matches, the list collects their ids from the search index first;
    expecting many, it reads the date index backwards. The cases found are the same."""
    monkeypatch.setattr("cases.admin_lists.FEW_MATCHES", few_matches)
    CaseFactory(title="The Kremlin warns", date=datetime.date(2020, 1, 1))
    CaseFactory(title="Kremlin draft", status=Case.Status.DRAFT, date=None)
    other = CaseFactory(title="Something else")

    response, queries = get(editor_client, "/admin/cases/case/", q="kreml")
    assert titles(response) == ["Kremlin draft", "The Kremlin warns"]
    assert any("= ANY(ARRAY(" in sql for sql in queries) == bool(few_matches)

    response, _ = get(editor_client, "/admin/cases/case/", q=str(other.pk))
    assert titles(response) == ["Something else"]
    response, _ = get(editor_client, "/admin/cases/case/", q="kreml", status__exact="draft")
    assert titles(response) == ["Kremlin draft"]


def test_a_web_address_finds_the_cases_that_appeared_there_or_came_from_it(editor_client):
    seen = CaseFactory(title="Seen at the outlet", status=Case.Status.DRAFT)
    AppearanceFactory(
        case=seen,
        url="https://www.outlet.example/news/article-1?utm_source=x",
        archive_url="https://archive.example/abc",
    )
    CaseFactory(title="Imported", source_url="https://euvsdisinfo.example/report/imported/")
    AppearanceFactory(url="https://outlet.example/news/article-2")

    def found(term):
        return titles(get(editor_client, "/admin/cases/case/", q=term)[0])

    assert found("http://outlet.example/news/article-1") == ["Seen at the outlet"]
    assert found("https://archive.example/abc") == ["Seen at the outlet"]
    assert found("https://euvsdisinfo.example/report/imported/") == ["Imported"]
    assert found("https://outlet.example/news/article-3") == []


def test_the_estimate_is_rounded_and_never_under_the_exact_limit(editor_client, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_UP_TO", 1)
    monkeypatch.setattr("cases.admin_lists.planned_rows", lambda queryset: 123_456)
    CaseFactory(title="Kremlin one")
    CaseFactory(title="Kremlin two")
    response, _ = get(editor_client, "/admin/cases/case/", q="kremlin")
    assert response.context["cl"].result_count == 120_000
    monkeypatch.setattr("cases.admin_lists.planned_rows", lambda queryset: 0)
    response, _ = get(editor_client, "/admin/cases/case/", q="kremlin")
    assert response.context["cl"].result_count == 2


def drill_down_links(response):
    """The date drill-down's links: [(label, query)]."""
    page = response.content.decode()
    start = page.index('<nav class="toplinks">')
    nav = page[start : page.index("</nav>", start)]
    links = re.findall(r'<a href="\?([^"]*)"[^>]*>([^<]*)</a>', nav)
    return [(html.unescape(label).strip(), html.unescape(query)) for query, label in links]


def test_a_long_list_filtered_by_language_finds_its_years_without_distinct(
    editor_client, monkeypatch
):
    """A filter on a link is an EXISTS: no DISTINCT over the cases' columns for the count,
    the page or the dates, and each date is a probe of the date index, not a MIN() (which
    PostgreSQL computes by reading every matching case when the filter is a join)."""
    monkeypatch.setattr("cases.admin_lists.FEW_MATCHES", 0)
    arabic = LanguageFactory(code="ar", name="Arabic")
    for day in ["2018-02-01", "2020-05-05", "2020-06-06"]:
        CaseFactory(date=datetime.date.fromisoformat(day), languages=[arabic])
    CaseFactory(date=datetime.date(2022, 1, 1))
    CaseFactory(date=None, languages=[arabic])

    response, queries = get(editor_client, "/admin/cases/case/", languages__id__exact=arabic.pk)

    assert [label for label, _ in drill_down_links(response)] == ["2018", "2020"]
    assert len(response.context["cl"].result_list) == 4
    assert not [sql for sql in queries if "DISTINCT" in sql]
    assert not [sql for sql in queries if "MIN(" in sql or "MAX(" in sql]
    # The first and the last dates in one statement, the years in another.
    dates = [sql for sql in queries if "ORDER BY 1 LIMIT 1" in sql]
    assert len(dates) == 2, "\n".join(dates)


@pytest.mark.parametrize("kind", ["year", "month", "day"])
def test_the_dates_in_one_query_are_the_dates_probed_one_by_one_and_django_s(kind):
    from django.db.models import Exists, OuterRef

    from cases.admin_lists import dates_in_one_query, dates_with_cases, first_and_last_dates

    arabic = LanguageFactory(code="ar", name="Arabic")
    days = ["2018-02-01", "2018-02-09", "2018-12-31", "2020-05-05", "2020-06-06", "2024-01-01"]
    for number, day in enumerate(days):
        CaseFactory(date=datetime.date.fromisoformat(day), languages=[arabic] if number % 2 else [])
    CaseFactory(date=None, languages=[arabic])
    in_arabic = Case.languages.through.objects.filter(case_id=OuterRef("pk"), language=arabic)
    lists = [
        Case.objects.all(),
        Case.objects.filter(Exists(in_arabic)),
        Case.objects.filter(date__year=2018),
        Case.objects.filter(title="no such case"),
    ]
    for cases in lists:
        expected = list(cases.dates("date", kind))
        assert dates_in_one_query(cases, "date", kind) == expected
        assert dates_with_cases(cases, "date", kind) == expected
        dated = cases.exclude(date=None).order_by("date").values_list("date", flat=True)
        assert first_and_last_dates(cases, "date") == (dated.first(), dated.last())


@pytest.mark.parametrize("few_matches", [10_000, 0], ids=["short list", "long list"])
def test_the_date_drill_down_offers_the_years_months_and_days_that_have_cases(
    editor_client, monkeypatch, few_matches
):
    monkeypatch.setattr("cases.admin_lists.FEW_MATCHES", few_matches)
    for day in ["2019-03-05", "2021-07-01", "2021-07-20", "2021-11-02"]:
        CaseFactory(title=f"Kremlin claim of {day}", date=datetime.date.fromisoformat(day))
    CaseFactory(title="Draft", date=datetime.date(2023, 1, 1), status=Case.Status.DRAFT)
    CaseFactory(title="Undated claim", date=None)

    response, queries = get(editor_client, "/admin/cases/case/")
    years = [label for label, _ in drill_down_links(response)]
    assert years == ["2019", "2021", "2023"]
    assert years == [str(day.year) for day in Case.objects.dates("date", "year")]
    if not few_matches:  # a long list: never DISTINCT over every case
        assert not [sql for sql in queries if "DISTINCT" in sql]

    # A search's years: those of its cases only.
    response, _ = get(editor_client, "/admin/cases/case/", q="kremlin")
    assert [label for label, _ in drill_down_links(response)] == ["2019", "2021"]

    response, _ = get(editor_client, "/admin/cases/case/", date__year="2021")
    links = drill_down_links(response)
    assert links == [
        ("‹ All dates", ""),
        ("July 2021", "date__month=7&date__year=2021"),
        ("November 2021", "date__month=11&date__year=2021"),
    ]
    assert titles(response) == [
        "Kremlin claim of 2021-07-01",
        "Kremlin claim of 2021-07-20",
        "Kremlin claim of 2021-11-02",
    ]

    response, _ = get(editor_client, "/admin/cases/case/", date__year="2021", date__month="7")
    assert [label for label, _ in drill_down_links(response)] == ["‹ 2021", "July 1", "July 20"]

    # Cases of one month only: the drill-down opens on its days, as Django's does.
    Case.objects.exclude(date__year=2021, date__month=7).delete()
    response, _ = get(editor_client, "/admin/cases/case/")
    assert [label for label, _ in drill_down_links(response)] == ["‹ 2021", "July 1", "July 20"]


def test_only_the_columns_with_an_index_sort_the_case_list(editor_client):
    CaseFactory(title="A claim")
    page = get(editor_client, "/admin/cases/case/")[0].content.decode()
    sortable = re.findall(r'<th scope="col" class="sortable[^"]*column-(\w+)', page)
    assert sortable == ["date", "updated_at"]


# Taxonomy lists


def test_the_keyword_list_counts_every_case_of_each_keyword_in_a_fixed_number_of_queries(
    editor_client,
):
    nato, biolabs = KeywordFactory(name="NATO"), KeywordFactory(name="Biolabs")
    KeywordFactory(name="Unused")
    CaseFactory(keywords=[nato, biolabs])
    CaseFactory(keywords=[nato], status=Case.Status.DRAFT)  # drafts count too

    response, few = get(editor_client, "/admin/cases/keyword/")
    counts = {keyword.name: keyword.case_count for keyword in response.context["cl"].result_list}
    assert counts == {"Biolabs": 1, "NATO": 2, "Unused": 0}

    for number in range(10):
        CaseFactory(keywords=[KeywordFactory(name=f"Keyword {number}"), nato])
    _, many = get(editor_client, "/admin/cases/keyword/")
    assert len(few) == len(many)

    response, _ = get(editor_client, "/admin/cases/keyword/", o="-4")  # most cases first
    first = response.context["cl"].result_list[0]
    assert (first.name, first.case_count) == ("NATO", 12)


@pytest.mark.parametrize(
    "url, make_value, tag",
    [
        ("/admin/cases/country/", CountryFactory, lambda value: {"countries": [value]}),
        ("/admin/cases/language/", LanguageFactory, lambda value: {"languages": [value]}),
        ("/admin/cases/issue/", IssueFactory, lambda value: {"issue": value}),
    ],
)
def test_each_taxonomy_list_counts_the_cases_of_each_value(editor_client, url, make_value, tag):
    used, unused = make_value(), make_value()
    CaseFactory(**tag(used))
    CaseFactory(**tag(used), status=Case.Status.DRAFT)
    response, _ = get(editor_client, url)
    counts = {value.pk: value.case_count for value in response.context["cl"].result_list}
    assert counts == {used.pk: 2, unused.pk: 0}


def test_the_outlet_list_counts_the_appearances_of_each_outlet(editor_client):
    rt, unused = OutletFactory(name="RT"), OutletFactory(name="Unused")
    case = CaseFactory()
    AppearanceFactory(case=case, outlet=rt)
    AppearanceFactory(case=case, outlet=rt)
    AppearanceFactory(outlet=rt)
    response, _ = get(editor_client, "/admin/cases/outlet/")
    counts = {value.pk: value.case_count for value in response.context["cl"].result_list}
    assert counts == {rt.pk: 3, unused.pk: 0}


# The change form

# The form of a case with every link filled: 1-3. the session, the user, two-factor
# devices; 4. the case; 5-8. its languages, countries, keywords and related cases;
# 9. the editor's open revision; 10. correction notes; 11. appearances; 12. pending
# references; 13. its status for the workflow buttons; 14. its open revisions; 15-18. the
# chosen languages, countries, keywords and related cases in their autocomplete boxes; then
# one query per appearance, whose outlet box reads its chosen outlet. Its similar cases are
# not matched here: the form's script loads them from the case's duplicates page.
CHANGE_FORM_QUERIES = 18


def test_the_case_form_asks_a_fixed_number_of_queries_and_one_per_appearance(editor_client):
    other = CaseFactory(title="Another claim")
    case = CaseFactory(
        title="Full claim",
        keywords=[KeywordFactory() for _ in range(4)],
        countries=[CountryFactory() for _ in range(3)],
        languages=[LanguageFactory() for _ in range(2)],
        related=[other, CaseFactory(title="Yet another claim")],
    )
    AppearanceFactory(case=case, outlet=OutletFactory())
    get(editor_client, f"/admin/cases/case/{other.pk}/change/")  # asked once a process
    _, queries = get(editor_client, f"/admin/cases/case/{case.pk}/change/")
    assert len(queries) == CHANGE_FORM_QUERIES + 1, "\n".join(queries)

    for _ in range(2):
        AppearanceFactory(case=case, outlet=OutletFactory())
    _, queries = get(editor_client, f"/admin/cases/case/{case.pk}/change/")
    assert len(queries) == CHANGE_FORM_QUERIES + 3


def test_the_list_checkboxes_are_the_ones_django_renders(editor_client):
    from django.contrib import admin

    case = CaseFactory(title='A "quoted" <claim> & more')
    keyword = KeywordFactory(name="Ünïcode & <b>")
    for obj in (case, keyword):
        model_admin = admin.site.get_model_admin(type(obj))
        assert model_admin.action_checkbox(obj) == admin.ModelAdmin.action_checkbox(
            model_admin, obj
        )


# The filters: languages, countries and keywords (cases.admin.LinkedValueFilter)


@pytest.mark.parametrize(
    "parameter, make_value, field",
    [
        ("languages__id__exact", LanguageFactory, "languages"),
        ("countries__id__exact", CountryFactory, "countries"),
        ("keywords__id__exact", KeywordFactory, "keywords"),
    ],
)
def test_each_link_filter_lists_the_cases_tagged_with_its_value_and_no_other(
    editor_client, parameter, make_value, field
):
    wanted, other = make_value(), make_value()
    CaseFactory(title="Tagged", **{field: [wanted, other]})
    CaseFactory(title="Tagged draft", status=Case.Status.DRAFT, **{field: [wanted]})
    CaseFactory(title="Other", **{field: [other]})
    CaseFactory(title="Untagged")

    response, queries = get(editor_client, "/admin/cases/case/", **{parameter: wanted.pk})

    assert titles(response) == ["Tagged", "Tagged draft"]
    assert response.context["cl"].result_count == 2
    # An EXISTS, never a join that makes every case of the list DISTINCT.
    assert not [sql for sql in queries if 'DISTINCT "cases_case"."id"' in sql]
    page = response.content.decode()
    assert f'<option value="{wanted.pk}" selected>' in page or field == "languages"


def test_a_link_filter_that_is_no_id_answers_as_django_does_for_a_bad_filter(editor_client):
    KeywordFactory(name="NATO")
    response = editor_client.get("/admin/cases/case/", {"keywords__id__exact": "nato"})
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")
    # The select box's "All" sends the parameter empty: every case.
    CaseFactory(title="Any claim")
    response, _ = get(editor_client, "/admin/cases/case/", keywords__id__exact="")
    assert titles(response) == ["Any claim"]


def test_the_keyword_filter_is_one_select_box_that_keeps_the_other_filters(editor_client):
    nato = KeywordFactory(name="NATO")
    KeywordFactory(name="Biolabs")
    CaseFactory(keywords=[nato])
    response, _ = get(editor_client, "/admin/cases/case/", status__exact="published", q="claim")
    page = response.content.decode()
    form = page[page.index('<form method="get" class="linked-value-filter">') :]
    form = form[: form.index("</form>")]
    assert '<input type="hidden" name="status__exact" value="published">' in form
    assert '<input type="hidden" name="q" value="claim">' in form
    assert re.findall(r"<option value=\"\d+\">([^<]*)</option>", form) == ["Biolabs", "NATO"]


# The filters' counts ("Show counts")


def sidebar_counts(response, title):
    """{label: count} of one filter's choices, from the page's sidebar."""
    page = response.content.decode()
    start = page.index(f'data-filter-title="{title}"')
    block = page[start : page.index("</details>", start)]
    found = re.findall(r">([^<>]+?) \((\d+|-)\)<", block)
    return {html.unescape(label).strip(): count for label, count in found}


def test_the_counts_are_the_cases_of_each_value_under_the_other_filters(editor_client):
    arabic, english = LanguageFactory(name="Arabic"), LanguageFactory(name="English")
    nato = KeywordFactory(name="NATO")
    CaseFactory(languages=[arabic], keywords=[nato])
    CaseFactory(languages=[arabic, english], keywords=[nato], status=Case.Status.DRAFT)
    CaseFactory(languages=[english])

    response, _ = get(editor_client, "/admin/cases/case/", _facets="True")
    assert sidebar_counts(response, "languages") == {"Arabic": "2", "English": "2"}
    assert sidebar_counts(response, "keywords") == {"NATO": "2"}
    assert sidebar_counts(response, "status") == {
        "Draft": "1",
        "In review": "0",
        "Published": "2",
        "Withdrawn": "0",
    }

    # A language chosen: the other filters count within it, its own filter does not.
    response, _ = get(
        editor_client, "/admin/cases/case/", _facets="True", languages__id__exact=english.pk
    )
    assert sidebar_counts(response, "languages") == {"Arabic": "2", "English": "2"}
    assert sidebar_counts(response, "keywords") == {"NATO": "1"}
    assert sidebar_counts(response, "status")["Draft"] == "1"
    assert sidebar_counts(response, "incomplete data") == {
        "No date": "0",
        "No keyword": "1",
        "No language": "0",
    }


def test_past_the_limit_a_filtered_list_shows_a_dash_for_what_it_would_read_every_case_for(
    editor_client, monkeypatch
):
    monkeypatch.setattr("cases.admin_lists.COUNTED_UP_TO", 0)
    arabic = LanguageFactory(name="Arabic")
    CaseFactory(languages=[arabic], date=None)
    response, _ = get(editor_client, "/admin/cases/case/", _facets="True", status__exact="draft")
    assert sidebar_counts(response, "languages") == {"Arabic": "-"}
    assert sidebar_counts(response, "incomplete data") == {
        "No date": "-",
        "No keyword": "-",
        "No language": "-",
    }
    # The whole list is still counted: from the facet index and the unpublished cases.
    response, _ = get(editor_client, "/admin/cases/case/", _facets="True")
    assert sidebar_counts(response, "languages") == {"Arabic": "1"}
    assert sidebar_counts(response, "status")["Published"] == "1"


# With the counts shown, for the whole list: the 15 queries of the list (above), then the
# counts of each filter: status 3 (the others by status, the data version, the published
# count, here asked of SQL as the test's writes are not committed); incomplete data, links
# and issue 2 each (the planner's estimate, then Django's count of a short list; the import
# filter has no batch to show); languages, countries and keywords 4 each (the data version,
# the others' links, the data version again and the published cases' links, here asked of
# SQL: with committed data the index answers, and the counts are kept until the next
# write). Django makes the filters again for each filter counted: their values are asked
# once a request.
CASE_LIST_WITH_COUNTS_QUERIES = 15 + 3 + 3 * 2 + 3 * 4


def test_the_counts_take_a_fixed_number_of_queries(editor_client):
    nato = KeywordFactory(name="NATO")
    CaseFactory(
        keywords=[nato],
        countries=[CountryFactory()],
        languages=[LanguageFactory()],
        issue=IssueFactory(),
    )
    get(editor_client, "/admin/cases/case/", _facets="True")
    _, few = get(editor_client, "/admin/cases/case/", _facets="True")
    for _ in range(5):
        CaseFactory(keywords=[KeywordFactory(), nato], languages=[LanguageFactory()])
    _, many = get(editor_client, "/admin/cases/case/", _facets="True")
    assert len(few) == len(many) == CASE_LIST_WITH_COUNTS_QUERIES, "\n".join(many)
