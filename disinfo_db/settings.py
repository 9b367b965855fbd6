"""Settings for Disinfo DB, read from environment variables.

DATABASE_URL      a PostgreSQL URL; unset means the embedded server in .pgdata/ (make db-start)
DATABASE_REPLICA_URLS  optional comma-separated URLs of streaming replicas of DATABASE_URL's
                       server; reads go there, writes to the primary (disinfo_db/routers.py)
DATABASE_REPLICA_PIN_SECONDS  how long a client that wrote reads from the primary (10)
DJANGO_DEBUG      "1" for development (the default), "0" in production
DJANGO_SECRET_KEY required when DJANGO_DEBUG=0
DJANGO_ALLOWED_HOSTS  comma-separated, required when DJANGO_DEBUG=0
CACHE_URL         optional redis:// (rediss://, unix://) URL shared by all web processes: kept
                  pages (the page cache), API throttling, read-your-writes pins
DISINFO_PAGE_CACHE_SECONDS  how long Redis keeps a page nobody asks for again (86400)
DISINFO_RELEASE   optional name of the deployed release (a version or commit id); kept pages
                  in Redis are keyed on it (by default, on a digest of the code and templates)
DISINFO_API_ANON_RATE requests an anonymous API client may make, e.g. "1000/hour" (the default);
                      empty for no limit
DISINFO_FEED_TAG_YEAR the year in the feeds' entry ids (tag URIs); 2026 unless set
DISINFO_REQUIRE_2FA   "1": staff must sign in to the admin with a TOTP code (default "0":
                      only those who set up a device)
DISINFO_LOGIN_FAILURE_LIMIT   failed sign-ins from one address for one username before it is
                              locked out (default 5)
DISINFO_LOGIN_COOLOFF_MINUTES how long such a lockout lasts (default 15)
DISINFO_PROXY_COUNT   the number of proxies in front of Django when DJANGO_BEHIND_PROXY=1
                      (default 1): the client's address is the X-Forwarded-For entry the
                      first one added (login lockouts and the token log)

With DJANGO_DEBUG=0 (docs/deployment.md, "Proxy and HTTPS"):
DJANGO_BEHIND_PROXY   "1" behind a reverse proxy that terminates TLS and sets X-Forwarded-Proto,
                      X-Forwarded-Host and X-Forwarded-For (and strips them from what clients
                      send)
DJANGO_SECURE_SSL_REDIRECT  "1" (the default): plain-http requests are redirected to https;
                      "0" when the proxy redirects them itself
DJANGO_HSTS_SECONDS   Strict-Transport-Security max-age, 3600 by default; raise it to a year
                      once https works everywhere; 0 to send none
DJANGO_HSTS_INCLUDE_SUBDOMAINS  "1" (the default) or "0"
DJANGO_HSTS_PRELOAD   "0" (the default) or "1", once the domain is to be on browsers' lists
DJANGO_SECURE_COOKIES "1" (the default): session and CSRF cookies only over https
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from corsheaders.defaults import default_headers as default_cors_headers
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"

if DEBUG:
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-development-key-only")
    ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
else:
    SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
    ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")

INSTALLED_APPS = [
    # Django's admin, with a sign-in that asks for a TOTP code (cases.admin_site).
    "cases.admin_config.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    # Before rest_framework: its templates/rest_framework/api.html replaces DRF's.
    "cases",
    "rest_framework",
    "django_filters",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside the page cache, so that kept answers get the policy too; a nonce is only in
    # the header of a page that used one (the admin, the API docs), and those are not kept.
    "csp.middleware.CSPMiddleware",
    # TRACE, CONNECT and made-up methods: 405 before any view sees them.
    "disinfo_db.middleware.AllowedMethodsMiddleware",
    # Outside the page cache, so that kept answers and their 304s carry the CORS headers
    # too; before CommonMiddleware, so that redirects do.
    "corsheaders.middleware.CorsMiddleware",
    # Shared links' tracking parameters (utm_*, fbclid, ...): the site redirects to the URL
    # without them, before the page cache keys a page on them (cases/site/tracking.py).
    "cases.site.tracking.TrackingParametersMiddleware",
    # Before the page cache: an unprefixed page asked for in another language is redirected
    # to its prefixed URL, so a kept English page is never served for it (disinfo_db/i18n.py).
    "disinfo_db.i18n.PreferredLanguageRedirectMiddleware",
    # Anonymous GETs of public pages, kept until the next write (cases/freshness/cache.py).
    "cases.freshness.cache.DataVersionCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of a page is its URL's prefix (/ru/cases/), English without one.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): signed in with a TOTP code in this session.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records who made each change in the case history.
    "simple_history.middleware.HistoryRequestMiddleware",
    # The database unreachable: a view's error becomes a 503 (or a kept page, see above).
    "disinfo_db.middleware.DatabaseOutageMiddleware",
    # Last, as django-axes asks: answers a locked-out sign-in with its page.
    "axes.middleware.AxesMiddleware",
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

# Streaming replicas of the primary: safe requests read from one of them (disinfo_db/routers.py).
DATABASE_REPLICAS = []
for number, url in enumerate(os.environ.get("DATABASE_REPLICA_URLS", "").split(","), start=1):
    if not url.strip():
        continue
    replica = dj_database_url.parse(url.strip(), conn_max_age=CONN_MAX_AGE)
    replica.setdefault("OPTIONS", {})
    replica["OPTIONS"].setdefault("options", DATABASES["default"]["OPTIONS"]["options"])
    # A replica that is down is noticed in seconds, and reads go elsewhere.
    replica["OPTIONS"].setdefault("connect_timeout", 2)
    # Tests run against the primary's test database only.
    replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{number}"] = replica
    DATABASE_REPLICAS.append(f"replica_{number}")
if DATABASE_REPLICAS:
    DATABASE_ROUTERS = ["disinfo_db.routers.PrimaryReplicaRouter"]
    # Before the page cache, which reads the data version of the database chosen here.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("cases.freshness.cache.DataVersionCacheMiddleware"),
        "disinfo_db.routers.ReplicaMiddleware",
    )
DATABASE_REPLICA_PIN_SECONDS = int(os.environ.get("DATABASE_REPLICA_PIN_SECONDS", "10"))
DATABASE_REPLICA_RETRY_SECONDS = 5

FORMS_URLFIELD_ASSUME_HTTPS = True

# Sessions live in the database, and the cache (kept pages, API throttling counters) in
# Redis when CACHE_URL names one, so any number of web processes can serve any request.
# Redis must answer quickly or be passed over: short socket timeouts (cases.freshness.cache
# computes pages without it, the API throttle lets requests through).
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("CACHE_URL must be a redis://, rediss:// or unix:// URL.")
    _redis = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    CACHES = {
        "default": _redis,
        "pages": {
            **_redis,
            "KEY_PREFIX": "pages",
            "TIMEOUT": int(os.environ.get("DISINFO_PAGE_CACHE_SECONDS", "86400")),
        },
    }
    # The page cache (cases.freshness.cache) keeps whole pages there, shared by every
    # process and machine; without CACHE_URL, each process keeps its own in memory.
    PAGE_CACHE_ALIAS = "pages"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    PAGE_CACHE_ALIAS = None

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The derived reads, both on in production; tests switch them off to compare with the
# plain answers. The per-process bitmap index of published cases (cases.facets), and whole
# anonymous pages kept until the next committed write (cases.freshness.cache).
FACET_INDEX = True
PAGE_CACHE = True

# Sign-in throttling (django-axes): after DISINFO_LOGIN_FAILURE_LIMIT failures for one
# username from one address, that pair is locked out for the cool-off. Keyed on the pair, so
# that someone elsewhere guessing an editor's password cannot lock the editor out; the cost
# is that an attacker with many addresses gets that many tries per address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = int(os.environ.get("DISINFO_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(
    minutes=int(os.environ.get("DISINFO_LOGIN_COOLOFF_MINUTES", "15"))
)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# The sign-in log in the admin: every failure (with whether it was locked out) beside the
# successes axes records anyway.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# The client's address, for lockouts and the token log: REMOTE_ADDR, or behind proxies the
# X-Forwarded-For entry the first proxy added (cases.client_ip).
if os.environ.get("DJANGO_BEHIND_PROXY", "0") == "1":
    AXES_CLIENT_IP_CALLABLE = "cases.client_ip.forwarded_client_ip"
DISINFO_PROXY_COUNT = int(os.environ.get("DISINFO_PROXY_COUNT", "1"))

# Two-factor sign-in to the admin (django-otp): asked of everyone with a confirmed TOTP
# device, and of all staff when this is on.
DISINFO_REQUIRE_2FA = os.environ.get("DISINFO_REQUIRE_2FA", "0") == "1"
OTP_TOTP_ISSUER = os.environ.get("DISINFO_SITE_NAME", "Disinfo DB")

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

# The largest request body read into memory (Django's default, 2.5 MB): a case at its
# longest (cases.services.editing.TEXT_LIMITS) is a tenth of it. The API answers a larger
# body with a 413 (cases.api.parsers); Django's own forms with a 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Partner tools send "Authorization: Token <key>": hashed, scoped, expiring tokens
        # made in the admin or by `manage.py create_api_token` (cases.api.tokens).
        "cases.api.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PERMISSION_CLASSES": [
        "cases.api.permissions.TokenScopeAllows",
        "cases.api.permissions.ModelPermissionsOrReadOnly",
    ],
    # DRF's parsers; the JSON one refuses bodies nested too deeply, numbers that overflow
    # (400) and bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (413), with the API's JSON error.
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
        "issues. Read without credentials; editors write with a token. "
        "[Guide to the API](/api/guide/)."
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
CORS_URLS_REGEX = r"^/(api|data)/.*$"
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
# Conditional requests from other origins: revalidation (If-None-Match, If-Modified-Since)
# and If-Match, beside the library's default headers.
CORS_ALLOW_HEADERS = (*default_cors_headers, "if-none-match", "if-modified-since", "if-match")
CORS_EXPOSE_HEADERS = ["ETag", "Last-Modified", "Retry-After", "Link", "Location"]

# Shown in page footers and as the author of ClaimReview markup.
SITE_NAME = os.environ.get("DISINFO_SITE_NAME", "Disinfo DB")
SITE_ORGANISATION = os.environ.get("DISINFO_ORGANISATION", "Disinfo DB")
SITE_URL = os.environ.get("DISINFO_SITE_URL", "http://127.0.0.1:8000")
# Feed entries are named tag:<SITE_URL's host>,<this year>:case/<id> (RFC 4151): a year in
# which the site held that host name. Never change it once feeds are published.
FEED_TAG_YEAR = int(os.environ.get("DISINFO_FEED_TAG_YEAR", "2026"))

# Bulk dumps (manage.py build_dumps, served at /data/): where they are written, and the
# licence they are published under (an SPDX id, its title and its text's address).
DUMPS_DIR = Path(os.environ.get("DISINFO_DUMPS_DIR", BASE_DIR / "dumps"))
DATA_LICENCE = os.environ.get("DISINFO_DATA_LICENCE", "CC-BY-4.0")
DATA_LICENCE_TITLE = os.environ.get(
    "DISINFO_DATA_LICENCE_TITLE", "Creative Commons Attribution 4.0 International"
)
DATA_LICENCE_URL = os.environ.get(
    "DISINFO_DATA_LICENCE_URL", "https://creativecommons.org/licenses/by/4.0/"
)

# Claim matching's optional semantic tier: a local model2vec model directory (nothing is
# downloaded). Unset, matching is lexical only (cases.search.semantic).
DISINFO_EMBEDDING_MODEL = os.environ.get("DISINFO_EMBEDDING_MODEL", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Every answer, cached ones included (SecurityMiddleware wraps the page cache).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# No inline script or style anywhere: the public pages load theirs from static/, and the
# pages that need an inline block (the admin's, the API docs') carry this request's nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Seconds a client is asked to wait when the database is unreachable (503 Retry-After).
OUTAGE_RETRY_AFTER = int(os.environ.get("DISINFO_OUTAGE_RETRY_AFTER", "5"))

if os.environ.get("DJANGO_BEHIND_PROXY", "0") == "1":
    # Trust the proxy's word on the scheme and host: request.is_secure(), absolute URLs,
    # the page cache's key and the CSRF origin check follow what the visitor used.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# Load balancers ask for /healthz over plain http, on the inside.
PRODUCTION_REDIRECT_EXEMPT = [r"^healthz$"]

SILENCED_SYSTEM_CHECKS = []
if not DEBUG:
    SESSION_COOKIE_SECURE = os.environ.get("DJANGO_SECURE_COOKIES", "1") == "1"
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = os.environ.get("DJANGO_SECURE_SSL_REDIRECT", "1") == "1"
    SECURE_REDIRECT_EXEMPT = PRODUCTION_REDIRECT_EXEMPT
    if not SECURE_SSL_REDIRECT:
        # The operator said the proxy in front redirects plain http (docs/deployment.md).
        SILENCED_SYSTEM_CHECKS.append("security.W008")
    # Sent on https answers only. An hour by default, so that a mistake costs little.
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "3600"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("DJANGO_HSTS_INCLUDE_SUBDOMAINS", "1") == "1"
    SECURE_HSTS_PRELOAD = os.environ.get("DJANGO_HSTS_PRELOAD", "0") == "1"
    if not SECURE_HSTS_PRELOAD:
        # Preloading asks browsers to hard-code the domain: the operator's decision to make.
        SILENCED_SYSTEM_CHECKS.append("security.W021")
