"""Anonymous GETs of public pages are kept until the next committed write."""

import psycopg2
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.freshness import cache
from cases.models import Case
from tests.factories import CaseFactory, edit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.PAGE_CACHE = True
    cache.clear()


def get(client, url, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
        response.content  # noqa: B018 (a page sent in parts is kept once it is all sent)
    return response, len(queries.captured_queries)


def test_a_repeated_page_costs_one_query_and_a_write_refreshes_it(client):
    case = CaseFactory(title="NATO is everywhere")
    first, _ = get(client, "/cases/")
    again, queries = get(client, "/cases/")

    assert queries == 1  # the data version
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]

    edit(case, title="NATO is nowhere")
    fresh, queries = get(client, "/cases/")
    assert queries > 1
    assert "NATO is nowhere" in fresh.content.decode()
    assert fresh["ETag"] != first["ETag"]


def test_a_write_from_another_process_refreshes_the_page(client):
    CaseFactory(title="Biolabs everywhere")
    assert "Biolabs everywhere" in get(client, "/cases/")[0].content.decode()

    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other, other.cursor() as cursor:
            cursor.execute("UPDATE cases_case SET status = 'draft'")
    finally:
        other.close()

    assert "Biolabs everywhere" not in get(client, "/cases/")[0].content.decode()


def test_an_unchanged_page_revalidates_with_304(client):
    CaseFactory()
    etag = get(client, "/api/v1/cases/")[0]["ETag"]

    response, _ = get(client, "/api/v1/cases/", **{"If-None-Match": etag})

    assert response.status_code == 304


def test_requests_with_cookies_and_other_methods_are_never_kept(client):
    CaseFactory()
    client.cookies["sessionid"] = "someone"
    get(client, "/cases/")
    _, queries = get(client, "/cases/")
    assert queries > 1


def test_api_formats_are_kept_apart(client):
    CaseFactory(title="Kept apart")
    json_response, _ = get(client, "/api/v1/cases/", Accept="application/json")
    html_response, _ = get(client, "/api/v1/cases/", Accept="text/html")
    assert json_response["Content-Type"] != html_response["Content-Type"]
    assert Case.objects.count() == 1


def test_an_editors_token_request_is_never_kept_so_drafts_never_reach_the_public(
    client, editor_client
):
    CaseFactory(title="Public claim")
    CaseFactory(title="Draft claim", status=Case.Status.DRAFT)

    as_editor = editor_client.get("/api/v1/cases/")
    as_public = client.get("/api/v1/cases/")

    assert "Draft claim" in as_editor.content.decode()
    assert "Draft claim" not in as_public.content.decode()
    assert "Public claim" in as_public.content.decode()


def test_the_lists_last_modified_is_read_once_per_data_version(client):
    def list_page(size):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/v1/cases/?page_size={size}")
        asked = [q for q in queries.captured_queries if "last_change" in q["sql"]]
        return response, len(asked)

    case = CaseFactory(title="Kept")
    first, asked = list_page(5)
    assert asked == 1
    other, asked = list_page(6)  # another page, the same data: Last-Modified is kept
    assert asked == 0
    assert other["Last-Modified"] == first["Last-Modified"]

    Case.objects.filter(pk=case.pk).update(updated_at=case.updated_at.replace(year=2099))
    moved, asked = list_page(7)
    assert asked == 1
    assert "2099" in moved["Last-Modified"]


@pytest.mark.parametrize("kind", ["page", "api"])
def test_a_case_asked_for_the_first_time_reads_data_and_version_in_one_query(client, kind):
    case = CaseFactory(title="One round trip")
    url = case.get_absolute_url() if kind == "page" else f"/api/v1/cases/{case.pk}/"

    first, queries = get(client, url)
    assert first.status_code == 200 and "One round trip" in first.content.decode()
    # The case, with the data version in the same statement.
    assert queries == 1

    again, queries = get(client, url)
    assert queries == 1  # the data version alone: the page was kept
    assert again.content == first.content and again["ETag"] == first["ETag"]


@pytest.mark.parametrize("kind", ["list", "page", "api"])
def test_a_write_committed_right_after_the_data_was_read_is_shown_next(client, kind):
    # The page is kept under a reading of the version taken no later than its data, so
    # that a write landing in between can never leave the old page looking current.
    case = CaseFactory(title="Before the write")
    url = {
        "list": "/cases/",
        "page": case.get_absolute_url(),
        "api": f"/api/v1/cases/{case.pk}/",
    }[kind]
    written = []

    def write_after_the_first_data_query(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not written and "read_version" not in sql:
            other = psycopg2.connect(**connection.get_connection_params())
            try:
                with other, other.cursor() as cursor:
                    cursor.execute(
                        "UPDATE cases_case SET title = 'After the write' WHERE id = %s", [case.pk]
                    )
            finally:
                other.close()
            written.append(sql)
        return result

    with connection.execute_wrapper(write_after_the_first_data_query):
        get(client, url)
    assert written

    assert "After the write" in get(client, url)[0].content.decode()


def test_a_kept_page_is_replaced_when_the_data_moves_on(client):
    case = CaseFactory(title="First title")
    get(client, case.get_absolute_url())
    Case.objects.filter(pk=case.pk).update(title="Second title")

    second = get(client, case.get_absolute_url())[0]
    assert "Second title" in second.content.decode()
    assert len(cache._responses.items) == 1  # the old version's page is not kept beside it
    assert cache._responses.bytes == len(second.content)


def test_an_https_visit_and_a_plain_http_visit_are_kept_apart(client):
    case = CaseFactory(title="Kept per scheme")
    url = case.get_absolute_url()

    secure = client.get(url, secure=True).content.decode()
    plain = client.get(url).content.decode()
    secure_again = client.get(url, secure=True).content.decode()

    assert f'rel="canonical" href="https://testserver{url}"' in secure
    assert f'rel="canonical" href="http://testserver{url}"' in plain
    assert "https://testserver" not in plain
    assert secure_again == secure


def test_each_host_gets_its_own_kept_page(client, settings):
    settings.ALLOWED_HOSTS = ["one.example", "two.example"]
    case = CaseFactory(title="Kept per host")
    url = case.get_absolute_url()

    one = client.get(url, headers={"Host": "one.example"}).content.decode()
    two = client.get(url, headers={"Host": "two.example"}).content.decode()

    assert "http://one.example/" in one
    assert "http://two.example/" in two
    assert "one.example" not in two


@pytest.mark.parametrize("url", ["/cases/", "/api/v1/cases/"])
def test_a_kept_answer_carries_the_security_headers_too(client, url):
    CaseFactory()
    first, _ = get(client, url)
    kept, queries = get(client, url)

    assert queries == 1  # answered from the page cache
    for response in (first, kept):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert "nonce-" not in response["Content-Security-Policy"]
