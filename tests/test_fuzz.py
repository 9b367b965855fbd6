"""Bounded fuzzing on the production path: no generated request gets a 5xx.

Two runs, both deterministic (derandomized, no example database) and asked of committed
data with the facet index and the page cache on, as production serves it:

- every GET operation of the API's OpenAPI schema, with valid and invalid input that
  schemathesis derives from it (tests/test_api_schema.py fuzzes every operation, writes
  included, inside a transaction);
- query strings for the site's list, statistics, exports and feeds, built from the filter
  contract's parameters with values good, bad and hostile.

A failure is not shrunk, to keep the run short; hypothesis prints the request.
"""

import base64
import json

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance

from cases.filters import CaseFilter

RUN = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    "phases": [Phase.explicit, Phase.generate],
    "suppress_health_check": list(HealthCheck),
}
EXAMPLES_PER_OPERATION = 40
EXAMPLES_PER_PAGE = 120


@pytest.fixture
def production(committed, settings):
    settings.FACET_INDEX, settings.PAGE_CACHE = True, True
    settings.DISINFO_API_ANON_RATE = ""  # thousands of anonymous requests in a minute
    return committed


@pytest.fixture
def wsgi_app(production):
    """The project's WSGI app, keeping the test's connection between requests (as Django's
    test client does) rather than opening one per request."""
    from disinfo_db.wsgi import application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield application
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_generated_api_reads_get_no_server_error(wsgi_app, production):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    reads = [operation for operation in operations if operation.method.upper() == "GET"]
    assert len(reads) >= 10  # cases, facets, similar, changes, match, taxonomy lists and values

    for operation in reads:
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
            *operation.get_strategies_from_examples(),
        )

        @settings(max_examples=EXAMPLES_PER_OPERATION, **RUN)
        @given(case=strategy)
        def read(case):
            case.call_and_validate(checks=[not_a_server_error, content_type_conformance])

        read()


# Values a parameter may be given: ones that select cases, and ones that must be refused.
SLUGS = ["nato", "biolabs", "ukraine", "eu", "ru", "en", "daily-truth", "quokka-keyword"]
GOOD = ["2020", "2023", "101", "2023-03-01", "2024-01-01T00:00:00Z", "-date", "relevance"]
HOSTILE = [
    "",
    " ",
    "０",
    "２０２４",
    "2024-1-1",
    "1.5",
    "-1",
    "+1",
    "1e9",
    "99999999999999999999999",
    "\x00",
    "%",
    "'",
    '"',
    "\\",
    "-" * 40,
    "-!" * 40,
    '"unclosed',
    "a | b & !c",
    "<script>",
    "Россия",
    "😀",
    "\u202e",
    "x" * 600,
    "9" * 5000,  # more digits than int() reads
]
NAMES = [*CaseFilter.base_filters, "cursor", "more", "format", "page", "sort"]


def encoded_cursor(parts):
    raw = json.dumps(parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# Where integer columns end: PostgreSQL's integer and bigint.
BOUNDARIES = [0, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**23]
# Cursors as the site writes them (cases.readmodels.keyset.Cursor), holding any key.
keys = st.one_of(
    st.none(), st.integers(), st.floats(), st.text(max_size=12), st.sampled_from(["2022-01-10"])
)
cursors = st.one_of(
    st.builds(
        lambda ordering, direction, date, pk: encoded_cursor([ordering, direction, [date, pk]]),
        st.sampled_from(["-date", "date"]),
        st.sampled_from(["next", "prev"]),
        st.sampled_from(["2022-01-10", None]),
        st.one_of(st.integers(), st.sampled_from(BOUNDARIES)),
    ),
    st.builds(
        lambda ordering, direction, key: encoded_cursor([ordering, direction, key]),
        st.sampled_from(["-date", "date", "relevance", "-updated_at", "x"]),
        st.sampled_from(["next", "prev", "up"]),
        st.lists(keys, max_size=3),
    ),
)
values = st.one_of(
    st.sampled_from(SLUGS + GOOD + HOSTILE),
    cursors,
    st.text(max_size=30),
    st.from_regex(r"[0-9０-９+\-.eE]{1,12}", fullmatch=True),
)


numbers = st.one_of(
    st.integers().map(str),
    st.sampled_from(BOUNDARIES).map(str),
    st.from_regex(r"[0-9０-９+\-.eE_ ]{1,12}", fullmatch=True),
)
dates = st.one_of(
    st.dates().map(str),
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.from_regex(r"[0-9０-９]{1,5}-[0-9]{1,3}-[0-9]{1,3}(T[0-9:+Z]{0,12})?", fullmatch=True),
)
# What each parameter is most often given, besides any value at all.
LIKELY = {
    "cursor": cursors,
    "year": numbers,
    "issue": numbers,
    "page": numbers,
    "date_after": dates,
    "date_before": dates,
    "updated_since": dates,
}


def pair(name):
    value = st.one_of(LIKELY[name], values) if name in LIKELY else values
    return st.tuples(st.just(name), value)


known = st.sampled_from(NAMES).flatmap(pair)
queries = st.lists(
    # Mostly parameters the page reads, sometimes one it does not.
    st.one_of(known, known, known, st.tuples(st.text(min_size=1, max_size=10), values)),
    max_size=4,
)

PAGES = [
    "/cases/",
    "/stats/",
    "/cases/export/?format=csv&",
    "/cases/export/?format=ndjson&",
    "/cases/feed/rss/",
    "/cases/feed/atom/",
]


@pytest.mark.parametrize("page", PAGES)
def test_generated_query_strings_of_the_site_get_no_server_error(production, client, page):
    from urllib.parse import urlencode

    client.raise_request_exception = False

    @settings(max_examples=EXAMPLES_PER_PAGE, **RUN)
    @given(query=queries)
    def ask(query):
        separator = "" if page.endswith("&") else "?"
        response = client.get(page + separator + urlencode(query))
        if response.streaming:
            b"".join(response.streaming_content)  # an export fails before it starts, or not
        assert response.status_code < 500, (page, query)

    ask()
