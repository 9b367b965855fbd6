"""Cursor pagination for the case list: stable while cases are added, as fast deep as on page 1.

A cursor holds the sort key of the row it stands after (the ordering always ends with the
unique id), so the next page is `WHERE (date, id) < (…)` in the list's order: rows added or
edited elsewhere in the list never shift a page, whatever the page number.

The list can be a chain of querysets ("segments") walked one after the other: the API's
sync answers are the changed cases first, then the tombstones of deleted cases.
"""

import base64
import datetime
import json
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db.models import F, FloatField, Q
from django.db.models.expressions import OrderBy
from django.db.models.functions import Cast
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

NOTHING = Q(pk__in=[])
# After case 123 of 10 January 2022, in the default order.
EXAMPLE_CURSOR = "eyJvIjoiLWRhdGUsLWlkIiwicyI6MCwidiI6W3siZCI6IjIwMjItMDEtMTAifSwxMjNdfQ=="


@dataclass(frozen=True)
class SortKey:
    name: str
    descending: bool
    nulls_last: bool

    def reversed(self):
        return SortKey(self.name, not self.descending, not self.nulls_last)

    def beyond(self, value):
        """Rows that sort strictly after `value` on this key."""
        if value is None:
            # NULLs sort together at one end: past them when they come first, nothing when last.
            return NOTHING if self.nulls_last else Q(**{f"{self.name}__isnull": False})
        past = Q(**{f"{self.name}__{'lt' if self.descending else 'gt'}": value})
        if self.nulls_last:
            past |= Q(**{f"{self.name}__isnull": True})
        return past

    def equal(self, value):
        if value is None:
            return Q(**{f"{self.name}__isnull": True})
        return Q(**{self.name: value})


def cursor_name(queryset, name):
    """Computed sort keys (a search rank) are compared through a float8 copy, see keyset()."""
    return f"cursor_{name}" if name in queryset.query.annotations else name


def sort_keys(queryset):
    """The queryset's ORDER BY as SortKeys.

    Unless told otherwise, PostgreSQL sorts NULLs last ascending and first descending.
    """
    keys = []
    for item in queryset.query.order_by:
        if isinstance(item, str):
            descending = item.startswith("-")
            name = cursor_name(queryset, item.lstrip("-"))
            keys.append(SortKey(name, descending, not descending))
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            if item.nulls_last:
                nulls_last = True
            elif item.nulls_first:
                nulls_last = False
            else:
                nulls_last = not item.descending
            name = cursor_name(queryset, item.expression.name)
            keys.append(SortKey(name, item.descending, nulls_last))
        else:
            raise ImproperlyConfigured(f"Cursor pagination cannot sort by {item!r}.")
    if not keys or keys[-1].name not in ("id", "pk", "case_id"):
        raise ImproperlyConfigured("Cursor pagination needs an ordering that ends with the id.")
    return keys


def keyset(queryset):
    """The queryset with an exact float8 copy of each computed sort key.

    A search rank is a float4: read into Python and sent back, it would no longer equal
    itself in SQL, and the page after it would start with it again.
    """
    copies = {
        f"cursor_{name}": Cast(F(name), FloatField())
        for name in queryset.query.annotations
        if not name.startswith("cursor_")
    }
    return queryset.annotate(**copies) if copies else queryset


def after(keys, values):
    """Rows after the row whose sort key is `values`: (k1, k2, …) beyond (v1, v2, …)."""
    condition, ties = NOTHING, Q()
    for key, value in zip(keys, values, strict=True):
        condition |= ties & key.beyond(value)
        ties &= key.equal(value)
    return condition


def encode_value(value):
    if isinstance(value, datetime.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"d": value.isoformat()}
    return value


def decode_value(value):
    if isinstance(value, dict) and set(value) == {"t"}:
        return datetime.datetime.fromisoformat(value["t"])
    if isinstance(value, dict) and set(value) == {"d"}:
        return datetime.date.fromisoformat(value["d"])
    if value is None or isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise ValueError(value)


@dataclass(frozen=True)
class Position:
    segment: int
    values: tuple
    backwards: bool = False


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
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"Must be a whole number from 1 to {self.max_page_size}."
                    ]
                }
            )
        return size

    def signature(self, segments):
        return "|".join(
            ",".join(("-" if key.descending else "") + key.name for key in sort_keys(segment))
            for segment in segments
        )

    def decode_cursor(self, request, segments):
        raw = request.query_params.get(self.cursor_query_param)
        if not raw:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
            segment, values = int(data["s"]), tuple(decode_value(v) for v in data["v"])
            if data["o"] != self.signature(segments) or not 0 <= segment < len(segments):
                raise ValueError("stale ordering")
            if len(values) != len(sort_keys(segments[segment])):
                raise ValueError("wrong length")
            return Position(segment, values, bool(data.get("r")))
        except (ValueError, TypeError, KeyError, UnicodeError, json.JSONDecodeError) as error:
            raise ValidationError(
                {self.cursor_query_param: ["Invalid cursor: start again without it."]}
            ) from error

    def encode_cursor(self, position, segments):
        data = {
            "o": self.signature(segments),
            "s": position.segment,
            "v": [encode_value(v) for v in position.values],
        }
        if position.backwards:
            data["r"] = 1
        text = json.dumps(data, separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode("ascii")

    def position_of(self, segment_index, row, segments):
        keys = sort_keys(segments[segment_index])
        return tuple(getattr(row, key.name) for key in keys)

    def walk(self, segments, start, limit, backwards):
        """Up to `limit` (segment index, row) pairs from `start`, in list order or reversed."""
        order = range(len(segments))
        if backwards:
            order = reversed(order)
        found = []
        for index in order:
            if start is not None and (
                index < start.segment if not backwards else index > start.segment
            ):
                continue
            queryset = segments[index]
            keys = sort_keys(queryset)
            if backwards:
                queryset = queryset.reverse()
                keys = [key.reversed() for key in keys]
            if start is not None and index == start.segment:
                queryset = queryset.filter(after(keys, start.values))
            found.extend((index, row) for row in queryset[: limit - len(found)])
            if len(found) >= limit:
                break
        return found

    def paginate_segments(self, segments, request):
        """The page's rows, walking the segments in order; remembers links for the envelope."""
        self.request = request
        segments = [keyset(segment) for segment in segments]
        self.segments = segments
        size = self.get_page_size(request)
        position = self.decode_cursor(request, segments)
        backwards = bool(position and position.backwards)
        found = self.walk(segments, position, size + 1, backwards)
        has_more = len(found) > size
        found = found[:size]
        if backwards:
            found.reverse()
        self.has_next = has_more if not backwards else True
        self.has_previous = (position is not None) if not backwards else has_more
        self.first = found[0] if found else None
        self.last = found[-1] if found else None
        if not found and position is not None:
            # Past the end (or before the start): link back to where the cursor stood.
            self.has_next = backwards
            self.has_previous = not backwards
            self.edge = position
        else:
            self.edge = None
        return [row for _, row in found]

    def paginate_queryset(self, queryset, request, view=None):
        return self.paginate_segments([queryset], request)

    def link(self, position):
        url = self.request.build_absolute_uri()
        return replace_query_param(
            url, self.cursor_query_param, self.encode_cursor(position, self.segments)
        )

    def get_next_link(self):
        if not self.has_next:
            return None
        if self.last is not None:
            index, row = self.last
            return self.link(Position(index, self.position_of(index, row, self.segments)))
        return self.link(Position(self.edge.segment, self.edge.values))

    def get_previous_link(self):
        if not self.has_previous:
            return None
        if self.first is not None:
            index, row = self.first
            values = self.position_of(index, row, self.segments)
            return self.link(Position(index, values, backwards=True))
        return self.link(Position(self.edge.segment, self.edge.values, backwards=True))

    def get_paginated_response(self, data, count=None):
        return Response(
            {
                "count": count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": "How many results the whole list holds.",
                    "example": 123,
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
