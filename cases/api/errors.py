"""One JSON shape for every API error.

    {"errors": [{"field": "date_after", "message": "Enter a valid date."}], "status": 400}

`field` names the query parameter or body field at fault, or is null for errors about the
request as a whole (authentication, permissions, throttling, unknown resource).
"""

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views.defaults import server_error as html_server_error
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


def server_error(request, *args, **kwargs):
    """handler500: an unexpected error under /api/ answers the API's JSON error shape.

    DRF's exception handler only sees the exceptions it knows (APIException, Http404,
    PermissionDenied); anything else reaches Django, which logs it and calls this.
    """
    if not request.path.startswith("/api/"):
        return html_server_error(request, *args, **kwargs)
    body = {"status": 500, "errors": [{"field": None, "message": SERVER_ERROR}]}
    return JsonResponse(body, status=500)
