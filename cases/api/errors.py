"""One JSON shape for every API error.

    {"errors": [{"field": "date_after", "message": "Enter a valid date."}], "status": 400}

`field` names the query parameter or body field at fault, or is null for errors about the
request as a whole (authentication, permissions, throttling, unknown resource).
"""

import sys

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults
from rest_framework.views import exception_handler as drf_exception_handler

from cases.api.parsers import PayloadTooLarge


def _flatten(detail, prefix=""):
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else None
            if prefix and str(name).isdigit():
                # A list item's errors, keyed by position: appearances[0].url
                name = f"{prefix}[{name}]"
            elif prefix and name is not None:
                name = f"{prefix}.{name}"
            elif prefix:
                name = prefix
            yield from _flatten(value, name or "")
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            if isinstance(item, dict):
                yield from _flatten(item, f"{prefix}[{index}]" if prefix else str(index))
            else:
                yield from _flatten(item, prefix)
    else:
        yield {"field": prefix or None, "message": str(detail)}


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        # Django's own check, when something read the body before the API's parser did.
        exc = PayloadTooLarge()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        errors = [{"field": None, "message": str(data["detail"])}]
    else:
        errors = list(_flatten(data))
    response.data = {"status": response.status_code, "errors": errors}
    return response


SERVER_ERROR = "Server error: the request failed on our side. Try again later."
NOT_FOUND = "Not found."
BAD_REQUEST = "Bad request."
FORBIDDEN = "You do not have permission to perform this action."


def is_api(request):
    return request.path.startswith("/api/")


def error_body(status, message):
    """The API's error shape for an error about the request as a whole."""
    return {"status": status, "errors": [{"field": None, "message": message}]}


# Django's error handlers (disinfo_db/urls.py): what reaches them under /api/ (an unknown
# path, a body too big to read, an unexpected error) answers the API's JSON error shape.
# DRF's exception handler above only sees the exceptions raised inside its views.


def bad_request(request, exception, *args, **kwargs):
    if not is_api(request):
        return defaults.bad_request(request, exception, *args, **kwargs)
    status = 413 if type(exception).__name__ == "RequestDataTooBig" else 400
    message = str(exception) if status == 413 else BAD_REQUEST
    return JsonResponse(error_body(status, message), status=status)


def permission_denied(request, exception, *args, **kwargs):
    if not is_api(request):
        return defaults.permission_denied(request, exception, *args, **kwargs)
    return JsonResponse(error_body(403, FORBIDDEN), status=403)


def page_not_found(request, exception, *args, **kwargs):
    if not is_api(request):
        return defaults.page_not_found(request, exception, *args, **kwargs)
    return JsonResponse(error_body(404, NOT_FOUND), status=404)


def server_error(request, *args, **kwargs):
    """handler500: an unexpected error under /api/ answers the API's JSON error shape, and
    a database out of reach a 503 anywhere.

    Django calls it while handling the exception, so the exception is at hand: one raised
    by a middleware after the view (a session saved) never passed DatabaseOutageMiddleware.
    """
    from disinfo_db.middleware import database_unreachable, unavailable_response

    if database_unreachable(sys.exc_info()[1]):
        return unavailable_response(request)
    if not is_api(request):
        return defaults.server_error(request, *args, **kwargs)
    return JsonResponse(error_body(500, SERVER_ERROR), status=500)
