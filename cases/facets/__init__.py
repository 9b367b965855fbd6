"""Facet counts and totals for a filtered list of published cases, fast at a million cases.

    result = facet_counts(case_filter, limit=20)
    result.total          # matching published cases
    result.approximate    # True only for a text search matching more than ~10% of cases
    result.facets["keyword"]  # [FacetValue(value="nato", label="NATO", count=1234, selected=False)]

In a facet with a selection, each value not selected also carries `adds`: how many cases
selecting it would add to the result (its count less its cases already in the result).

suggest(case_filter, "keyword", "bio", limit=10) finds a facet's values by name or alias
(accents and case left out), counted as facet_counts() counts them: the type-ahead filters.

Faceting is disjunctive: a value's count is the number of cases that would match if that
value were added to the filters. Values within one facet are ORed, so a facet's own
selected values do not narrow its own counts; every other filter does.

This is the interface; the work is done in:

    index.py    the per-process bitmap index of published cases, kept current with the data
                version (cases.freshness.dataversion), and the estimates from its sample
    exact.py    exact_facet_counts() and exact_browse_counts(): the same answers with plain
                SQL through the FilterSet's own filters, the references the tests hold the
                index equal to after every kind of write
    common.py   what both share: the facets, the answers' shapes, a CaseFilter's filters

Each call asks the index, which reads the data version (one small query). While the calling
connection has uncommitted writes of its own, the shared index is not used at all and the
answer comes from exact SQL.

tally() counts the same bitmaps for the statistics page (cases.site.stats): per month and
per value among the cases every filter selects, not disjunctively, and never estimated.
"""

from cases.facets.common import (
    FACETS,
    SUGGEST_FACETS,
    FacetResult,
    FacetValue,
    Newest,
    Tally,
    cleaned_data,
    filter_key,
)
from cases.facets.exact import (
    exact_browse_counts,
    exact_facet_counts,
    exact_published_counts_by_id,
    exact_suggest,
    filtered_cases,
)
from cases.facets.index import current_index, index_status, reset

__all__ = [
    "BROWSE_FACETS",
    "FACETS",
    "SUGGEST_FACETS",
    "FacetResult",
    "FacetValue",
    "Newest",
    "Tally",
    "browse_counts",
    "count",
    "estimated_count",
    "exact_browse_counts",
    "exact_published_counts_by_id",
    "exact_facet_counts",
    "exact_suggest",
    "facet_counts",
    "index_status",
    "matching_ids",
    "newest_ids",
    "newest_matching",
    "position_before",
    "published_count",
    "published_counts_by_id",
    "per_data_version",
    "reset",
    "suggest",
    "tally",
    "warm_up",
]

# The browse pages' lists: every value with published cases, and how many.
BROWSE_FACETS = ("keyword", "country", "language", "outlet", "issue")


def facet_counts(case_filter, limit=None):
    """Total and per-value counts for a bound, valid CaseFilter (published cases only).

    limit keeps the top values of each facet (selected values are always kept).
    """
    cleaned = cleaned_data(case_filter)
    index = current_index()
    if index is None:
        return exact_facet_counts(case_filter, limit=limit)
    key = (index.version, filter_key(cleaned), limit)
    cached = index.results.get(key)
    if cached is not None:
        index.results.move_to_end(key)
        return cached
    result = index.facet_counts(case_filter, cleaned, limit)
    index.remember(key, result)
    return result


def suggest(case_filter, facet, typed, limit):
    """[FacetValue] of a facet in SUGGEST_FACETS whose name or an alias matches `typed`.

    A name starting with it first, then a word starting with it, then one containing it;
    within each, most cases first. Values already selected, and values with no case under
    the other filters, are left out. No SQL beyond the index's data version.
    """
    cleaned = cleaned_data(case_filter)
    index = current_index()
    if index is None:
        return exact_suggest(case_filter, facet, typed, limit)
    key = (index.version, filter_key(cleaned), "suggest", facet, typed, limit)
    cached = index.results.get(key)
    if cached is not None:
        index.results.move_to_end(key)
        return cached
    result = index.suggest(case_filter, cleaned, facet, typed, limit)
    index.remember(key, result)
    return result


def estimated_count(case_filter):
    """(how many published cases match, whether that is an estimate).

    Exact, except for a text search whose count the index estimates from its sample (a
    word in more than about 10% of the cases), where counting every match takes seconds.
    """
    cleaned = cleaned_data(case_filter)
    index = current_index()
    if index is not None:
        return index.estimated_count(case_filter, cleaned)
    return filtered_cases(case_filter, cleaned, exclude=()).count(), False


def count(case_filter):
    """The exact number of published cases matching a bound, valid CaseFilter."""
    cleaned = cleaned_data(case_filter)
    index = current_index()
    if index is not None:
        matching, approximate = index.matching(case_filter, cleaned)
        if not approximate:
            return len(matching)
    return filtered_cases(case_filter, cleaned, exclude=()).count()


def published_count():
    """How many cases are published: the unfiltered list's count."""
    index = current_index()
    if index is not None:
        return len(index.published)
    from cases.models import Case

    return Case.objects.published().count()


def published_counts_by_id(facet):
    """{value id: published cases} of "keyword", "country" or "language", every value with
    a published case: the admin's filter counts of the whole list. From the index, or with
    exact_published_counts_by_id() when it cannot answer (a GROUP BY over every link)."""
    index = current_index()
    if index is None:
        return exact_published_counts_by_id(facet)
    return {pk: len(ids) for pk, ids in index.values[facet].items() if ids}


def per_data_version(key, compute):
    """compute(), kept with this process's index until the data version moves: for answers
    read with SQL that only a write changes. Computed each time when the index cannot
    answer (this connection has uncommitted writes, or the index is off)."""
    index = current_index()
    if index is None:
        return compute()
    key = (index.version, "per data version", *key)
    cached = index.results.get(key)
    if cached is not None:
        index.results.move_to_end(key)
        return cached
    result = compute()
    index.remember(key, result)
    return result


def browse_counts(facet):
    """The values of a facet in BROWSE_FACETS that tag published cases, with their counts.

    Keywords, countries, languages and outlets: [(slug or code, name, cases)] in name
    order. Issues: [(number, date, cases)], newest first. From the index, or with SQL when
    it cannot answer (exact_browse_counts(): up to 3 s a page at a million cases).
    """
    index = current_index()
    if index is None:
        return exact_browse_counts(facet)
    return index.browse_counts(facet)


def position_before(case_filter, ordering, key):
    """How many published cases matching the filter come before the one with sort key
    `key` = (date, id) in the date ordering `ordering` ("date" or "-date"), from the index.

    None when the index cannot tell exactly: it is off, the connection has uncommitted
    writes, the search's matches are estimated, or the ordering is not by date.
    """
    if ordering not in ("date", "-date"):
        return None
    cleaned = cleaned_data(case_filter)
    index = current_index()
    if index is None:
        return None
    matching, approximate = index.matching(case_filter, cleaned)
    if approximate:
        return None
    return index.count_before(matching, ordering == "-date", *key)


def newest_matching(case_filter, limit):
    """Ids of published cases among which are the filter's `limit` newest matches, or None.

    When the index knows the matches: exactly the `limit` newest (date descending, undated
    cases last, ties by id descending), `searched`. For a search whose count is estimated,
    the matches of its newest months, fetched with the sample's: the newest `limit` of them
    under the other filters, or all of them when fewer (at least NEWEST_MIN_MATCHES),
    `searched` too. Else the index knows the cases the other filters let through, and the
    share of them the search matches in the sample: enough months of those to hold `limit`
    matches, with a margin, still to be searched.
    None when only SQL can tell.
    """
    cleaned = cleaned_data(case_filter)
    index = current_index()
    if index is None:
        return None
    return index.newest_matching(case_filter, cleaned, limit)


def newest_ids(case_filter, limit):
    """The ids of the filter's `limit` newest published matches (date descending, undated
    cases last, ties by id descending), or of all of them when fewer; None when the index
    cannot say exactly (the caller reads the page in that order with SQL alone).

    The first page of a list in its default order is then read by id: a filter whose
    matches are rare among the newest cases made PostgreSQL walk the date index and check
    each case (15-20 ms at a million for a keyword and a country), where the index's
    bitmaps give the ids in well under a millisecond.
    """
    found = newest_matching(case_filter, limit)
    if found is None or not found.exact:
        return None
    return list(found.ids)


def matching_ids(case_filter, limit):
    """The ids of every published case the filter matches, when the index knows them
    exactly and there are at most `limit`; else None (the caller asks SQL alone).

    An order the index does not keep, such as the feeds' newest published first, is then
    read among these ids: a filter whose matches are rare among the recently published
    made PostgreSQL walk the published_at index and check each case it met.
    """
    cleaned = cleaned_data(case_filter)
    index = current_index()
    if index is None:
        return None
    matching, approximate = index.matching(case_filter, cleaned)
    if approximate or len(matching) > limit:
        return None
    return list(matching)


def tally(case_filter):
    """A Tally of the published cases a bound, valid CaseFilter selects, from the index.

    None when the index cannot answer (it is switched off, or this connection has
    uncommitted writes): the caller counts with SQL. A text search is never estimated here.
    """
    cleaned = cleaned_data(case_filter)
    index = current_index()
    if index is None:
        return None
    key = (index.version, filter_key(cleaned), "tally")
    cached = index.results.get(key)
    if cached is not None:
        index.results.move_to_end(key)
        return cached
    matching, _ = index.matching(case_filter, cleaned, exact=True)
    result = index.tally(matching)
    index.remember(key, result)
    return result


def warm_up():
    """Build this process's index now (a server calls it before taking requests)."""
    from django.db import close_old_connections

    current_index()
    close_old_connections()
