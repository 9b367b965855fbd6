"""Atom and RSS feeds of the latest published cases of a view."""

import datetime
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case
from tests.factories import CaseFactory, KeywordFactory, edit

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def fetch(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response, ET.fromstring(response.content)


def atom_entries(root):
    return root.findall(f"{ATOM}entry")


def atom_titles(root):
    return [entry.findtext(f"{ATOM}title") for entry in atom_entries(root)]


def rss_titles(root):
    return [item.findtext("title") for item in root.findall("channel/item")]


def publish(title, when, **kwargs):
    case = CaseFactory(title=title, **kwargs)
    Case.objects.filter(pk=case.pk).update(published_at=when)
    return case


@pytest.fixture
def cases():
    nato = KeywordFactory(name="NATO")
    publish(
        "NATO is at the border",
        datetime.datetime(2023, 3, 1, tzinfo=datetime.UTC),
        keywords=[nato],
        summary="An <em>alarming</em> claim & more.",
    )
    publish("Older claim", datetime.datetime(2022, 3, 1, tzinfo=datetime.UTC))
    CaseFactory(title="Draft about NATO", status=Case.Status.DRAFT, keywords=[nato])
    CaseFactory(title="Withdrawn about NATO", status=Case.Status.WITHDRAWN, keywords=[nato])


def test_the_atom_feed_is_valid_atom_with_the_latest_published_cases(client, cases):
    response, root = fetch(client, "/cases/feed/atom/")

    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.findtext(f"{ATOM}{required}"), required
    assert root.find(f"{ATOM}author/{ATOM}name").text == "Disinfo DB"
    self_link = root.find(f"{ATOM}link[@rel='self']")
    assert self_link.get("href") == "http://testserver/cases/feed/atom/"
    assert atom_titles(root) == ["NATO is at the border", "Older claim"]
    for entry in atom_entries(root):
        for required in ("id", "title", "updated", "published"):
            assert entry.findtext(f"{ATOM}{required}"), required
        assert (
            entry.find(f"{ATOM}link[@rel='alternate']")
            .get("href")
            .startswith("http://testserver/cases/")
        )
    first = atom_entries(root)[0]
    assert first.findtext(f"{ATOM}published") == "2023-03-01T00:00:00+00:00"
    assert [c.get("term") for c in first.findall(f"{ATOM}category")] == ["NATO"]
    summary = first.find(f"{ATOM}summary")
    assert summary.get("type") == "html"
    assert summary.text == "<p>An &lt;em&gt;alarming&lt;/em&gt; claim &amp; more.</p>"


def test_the_rss_feed_is_valid_rss_with_the_latest_published_cases(client, cases):
    response, root = fetch(client, "/cases/feed/rss/")

    assert response["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    channel = root.find("channel")
    for required in ("title", "link", "description"):
        assert channel.findtext(required), required
    assert rss_titles(root) == ["NATO is at the border", "Older claim"]
    for item in root.findall("channel/item"):
        assert item.findtext("link").startswith("http://testserver/cases/")
        assert item.findtext("guid").startswith("tag:127.0.0.1,2026:case/")
        assert item.find("guid").get("isPermaLink") == "false"
        assert parsedate_to_datetime(item.findtext("pubDate")).year in (2022, 2023)


@pytest.mark.parametrize("url", ["/cases/feed/atom/", "/cases/feed/rss/"])
def test_feeds_hold_only_published_cases(client, cases, url):
    response, _ = fetch(client, url + "?keyword=nato")
    body = response.content.decode()
    assert "NATO is at the border" in body
    assert "Draft about NATO" not in body
    assert "Withdrawn about NATO" not in body


def test_a_keyword_feed_is_what_a_researcher_subscribes_to(client, cases):
    _, root = fetch(client, "/cases/feed/atom/?keyword=nato")

    assert atom_titles(root) == ["NATO is at the border"]
    assert root.findtext(f"{ATOM}title") == (
        "Disinfo DB: latest disinformation cases (Keyword: NATO)"
    )
    assert root.find(f"{ATOM}link[@rel='alternate']").get("href") == (
        "http://testserver/cases/?keyword=nato"
    )
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == (
        "http://testserver/cases/feed/atom/?keyword=nato"
    )


def test_a_search_feed_keeps_only_matching_cases(client, cases):
    _, root = fetch(client, "/cases/feed/rss/?q=border")
    assert rss_titles(root) == ["NATO is at the border"]


def test_a_feed_holds_the_latest_fifty_by_publication_on_the_database(client):
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    for n in range(55):
        # Publication order differs from claim date order on purpose.
        publish(
            f"Claim {n}",
            start + datetime.timedelta(days=n),
            date=datetime.date(2020, 1, 1) + datetime.timedelta(days=55 - n),
        )

    _, root = fetch(client, "/cases/feed/atom/?ordering=date")

    assert atom_titles(root) == [f"Claim {n}" for n in range(54, 4, -1)]


@pytest.mark.django_db(transaction=True)
def test_a_filtered_feed_is_read_among_the_ids_the_facet_index_gives(client, settings):
    nato = KeywordFactory(name="NATO")
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    for n in range(4):
        # Published in another order than their ids and dates.
        publish(f"NATO claim {n}", start - datetime.timedelta(days=n * 7 % 5), keywords=[nato])
    publish("Not about the alliance", start + datetime.timedelta(days=3))
    urls = ["/cases/feed/atom/?keyword=nato", "/cases/feed/rss/?q=claim&keyword=nato"]

    def feed(url):
        with CaptureQueriesContext(connection) as queries:
            _, root = fetch(client, url)
        titles = atom_titles(root) if "atom" in url else rss_titles(root)
        read = [q["sql"] for q in queries.captured_queries if "published_at" in q["sql"]]
        return titles, read

    settings.FACET_INDEX = True
    by_index = {url: feed(url) for url in urls}
    settings.FACET_INDEX = False
    by_sql = {url: feed(url) for url in urls}

    for url in urls:
        assert (
            by_index[url][0]
            == by_sql[url][0]
            == [f"NATO claim {n}" for n in (0, 3, 1, 4, 2) if n < 4]
        ), url
        # The newest published of the index's ids first (an index-only scan), then those
        # cases, under the filter's conditions still; SQL alone walks and checks.
        ids_query, items_query = by_index[url][1]
        assert ids_query.startswith('SELECT "cases_case"."id" AS "id" FROM "cases_case" WHERE')
        assert "= ANY(" in ids_query and "= ANY(" in items_query, url
        assert len(by_sql[url][1]) == 1 and "= ANY(" not in by_sql[url][1][0], url


def test_an_empty_view_gives_a_valid_empty_feed(client):
    _, root = fetch(client, "/cases/feed/atom/")
    assert root.findtext(f"{ATOM}title") == "Disinfo DB: latest disinformation cases"
    assert atom_entries(root) == []


@pytest.mark.parametrize("url", ["/cases/feed/atom/", "/cases/feed/rss/"])
@pytest.mark.parametrize(
    "query, parameter",
    [
        ("keyword=no-such-keyword", "keyword"),
        ("date_before=2020-13-01", "date_before"),
        ("updated_since=last-week", "updated_since"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(client, url, query, parameter):
    response = client.get(f"{url}?{query}")
    assert response.status_code == 400
    assert f"\n{parameter}: " in response.content.decode()


def test_a_feed_takes_the_same_number_of_queries_however_many_cases_it_holds(
    client, django_assert_num_queries
):
    nato = KeywordFactory(name="NATO")
    CaseFactory(keywords=[nato])
    # The keyword slug is checked, the data version asked for the facet index's matches
    # (which it cannot give with the test's writes uncommitted), then the cases, then
    # their keywords.
    with django_assert_num_queries(4):
        client.get("/cases/feed/atom/?keyword=nato")
    for _ in range(5):
        CaseFactory(keywords=[nato, KeywordFactory()])
    with django_assert_num_queries(4):
        client.get("/cases/feed/atom/?keyword=nato")


@pytest.mark.parametrize("url", ["/cases/feed/atom/", "/cases/feed/rss/"])
def test_entry_ids_are_tag_uris_by_case_id_so_a_retitled_case_stays_one_entry(client, url):
    case = publish("NATO is at the border", datetime.datetime(2023, 3, 1, tzinfo=datetime.UTC))

    def entry_ids():
        root = ET.fromstring(client.get(url).content)
        return [e.findtext(f"{ATOM}id") for e in atom_entries(root)] or [
            item.findtext("guid") for item in root.findall("channel/item")
        ]

    before = entry_ids()
    edit(case, title="NATO is far from the border")
    case.refresh_from_db()

    assert case.slug == "nato-is-far-from-the-border"
    assert entry_ids() == before == [f"tag:127.0.0.1,2026:case/{case.pk}"]


def test_the_tag_uris_host_and_year_are_the_sites(client, settings):
    settings.SITE_URL = "https://disinfo.example.org:8443/db/"
    settings.FEED_TAG_YEAR = 2025
    case = publish("A claim", datetime.datetime(2023, 3, 1, tzinfo=datetime.UTC))

    root = ET.fromstring(client.get("/cases/feed/atom/").content)

    assert [e.findtext(f"{ATOM}id") for e in atom_entries(root)] == [
        f"tag:disinfo.example.org,2025:case/{case.pk}"
    ]
