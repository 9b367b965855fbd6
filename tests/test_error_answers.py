"""Every error under /api/ answers the API's JSON error shape; the site answers pages.
Methods no view answers (TRACE, made-up ones) are refused with 405 everywhere."""

import json

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/v1/no-such-thing/", "/api/v2/", "/api/"])
def test_an_unknown_api_path_answers_404_in_json(client, url):
    response = client.get(url)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": 404, "errors": [{"field": None, "message": "Not found."}]}


def test_an_unknown_site_path_answers_the_sites_404_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "Page not found" in response.content.decode()


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "FOO"])
def test_unsupported_methods_answer_405_on_the_site(client, method):
    response = client.generic(method, "/cases/")

    assert response.status_code == 405
    assert "GET" in response["Allow"]
    assert "TRACE" not in response["Allow"]


@pytest.mark.parametrize("url", ["/api/v1/cases/", "/api/v1/keywords/", "/healthz"])
def test_trace_answers_405_in_json_on_the_api(client, url):
    response = client.generic("TRACE", url)

    assert response.status_code == 405
    if url.startswith("/api/"):
        assert response.json()["status"] == 405
        assert response.json()["errors"][0]["message"] == 'Method "TRACE" not allowed.'


def test_a_method_a_view_does_not_take_answers_405_in_json(client):
    response = client.delete("/api/v1/keywords/")

    assert response.status_code in (403, 405)
    assert response.json()["status"] == response.status_code


def test_a_body_over_the_upload_limit_answers_413_in_json_under_the_api(rf):
    """What Django's handler400 is given when a body passes DATA_UPLOAD_MAX_MEMORY_SIZE."""
    from django.core.exceptions import RequestDataTooBig

    from cases.api.errors import bad_request

    too_big = RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
    api = bad_request(rf.post("/api/v1/cases/"), too_big)
    site = bad_request(rf.post("/admin/cases/case/add/"), too_big)

    assert api.status_code == 413
    assert api["Content-Type"] == "application/json"
    assert json.loads(api.content)["status"] == 413
    assert site.status_code == 400
