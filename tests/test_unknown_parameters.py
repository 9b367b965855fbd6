"""Bad input is never ignored: a parameter no surface takes is a 400 naming it, everywhere.

Tracking parameters that shared links pick up are the exception: the site redirects to the
URL without them, and the API ignores them.
"""

import pytest

from tests.factories import CaseFactory, KeywordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    return CaseFactory(title="NATO is at the border", keywords=[KeywordFactory(name="NATO")])


SITE_URLS = [
    "/cases/",
    "/stats/",
    "/match/?text=nato",
    "/keywords/",
    "/countries/",
    "/languages/",
    "/outlets/",
    "/issues/",
    "/corrections/",
]
PLAIN_TEXT_URLS = [
    "/cases/export/",
    "/cases/export/?format=json",
    "/cases/feed/atom/",
    "/cases/feed/rss/",
    "/corrections/feed/",
]
API_URLS = [
    "/api/v1/cases/",
    "/api/v1/cases/?updated_since=2020-01-01T00:00:00Z",
    "/api/v1/cases/?format=csv",
    "/api/v1/cases/facets/",
    "/api/v1/changes/",
    "/api/v1/match/?text=nato",
    "/api/v1/keywords/",
    "/api/v1/keywords/nato/",
]


def with_parameter(url, parameter):
    return f"{url}{'&' if '?' in url else '?'}{parameter}"


@pytest.mark.parametrize("url", SITE_URLS)
def test_a_site_page_shows_a_400_naming_an_unknown_parameter(client, case, url):
    response = client.get(with_parameter(url, "kewyord=nato"))

    assert response.status_code == 400
    assert "kewyord" in response.content.decode()


@pytest.mark.parametrize("url", PLAIN_TEXT_URLS)
def test_exports_and_feeds_answer_a_plain_text_400_naming_an_unknown_parameter(client, case, url):
    response = client.get(with_parameter(url, "kewyord=nato"))

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "\nkewyord: Unknown parameter" in response.content.decode()


@pytest.mark.parametrize("url", [*API_URLS, "/api/v1/cases/{pk}/", "/api/v1/cases/{pk}/similar/"])
def test_an_api_endpoint_answers_a_json_400_naming_each_unknown_parameter(api_client, case, url):
    url = url.format(pk=case.pk)
    response = api_client.get(with_parameter(url, "kewyord=nato&id=1"))

    assert response.status_code == 400, response.content
    fields = [error["field"] for error in response.json()["errors"]]
    assert "kewyord" in fields and "id" in fields


def test_the_site_the_api_and_exports_name_the_closest_parameter(client, api_client, case):
    (error,) = api_client.get("/api/v1/cases/?kewyord=nato").json()["errors"]
    assert error["field"] == "kewyord"
    assert error["message"].startswith("Unknown parameter. Did you mean keyword?")
    assert "Did you mean keyword?" in client.get("/cases/?kewyord=nato").content.decode()
    export = client.get("/cases/export/?kewyord=nato").content.decode()
    assert "kewyord: Unknown parameter. Did you mean keyword?" in export


@pytest.mark.parametrize(
    "url",
    [
        "/cases/?cursor=&more=keyword",
        "/cases/export/?format=ndjson",
        "/api/v1/cases/?page_size=5&cursor=&format=json",
        "/api/v1/cases/facets/?limit=3",
        "/api/v1/cases/{pk}/?format=jsonld",
        "/api/v1/cases/{pk}/similar/?limit=2",
        "/api/v1/changes/?since=0&limit=5",
        "/keywords/?sort=count",
        "/corrections/?page=1",
    ],
)
def test_each_surfaces_own_parameters_are_known(client, case, url):
    response = client.get(url.format(pk=case.pk))
    assert response.status_code == 200, response.content[:500]


def test_the_status_parameter_is_unknown_to_the_public(api_client, case):
    response = api_client.get("/api/v1/cases/?status=draft")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["status"]


@pytest.mark.parametrize(
    "url, target",
    [
        ("/cases/?utm_source=newsletter&keyword=nato", "/cases/?keyword=nato"),
        ("/cases/?fbclid=abc", "/cases/"),
        ("/stats/?keyword=nato&gclid=x&utm_medium=email&UTM_Campaign=y", "/stats/?keyword=nato"),
        ("/cases/feed/atom/?mc_cid=1&mc_eid=2", "/cases/feed/atom/"),
        ("/cases/{pk}/?utm_source=twitter", "/cases/{pk}/"),
        ("/keywords/?sort=count&msclkid=1", "/keywords/?sort=count"),
    ],
)
def test_the_site_redirects_a_link_with_tracking_parameters_to_the_url_without_them(
    client, case, url, target
):
    response = client.get(url.format(pk=case.pk))

    assert response.status_code == 301
    assert response["Location"] == target.format(pk=case.pk)


def test_a_shared_link_with_tracking_parameters_still_shows_the_page(client, case):
    response = client.get("/cases/?keyword=nato&utm_source=mastodon&fbclid=1", follow=True)

    assert response.status_code == 200
    assert [case.title for case in response.context_data["cases"]] == ["NATO is at the border"]


def test_the_api_ignores_tracking_parameters(api_client, case):
    plain = api_client.get("/api/v1/cases/?keyword=nato").json()
    tracked = api_client.get("/api/v1/cases/?keyword=nato&utm_source=x&gclid=y")

    assert tracked.status_code == 200
    assert tracked.json()["results"] == plain["results"]
    assert api_client.get("/api/v1/changes/?fbclid=1").status_code == 200
