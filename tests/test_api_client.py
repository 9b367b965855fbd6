"""A client generated from the OpenAPI schema works: what a partner developer does first.

openapi-python-client writes a Python package from /api/v1/schema/ (offline, into a
temporary folder); the tests import it and use it against a live server holding the seed
cases: list, read a case in each format, and follow changes. Generating takes seconds, so
the module does it once.
"""

import csv
import importlib
import inspect
import io
import subprocess
import sys
import typing
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections

from cases.models import Case
from cases.services import editing
from tests.conftest import SEED_FILE
from tests.factories import edit

pytestmark = pytest.mark.django_db(transaction=True)

PACKAGE = "disinfo_api_client"


@pytest.fixture(scope="module")
def api(tmp_path_factory, django_db_setup, django_db_blocker):
    """The generated package, imported."""
    folder = tmp_path_factory.mktemp("client")
    schema = folder / "schema.json"
    with django_db_blocker.unblock():
        call_command("spectacular", "--format", "openapi-json", "--file", str(schema))
    config = folder / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run: nothing outside the package
    subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(schema),
            "--meta",
            "none",
        ]
        + ["--config", str(config), "--output-path", str(folder / PACKAGE)],
        check=True,
        capture_output=True,
        text=True,
    )
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def operation(name):
    tag = name.split("_")[0]
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")


@pytest.fixture
def client(api, live_server, settings, monkeypatch):
    settings.DISINFO_API_ANON_RATE = ""
    # The server's threads close their connections after each request, as the test
    # database is dropped at the end.
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)
    call_command("import_cases", str(SEED_FILE), "--status", "published", stdout=io.StringIO())
    return api.Client(base_url=live_server.url, raise_on_unexpected_status=True)


@pytest.fixture
def seed():
    return list(Case.objects.published().order_by("id"))


def test_reads_are_typed_to_take_a_client_without_credentials(api):
    def client_type(name):
        return inspect.signature(operation(name).sync).parameters["client"].annotation

    for name in ("cases_list", "cases_retrieve", "cases_retrieve_jsonld", "changes_retrieve"):
        assert set(typing.get_args(client_type(name))) == {api.AuthenticatedClient, api.Client}
    assert client_type("cases_create") is api.AuthenticatedClient


def test_the_json_operation_of_a_case_only_asks_for_json(api):
    # Other formats have their own operations, whose answers the client types.
    assert [member.value for member in api.models.CasesRetrieveFormat] == ["json"]
    assert [member.value for member in api.models.CasesListFormat] == ["json"]


def every_page(client, **filters):
    """The list's results, following `next` to the end."""
    results = []
    while True:
        page = operation("cases_list").sync(client=client, page_size=3, **filters)
        results += page.results
        if not page.next_:
            return page.count, results
        filters["cursor"] = parse_qs(urlsplit(page.next_).query)["cursor"][0]


def test_the_list_is_walked_page_by_page_to_every_published_case(client, seed):
    count, results = every_page(client)
    assert count == len(seed)
    assert sorted(case.id for case in results) == [case.pk for case in seed]


def test_a_case_is_read_in_each_format(client, seed):
    case = seed[0]

    as_json = operation("cases_retrieve").sync(id=case.pk, client=client)
    assert (as_json.id, as_json.title) == (case.pk, case.title)

    review = operation("cases_retrieve_jsonld").sync(id=case.pk, client=client)
    assert review.claim_reviewed == case.title
    assert review.url == as_json.url
    assert review.review_rating.alternate_name.value == "Disinformation"
    assert review.item_reviewed.in_language == "ru"

    text = operation("cases_retrieve_csv").sync(id=case.pk, client=client)
    header, row = csv.reader(io.StringIO(text))
    cells = dict(zip(header, row, strict=True))
    assert (cells["id"], cells["url"]) == (str(case.pk), as_json.url)


def test_the_list_is_read_in_each_format(client, seed):
    graph = operation("cases_list_jsonld").sync(client=client, page_size=500)
    assert sorted(review.url for review in graph.graph) == sorted(
        operation("cases_retrieve").sync(id=case.pk, client=client).url for case in seed
    )

    text = operation("cases_list_csv").sync(client=client, keyword=["mi6"])
    header, *rows = csv.reader(io.StringIO(text))
    assert [row[header.index("keyword_slugs")] for row in rows] == [
        ";".join(keyword.slug for keyword in seed[0].keywords.order_by("name"))
    ]


def test_a_copy_follows_the_changes_feed_and_the_updated_since_sync(api, client, seed):
    changes = operation("changes_retrieve")
    first = changes.sync(client=client, since=0)
    copy = {item.id: item.case.title for item in first.results}
    assert sorted(copy) == [case.pk for case in seed]

    gone = seed[1]
    editing.delete_case(gone)
    later = changes.sync(client=client, since=first.last_seq)
    assert [(item.id, item.reason.value) for item in later.results] == [(gone.pk, "deleted")]

    since = min(case.updated_at for case in seed)
    _, synced = every_page(client, updated_since=since)
    tombstones = [item.id for item in synced if isinstance(item, api.models.Tombstone)]
    assert tombstones == [gone.pk]
    assert sorted(item.id for item in synced if isinstance(item, api.models.Case)) == sorted(
        case.pk for case in seed if case != gone
    )


def test_a_current_copy_is_not_sent_again(client, seed):
    retrieve = operation("cases_retrieve")
    first = retrieve.sync_detailed(id=seed[0].pk, client=client)
    again = retrieve.sync_detailed(
        id=seed[0].pk, client=client, if_none_match=first.headers["ETag"]
    )
    assert (first.status_code, again.status_code) == (200, 304)
    assert again.content == b""


def test_a_withdrawn_case_is_a_typed_410_in_every_format(api, client, seed):
    withdrawn = edit(seed[0], status=Case.Status.WITHDRAWN, withdrawal_reason="Not a claim.")
    for name in ("cases_retrieve", "cases_retrieve_jsonld", "cases_retrieve_csv"):
        answer = operation(name).sync_detailed(id=withdrawn.pk, client=client)
        assert answer.status_code == 410, name
        assert isinstance(answer.parsed, api.models.Error)
        assert "Not a claim." in answer.parsed.errors[0].message
