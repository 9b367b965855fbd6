"""Position in the results and the ways through them on /cases/: "21–40 of 45", first,
previous, next and last links, oldest first in one click, and 20, 50 or 100 cases a page.
All of it keyset-based: the last page is read from the other end of the ordering."""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.db.models import F
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import facets
from cases.collation import uses_icu
from cases.facets import index as facet_index
from cases.facets import position_before
from cases.filters import CaseFilter
from cases.models import Case
from cases.readmodels.keyset import rows_before
from tests.factories import CaseFactory, KeywordFactory

pytestmark = pytest.mark.django_db


def make_cases(count, keyword=None):
    """`count` published cases, three a day with ties, every ninth undated, and a draft."""
    cases = []
    for n in range(count):
        date = None if n % 9 == 0 else datetime.date(2020, 1, 1) + datetime.timedelta(days=n // 3)
        keywords = [keyword] if keyword and n % 2 else []
        cases.append(CaseFactory(title=f"Claim {n:03}", date=date, keywords=keywords))
    CaseFactory(title="Draft claim", status=Case.Status.DRAFT)
    for n, case in enumerate(cases):
        Case.objects.filter(pk=case.pk).update(
            updated_at=timezone.now() - datetime.timedelta(hours=n % 20)
        )
    return cases


@pytest.fixture
def many_cases():
    return make_cases(45)


def expected_order(ordering):
    cases = Case.objects.published()
    order = {
        "-date": [F("date").desc(nulls_last=True), "-id"],
        "date": [F("date").asc(nulls_last=True), "id"],
        "-updated_at": ["-updated_at", "-id"],
    }[ordering]
    return list(cases.order_by(*order).values_list("title", flat=True))


def titles(response):
    return [case.title for case in response.context_data["cases"]]


def follow(client, link):
    return client.get(f"/cases/{link}")


def position_text(response):
    return position_in(response.content.decode())


def position_in(html):
    start = html.index('<span class="position"')
    text = html[html.index(">", start) + 1 : html.index("</span>", start)]
    return " ".join(text.split())


def test_each_page_says_which_cases_it_shows_out_of_how_many(client, many_cases):
    first = client.get("/cases/")
    assert position_text(first) == "1–20 of 45"
    second = follow(client, first.context_data["next_url"])
    assert position_text(second) == "21–40 of 45 (page 2)"
    third = follow(client, second.context_data["next_url"])
    assert position_text(third) == "41–45 of 45 (page 3)"
    back = follow(client, third.context_data["previous_url"])
    assert position_text(back) == "21–40 of 45 (page 2)"


@pytest.mark.parametrize("ordering", ["-date", "date", "-updated_at"])
def test_the_last_page_link_shows_the_end_of_the_list_in_order(client, many_cases, ordering):
    first = client.get(f"/cases/?ordering={ordering}")
    last = follow(client, first.context_data["last_url"])
    assert titles(last) == expected_order(ordering)[-20:]
    assert position_text(last) == "26–45 of 45"
    assert last.context_data["next_url"] is None and last.context_data["last_url"] is None
    # Paging back from the end lists every case before it, in order.
    earlier = follow(client, last.context_data["previous_url"])
    assert titles(earlier) == expected_order(ordering)[5:25]
    assert position_text(earlier) == "6–25 of 45"
    start = follow(client, earlier.context_data["previous_url"])
    assert titles(start) == expected_order(ordering)[:20]


def test_first_and_previous_are_inert_on_the_first_page_and_next_and_last_on_the_last(
    client, many_cases
):
    first = client.get("/cases/")
    html = first.content.decode()
    assert 'rel="prev"' not in html and 'rel="next"' in html
    assert "Last page »</a>" in html and "« First page</a>" not in html
    last = follow(client, first.context_data["last_url"])
    html = last.content.decode()
    assert 'rel="prev"' in html and 'rel="next"' not in html
    assert "« First page</a>" in html and "Last page »</a>" not in html


def test_the_last_page_keeps_the_filters(client):
    nato = KeywordFactory(name="NATO")
    make_cases(50, keyword=nato)
    first = client.get("/cases/?keyword=nato")
    assert first.context_data["total"] == 25
    last = follow(client, first.context_data["last_url"])
    assert parse_qs(urlsplit(first.context_data["last_url"]).query)["keyword"] == ["nato"]
    assert position_text(last) == "6–25 of 25"
    assert all(nato in case.keywords.all() for case in last.context_data["cases"])


def test_oldest_first_is_one_link_that_keeps_the_filters_and_starts_at_page_one(client):
    nato = KeywordFactory(name="NATO")
    make_cases(50, keyword=nato)
    second = follow(client, client.get("/cases/?keyword=nato").context_data["next_url"])
    link = second.context_data["oldest_first_url"]
    query = parse_qs(urlsplit(link).query)
    assert query == {"keyword": ["nato"], "ordering": ["date"]}
    assert 'class="oldest-first"' in second.content.decode()
    oldest = follow(client, link)
    assert titles(oldest)[0] == "Claim 001"
    # Already oldest first: no link to it.
    assert oldest.context_data["oldest_first_url"] is None
    assert 'class="oldest-first"' not in oldest.content.decode()


@pytest.mark.parametrize("size", [20, 50, 100])
def test_the_page_size_is_chosen_in_the_url(client, size):
    make_cases(120)
    response = client.get(f"/cases/?page_size={size}")
    assert response.status_code == 200
    assert len(titles(response)) == size
    assert position_text(response) == f"1–{size} of 120"
    assert titles(response) == expected_order("-date")[:size]


def test_the_page_size_survives_paging_filtering_and_the_form(client):
    nato = KeywordFactory(name="NATO")
    make_cases(130, keyword=nato)
    first = client.get("/cases/?page_size=50")
    context = first.context_data
    for link in (context["next_url"], context["last_url"], context["oldest_first_url"]):
        assert parse_qs(urlsplit(link).query)["page_size"] == ["50"]
    keyword_link = next(
        v["url"] for f in context["facets"] if f["name"] == "keyword" for v in f["values"]
    )
    assert parse_qs(urlsplit(keyword_link).query)["page_size"] == ["50"]
    assert ("page_size", "50") in context["hidden_values"]
    second = follow(client, context["next_url"])
    assert position_text(second) == "51–100 of 130 (page 2)"
    last = follow(client, context["last_url"])
    assert position_text(last) == "81–130 of 130"
    assert titles(last) == expected_order("-date")[-50:]


def test_the_page_size_links_offer_each_size_and_mark_the_current_one(client, many_cases):
    response = client.get("/cases/?page_size=50")
    sizes = response.context_data["page_sizes"]
    assert [s["size"] for s in sizes] == [20, 50, 100]
    assert [s["current"] for s in sizes] == [False, True, False]
    assert "page_size" not in sizes[0]["url"]  # the default needs no parameter
    assert parse_qs(urlsplit(sizes[2]["url"]).query)["page_size"] == ["100"]


@pytest.mark.parametrize("value", ["10", "0", "-20", "fifty", "1000", "20.0"])
def test_any_other_page_size_is_a_400_naming_the_parameter(client, many_cases, value):
    response = client.get(f"/cases/?page_size={value}")
    assert response.status_code == 400
    assert "page_size: choose one of 20, 50, 100." in response.content.decode()


def test_a_last_cursor_of_another_ordering_is_a_400_naming_the_cursor(client, many_cases):
    last_url = client.get("/cases/").context_data["last_url"]
    cursor = parse_qs(urlsplit(last_url).query)["cursor"][0]
    response = client.get(f"/cases/?ordering=date&cursor={cursor}")
    assert response.status_code == 400
    assert "cursor: " in response.content.decode()


def test_relevance_results_link_to_their_last_page_by_offset(client):
    for n in range(45):
        CaseFactory(title=f"Pipeline claim {n}", summary="pipelines everywhere")
    first = client.get("/cases/?q=pipeline")
    assert first.context_data["ordering"] == "relevance"
    last = follow(client, first.context_data["last_url"])
    assert position_text(last) == "41–45 of 45 (page 3)"
    assert last.context_data["next_url"] is None


def test_the_first_a_deep_and_the_last_page_read_a_fixed_number_of_queries(client):
    make_cases(260)
    uses_icu()  # asked once per process: asked here, whichever test ran first

    def queries(url):
        """(queries before the matches are sent, queries of the whole page, the response)."""
        with CaptureQueriesContext(connection) as context:
            response = client.get(url)
            parts = iter(response.streaming_content)
            matches = next(parts)
            before_matches = len(context.captured_queries)
            rest = b"".join(parts)
        assert response.status_code == 200
        assert b'class="case-card"' in matches and b'id="facet-keyword"' not in matches
        html = (matches + rest).decode()
        return (before_matches, len(context.captured_queries)), response, html

    (first_matches, first_count), first, _ = queries("/cases/?page_size=50")
    page = first
    for _ in range(3):
        page = follow(client, page.context_data["next_url"])
    (deep_matches, deep_count), _, deep = queries(f"/cases/{page.context_data['next_url']}")
    assert position_in(deep) == "201–250 of 260 (page 5)"
    (last_matches, last_count), _, last = queries(f"/cases/{first.context_data['last_url']}")
    assert position_in(last) == "211–260 of 260"
    # The data version, the total, five facets (exact SQL: the test's writes are
    # uncommitted), the page and its cases' relations (one statement). The first page asks
    # the data version once more, for its ids from the index (facets.newest_ids), which
    # cannot answer with the writes uncommitted. The deep page and the last page both cross
    # from dated to undated cases, one more range each. The deep page also counts the cases
    # before it (the data version again, then one count: the index would answer from
    # bitmaps); the last page knows its position from the total.
    assert (first_count, deep_count, last_count) == (9 + 1, 9 + 1 + 2, 9 + 1)
    print((first_matches, deep_matches, last_matches))


committed = pytest.mark.django_db(transaction=True)


@committed
@pytest.mark.parametrize(
    "query", ["", "keyword=nato", "year=2020", "keyword=nato&date_after=2020-01-05"]
)
@pytest.mark.parametrize("ordering", ["-date", "date"])
def test_the_index_counts_the_cases_before_each_one_as_sql_does(query, ordering):
    facets.reset()
    nato = KeywordFactory(name="NATO")
    make_cases(40, keyword=nato)
    bound = CaseFilter(QueryDict(query), queryset=Case.objects.published())
    assert bound.is_valid()
    assert facet_index.current_index() is not None, "committed data: the index answers"
    matching = bound.qs.order_by()
    for case in matching:
        key = (case.date, case.pk)
        expected = rows_before(matching, ordering, key).count()
        assert position_before(bound, ordering, key) == expected, (case.title, key)


@committed
def test_a_deep_page_of_committed_cases_takes_its_position_from_the_index(client):
    facets.reset()
    make_cases(70)
    first = client.get("/cases/")
    second = follow(client, first.context_data["next_url"])
    with CaptureQueriesContext(connection) as context:
        third = follow(client, second.context_data["next_url"])
        third.content  # noqa: B018 (the position is sent after the matches)
    assert position_text(third) == "41–60 of 70 (page 3)"
    assert not any("COUNT(" in q["sql"].upper() for q in context.captured_queries)


def render_position(cases, **counts):
    from django.template import engines

    context = {"cases": cases, "counts": counts}
    html = engines["jinja2"].get_template("cases/_pagination.html").render(context)
    return position_text(type("Response", (), {"content": html.encode()})())


def test_an_estimated_total_reads_about_and_an_unknown_position_says_what_is_shown():
    shown = [object()] * 20
    assert (
        render_position(
            cases=shown, first_item=21, last_item=40, total=4780, total_is_approximate=True
        )
        == "21–40 of about 4,780"
    )
    assert (
        render_position(cases=shown, first_item=None, total=4780, total_is_approximate=True)
        == "20 cases shown of about 4,780"
    )
    assert (
        render_position(cases=shown, first_item=None, total=12000, total_is_approximate=False)
        == "20 cases shown of 12,000"
    )
