"""The one write path (cases.services.editing): every surface writes through it, once per
change, and what a case shows of other rows keeps its updated_at honest."""

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone
from django.utils.http import http_date

from cases.freshness.dataversion import read_version
from cases.models import Appearance, Case, DeletedCase
from cases.services import editing
from cases.services import taxonomy as services_taxonomy
from tests.editors import case_form_data, change_url, make_user, new_case_data
from tests.factories import (
    CaseFactory,
    IssueFactory,
    KeywordFactory,
    OutletFactory,
    edit,
)

pytestmark = pytest.mark.django_db

CASES_DIR = Path(__file__).resolve().parent.parent / "cases"

# Statements that write a case, its links, appearances, notes or pending references, or
# the bookkeeping that must follow every such write.
CASE_WRITES = [
    r"\bCase\.objects\.(create|bulk_create|update|get_or_create|update_or_create)\b",
    r"\bCase\.objects\.filter\([^)]*\)\.(update|delete)\(",
    r"\.(related|keywords|countries|languages)\.(add|set|remove|clear)\(",
    r"(Appearance|CorrectionNote|PendingReference)\.objects\.(create|bulk_create|get_or_create)",
    r"\bupdate_search_vectors\(",
    r"\brecord_now\(",
    r"\.touch\(",
    r"\bcopy_rows\(",
]
# Where those may appear: the write path, and the definitions they call.
# services/imports.py writes new cases in bulk (create_cases()).
ALLOWED = {
    "services/editing.py",
    "services/imports.py",
    "services/taxonomy.py",
    "search/__init__.py",
    "history.py",
}


def test_no_module_but_the_write_path_writes_a_case_or_its_links():
    offenders = []
    for path in sorted(CASES_DIR.rglob("*.py")):
        relative = path.relative_to(CASES_DIR).as_posix()
        if relative.startswith("migrations/") or relative in ALLOWED:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if any(re.search(pattern, code) for pattern in CASE_WRITES):
                offenders.append(f"cases/{relative}:{number}: {line.strip()}")
    assert offenders == []


def test_the_check_finds_a_write_outside_the_write_path():
    line = "    case.keywords.set([nato])"
    assert any(re.search(pattern, line) for pattern in CASE_WRITES)


@pytest.fixture
def publisher_client(client):
    client.force_login(make_user("publisher", "Publishers"))
    return client


def counting_search_vector_updates(monkeypatch):
    calls = []
    original = editing.update_search_vectors

    def counted(case_ids):
        calls.append(list(case_ids))
        return original(case_ids)

    monkeypatch.setattr(editing, "update_search_vectors", counted)
    return calls


def test_one_admin_save_is_one_version_one_history_entry_and_one_search_update(
    publisher_client, monkeypatch
):
    nato = KeywordFactory(name="NATO")
    outlet = OutletFactory(name="Sputnik")
    case = CaseFactory(title="Old title")
    calls = counting_search_vector_updates(monkeypatch)
    data = case_form_data(
        case,
        title="New title",
        keywords=[nato.pk],
        **{
            "appearances-TOTAL_FORMS": 1,
            "appearances-0-outlet": outlet.pk,
            "appearances-0-url": "https://sputnik.example/a",
            "appearances-0-archive_url": "",
        },
    )

    assert publisher_client.post(change_url(case), data).status_code == 302

    case.refresh_from_db()
    assert calls == [[case.pk]]
    assert case.version == 2
    assert [entry.history_type for entry in case.history.all()] == ["~", "+"]
    assert list(case.keywords.all()) == [nato]
    assert list(case.appearances.values_list("outlet_id", "url")) == [
        (outlet.pk, "https://sputnik.example/a")
    ]
    assert Case.objects.search("nato").get() == case


def test_an_admin_save_that_changes_nothing_writes_nothing(publisher_client):
    case = CaseFactory()
    before = read_version().version

    assert publisher_client.post(change_url(case), case_form_data(case)).status_code == 302

    case.refresh_from_db()
    assert case.version == 1
    assert case.history.count() == 1
    assert read_version().version == before


def test_a_case_added_in_the_admin_is_written_with_its_appearances(publisher_client):
    outlet = OutletFactory(name="RT")
    data = new_case_data(
        title="A brand new claim",
        not_a_duplicate="on",
        **{
            "appearances-TOTAL_FORMS": 2,
            "appearances-0-outlet": outlet.pk,
            "appearances-0-url": "https://rt.example/1",
            "appearances-0-archive_url": "https://archive.example/1",
            "appearances-1-outlet": "",
            "appearances-1-url": "",
            "appearances-1-archive_url": "",
        },
    )

    assert publisher_client.post("/admin/cases/case/add/", data).status_code == 302

    case = Case.objects.get(title="A brand new claim")
    assert case.version == 1
    assert [entry.history_type for entry in case.history.all()] == ["+"]
    assert list(case.appearances.values_list("url", "archive_url")) == [
        ("https://rt.example/1", "https://archive.example/1")
    ]


def test_an_unchanged_appearance_keeps_its_row_and_link_check(publisher_client):
    case = CaseFactory()
    kept = Appearance.objects.create(case=case, url="https://a.example/1", url_status="ok")
    data = case_form_data(
        case,
        **{
            "appearances-TOTAL_FORMS": 2,
            "appearances-1-outlet": "",
            "appearances-1-url": "https://b.example/2",
            "appearances-1-archive_url": "",
        },
    )

    assert publisher_client.post(change_url(case), data).status_code == 302

    rows = list(case.appearances.order_by("id").values_list("id", "url", "url_status"))
    assert rows[0] == (kept.pk, "https://a.example/1", "ok")
    assert [url for _, url, _ in rows] == ["https://a.example/1", "https://b.example/2"]


def test_a_stale_edit_is_refused_and_changes_nothing():
    case = CaseFactory(title="Original")
    edit(Case.objects.get(pk=case.pk), title="Someone else's title")

    with pytest.raises(editing.EditConflict) as refused:
        editing.save_case(case, expected_version=1, summary="Mine")

    assert refused.value.current == 2
    case.refresh_from_db()
    assert case.title == "Someone else's title"
    assert case.summary != "Mine"
    assert case.version == 2


def test_deleting_through_the_admin_leaves_a_tombstone(client):
    client.force_login(make_user("boss", superuser=True))
    case = CaseFactory()
    response = client.post(f"/admin/cases/case/{case.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Case.objects.filter(pk=case.pk).exists()
    assert DeletedCase.objects.get(case_id=case.pk).was_published


def an_hour_back(*cases):
    """Date the cases' last change an hour back, so a new one shows at HTTP's 1 s grain."""
    earlier = timezone.now() - datetime.timedelta(hours=1)
    Case.objects.filter(pk__in=[case.pk for case in cases]).update(updated_at=earlier)
    return earlier


def a_moment_ago(*cases):
    return http_date(an_hour_back(*cases).timestamp())


def test_renaming_a_keyword_is_a_change_to_every_case_showing_it(api_client):
    keyword = KeywordFactory(name="Colour revolution")
    tagged = CaseFactory(keywords=[keyword])
    untagged = CaseFactory()
    stamp = a_moment_ago(tagged, untagged)

    keyword.name = "Colour revolutions"
    services_taxonomy.save_value(keyword)

    response = api_client.get(f"/api/v1/cases/{tagged.pk}/", HTTP_IF_MODIFIED_SINCE=stamp)
    assert response.status_code == 200
    assert response.json()["keywords"][0]["slug"] == "colour-revolutions"
    other = api_client.get(f"/api/v1/cases/{untagged.pk}/", HTTP_IF_MODIFIED_SINCE=stamp)
    assert other.status_code == 304
    synced = api_client.get("/api/v1/cases/", {"updated_since": timezone.now().isoformat()})
    assert synced.json()["results"] == []
    since = (timezone.now() - datetime.timedelta(minutes=5)).isoformat()
    synced = api_client.get("/api/v1/cases/", {"updated_since": since})
    assert [row["id"] for row in synced.json()["results"]] == [tagged.pk]
    assert Case.objects.search("revolutions").get() == tagged


def test_renaming_an_outlet_or_an_issue_changes_the_cases_showing_it():
    outlet = OutletFactory(name="Sputnik")
    issue = IssueFactory(number=300)
    shown = CaseFactory()
    other = CaseFactory()
    edit(shown, issue=issue, appearances=[(outlet.pk, "https://s.example/1", "")])

    earlier = an_hour_back(shown, other)
    outlet.name = "Sputnik News"
    services_taxonomy.save_value(outlet)
    assert Case.objects.get(pk=shown.pk).updated_at > earlier

    earlier = an_hour_back(shown, other)
    issue.date = datetime.date(2022, 2, 2)
    services_taxonomy.save_value(issue)
    assert Case.objects.get(pk=shown.pk).updated_at > earlier
    assert Case.objects.get(pk=other.pk).updated_at == earlier


def test_retitling_or_withdrawing_a_related_case_changes_the_case_that_shows_it(api_client):
    neighbour = CaseFactory(title="The neighbour")
    case = CaseFactory(title="The case", related=[neighbour])
    stamp = a_moment_ago(case, neighbour)

    edit(neighbour, title="The neighbour, retitled")

    response = api_client.get(f"/api/v1/cases/{case.pk}/", HTTP_IF_MODIFIED_SINCE=stamp)
    assert response.status_code == 200
    assert [row["title"] for row in response.json()["related"]] == ["The neighbour, retitled"]

    stamp = a_moment_ago(case, neighbour)
    edit(neighbour, status=Case.Status.WITHDRAWN, withdrawal_reason="A duplicate.")

    response = api_client.get(f"/api/v1/cases/{case.pk}/", HTTP_IF_MODIFIED_SINCE=stamp)
    assert response.status_code == 200
    assert response.json()["related"] == []


def test_a_pending_reference_links_both_ways_when_the_named_case_arrives():
    waiting = CaseFactory(title="Waiting case", status=Case.Status.DRAFT)
    edit(waiting, related_titles=["A case that comes later."])
    assert waiting.pending_references.count() == 1

    arrived = CaseFactory(title="A case that comes later")

    assert list(waiting.related.all()) == [arrived]
    assert list(arrived.related.all()) == [waiting]
    assert not waiting.pending_references.exists()


def test_save_case_refuses_what_it_cannot_set():
    with pytest.raises(TypeError, match="slug"):
        editing.save_case(CaseFactory(), slug="my-own-slug")


def test_an_edit_does_not_wait_for_another_transaction_adding_the_same_search_word(db):
    """A long import adding the word "zyxwvut" must not hold up an editor who types it."""
    import psycopg2
    from django.db import connection

    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:
            cursor.execute("INSERT INTO cases_searchword (word) VALUES ('zyxwvut')")
        with connection.cursor() as cursor:
            # Without the write path's own short wait, the edit fails after these 5 s.
            cursor.execute("SET LOCAL lock_timeout = '5s'")
        case = CaseFactory(title="A claim about zyxwvut")

        assert Case.objects.search("zyxwvut").get() == case
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('lock_timeout')")
            assert cursor.fetchone()[0] == "5s"  # the edit's own setting is back
    finally:
        other.rollback()
        other.close()
