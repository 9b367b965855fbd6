"""The list page sends its matches first, and its exact count, pages and facets after them
(cases/site/streaming.py): one HTML document in two parts, kept whole by the page cache."""

import datetime
import re

import pytest
from django.core.signals import got_request_exception
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.freshness import cache as page_cache
from cases.models import Keyword
from tests.factories import CaseFactory, KeywordFactory
from tests.test_production_path import MODES, switch

pytestmark = pytest.mark.django_db

COUNT = b'id="results-heading"'
FACETS = b'id="facet-keyword"'
PAGINATION = b'class="pagination"'


def parts_of(response):
    assert response.streaming
    return list(response.streaming_content)


def test_the_first_part_holds_the_matches_and_neither_the_count_nor_the_facets(client):
    nato = KeywordFactory(name="NATO", slug="nato")
    for n in range(3):
        CaseFactory(title=f"NATO claim {n}", keywords=[nato])

    first, rest = parts_of(client.get("/cases/?keyword=nato"))

    assert first.count(b'class="case-card"') == 3
    assert b"NATO claim 0" in first
    assert b'class="header-search"' in first  # the search box is there to change the search
    assert COUNT not in first and FACETS not in first and PAGINATION not in first
    assert b"3 cases match these filters" in rest
    assert FACETS in rest and PAGINATION in rest
    assert rest.rstrip().endswith(b"</html>")


def test_the_whole_page_is_one_document_with_the_count_and_the_matches(client):
    CaseFactory(title="Biolabs in Ukraine")

    response = client.get("/cases/")

    html = response.content.decode()
    assert html.count("<html") == 1 and html.count("</html>") == 1
    assert "Biolabs in Ukraine" in html and '<h2 id="results-heading"' in html
    assert response.context_data["total"] == 1
    assert response["X-Accel-Buffering"] == "no"  # nginx passes the parts on as they come


def test_a_search_that_matches_nothing_is_corrected_before_the_matches_are_sent(client):
    CaseFactory(title="Biolabs in Ukraine", summary="Secret laboratories.")

    with CaptureQueriesContext(connection) as queries:
        parts = iter(client.get("/cases/?q=laboratries&ordering=-date").streaming_content)
        first = next(parts)
        before_matches = [query["sql"] for query in queries.captured_queries]
        rest = b"".join(parts)

    assert b"Showing approximate matches" in first and b"Biolabs in Ukraine" in first
    assert b"1 case matches these filters" in rest
    # Without the index (the test's writes are uncommitted), the search is counted once as
    # typed and once corrected: the facets' counts come after the matches.
    assert len([statement for statement in before_matches if "COUNT(" in statement]) == 2


def test_bad_parameters_answer_400_before_anything_is_streamed(client):
    response = client.get("/cases/?date_after=yesterday")

    assert response.status_code == 400
    assert not response.streaming
    assert b"date_after" in response.content


def test_an_error_after_the_matches_shows_a_notice_and_breaks_the_response(client, monkeypatch):
    CaseFactory(title="Biolabs in Ukraine")
    reported = []

    def fail(*args, **kwargs):
        raise RuntimeError("the facet index broke")

    monkeypatch.setattr("cases.site.views.facet_counts", fail)

    def report(sender, request, **kwargs):
        reported.append(request.path)

    got_request_exception.connect(report)
    try:
        response = client.get("/cases/")
        assert response.status_code == 200
        parts = iter(response.streaming_content)
        first = next(parts)
        notice = next(parts)
        with pytest.raises(RuntimeError, match="the facet index broke"):
            next(parts)
    finally:
        got_request_exception.disconnect(report)

    assert b"Biolabs in Ukraine" in first
    assert b'role="alert"' in notice and b"Reload the page" in notice
    assert reported == ["/cases/"]


@pytest.mark.django_db(transaction=True)
class TestOnTheProductionPath:
    """Committed data, the facet index and the page cache on, as in production."""

    @pytest.fixture(autouse=True)
    def production(self, settings):
        switch(settings, *MODES["production"])
        page_cache.clear()
        nato = KeywordFactory(name="NATO", slug="nato")
        for n in range(25):
            CaseFactory(title=f"NATO claim {n}", keywords=[nato])
        yield
        page_cache.clear()

    def test_the_matches_are_sent_after_a_fixed_number_of_queries(self, client):
        assert client.get("/cases/").content  # builds the facet index

        with CaptureQueriesContext(connection) as queries:
            parts = iter(client.get("/cases/?keyword=nato").streaming_content)
            first = next(parts)
            before_matches = len(queries.captured_queries)
            rest = b"".join(parts)

        assert first.count(b'class="case-card"') == 20 and COUNT in rest
        # 1. the data version, 2. the keyword by its slug, 3. the page of cases, 4. the
        # page's languages, countries, keywords, and appearances with outlets.
        assert before_matches == 4
        # The count, the position and the facets come from the index: no query of their own.
        assert len(queries.captured_queries) == 4

    TITLE_COLUMN = '"cases_case"."title"'

    def test_the_first_page_is_read_by_the_ids_the_index_gives(self, client, settings):
        older = CaseFactory(title="Older NATO claim", date=datetime.date(2001, 1, 1))
        older.keywords.add(Keyword.objects.get(slug="nato"))
        undated = CaseFactory(title="Undated NATO claim", date=None)
        undated.keywords.add(Keyword.objects.get(slug="nato"))
        urls = ["/cases/?keyword=nato", "/cases/?keyword=nato&page_size=50", "/cases/?q=claim"]
        urls += ["/cases/?q=claim&ordering=-date"]

        def page(url):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
                html = response.content.decode()
            assert response.status_code == 200
            pages = [
                q["sql"] for q in queries.captured_queries if '"cases_case"."title"' in q["sql"]
            ]
            cards = re.findall(r'<article class="case-card">\s*<h3[^>]*><a href="([^"]+)"', html)
            return cards, pages

        by_index = {url: page(url) for url in urls}
        page_cache.clear()
        settings.FACET_INDEX = False
        by_sql = {url: page(url) for url in urls}

        for url in urls:
            assert by_index[url][0] == by_sql[url][0] and by_index[url][0], url
        # The list in its default order is read by id (a ranked search ranks its newest
        # matches, by id too: cases.search.ranked_matches).
        for url in urls[:2] + urls[3:]:
            assert "= ANY(" in by_index[url][1][0] and "= ANY(" not in by_sql[url][1][0], url
        assert by_index[urls[1]][0][-1] == undated.get_absolute_url()
        assert by_index[urls[1]][0][-2] == older.get_absolute_url()

    def test_a_streamed_page_is_kept_whole_once_sent_and_answered_whole(self, client):
        made = client.get("/cases/?keyword=nato")
        assert made.streaming
        html = made.content

        with CaptureQueriesContext(connection) as queries:
            again = client.get("/cases/?keyword=nato")
        assert not again.streaming
        assert again.content == html
        assert again["Content-Length"] == str(len(html))
        assert again["ETag"] == made["ETag"]
        assert [query["sql"] for query in queries.captured_queries] == ["EXECUTE read_version"]
        not_modified = client.get("/cases/?keyword=nato", headers={"If-None-Match": made["ETag"]})
        assert not_modified.status_code == 304

    def test_a_page_whose_sending_stopped_part_way_is_not_kept(self, client, monkeypatch):
        parts = iter(client.get("/cases/?keyword=nato").streaming_content)
        next(parts)  # the reader went away after the matches
        assert client.get("/cases/?keyword=nato").streaming

        monkeypatch.setattr(
            "cases.site.views.facet_counts", lambda *args, **kwargs: 1 / 0, raising=True
        )
        with pytest.raises(ZeroDivisionError):
            client.get("/cases/?q=claim").content  # noqa: B018
        monkeypatch.undo()
        assert client.get("/cases/?q=claim").streaming  # made again: nothing was kept

    @pytest.mark.parametrize("ordering", ["-date", "relevance", "date"])
    def test_a_search_the_index_finds_nothing_for_reads_no_page(self, client, ordering):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/cases/?q=qwxzvbn&ordering={ordering}")
            html = response.content.decode()

        assert response.status_code == 200
        assert "No published case matches these filters." in html
        assert "0 cases match these filters" in html
        # Paging by date through a search that matches nothing read every case (20 s at a
        # million): the index's exact zero says there is no page to read.
        assert not [q for q in queries.captured_queries if '"cases_case"."title"' in q["sql"]]
