"""Fast paths held equal to the plain ways they replace (test_fast_equals_reference.py)."""

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
