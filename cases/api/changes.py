"""The changes feed: what partners follow to mirror the published cases and miss nothing.

    GET /api/v1/changes/?since=<seq>&limit=<n>

In the manner of CouchDB's _changes: each case the log numbered after `since`, once, in
commit order, with its latest state: the case as GET /api/v1/cases/<id>/ shows it, or a
tombstone when the public may no longer see it. PostgreSQL numbers each case at the commit
of the change (cases.freshness.dataversion), so a long transaction's cases are numbered
after every change a partner has already read, however early they were written.

The log keeps one row per case ever changed and is never pruned: any `since` can be
followed, so there is no "too old, start again" answer.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.renderers import JSONRenderer, RawJSON
from cases.api.schema import READ_ERRORS
from cases.api.views import ConditionalGetMixin
from cases.filters import whole_number
from cases.freshness.dataversion import case_changes, cases_changed_count, read_version
from cases.models import Case
from cases.readmodels.api_json import case_representations

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# The largest number a bigint holds: no seq is larger.
MAX_SEQ = 2**63 - 1
PARAMETERS = {"since", "limit", "format"}

REASONS = {
    None: "deleted",
    Case.Status.WITHDRAWN: "withdrawn",
}
UNPUBLISHED = "unpublished"

CHANGED_CASE = {
    "type": "object",
    "description": "A published case, as GET /api/v1/cases/<id>/ shows it: store it by id.",
    "properties": {
        "seq": {"type": "integer", "description": "Where in the log the case's change is."},
        "id": {"type": "integer"},
        "deleted": {"type": "boolean", "enum": [False]},
        "case": {"$ref": "#/components/schemas/Case"},
    },
    "required": ["seq", "id", "deleted", "case"],
    "additionalProperties": False,
}
REMOVED_CASE = {
    "type": "object",
    "description": "A case the public saw and may no longer see: delete your copy.",
    "properties": {
        "seq": {"type": "integer"},
        "id": {"type": "integer"},
        "deleted": {"type": "boolean", "enum": [True]},
        "reason": {
            "type": "string",
            "enum": ["deleted", "withdrawn", "unpublished"],
            "description": "Deleted; withdrawn by the editors (its page says why); or back "
            "to draft or review.",
        },
    },
    "required": ["seq", "id", "deleted", "reason"],
    "additionalProperties": False,
}
CHANGES = {
    "type": "object",
    "properties": {
        "results": {"type": "array", "items": {"anyOf": [CHANGED_CASE, REMOVED_CASE]}},
        "last_seq": {
            "type": "integer",
            "description": "Ask from here next time (since=last_seq).",
        },
        "pending": {
            "type": "integer",
            "description": "How many more log rows follow: ask again at once while above 0.",
        },
    },
    "required": ["results", "last_seq", "pending"],
    "additionalProperties": False,
}


def _whole_number(params, name, default, low, high, message):
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    number = whole_number(raw, low, high)
    if number is None:
        raise ValidationError({name: [message]})
    return number


def feed_parameters(params):
    """(since, limit) from the query; a 400 naming the parameter for a bad value."""
    since = _whole_number(
        params, "since", 0, 0, MAX_SEQ, "Must be a whole number from 0: a last_seq of the feed."
    )
    limit = _whole_number(
        params,
        "limit",
        DEFAULT_LIMIT,
        1,
        MAX_LIMIT,
        f"Must be a whole number from 1 to {MAX_LIMIT}.",
    )
    return since, limit


class ChangesView(ConditionalGetMixin, APIView):
    """Every change to the published cases since a point of the log, in commit order."""

    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]
    http_method_names = ["get", "head", "options"]
    query_parameters = PARAMETERS  # checked by KnownParametersMixin

    @extend_schema(
        summary="Changes feed",
        description=(
            "Each case changed after `since`, once, in commit order, with its latest state: "
            "the case as `cases/<id>/` shows it, or a tombstone when the public may no "
            "longer see it. Start at 0; then ask from the answer's `last_seq` (at once while "
            "`pending` is above 0, later otherwise). A partner doing this ends with exactly "
            "the published cases, however long the transactions that wrote them. A change "
            "to a keyword, country, language, outlet or issue, or to a related case's "
            "title or status, counts as a change to every case that shows it."
        ),
        parameters=[
            OpenApiParameter(
                "since",
                {"type": "integer", "minimum": 0},
                OpenApiParameter.QUERY,
                description="A `last_seq` from an earlier answer; 0 (the default) for all.",
                examples=[OpenApiExample("since example", value=0)],
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                OpenApiParameter.QUERY,
                description=f"Log rows to read at most (default {DEFAULT_LIMIT}).",
                examples=[OpenApiExample("limit example", value=500)],
            ),
        ],
        responses={(200, "application/json"): CHANGES, **READ_ERRORS},
    )
    def get(self, request):
        since, limit = feed_parameters(request.query_params)
        # The committed version first: every case numbered up to it has committed, and
        # a transaction committing later numbers its cases above it.
        upto = read_version().version
        rows = case_changes(since, upto, limit)
        published = [pk for _, pk, status, _ in rows if status == Case.Status.PUBLISHED]
        context = {"request": request, "include_drafts": False}
        shown = {pk: RawJSON(text) for pk, _, _, text in case_representations(published, context)}
        results = []
        for seq, pk, status, was_public in rows:
            if pk in shown:
                results.append({"seq": seq, "id": pk, "deleted": False, "case": shown[pk]})
            elif status == Case.Status.PUBLISHED:
                # Changed again since its row was read: it comes again, numbered later.
                continue
            elif was_public:
                reason = REASONS.get(status, UNPUBLISHED)
                results.append({"seq": seq, "id": pk, "deleted": True, "reason": reason})
            # A case the public never saw is not even named.
        full = len(rows) == limit
        last_seq = rows[-1][0] if full else upto
        pending = cases_changed_count(last_seq, upto) if full else 0
        return Response({"results": results, "last_seq": last_seq, "pending": pending})
