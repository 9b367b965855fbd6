"""Cursor pagination for the API's case list.

Cases come a page at a time from cases.readmodels.keyset, the keyset pages of the site's
list: a cursor holds the sort key of the row it stands after, so deep pages cost what the
first page costs, and pages hold still while cases are added. (Relevance pages by offset, up
to cases.readmodels.keyset.MAX_RELEVANCE_OFFSET results.)

A sync (`updated_since`) walks on past the last case into the tombstones of deleted
cases, in the order they were deleted: the page the cases end on fills up with the first
ones, and the pages after it have cursors starting with "t.".
"""

import base64
import binascii
import datetime
import json

from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from cases.filters import whole_number
from cases.readmodels.keyset import NOT_A_CURSOR, Cursor, CursorError, paginate
from cases.site.claimreview import CLAIM_REVIEW_LIST_CONTEXT

TOMBSTONES = "t."
# After case 123 of 10 January 2022, in the default order.
EXAMPLE_CURSOR = "WyItZGF0ZSIsIm5leHQiLFsiMjAyMi0wMS0xMCIsMTIzXV0"
INVALID_CURSOR = "not a cursor of this list; follow the next and previous links."


def encode_tombstone_cursor(direction, deleted):
    key = [direction, deleted.deleted_at.isoformat(), deleted.case_id]
    raw = json.dumps(key, separators=(",", ":")).encode()
    return TOMBSTONES + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_tombstone_cursor(text):
    """(direction, deleted_at, case_id), or None for the first page of tombstones."""
    payload = text[len(TOMBSTONES) :]
    if not payload:
        return None
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        direction, deleted_at, case_id = json.loads(raw)
        deleted_at = datetime.datetime.fromisoformat(deleted_at)
        if direction not in ("next", "prev") or type(case_id) is not int:
            raise ValueError(direction)
        if deleted_at.tzinfo is None:
            raise ValueError("naive datetime")
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise ValidationError({"cursor": [INVALID_CURSOR]}) from None
    return direction, deleted_at, case_id


class CursorPagination(BasePagination):
    """`?cursor=` and `?page_size=` (1–500); the envelope is {count, next, previous, results}."""

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = 20
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        size = whole_number(raw, 1, self.max_page_size)
        if size is None:
            message = f"Must be a whole number from 1 to {self.max_page_size}."
            raise ValidationError({self.page_size_query_param: [message]})
        return size

    def paginate_cases(self, cases, ordering, request, deleted=None):
        """One page of `cases` (filtered and ordered by `ordering`), then of `deleted`.

        `deleted` is a DeletedCase queryset: the tombstones that follow the cases in a sync.
        """
        self.request = request
        size = self.get_page_size(request)
        raw = request.query_params.get(self.cursor_query_param) or None
        if raw is not None and raw.startswith(TOMBSTONES):
            if deleted is None:
                raise ValidationError({self.cursor_query_param: [INVALID_CURSOR]})
            return self.tombstone_page(deleted, decode_tombstone_cursor(raw), size)
        try:
            cursor = Cursor.decode(raw, ordering) if raw else None
        except CursorError as error:
            # The site's message names its buttons; the API's names the envelope's links.
            message = INVALID_CURSOR if str(error) == NOT_A_CURSOR else str(error)
            raise ValidationError({self.cursor_query_param: [message]}) from None
        page = paginate(cases, ordering, cursor, size)
        self.next_cursor, self.previous_cursor = page.next_cursor, page.previous_cursor
        rows = list(page.object_list)
        if self.next_cursor is None and deleted is not None:
            # The cases ran out: the page fills up with the first tombstones, so that no
            # page is empty while the count says there is more.
            previous = self.previous_cursor
            if len(rows) < size:
                rows += self.tombstone_page(deleted, None, size - len(rows))
                self.previous_cursor = previous
            elif deleted.exists():
                self.next_cursor = TOMBSTONES
        return rows

    def tombstone_page(self, deleted, position, size):
        """A page of tombstones; the first one has no previous link."""
        order = ["deleted_at", "case_id"]
        if position is None:
            rows = list(deleted.order_by(*order)[: size + 1])
            backwards, more = False, len(rows) > size
        else:
            direction, deleted_at, case_id = position
            backwards = direction == "prev"
            after = "lt" if backwards else "gt"
            beyond = Q(**{f"deleted_at__{after}e": deleted_at}) & (
                Q(**{f"deleted_at__{after}": deleted_at}) | Q(**{f"case_id__{after}": case_id})
            )
            if backwards:
                order = ["-deleted_at", "-case_id"]
            rows = list(deleted.filter(beyond).order_by(*order)[: size + 1])
            more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        has_next = more if not backwards else True
        has_previous = position is not None and (more if backwards else True)
        self.next_cursor = encode_tombstone_cursor("next", rows[-1]) if rows and has_next else None
        self.previous_cursor = (
            encode_tombstone_cursor("prev", rows[0]) if rows and has_previous else None
        )
        return rows

    def paginate_queryset(self, queryset, request, view=None):
        raise NotImplementedError("The case list calls paginate_cases().")

    def link(self, cursor):
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data, count=None, approximate=False, corrected_query=None):
        return Response(
            {
                "count": count,
                "approximate": approximate,
                "corrected_query": corrected_query,
                "next": self.link(self.next_cursor),
                "previous": self.link(self.previous_cursor),
                "results": data,
            }
        )

    def get_graph_response(self, graph, count=None, approximate=False):
        """A JSON-LD page: a document whose @graph holds the page's ClaimReviews. The
        envelope's members stay, mapped to null in the context (JSON-LD leaves them out),
        and next and previous are Link headers too."""
        links = {"next": self.link(self.next_cursor), "prev": self.link(self.previous_cursor)}
        header = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if url)
        return Response(
            {
                "@context": CLAIM_REVIEW_LIST_CONTEXT,
                "@graph": graph,
                "count": count,
                "approximate": approximate,
                "next": links["next"],
                "previous": links["prev"],
            },
            headers={"Link": header} if header else None,
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "approximate", "corrected_query", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": "How many results the whole list holds.",
                    "example": 123,
                },
                "approximate": {
                    "type": "boolean",
                    "description": (
                        "True when `count` is an estimate: a search for a word in more "
                        "than about 10% of the cases, or for a quoted phrase whose words "
                        "more than about 5,000 cases hold, is counted on a sample."
                    ),
                },
                "corrected_query": {
                    "type": "string",
                    "nullable": True,
                    "description": (
                        "When `q` matched nothing as typed, the search the results are for: "
                        "each unknown word replaced by the closest word of the cases. "
                        "Null otherwise."
                    ),
                    "example": None,
                },
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page, or null on the last one.",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The previous page, or null on the first one.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where the page starts: the `next` or `previous` link carries it.",
                "schema": {"type": "string"},
                "example": EXAMPLE_CURSOR,
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": (
                    f"Results per page, 1 to {self.max_page_size} (default {self.page_size})."
                ),
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
                "example": 100,
            },
        ]
