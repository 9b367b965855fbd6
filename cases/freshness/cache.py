"""Whole public pages kept in memory, each with the data version it was made at.

An anonymous GET of a public page is a pure function of its URL and of the data, and the
data version (cases.freshness.dataversion) moves forward on every committed write. So a
response can be kept until the version moves, with no expiry to tune and no invalidation
code: after a write a kept page no longer matches the committed version, and the next answer
for its URL replaces it.

Each response also carries an ETag made of the version and the URL, so a browser, a
reverse proxy or a CDN can revalidate with If-None-Match and get a 304.

A page's language is in its URL (/ru/cases/, disinfo_db/i18n.py), so the URL keys it too;
the language cookie only decides redirects made before this middleware, and is ignored.

What is never kept: requests with other cookies or credentials (editors, sessions, API tokens),
anything but GET, responses that set cookies or are streamed (but for the list page, sent
in parts and kept whole once its last part is sent: cases.site.streaming), errors, the
admin, exports, pages carrying a CSP nonce, and answers computed while the connection had
uncommitted writes of its own.

While the database is unreachable, a kept page is answered whatever version it was made
at, marked with X-Served-Stale and a Warning header; a URL with nothing kept gets the 503
of disinfo_db.middleware.

Where pages are kept. With settings.PAGE_CACHE_ALIAS naming a Django cache (the Redis of
CACHE_URL), in that cache, so that a page one web process or machine made answers the
same URL's repeats on all of them, keyed on this release of the code too (a deploy must not
answer with its predecessor's pages); without, in the process's own memory. A shared cache
that fails is skipped for a few seconds: the pages are computed, and the failure is logged.
The database stays the judge of freshness either way: a kept page is answered only if the
version it was made at is the committed one.
"""

import functools
import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe

from cases.freshness.dataversion import read_version, version_for_request
from disinfo_db.i18n import unprefixed_path
from disinfo_db.middleware import database_unreachable, unavailable_response

# Paths whose anonymous GETs may be kept; exports stream and are never kept.
CACHED_PREFIXES = ("/cases/", "/api/v1/", "/stats/", "/keywords/", "/countries/",
                   "/languages/", "/outlets/", "/issues/", "/corrections/", "/match/")  # fmt: skip
NEVER_CACHED_PREFIXES = ("/cases/export/",)
MAX_RESPONSE_BYTES = 2 * 1024 * 1024
# Marks an answer kept from before the database became unreachable.
STALE_HEADER = "X-Served-Stale"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# After the shared cache fails, requests leave it alone this long instead of each waiting
# for it in turn.
SHARED_RETRY_SECONDS = 5

logger = logging.getLogger(__name__)


class _LRU:
    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.items = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            kept = self.items.get(key)
            if kept is None:
                return None
            self.items.move_to_end(key)
            return kept[0]

    def put(self, key, item, size):
        """Keep `item` under `key`, in place of what was kept there (an older version's)."""
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            self.items[key] = (item, size)
            self.bytes += size
            while self.bytes > self.max_bytes and self.items:
                _, (_, dropped) = self.items.popitem(last=False)
                self.bytes -= dropped

    def clear(self):
        with self.lock:
            self.items.clear()
            self.bytes = 0


class _Shared:
    """Kept pages in the Django cache `alias` (Redis), seen by every process that uses it.

    One entry per URL (with scheme, host and Accept), replaced when the page is made again
    at a newer version; entries expire after the cache's TIMEOUT, and Redis's maxmemory
    policy bounds them (docs/deployment.md).
    """

    def __init__(self, alias):
        self.alias = alias
        self.skip_until = 0.0

    def get(self, key):
        return self._call("get", _shared_key(key))

    def put(self, key, item, size):
        self._call("set", _shared_key(key), item)

    def clear(self):
        """Nothing: other processes share these pages, and a new release keys its own."""

    def _call(self, method, *args):
        from redis.exceptions import RedisError

        if time.monotonic() < self.skip_until:
            return None
        try:
            return getattr(caches[self.alias], method)(*args)
        except (RedisError, OSError) as error:
            self.skip_until = time.monotonic() + SHARED_RETRY_SECONDS
            logger.warning(
                "The shared page cache %r failed (%s): pages are computed without it for %s s.",
                self.alias,
                error,
                SHARED_RETRY_SECONDS,
            )
            return None


_responses = _LRU(getattr(settings, "PAGE_CACHE_BYTES", DEFAULT_MAX_BYTES))
_shared = {}


def _store():
    """Where pages are kept: the shared cache settings.PAGE_CACHE_ALIAS names, or memory."""
    alias = getattr(settings, "PAGE_CACHE_ALIAS", None)
    if alias is None:
        return _responses
    if alias not in _shared:
        _shared[alias] = _Shared(alias)
    return _shared[alias]


# What a release's pages are made of: its code, templates, translations and static files.
RELEASE_SOURCES = ("cases", "disinfo_db", "templates", "locale", "static")
RELEASE_SUFFIXES = {".py", ".html", ".txt", ".xml", ".mo", ".css", ".js", ".svg"}


@functools.cache
def release():
    """This release of the code, as the shared cache keys it: DISINFO_RELEASE if set (a
    version or commit id), else a digest of the files pages are made from, the same on
    every machine that runs the same code."""
    if os.environ.get("DISINFO_RELEASE"):
        return os.environ["DISINFO_RELEASE"]
    digest = hashlib.blake2b(digest_size=8)
    base = Path(settings.BASE_DIR)
    for name in RELEASE_SOURCES:
        for path in sorted((base / name).rglob("*")):
            if path.suffix in RELEASE_SUFFIXES and "__pycache__" not in path.parts:
                digest.update(path.relative_to(base).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _shared_key(key):
    return hashlib.blake2b(repr((release(), *key)).encode(), digest_size=16).hexdigest()


def _timestamp(http_date):
    return parse_http_date_safe(http_date) if http_date else None


def clear():
    """Forget the pages this process keeps in memory (a shared cache's are left alone)."""
    _responses.clear()


def _cacheable_request(request):
    path = unprefixed_path(request.path)
    cookies = request.COOKIES
    return (
        request.method == "GET"
        and (not cookies or cookies.keys() == {settings.LANGUAGE_COOKIE_NAME})
        and "HTTP_AUTHORIZATION" not in request.META
        and path.startswith(CACHED_PREFIXES)
        and not path.startswith(NEVER_CACHED_PREFIXES)
    )


def _cacheable_response(response):
    """Whether `response` may be kept; a progressive page's size is checked once complete."""
    return (
        response.status_code == 200
        and (_progressive(response) or not response.streaming)
        and not response.cookies
        and "no-store" not in response.get("Cache-Control", "")
        and "private" not in response.get("Cache-Control", "")
        and (response.streaming or len(response.content) <= MAX_RESPONSE_BYTES)
    )


def _progressive(response):
    """A page streamed in parts, whose later parts still read the data (the list page's
    count and facets: cases.site.streaming); other streamed answers (exports) are never kept."""
    return response.streaming and getattr(response, "progressive", False)


class DataVersionCacheMiddleware:
    """Answers a kept page if the version it was kept at is still the committed one.

    A page not kept yet costs no reading of its own: the view's first query reads the
    version just before it, or with it (cases.freshness.dataversion.version_for_request).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not getattr(settings, "PAGE_CACHE", True) or not _cacheable_request(request):
            return self.get_response(request)
        key = _key(request)
        store = _store()
        kept = store.get(key)
        if kept is None and "If-None-Match" not in request.headers:
            with version_for_request() as reading:
                response = self.get_response(request)
            return self.keep(request, key, response, reading.state, store)
        try:
            state = read_version()
        except DatabaseError as error:
            if not database_unreachable(error):
                raise
            return _stale(request, kept) if kept else unavailable_response(request)
        if state.own_pending:
            return self.get_response(request)
        etag = _etag(state, key)
        if etag in request.headers.get("If-None-Match", ""):
            return HttpResponseNotModified(headers={"ETag": etag})
        if kept is not None and kept[0] == state.version:
            return _answer(request, kept)
        with version_for_request(state):  # the view's facet counts reuse this reading
            response = self.get_response(request)
        if kept is not None and getattr(response, "database_unreachable", False):
            return _stale(request, kept)
        return self.keep(request, key, response, state, store)

    def keep(self, request, key, response, state, store):
        """Keep a cacheable response with `state`, the request's reading of the version.

        None means the request sent no query, so read no data: a version read now is as
        good as one read before.
        """
        if _progressive(response) and state is not None:
            # The later parts are made after this returns: they read with the same reading.
            response.streaming_content = _with_reading(state, response.streaming_content)
        if not _cacheable_response(response) or _used_a_nonce(request):
            return response
        if state is None:
            try:
                state = read_version()
            except DatabaseError as error:
                if not database_unreachable(error):
                    raise
                return response  # the answer stands; only keeping it needs the version
        if state.own_pending:
            return response
        if not response.has_header("ETag"):
            response["ETag"] = _etag(state, key)
        if response.streaming:
            response.streaming_content = _kept_once_complete(
                response.streaming_content, state, response, key, store
            )
            return response
        item = (state.version, response.content, response.status_code, list(response.items()))
        store.put(key, item, len(response.content))
        return response


def _with_reading(state, chunks):
    """`chunks`, each made within the request's reading of the version, as the view's first
    part was: the count and facets are those of the version the page is kept at. The
    reading is set for each step only, never left on the thread between two."""
    chunks = iter(chunks)
    while True:
        with version_for_request(state):
            chunk = next(chunks, None)
        if chunk is None:
            return
        yield chunk


def _kept_once_complete(chunks, state, response, key, store):
    """`chunks` as they come; the whole page is kept after the last one. A page whose
    making failed part way (the error propagates) is never kept, nor one too large."""
    body = []
    size = 0
    for chunk in chunks:
        body.append(chunk)
        size += len(chunk)
        yield chunk
    if size <= MAX_RESPONSE_BYTES:
        # Answered whole from now on, with the length a whole page has (CommonMiddleware,
        # inside this one, sets it on the pages it sees whole).
        headers = [*response.items(), ("Content-Length", str(size))]
        store.put(key, (state.version, b"".join(body), response.status_code, headers), size)


def _used_a_nonce(request):
    """Whether the page carries this request's CSP nonce (the browsable API's): a nonce
    must be new on every answer, so such a page is never kept."""
    return bool(getattr(request, "csp_nonce", None))


def _key(request):
    """What a kept answer is for. The scheme and host are part of it: pages carry absolute
    URLs (canonical, Open Graph, JSON-LD, feeds) made from the request's own.

    Of the headers pages Vary on, Accept is here; the others cannot change a kept answer:
    the language is in the path (Accept-Language and the language cookie only redirect,
    before this middleware), a request with any other cookie is never kept, and the CORS
    headers (Origin) are added outside this middleware, to kept answers too."""
    return (
        request.scheme,
        request.get_host(),
        request.get_full_path(),
        request.headers.get("Accept", ""),
    )


def _answer(request, kept):
    _, content, status, headers = kept
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response[name] = value
    # The view's own validators (an API ETag, Last-Modified) answer as the view would.
    return get_conditional_response(
        request,
        etag=response.get("ETag"),
        last_modified=_timestamp(response.get("Last-Modified")),
        response=response,
    )


def _stale(request, kept):
    """A kept answer, whatever version it was made at: the database cannot be asked."""
    response = _answer(request, kept)
    response[STALE_HEADER] = "1"
    response["Warning"] = '110 - "Response is Stale"'
    return response


def _etag(state, key):
    digest = hashlib.blake2b(repr((state.version, *key)).encode(), digest_size=8).hexdigest()
    return f'"v{state.version}-{digest}"'
