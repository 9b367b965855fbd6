"""Keyset pagination for the case list: a deep page costs what the first page costs.

A page is addressed by a cursor, the sort key of the row it starts after (`next`) or ends
before (`prev`), instead of an OFFSET that makes PostgreSQL walk every row before it.
Each date ordering puts undated cases last, so a page that crosses from dated to undated
cases reads two index ranges (two queries); every other page reads one.

The last page is read the same way from the other end: the ordering's keyset reversed,
from no key, so it costs what the first page costs (a cursor whose direction is "last").

Relevance ranks the whole match set anyway, so it pages by OFFSET, capped at
MAX_RELEVANCE_OFFSET results.

Its reference is the whole list in the same ordering (cases.filters.order_cases()), cut into
pages: tests/test_keyset.py holds every page, walked either way, equal to it.
"""

import base64
import binascii
import datetime
import json
from dataclasses import dataclass, field

from django.db.models import F, Q

MAX_RELEVANCE_OFFSET = 1000
# The largest id PostgreSQL's bigint holds: a cursor's id beyond it is not a cursor.
MAX_ID = 2**63 - 1


class CursorError(ValueError):
    """A cursor that is malformed or belongs to another ordering."""


NOT_A_CURSOR = "not a cursor of this list; follow the Next and Previous links."


@dataclass(frozen=True)
class KeyOrdering:
    """Order by `field` (nulls last in both directions when nullable), then by id alike."""

    field: str
    descending: bool
    nullable: bool
    parse: object  # str -> value of field

    def order(self, reverse=False):
        """ORDER BY for a range of rows whose field is never null (or always null).

        Inside such a range the position of nulls is free, so it is chosen to match
        case_published_date_idx (date DESC NULLS LAST, id DESC), read either way. A field
        that is never null gets the plain order, which its own index (case_updated_idx)
        serves read either way.
        """
        descending = self.descending != reverse
        if not self.nullable:
            if descending:
                return [F(self.field).desc(), F("id").desc()]
            return [F(self.field).asc(), F("id").asc()]
        if descending:
            return [F(self.field).desc(nulls_last=True), F("id").desc()]
        return [F(self.field).asc(nulls_first=True), F("id").asc()]

    def id_order(self, reverse=False):
        return [F("id").desc() if self.descending != reverse else F("id").asc()]

    def beyond(self, value, pk, reverse=False):
        """Rows after (value, pk) in this ordering, or before it with reverse=True.

        Written as `field <= v AND (field < v OR id < pk)` rather than an OR at the top,
        so the first conjunct bounds the index scan.
        """
        after = "lt" if self.descending != reverse else "gt"
        f = self.field
        return Q(**{f"{f}__{after}e": value}) & (
            Q(**{f"{f}__{after}": value}) | Q(**{f"id__{after}": pk})
        )

    def id_beyond(self, pk, reverse=False):
        after = "lt" if self.descending != reverse else "gt"
        return Q(**{f"id__{after}": pk})


def _parse_date(text):
    return datetime.date.fromisoformat(text)


def _parse_datetime(text):
    value = datetime.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value


KEY_ORDERINGS = {
    "-date": KeyOrdering("date", descending=True, nullable=True, parse=_parse_date),
    "date": KeyOrdering("date", descending=False, nullable=True, parse=_parse_date),
    "-updated_at": KeyOrdering(
        "updated_at", descending=True, nullable=False, parse=_parse_datetime
    ),
}


@dataclass
class Cursor:
    ordering: str
    direction: str  # "next": rows after the key; "prev": rows before it; "last": the end
    key: tuple  # (value, id) for keyset orderings, (offset,) for relevance

    def encode(self):
        value = list(self.key)
        if self.ordering in KEY_ORDERINGS and value and value[0] is not None:
            value[0] = value[0].isoformat()
        raw = json.dumps([self.ordering, self.direction, value], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text, ordering):
        """The cursor in `text` for `ordering`; CursorError says what is wrong."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            cursor_ordering, direction, key = json.loads(raw)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
            raise CursorError(NOT_A_CURSOR) from None
        if cursor_ordering != ordering:
            raise CursorError("this cursor belongs to another ordering; start from page one.")
        if direction not in ("next", "prev", "last") or not isinstance(key, list):
            raise CursorError(NOT_A_CURSOR)
        if direction == "last":
            if key or ordering == "relevance":
                raise CursorError(NOT_A_CURSOR)
            return cls(ordering, direction, ())
        if ordering == "relevance":
            if len(key) != 1 or type(key[0]) is not int or key[0] < 0:
                raise CursorError(NOT_A_CURSOR)
            if key[0] > MAX_RELEVANCE_OFFSET:
                raise CursorError(
                    f"results ranked by relevance stop at {MAX_RELEVANCE_OFFSET}; narrow the "
                    "search or order by date to go further."
                )
            return cls(ordering, direction, (key[0],))
        key_ordering = KEY_ORDERINGS[ordering]
        try:
            value, pk = key
            if type(pk) is not int or not 0 <= pk <= MAX_ID:
                raise TypeError
            if value is not None:
                value = key_ordering.parse(value)
            elif not key_ordering.nullable:
                raise TypeError
        except (TypeError, ValueError):
            raise CursorError(NOT_A_CURSOR) from None
        return cls(ordering, direction, (value, pk))


@dataclass
class Page:
    object_list: list
    next_cursor: str | None
    previous_cursor: str | None
    first_item: int | None = None  # 1-based position, known for relevance pages only
    is_last: bool = False  # no rows come after this page
    keys: list = field(default_factory=list)  # each row's sort key, for a keyset ordering

    @property
    def first_key(self):
        """The sort key of the page's first row, (value, id), for a keyset ordering."""
        return self.keys[0] if self.keys else None

    @property
    def has_other_pages(self):
        return bool(self.next_cursor or self.previous_cursor)


def paginate(queryset, ordering, cursor, per_page):
    """The page of `queryset` (filtered, ordered by `ordering`) that `cursor` points at."""
    if ordering == "relevance":
        return _offset_page(queryset, cursor, per_page)
    key_ordering = KEY_ORDERINGS[ordering]

    def key_of(case):
        return (getattr(case, key_ordering.field), case.pk)

    def cursor_for(direction, case):
        return Cursor(ordering, direction, key_of(case)).encode()

    if cursor is None:
        rows = _read_from(queryset, key_ordering, None, False, per_page + 1)
        has_more, rows = len(rows) > per_page, rows[:per_page]
        page = Page(rows, cursor_for("next", rows[-1]) if has_more else None, None)
        page.is_last = not has_more
        return _keyed(page, key_of)

    if cursor.direction == "last":
        rows = _read_from(queryset, key_ordering, None, True, per_page + 1)
        has_more, rows = len(rows) > per_page, rows[:per_page]
        rows.reverse()
        previous = cursor_for("prev", rows[0]) if has_more else None
        return _keyed(Page(rows, None, previous, is_last=True), key_of)

    reverse = cursor.direction == "prev"
    rows = _read_from(queryset, key_ordering, cursor.key, reverse, per_page + 1)
    has_more, rows = len(rows) > per_page, rows[:per_page]
    if reverse:
        if not has_more:
            # Back at the start: show a full first page rather than a short one.
            return paginate(queryset, ordering, None, per_page)
        rows.reverse()
        return _keyed(Page(rows, cursor_for("next", rows[-1]), cursor_for("prev", rows[0])), key_of)
    if not rows:
        return Page([], None, None)
    page = Page(
        rows,
        cursor_for("next", rows[-1]) if has_more else None,
        cursor_for("prev", rows[0]),
        is_last=not has_more,
    )
    return _keyed(page, key_of)


def _keyed(page, key_of):
    page.keys = [key_of(case) for case in page.object_list]
    return page


def rows_before(queryset, ordering, key):
    """The rows of `queryset` that come before the row with sort key `key` in `ordering`
    (a keyset ordering): count them for the page's position."""
    ko = KEY_ORDERINGS[ordering]
    value, pk = key
    if value is not None:
        return queryset.filter(ko.beyond(value, pk, reverse=True))
    # An undated row comes after every dated one.
    return queryset.filter(
        Q(**{f"{ko.field}__isnull": False})
        | Q(**{f"{ko.field}__isnull": True}) & ko.id_beyond(pk, reverse=True)
    )


def _read_from(queryset, key_ordering, key, reverse, limit):
    """Up to `limit` rows beyond `key` (from the start when None), in order.

    Dated and undated cases are read as separate index ranges, undated ones last going
    forward and first going backward.
    """
    ko = key_ordering
    if not ko.nullable:
        if key is not None:
            queryset = queryset.filter(ko.beyond(*key, reverse=reverse))
        return list(queryset.order_by(*ko.order(reverse))[:limit])

    dated = queryset.filter(**{f"{ko.field}__isnull": False})
    undated = queryset.filter(**{f"{ko.field}__isnull": True})
    if key is None and reverse:
        # From the end: undated cases (last either way) first, then dated ones backward.
        ranges = [(undated, ko.id_order(reverse)), (dated, ko.order(reverse))]
    elif key is None and ko.descending:
        # DESC NULLS LAST already puts undated cases last, in the index's own order.
        ranges = [(queryset, ko.order())]
    elif key is None:
        ranges = [(dated, ko.order()), (undated, ko.id_order())]
    elif key[0] is not None:
        ranges = [(dated.filter(ko.beyond(*key, reverse=reverse)), ko.order(reverse))]
        if not reverse:
            ranges.append((undated, ko.id_order()))
    else:
        ranges = [(undated.filter(ko.id_beyond(key[1], reverse)), ko.id_order(reverse))]
        if reverse:
            ranges.append((dated, ko.order(reverse)))
    rows = []
    for part, order in ranges:
        rows += part.order_by(*order)[: limit - len(rows)]
        if len(rows) >= limit:
            break
    return rows


def _offset_page(queryset, cursor, per_page):
    offset = cursor.key[0] if cursor else 0
    if cursor and cursor.direction == "prev":
        offset = max(offset - per_page, 0)
    rows = list(queryset[offset : offset + per_page + 1])
    has_more, rows = len(rows) > per_page, rows[:per_page]
    has_more = has_more and offset + per_page <= MAX_RELEVANCE_OFFSET

    def cursor_at(direction, position):
        return Cursor("relevance", direction, (position,)).encode()

    return Page(
        rows,
        cursor_at("next", offset + per_page) if has_more else None,
        cursor_at("prev", offset) if offset > 0 else None,
        first_item=offset + 1 if rows else None,
        is_last=not has_more,
    )
