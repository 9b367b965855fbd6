"""The list page links the export, feeds and statistics of the view it shows."""

import pytest

from tests.factories import CaseFactory, KeywordFactory

pytestmark = pytest.mark.django_db


def test_the_list_links_exports_feeds_and_statistics_of_its_view(client):
    CaseFactory(keywords=[KeywordFactory(name="NATO")])

    html = client.get("/cases/?keyword=nato&ordering=date&page=1").content.decode()

    for link in (
        'href="/cases/export/?format=csv&amp;keyword=nato&amp;ordering=date"',
        'href="/cases/export/?format=json&amp;keyword=nato&amp;ordering=date"',
        'href="/cases/export/?format=ndjson&amp;keyword=nato&amp;ordering=date"',
        'href="/cases/feed/atom/?keyword=nato"',
        'href="/cases/feed/rss/?keyword=nato"',
        'href="/stats/?keyword=nato"',
    ):
        assert link in html, link
    assert (
        '<link rel="alternate" type="application/atom+xml" '
        'title="Latest cases of this view (Atom)" href="/cases/feed/atom/?keyword=nato">'
    ) in html
    assert '<link rel="alternate" type="application/rss+xml"' in html


def test_the_links_of_an_unfiltered_list_carry_no_query(client):
    html = client.get("/cases/").content.decode()
    assert 'href="/cases/export/?format=csv"' in html
    assert 'href="/cases/feed/atom/"' in html
    assert 'href="/stats/"' in html


def test_every_linked_url_answers(client):
    CaseFactory(keywords=[KeywordFactory(name="NATO")])
    for url in (
        "/cases/export/?format=csv&keyword=nato&ordering=date",
        "/cases/feed/atom/?keyword=nato",
        "/cases/feed/rss/?keyword=nato",
        "/stats/?keyword=nato",
    ):
        assert client.get(url).status_code == 200, url


def test_the_statistics_page_links_back_to_the_list_and_to_its_exports(client):
    CaseFactory(keywords=[KeywordFactory(name="NATO")])
    html = client.get("/stats/?keyword=nato").content.decode()
    assert 'href="/cases/?keyword=nato">See this case</a>' in html
    assert 'href="/cases/export/?format=csv&amp;keyword=nato"' in html
    assert "Statistics of this view" not in html
