"""The bulk dumps: manage.py build_dumps writes them, /data/ serves them.

Drafts never leak into any file; the NDJSON lines are the API's case, the CSV is the
site's export, the SQLite file answers full-text and facet queries, and datapackage.json
describes every file and field (checked with the frictionless library).
"""

import csv
import gzip
import hashlib
import io
import json
import sqlite3

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection
from frictionless import Package

from cases.dumps import sqlite as dump_sqlite
from cases.dumps.build import build_dumps, current_manifest
from cases.dumps.watch import Watcher
from cases.freshness.dataversion import read_version
from cases.models import Case
from cases.site.exports import csv_lines
from tests.conftest import UNPUBLISHED_WORDS
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    CountryFactory,
    KeywordFactory,
    LanguageFactory,
    OutletFactory,
    edit,
)


@pytest.fixture
def dumps_dir(settings, tmp_path):
    settings.DUMPS_DIR = tmp_path / "dumps"
    # The API's case URLs as the test client is answered: the dump's lines are compared
    # with the API's.
    settings.SITE_URL = "http://testserver"
    return settings.DUMPS_DIR


def served(directory, name):
    manifest = current_manifest(directory)
    return directory / manifest["build"] / name


def ndjson_cases(directory):
    with gzip.open(served(directory, "cases.ndjson.gz"), "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def csv_text(directory):
    with gzip.open(served(directory, "cases.csv.gz"), "rt", encoding="utf-8", newline="") as f:
        return f.read()


def sqlite_rows(directory, sql, params=()):
    db = sqlite3.connect(served(directory, "cases.sqlite"))
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


@pytest.fixture
def some_cases(db):
    """Two published cases sharing labels, a draft, one in review and a withdrawn case;
    the unpublished ones carry UNPUBLISHED_WORDS in their text and in labels only they
    show."""
    nato = KeywordFactory(name="NATO")
    hushed = KeywordFactory(name=f"{UNPUBLISHED_WORDS[0]} keyword")
    ukraine = CountryFactory(name="Ukraine", iso_code="UA")
    english = LanguageFactory(code="en", name="English")
    truth = OutletFactory(name="Daily Truth", domain="dailytruth.example")
    secret = OutletFactory(name=f"{UNPUBLISHED_WORDS[1]} Courier")
    first = CaseFactory(
        title="NATO stages biolabs",
        summary='The outlet said "biolabs", with a comma',
        keywords=[nato],
        countries=[ukraine],
        languages=[english],
    )
    second = CaseFactory(title="Elections were rigged", keywords=[nato], date=None)
    first.related.add(second)
    AppearanceFactory(case=first, outlet=truth, url="https://dailytruth.example/1")
    hidden = []
    for status in (Case.Status.DRAFT, Case.Status.IN_REVIEW, Case.Status.WITHDRAWN):
        case = CaseFactory(
            title=f"{UNPUBLISHED_WORDS[0]} {status}",
            summary=UNPUBLISHED_WORDS[1],
            keywords=[hushed, nato],
            status=status,
            **({"withdrawal_reason": "A duplicate."} if status == Case.Status.WITHDRAWN else {}),
        )
        AppearanceFactory(case=case, outlet=secret)
        first.related.add(case)
        hidden.append(case)
    return first, second, hidden


def test_every_file_holds_the_published_cases_and_nothing_unpublished(dumps_dir, some_cases):
    first, second, _ = some_cases
    manifest = build_dumps()

    published = sorted([first.pk, second.pk])
    assert manifest["cases"] == 2
    assert [case["id"] for case in ndjson_cases(dumps_dir)] == published
    assert [int(row["id"]) for row in csv.DictReader(io.StringIO(csv_text(dumps_dir)))] == published
    assert [
        row[0] for row in sqlite_rows(dumps_dir, "SELECT id FROM cases ORDER BY id")
    ] == published
    for name in ("cases.ndjson.gz", "cases.csv.gz"):
        text = gzip.decompress(served(dumps_dir, name).read_bytes()).decode().lower()
        assert not any(word in text for word in UNPUBLISHED_WORDS), name
    sqlite_bytes = served(dumps_dir, "cases.sqlite").read_bytes().lower()
    assert not any(word.encode() in sqlite_bytes for word in UNPUBLISHED_WORDS)


def test_each_ndjson_line_is_the_case_as_the_api_shows_it(dumps_dir, some_cases, client):
    build_dumps()

    for case in ndjson_cases(dumps_dir):
        assert case == client.get(f"/api/v1/cases/{case['id']}/").json()


def test_the_csv_dump_is_the_export_format_byte_for_byte(dumps_dir, some_cases):
    build_dumps()

    reference = "".join(csv_lines(Case.objects.published().order_by("id")))
    assert csv_text(dumps_dir) == reference


def test_the_sqlite_file_has_full_text_search_and_facet_tables(dumps_dir, some_cases):
    first, second, _ = some_cases
    build_dumps()

    assert dump_sqlite.column_names(served(dumps_dir, "cases.sqlite")) == {
        table: [name for name, _, _ in columns] for table, columns in dump_sqlite.TABLES.items()
    }
    # Porter stemming: "biolab" finds "biolabs".
    found = sqlite_rows(
        dumps_dir, "SELECT rowid FROM cases_fts WHERE cases_fts MATCH ? ORDER BY rowid", ["biolab"]
    )
    assert found == [(first.pk,)]
    # How Datasette finds the full-text index of a table (datasette.utils.detect_fts).
    assert sqlite_rows(
        dumps_dir,
        "SELECT name FROM sqlite_master WHERE rootpage = 0"
        " AND sql LIKE '%VIRTUAL TABLE%USING FTS%content=[cases]%'",
    ) == [("cases_fts",)]
    per_keyword = sqlite_rows(
        dumps_dir,
        "SELECT k.slug, count(*) FROM case_keywords x JOIN keywords k ON k.id = x.keyword_id"
        " GROUP BY k.slug",
    )
    assert per_keyword == [("nato", 2)]
    assert sqlite_rows(dumps_dir, "SELECT slug FROM outlets") == [("daily-truth",)]
    # Related cases are symmetrical; the unpublished ones related to `first` stay out.
    assert sqlite_rows(
        dumps_dir, "SELECT case_id, related_case_id FROM related_cases ORDER BY case_id"
    ) == [(first.pk, second.pk), (second.pk, first.pk)]
    row = sqlite_rows(
        dumps_dir, "SELECT keywords, countries, languages, year FROM cases WHERE id = ?", [first.pk]
    )
    assert row == [('["nato"]', '["ukraine"]', '["en"]', 2022)]
    assert sqlite_rows(dumps_dir, "SELECT date, year FROM cases WHERE id = ?", [second.pk]) == [
        (None, None)
    ]


def test_the_datapackage_describes_every_file_and_validates_with_frictionless(
    dumps_dir, some_cases
):
    manifest = build_dumps()
    build = dumps_dir / manifest["build"]
    descriptor = json.loads((build / "datapackage.json").read_text())

    package = Package(descriptor, basepath=str(build))
    assert {resource.path for resource in package.resources} == {
        "cases.ndjson.gz",
        "cases.csv.gz",
        "cases.sqlite",
    }
    # Rows, types, sizes and sha256 checked by frictionless.
    for name in ("cases-ndjson", "cases-csv"):
        report = package.get_resource(name).validate()
        assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
        assert report.tasks[0].stats["rows"] == 2
    # The SQLite tables, against the file itself.
    columns = dump_sqlite.column_names(build / "cases.sqlite")
    sqlite_resources = [r for r in descriptor["resources"] if r["format"] == "sqlite"]
    assert {r["dialect"]["table"]: [f["name"] for f in r["schema"]["fields"]]
            for r in sqlite_resources} == columns  # fmt: skip
    digest = hashlib.sha256((build / "cases.sqlite").read_bytes()).hexdigest()
    assert {r["hash"] for r in sqlite_resources} == {f"sha256:{digest}"}
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert descriptor["version"] == str(manifest["seq"])


def test_the_data_page_lists_each_file_with_size_checksum_seq_and_licence(
    dumps_dir, some_cases, client
):
    manifest = build_dumps()

    page = client.get("/data/")
    assert page.status_code == 200
    text = page.content.decode()
    for entry in manifest["files"]:
        assert entry["name"] in text
        assert entry["sha256"] in text
    assert f"seq {manifest['seq']}" in text
    assert "Creative Commons Attribution 4.0 International" in text
    assert f"/api/v1/changes/?since={manifest['seq']}" in text

    index = client.get("/data/index.json").json()
    assert index["seq"] == manifest["seq"]
    assert index["changes_feed"] == f"http://testserver/api/v1/changes/?since={manifest['seq']}"
    assert [entry["name"] for entry in index["files"]] == [
        "cases.ndjson.gz",
        "cases.csv.gz",
        "cases.sqlite",
        "datapackage.json",
    ]
    for entry in index["files"]:
        body = b"".join(client.get(f"/data/{entry['name']}").streaming_content)
        assert len(body) == entry["bytes"]
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
        assert entry["seq"] == manifest["seq"]


def test_a_dump_file_is_served_with_etag_and_last_modified_and_revalidates(
    dumps_dir, some_cases, client
):
    build_dumps()
    (entry,) = [
        e for e in client.get("/data/index.json").json()["files"] if e["name"] == "cases.csv.gz"
    ]

    response = client.get("/data/cases.csv.gz")
    assert response.status_code == 200
    assert response["ETag"] == f'"{entry["sha256"]}"'
    assert response["Content-Type"] == "application/gzip"
    assert response["Content-Length"] == str(entry["bytes"])
    assert 'filename="cases.csv.gz"' in response["Content-Disposition"]
    assert "Last-Modified" in response
    response.close()

    again = client.get("/data/cases.csv.gz", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    since = client.get("/data/cases.csv.gz", HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
    assert since.status_code == 304


def test_the_index_revalidates_until_the_next_build(dumps_dir, some_cases, client):
    first, _, _ = some_cases
    build_dumps()
    etag = client.get("/data/index.json")["ETag"]

    assert client.get("/data/index.json", HTTP_IF_NONE_MATCH=etag).status_code == 304
    edit(first, title="Retitled")
    build_dumps()
    fresh = client.get("/data/index.json", HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200
    assert fresh["ETag"] != etag


def test_only_files_of_the_served_build_are_served(dumps_dir, some_cases, client):
    build_dumps()
    (dumps_dir / "secret.txt").write_text("not for the public")

    assert client.get("/data/secret.txt").status_code == 404
    assert client.get("/data/index.json/").status_code == 404
    assert client.get("/data/..%2Fsecret.txt").status_code == 404


def test_an_unknown_parameter_is_a_400_naming_it(dumps_dir, some_cases, client):
    build_dumps()

    for path in ("/data/", "/data/index.json", "/data/cases.csv.gz"):
        response = client.get(path + "?fomat=csv")
        assert response.status_code == 400
        assert "fomat" in response.content.decode()


def test_robots_keep_crawlers_from_the_large_files_but_not_the_page(db, client):
    lines = client.get("/robots.txt").content.decode().splitlines()

    assert "Disallow: /data/cases." in lines
    assert "Disallow: /data/" not in lines


def test_a_head_request_for_a_file_answers_its_headers(dumps_dir, some_cases, client):
    build_dumps()
    (entry,) = [e for e in current_manifest()["files"] if e["name"] == "cases.sqlite"]

    response = client.head("/data/cases.sqlite")
    assert response.status_code == 200
    assert response["ETag"] == f'"{entry["sha256"]}"'
    assert response["Content-Type"] == "application/vnd.sqlite3"
    assert response["Content-Length"] == str(entry["bytes"])


def test_before_the_first_build_the_page_says_so(dumps_dir, db, client):
    page = client.get("/data/")
    assert page.status_code == 200
    assert "No dump has been built yet" in page.content.decode()
    assert client.get("/data/index.json").status_code == 404
    assert client.get("/data/cases.csv.gz").status_code == 404


def test_a_new_build_replaces_the_served_one_and_keeps_the_one_before(dumps_dir, some_cases):
    first, _, _ = some_cases
    builds = []
    for n in range(3):
        edit(first, title=f"Retitled {n}")
        builds.append(build_dumps()["build"])

    assert current_manifest()["build"] == builds[-1]
    kept = sorted(path.name for path in dumps_dir.iterdir() if path.is_dir())
    assert kept == sorted(builds[-2:])
    assert ndjson_cases(dumps_dir)[0]["title"] == "Retitled 2"


def test_the_command_builds_the_dumps(dumps_dir, some_cases):
    out = io.StringIO()
    call_command("build_dumps", stdout=out, stderr=io.StringIO())

    assert "Built 2 cases at seq" in out.getvalue()
    assert current_manifest()["cases"] == 2


# --- Committed data: the seq and the watcher ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_dump_holds_exactly_the_changes_up_to_its_seq(dumps_dir, client):
    before = CaseFactory(title="Committed before the build")
    late = {}

    def commit_a_case_meanwhile(message):
        """Another connection commits a case once the build has read its seq."""
        if "Building dumps at seq" not in message or late:
            return
        other = psycopg2.connect(**connection.get_connection_params())
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO cases_case (title, slug, summary, disproof, status,"
                    " withdrawal_reason, version, created_at, updated_at,"
                    " published_at) VALUES ('Committed during the build', 'during', '', '',"
                    " 'published', '', 1, now(), now(), now()) RETURNING id"
                )
                late["id"] = cursor.fetchone()[0]
            other.commit()
        finally:
            other.close()

    manifest = build_dumps(log=commit_a_case_meanwhile)

    assert [case["id"] for case in ndjson_cases(dumps_dir)] == [before.pk]
    assert sqlite_rows(dumps_dir, "SELECT id FROM cases") == [(before.pk,)]
    csv_ids = [row["id"] for row in csv.DictReader(io.StringIO(csv_text(dumps_dir)))]
    assert csv_ids == [str(before.pk)]
    assert read_version().version > manifest["seq"]
    feed = client.get(f"/api/v1/changes/?since={manifest['seq']}").json()
    assert [entry["id"] for entry in feed["results"]] == [late["id"]]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.mark.django_db(transaction=True)
def test_the_watcher_builds_at_once_when_there_is_no_dump_then_waits_for_a_change(dumps_dir):
    CaseFactory()
    clock = Clock()
    watcher = Watcher(quiet=60, every=600, clock=clock)

    assert watcher.step()["seq"] == read_version().version
    clock.now += 3600
    assert watcher.step() is None


@pytest.mark.django_db(transaction=True)
def test_the_watcher_rebuilds_once_no_change_came_for_the_quiet_time(dumps_dir):
    case = CaseFactory()
    clock = Clock()
    watcher = Watcher(quiet=60, every=600, clock=clock)
    watcher.step()

    clock.now += 600
    edit(case, title="Retitled")
    assert watcher.step() is None  # the change just came
    clock.now += 59
    assert watcher.step() is None
    clock.now += 1
    manifest = watcher.step()
    assert manifest["seq"] == read_version().version
    assert ndjson_cases(dumps_dir)[0]["title"] == "Retitled"


@pytest.mark.django_db(transaction=True)
def test_a_steady_stream_of_changes_is_built_once_per_interval(dumps_dir):
    case = CaseFactory()
    clock = Clock()
    watcher = Watcher(quiet=60, every=600, clock=clock)
    watcher.step()

    builds = 0
    for minute in range(25):
        clock.now += 30
        edit(case, title=f"Edit {minute}")  # never 60 quiet seconds
        builds += watcher.step() is not None
    # 750 seconds of edits: the one build, 600 seconds after the first build.
    assert builds == 1
