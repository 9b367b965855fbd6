"""Hostile query parameters and bodies: a 400 naming the parameter, a 404, or a correct 200.

Never a 500, and never a 200 that breaks off: an export's stream is whole, or it is not
started. Asked on the production path (committed data, facet index and page cache on).
"""

import base64
import collections
import csv
import io
import json
import re
from urllib.parse import urlencode

import pytest

from cases.readmodels.keyset import Cursor

SURFACES = {
    "list": "/cases/",
    "stats": "/stats/",
    "feed-rss": "/cases/feed/rss/",
    "feed-atom": "/cases/feed/atom/",
    "export-csv": "/cases/export/?format=csv",
    "export-ndjson": "/cases/export/?format=ndjson",
    "api-list": "/api/v1/cases/",
    "api-facets": "/api/v1/cases/facets/",
    "api-csv": "/api/v1/cases/?format=csv",
}

# Searches PostgreSQL's websearch_to_tsquery() could not parse ("tsquery stack too small"):
# runs of operators with no word to apply them to.
OPERATOR_RUNS = {
    "dashes": "-" * 40,
    "spaced-dashes": "- " * 40,
    "dashes-then-word": "-" * 40 + "biolabs",
    "negated-letters": " ".join(f"-{c}" for c in "abcdefghijklmnopqrstuvwxyzabcdefghijklmn"),
    "bangs": "!" * 40,
    "dash-bangs": "-!" * 40,
    "word-dash-bangs": "biolabs" + "-!" * 40,
    "and-or": "&|" * 40,
    "many-words": "biolabs " * 60,  # more words than are searched for
}


def get(client, url, **params):
    client.raise_request_exception = False
    if params:  # the client would drop the URL's own query
        url += ("&" if "?" in url else "?") + urlencode(params)
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body.decode()


def assert_names(status, body, url, parameter):
    assert status == 400, body[:500]
    if url.startswith("/api/"):  # API errors are JSON, whatever the format asked for
        errors = json.loads(body)["errors"]
        assert parameter in [error["field"] for error in errors], errors
    elif body.startswith("Bad request."):  # the plain-text 400 of exports and feeds
        assert f"\n{parameter}: " in body, body
    else:  # a page showing the errors: "<strong>q</strong>: …" or "cursor: …"
        assert re.search(rf"(<strong>{parameter}</strong>|>{parameter}): ", body), body[:500]


@pytest.fixture
def production(committed, settings):
    settings.FACET_INDEX, settings.PAGE_CACHE = True, True
    return committed


@pytest.mark.parametrize("query", OPERATOR_RUNS)
@pytest.mark.parametrize("surface", SURFACES)
def test_a_search_of_operator_runs_answers_whole(production, client, surface, query):
    status, body = get(client, SURFACES[surface], q=OPERATOR_RUNS[query])

    assert status == 200, body[:500]
    if "csv" in surface:
        assert len(body.splitlines()) > 1  # the stream went on past the header


@pytest.mark.parametrize("surface", SURFACES)
def test_a_search_that_is_too_long_is_refused_naming_q(production, client, surface):
    status, body = get(client, SURFACES[surface], q="biolabs " * 100)

    assert_names(status, body, SURFACES[surface], "q")


def test_operator_runs_are_dropped_and_words_kept(production, client):
    plain = get(client, "/api/v1/cases/", q="biolabs")
    noisy = get(client, "/api/v1/cases/", q="-" * 40 + " biolabs " + "-!" * 40)

    assert plain[0] == noisy[0] == 200
    assert json.loads(plain[1])["count"] > 0
    assert json.loads(noisy[1])["results"] == json.loads(plain[1])["results"]


def cursor(ordering, key):
    raw = json.dumps([ordering, "next", key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


HUGE = 99999999999999999999999
BAD_CURSORS = {
    "huge-id": cursor("-date", ["2022-01-10", HUGE]),
    "negative-huge-id": cursor("-date", ["2022-01-10", -HUGE]),
    "huge-id-undated": cursor("-date", [None, HUGE]),
}


@pytest.mark.parametrize("value", BAD_CURSORS)
@pytest.mark.parametrize("url", ["/cases/", "/api/v1/cases/"])
def test_a_cursor_out_of_range_is_refused_naming_cursor(production, client, url, value):
    status, body = get(client, url, cursor=BAD_CURSORS[value])

    assert_names(status, body, url, "cursor")


def test_a_cursor_in_range_still_pages(production, client):
    good = Cursor("-date", "next", (None, 2**63 - 1)).encode()

    status, _ = get(client, "/api/v1/cases/", cursor=good)

    assert status == 200


@pytest.mark.parametrize("surface", SURFACES)
def test_a_huge_issue_number_is_refused_naming_issue(production, client, surface):
    status, body = get(client, SURFACES[surface], issue=str(HUGE))

    assert_names(status, body, SURFACES[surface], "issue")


@pytest.mark.parametrize(
    "url", [f"/cases/{HUGE}/", f"/cases/{HUGE}/some-slug/", f"/api/v1/cases/{HUGE}/"]
)
def test_a_huge_case_id_in_the_path_is_not_found(production, client, url):
    status, _ = get(client, url)

    assert status == 404


@pytest.mark.parametrize(
    "url, parameter",
    [
        ("/api/v1/cases/facets/", "limit"),
        ("/api/v1/cases/", "page_size"),
        ("/corrections/", "page"),
        ("/api/v1/changes/", "since"),
        ("/api/v1/changes/", "limit"),
    ],
)
def test_a_huge_number_parameter_is_refused_naming_it(production, client, url, parameter):
    status, body = get(client, url, **{parameter: str(HUGE)})

    assert_names(status, body, url, parameter)


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_a_body_nested_too_deeply_is_refused(editor_client, opening):
    body = opening * 100_000

    response = editor_client.post("/api/v1/cases/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["status"] == 400
    assert "nested too deeply" in response.json()["errors"][0]["message"]


def test_a_body_nested_a_little_still_parses(editor_client):
    response = editor_client.post(
        "/api/v1/cases/", '{"title": [[["x"]]]}', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "title"  # read, then found wrong


def boom(*args, **kwargs):
    raise RuntimeError("unexpected")


def test_an_unexpected_api_error_answers_json(db, client, monkeypatch):
    from cases.api.views import CaseViewSet

    monkeypatch.setattr(CaseViewSet, "list", boom)
    client.raise_request_exception = False

    response = client.get("/api/v1/cases/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == 500
    assert body["errors"][0]["message"] and "unexpected" not in body["errors"][0]["message"]


def test_an_unexpected_page_error_stays_html(db, client, monkeypatch):
    monkeypatch.setattr("cases.site.views.paginate", boom)
    client.raise_request_exception = False

    response = client.get("/cases/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


FORMULA_CELLS = {
    "title": ('=HYPERLINK("https://evil.example")', '\'=HYPERLINK("https://evil.example")'),
    "summary": ("+1+1", "'+1+1"),
    "disproof": ("-2+3", "'-2+3"),
    "keywords": ("@SUM(A1)", "'@SUM(A1)"),
    "countries": ("\tTab", "'\tTab"),
}
CSV_URLS = {
    "export": "/cases/export/?format=csv",
    "api-list": "/api/v1/cases/?format=csv",
    "api-case": "/api/v1/cases/{pk}/?format=csv",
}


@pytest.mark.parametrize("url", CSV_URLS)
def test_no_csv_cell_starts_a_formula(db, client, url):
    from tests.factories import CaseFactory, CountryFactory, KeywordFactory

    given = {name: value for name, (value, _) in FORMULA_CELLS.items()}
    case = CaseFactory(
        title=given["title"],
        summary=given["summary"],
        disproof=given["disproof"],
        keywords=[KeywordFactory(name=given["keywords"])],
        countries=[CountryFactory(name=given["countries"])],
    )

    status, body = get(client, CSV_URLS[url].format(pk=case.pk))

    assert status == 200
    header, row = csv.reader(io.StringIO(body, newline=""))
    cells = dict(zip(header, row, strict=True))
    assert {name: cells[name] for name in FORMULA_CELLS} == {
        name: written for name, (_, written) in FORMULA_CELLS.items()
    }
    assert cells["date"] == "2022-01-10"  # other cells as they were


EXPORTS = ["/cases/export/?format=csv", "/cases/export/?format=ndjson", "/api/v1/cases/?format=csv"]


@pytest.mark.parametrize("url", EXPORTS)
def test_an_export_whose_query_fails_fails_before_it_starts(db, client, monkeypatch, url):
    from cases.readmodels import csv as readmodels_csv
    from cases.readmodels import json_export
    from tests.factories import CaseFactory

    CaseFactory()
    monkeypatch.setattr(readmodels_csv, "CSV_CHUNK_SQL", "SELECT no_such_function()")
    failing = collections.defaultdict(lambda: "SELECT no_such_function()")
    monkeypatch.setattr(json_export, "CHUNK_SQL", failing)

    status, _ = get(client, url)

    assert status == 500  # not a 200 cut short after the header
