"""One spelling fallback for every surface: a misspelt search finds the same cases on the
list page, in the API (which says what it corrected), the facets, the feeds, the exports,
the statistics, and through the page's own export link."""

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from html import unescape

import pytest

from cases.models import Case
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def kazakhstan():
    """The ids of the published cases about Kazakhstan."""
    cases = [
        CaseFactory(title="MI6 behind the protests in Kazakhstan"),
        CaseFactory(title="Riots in Kazakhstan were staged"),
    ]
    CaseFactory(title="Lithuania under Soviet rule")
    CaseFactory(title="A draft about Kazakhstan", status=Case.Status.DRAFT)
    return {case.pk for case in cases}


def page_ids(client, query):
    response = client.get(f"/cases/?{query}")
    assert response.status_code == 200
    return {case.pk for case in response.context_data["cases"]}, response


def test_the_list_page_and_the_api_find_the_same_cases_and_the_api_says_what_it_corrected(
    client, api_client, kazakhstan
):
    on_page, _ = page_ids(client, "q=Kazakstan")
    body = api_client.get("/api/v1/cases/?q=Kazakstan").json()

    assert on_page == {item["id"] for item in body["results"]} == kazakhstan
    assert body["count"] == 2
    assert body["corrected_query"] == "kazakhstan"


def test_a_search_that_matches_as_typed_is_not_corrected(api_client, kazakhstan):
    body = api_client.get("/api/v1/cases/?q=Kazakhstan").json()
    assert body["corrected_query"] is None
    assert {item["id"] for item in body["results"]} == kazakhstan


def test_a_search_nothing_resembles_stays_empty_and_uncorrected(api_client, kazakhstan):
    body = api_client.get("/api/v1/cases/?q=zzyzx").json()
    assert (body["count"], body["results"], body["corrected_query"]) == (0, [], None)


def test_the_api_facets_count_the_corrected_search(api_client, kazakhstan):
    body = api_client.get("/api/v1/cases/facets/?q=Kazakstan").json()
    assert body["count"] == 2
    assert body["corrected_query"] == "kazakhstan"


def test_the_api_csv_holds_the_corrected_searchs_cases(api_client, kazakhstan):
    response = api_client.get("/api/v1/cases/?q=Kazakstan&format=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {int(row["id"]) for row in rows} == kazakhstan


@pytest.mark.parametrize("url", ["/cases/feed/atom/?q=Kazakstan", "/cases/feed/rss/?q=Kazakstan"])
def test_the_feeds_hold_the_corrected_searchs_cases(client, kazakhstan, url):
    root = ET.fromstring(client.get(url).content)
    titles = {e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")} | {
        item.findtext("title") for item in root.findall("channel/item")
    }
    titles.discard(None)
    assert titles == set(Case.objects.filter(pk__in=kazakhstan).values_list("title", flat=True))


def test_the_export_holds_the_corrected_searchs_cases(client, kazakhstan):
    response = client.get("/cases/export/?format=ndjson&q=Kazakstan")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert {json.loads(line)["id"] for line in lines} == kazakhstan


def test_the_statistics_count_the_corrected_search_and_say_so(client, kazakhstan):
    response = client.get("/stats/?q=Kazakstan")
    assert response.context_data["stats"]["total"] == 2
    assert "Counting approximate matches for “kazakhstan”" in response.content.decode()


def test_the_pages_own_export_link_gives_the_cases_the_page_shows(client, kazakhstan):
    on_page, response = page_ids(client, "q=Kazakstan")
    html = response.content.decode()
    (link,) = set(re.findall(r'href="(/cases/export/\?format=json[^"]*)"', html))

    exported = json.loads(b"".join(client.get(unescape(link)).streaming_content))

    assert {case["id"] for case in exported} == on_page == kazakhstan
