"""While PostgreSQL cannot be reached: kept pages are still answered, anything else is a
503 with Retry-After (JSON under /api/), writes are refused whole, and /healthz says so.

The database is made unreachable for real: the connection is closed and pointed at a port
nobody listens on, so every query fails as it does when the server is down.
"""

import contextlib
import socket

import pytest
from django.db import connection

from cases.freshness import cache
from cases.models import Case
from tests.factories import CaseFactory, edit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.PAGE_CACHE = True
    cache.clear()


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def database_unreachable():
    saved = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = closed_port()
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved


@pytest.mark.parametrize("url", ["/cases/", "/api/v1/cases/", "/stats/"])
def test_a_kept_answer_is_served_marked_stale_while_the_database_is_unreachable(client, url):
    CaseFactory(title="Kept through an outage")
    before = client.get(url)
    assert before.content  # a page sent in parts is kept once it is all sent

    with database_unreachable():
        during = client.get(url)

    assert during.status_code == 200
    assert during.content == before.content
    assert during["X-Served-Stale"] == "1"
    assert during["Warning"] == '110 - "Response is Stale"'
    assert "X-Served-Stale" not in before


def test_a_page_kept_before_a_write_is_still_served_once_the_database_is_gone(client):
    case = CaseFactory(title="The old title")
    assert client.get("/cases/").content
    edit(case, title="The new title")

    with database_unreachable():
        during = client.get("/cases/")

    assert during.status_code == 200
    assert "The old title" in during.content.decode()
    assert during["X-Served-Stale"] == "1"


def test_a_kept_answer_revalidates_with_304_during_an_outage(client):
    CaseFactory()
    etag = client.get("/api/v1/cases/")["ETag"]

    with database_unreachable():
        during = client.get("/api/v1/cases/", headers={"If-None-Match": etag})

    assert during.status_code == 304


def test_a_page_never_kept_answers_a_readable_503_with_retry_after(client):
    with database_unreachable():
        response = client.get("/cases/?keyword=nato")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    assert "Temporarily unavailable" in text
    assert "Something went wrong" not in text


@pytest.mark.parametrize("url", ["/api/v1/cases/", "/api/v1/keywords/", "/api/v1/cases/1/"])
def test_an_api_read_never_kept_answers_503_in_json(client, url):
    with database_unreachable():
        response = client.get(url)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["status"] == 503
    assert "database is unreachable" in body["errors"][0]["message"]


def test_a_write_answers_503_in_json_and_changes_nothing(client, editor_client):
    before = Case.objects.count()

    with database_unreachable():
        response = editor_client.post("/api/v1/cases/", {"title": "Never written"}, format="json")

    assert response.status_code == 503
    message = response.json()["errors"][0]["message"]
    assert message.startswith("The database is unreachable")
    assert "the change was not saved" in message
    assert Case.objects.count() == before


def test_a_signed_in_visitor_gets_a_503_not_a_500(client):
    """A session cookie makes the request uncacheable and its session a database read."""
    client.cookies["sessionid"] = "a-session-key"
    with database_unreachable():
        admin = client.get("/admin/cases/case/")
        page = client.get("/cases/")

    assert admin.status_code == 503
    assert page.status_code == 503


def test_healthz_answers_the_data_version_and_the_index_lag(client):
    CaseFactory()
    client.get("/api/v1/cases/facets/")  # builds this process's facet index

    healthy = client.get("/healthz")
    body = healthy.json()
    assert healthy.status_code == 200
    assert "no-store" in healthy["Cache-Control"]
    assert body["status"] == "ok"
    assert body["index"]["version"] == body["data_version"]
    assert body["index_lag"]["versions"] == 0

    CaseFactory()
    CaseFactory()
    behind = client.get("/healthz").json()
    assert behind["data_version"] > body["data_version"]
    assert behind["index"]["version"] == body["data_version"]
    assert behind["index_lag"]["versions"] >= 2  # a case and its links may be two commits
    assert behind["index_lag"]["seconds"] >= 0

    client.get("/api/v1/cases/facets/")  # brings the index up to date
    caught_up = client.get("/healthz").json()
    assert caught_up["index"]["version"] == caught_up["data_version"]
    assert caught_up["index_lag"]["versions"] == 0


def test_healthz_answers_503_in_json_while_the_database_is_unreachable(client):
    with database_unreachable():
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["database"] == "unreachable"


def test_the_site_recovers_as_soon_as_the_database_is_back(client):
    CaseFactory(title="Back again")
    with database_unreachable():
        assert client.get("/cases/").status_code == 503

    response = client.get("/cases/")
    assert response.status_code == 200
    assert "Back again" in response.content.decode()


@pytest.mark.parametrize("path", ["/cases/", "/api/v1/cases/"])
def test_a_lost_connection_raised_outside_any_view_answers_503_not_500(rf, path):
    """What handler500 gets when a middleware fails after the view (a session saved)."""
    import psycopg2

    from cases.api.errors import server_error

    request = rf.get(path)
    try:
        psycopg2.connect(host="127.0.0.1", port=closed_port(), user="postgres", connect_timeout=2)
    except psycopg2.OperationalError:
        response = server_error(request)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"


def test_an_error_of_the_query_itself_is_no_outage(client, settings):
    """A statement cancelled by its timeout is the request's own failure, not a 503."""
    from django.db import OperationalError

    from disinfo_db.middleware import database_unreachable

    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 1")
        try:
            cursor.execute("SELECT pg_sleep(1)")
        except OperationalError as error:
            cancelled = error
        cursor.execute("SET statement_timeout = 0")

    assert not database_unreachable(cancelled)


def test_healthz_answers_over_plain_http_where_pages_redirect_to_https(client, settings):
    from disinfo_db.settings import PRODUCTION_REDIRECT_EXEMPT

    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = PRODUCTION_REDIRECT_EXEMPT

    assert client.get("/healthz").status_code == 200
    assert client.get("/cases/").status_code == 301
