"""Exports of the current view at /cases/export/: streamed, filtered, and importable again."""

import csv
import datetime
import io
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case
from cases.readmodels.csv import CSV_COLUMNS
from tests import test_export
from tests.factories import CaseFactory, KeywordFactory
from tests.test_export import all_comparable, empty_the_database

pytestmark = pytest.mark.django_db

# Two published cases and a draft, every kind of field filled somewhere.
sample = test_export.sample


def download(client, query):
    response = client.get(f"/cases/export/?{query}")
    assert response.status_code == 200, response.content
    assert response.streaming
    return response, b"".join(response.streaming_content).decode()


def import_text(tmp_path, name, text, *args):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    call_command("import_cases", str(path), "--status", "published", *args, stdout=StringIO())


def published_comparable():
    """The published cases as an export should carry them, drafts and links to them left out."""
    cases = [
        case for case in all_comparable(outlet_domains=False) if case["title"] != "A draft claim"
    ]
    for case in cases:
        case["related"] = [title for title in case["related"] if title != "A draft claim"]
    return cases


@pytest.mark.parametrize("export_format", ["csv", "json", "ndjson"])
def test_an_export_imports_back_into_an_empty_database_as_identical_cases(
    client, sample, tmp_path, export_format
):
    before = published_comparable()
    _, text = download(client, f"format={export_format}")
    empty_the_database()

    import_text(tmp_path, f"cases.{export_format}", text)

    assert all_comparable(outlet_domains=False) == before
    assert Case.objects.count() == 2


def test_the_csv_has_the_import_columns_and_every_published_case(client, sample):
    response, text = download(client, "format=csv")

    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == CSV_COLUMNS
    title = CSV_COLUMNS.index("title")
    assert [row[title] for row in rows[1:]] == [sample["first"].title, sample["second"].title]
    assert response["Content-Type"] == "text/csv; charset=utf-8"


def test_each_format_is_a_named_attachment(client, sample):
    today = datetime.date.today().isoformat()
    for export_format, content_type in (
        ("csv", "text/csv; charset=utf-8"),
        ("json", "application/json; charset=utf-8"),
        ("ndjson", "application/x-ndjson; charset=utf-8"),
    ):
        response, _ = download(client, f"format={export_format}")
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"] == (
            f'attachment; filename="disinfo-db-cases-{today}.{export_format}"'
        )


def test_csv_is_the_default_format(client, sample):
    response, text = download(client, "")
    assert response["Content-Type"].startswith("text/csv")
    assert text.startswith("id,url,source_id,source_url,status,title,date,")


def test_json_and_ndjson_hold_the_api_representation(client, sample):
    _, json_text = download(client, "format=json")
    _, ndjson_text = download(client, "format=ndjson")

    from_json = json.loads(json_text)
    from_ndjson = [json.loads(line) for line in ndjson_text.splitlines()]
    assert from_json == from_ndjson
    assert [case["title"] for case in from_json] == [sample["first"].title, "An undated claim"]
    assert from_json[0]["url"].startswith("http://testserver/cases/")


def test_drafts_are_never_exported(client, sample):
    for export_format in ("csv", "json", "ndjson"):
        _, text = download(client, f"format={export_format}")
        assert "A draft claim" not in text


def test_the_export_holds_every_matching_case_not_just_a_page(client):
    nato = KeywordFactory(name="NATO")
    for n in range(45):
        CaseFactory(title=f"NATO claim {n}", keywords=[nato])
    CaseFactory(title="Unrelated claim")

    _, text = download(client, "format=ndjson&keyword=nato")

    titles = [json.loads(line)["title"] for line in text.splitlines()]
    assert len(titles) == 45
    assert "Unrelated claim" not in titles


def test_the_export_reads_cases_a_chunk_at_a_time_as_it_streams(client, monkeypatch):
    monkeypatch.setattr("cases.readmodels.json_export.SQL_CHUNK_SIZE", 2)
    for n in range(5):
        CaseFactory(title=f"Claim {n}", keywords=[KeywordFactory(name=f"Keyword {n}")])
    with CaptureQueriesContext(connection) as first_chunks:
        # The first two chunks are read before the response starts (exports.started()).
        response = client.get("/cases/export/?format=ndjson&ordering=date")
        chunks = iter(response.streaming_content)
        first = next(chunks)
    with CaptureQueriesContext(connection) as the_rest:
        rest = list(chunks)

    assert [json.loads(line)["title"] for line in first.splitlines()] == ["Claim 0", "Claim 1"]
    assert [len(chunk.splitlines()) for chunk in rest] == [2, 1]
    # The cursor over the cases' ids, then each chunk's cases written by PostgreSQL in one
    # query: two before the response starts, one for the last chunk.
    assert len(first_chunks.captured_queries) == 1 + 2
    assert len(the_rest.captured_queries) == 1


class TestFiltersOnTheExport:
    def test_keyword(self, client):
        nato = KeywordFactory(name="NATO")
        CaseFactory(title="Match", keywords=[nato])
        CaseFactory(title="Other")
        _, text = download(client, "format=ndjson&keyword=nato")
        assert [json.loads(line)["title"] for line in text.splitlines()] == ["Match"]

    def test_search_and_date_range(self, client):
        CaseFactory(title="Elections were rigged", date=datetime.date(2021, 5, 1))
        CaseFactory(title="Elections were stolen", date=datetime.date(2019, 5, 1))
        CaseFactory(title="Vaccines are a plot", date=datetime.date(2021, 5, 1))
        _, text = download(client, "format=ndjson&q=elections&date_after=2020-01-01")
        assert [json.loads(line)["title"] for line in text.splitlines()] == [
            "Elections were rigged"
        ]

    def test_the_view_ordering_is_kept(self, client):
        CaseFactory(title="Older", date=datetime.date(2020, 1, 1))
        CaseFactory(title="Newer", date=datetime.date(2021, 1, 1))
        _, newest_first = download(client, "format=ndjson")
        _, oldest_first = download(client, "format=ndjson&ordering=date")
        assert [json.loads(line)["title"] for line in newest_first.splitlines()] == [
            "Newer",
            "Older",
        ]
        assert [json.loads(line)["title"] for line in oldest_first.splitlines()] == [
            "Older",
            "Newer",
        ]


def test_an_empty_view_exports_only_the_header_or_an_empty_list(client):
    assert download(client, "format=csv")[1] == ",".join(CSV_COLUMNS) + "\r\n"
    assert json.loads(download(client, "format=json")[1]) == []
    assert download(client, "format=ndjson")[1] == ""


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("format=xlsx", "format"),
        ("format=csv&keyword=no-such-keyword", "keyword"),
        ("format=json&date_after=yesterday", "date_after"),
        ("format=ndjson&ordering=sideways", "ordering"),
        ("format=csv&issue=abc", "issue"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(client, query, parameter):
    response = client.get(f"/cases/export/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert f"\n{parameter}: " in response.content.decode()


def test_a_bad_ndjson_line_is_reported_with_its_line_number(tmp_path):
    path = tmp_path / "cases.ndjson"
    path.write_text('{"title": "Good"}\n\n{"title": \n', encoding="utf-8")
    with pytest.raises(CommandError, match=r"cases.ndjson:3: invalid JSON"):
        call_command("import_cases", str(path), stdout=StringIO())
    assert Case.objects.count() == 0
