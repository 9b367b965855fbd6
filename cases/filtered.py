"""The published cases a request's filter parameters select, for the pages beside the list.

Exports, feeds and statistics all read the same parameters through CaseFilter. Unlike the
list page, which shows errors next to the form fields, they answer a bad parameter with a
plain-text 400 that names it.
"""

from django.http import HttpResponseBadRequest

from cases.filters import CaseFilter
from cases.models import Case


def published_case_filter(request, queryset=None):
    """CaseFilter bound to the request's query, over published cases only."""
    if queryset is None:
        queryset = Case.objects.published()
    return CaseFilter(request.GET, queryset=queryset, request=request)


def parameter_errors(case_filter):
    """[(parameter, message)] for every invalid parameter, in form order."""
    errors = []
    for name, messages in case_filter.form.errors.items():
        for message in messages:
            errors.append((None if name == "__all__" else name, message))
    return errors


def bad_request(errors):
    """A plain-text 400 listing `parameter: message` lines."""
    lines = [f"{name}: {message}" if name else message for name, message in errors]
    text = "Bad request.\n" + "\n".join(lines) + "\n"
    return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")
