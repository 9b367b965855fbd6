"""The match page: paste a claim, see the published cases most like it, and why.

GET /match/?text=...&country=...: the parameters of /api/v1/match/ (cases.search.
match_request), so a page's URL can be shared and the page cache keeps it like any list.
"""

from django.http import QueryDict
from django.template.response import TemplateResponse

from cases.models import Case, Country, Language
from cases.search import semantic
from cases.search.match import MAX_TEXT_LENGTH, match_cases
from cases.search.match_request import MatchForm, MatchInputError, parse

# The filters the page's form offers; any other filter of the contract works in the URL.
FORM_FILTERS = ("country", "language", "date_after", "date_before")


def match_page(request):
    params = request.GET
    context = {
        "text": params.get("text", ""),
        "form": MatchForm(initial={"text": params.get("text", "")}),
        "max_length": MAX_TEXT_LENGTH,
        "errors": {},
        "matches": None,
        "tier": "lexical",
        "semantic_tier": semantic.enabled(),
        "countries": Country.objects.public().values_list("slug", "name"),
        "languages": Language.objects.public().values_list("code", "name"),
        "chosen": {name: params.getlist(name) for name in FORM_FILTERS},
        "hidden_values": [
            (name, value)
            for name in params
            if name not in ("text", "limit", *FORM_FILTERS)
            for value in params.getlist(name)
        ],
    }
    if not params:
        return TemplateResponse(request, "cases/match.html", context)
    # An empty filter field of the form means no filter.
    asked = QueryDict(mutable=True)
    for name in params:
        values = [v for v in params.getlist(name) if v != "" or name == "text"]
        if values:
            asked.setlist(name, values)
    try:
        found = parse(asked, Case.objects.published(), request=request)
    except MatchInputError as error:
        context["errors"] = error.errors
        return TemplateResponse(request, "cases/match.html", context, status=400)
    matches, tier = match_cases(found.text, found.case_filter.qs, found.limit)
    context.update(matches=matches, tier=tier)
    return TemplateResponse(request, "cases/match.html", context)
