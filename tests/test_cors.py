"""A browser page on another origin reads the API: fresh, kept by the page cache, or a 304."""

import pytest

from cases.freshness import cache
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = "https://partner.example"


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.PAGE_CACHE = True
    cache.clear()


def get(client, url, **headers):
    return client.get(url, headers={"Origin": ORIGIN, **headers})


def readable_from_another_origin(response):
    return response.get("Access-Control-Allow-Origin") in ("*", ORIGIN)


@pytest.mark.parametrize("kind", ["list", "detail"])
def test_fresh_and_kept_answers_and_their_304s_carry_the_cors_headers(client, kind):
    case = CaseFactory()
    url = "/api/v1/cases/" if kind == "list" else f"/api/v1/cases/{case.pk}/"

    fresh = get(client, url)
    kept = get(client, url)
    not_modified = get(client, url, **{"If-None-Match": kept["ETag"]})

    assert fresh.status_code == kept.status_code == 200
    assert not_modified.status_code == 304
    for response in (fresh, kept, not_modified):
        assert readable_from_another_origin(response), response.headers
        exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
        assert {"etag", "last-modified", "retry-after", "link", "location"} <= exposed


def test_a_page_kept_from_a_request_without_origin_is_readable_from_another_origin(client):
    CaseFactory()
    without_origin = client.get("/api/v1/cases/")
    assert "Access-Control-Allow-Origin" not in without_origin

    kept = get(client, "/api/v1/cases/")

    assert kept.content == without_origin.content
    assert readable_from_another_origin(kept)


def test_a_304_of_the_views_own_validators_carries_the_cors_headers(client, settings):
    settings.PAGE_CACHE = False
    case = CaseFactory()
    etag = get(client, f"/api/v1/cases/{case.pk}/")["ETag"]

    response = get(client, f"/api/v1/cases/{case.pk}/", **{"If-None-Match": etag})

    assert response.status_code == 304
    assert readable_from_another_origin(response)


def test_the_preflight_allows_the_conditional_headers(client):
    response = client.options(
        "/api/v1/cases/",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match, if-modified-since, if-match",
        },
    )

    assert response.status_code == 200
    allowed = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"if-none-match", "if-modified-since", "if-match"} <= allowed
    assert readable_from_another_origin(response)


def test_site_pages_are_not_opened_to_other_origins(client):
    CaseFactory()
    assert "Access-Control-Allow-Origin" not in get(client, "/cases/")
