"""The published cases a request's filter parameters select, for the pages beside the list.

Exports, feeds and statistics all read the same parameters through CaseFilter. Unlike the
list page, which shows errors next to the form fields, they answer a bad parameter with a
plain-text 400 that names it.
"""

from django.http import HttpResponseBadRequest

from cases.filters import CaseFilter
from cases.models import Case


def published_case_filter(request, queryset=None, extras=()):
    """CaseFilter bound to the request's query, over published cases only.

    `extras` names the page's own parameters beside the filters (an export's `format`).
    """
    if queryset is None:
        queryset = Case.objects.published()
    return CaseFilter(request.GET, queryset=queryset, request=request, extras=extras)


def spelling_fallback(case_filter, total=None):
    """The valid filter as the page uses it: with its search's spelling corrected when it
    matches nothing as typed (CaseFilter.spelling_corrected), as on every surface."""
    return case_filter.spelling_corrected(total) or case_filter


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


def filter_query(case_filter):
    """The bound filter's non-empty parameters, without ordering, as a query string."""
    query = case_filter.data.copy()
    for name in list(query):
        values = [value for value in query.getlist(name) if value.strip()]
        if name not in case_filter.filters or name == "ordering" or not values:
            del query[name]
        else:
            query.setlist(name, values)
    return query.urlencode()


def describe_filters(case_filter):
    """'Keyword: NATO, MI6; Country or region: Kazakhstan', from the cleaned parameters."""
    parts = []
    for name, field in case_filter.form.fields.items():
        value = case_filter.form.cleaned_data.get(name)
        if name == "ordering" or not value:
            continue
        if isinstance(value, list | tuple) or hasattr(value, "model"):
            value = ", ".join(str(item) for item in value)
        parts.append(f"{field.label}: {value}")
    return "; ".join(parts)
