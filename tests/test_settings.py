import importlib
import os
from unittest import mock

from disinfo_db import settings


def reload_settings(**environ):
    with mock.patch.dict(os.environ, environ):
        return importlib.reload(settings)


def test_cache_url_puts_the_shared_cache_in_redis():
    try:
        reloaded = reload_settings(CACHE_URL="redis://127.0.0.1:6379/3")
        assert reloaded.CACHES["default"] == {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/3",
        }
    finally:
        os.environ.pop("CACHE_URL", None)
        importlib.reload(settings)


def test_without_cache_url_each_process_keeps_its_own_cache():
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")


def test_connections_ask_for_generic_plans_unless_the_database_url_says_otherwise():
    url = "postgres://postgres@127.0.0.1:5432/disinfo"
    try:
        default = reload_settings(DATABASE_URL=url).DATABASES["default"]["OPTIONS"]
        assert default == {"options": "-c plan_cache_mode=force_generic_plan"}
        own = f"{url}?options=-c%20statement_timeout%3D5000"
        chosen = reload_settings(DATABASE_URL=own).DATABASES["default"]["OPTIONS"]
        assert chosen == {"options": "-c statement_timeout=5000"}
    finally:
        importlib.reload(settings)


def test_connections_are_kept_ten_minutes_with_or_without_a_database_url():
    try:
        with_url = reload_settings(DATABASE_URL="postgres://postgres@127.0.0.1:5432/disinfo")
        assert with_url.DATABASES["default"]["CONN_MAX_AGE"] == 600
        with mock.patch.dict(os.environ):
            os.environ.pop("DATABASE_URL", None)
            embedded = importlib.reload(settings)
        assert embedded.DATABASES["default"]["CONN_MAX_AGE"] == 600
    finally:
        importlib.reload(settings)


def test_without_replicas_every_query_goes_to_the_one_database_as_before():
    try:
        with mock.patch.dict(os.environ):
            os.environ.pop("DATABASE_REPLICA_URLS", None)
            reloaded = importlib.reload(settings)
        assert list(reloaded.DATABASES) == ["default"]
        assert not hasattr(reloaded, "DATABASE_ROUTERS")
        assert "disinfo_db.routers.ReplicaMiddleware" not in reloaded.MIDDLEWARE
    finally:
        importlib.reload(settings)


def test_each_replica_url_becomes_a_database_read_through_the_router():
    urls = "postgres://reader@replica-a:5432/disinfo, postgres://reader@replica-b:5433/disinfo"
    try:
        reloaded = reload_settings(
            DATABASE_URL="postgres://postgres@primary:5432/disinfo", DATABASE_REPLICA_URLS=urls
        )
        assert reloaded.DATABASE_REPLICAS == ["replica_1", "replica_2"]
        second = reloaded.DATABASES["replica_2"]
        assert (second["HOST"], second["PORT"], second["USER"]) == ("replica-b", 5433, "reader")
        assert second["OPTIONS"]["options"] == "-c plan_cache_mode=force_generic_plan"
        assert second["TEST"] == {"MIRROR": "default"}
        assert reloaded.DATABASE_ROUTERS == ["disinfo_db.routers.PrimaryReplicaRouter"]
        # The page cache must read the version of the database the middleware chose.
        middleware = reloaded.MIDDLEWARE
        assert middleware.index("disinfo_db.routers.ReplicaMiddleware") + 1 == middleware.index(
            "cases.freshness.cache.DataVersionCacheMiddleware"
        )
    finally:
        os.environ.pop("DATABASE_REPLICA_URLS", None)
        importlib.reload(settings)
