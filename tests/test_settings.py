import importlib
import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

from disinfo_db import settings


def reload_settings(**environ):
    with mock.patch.dict(os.environ, environ):
        return importlib.reload(settings)


def test_cache_url_puts_the_shared_cache_and_the_kept_pages_in_redis():
    try:
        reloaded = reload_settings(CACHE_URL="redis://127.0.0.1:6379/3")
        redis = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/3",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
        assert {
            "default": redis,
            "pages": {**redis, "KEY_PREFIX": "pages", "TIMEOUT": 86400},
        } == reloaded.CACHES
        assert reloaded.PAGE_CACHE_ALIAS == "pages"
    finally:
        os.environ.pop("CACHE_URL", None)
        importlib.reload(settings)


def test_a_cache_url_that_is_not_redis_is_refused():
    try:
        with pytest.raises(ImproperlyConfigured, match="CACHE_URL"):
            reload_settings(CACHE_URL="memcached://127.0.0.1:11211")
    finally:
        os.environ.pop("CACHE_URL", None)
        importlib.reload(settings)


def test_without_cache_url_each_process_keeps_its_own_cache_and_pages():
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    assert settings.PAGE_CACHE_ALIAS is None


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


# --- Production settings: manage.py check --deploy ------------------------------------

BASE_DIR = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k" + "".join(chr(ord("a") + n % 26) for n in range(7, 70)),
    "DJANGO_ALLOWED_HOSTS": "disinfo.example",
}


def check_deploy(**environ):
    """What `manage.py check --deploy` says with these variables, and its exit status."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "DISINFO_"))
    }
    env.update(environ)
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    return done.returncode, done.stdout + done.stderr


def compose_environment():
    """The web service's variables in docker-compose.yml, ${NAME:-default} as its default."""
    service = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())["services"]["web"]
    return {
        name: re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))
        for name, value in service["environment"].items()
    }


def test_check_deploy_is_clean_with_the_documented_production_settings():
    status, output = check_deploy(**PRODUCTION)
    assert status == 0, output
    assert "no issues" in output


def test_check_deploy_is_clean_behind_a_proxy_that_redirects_to_https_itself():
    status, output = check_deploy(
        **PRODUCTION, DJANGO_BEHIND_PROXY="1", DJANGO_SECURE_SSL_REDIRECT="0"
    )
    assert status == 0, output


def test_check_deploy_is_clean_with_the_docker_compose_settings():
    environ = compose_environment()
    # The API schema's check reads the database: this machine's, not the compose network's.
    environ["DATABASE_URL"] = os.environ.get("DATABASE_URL", "")
    assert environ["DJANGO_DEBUG"] == "0"
    status, output = check_deploy(**environ)
    assert status == 0, output


def test_check_deploy_warns_when_cookies_may_travel_over_plain_http():
    status, output = check_deploy(**PRODUCTION, DJANGO_SECURE_COOKIES="0")
    assert status != 0
    assert "security.W012" in output
    assert "security.W016" in output


def test_production_redirects_to_https_and_sends_hsts_for_an_hour_by_default():
    try:
        production = reload_settings(**PRODUCTION)
        assert production.SECURE_SSL_REDIRECT is True
        assert production.SECURE_HSTS_SECONDS == 3600
        assert production.SECURE_HSTS_INCLUDE_SUBDOMAINS is True
        assert production.SESSION_COOKIE_SECURE and production.CSRF_COOKIE_SECURE
        assert not hasattr(production, "SECURE_PROXY_SSL_HEADER")
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


def test_behind_a_proxy_the_forwarded_scheme_and_host_are_trusted():
    try:
        proxied = reload_settings(**PRODUCTION, DJANGO_BEHIND_PROXY="1", DJANGO_HSTS_SECONDS="0")
        assert proxied.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
        assert proxied.USE_X_FORWARDED_HOST is True
        assert proxied.SECURE_HSTS_SECONDS == 0
    finally:
        for name in ("DJANGO_BEHIND_PROXY", *PRODUCTION):
            os.environ.pop(name, None)
        importlib.reload(settings)


def test_the_content_security_policy_allows_no_inline_script_or_style():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    for name in ("script-src", "style-src", "default-src"):
        assert "'unsafe-inline'" not in directives[name]
        assert "'unsafe-eval'" not in directives[name]


def test_docker_compose_keeps_pages_in_its_own_bounded_redis():
    services = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())["services"]
    assert compose_environment()["CACHE_URL"] == "redis://redis:6379/0"
    assert "--maxmemory-policy allkeys-lru" in services["redis"]["command"]
    assert services["web"]["depends_on"]["redis"] == {"condition": "service_healthy"}
