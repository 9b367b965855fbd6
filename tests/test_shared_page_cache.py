"""With CACHE_URL, kept pages are in Redis: a page one process made answers the same URL in
every other process, as long as the data version it was made at is the committed one.

These tests need a Redis server: TEST_CACHE_URL, or redis://127.0.0.1:6379/0. Without one
they are skipped. Each test keys its pages under a prefix of its own and removes them after.
The other process is a real one (a Python process with its own Django), reading the same
test database and the same Redis.
"""

import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from cases.freshness import cache
from cases.models import Case
from tests.factories import CaseFactory, edit
from tests.test_outage import database_unreachable

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_CACHE_URL", "redis://127.0.0.1:6379/0")
TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, **TIMEOUTS)
    try:
        client.ping()
    except (redis.exceptions.RedisError, OSError) as error:
        pytest.skip(f"No Redis server at {REDIS_URL} ({error}); set TEST_CACHE_URL to run these.")
    return client


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def use_page_cache(settings, location, prefix="pages-unused"):
    settings.PAGE_CACHE = True
    settings.PAGE_CACHE_ALIAS = "pages"
    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "OPTIONS": TIMEOUTS,
            "KEY_PREFIX": prefix,
            "TIMEOUT": 600,
        },
    }
    cache._shared.clear()


@pytest.fixture
def redis_pages(settings):
    """Pages kept in the test's own corner of a real Redis; yields the keys' pattern."""
    client = redis_client()
    prefix = f"test-pages-{uuid.uuid4().hex}"
    use_page_cache(settings, REDIS_URL, prefix)
    yield prefix
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
    cache._shared.clear()


def kept_in_redis(prefix):
    return list(redis_client().scan_iter(match=f"{prefix}:*"))


def get(client, url, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
        response.content  # noqa: B018 (a page sent in parts is kept once it is all sent)
    return response, [query["sql"] for query in queries.captured_queries]


OTHER_PROCESS = textwrap.dedent(
    """
    import json, sys

    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host
    settings.CACHES["pages"]["KEY_PREFIX"] = sys.argv[1]
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = Client().get(sys.argv[2])
    print(json.dumps({
        "status": response.status_code,
        "etag": response.get("ETag"),
        "content": response.content.decode(),
        "queries": [query["sql"] for query in queries.captured_queries],
    }))
    """
)


def get_in_another_process(prefix, url):
    """The page at `url`, asked for by a new process with its own Django, like another
    gunicorn worker or another machine: same database, same CACHE_URL."""
    db = connection.settings_dict
    database_url = (
        f"postgres://{quote(db['USER'] or '', safe='')}:{quote(db['PASSWORD'] or '', safe='')}"
        f"@{quote(db['HOST'] or '', safe='')}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    environ = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CACHE_URL": REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "disinfo_db.settings",
        "DJANGO_DEBUG": "1",
    }
    finished = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, prefix, url],
        cwd=BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout.strip().splitlines()[-1])


def test_a_page_made_in_one_process_is_answered_from_redis_in_another_until_a_write(
    client, redis_pages
):
    case = CaseFactory(title="Made once", summary="Said once.")
    url = case.get_absolute_url()

    made, queries = get(client, url)
    assert made.status_code == 200 and len(queries) >= 1

    elsewhere = get_in_another_process(redis_pages, url)
    assert elsewhere["status"] == 200
    assert elsewhere["content"] == made.content.decode()
    assert elsewhere["etag"] == made["ETag"]
    # The committed data version, and nothing of the page's own: it came from Redis.
    assert len(elsewhere["queries"]) == 1 and "read_version" in elsewhere["queries"][0]

    edit(case, summary="Said twice.")
    remade = get_in_another_process(redis_pages, url)
    assert "Said twice." in remade["content"]
    assert remade["etag"] != made["ETag"]

    # The other process's page, under the new version, now answers here.
    again, queries = get(client, url)
    assert again.content.decode() == remade["content"]
    assert len(queries) == 1 and "read_version" in queries[0]


def test_kept_pages_are_in_redis_and_not_in_the_processes_memory(client, redis_pages):
    CaseFactory(title="Shared")
    get(client, "/cases/")
    get(client, "/api/v1/cases/")

    assert len(kept_in_redis(redis_pages)) == 2
    assert not cache._responses.items


def test_a_write_moves_the_version_so_the_kept_page_is_not_answered(client, redis_pages):
    case = CaseFactory(title="Before")
    get(client, "/cases/")
    Case.objects.filter(pk=case.pk).update(title="After")

    fresh, queries = get(client, "/cases/")

    assert "After" in fresh.content.decode() and "Before" not in fresh.content.decode()
    assert len(queries) > 1
    assert len(kept_in_redis(redis_pages)) == 1  # replaced, not kept beside the old one


def test_pages_of_another_release_are_not_answered(client, redis_pages, monkeypatch):
    CaseFactory()
    get(client, "/cases/")
    monkeypatch.setenv("DISINFO_RELEASE", "next")
    cache.release.cache_clear()
    try:
        _, queries = get(client, "/cases/")
    finally:
        monkeypatch.delenv("DISINFO_RELEASE")
        cache.release.cache_clear()
    assert len(queries) > 1
    assert len(kept_in_redis(redis_pages)) == 2


def test_editors_requests_never_reach_redis(redis_pages, editor_client, client):
    CaseFactory(title="Draft claim", status=Case.Status.DRAFT)

    assert "Draft claim" in editor_client.get("/api/v1/cases/").content.decode()
    client.cookies["sessionid"] = "an editor"
    assert client.get("/cases/").status_code == 200

    assert kept_in_redis(redis_pages) == []


def test_a_page_kept_in_redis_is_answered_stale_while_the_database_is_down(client, redis_pages):
    CaseFactory(title="Kept through an outage")
    before = client.get("/cases/")
    assert before.content  # a page sent in parts is kept once it is all sent

    with database_unreachable():
        during = client.get("/cases/")
        never_kept = client.get("/stats/")

    assert during.status_code == 200
    assert during.content == before.content
    assert during["X-Served-Stale"] == "1"
    assert never_kept.status_code == 503


@pytest.mark.parametrize("url", ["/cases/", "/api/v1/cases/", "/stats/"])
def test_pages_are_computed_and_answered_while_redis_is_down(client, settings, caplog, url):
    # No Redis needed: the caches point at a port nobody listens on, as when it is down.
    dead = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        "OPTIONS": TIMEOUTS,
    }
    settings.PAGE_CACHE = True
    settings.DISINFO_API_ANON_RATE = "1000/hour"  # the API throttle counts in Redis too
    CaseFactory(title="Computed without Redis")

    cache._shared.clear()
    with (
        override_settings(CACHES={"default": dead, "pages": dead}, PAGE_CACHE_ALIAS="pages"),
        caplog.at_level(logging.WARNING),
    ):
        first, queries = get(client, url)
        second, _ = get(client, url)
    cache._shared.clear()

    assert first.status_code == 200 and second.status_code == 200
    assert len(queries) > 1
    assert "Computed without Redis" in first.content.decode() or url == "/stats/"
    assert "failed" in caplog.text


def test_a_page_from_redis_and_its_304_carry_the_cors_headers(client, redis_pages):
    CaseFactory()
    without_origin = client.get("/api/v1/cases/")
    origin = {"Origin": "https://partner.example"}

    kept, queries = get(client, "/api/v1/cases/", **origin)
    not_modified, _ = get(client, "/api/v1/cases/", **origin, **{"If-None-Match": kept["ETag"]})

    assert len(queries) == 1  # answered from Redis
    assert kept.content == without_origin.content
    assert kept["Access-Control-Allow-Origin"] == "*"
    assert not_modified.status_code == 304
    assert not_modified["Access-Control-Allow-Origin"] == "*"
