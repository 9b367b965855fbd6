"""Claim matching in the API: POST or GET /api/v1/match/, and the similar cases of a case.

The ranking is cases.search.match's; the parameters are cases.search.match_request's (the
filter contract plus `text` and `limit`), so the site's match page and the API agree.
"""

from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.parsers import JSONParser
from cases.api.renderers import JSONRenderer
from cases.api.schema import CASE_FILTER_PARAMETERS, READ_ERRORS, query
from cases.api.serializers import MatchesSerializer, match_representation
from cases.models import Case
from cases.search import semantic
from cases.search.match import DEFAULT_LIMIT, MAX_LIMIT, MAX_TEXT_LENGTH, match_cases
from cases.search.match_request import MatchInputError, parse

MATCH_PARAMETERS = [
    query(
        "text",
        OpenApiTypes.STR,
        f"The claim to match, 1 to {MAX_TEXT_LENGTH} characters, in any words and order.",
        "MI6 is behind the riots in Kazakhstan",
        required=True,
    ),
    query(
        "limit",
        OpenApiTypes.INT,
        f"How many matches, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
        DEFAULT_LIMIT,
    ),
    *[p for p in CASE_FILTER_PARAMETERS if p.name != "ordering"],
]
MATCH_DESCRIPTION = (
    "Published cases ranked by similarity to a claim: has it been debunked already? Each "
    "match has a score (0 to 1) and why it matched: the words it shares with the text (by "
    "stem, so word order and inflection do not matter) and the names it shares (countries "
    "and keywords it is tagged with; people, organisations and places, also written in "
    "Cyrillic). The filters of the case list narrow the matches. `tier` says whether "
    "multilingual embeddings took part (servers with a configured model only)."
)


def matches_body(request, matches, tier):
    return {
        "tier": tier,
        "semantic_tier": semantic.enabled(),
        "count": len(matches),
        "results": [match_representation(match, request) for match in matches],
    }


class MatchView(APIView):
    """POST {"text": ..., "limit": 10} (filters in the query string or the body), or GET
    ?text=...: the published cases most like the text."""

    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Match a claim (GET)",
        description=MATCH_DESCRIPTION,
        parameters=MATCH_PARAMETERS,
        responses={(200, "application/json"): MatchesSerializer, **READ_ERRORS},
    )
    def get(self, request):
        return self.answer(request, request.query_params)

    @extend_schema(
        summary="Match a claim",
        description=MATCH_DESCRIPTION
        + " The body's keys are the same parameters as GET's; a filter may also be given "
        "in the query string.",
        parameters=[p for p in MATCH_PARAMETERS if p.name not in ("text", "limit")],
        request=inline_serializer(
            "MatchRequest",
            {
                "text": serializers.CharField(max_length=MAX_TEXT_LENGTH),
                "limit": serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, required=False),
            },
        ),
        responses={(200, "application/json"): MatchesSerializer, **READ_ERRORS},
    )
    def post(self, request):
        params = request.query_params.copy()
        body = request.data
        if not isinstance(body, dict):
            raise ValidationError({"text": ['Send a JSON object: {"text": ..., "limit": 10}.']})
        for name, value in body.items():
            values = value if isinstance(value, list) else [value]
            params.setlist(name, ["" if v is None else str(v) for v in values])
        return self.answer(request, params)

    def answer(self, request, params):
        if not isinstance(params, QueryDict):
            params = QueryDict(mutable=True)
        try:
            asked = parse(params, Case.objects.published(), request=request)
        except MatchInputError as error:
            raise ValidationError(error.errors) from None
        matches, tier = match_cases(asked.text, asked.case_filter.qs, asked.limit)
        return Response(matches_body(request, matches, tier))


SIMILAR_LIMIT_PARAMETER = query(
    "limit", OpenApiTypes.INT, f"How many similar cases, 1 to {MAX_LIMIT} (default 5).", 5
)
