"""Fast paths held equal to the plain ways they replace (test_fast_equals_reference.py)."""

import datetime
from contextlib import contextmanager

from pyroaring import BitMap

# Filters every counting fast path is held to: each facet alone and combined, repeated
# values, dates, issues, searches (a phrase, an exclusion, a stemmed word), incremental
# sync, URL and domain lookups, and filters that match nothing. tests/test_facet_index.py
# asks them after writes.
QUERIES = [
    "",
    "keyword=nato",
    "keyword=nato&keyword=biolabs",
    "country=ukraine",
    "keyword=nato&country=ukraine",
    "keyword=nato&country=ukraine&language=ru",
    "language=en",
    "outlet=daily-truth",
    "outlet=daily-truth&outlet=eurasia-review",
    "year=2021",
    "year=2021&year=2022&keyword=biolabs",
    "issue=101",
    "issue=270",
    "date_after=2021-03-01",
    "date_before=2021-06-30",
    "date_after=2021-01-15&date_before=2022-02-10",
    "q=biolabs",
    "q=biolabs&country=ukraine",
    "q=%22secret+laboratories%22",
    "q=nato+-biolabs",
    "q=kazakhstan",
    "updated_since=2000-01-01T00:00:00Z",
    "updated_since=2029-01-01T00:00:00Z",
    "updated_since=2999-01-01T00:00:00Z",
    "keyword=elections&year=2020",
    "keyword=nato&year=2019",
    "appearance_domain=dailytruth.example",
    "appearance_domain=archive.example&keyword=nato",
    "appearance_url=https://www.blog.example/b/?utm_source=feed",
]


# Searches whose newest matches the window of an estimated search is held to.
SEARCHES = [query for query in QUERIES if query.startswith("q=")] + [
    "q=claim&keyword=nato",
    "q=claim+-protests",
    "q=%22the+west%22&country=russia",
]
# The day the window of an estimated search starts on, in estimated_searches().
WINDOW_DAY = datetime.date(2021, 1, 1)
WINDOW_MIN_MATCHES = 2


@contextmanager
def estimated_searches():
    """Every search counted on the sample, which holds every case, its window starting on
    WINDOW_DAY, and WINDOW_MIN_MATCHES enough to rank: in the index as it is (built, or
    patched after writes), its answers so far forgotten, and again after."""
    from cases.facets import index

    saved = {
        name: getattr(index, name)
        for name in (
            "COMMON_MIN_ROWS",
            "COMMON_SHARE",
            "SAMPLE_MIN",
            "WINDOW_SAMPLE_MIN",
            "ESTIMATE_MIN_HITS",
            "NEWEST_MIN_MATCHES",
        )
    }
    window_start = index.FacetIndex._window_start
    index.COMMON_MIN_ROWS = index.COMMON_SHARE = index.SAMPLE_MIN = 0
    index.WINDOW_SAMPLE_MIN = index.ESTIMATE_MIN_HITS = 0
    index.NEWEST_MIN_MATCHES = WINDOW_MIN_MATCHES
    index.FacetIndex._window_start = lambda self, rows: WINDOW_DAY
    current = index.current_index()
    sample, current.sample = current.sample, BitMap(current.published)

    def forget():
        current.id_sets.clear()
        current.windows.clear()
        current.results.clear()

    forget()
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(index, name, value)
        index.FacetIndex._window_start = window_start
        current.sample = sample
        forget()


def _bound(query):
    from django.http import QueryDict

    from cases.filters import CaseFilter
    from cases.models import Case

    bound = CaseFilter(QueryDict(query), queryset=Case.objects.published())
    assert bound.is_valid(), bound.errors
    return bound


def newest_from_window(query, limit):
    """Inside estimated_searches(): the `limit` newest matches the index gives, in the
    order of the list by date, or "searched in SQL"."""
    from cases import facets
    from cases.facets import index

    bound = _bound(query)
    facets.facet_counts(bound)  # the count, which fetches the sample and the window
    newest = facets.newest_matching(bound, limit)
    if not newest.searched:
        return "searched in SQL"
    return index.current_index().newest_first(newest.ids, limit)


def newest_since_window_day(query, limit):
    """newest_from_window()'s reference: the filter's SQL, newest first, since WINDOW_DAY."""
    from django.db.models import F

    matches = _bound(query).qs.order_by(F("date").desc(nulls_last=True), "-id")
    since = list(matches.filter(date__gte=WINDOW_DAY).values_list("id", flat=True))
    if len(since) < min(limit, WINDOW_MIN_MATCHES):
        return "searched in SQL"
    # The matches since that day come first in the list by date: the newest of all.
    assert since == list(matches.values_list("id", flat=True)[: len(since)])
    return since[:limit]
