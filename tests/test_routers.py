"""Which database a request reads from (disinfo_db/routers.py); tests/test_replicas.py runs
it against a real streaming replica."""

import socket
import time

from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from disinfo_db import routers

factory = RequestFactory()


def test_safe_requests_may_read_from_a_replica_and_writes_and_the_admin_may_not():
    assert not routers.primary_required(factory.get("/cases/"))
    assert not routers.primary_required(factory.head("/api/v1/cases/"))
    assert routers.primary_required(factory.post("/api/v1/cases/"))
    assert routers.primary_required(factory.delete("/api/v1/cases/1/"))
    assert routers.primary_required(factory.get("/admin/cases/case/"))


def test_a_write_pins_the_browser_to_the_primary_until_its_cookie_expires(settings):
    settings.DATABASE_REPLICA_PIN_SECONDS = 10
    response = HttpResponse()
    routers.pin(factory.post("/cases/"), response)
    cookie = response.cookies[routers.PIN_COOKIE]
    assert cookie["max-age"] == 10 and cookie["httponly"]
    assert routers.is_pinned(
        factory.get("/cases/", HTTP_COOKIE=f"{routers.PIN_COOKIE}={cookie.value}")
    )
    expired = int(time.time()) - 1
    assert not routers.is_pinned(factory.get("/", HTTP_COOKIE=f"{routers.PIN_COOKIE}={expired}"))
    assert not routers.is_pinned(factory.get("/", HTTP_COOKIE=f"{routers.PIN_COOKIE}=soon"))


def test_a_write_pins_the_api_token_that_made_it_and_no_other():
    routers.pin(factory.post("/api/v1/cases/", HTTP_AUTHORIZATION="Token abc"), HttpResponse())
    assert routers.is_pinned(factory.get("/api/v1/cases/", HTTP_AUTHORIZATION="Token abc"))
    assert not routers.is_pinned(factory.get("/api/v1/cases/", HTTP_AUTHORIZATION="Token xyz"))
    assert not routers.is_pinned(factory.get("/api/v1/cases/"))


def test_without_replicas_reads_stay_on_the_primary():
    assert routers.process_read_alias() == "default"
    assert routers.read_alias() == "default"
    with routers.reading_from("replica_1"):
        assert routers.PrimaryReplicaRouter().db_for_read(None) == "replica_1"
        assert routers.PrimaryReplicaRouter().db_for_write(None) == "default"
    assert routers.read_alias() == "default"


# Modules whose SQL answers public reads. With replicas they must run it on the request's
# database (routers.read_connection()), not on `connection`, the primary: otherwise a page
# would mix a replica's data with the primary's version, or the reverse.
READ_MODULES = [
    "cases/readmodels/case_page.py",
    "cases/readmodels/api_json.py",
    "cases/readmodels/csv.py",
    "cases/readmodels/prepared.py",
    "cases/facets/index.py",
    "cases/facets/exact.py",
    "cases/search/match.py",
    "cases/search/similar.py",
    "cases/search/semantic.py",
    "cases/api/views.py",
    "cases/collation.py",
    "cases/site/stats.py",
]


def test_read_models_never_use_the_primarys_connection_directly():
    import ast
    from pathlib import Path

    base = Path(__file__).resolve().parent.parent
    for module in READ_MODULES:
        tree = ast.parse((base / module).read_text())
        imported = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "django.db"
            for alias in node.names
        }
        assert "connection" not in imported, f"{module} imports django.db.connection"


def test_while_the_shared_cache_is_down_api_clients_read_the_primary_and_writes_still_answer():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nobody listens there: Redis is down
    dead = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{port}/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    with override_settings(CACHES={"default": dead}):
        routers.pin(factory.post("/api/v1/cases/", HTTP_AUTHORIZATION="Token abc"), HttpResponse())
        assert routers.is_pinned(factory.get("/api/v1/cases/", HTTP_AUTHORIZATION="Token xyz"))
        assert not routers.is_pinned(factory.get("/api/v1/cases/"))
