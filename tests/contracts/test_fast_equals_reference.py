"""Every fast path answers exactly as the plain way it replaces, on committed data.

A fast path is a hand-written statement or an in-memory index standing in for an obvious,
slower way to the same answer: the case page's one statement for the ORM's seven queries,
the newest-page statement for the general API list, JSON and CSV written by PostgreSQL for
DRF's serializer and Python's csv module, and the facet index for exact SQL counts.

As wagtail runs one BackendTests mixin against every search backend, FastPathContract holds
the same promises for each: the fast answer equals the reference on every input, the fast
path is the one taken, and a public answer shows nothing unpublished. The data is
tests.conftest.make_committed_cases(), committed, so the fast paths engage as they do in
production (the facet index only serves committed data; exports read ahead on other
connections only outside a transaction).
"""

import csv
import io
import json
from contextlib import nullcontext
from urllib.parse import parse_qs, urlsplit

from django.apps import apps
from django.db import connection
from django.db.models import F, Prefetch
from django.http import QueryDict
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from cases import facets
from cases.api.serializers import CaseSerializer, prefetch_for_case_serializer
from cases.facets import (
    BROWSE_FACETS,
    browse_counts,
    count,
    estimated_count,
    exact_browse_counts,
    exact_facet_counts,
    exact_suggest,
    facet_counts,
    suggest,
)
from cases.facets import index as facet_index
from cases.facets.common import (
    ALIAS_MODELS,
    LABEL_FIELDS,
    NameIndex,
    filter_key,
    folded,
    name_rank,
)
from cases.filters import CaseFilter
from cases.importers.csv import parse_csv
from cases.models import Case
from cases.readmodels import csv as readmodels_csv
from cases.readmodels import json_export
from cases.readmodels.api_json import case_representations
from cases.readmodels.case_page import prefetch_list_relations, published_case_for_page
from cases.readmodels.csv import CSV_COLUMNS, sql_csv_lines
from cases.readmodels.json_export import sql_json_lines, sql_ndjson_lines
from cases.site.claimreview import citation, claim_review, permalink
from cases.site.exports import csv_lines, json_lines, ndjson_lines
from cases.site.stats import case_statistics, exact_case_statistics
from tests.conftest import UNPUBLISHED_WORDS
from tests.contracts import (
    QUERIES,
    SEARCHES,
    estimated_searches,
    newest_from_window,
    newest_since_window_day,
)


def case_filter(query, cases=None):
    if cases is None:
        cases = Case.objects.published()
    bound = CaseFilter(QueryDict(query), queryset=cases)
    assert bound.is_valid(), bound.errors
    return bound


def shows_something_unpublished(answer):
    text = repr(answer).lower()
    return [word for word in UNPUBLISHED_WORDS if word in text]


class FastPathContract:
    """What every fast path promises. A subclass says what its inputs are and how each
    way answers one; assert_fast_path_taken() shows that the fast way is really used."""

    def inputs(self, committed):
        raise NotImplementedError

    def fast(self, committed, given):
        raise NotImplementedError

    def reference(self, committed, given):
        raise NotImplementedError

    def public(self, given):
        """Whether the answer is the public's (editors' answers show drafts)."""
        return True

    def assert_fast_path_taken(self, committed):
        raise NotImplementedError

    def test_the_fast_path_answers_as_its_reference(self, committed):
        inputs = list(self.inputs(committed))
        assert inputs
        for given in inputs:
            assert self.fast(committed, given) == self.reference(committed, given), given

    def test_the_fast_path_is_the_one_taken(self, committed):
        self.assert_fast_path_taken(committed)

    def test_public_answers_show_nothing_unpublished(self, committed):
        for given in self.inputs(committed):
            if self.public(given):
                assert not shows_something_unpublished(self.fast(committed, given)), given


# --- The case page: one statement (cases.readmodels.case_page) for the ORM's prefetches ---


def fields(obj):
    return {name: value for name, value in vars(obj).items() if not name.startswith("_")}


CASE_PAGE_RELATIONS = (
    "languages",
    "countries",
    "keywords",
    "appearances",
    "related",
    "correction_notes",
)


def case_page_snapshot(case):
    """Everything a case page shows of the case: its fields, its relations in their order,
    and the page itself."""
    if case is None:
        return None
    request = RequestFactory().get(case.get_absolute_url())
    context = {
        "case": case,
        "claim_review": claim_review(case, request),
        "citation": citation(case, request),
        "permalink": permalink(case, request),
    }
    return {
        "case": fields(case),
        "issue": case.issue and fields(case.issue),
        **{name: [fields(o) for o in getattr(case, name).all()] for name in CASE_PAGE_RELATIONS},
        "outlets": [a.outlet and fields(a.outlet) for a in case.appearances.all()],
        "html": render_to_string("cases/case_detail.html", context, request),
    }


class TestCasePage(FastPathContract):
    def inputs(self, committed):
        ids = sorted(case.pk for case in committed.cases.values())
        return [*ids, ids[-1] + 1000]

    def fast(self, committed, pk):
        return case_page_snapshot(published_case_for_page(pk))

    def reference(self, committed, pk):
        published_related = Prefetch(
            "related", queryset=Case.objects.published().only("id", "title", "slug", "date")
        )
        cases = (
            Case.objects.published()
            .with_related_data()
            .prefetch_related(published_related, "correction_notes")
            .filter(pk=pk)
        )
        return case_page_snapshot(next(iter(cases), None))

    def assert_fast_path_taken(self, committed):
        spotlight = committed.spotlight
        with CaptureQueriesContext(connection) as queries:
            page = self.fast(committed, spotlight.pk)
        # The case, its relations and the data version in one statement; rendering the
        # page reads nothing more.
        assert len(queries.captured_queries) == 1
        assert "case_page" in queries.captured_queries[0]["sql"]
        # Not vacuous: the spotlight has several of everything, drafts among its related.
        assert all(len(page[name]) >= 2 for name in CASE_PAGE_RELATIONS)
        assert spotlight.related.exclude(status=Case.Status.PUBLISHED).exists()


# --- A page of the case list: one statement (prefetch_list_relations) for four prefetches --

LIST_RELATIONS = ("languages", "countries", "keywords", "appearances")


def list_page_snapshot(cases):
    """What the list shows of each case of a page: its fields, its issue, its relations in
    their order with the appearances' outlets, and the cards themselves."""
    request = RequestFactory().get("/cases/")
    return [
        {
            "case": fields(case),
            "issue": case.issue and fields(case.issue),
            **{name: [fields(o) for o in getattr(case, name).all()] for name in LIST_RELATIONS},
            "outlets": [a.outlet and fields(a.outlet) for a in case.appearances.all()],
            "meta": render_to_string("cases/_case_meta.html", {"case": case}, request),
        }
        for case in cases
    ]


class TestListRelations(FastPathContract):
    """Pages of the list (their cases read as the list reads them, with their issue), the
    relations filled by one statement, against with_related_data()'s prefetches."""

    def inputs(self, committed):
        ids = sorted(case.pk for case in committed.cases.values())
        return [tuple(ids), tuple(ids[:1]), tuple(ids[::3]), (ids[-1] + 1000,)]

    def page(self, ids):
        listing = Case.objects.published().with_related_data()
        return list(listing.prefetch_related(None).filter(pk__in=ids).order_by("-date", "-id"))

    def fast(self, committed, ids):
        cases = self.page(ids)
        prefetch_list_relations(cases)
        return list_page_snapshot(cases)

    def reference(self, committed, ids):
        listing = Case.objects.published().with_related_data()
        return list_page_snapshot(listing.filter(pk__in=ids).order_by("-date", "-id"))

    def assert_fast_path_taken(self, committed):
        cases = self.page([case.pk for case in committed.cases.values()])
        with CaptureQueriesContext(connection) as queries:
            prefetch_list_relations(cases)
            snapshot = list_page_snapshot(cases)
        assert len(queries.captured_queries) == 1
        assert "case_list_relations" in queries.captured_queries[0]["sql"]
        # Not vacuous: the page has several of every relation.
        assert all(sum(len(card[name]) for card in snapshot) >= 2 for name in LIST_RELATIONS)
        assert any(card["outlets"] and card["outlets"][0] for card in snapshot)


# --- The unfiltered API list: the newest-page statement for the general list --------------


def cursor_of(link):
    return link and parse_qs(urlsplit(link).query)["cursor"][0]


def walk(client, url):
    """Every page of an API list, forwards from `url` then back from the last page."""
    pages = []
    for direction in ("next", "previous"):
        while url:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, response.content
            body = response.json()
            pages.append(
                {
                    "results": body["results"],
                    "count": body["count"],
                    "next": cursor_of(body["next"]),
                    "previous": cursor_of(body["previous"]),
                    "statements": " ".join(q["sql"] for q in queries.captured_queries),
                }
            )
            last, url = body, body[direction]
        url = last["previous"]
    return pages


class TestNewestPage(FastPathContract):
    def inputs(self, committed):
        return [3, 8, 50]  # page sizes: many pages, a few, one

    def fast(self, committed, size):
        return [{**page, "statements": None} for page in walk(APIClient(), self.url(size))]

    def reference(self, committed, size):
        # The same order asked for explicitly: the general path.
        pages = walk(APIClient(), f"{self.url(size)}&ordering=-date")
        assert not any("newest_page" in page["statements"] for page in pages)
        return [{**page, "statements": None} for page in pages]

    @staticmethod
    def url(size):
        return f"/api/v1/cases/?page_size={size}"

    def assert_fast_path_taken(self, committed):
        first, second, *_ = walk(APIClient(), self.url(3))
        # Pages of dated cases come from the one statement, not from the general path's
        # page query and JSON statement (cases_json).
        for page in (first, second):
            assert "newest_page" in page["statements"]
            assert "cases_json" not in page["statements"]


# --- The API's JSON: written by PostgreSQL (case_representations) for CaseSerializer ------


class TestCaseJson(FastPathContract):
    def inputs(self, committed):
        published = sorted(c.pk for c in committed.cases.values() if c.status == "published")
        return ["public", "editor", "export", *(("detail", pk) for pk in published)]

    def public(self, given):
        return given != "editor"

    @staticmethod
    def context(given):
        request = RequestFactory().get("/api/v1/cases/")
        return {"request": request, "include_drafts": given == "editor"}

    def fast(self, committed, given):
        if given == "export":
            response = APIClient().get("/cases/export/?format=ndjson")
            lines = b"".join(response.streaming_content).decode().splitlines()
            return [json.loads(line) for line in lines]
        if given[0] == "detail":
            response = APIClient().get(f"/api/v1/cases/{given[1]}/")
            assert response.status_code == 200
            return response.json()
        ids = sorted(case.pk for case in committed.cases.values())
        return [json.loads(text) for *_, text in case_representations(ids, self.context(given))]

    def reference(self, committed, given):
        cases = Case.objects.all() if given == "editor" else Case.objects.published()
        if given[0] == "detail":
            cases = cases.filter(pk=given[1])
        in_order = ("id",)
        if given == "export":
            in_order = (F("date").desc(nulls_last=True), "-id")  # the list's order
        cases = prefetch_for_case_serializer(cases.order_by(*in_order))
        data = [CaseSerializer(case, context=self.context(given)).data for case in cases]
        return data[0] if given[0] == "detail" else data

    def assert_fast_path_taken(self, committed):
        pk = committed.spotlight.pk
        with CaptureQueriesContext(connection) as queries:
            self.fast(committed, ("detail", pk))
        # One statement reads the case with everything it shows, and the data version.
        reads = [q["sql"] for q in queries.captured_queries if "case" in q["sql"]]
        assert len(reads) == 1 and "case_json" in reads[0]
        with CaptureQueriesContext(connection) as queries:
            self.fast(committed, "public")
        assert len(queries.captured_queries) == 1
        assert "cases_json" in queries.captured_queries[0]["sql"]


# --- CSV: written by PostgreSQL (sql_csv_lines) for Python's csv module (csv_lines) --------


class TestCsv(FastPathContract):
    def inputs(self, committed):
        return [
            *((query, ";", False) for query in QUERIES),
            ("", "|", False),
            ("", ",", False),
            ("", ";", True),
            ("keyword=nato", "|", True),
        ]

    def public(self, given):
        return not given[2]

    @staticmethod
    def cases(query, include_drafts):
        everyone = Case.objects.all() if include_drafts else Case.objects.published()
        return case_filter(query, everyone).qs

    def fast(self, committed, given):
        query, sep, include_drafts = given
        chunks = sql_csv_lines(self.cases(query, include_drafts), sep, include_drafts)
        return b"".join(chunks).decode()

    def reference(self, committed, given):
        query, sep, include_drafts = given
        return "".join(csv_lines(self.cases(query, include_drafts), sep, include_drafts))

    def assert_fast_path_taken(self, committed):
        # Outside a transaction, as in a request, the rows are read ahead on other
        # connections: this one only reads the ids.
        assert not connection.in_atomic_block
        with CaptureQueriesContext(connection) as queries:
            text = self.fast(committed, ("", ";", False))
        assert len(queries.captured_queries) == 1
        assert "cases_case" in queries.captured_queries[0]["sql"]
        assert '"A ""quoted"", title\nover two lines"' in text

    def test_awkward_text_reads_back_cell_for_cell(self, committed):
        quoted, bare, one_quote = committed.quoted, committed.bare, committed.one_quote
        cases = Case.objects.filter(pk__in=[quoted.pk, bare.pk, one_quote.pk]).order_by("id")
        text = b"".join(sql_csv_lines(cases)).decode()
        header, *rows = csv.reader(io.StringIO(text, newline=""))
        content = ["title", "date", "summary", "disproof", "issue", "languages", "countries"]
        content += ["keywords", "outlets", "urls", "archive_urls", "related"]

        assert header == CSV_COLUMNS
        cells = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows]
        assert [{name: row[name] for name in content} for row in cells] == [
            {
                "title": 'A "quoted", title\nover two lines',
                "date": "2015-03-01",
                "summary": 'Windows\r\nline ends, a lone\rcarriage return, and "quotes"',
                "disproof": "  Leading and trailing spaces, été, Россия, 😀  ",
                "issue": "1",
                "languages": "Français",
                # The separator and the backslash inside a value are escaped.
                "countries": "Bosnia\\; Herzegovina;Côte d’Ivoire",
                "keywords": 'Comma, keyword;Pipe|keyword;Say "no"',
                "outlets": 'The "Outlet";',
                "urls": "https://outlet.example/a,b?c=d;https://blog.example/p",
                "archive_urls": ";https://archive.example/x",
                "related": f'{committed.claim_3.title};\\\\.;"',  # drafts left out
            },
            dict.fromkeys(content, "") | {"title": "\\.", "related": quoted.title},
            dict.fromkeys(content, "")
            | {"title": '"', "date": "1999-12-31", "summary": "\n", "disproof": " "}
            | {"related": quoted.title},
        ]
        assert [row["id"] for row in cells] == [str(quoted.pk), str(bare.pk), str(one_quote.pk)]
        assert cells[0]["country_slugs"] == ";".join(
            quoted.countries.order_by("name").values_list("slug", flat=True)
        )

        first, second, _third = parse_csv(text, "export.csv", sep=";")
        assert [c.name for c in first.countries] == ["Bosnia; Herzegovina", "Côte d’Ivoire"]
        assert first.related_titles == [committed.claim_3.title, "\\.", '"']
        assert (first.case_id, second.title) == (quoted.pk, "\\.")

    def test_no_cell_starts_a_formula_and_import_reads_each_back(self, committed):
        # OWASP's CSV injection: a quote before = + - @ tab or carriage return (and before
        # quotes that come before one). A committed write, put back afterwards.
        bare = committed.bare
        texts = {"title": "=1+2", "summary": "\t@SUM(A1)", "disproof": "'-3"}
        Case.objects.filter(pk=bare.pk).update(**texts)
        try:
            cases = Case.objects.filter(pk=bare.pk)
            fast = b"".join(sql_csv_lines(cases)).decode()
            reference = "".join(csv_lines(cases))
        finally:
            Case.objects.filter(pk=bare.pk).update(
                title=bare.title, summary=bare.summary, disproof=bare.disproof
            )

        assert fast == reference
        _header, row = csv.reader(io.StringIO(fast, newline=""))
        cells = dict(zip(CSV_COLUMNS, row, strict=True))
        assert cells["title"] == "'=1+2"
        assert cells["summary"] == "'\t@SUM(A1)"
        assert cells["disproof"] == "''-3"
        assert cells["related"] == committed.quoted.title  # nothing to neutralise
        parsed = parse_csv(fast, "export.csv", sep=";")
        assert [(p.title, p.summary, p.disproof) for p in parsed] == [
            ("=1+2", "@SUM(A1)", "'-3")  # the import strips the summary's tab
        ]

    def test_reading_ahead_one_case_at_a_time_changes_nothing(self, committed, monkeypatch):
        # One case per chunk: every chunk but the first is read ahead.
        monkeypatch.setattr(readmodels_csv, "SQL_CHUNK_SIZE", 1)
        given = ("keyword=nato", ";", True)
        assert self.fast(committed, given) == self.reference(committed, given)

    def test_the_site_download_is_the_model_based_export(self, committed, client):
        response = client.get("/cases/export/?format=csv&keyword=nato")
        published = case_filter("keyword=nato").qs.order_by(F("date").desc(nulls_last=True), "-id")
        reference = csv_lines(published, request=response.wsgi_request)
        assert b"".join(response.streaming_content).decode() == "".join(reference)

    def test_the_api_csv_is_the_export_text_with_drafts_for_editors(self, committed):
        editor = APIClient()
        editor.credentials(HTTP_AUTHORIZATION=f"Token {committed.editor_token}")
        by_date = Case.objects.order_by(F("date").desc(nulls_last=True), "-id")

        def body(client):
            response = client.get("/api/v1/cases/?format=csv")
            return b"".join(response.streaming_content).decode(), response.wsgi_request

        text, request = body(APIClient())
        published = by_date.filter(status="published")
        assert text == "".join(csv_lines(published, request=request))
        text, request = body(editor)
        assert text == "".join(csv_lines(by_date, include_drafts=True, request=request))


# --- JSON and NDJSON: written by PostgreSQL (json_export) for CaseSerializer + json.dumps ---


class TestJsonExport(FastPathContract):
    """sql_json_lines() and sql_ndjson_lines() against json_lines() and ndjson_lines(), byte
    for byte: escaping, separators and indentation, empty lists, null dates and outlets,
    archives, related cases (drafts only for editors), with and without a request."""

    def inputs(self, committed):
        return [
            *(
                (export_format, query, False)
                for export_format in ("json", "ndjson")
                for query in QUERIES
            ),
            ("json", "", True),
            ("ndjson", "", True),
            ("ndjson", "keyword=nato", True),
            ("ndjson", "request", False),
            ("json", "request", True),
        ]

    def public(self, given):
        return not given[2]

    @staticmethod
    def arguments(given):
        export_format, query, include_drafts = given
        request = None
        if query == "request":
            request, query = RequestFactory().get("/cases/export/"), ""
        cases = TestCsv.cases(query, include_drafts).order_by("id")
        return cases, {"request": request, "include_drafts": include_drafts}

    def fast(self, committed, given):
        cases, kwargs = self.arguments(given)
        lines = sql_json_lines if given[0] == "json" else sql_ndjson_lines
        return b"".join(lines(cases, **kwargs)).decode()

    def reference(self, committed, given):
        cases, kwargs = self.arguments(given)
        lines = json_lines if given[0] == "json" else ndjson_lines
        return "".join(lines(cases, **kwargs))

    def assert_fast_path_taken(self, committed):
        # Outside a transaction the cases are written on other connections: this one only
        # reads the ids.
        assert not connection.in_atomic_block
        for given in (("json", "", False), ("ndjson", "", False)):
            with CaptureQueriesContext(connection) as queries:
                text = self.fast(committed, given)
            assert len(queries.captured_queries) == 1
            assert '"title": "A \\"quoted\\", title\\nover two lines"' in text

    def test_every_character_json_escapes_is_escaped_as_python_does(self, committed):
        # Control characters (named and \u00xx), quotes, backslashes, a slash, DEL, the
        # line separators JavaScript minds, and characters beyond the BMP. A committed
        # write, put back afterwards.
        bare = committed.bare
        texts = {
            "title": 'Tab\there, bell\x07, \x1f, \b\f, "quote" \\ back/slash \x7f',
            "summary": "Line\u2028separator\u2029paragraph, été, Россия, 😀, 中文",
            "disproof": "\r\n\x01",
        }
        Case.objects.filter(pk=bare.pk).update(**texts)
        try:
            cases = Case.objects.filter(pk=bare.pk)
            fast = tuple(
                b"".join(lines(cases)).decode() for lines in (sql_ndjson_lines, sql_json_lines)
            )
            reference = "".join(ndjson_lines(cases)), "".join(json_lines(cases))
        finally:
            Case.objects.filter(pk=bare.pk).update(
                title=bare.title, summary=bare.summary, disproof=bare.disproof
            )

        assert fast == reference
        assert json.loads(fast[0])["title"] == texts["title"]
        assert "\\u0007" in fast[0] and "\\t" in fast[0]

    def test_reading_ahead_one_case_at_a_time_changes_nothing(self, committed, monkeypatch):
        monkeypatch.setattr(json_export, "SQL_CHUNK_SIZE", 1)
        for given in (("json", "keyword=nato", True), ("ndjson", "", False)):
            assert self.fast(committed, given) == self.reference(committed, given)

    def test_an_empty_export_is_an_empty_list_or_no_lines(self, committed):
        for export_format, empty in (("json", "[\n]\n"), ("ndjson", "")):
            given = (export_format, "updated_since=2999-01-01T00:00:00Z", False)
            assert self.fast(committed, given) == self.reference(committed, given) == empty

    def test_the_site_downloads_are_the_serializer_based_exports(self, committed, client):
        newest_first = case_filter("keyword=nato").qs.order_by(
            F("date").desc(nulls_last=True), "-id"
        )
        for export_format, lines in (("json", json_lines), ("ndjson", ndjson_lines)):
            response = client.get(f"/cases/export/?format={export_format}&keyword=nato")
            reference = lines(newest_first, request=response.wsgi_request)
            assert b"".join(response.streaming_content).decode() == "".join(reference)


# What the type-ahead filters are asked: a start of a name, a word inside one, letters inside
# one, accents and capitals that names do not have, and nothing typed yet.
TYPED = ["", "bio", "N", "truth", "kraï", "an", "zz"]


class TestTypeAhead(FastPathContract):
    """suggest() from the index against exact_suggest(): the values found by name, their
    counts under the current filters and what each would add to a facet's selection."""

    def inputs(self, committed):
        return [
            *(
                (facet, typed, query, 5)
                for facet in ("keyword", "country", "language", "outlet")
                for typed in TYPED
                for query in QUERIES[:12]
            ),
            # Short lists: counting stops early, ties in count are broken by name.
            *(
                (facet, typed, query, limit)
                for facet in ("keyword", "outlet")
                for typed in ("", "e")
                for query in QUERIES[:6]
                for limit in (1, 2)
            ),
        ]

    def fast(self, committed, given):
        facet, typed, query, limit = given
        if len(typed) % 2:
            # As after the list page: counts are read from its facet counts, not counted.
            facet_counts(case_filter(query))
        else:
            # Nothing counted yet under these filters, as in a process not asked before.
            facet_index.current_index().results.clear()
        return suggest(case_filter(query), facet, typed, limit)

    def reference(self, committed, given):
        facet, typed, query, limit = given
        return exact_suggest(case_filter(query), facet, typed, limit)

    def assert_fast_path_taken(self, committed):
        assert facet_index.current_index() is not None
        bound = case_filter("keyword=nato&country=ukraine")
        with CaptureQueriesContext(connection) as queries:
            found = suggest(bound, "keyword", "bio", 10)
        assert len(queries.captured_queries) == 1  # the data version; names from the index
        assert [value.value for value in found] == ["biolabs"]
        assert found[0].adds is not None  # keyword has a selection: biolabs is ORed in
        # Values are counted biggest first, and only until no other can make the list.
        index = facet_index.current_index()
        index.results.clear()
        bound = case_filter("country=ukraine")
        found = suggest(bound, "outlet", "", 1)
        counted = index.results[
            (index.version, filter_key(bound.form.cleaned_data), "suggest-counts", "outlet")
        ]
        assert len(found) == 1
        assert 0 < len(counted) < len(index.by_size["outlet"])


class TestNameIndex(FastPathContract):
    """cases.facets.common.NameIndex, the index's way to find values by name, against
    name_rank() tried on every name and alias of every value, as exact_suggest() does."""

    def inputs(self, committed):
        return [
            (facet, typed)
            for facet in ("keyword", "country", "language", "outlet")
            for typed in [*TYPED, "e", "r", "ru", "cour", "d ", "-", "’"]
        ]

    def fast(self, committed, given):
        facet, typed = given
        tiers = facet_index.current_index().name_index[facet].tiers(folded(typed))
        return {pk: rank for rank, pks in tiers for pk in pks}

    def reference(self, committed, given):
        facet, typed = given
        model_name = LABEL_FIELDS[facet][0]
        alias_model, target = ALIAS_MODELS[facet]
        names = {
            pk: [folded(name)]
            for pk, name in apps.get_model("cases", model_name).objects.values_list("pk", "name")
        }
        aliases = apps.get_model("cases", alias_model).objects.values_list(target, "name")
        for pk, alias in aliases:
            names[pk].append(folded(alias))
        typed = folded(typed)
        ranks = {pk: name_rank(typed, found) if typed else 0 for pk, found in names.items()}
        return {pk: rank for pk, rank in ranks.items() if rank is not None}

    def assert_fast_path_taken(self, committed):
        index = facet_index.current_index()
        assert index is not None
        assert all(isinstance(index.name_index[f], NameIndex) for f in LABEL_FIELDS)


# --- Counts: the facet index (cases.facets) for exact SQL -------------------------------


class TestFacetIndex(FastPathContract):
    def inputs(self, committed):
        return [
            *(("facets", query, None) for query in QUERIES),
            *(("facets", query, 1) for query in QUERIES[:6]),
            *(("count", query) for query in QUERIES),
            *(("statistics", query) for query in QUERIES),
            *(("browse", facet) for facet in BROWSE_FACETS),
            *(("newest", query, limit) for query in QUERIES for limit in (1, 3, 1000)),
        ]

    def fast(self, committed, given):
        kind, *args = given
        if kind == "facets":
            query, limit = args
            return facet_counts(case_filter(query), limit=limit)
        if kind == "count":
            return count(case_filter(args[0])), estimated_count(case_filter(args[0]))
        if kind == "statistics":
            return case_statistics(case_filter(args[0]))
        if kind == "newest":
            # The newest matches a search ranks, in the order of the list by date.
            query, limit = args
            bound = case_filter(query)
            index = facet_index.current_index()
            matching, approximate = index.matching(bound, bound.form.cleaned_data)
            newest = facets.newest_matching(bound, limit)
            assert not approximate and newest.searched
            assert set(newest.ids) == set(index.newest_first(matching, limit))
            return index.newest_first(matching, limit)
        return browse_counts(args[0])

    def reference(self, committed, given):
        kind, *args = given
        if kind == "facets":
            query, limit = args
            return exact_facet_counts(case_filter(query), limit=limit)
        if kind == "count":
            total = exact_facet_counts(case_filter(args[0])).total
            return total, (total, False)
        if kind == "statistics":
            return exact_case_statistics(case_filter(args[0]).qs)
        if kind == "newest":
            query, limit = args
            newest_first = case_filter(query).qs.order_by(F("date").desc(nulls_last=True), "-id")
            return list(newest_first.values_list("id", flat=True)[:limit])
        return exact_browse_counts(args[0])

    def assert_fast_path_taken(self, committed):
        assert facet_index.current_index() is not None, "the index serves committed data"
        bound = case_filter("keyword=nato&country=ukraine&year=2023")
        with CaptureQueriesContext(connection) as queries:
            result = facet_counts(bound)
        assert len(queries.captured_queries) == 1  # the data version; counts from the index
        assert result.total > 0
        assert facets.tally(bound) is not None


# --- The newest matches of an estimated search: its window (cases.facets.index) for SQL ---


class TestSearchWindow(FastPathContract):
    """The newest matches of a search counted on the sample, from the matches since a day
    fetched with the sample's, against the filter's SQL in the order of the list by date:
    the newest `limit` matches since that day, which are the newest of all, when there are
    enough of them to rank (else SQL is asked)."""

    def inputs(self, committed):
        return [(query, limit) for query in SEARCHES for limit in (1, 3, 1000)]

    def fast(self, committed, given):
        with estimated_searches():
            return newest_from_window(*given)

    def reference(self, committed, given):
        return newest_since_window_day(*given)

    def assert_fast_path_taken(self, committed):
        with estimated_searches():
            bound = case_filter("q=claim")
            assert facet_counts(bound).approximate
            index = facet_index.current_index()
            assert ("q", "claim") in index.windows
            with CaptureQueriesContext(connection) as queries:
                newest = facets.newest_matching(bound, 3)
            assert len(queries.captured_queries) == 1  # the data version
            assert newest.searched and len(newest.ids) == 3


# --- The first page, newest first: its ids from the index (facets.newest_ids) for SQL ----


def newest_ids_by_sql(query, limit):
    """The filter's `limit` newest matches in the list's default order, as SQL finds them."""
    newest = case_filter(query).qs.order_by(F("date").desc(nulls_last=True), "-id")
    return sorted(newest.values_list("id", flat=True)[:limit])


class TestNewestIds(FastPathContract):
    """The ids the first page of a list in its default order is read by: exactly the
    filter's newest matches, as many as the page asks for, or None (the page is read with
    SQL alone). Filters the index counts, and searches counted on the sample (their
    window), with a page of one, three, 21 (the site's 20 and one more) and 1,000."""

    LIMITS = (1, 3, 21, 1000)

    def inputs(self, committed):
        return [
            *((False, query, limit) for query in QUERIES for limit in self.LIMITS),
            *((True, query, limit) for query in SEARCHES for limit in self.LIMITS),
        ]

    def fast(self, committed, given):
        estimated, query, limit = given
        with estimated_searches() if estimated else nullcontext():
            bound = case_filter(query)
            facet_counts(bound)  # an estimated search's count fetches its window
            ids = facets.newest_ids(bound, limit)
        return "SQL" if ids is None else sorted(ids)

    def reference(self, committed, given):
        estimated, query, limit = given
        if estimated:
            # Past the window only SQL knows: the index says so rather than guess.
            since = newest_since_window_day(query, limit)
            if since == "searched in SQL" or len(since) < limit:
                return "SQL"
        return newest_ids_by_sql(query, limit)

    def assert_fast_path_taken(self, committed):
        assert facet_index.current_index() is not None
        for query in QUERIES:
            assert facets.newest_ids(case_filter(query), 21) is not None, query
        with estimated_searches():
            bound = case_filter("q=claim")
            assert facet_counts(bound).approximate
            assert facets.newest_ids(bound, 3) == newest_ids_by_sql("q=claim", 3)


class TestMatchingIds(FastPathContract):
    """The ids a feed is read among (an order the index does not keep): every match of
    the filter, or None when there are more than the limit or the index only estimates
    them (SQL reads the feed alone). Filters the index counts and searches it fetches
    whole, with limits below, at and above their match counts."""

    LIMITS = (0, 1, 3, 1000)

    def inputs(self, committed):
        return [(query, limit) for query in (*QUERIES, *SEARCHES) for limit in self.LIMITS]

    def fast(self, committed, given):
        query, limit = given
        ids = facets.matching_ids(case_filter(query), limit)
        return "SQL" if ids is None else sorted(ids)

    def reference(self, committed, given):
        query, limit = given
        ids = sorted(case_filter(query).qs.values_list("id", flat=True))
        return "SQL" if len(ids) > limit else ids

    def assert_fast_path_taken(self, committed):
        assert facet_index.current_index() is not None
        for query in QUERIES:
            assert facets.matching_ids(case_filter(query), 1000) is not None, query
        with estimated_searches():
            # An estimated search's matches are known only on the sample: SQL reads them.
            bound = case_filter("q=claim")
            assert facet_counts(bound).approximate
            assert facets.matching_ids(bound, 1000) is None


# --- The admin's filter counts (cases.admin_lists) for Django's own -----------------------


def admin_case_lists():
    """The case lists the admin's filters count over: the whole list, a language's (an
    EXISTS, as cases.admin.LinkedValueFilter writes it), a status and a search."""
    from django.db.models import Exists, OuterRef

    from cases.search import prefix_query

    english = Case.languages.through.objects.filter(case_id=OuterRef("pk"), language__code="en")
    listed = Case.objects.order_by("-date", "-id")  # as the admin lists them
    return {
        "every case": listed,
        "in English": listed.filter(Exists(english)),
        "drafts": listed.filter(status=Case.Status.DRAFT),
        "search": listed.filter(search_vector=prefix_query("biolab")),
    }


class TestAdminFilterCounts(FastPathContract):
    """The admin's "Show counts": the facet index's published counts plus a GROUP BY of
    the others, or one GROUP BY, for Django's one COUNT(... FILTER) per value."""

    def inputs(self, committed):
        return [
            (counted, name)
            for counted in ("languages", "countries", "keywords", "status")
            for name in admin_case_lists()
        ]

    def fast(self, committed, given):
        from cases.admin_lists import linked_value_counts, status_counts

        counted, name = given
        cases = admin_case_lists()[name]
        found = status_counts(cases) if counted == "status" else linked_value_counts(cases, counted)
        return {value: number for value, number in found.items() if number}

    def reference(self, committed, given):
        counted, name = given
        cases = admin_case_lists()[name]
        if counted == "status":
            values = [value for value, _ in Case.Status.choices]
            counts = {value: cases.filter(status=value).count() for value in values}
        else:
            model = Case._meta.get_field(counted).related_model
            pks = model.objects.values_list("pk", flat=True)
            counts = {pk: cases.filter(**{counted: pk}).count() for pk in pks}
        return {value: number for value, number in counts.items() if number}

    def public(self, given):
        return False  # the admin's: drafts counted too

    def assert_fast_path_taken(self, committed):
        from cases.admin_lists import linked_value_counts, status_counts

        assert facet_index.current_index() is not None
        for counted in ("languages", "keywords"):
            with CaptureQueriesContext(connection) as queries:
                counts = linked_value_counts(Case.objects.all(), counted)
            asked = [query["sql"] for query in queries.captured_queries]
            # Besides the data version, only the links of the cases not published: the
            # published cases' counts come from the index.
            counting = [sql for sql in asked if "read_version" not in sql]
            assert len(counting) == 1 and "NOT (" in counting[0], asked
            assert sum(counts.values()) > 0
            # Kept until the next write.
            with CaptureQueriesContext(connection) as queries:
                assert linked_value_counts(Case.objects.all(), counted) == counts
            assert all("read_version" in q["sql"] for q in queries.captured_queries)
        with CaptureQueriesContext(connection) as queries:
            status_counts(Case.objects.all())
        counting = [q["sql"] for q in queries.captured_queries if "read_version" not in q["sql"]]
        assert len(counting) == 1 and "NOT (" in counting[0]
