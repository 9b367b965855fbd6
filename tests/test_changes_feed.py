"""The changes feed: partners follow the change log in commit order and miss nothing.

Every test commits its writes (transaction=True): the feed only shows committed changes,
numbered at commit.
"""

import datetime
import io
from urllib.parse import urlencode

import psycopg2
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench import synthetic
from cases.freshness import cache as page_cache
from cases.freshness.dataversion import (
    BIG_STATEMENT,
    SCOPE_ALL,
    bulk_write,
    read_version,
    record_cases_changed,
    record_full_change,
)
from cases.models import Appearance, Case
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    CountryFactory,
    IssueFactory,
    KeywordFactory,
    OutletFactory,
    edit,
)

pytestmark = pytest.mark.django_db(transaction=True)

FEED = "/api/v1/changes/"


def read_feed(client, **params):
    response = client.get(f"{FEED}?{urlencode(params)}")
    assert response.status_code == 200, response.content
    return response.json()


def follow(client, since=0, limit=None):
    """Every entry after `since`, page after page as a partner reads them; and the last_seq
    to ask from next time."""
    entries = []
    for _ in range(1000):
        params = {"since": since, **({"limit": limit} if limit else {})}
        body = read_feed(client, **params)
        entries += body["results"]
        since = body["last_seq"]
        if body["pending"] == 0:
            return entries, since
    raise AssertionError("The feed never ran out.")


class Partner:
    """A partner tool that mirrors the published cases by following the feed."""

    def __init__(self, client):
        self.client = client
        self.mirror = {}
        self.since = 0

    def sync(self, limit=None):
        entries, self.since = follow(self.client, self.since, limit)
        for entry in entries:
            if entry["deleted"]:
                self.mirror.pop(entry["id"], None)
            else:
                self.mirror[entry["id"]] = entry["case"]
        return entries


def published_ids():
    return set(Case.objects.published().values_list("pk", flat=True))


def ids(entries):
    return [entry["id"] for entry in entries]


def current_seq(client):
    """Where a partner that is up to date stands: the committed data version."""
    return read_version().version


INSERT_CASE_SQL = """
INSERT INTO cases_case (title, slug, summary, disproof, date, issue_id, status,
    withdrawal_reason, version, created_at, updated_at, published_at)
SELECT %(title)s || n, 'case-' || n, '', '', NULL, NULL, 'published', '', 1,
    now(), now(), now()
FROM generate_series(1, %(count)s) AS n
RETURNING id
"""


def test_a_sync_interleaved_with_a_long_transaction_loses_nothing(client):
    partner = Partner(client)
    partner.sync()
    # A long import on a connection of its own: it writes a case, and commits much later.
    importer = psycopg2.connect(**connection.get_connection_params())
    try:
        with importer.cursor() as cursor:
            cursor.execute(INSERT_CASE_SQL, {"title": "Written early by a long import", "count": 1})
            (late_id,) = cursor.fetchone()
        meanwhile = CaseFactory(title="Committed while the import runs")
        synced_at = timezone.now()
        first = partner.sync()
        importer.commit()
    finally:
        importer.close()

    assert ids(first) == [meanwhile.pk]
    second = partner.sync()
    assert ids(second) == [late_id]
    assert set(partner.mirror) == published_ids() == {meanwhile.pk, late_id}

    # The documented limit of updated_since: the late case was stamped before the first
    # sync and committed after it, so a sync by time passes it by.
    by_time = client.get("/api/v1/cases/?" + urlencode({"updated_since": synced_at.isoformat()}))
    assert by_time.status_code == 200
    assert late_id not in [item["id"] for item in by_time.json()["results"]]


def test_a_partner_following_the_feed_ends_with_exactly_the_published_set(client):
    edited, withdrawn, deleted, untouched = (
        CaseFactory(title=f"Case {n}", date=datetime.date(2022, 1, n + 1)) for n in range(4)
    )
    CaseFactory(title="Never public", status=Case.Status.DRAFT)
    partner = Partner(client)
    partner.sync(limit=2)
    assert set(partner.mirror) == published_ids()

    edit(edited, title="Case 0, corrected")
    edit(withdrawn, status=Case.Status.WITHDRAWN, withdrawal_reason="Not disinformation after all.")
    deleted.delete()
    arrived = CaseFactory(title="A new case")
    draft = CaseFactory(title="A draft deleted before publication", status=Case.Status.DRAFT)
    draft.delete()
    partner.sync(limit=2)

    assert set(partner.mirror) == published_ids() == {edited.pk, untouched.pk, arrived.pk}
    assert partner.mirror[edited.pk]["title"] == "Case 0, corrected"
    # Nothing changed since: the next sync brings nothing.
    assert partner.sync() == []


@pytest.mark.parametrize("kind", ["keyword", "country", "outlet", "issue"])
def test_a_label_rename_reaches_the_feed_for_every_case_that_shows_it(client, kind):
    label = {
        "keyword": KeywordFactory,
        "country": CountryFactory,
        "outlet": OutletFactory,
        "issue": IssueFactory,
    }[kind]()
    with_it = [CaseFactory(), CaseFactory()]
    without = CaseFactory()
    for case in with_it:
        if kind == "outlet":
            AppearanceFactory(case=case, outlet=label)
        elif kind == "issue":
            Case.objects.filter(pk=case.pk).update(issue=label)
        else:
            getattr(case, {"keyword": "keywords", "country": "countries"}[kind]).add(label)
    AppearanceFactory(case=without)
    since = current_seq(client)

    if kind == "issue":
        label.number = 999
    else:
        label.name = "Renamed"
    label.save()
    entries, _ = follow(client, since)

    assert sorted(ids(entries)) == sorted(case.pk for case in with_it)
    for entry in entries:
        shown = entry["case"]
        if kind == "outlet":
            assert shown["appearances"][0]["outlet"]["name"] == "Renamed"
        elif kind == "issue":
            assert shown["issue"] == 999
        else:
            field = {"keyword": "keywords", "country": "countries"}[kind]
            assert [value["name"] for value in shown[field]] == ["Renamed"]


def test_a_label_update_that_changes_nothing_logs_no_case(client):
    keyword = KeywordFactory(name="Same")
    CaseFactory(keywords=[keyword])
    since = current_seq(client)

    type(keyword).objects.filter(pk=keyword.pk).update(name="Same")

    assert follow(client, since)[0] == []


def test_retitling_a_related_case_puts_the_cases_relating_to_it_in_the_feed(client):
    case, other, unrelated = CaseFactory(), CaseFactory(title="The old title"), CaseFactory()
    case.related.add(other)
    since = current_seq(client)

    edit(other, title="The new title")
    entries, _ = follow(client, since)

    assert sorted(ids(entries)) == sorted([case.pk, other.pk])
    (shown,) = [entry["case"] for entry in entries if entry["id"] == case.pk]
    assert [related["title"] for related in shown["related"]] == ["The new title"]
    assert unrelated.pk not in ids(entries)


def test_withdrawing_a_related_case_puts_the_cases_relating_to_it_in_the_feed(client):
    case, other = CaseFactory(), CaseFactory()
    case.related.add(other)
    since = current_seq(client)

    edit(other, status=Case.Status.WITHDRAWN, withdrawal_reason="A duplicate.")
    entries = {entry["id"]: entry for entry in follow(client, since)[0]}

    assert entries[case.pk]["case"]["related"] == []
    assert entries[other.pk]["deleted"] is True
    assert entries[other.pk]["reason"] == "withdrawn"


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Retitled in SQL", "slug": "retitled-in-sql"},
        {"status": Case.Status.WITHDRAWN, "withdrawal_reason": "Withdrawn in SQL."},
    ],
    ids=["retitled", "withdrawn"],
)
def test_a_related_case_changed_in_sql_alone_puts_the_cases_relating_to_it_in_the_feed(
    client, change
):
    """The triggers do it, not the write path: a script or psql is seen the same way."""
    case, other = CaseFactory(), CaseFactory()
    case.related.add(other)
    since = current_seq(client)

    Case.objects.filter(pk=other.pk).update(**change)

    assert sorted(ids(follow(client, since)[0])) == sorted([case.pk, other.pk])


def test_the_cases_of_one_transaction_page_without_a_gap(client):
    since = current_seq(client)
    with connection.cursor() as cursor:
        cursor.execute(INSERT_CASE_SQL, {"title": "Imported ", "count": 5})
        created = sorted(row[0] for row in cursor.fetchall())

    entries, last_seq = follow(client, since, limit=2)

    assert sorted(ids(entries)) == created
    assert last_seq == current_seq(client)


def test_an_edit_of_a_related_case_that_shows_nothing_new_leaves_the_others_alone(client):
    case, other = CaseFactory(), CaseFactory()
    case.related.add(other)
    since = current_seq(client)

    Case.objects.filter(pk=other.pk).update(summary="Another summary.")

    assert ids(follow(client, since)[0]) == [other.pk]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda case: case.delete(), "deleted"),
        (
            lambda case: Case.objects.filter(pk=case.pk).update(
                status=Case.Status.WITHDRAWN, withdrawal_reason="Wrong."
            ),
            "withdrawn",
        ),
        (lambda case: Case.objects.filter(pk=case.pk).update(status="draft"), "unpublished"),
    ],
    ids=["deleted", "withdrawn", "unpublished"],
)
def test_a_case_the_public_no_longer_sees_comes_as_a_tombstone(client, change, reason):
    case = CaseFactory()
    pk = case.pk
    since = current_seq(client)

    change(case)
    body = read_feed(client, since=since)

    (entry,) = body["results"]
    assert entry == {"seq": entry["seq"], "id": pk, "deleted": True, "reason": reason}
    assert since < entry["seq"] <= body["last_seq"]


def test_a_case_deleted_by_sql_alone_still_comes_as_a_tombstone(client):
    case = CaseFactory()
    since = current_seq(client)

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_case WHERE id = %s", [case.pk])

    assert read_feed(client, since=since)["results"][0]["reason"] == "deleted"


def test_drafts_that_were_never_published_never_appear_not_even_their_ids(client):
    secret = "A secret draft about the moon landing"
    draft = CaseFactory(title=secret, status=Case.Status.DRAFT)
    edit(draft, summary="Still a draft.")
    in_review = CaseFactory(status=Case.Status.IN_REVIEW)
    deleted_draft = CaseFactory(status=Case.Status.DRAFT)
    deleted_draft_id = deleted_draft.pk
    deleted_draft.delete()
    public = CaseFactory()
    public.related.add(draft)

    response = client.get(f"{FEED}?since=0")
    body = response.json()

    assert ids(body["results"]) == [public.pk]
    assert body["results"][0]["case"]["related"] == []
    assert secret not in response.content.decode()
    for hidden in (draft.pk, in_review.pk, deleted_draft_id):
        assert hidden not in ids(body["results"])


def test_each_case_appears_once_with_its_latest_state(client):
    case = CaseFactory(title="First")
    other = CaseFactory()
    for title in ("Second", "Third"):
        edit(case, title=title)

    entries, _ = follow(client)

    assert ids(entries) == [other.pk, case.pk]
    assert entries[1]["case"]["title"] == "Third"
    assert entries[0]["seq"] < entries[1]["seq"]


def test_limit_last_seq_and_pending_walk_the_whole_log(client):
    cases = [CaseFactory() for _ in range(5)]
    version = read_version().version

    first = read_feed(client, since=0, limit=2)
    second = read_feed(client, since=first["last_seq"], limit=2)
    third = read_feed(client, since=second["last_seq"], limit=2)

    assert [len(page["results"]) for page in (first, second, third)] == [2, 2, 1]
    assert [page["pending"] for page in (first, second, third)] == [3, 1, 0]
    assert first["last_seq"] == first["results"][-1]["seq"]
    assert third["last_seq"] == version
    walked = ids(first["results"] + second["results"] + third["results"])
    assert walked == [case.pk for case in cases]
    # Read again from the end: nothing, and the same place.
    assert read_feed(client, since=third["last_seq"]) == {
        "results": [],
        "last_seq": version,
        "pending": 0,
    }


def test_defaults_are_since_0_and_a_limit_of_100(client):
    case = CaseFactory()
    body = read_feed(client)
    assert ids(body["results"]) == [case.pk]
    assert body["pending"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=abc", "since"),
        ("since=-1", "since"),
        ("since=1.5", "since"),
        ("since=99999999999999999999999", "since"),
        ("limit=0", "limit"),
        ("limit=5000", "limit"),
        ("limit=ten", "limit"),
        ("feed=continuous", "feed"),
        ("updated_since=2024-01-01", "updated_since"),
    ],
)
def test_a_bad_parameter_gets_a_400_naming_it(client, query, field):
    response = client.get(f"{FEED}?{query}")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == field


def test_a_limit_of_1000_is_allowed(client):
    assert client.get(f"{FEED}?limit=1000").status_code == 200


def test_the_feed_shows_a_case_exactly_as_the_case_url_does(client):
    keyword, country = KeywordFactory(name="NATO"), CountryFactory(name="Ukraine")
    case = CaseFactory(title="Ünïcode “quotes” \u2028", keywords=[keyword], countries=[country])
    AppearanceFactory(case=case)
    case.related.add(CaseFactory())

    feed = client.get(FEED)
    detail = client.get(f"/api/v1/cases/{case.pk}/")

    (entry,) = [e for e in feed.json()["results"] if e["id"] == case.pk]
    assert entry["case"] == detail.json()
    assert detail.content.decode() in feed.content.decode()


def test_a_page_reads_its_cases_in_a_constant_number_of_queries(client):
    def queries_for_page():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(FEED).status_code == 200
        return len(queries.captured_queries)

    for _ in range(2):
        case = CaseFactory(keywords=[KeywordFactory()])
        AppearanceFactory(case=case)
    few = queries_for_page()
    for _ in range(8):
        case = CaseFactory(keywords=[KeywordFactory()])
        AppearanceFactory(case=case)
    CaseFactory().delete()
    assert queries_for_page() == few <= 4


def test_the_feed_is_public_and_cacheable(client):
    CaseFactory()
    response = client.get(FEED)
    assert "public" in response["Cache-Control"]
    assert response["ETag"]


def test_a_kept_answer_of_the_page_cache_gives_way_to_the_next_commit(client, settings):
    settings.PAGE_CACHE = True
    page_cache.clear()
    first = CaseFactory()
    assert ids(read_feed(client)["results"]) == [first.pk]
    assert ids(read_feed(client)["results"]) == [first.pk]  # kept

    second = CaseFactory()

    assert ids(read_feed(client)["results"]) == [first.pk, second.pk]


def test_a_bulk_load_that_logs_its_cases_reaches_the_feed(client):
    since = current_seq(client)
    with transaction.atomic(), connection.cursor() as cursor, bulk_write(cursor):
        cursor.execute(INSERT_CASE_SQL, {"title": "Bulk ", "count": 3})
        record_cases_changed(cursor, "SELECT id FROM cases_case WHERE title LIKE 'Bulk %%'", [])
        record_full_change(cursor)

    entries, _ = follow(client, since)

    assert sorted(entry["case"]["title"] for entry in entries) == ["Bulk 1", "Bulk 2", "Bulk 3"]


def test_a_bulk_load_that_does_not_log_its_cases_stays_out_of_the_feed(client):
    since = current_seq(client)
    with transaction.atomic(), connection.cursor() as cursor, bulk_write(cursor):
        cursor.execute(INSERT_CASE_SQL, {"title": "Unlogged ", "count": 2})
        record_full_change(cursor)

    assert follow(client, since)[0] == []


def test_a_statement_bigger_than_big_statement_still_logs_every_case(client):
    since = current_seq(client)
    with connection.cursor() as cursor:
        cursor.execute(INSERT_CASE_SQL, {"title": "Many ", "count": BIG_STATEMENT + 1})
        cursor.execute(
            "SELECT scope FROM cases_datachange WHERE version > %s ORDER BY version", [since]
        )
        scopes = [scope for (scope,) in cursor.fetchall()]

    assert scopes == [SCOPE_ALL]
    entries, _ = follow(client, since, limit=1000)
    assert len(entries) == len(set(ids(entries))) == BIG_STATEMENT + 1


def test_an_appearance_moved_to_another_case_changes_both(client):
    first, second = CaseFactory(), CaseFactory()
    appearance = AppearanceFactory(case=first)
    since = current_seq(client)

    Appearance.objects.filter(pk=appearance.pk).update(case=second)

    assert sorted(ids(follow(client, since)[0])) == sorted([first.pk, second.pk])


def test_synthetic_cases_reach_the_feed_and_leave_it_as_tombstones(client):
    since = current_seq(client)
    synthetic.generate(30, seed=3, stream=io.StringIO())

    generated, since = follow(client, since)
    published = set(
        synthetic.synthetic_cases().filter(status="published").values_list("pk", flat=True)
    )
    assert published and {entry["id"] for entry in generated} == published

    synthetic.remove_synthetic(stream=io.StringIO())
    removed, _ = follow(client, since)

    assert {entry["id"] for entry in removed} == published
    assert {entry["reason"] for entry in removed} == {"deleted"}
