"""What the facet index and the exact counts share: the facets, the answers' shapes, and a
bound CaseFilter read as the filters it applies.
"""

import bisect
import datetime
import heapq
import unicodedata
from dataclasses import dataclass, field, fields

from django.db.models import QuerySet
from pyroaring import BitMap

from cases.filters import no_values

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
# The facets whose values can be found by name (cases.facets.suggest), and the model of
# each one's other names.
SUGGEST_FACETS = ("keyword", "country", "language", "outlet")
ALIAS_MODELS = {
    "keyword": ("KeywordAlias", "keyword_id"),
    "country": ("CountryAlias", "country_id"),
    "language": ("LanguageAlias", "language_id"),
    "outlet": ("OutletAlias", "outlet_id"),
}
# Parameters that do not filter.
NON_FILTERS = ("ordering",)


@dataclass(frozen=True)
class FacetValue:
    value: str  # the filter parameter's value: slug, language code or year
    label: str
    count: int
    selected: bool = False
    # In a facet with a selection, for a value not selected: how many cases selecting it
    # would add to the result (values within a facet are ORed). None otherwise.
    adds: int | None = None

    def as_dict(self):
        """What dataclasses.asdict() gives, without its deep copy of each plain value: a
        facets answer holds thousands of values (asdict() was most of its time)."""
        return {name: getattr(self, name) for name in FACET_VALUE_FIELDS}


FACET_VALUE_FIELDS = tuple(each.name for each in fields(FacetValue))


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


@dataclass
class Newest:
    """Ids among which are the newest matches of a filter (see newest_matching)."""

    ids: BitMap
    # Every id matches the search too, and they are exactly the newest matches (at most
    # the limit asked for); else the search is still to apply to them.
    searched: bool
    complete: bool  # the ids hold every candidate, not only the newest months'
    # Not complete, and the candidates are most of the cases of those months: the first
    # day of the oldest of them. The ids are then exactly the candidates dated since then.
    since: datetime.date | None = None
    # The ids are exactly the filter's newest matches, as many as asked for (or all of them):
    # the first page of the "-date" order, read by id (newest_ids()).
    exact: bool = False


def cleaned_data(case_filter):
    if not case_filter.is_bound or not case_filter.is_valid():
        raise ValueError("facet counts need a bound, valid CaseFilter")
    return case_filter.form.cleaned_data


def is_empty(value):
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


def active_filters(cleaned):
    return {
        name: value
        for name, value in cleaned.items()
        if name not in NON_FILTERS and not is_empty(value)
    }


def filter_key(cleaned):
    """A hashable form of the active filters."""
    parts = []
    for name, value in sorted(active_filters(cleaned).items()):
        parts.append((name, hashable(value)))
    return tuple(parts)


def selected_keys(cleaned, facet):
    value = cleaned.get(facet)
    if is_empty(value):
        return set()
    if facet == "year":
        return {int(year) for year in value}
    return {obj.pk for obj in value}


def sorted_facet_values(counts, labels, selected, limit, order=None, in_result=None):
    """FacetValues sorted by count (desc) then label; zero counts only when selected.

    `in_result`, {pk: cases}, counts each value's cases already in the result: given (the
    facet has a selection), a value not selected adds its count less those.

    `order`, {pk: position}, is the labels' order as the database sorts names
    (cases.collation); without it (years) labels sort as strings.

    With a limit, the top values are picked before any FacetValue is made: a facet has
    thousands of values (outlets), a page shows a few.
    """
    keys = [
        (-counts.get(pk, 0), order[pk] if order else labels[pk][1], labels[pk][0], pk)
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
        FacetValue(
            value=value,
            label=labels[pk][1],
            count=-negative,
            selected=pk in selected,
            adds=(
                None if in_result is None or pk in selected else -negative - in_result.get(pk, 0)
            ),
        )
        for negative, _, value, pk in keys
    ]


def hashable(value):
    if isinstance(value, str):
        return value.strip()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "__iter__"):
        return tuple(sorted(getattr(v, "pk", v) for v in value))
    return value


def folded(text):
    """Text as the type-ahead compares it: accents and case left out ("Ukraïne" -> "ukraine")."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def name_rank(typed, names):
    """How well folded `typed` matches any of the folded `names` (a value's name, then its
    aliases): 0 a name starts with it, 1 a word of a name does, 2 it is inside a name;
    None when it matches none."""
    best = None
    for name in names:
        if name.startswith(typed):
            return 0
        position = name.find(typed)
        while position >= 0:
            if not name[position - 1].isalnum():
                best = 1
                break
            best = 2 if best is None else best
            position = name.find(typed, position + 1)
    return best


def word_starts(name):
    """Where in a folded name a match ranks 0 or 1 (name_rank): its start, and every
    position after a character that is not a letter or digit."""
    return [0, *(i for i in range(1, len(name)) if not name[i - 1].isalnum())]


class NameIndex:
    """One facet's folded names and aliases, to find values as name_rank() ranks them
    without trying every name: the text from every word start, sorted, so that the values
    a name or a word of one starts with are a range found by bisection; a value's names
    are tried one by one only for the values with `typed` inside a word.

        NameIndex({pk: (folded name, folded aliases...)}).tiers("bio")
        # -> [0, {pk, ...}], then [1, {...}], then [2, {...}], each computed when reached
    """

    def __init__(self, names):
        starts = sorted(
            (name[position:], 0 if position == 0 else 1, pk)
            for pk, found in names.items()
            for name in found
            for position in word_starts(name)
        )
        self.keys = [text for text, _, _ in starts]
        self.entries = [(rank, pk) for _, rank, pk in starts]
        self.names = [(name, pk) for pk, found in names.items() for name in found]
        self.values = frozenset(names)

    def tiers(self, typed):
        """(rank, {pk}) for rank 0, 1 and 2 in turn, each value in its best rank only; with
        nothing typed, every value ranks 0. A generator: a later tier costs nothing until
        it is asked for."""
        if not typed:
            yield 0, self.values
            return
        best = {}
        position = bisect.bisect_left(self.keys, typed)
        while position < len(self.keys) and self.keys[position].startswith(typed):
            rank, pk = self.entries[position]
            if best.get(pk, 2) > rank:
                best[pk] = rank
            position += 1
        yield 0, {pk for pk, rank in best.items() if rank == 0}
        yield 1, {pk for pk, rank in best.items() if rank == 1}
        yield 2, {pk for name, pk in self.names if pk not in best and typed in name}
