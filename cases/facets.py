"""Facet counts and totals for a filtered list of published cases, fast at a million cases.

    result = facet_counts(case_filter, limit=20)
    result.total          # matching published cases
    result.approximate    # True only for a text search matching more than ~10% of cases
    result.facets["keyword"]  # [FacetValue(value="nato", label="NATO", count=1234, selected=False)]

Faceting is disjunctive: a value's count is the number of cases that would match if that
value were added to the filters. Values within one facet are ORed, so a facet's own
selected values do not narrow its own counts; every other filter does.

Exact SQL is too slow for this at a million cases (docs/performance.md), so each process
keeps an in-memory index of the published cases: a roaring bitmap of case ids per keyword,
country, language, outlet, issue, year, month and day. A filter is a few bitmap unions and
intersections and a facet count is an intersection cardinality. Filters the index does not
hold (q, updated_since) become bitmaps too, fetched from PostgreSQL once per data version
and cached.

The index is keyed on the data version (cases.freshness.dataversion), which PostgreSQL
triggers move forward on every committed write, whoever makes it. Each call reads the
version (one small query); when it moved, the index applies the logged changes case by case,
or rebuilds when there are many. While the calling connection has uncommitted writes of its
own, the shared index is not used at all and the answer comes from exact SQL.

exact_facet_counts() answers the same question with plain SQL through the FilterSet's own
filters; the tests hold the two equal after every kind of write.

tally() counts the same bitmaps for the statistics page (cases.stats): per month and per
value among the cases every filter selects, not disjunctively, and never estimated.
"""

import datetime
import heapq
import logging
import threading
import time
from array import array
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractYear
from pyroaring import BitMap

from cases.filters import no_values
from cases.freshness.dataversion import (
    SCOPE_ALL,
    SCOPE_CASE,
    SCOPE_LABELS,
    changes_since,
    read_version,
)

logger = logging.getLogger(__name__)

FACETS = ("keyword", "country", "language", "outlet", "year")

# The model of each facet with labels, and the field its filter values are taken from.
LABEL_FIELDS = {
    "keyword": ("Keyword", "slug"),
    "country": ("Country", "slug"),
    "language": ("Language", "code"),
    "outlet": ("Outlet", "slug"),
}

# The filter parameters that belong to each facet: they are left out of its own counts.
FACET_PARAMS = {
    "keyword": ("keyword",),
    "country": ("country",),
    "language": ("language",),
    "outlet": ("outlet",),
    "year": ("year",),
}
LINK_FIELDS = {"keyword": "keywords", "country": "countries", "language": "languages"}
# Parameters that do not filter.
NON_FILTERS = ("ordering",)

# A text search expected to match more than this share of the published cases is answered
# from a sample (approximate=True) instead of fetching every matching id.
COMMON_SHARE = 0.10
# ... and more than this many: fetching fewer ids than this is cheap enough to stay exact.
COMMON_MIN_ROWS = 20_000
# Estimates need a sample of at least this many published cases.
SAMPLE_MIN = 2_000
# The sample used for those estimates: one block of SAMPLE_BLOCK consecutive ids in every
# SAMPLE_RATE. Consecutive ids sit together on disk, so the sample costs few page reads.
SAMPLE_RATE = 32
SAMPLE_BLOCK = 256
# More changed cases than this since the last look: rebuild rather than patch.
PATCH_LIMIT = 1000
# Id sets fetched from PostgreSQL (q, updated_since) kept per process, per data version.
ID_SET_CACHE_SIZE = 256
# Finished answers kept per process, per data version.
RESULT_CACHE_SIZE = 512


@dataclass(frozen=True)
class FacetValue:
    value: str  # the filter parameter's value: slug, language code or year
    label: str
    count: int
    selected: bool = False


@dataclass
class FacetResult:
    total: int
    approximate: bool = False
    facets: dict = field(default_factory=dict)  # facet name -> [FacetValue]


@dataclass
class Tally:
    """Counts among the cases a filter selects, every filter applied (not disjunctive)."""

    total: int
    months: dict  # first of month -> cases dated in it (months with cases only)
    # facet name -> [(value, name, count)], most cases first, then by name as PostgreSQL
    # orders names; values with no case are left out.
    values: dict


# --- Public interface ---------------------------------------------------------------------


def facet_counts(case_filter, limit=None):
    """Total and per-value counts for a bound, valid CaseFilter (published cases only).

    limit keeps the top values of each facet (selected values are always kept).
    """
    cleaned = _cleaned(case_filter)
    index = _current_index()
    if index is None:
        return exact_facet_counts(case_filter, limit=limit)
    key = (index.version, _filter_key(cleaned), limit)
    cached = index.results.get(key)
    if cached is not None:
        index.results.move_to_end(key)
        return cached
    result = index.facet_counts(case_filter, cleaned, limit)
    index.remember(key, result)
    return result


def estimated_count(case_filter):
    """(how many published cases match, whether that is an estimate).

    Exact, except for a text search whose count the index estimates from its sample (a
    word in more than about 10% of the cases), where counting every match takes seconds.
    """
    cleaned = _cleaned(case_filter)
    index = _current_index()
    if index is not None:
        matching, approximate = index.matching(case_filter, cleaned)
        if approximate:
            return round(len(matching) * len(index.published) / max(len(index.sample), 1)), True
        return len(matching), False
    return _filtered(case_filter, cleaned, exclude=()).count(), False


def count(case_filter):
    """The exact number of published cases matching a bound, valid CaseFilter."""
    cleaned = _cleaned(case_filter)
    index = _current_index()
    if index is not None:
        matching, approximate = index.matching(case_filter, cleaned)
        if not approximate:
            return len(matching)
    return _filtered(case_filter, cleaned, exclude=()).count()


def published_count():
    """How many cases are published: the unfiltered list's count."""
    index = _current_index()
    if index is not None:
        return len(index.published)
    from cases.models import Case

    return Case.objects.published().count()


# The browse pages' lists: every value with published cases, and how many.
BROWSE_FACETS = ("keyword", "country", "language", "outlet", "issue")


def browse_counts(facet):
    """The values of a facet in BROWSE_FACETS that tag published cases, with their counts.

    Keywords, countries, languages and outlets: [(slug or code, name, cases)] in name
    order. Issues: [(number, date, cases)], newest first. From the index, or with SQL when
    it cannot answer (exact_browse_counts(): up to 3 s a page at a million cases).
    """
    index = _current_index()
    if index is None:
        return exact_browse_counts(facet)
    if facet == "issue":
        from cases.models import Issue

        counts = {pk: len(ids) for pk, ids in index.issues.items() if ids}
        issues = Issue.objects.filter(id__in=list(counts)).order_by("-number")
        rows = issues.values_list("id", "number", "date")
        return [(number, date, counts[pk]) for pk, number, date in rows]
    labels, order = index.labels[facet], index.label_order[facet]
    counts = {pk: len(ids) for pk, ids in index.values[facet].items() if ids and pk in labels}
    return [(*labels[pk], counts[pk]) for pk in sorted(counts, key=order.__getitem__)]


def exact_browse_counts(facet):
    """browse_counts() with plain SQL."""
    from cases import models

    published = models.Case.Status.PUBLISHED
    if facet == "issue":
        return list(
            models.Issue.objects.annotate(
                case_count=Count("cases", filter=Q(cases__status=published))
            )
            .filter(case_count__gt=0)
            .order_by("-number")
            .values_list("number", "date", "case_count")
        )
    if facet == "outlet":
        cases = Q(appearances__case__status=published)
        counted = Count("appearances__case", filter=cases, distinct=True)
    else:
        counted = Count("cases", filter=Q(cases__status=published))
    model_name, value = LABEL_FIELDS[facet]
    model = apps.get_model("cases", model_name)
    return list(
        model.objects.annotate(case_count=counted)
        .filter(case_count__gt=0)
        .order_by("name", "id")
        .values_list(value, "name", "case_count")
    )


@dataclass
class Newest:
    """Ids among which are the newest matches of a filter (see newest_matching)."""

    ids: BitMap
    searched: bool  # every id matches the search too; else the search is still to apply
    complete: bool  # the ids hold every candidate, not only the newest months'


def newest_matching(case_filter, limit):
    """Ids of published cases among which are the filter's `limit` newest matches, or None.

    Whole months of matches, newest first, until there are enough (undated cases come
    last). For a search whose count is estimated, the index knows the cases the other
    filters let through, and the share of them the search matches in the sample: enough
    months of those to hold `limit` matches, with a margin, still to be searched.
    None when only SQL can tell.
    """
    cleaned = _cleaned(case_filter)
    index = _current_index()
    if index is None:
        return None
    restrictions, approximate = index.restrictions(case_filter, cleaned)
    if not approximate:
        matching = _intersect(index.published, restrictions.values())
        ids = index.newest(matching, limit)
        return Newest(ids, searched=True, complete=len(ids) == len(matching))
    others = [ids for name, ids in restrictions.items() if name != "q"]
    candidates = _intersect(index.published, others)
    in_sample = candidates & index.sample
    share = len(_intersect(in_sample, restrictions.values())) / max(len(in_sample), 1)
    wanted = int(limit / max(share, NEWEST_MIN_SHARE) * NEWEST_MARGIN)
    ids = index.newest(candidates, wanted)
    return Newest(ids, searched=False, complete=len(ids) == len(candidates))


# Candidates for an estimated search: 1.5 times as many as the sample's share says.
NEWEST_MARGIN = 1.5
NEWEST_MIN_SHARE = 0.05


def tally(case_filter):
    """A Tally of the published cases a bound, valid CaseFilter selects, from the index.

    None when the index cannot answer (it is switched off, or this connection has
    uncommitted writes): the caller counts with SQL. A text search is never estimated here.
    """
    cleaned = _cleaned(case_filter)
    index = _current_index()
    if index is None:
        return None
    key = (index.version, _filter_key(cleaned), "tally")
    cached = index.results.get(key)
    if cached is not None:
        index.results.move_to_end(key)
        return cached
    matching, _ = index.matching(case_filter, cleaned, exact=True)
    result = index.tally(matching)
    index.remember(key, result)
    return result


def exact_facet_counts(case_filter, limit=None):
    """facet_counts() computed with plain SQL, through the FilterSet's own filters.

    One query for the total and one per facet, whatever the number of values.
    """
    from cases.models import Appearance, Case

    cleaned = _cleaned(case_filter)
    total = _filtered(case_filter, cleaned, exclude=()).count()
    facets = {}
    for facet in FACETS:
        ids = _filtered(case_filter, cleaned, exclude=FACET_PARAMS[facet]).values("id")
        if facet == "year":
            rows = (
                Case.objects.filter(id__in=ids, date__isnull=False)
                .annotate(year=ExtractYear("date"))
                .values_list("year", "year", "year")
                .annotate(n=Count("id"))
                .order_by()
            )
        elif facet == "outlet":
            rows = (
                Appearance.objects.filter(case_id__in=ids, outlet__isnull=False)
                .values_list("outlet_id", "outlet__slug", "outlet__name")
                .annotate(n=Count("case_id", distinct=True))
                .order_by()
            )
        else:
            key = "code" if facet == "language" else "slug"
            rows = (
                getattr(Case, LINK_FIELDS[facet])
                .through.objects.filter(case_id__in=ids)
                .values_list(f"{facet}_id", f"{facet}__{key}", f"{facet}__name")
                .annotate(n=Count("case_id"))
                .order_by()
            )
        counts, labels = {}, _selected_labels(cleaned, facet)
        for pk, value, label, n in rows:
            counts[pk] = n
            labels[pk] = (str(value), str(label))
        facets[facet] = _facet_values(counts, labels, _selected(cleaned, facet), limit)
    return FacetResult(total=total, approximate=False, facets=facets)


def warm_up():
    """Build this process's index now (a server calls it before taking requests)."""
    from django.db import close_old_connections

    _current_index()
    close_old_connections()


def reset():
    """Forget this process's index (tests; after restoring a database)."""
    global _index
    with _lock:
        _index = None


def index_status():
    """A few numbers about this process's index, for the bench and for debugging."""
    index = _index
    if index is None:
        return {"built": False}
    return {
        "built": True,
        "version": index.version,
        "published": len(index.published),
        "build_seconds": round(index.build_seconds, 3),
        "patches": index.patches,
    }


# --- Filters ------------------------------------------------------------------------------


def _cleaned(case_filter):
    if not case_filter.is_bound or not case_filter.is_valid():
        raise ValueError("facet counts need a bound, valid CaseFilter")
    return case_filter.form.cleaned_data


def _is_empty(value):
    if value is None or value == "":
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, QuerySet):
        return no_values(value)
    try:
        return len(value) == 0
    except TypeError:
        return False


def _active(cleaned):
    return {
        name: value
        for name, value in cleaned.items()
        if name not in NON_FILTERS and not _is_empty(value)
    }


def _filter_key(cleaned):
    """A hashable form of the active filters."""
    parts = []
    for name, value in sorted(_active(cleaned).items()):
        parts.append((name, _hashable(value)))
    return tuple(parts)


def _filtered(case_filter, cleaned, exclude):
    """Published cases under every active filter except the `exclude` parameters."""
    from cases.models import Case

    queryset = Case.objects.published()
    for name, value in cleaned.items():
        if name in exclude or name in NON_FILTERS:
            continue
        queryset = case_filter.filters[name].filter(queryset, value)
    return queryset.order_by()


def _selected(cleaned, facet):
    value = cleaned.get(facet)
    if _is_empty(value):
        return set()
    if facet == "year":
        return {int(year) for year in value}
    return {obj.pk for obj in value}


def _selected_labels(cleaned, facet):
    """{key: (value, label)} of the facet's selected values, from the validated form."""
    value = cleaned.get(facet)
    if _is_empty(value):
        return {}
    if facet == "year":
        return {int(year): (str(year), str(year)) for year in value}
    if facet == "language":
        return {obj.pk: (obj.code, str(obj)) for obj in value}
    return {obj.pk: (obj.slug, str(obj)) for obj in value}


def _facet_values(counts, labels, selected, limit):
    """FacetValues sorted by count (desc) then label; zero counts only when selected.

    With a limit, the top values are picked before any FacetValue is made: a facet has
    thousands of values (outlets), a page shows a few.
    """
    keys = [
        (-counts.get(pk, 0), labels[pk][1], labels[pk][0], pk)
        for pk in (set(counts) | selected if selected else counts)
        if pk in labels and (counts.get(pk, 0) > 0 or pk in selected)
    ]
    if limit is not None and len(keys) > limit:
        top = heapq.nsmallest(limit, keys)
        shown = {key[3] for key in top}
        keys = top + sorted(key for key in keys if key[3] in selected and key[3] not in shown)
    else:
        keys.sort()
    return [
        FacetValue(value=value, label=label, count=-negative, selected=pk in selected)
        for negative, label, value, pk in keys
    ]


# --- The index ----------------------------------------------------------------------------

_lock = threading.Lock()
_index = None


def _current_index():
    """This process's index brought up to the committed data version, or None.

    None means: answer with SQL (the index is switched off, or this connection has
    uncommitted writes that only it can see).
    """
    global _index
    if not getattr(settings, "FACET_INDEX", True):
        return None
    state = read_version()
    if state.own_pending:
        return None
    with _lock:
        index = _index
        if index is not None and index.version == state.version:
            return index
        if index is not None and index.can_patch(state):
            try:
                patched = index.catch_up()
            except Exception:
                logger.exception("facet index: patch failed, rebuilding")
                patched = None
            if patched is not None:
                _index = patched
                return patched
        _index = FacetIndex.build()
        return _index


def _fetch_bitmaps(cursor, sql, params=()):
    """{key: BitMap} from rows of (key, bytea of big-endian int4 ids)."""
    cursor.execute(sql, params)
    out = {}
    for key, blob in cursor.fetchall():
        ids = array("I")
        if blob:
            ids.frombytes(bytes(blob))
            ids.byteswap()
        out[key] = BitMap(ids)
    return out


@contextmanager
def _index_scans(cursor):
    """For one query, prefer index scans and skip JIT compilation.

    A sequential scan that tests a full-text match on every row must fetch every row's
    search vector from TOAST storage; the planner does not count that cost and picks it
    for common words, where a bitmap scan of the GIN index is ten times faster.

    The settings are local to a transaction: without one of its own (autocommit, as in a
    request), each statement would be its own transaction and the query would not see them.
    """
    with transaction.atomic():
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('jit'),"
            " set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)"
        )
        seqscan, jit = cursor.fetchone()[:2]
        try:
            yield
        finally:
            if len(connection.atomic_blocks) > 1:  # not our own transaction: put them back
                cursor.execute(
                    "SELECT set_config('enable_seqscan', %s, true), set_config('jit', %s, true)",
                    [seqscan, jit],
                )


def _sample_blocks(max_id):
    sample = BitMap()
    for start in range(0, max_id + 1, SAMPLE_BLOCK * SAMPLE_RATE):
        sample.add_range(start, start + SAMPLE_BLOCK)
    return sample


def _sample_ranges(sample):
    """[(first id, last id)] of the sample's blocks."""
    if not sample:
        return []
    starts = range(0, sample.max() + 1, SAMPLE_BLOCK * SAMPLE_RATE)
    return [(start, start + SAMPLE_BLOCK - 1) for start in starts]


def _id_bytes(select_ids_sql):
    """Wrap a query returning an id column into one returning all ids as one bytea."""
    return f"SELECT string_agg(int4send(s.id::int), ''::bytea) FROM ({select_ids_sql}) s"


def _bitmap_from_query(queryset):
    sql, params = queryset.values("id").query.sql_with_params()
    with connection.cursor() as cursor, _index_scans(cursor):
        cursor.execute(_id_bytes(sql), params)
        blob = cursor.fetchone()[0]
    ids = array("I")
    if blob:
        ids.frombytes(bytes(blob))
        ids.byteswap()
    return BitMap(ids)


class FacetIndex:
    def __init__(self):
        self.version = 0
        self.published = BitMap()
        self.sample = BitMap()
        self.values = {facet: {} for facet in FACETS}  # facet -> {pk or year: BitMap}
        self.issues = {}  # issue id -> BitMap
        self.days = {}  # date -> BitMap
        self.months = {}  # (year, month) -> BitMap
        self.labels = {}  # facet -> {pk: (value, label)}
        self.label_order = {}  # facet -> {pk: position of its name as PostgreSQL sorts names}
        self.issue_numbers = {}  # issue number -> issue id
        self.id_sets = OrderedDict()  # (name, key) -> (BitMap, approximate)
        self.results = OrderedDict()
        self.build_seconds = 0.0
        self.patches = 0

    # Building and keeping current.

    @classmethod
    def build(cls):
        started = time.monotonic()
        index = cls()
        with transaction.atomic(), connection.cursor() as cursor:
            if len(connection.atomic_blocks) == 1:  # our own transaction: snapshot it
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute("SELECT coalesce(max(version), 0) FROM cases_dataversion")
            index.version = cursor.fetchone()[0]
            index._load(cursor)
        index.build_seconds = time.monotonic() - started
        logger.info(
            "facet index: built %s cases in %.2fs", len(index.published), index.build_seconds
        )
        return index

    def _load(self, cursor, case_ids=None):
        """Load all published cases, or only those in case_ids (after discarding them)."""
        where = " AND c.id = ANY(%s)" if case_ids is not None else ""
        link_where = " WHERE x.case_id = ANY(%s)" if case_ids is not None else ""
        params = [list(case_ids)] if case_ids is not None else []
        days = _fetch_bitmaps(
            cursor,
            "SELECT c.date, string_agg(int4send(c.id::int), ''::bytea) FROM cases_case c"
            " WHERE c.status = 'published'" + where + " GROUP BY c.date",
            params,
        )
        issues = _fetch_bitmaps(
            cursor,
            "SELECT c.issue_id, string_agg(int4send(c.id::int), ''::bytea) FROM cases_case c"
            " WHERE c.status = 'published' AND c.issue_id IS NOT NULL"
            + where
            + " GROUP BY c.issue_id",
            params,
        )
        new = BitMap.union(*days.values()) if days else BitMap()
        self.published |= new
        for day, ids in days.items():
            if day is None:
                continue
            self._add(self.days, day, ids)
            self._add(self.months, (day.year, day.month), ids)
            self._add(self.values["year"], day.year, ids)
        for issue_id, ids in issues.items():
            self._add(self.issues, issue_id, ids)
        for facet, table, column in (
            ("keyword", "cases_case_keywords", "keyword_id"),
            ("country", "cases_case_countries", "country_id"),
            ("language", "cases_case_languages", "language_id"),
            ("outlet", "cases_appearance", "outlet_id"),
        ):
            extra = " AND" if link_where else " WHERE"
            links = _fetch_bitmaps(
                cursor,
                f"SELECT x.{column}, string_agg(int4send(x.case_id::int), ''::bytea)"
                f" FROM {table} x{link_where}{extra} x.{column} IS NOT NULL GROUP BY x.{column}",
                params,
            )
            for pk, ids in links.items():
                ids &= new
                if ids:
                    self._add(self.values[facet], pk, ids)
        if new:
            self.sample |= new & _sample_blocks(new.max())
        if case_ids is None:
            self._load_labels(cursor)

    @staticmethod
    def _add(mapping, key, ids):
        existing = mapping.get(key)
        if existing is None:
            mapping[key] = BitMap(ids)
        else:
            existing |= ids

    def _load_labels(self, cursor):
        self.labels, self.label_order = {}, {}
        for facet, (model_name, key) in LABEL_FIELDS.items():
            table = apps.get_model("cases", model_name)._meta.db_table
            # In name order, so that ties in a tally sort by name as an ORDER BY would.
            cursor.execute(f"SELECT id, {key}, name FROM {table} ORDER BY name, id")
            rows = cursor.fetchall()
            self.labels[facet] = {pk: (value, name) for pk, value, name in rows}
            self.label_order[facet] = {pk: position for position, (pk, _, _) in enumerate(rows)}
        cursor.execute("SELECT number, id FROM cases_issue")
        self.issue_numbers = dict(cursor.fetchall())

    def can_patch(self, state):
        return state.version > self.version and state.pruned_through < self.version

    def catch_up(self):
        """A copy with the changes logged since self.version applied; None to rebuild."""
        rows = changes_since(self.version)
        if self.version and (not rows or rows[0][0] != self.version):
            return None  # our version was rolled back or pruned: we cannot tell what changed
        rows = [row for row in rows if row[0] > self.version]
        if not rows:
            return None
        scopes = {scope for _, scope, _ in rows}
        case_ids = {case_id for _, scope, case_id in rows if scope == SCOPE_CASE and case_id}
        if SCOPE_ALL in scopes or len(case_ids) > PATCH_LIMIT:
            return None
        # Patch a copy: other threads may be reading this one.
        patched = self.copy()
        with connection.cursor() as cursor:
            if case_ids:
                patched._discard(case_ids)
                patched._load(cursor, case_ids)
            if SCOPE_LABELS in scopes:
                patched._load_labels(cursor)
        patched.version = rows[-1][0]
        patched.patches = self.patches + 1
        return patched

    def copy(self):
        other = FacetIndex()
        other.version = self.version
        other.published = BitMap(self.published)
        other.sample = BitMap(self.sample)
        other.values = {f: {k: BitMap(v) for k, v in m.items()} for f, m in self.values.items()}
        other.issues = {k: BitMap(v) for k, v in self.issues.items()}
        other.days = {k: BitMap(v) for k, v in self.days.items()}
        other.months = {k: BitMap(v) for k, v in self.months.items()}
        other.labels = self.labels
        other.label_order = self.label_order
        other.issue_numbers = self.issue_numbers
        other.build_seconds = self.build_seconds
        return other

    def _discard(self, case_ids):
        gone = BitMap(case_ids)
        self.published -= gone
        self.sample -= gone
        for mapping in (*self.values.values(), self.issues, self.days, self.months):
            for key in list(mapping):
                bitmap = mapping[key]
                if bitmap.intersect(gone):
                    bitmap -= gone
                    if not bitmap:
                        del mapping[key]

    def remember(self, key, result):
        self.results[key] = result
        while len(self.results) > RESULT_CACHE_SIZE:
            self.results.popitem(last=False)

    # Answering.

    def restrictions(self, case_filter, cleaned, exact=False):
        """({param: BitMap} for every active filter, approximate).

        exact=True fetches every case a text search matches, however common its words.
        """
        out = {}
        approximate = False
        active = _active(cleaned)
        for name, value in active.items():
            if name in FACETS:
                facet_values = self.values[name]
                keys = [int(v) for v in value] if name == "year" else [obj.pk for obj in value]
                parts = [facet_values[key] for key in keys if key in facet_values]
                out[name] = BitMap.union(*parts) if parts else BitMap()
            elif name == "issue":
                issue_id = self.issue_numbers.get(int(value))
                out[name] = BitMap(self.issues.get(issue_id, BitMap()))
            elif name in ("date_after", "date_before"):
                continue
            else:
                ids, approx = self._id_set(case_filter, name, value, exact)
                approximate = approximate or approx
                out[name] = ids
        if "date_after" in active or "date_before" in active:
            out["date_after"] = self._date_range(
                active.get("date_after"), active.get("date_before")
            )
        return out, approximate

    def _date_range(self, after, before):
        after = after or datetime.date.min
        before = before or datetime.date.max
        parts = []
        for (year, month), ids in self.months.items():
            first = datetime.date(year, month, 1)
            last = (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(1)
            if last < after or first > before:
                continue
            if after <= first and last <= before:
                parts.append(ids)
            else:
                day = max(first, after)
                while day <= min(last, before):
                    if day in self.days:
                        parts.append(self.days[day])
                    day += datetime.timedelta(days=1)
        return BitMap.union(*parts) if parts else BitMap()

    def _id_set(self, case_filter, name, value, exact=False):
        """(BitMap, approximate) of the published cases a non-native filter lets through."""
        key = (name, _hashable(value))
        cached = self.id_sets.get(key)
        if exact and (cached is None or cached[1]):
            # Kept apart from the estimate, which the list pages go on using.
            key = (*key, "exact")
            cached = self.id_sets.get(key)
        if cached is not None:
            self.id_sets.move_to_end(key)
            return cached
        from cases.models import Case

        queryset = case_filter.filters[name].filter(Case.objects.published(), value).order_by()
        if (
            name == "q"
            and not exact
            and len(self.sample) >= SAMPLE_MIN
            and self._is_common(queryset)
        ):
            # Only the sample is fetched: the counts are scaled up and flagged as estimates.
            blocks = _sample_ranges(self.sample)
            where = " OR ".join(["cases_case.id BETWEEN %s AND %s"] * len(blocks)) or "false"
            params = [bound for block in blocks for bound in block]
            in_sample = queryset.extra(where=[f"({where})"], params=params)
            result = (_bitmap_from_query(in_sample) & self.sample, True)
        else:
            result = (_bitmap_from_query(queryset) & self.published, False)
        self.id_sets[key] = result
        while len(self.id_sets) > ID_SET_CACHE_SIZE:
            self.id_sets.popitem(last=False)
        return result

    def _is_common(self, queryset):
        """Does the planner expect this query to match more than COMMON_SHARE of cases?"""
        sql, params = queryset.values("id").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            import json

            plan = json.loads(plan)
        rows = plan[0]["Plan"]["Plan Rows"]
        return rows > max(COMMON_SHARE * len(self.published), COMMON_MIN_ROWS)

    def matching(self, case_filter, cleaned, exact=False):
        """(BitMap of matching cases, approximate); approximate sets hold sample cases only."""
        restrictions, approximate = self.restrictions(case_filter, cleaned, exact)
        base = self.sample if approximate else self.published
        return _intersect(base, restrictions.values()), approximate

    def newest(self, matching, limit):
        if len(matching) <= limit:
            return matching
        chosen = BitMap()
        for month in sorted(self.months, reverse=True):
            chosen |= matching & self.months[month]
            if len(chosen) >= limit:
                return chosen
        return matching

    def facet_counts(self, case_filter, cleaned, limit):
        restrictions, approximate = self.restrictions(case_filter, cleaned)
        base = self.sample if approximate else self.published
        scale = len(self.published) / max(len(self.sample), 1) if approximate else 1
        matching = _intersect(base, restrictions.values())
        facets = {}
        for facet in FACETS:
            own = FACET_PARAMS[facet]
            others = [ids for name, ids in restrictions.items() if name not in own]
            counts = {}
            if not others and not approximate:
                # Nothing else filters: the bitmaps' own sizes are the counts.
                for key, ids in self.values[facet].items():
                    counts[key] = len(ids)
            else:
                facet_base = _intersect(base, others)
                if facet_base:
                    for key, ids in self.values[facet].items():
                        n = facet_base.intersection_cardinality(ids)
                        if n:
                            counts[key] = round(n * scale)
            if facet == "year":
                labels = {y: (str(y), str(y)) for y in set(counts) | _selected(cleaned, facet)}
            else:
                labels = self.labels[facet]
            facets[facet] = _facet_values(counts, labels, _selected(cleaned, facet), limit)
        total = round(len(matching) * scale)
        return FacetResult(total=total, approximate=approximate, facets=facets)

    def tally(self, matching):
        """A Tally of the cases in `matching` (a subset of the published cases)."""
        everything = len(matching) == len(self.published)

        def size(ids):
            return len(ids) if everything else matching.intersection_cardinality(ids)

        months = {}
        for (year, month), ids in sorted(self.months.items()):
            n = size(ids)
            if n:
                months[datetime.date(year, month, 1)] = n
        values = {}
        for facet in ("keyword", "country", "language", "outlet"):
            labels, order = self.labels[facet], self.label_order[facet]
            counts = {pk: n for pk, ids in self.values[facet].items() if (n := size(ids))}
            ranked = sorted(
                (pk for pk in counts if pk in labels), key=lambda pk: (-counts[pk], order[pk])
            )
            values[facet] = [(*labels[pk], counts[pk]) for pk in ranked]
        return Tally(total=len(matching), months=months, values=values)


def _intersect(base, bitmaps):
    bitmaps = sorted(bitmaps, key=len)
    if not bitmaps:
        return base
    result = base & bitmaps[0]
    for ids in bitmaps[1:]:
        if not result:
            break
        result &= ids
    return result


def _hashable(value):
    if isinstance(value, str):
        return value.strip()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "__iter__"):
        return tuple(sorted(getattr(v, "pk", v) for v in value))
    return value
