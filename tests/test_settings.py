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
