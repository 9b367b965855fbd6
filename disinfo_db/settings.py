"""Settings for Disinfo DB, read from environment variables.

DATABASE_URL      a PostgreSQL URL; unset means the embedded server in .pgdata/ (make db-start)
DJANGO_DEBUG      "1" for development (the default), "0" in production
DJANGO_SECRET_KEY required when DJANGO_DEBUG=0
DJANGO_ALLOWED_HOSTS  comma-separated, required when DJANGO_DEBUG=0
CACHE_URL         optional redis:// URL shared by all web processes (API throttling)
DISINFO_API_ANON_RATE requests an anonymous API client may make, e.g. "1000/hour" (the default);
                      empty for no limit
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"

if DEBUG:
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-development-key-only")
    ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
else:
    SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
    ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "cases",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before the page cache: an unprefixed page asked for in another language is redirected
    # to its prefixed URL, so a kept English page is never served for it (disinfo_db/i18n.py).
    "disinfo_db.i18n.PreferredLanguageRedirectMiddleware",
    # Anonymous GETs of public pages, kept until the next write (cases/freshness/cache.py).
    "cases.freshness.cache.DataVersionCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of a page is its URL's prefix (/ru/cases/), English without one.
    "django.middleware.locale.LocaleMiddleware",
    # Before CommonMiddleware, so that redirects carry the CORS headers too.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records who made each change in the case history.
    "simple_history.middleware.HistoryRequestMiddleware",
]

if not DEBUG:
    # Serves the collected, compressed static files; `runserver` serves them in development.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "disinfo_db.urls"

# The public pages (templates/) are Jinja2 templates (disinfo_db/jinja2.py); the admin, the
# API's pages and the apps' own templates (cases/templates/ holds the admin's) are Django's.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "disinfo_db.jinja2.environment",
            "context_processors": ["cases.site.context_processors.site"],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cases.site.context_processors.site",
            ],
        },
    },
]

WSGI_APPLICATION = "disinfo_db.wsgi.application"

# Each process keeps its connection for ten minutes. A new connection is a new server
# process with cold caches, and its prepared statements (cases.readmodels.prepared) are
# planned again: the first request on it took 15-80 ms instead of 2-5.
CONN_MAX_AGE = 600

if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=CONN_MAX_AGE)
    }
else:
    # The embedded server from `make db-start` listens only on a socket in .pgdata/.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "disinfo",
            "USER": "postgres",
            "HOST": str(BASE_DIR / ".pgdata"),
            "CONN_MAX_AGE": CONN_MAX_AGE,
        }
    }
# The statements cases.readmodels.prepared prepares are planned once per connection and
# reused. Left to choose, PostgreSQL plans a statement again on every run when a custom plan
# looks cheaper than the generic one, as it does for the API's JSON of one case: planning
# then took as long as running it. Django itself prepares nothing on the server.
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault("options", "-c plan_cache_mode=force_generic_plan")

FORMS_URLFIELD_ASSUME_HTTPS = True

# Sessions live in the database, and the cache (API throttling counters) in Redis when
# CACHE_URL names one, so any number of web processes can serve any request.
if os.environ.get("CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The derived reads, both on in production; tests switch them off to compare with the
# plain answers. The per-process bitmap index of published cases (cases.facets), and whole
# anonymous pages kept until the next committed write (cases.freshness.cache).
FACET_INDEX = True
PAGE_CACHE = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The public pages' languages (locale/, make messages); case texts stay in their own.
LANGUAGES = [
    ("en", "English"),
    ("ru", "Русский"),
    ("uk", "Українська"),
    ("de", "Deutsch"),
    ("fr", "Français"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates as the site always wrote them ("10 January 2022"); other languages use
# Django's own formats.
FORMAT_MODULE_PATH = ["disinfo_db.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Partner tools send "Authorization: Token <key>"; keys are managed in the admin.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PERMISSION_CLASSES": ["cases.api.permissions.ModelPermissionsOrReadOnly"],
    # DRF's parsers, with JSON nested too deeply refused (a 400, not a RecursionError).
    "DEFAULT_PARSER_CLASSES": [
        "cases.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "cases.api.pagination.CursorPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": ["cases.api.throttling.AnonymousRateThrottle"],
    "EXCEPTION_HANDLER": "cases.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "cases.api.schema.AutoSchema",
}
DISINFO_API_ANON_RATE = os.environ.get("DISINFO_API_ANON_RATE", "1000/hour")

SPECTACULAR_SETTINGS = {
    "TITLE": "Disinfo DB API",
    "DESCRIPTION": (
        "Disinformation cases and their keywords, countries, languages, outlets and review "
        "issues. Read without credentials; editors write with a token. Guide: docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Tag operations by resource (cases, keywords, …) rather than by "v1".
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Separate request and response components: what editors send differs from what is shown.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cases.api.schema.add_tombstone_component",
        "cases.api.schema.add_format_operations",
    ],
}

# Browser-based partner tools may read the API from any origin; writes stay same-origin.
CORS_ALLOW_ALL_ORIGINS = True
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_EXPOSE_HEADERS = ["ETag", "Last-Modified", "Retry-After", "Link", "Location"]

# Shown in page footers and as the author of ClaimReview markup.
SITE_NAME = os.environ.get("DISINFO_SITE_NAME", "Disinfo DB")
SITE_ORGANISATION = os.environ.get("DISINFO_ORGANISATION", "Disinfo DB")
SITE_URL = os.environ.get("DISINFO_SITE_URL", "http://127.0.0.1:8000")

# Claim matching's optional semantic tier: a local model2vec model directory (nothing is
# downloaded). Unset, matching is lexical only (cases.search.semantic).
DISINFO_EMBEDDING_MODEL = os.environ.get("DISINFO_EMBEDDING_MODEL", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

if not DEBUG:
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SESSION_COOKIE_SECURE = os.environ.get("DJANGO_SECURE_COOKIES", "1") == "1"
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
