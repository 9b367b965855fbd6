"""Reads from streaming replicas, writes to the primary (DATABASE_REPLICA_URLS).

Without replicas nothing here is installed and every read goes to "default", the primary.
With them (settings.py names them replica_1, replica_2, …):

- ReplicaMiddleware chooses one database per request, and every read of that request goes
  there: the ORM's through PrimaryReplicaRouter, the read models' raw SQL through
  read_connection(). So the data version a request reads, which keys the page cache and
  the facet index (cases.freshness), comes from the database its data came from: a page
  made on a lagging replica is kept under that replica's older version.
- Writes always go to the primary, and so does every read of a request that is not a GET,
  HEAD or OPTIONS, or that is for the admin.
- Read-your-writes: after a write, the client reads from the primary for
  DATABASE_REPLICA_PIN_SECONDS, remembered by a cookie for browsers and by its
  Authorization header in the cache (shared by all web nodes when CACHE_URL is set) for
  API clients.
- Each process reads from one replica (chosen by its pid), so it keeps one facet index for
  it and, when pinned requests come, one for the primary. A replica that cannot be
  reached is passed over for DATABASE_REPLICA_RETRY_SECONDS, and reads go to the next one
  or to the primary. A request whose replica fails while it is answered (the server went
  away since the connection was opened) is answered again from the primary: a read is
  safe to repeat, and no round trip is spent checking a kept connection beforehand.
"""

import hashlib
import logging
import os
import threading
import time
from contextlib import contextmanager, suppress

from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

PIN_COOKIE = "disinfo_primary"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PRIMARY_ONLY_PREFIXES = ("/admin/",)

_state = threading.local()
# Replica alias -> time.monotonic() before which it is not tried again.
_down_until = {}


def replica_aliases():
    return list(getattr(settings, "DATABASE_REPLICAS", ()))


def read_alias():
    """The database this thread reads from now: a request's choice, else the primary."""
    return getattr(_state, "alias", DEFAULT_DB_ALIAS)


def read_connection():
    """The connection the read models' raw SQL runs on (read_alias())."""
    return connections[read_alias()]


@contextmanager
def reading_from(alias):
    before = read_alias()
    _state.alias = alias
    try:
        yield
    finally:
        _state.alias = before


def _forget_request_choice(**kwargs):
    # After the response is closed: a streamed body (a CSV export) is still read from the
    # request's database while it is sent.
    _state.alias = DEFAULT_DB_ALIAS


request_finished.connect(_forget_request_choice, dispatch_uid="disinfo_replica_choice")


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replicas hold the same data as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def _reachable(alias):
    """Can the replica be read? A connection is opened if there is none."""
    if time.monotonic() < _down_until.get(alias, 0):
        return False
    try:
        connections[alias].ensure_connection()
        return True
    except DatabaseError as error:
        _set_aside(alias, error)
        return False


def _set_aside(alias, error):
    retry = getattr(settings, "DATABASE_REPLICA_RETRY_SECONDS", 5)
    logger.warning("replica %s failed, not read for %ss: %s", alias, retry, error)
    _down_until[alias] = time.monotonic() + retry
    with suppress(DatabaseError):
        connections[alias].close()


def process_read_alias():
    """The replica this process reads from, the next reachable one if it is down, or the
    primary when none is."""
    replicas = replica_aliases()
    if not replicas:
        return DEFAULT_DB_ALIAS
    first = os.getpid() % len(replicas)
    for alias in replicas[first:] + replicas[:first]:
        if _reachable(alias):
            return alias
    return DEFAULT_DB_ALIAS


def _pin_key(authorization):
    return "replica-pin:" + hashlib.blake2b(authorization.encode(), digest_size=16).hexdigest()


def is_pinned(request):
    """Did this client write within the last DATABASE_REPLICA_PIN_SECONDS?"""
    try:
        if float(request.COOKIES.get(PIN_COOKIE, 0)) > time.time():
            return True
    except ValueError:
        pass
    authorization = request.META.get("HTTP_AUTHORIZATION")
    if not authorization:
        return False
    try:
        return cache.get(_pin_key(authorization)) is not None
    except (RedisError, OSError) as error:
        # Without the pins, the primary: it has every write.
        logger.warning("The read-your-writes pins failed (%s): reading the primary.", error)
        return True


def pin(request, response):
    seconds = getattr(settings, "DATABASE_REPLICA_PIN_SECONDS", 10)
    response.set_cookie(
        PIN_COOKIE,
        str(int(time.time() + seconds)),
        max_age=seconds,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    authorization = request.META.get("HTTP_AUTHORIZATION")
    if authorization:
        try:
            cache.set(_pin_key(authorization), 1, seconds)
        except (RedisError, OSError) as error:
            # The write stands; while the cache is down, is_pinned() reads the primary.
            logger.warning("The cache of read-your-writes pins failed (%s).", error)


def primary_required(request):
    return (
        request.method not in SAFE_METHODS
        or request.path.startswith(PRIMARY_ONLY_PREFIXES)
        or is_pinned(request)
    )


class ReplicaMiddleware:
    """Chooses the database a request reads from; pins a client that wrote to the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        alias = DEFAULT_DB_ALIAS if primary_required(request) else process_read_alias()
        _state.alias = alias
        response = self.get_response(request)
        if (
            alias != DEFAULT_DB_ALIAS
            and response.status_code >= 500
            and connections[alias].errors_occurred
        ):
            _set_aside(alias, "a request failed on it")
            _state.alias = DEFAULT_DB_ALIAS
            response = self.get_response(request)
        if request.method not in SAFE_METHODS:
            pin(request, response)
        return response
