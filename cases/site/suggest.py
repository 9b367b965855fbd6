"""GET /cases/suggest/: facet values found by name, for the list page's type-ahead filters.

    /cases/suggest/?field=keyword&prefix=bio&country=ukraine

`field` is one of keyword, country, language, outlet; `prefix` is what was typed (matched
at the start of a name or a word, else inside it, on names and aliases, accents and case
left out); `limit` is 1 to 50 (10 by default). Every other parameter is a CaseFilter
parameter, read as on the list page: the counts are the list's facet counts under the
current filters, and in a facet with a selection `adds` says how many cases selecting the
value would add (values within a facet are ORed). Any other parameter is a 400 naming it,
in the API's error shape. The answer comes from the facet index: no SQL beyond reading the
data version and checking the filters' own slugs.
"""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cases.facets import SUGGEST_FACETS, suggest
from cases.filters import whole_number
from cases.site.filtered import parameter_errors, published_case_filter

SUGGEST_PARAMS = ("field", "prefix", "limit")
DEFAULT_LIMIT = 10
MAX_LIMIT = 50
MAX_PREFIX = 100


def _errors(errors):
    body = {
        "status": 400,
        "errors": [{"field": name, "message": str(message)} for name, message in errors],
    }
    return JsonResponse(body, status=400)


@require_GET
def suggest_values(request):
    params = request.GET
    case_filter = published_case_filter(request, extras=SUGGEST_PARAMS)
    errors = []
    field = params.get("field", "")
    if field not in SUGGEST_FACETS:
        errors.append(
            ("field", _("Choose one of %(choices)s.") % {"choices": ", ".join(SUGGEST_FACETS)})
        )
    prefix = params.get("prefix", "")
    if len(prefix) > MAX_PREFIX:
        errors.append(("prefix", _("Type at most %(count)s characters.") % {"count": MAX_PREFIX}))
    limit = whole_number(params.get("limit") or str(DEFAULT_LIMIT), 1, MAX_LIMIT)
    if limit is None:
        errors.append(
            ("limit", _("Must be a whole number from 1 to %(max)s.") % {"max": MAX_LIMIT})
        )
    if not case_filter.is_valid():
        errors += parameter_errors(case_filter)
    if errors:
        return _errors(errors)
    values = suggest(case_filter, field, prefix, limit)
    return JsonResponse(
        {
            "field": field,
            "prefix": prefix,
            "results": [value.as_dict() for value in values],
        }
    )
