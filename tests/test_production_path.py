"""The public views on the production path: committed data, facet index and page cache on.

Each view is asked with every fast path off (the reference: exact SQL, computed afresh),
then with the facet index on, then as production runs it (index and page cache on), and
must answer the same. A kept answer is served again until a committed write moves the
data version, and nothing unpublished ever shows.
"""

import contextlib
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case, CorrectionNote
from tests.conftest import UNPUBLISHED_WORDS

# url, kept by the page cache (exports stream and never are)
VIEWS = {
    "list": ("/cases/", True),
    "list-keyword": ("/cases/?keyword=nato", True),
    "list-country-language": ("/cases/?country=ukraine&language=ru", True),
    "list-search": ("/cases/?q=biolabs", True),
    "list-search-by-date": ("/cases/?q=laboratories+OR+biolabs&ordering=-date", True),
    "list-year-more": ("/cases/?year=2023&more=keyword", True),
    "case-page": ("{spotlight}", True),
    "browse-keywords": ("/keywords/", True),
    "browse-outlets": ("/outlets/", True),
    "browse-issues": ("/issues/", True),
    "api-keywords": ("/api/v1/keywords/", True),
    "api-keyword": ("/api/v1/keywords/nato/", True),
    "api-countries": ("/api/v1/countries/", True),
    "api-languages": ("/api/v1/languages/", True),
    "api-outlets": ("/api/v1/outlets/", True),
    "api-issues": ("/api/v1/issues/", True),
    "stats": ("/stats/?keyword=nato", True),
    "api-facets": ("/api/v1/cases/facets/", True),
    "api-facets-filtered": ("/api/v1/cases/facets/?keyword=biolabs&country=ukraine", True),
    "api-list": ("/api/v1/cases/", True),
    "api-list-filtered": ("/api/v1/cases/?keyword=nato&language=ru", True),
    "api-list-search": ("/api/v1/cases/?q=biolabs", True),
    "api-list-search-by-date": ("/api/v1/cases/?q=laboratories+OR+biolabs&ordering=-date", True),
    "api-list-small-pages": ("/api/v1/cases/?country=ukraine&page_size=2", True),
    "api-case": ("/api/v1/cases/{spotlight_id}/", True),
    "api-csv": ("/api/v1/cases/?format=csv", False),
    "export-csv": ("/cases/export/?format=csv", False),
    "export-csv-filtered": ("/cases/export/?format=csv&keyword=biolabs", False),
    "export-ndjson": ("/cases/export/?format=ndjson&country=ukraine", False),
    "feed-rss": ("/cases/feed/rss/", True),
    "feed-atom": ("/cases/feed/atom/?keyword=nato", True),
    "feed-atom-search": ("/cases/feed/atom/?q=biolabs&country=ukraine", True),
    "feed-rss-filtered": ("/cases/feed/rss/?country=ukraine&language=ru", True),
}
# FACET_INDEX, PAGE_CACHE
MODES = {"facet-index": (True, False), "production": (True, True)}
LISTS = [view for view in VIEWS if view.startswith("list")]


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: str


def url_of(view, committed):
    spotlight = committed.spotlight
    return VIEWS[view][0].format(spotlight=spotlight.get_absolute_url(), spotlight_id=spotlight.pk)


def switch(settings, facet_index, page_cache):
    settings.FACET_INDEX, settings.PAGE_CACHE = facet_index, page_cache


def ask(client, url):
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return Answer(response.status_code, response["Content-Type"], body.decode()), response


def reference(client, settings, url):
    """The answer with every fast path off: exact SQL, nothing kept."""
    modes = getattr(settings, "FACET_INDEX", True), settings.PAGE_CACHE
    switch(settings, False, False)
    try:
        return ask(client, url)
    finally:
        switch(settings, *modes)


def assert_shows_nothing_unpublished(answer):
    assert answer.status == 200
    text = answer.body.lower()
    assert not [word for word in UNPUBLISHED_WORDS if word in text]


@contextlib.contextmanager
def published(case):
    """The case published by a committed write, as another process or psql would make it
    (the triggers move the data version, whoever writes); put back afterwards."""
    status, published_at = case.status, case.published_at
    Case.objects.filter(pk=case.pk).update(
        status=Case.Status.PUBLISHED, published_at=published_at or timezone.now()
    )
    try:
        yield
    finally:
        Case.objects.filter(pk=case.pk).update(status=status, published_at=published_at)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("view", VIEWS)
def test_each_view_answers_as_it_does_with_every_fast_path_off(
    committed, client, settings, view, mode
):
    url = url_of(view, committed)
    expected, _ = reference(client, settings, url)
    switch(settings, *MODES[mode])

    first, _ = ask(client, url)
    again, _ = ask(client, url)

    assert first == expected
    assert again == expected
    assert_shows_nothing_unpublished(expected)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("view", LISTS)
def test_the_list_sidebar_counts_as_exact_sql_does(committed, client, settings, view, mode):
    url = url_of(view, committed)
    _, expected = reference(client, settings, url)
    switch(settings, *MODES[mode])

    _, response = ask(client, url)

    for name in ("facets", "total", "total_is_approximate", "chips", "next_url"):
        assert response.context_data[name] == expected.context_data[name], name
    assert [case.pk for case in response.context_data["cases"]] == [
        case.pk for case in expected.context_data["cases"]
    ]
    assert response.context_data["total"] > 0


@pytest.mark.parametrize("view", VIEWS)
def test_an_answer_is_kept_until_a_committed_write_changes_it(committed, client, settings, view):
    url, kept = url_of(view, committed), VIEWS[view][1]
    switch(settings, *MODES["production"])
    first, _ = ask(client, url)

    with CaptureQueriesContext(connection) as queries:
        again, _ = ask(client, url)
    assert again == first
    # Kept: only the data version is read. Streamed (exports): made afresh every time.
    from_the_page_cache = [query["sql"] for query in queries.captured_queries] == [
        "EXECUTE read_version"
    ]
    assert from_the_page_cache == kept

    with published(committed.draft):
        changed, _ = ask(client, url)
        assert changed != first
        assert changed == reference(client, settings, url)[0]
    assert ask(client, url)[0] == first


def test_a_filtered_list_page_takes_four_queries_then_one(
    committed, client, settings, django_assert_num_queries
):
    switch(settings, *MODES["production"])
    client.get("/api/v1/cases/facets/")  # the facet index is built once per process

    # 1. the data version (cases.freshness.dataversion), which the page is kept under
    # 2. the keyword the filter names, by its slug
    # 3. the page of cases, by the ids the index gives; the total and the facet counts
    #    come from the index
    # 4. the page's languages, countries, keywords, and appearances with their outlets
    with django_assert_num_queries(4):
        response = client.get("/cases/?keyword=nato")
        assert response.status_code == 200 and response.content
    # 1. the data version: it has not moved, so the kept page is the answer
    with django_assert_num_queries(1):
        assert client.get("/cases/?keyword=nato").status_code == 200


def test_a_case_page_takes_one_query_then_one(
    committed, client, settings, django_assert_num_queries
):
    switch(settings, *MODES["production"])
    url = committed.spotlight.get_absolute_url()

    # 1. the case with its issue, languages, countries, keywords, appearances with
    #    outlets, published related cases and correction notes, and the data version
    with django_assert_num_queries(1):
        assert client.get(url).status_code == 200
    # 1. the data version: it has not moved, so the kept page is the answer
    with django_assert_num_queries(1):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("added", ["related case", "correction note"])
def test_a_kept_case_page_shows_a_related_case_or_a_note_added_later(
    committed, client, settings, added
):
    switch(settings, *MODES["production"])
    spotlight, other = committed.spotlight, committed.claim_9
    url = spotlight.get_absolute_url()
    client.get(url)

    if added == "related case":
        spotlight.related.add(other)
        shown = other.title
    else:
        note = CorrectionNote.objects.create(case=spotlight, text="A note added later.")
        shown = note.text
    try:
        assert shown in client.get(url).content.decode()
    finally:
        spotlight.related.remove(other)
        CorrectionNote.objects.filter(text="A note added later.").delete()
