import datetime
from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.collation import uses_icu
from cases.models import Case
from cases.readmodels.keyset import MAX_RELEVANCE_OFFSET, Cursor
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_cases():
    """45 cases: several sharing a date, some undated, and a draft that must not show."""
    cases = []
    for n in range(45):
        date = None if n % 9 == 0 else datetime.date(2020, 1, 1) + datetime.timedelta(days=n // 3)
        cases.append(CaseFactory(title=f"Claim {n:02} about pipelines", date=date))
    CaseFactory(title="Draft claim", status=Case.Status.DRAFT)
    # Spread updated_at so -updated_at has an order of its own, with ties.
    for n, case in enumerate(cases):
        Case.objects.filter(pk=case.pk).update(
            updated_at=timezone.now() - datetime.timedelta(hours=n % 20)
        )
    return cases


def expected_order(ordering):
    cases = Case.objects.published()
    if ordering == "-date":
        return list(
            cases.order_by(F("date").desc(nulls_last=True), "-id").values_list("title", flat=True)
        )
    if ordering == "date":
        return list(
            cases.order_by(F("date").asc(nulls_last=True), "id").values_list("title", flat=True)
        )
    return list(cases.order_by("-updated_at", "-id").values_list("title", flat=True))


def walk(client, url, link):
    """Follow `link` ("next_url" or "previous_url") from `url`; the titles of every page."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append([case.title for case in response.context_data["cases"]])
        following = response.context_data[link]
        url = f"/cases/{following}" if following else None
    return pages, response


@pytest.mark.parametrize("ordering", ["-date", "date", "-updated_at"])
def test_following_next_links_lists_every_case_once_in_order(client, many_cases, ordering):
    pages, last = walk(client, f"/cases/?ordering={ordering}", "next_url")

    assert [len(page) for page in pages] == [20, 20, 5]
    assert [title for page in pages for title in page] == expected_order(ordering)
    assert "Draft claim" not in str(pages)


@pytest.mark.parametrize("ordering", ["-date", "date", "-updated_at"])
def test_previous_links_walk_back_through_the_same_pages(client, many_cases, ordering):
    forward, last = walk(client, f"/cases/?ordering={ordering}", "next_url")
    last_url = (
        f"/cases/?ordering={ordering}&cursor={parse_qs(last.request['QUERY_STRING'])['cursor'][0]}"
    )

    backward, first = walk(client, last_url, "previous_url")

    assert backward == list(reversed(forward))
    assert first.context_data["previous_url"] is None


def test_pages_by_relevance_use_a_capped_offset(client, many_cases):
    pages, _ = walk(client, "/cases/?q=pipeline", "next_url")
    assert sorted(title for page in pages for title in page) == sorted(expected_order("-date"))
    assert [len(page) for page in pages] == [20, 20, 5]


def test_a_relevance_cursor_past_the_cap_is_refused(client, many_cases):
    cursor = Cursor("relevance", "next", (MAX_RELEVANCE_OFFSET + 20,)).encode()
    response = client.get(f"/cases/?q=pipeline&cursor={cursor}")
    assert response.status_code == 400
    assert "cursor: results ranked by relevance stop at" in response.content.decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "abc",
        "!!!",
        Cursor("date", "next", (datetime.date(2020, 1, 1), 3)).encode(),  # another ordering
        Cursor("-date", "sideways", (datetime.date(2020, 1, 1), 3)).encode(),
        Cursor("-updated_at", "next", (None, 3)).encode(),
        Cursor("relevance", "next", (-20,)).encode(),
    ],
)
def test_a_bad_cursor_is_a_400_naming_the_parameter(client, many_cases, cursor):
    response = client.get(f"/cases/?cursor={cursor}")
    assert response.status_code == 400
    assert "cursor: " in response.content.decode()


def test_a_deep_page_reads_as_few_queries_as_the_first(client):
    for n in range(70):
        CaseFactory(date=datetime.date(2020, 1, 1) + datetime.timedelta(days=n // 2))
    uses_icu()  # asked once per process: asked here, whichever test ran first

    def queries(url):
        with CaptureQueriesContext(connection) as context:
            response = client.get(url)
            response.content  # noqa: B018 (the count and facets follow the matches)
        assert response.status_code == 200
        return len(context.captured_queries), response

    first_count, page = queries("/cases/")
    counts = [first_count]
    for _ in range(2):
        count, page = queries(f"/cases/{page.context_data['next_url']}")
        counts.append(count)
    # the data version, total, five facets (exact SQL: the test's writes are uncommitted),
    # the page, its cases' relations in one statement; a page that crosses from dated to
    # undated cases reads one more range. The first page asks the data version once more,
    # for its ids from the index (facets.newest_ids), which with the writes uncommitted
    # cannot answer. A page past the first also finds its position: the index would count
    # it from bitmaps, but with the test's writes uncommitted it asks the data version
    # again and counts the cases before it with SQL, whatever the depth.
    assert counts == [10, 11, 11]


def test_the_page_shows_the_total_and_links_back_to_the_first_page(client, many_cases):
    first = client.get("/cases/")
    second = client.get(f"/cases/{first.context_data['next_url']}")
    html = second.content.decode()
    assert "45 cases" in html
    assert 'rel="prev"' in html and 'rel="next"' in html
    assert '<a href="?">« First page</a>' in html
