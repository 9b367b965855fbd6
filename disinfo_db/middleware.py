"""Answers for requests that no view should handle as usual: an unknown HTTP method, and
any request while PostgreSQL cannot be reached.

While the database is down, a public page or API read is answered from the page cache if
it kept one for the URL (cases.freshness.cache), however old; anything else gets a 503
with Retry-After: JSON under /api/, a short plain page elsewhere. A write fails as a whole:
each is one transaction, so a lost connection rolls it back.
"""

import psycopg2
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from cases.api.errors import error_body, is_api

INTERFACE_ERRORS = (InterfaceError, psycopg2.InterfaceError)
OPERATIONAL_ERRORS = (OperationalError, psycopg2.OperationalError)
# admin_shutdown, crash_shutdown, cannot_connect_now
SERVER_GOING_AWAY = {"57P01", "57P02", "57P03"}
ALLOWED_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")

UNAVAILABLE = "The database is unreachable for a moment. Try again in a few seconds."
# A write is one transaction: cut off, it is rolled back. (Only a connection lost in the
# instant of its commit can leave the client unsure: docs/deployment.md.)
UNAVAILABLE_WRITE = (
    "The database is unreachable for a moment, so the change was not saved. "
    "Try again in a few seconds."
)


def database_unreachable(exception):
    """Whether `exception` says the database could not be reached or the connection broke.

    psycopg2's errors reach here wrapped in Django's (django.db.utils) or, raised outside
    Django's wrapper, as they are. A lost connection has no SQLSTATE (the client found it),
    or one of class 08, or says the server is shutting down or starting. Other operational
    errors (a statement cancelled, a query too complex) are the request's own.
    """
    if isinstance(exception, INTERFACE_ERRORS):
        return True
    if not isinstance(exception, OPERATIONAL_ERRORS):
        return False
    code = getattr(exception, "pgcode", None) or getattr(exception.__cause__, "pgcode", None)
    return code is None or code.startswith("08") or code in SERVER_GOING_AWAY


def unavailable_response(request):
    """503 with Retry-After, never kept by any cache."""
    retry_after = str(settings.OUTAGE_RETRY_AFTER)
    writing = request.method not in ("GET", "HEAD", "OPTIONS")
    if is_api(request):
        message = UNAVAILABLE_WRITE if writing else UNAVAILABLE
        response = JsonResponse(error_body(503, message), status=503)
    else:
        html = render_to_string("503.html", {"retry_after": retry_after, "writing": writing})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = retry_after
    response["Cache-Control"] = "no-store"
    response.database_unreachable = True
    return response


class DatabaseOutageMiddleware:
    """A view that failed for want of the database answers 503 instead of 500.

    Errors raised by other middleware (a session saved after the view) reach handler500,
    which answers the same (cases.api.errors.server_error); the page cache middleware then
    serves a kept page in place of either, when it has one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if database_unreachable(exception):
            return unavailable_response(request)
        return None


class AllowedMethodsMiddleware:
    """405 for methods no view here answers (TRACE, CONNECT, made-up ones).

    Django's function views answer whatever method they are sent; this list is the
    project's, so a TRACE never echoes a 200.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ALLOWED_METHODS:
            return self.get_response(request)
        message = f'Method "{request.method}" not allowed.'
        if is_api(request):
            response = JsonResponse(error_body(405, message), status=405)
        else:
            response = HttpResponse(message, status=405, content_type="text/plain; charset=utf-8")
        response["Allow"] = ", ".join(ALLOWED_METHODS)
        return response
