"""Partners mirror the database: cursor pages that hold still, and updated_since with tombstones."""

import datetime
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from cases.models import Case
from tests.factories import CaseFactory, KeywordFactory, edit

pytestmark = pytest.mark.django_db


def fetch_all(client, **params):
    """Every result, following `next` links, as a partner would."""
    url = "/api/v1/cases/?" + urlencode(params, doseq=True)
    results = []
    for _ in range(100):
        if not url:
            break
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        results += body["results"]
        url = body["next"]
    else:
        raise AssertionError("The next links never ended.")
    return results


class Partner:
    """A partner tool that mirrors the published cases by id."""

    def __init__(self, client):
        self.client = client
        self.mirror = {}
        self.last_sync = None

    def sync(self):
        started = timezone.now()
        params = {"page_size": 2}
        if self.last_sync is not None:
            params["updated_since"] = self.last_sync.isoformat()
        for item in fetch_all(self.client, **params):
            if item.get("status") == "withdrawn" and "title" not in item:
                self.mirror.pop(item["id"], None)
            else:
                self.mirror[item["id"]] = item
        self.last_sync = started


def published_ids():
    return set(Case.objects.published().values_list("pk", flat=True))


def test_a_partner_syncing_with_updated_since_ends_with_exactly_the_published_set(api_client):
    edited, unpublished, deleted, untouched = (
        CaseFactory(title=f"Case {n}", date=datetime.date(2022, 1, n + 1)) for n in range(4)
    )
    CaseFactory(title="Never public", status=Case.Status.DRAFT)
    partner = Partner(api_client)
    partner.sync()
    assert set(partner.mirror) == published_ids()

    edit(edited, title="Case 0, corrected")
    edit(unpublished, status=Case.Status.WITHDRAWN)
    deleted.delete()
    arrived = CaseFactory(title="A new case")
    draft = CaseFactory(title="A draft deleted before publication", status=Case.Status.DRAFT)
    draft.delete()
    partner.sync()

    assert set(partner.mirror) == published_ids() == {edited.pk, untouched.pk, arrived.pk}
    assert partner.mirror[edited.pk]["title"] == "Case 0, corrected"
    assert partner.mirror[arrived.pk]["title"] == "A new case"

    # Nothing changed: the next sync brings nothing.
    assert fetch_all(api_client, updated_since=partner.last_sync.isoformat()) == []


def test_tombstones_are_shaped_id_status_updated_at(api_client):
    since = timezone.now()
    unpublished = CaseFactory(title="Unpublished")
    edit(unpublished, status=Case.Status.DRAFT)
    deleted = CaseFactory(title="Deleted")
    deleted_id = deleted.pk
    deleted.delete()
    unpublished.refresh_from_db()

    results = fetch_all(api_client, updated_since=since.isoformat())

    assert len(results) == 2
    tombstones = {item["id"]: item for item in results}
    assert tombstones[unpublished.pk] == {
        "id": unpublished.pk,
        "status": "withdrawn",
        "updated_at": unpublished.updated_at.isoformat().replace("+00:00", "Z"),
    }
    assert set(tombstones[deleted_id]) == {"id", "status", "updated_at"}
    assert tombstones[deleted_id]["status"] == "withdrawn"


def test_tombstones_only_appear_with_updated_since(api_client):
    CaseFactory(title="Public")
    gone = CaseFactory(title="Gone")
    gone.delete()
    hidden = CaseFactory(title="Hidden")
    edit(hidden, status=Case.Status.DRAFT)

    assert [item["title"] for item in fetch_all(api_client)] == ["Public"]
    assert api_client.get("/api/v1/cases/").json()["count"] == 1


def test_drafts_that_were_never_public_leave_no_tombstone_for_the_public(api_client, editor_client):
    since = timezone.now()
    draft = CaseFactory(status=Case.Status.DRAFT)
    draft_id = draft.pk
    draft.delete()
    other_draft = CaseFactory(status=Case.Status.DRAFT)

    assert fetch_all(api_client, updated_since=since.isoformat()) == []
    # An editor's sync follows the same rule, unless it asks for statuses.
    assert fetch_all(editor_client, updated_since=since.isoformat()) == []
    editor_view = fetch_all(editor_client, updated_since=since.isoformat(), status="draft")
    assert [(item["id"], item["status"]) for item in editor_view] == [
        (other_draft.pk, "draft"),
        (draft_id, "withdrawn"),
    ]


def test_the_sync_count_includes_tombstones(api_client):
    since = timezone.now()
    CaseFactory()
    CaseFactory().delete()
    body = api_client.get(f"/api/v1/cases/?{urlencode({'updated_since': since.isoformat()})}")
    assert body.json()["count"] == 2


def test_cursor_pages_hold_still_while_cases_are_added(api_client):
    originals = [CaseFactory(date=datetime.date(2022, 1, day)) for day in (1, 2, 3, 4)]
    first = api_client.get("/api/v1/cases/?page_size=2").json()
    assert [c["id"] for c in first["results"]] == [originals[3].pk, originals[2].pk]

    # New cases land before and after the cursor, and one shares its date.
    CaseFactory(date=datetime.date(2023, 1, 1))
    CaseFactory(date=datetime.date(2022, 1, 3))
    CaseFactory(date=datetime.date(2021, 1, 1))
    second = api_client.get(first["next"]).json()

    seen = [c["id"] for c in first["results"] + second["results"]]
    assert len(seen) == len(set(seen))
    assert [originals[1].pk, originals[0].pk] == [
        pk for pk in seen[2:] if pk in {o.pk for o in originals}
    ]


@pytest.mark.parametrize("ordering", ["-date", "date", "-updated_at", "relevance"])
def test_paging_one_by_one_gives_the_same_list_as_one_big_page(api_client, ordering):
    keyword = KeywordFactory(name="Elections")
    for n, date in enumerate([None, datetime.date(2022, 5, 1), None, datetime.date(2022, 5, 1)]):
        CaseFactory(title=f"Elections rigged {n}", date=date, keywords=[keyword])
    CaseFactory(title="Elections elections elections", date=datetime.date(2020, 1, 1))
    params = {"ordering": ordering, "q": "elections"}

    one_page = api_client.get("/api/v1/cases/?" + urlencode({**params, "page_size": 500}))
    one_by_one = fetch_all(api_client, page_size=1, **params)

    expected = [c["id"] for c in one_page.json()["results"]]
    assert len(expected) == 5
    assert [c["id"] for c in one_by_one] == expected


def test_previous_links_walk_back_to_the_first_page(api_client):
    for day in range(1, 6):
        CaseFactory(date=datetime.date(2022, 1, day))
    pages = []
    url = "/api/v1/cases/?page_size=2"
    while url:
        body = api_client.get(url).json()
        pages.append([c["id"] for c in body["results"]])
        url = body["next"]
    body = api_client.get("/api/v1/cases/?page_size=2").json()
    for _ in range(2):
        body = api_client.get(body["next"]).json()
    backwards = []
    while body["previous"]:
        body = api_client.get(body["previous"]).json()
        backwards.append([c["id"] for c in body["results"]])
    assert backwards == [pages[1], pages[0]]


@pytest.mark.parametrize("page_size", ["0", "501", "ten", "-1"])
def test_page_sizes_outside_1_to_500_get_a_400(api_client, page_size):
    response = api_client.get(f"/api/v1/cases/?page_size={page_size}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "page_size"


def test_a_page_of_500_is_allowed(api_client):
    CaseFactory()
    assert api_client.get("/api/v1/cases/?page_size=500").status_code == 200


@pytest.mark.parametrize("cursor", ["garbage", "eyJvIjoiZGF0ZSJ9", "%00", "t.", "t.garbage"])
def test_a_bad_cursor_gets_a_400_naming_it(api_client, cursor):
    response = api_client.get(f"/api/v1/cases/?cursor={cursor}")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "cursor"
    assert "cursor" in error["message"]


def test_tombstones_page_on_after_the_cases_and_back(api_client):
    since = timezone.now()
    kept = CaseFactory()
    gone = [CaseFactory() for _ in range(3)]
    gone_ids = [case.pk for case in gone]
    for case in gone:
        case.delete()
    url = "/api/v1/cases/?" + urlencode({"updated_since": since.isoformat(), "page_size": 2})

    first = api_client.get(url).json()
    second = api_client.get(first["next"]).json()

    assert first["count"] == second["count"] == 4
    # The page the cases end on fills up with the first tombstones.
    assert [item["id"] for item in first["results"]] == [kept.pk, gone_ids[0]]
    assert [item["id"] for item in second["results"]] == gone_ids[1:]
    assert second["next"] is None
    back = api_client.get(second["previous"]).json()
    assert [item["id"] for item in back["results"]] == gone_ids[:1]
    assert back["previous"] is None


def test_a_cursor_from_another_ordering_gets_a_400(api_client):
    CaseFactory()
    CaseFactory()
    next_link = api_client.get("/api/v1/cases/?page_size=1").json()["next"]
    response = api_client.get(next_link + "&ordering=date")
    assert response.status_code == 400


def test_a_first_page_of_only_tombstones_holds_them_and_agrees_with_its_count(api_client):
    since = timezone.now()
    gone = CaseFactory()
    gone_id = gone.pk
    gone.delete()

    body = api_client.get(f"/api/v1/cases/?{urlencode({'updated_since': since.isoformat()})}")

    body = body.json()
    assert body["count"] == 1
    assert [item["id"] for item in body["results"]] == [gone_id]
    assert body["next"] is None


def test_no_page_of_a_sync_is_empty_while_its_count_says_there_is_more(api_client):
    since = timezone.now()
    CaseFactory()
    for case in [CaseFactory() for _ in range(4)]:
        case.delete()
    url = "/api/v1/cases/?" + urlencode({"updated_since": since.isoformat(), "page_size": 2})

    pages = []
    while url:
        body = api_client.get(url).json()
        pages.append(body["results"])
        url = body["next"]

    assert [len(page) for page in pages] == [2, 2, 1]
    assert sum(len(page) for page in pages) == body["count"] == 5


def test_a_partner_with_a_token_ends_with_exactly_the_published_cases(editor_client):
    first, second = CaseFactory(title="First"), CaseFactory(title="Second")
    CaseFactory(title="A draft", status=Case.Status.DRAFT)
    CaseFactory(title="In review", status=Case.Status.IN_REVIEW)
    CaseFactory(title="Withdrawn before", status=Case.Status.WITHDRAWN)
    partner = Partner(editor_client)
    partner.last_sync = timezone.now() - datetime.timedelta(days=1)
    partner.sync()
    assert set(partner.mirror) == published_ids() == {first.pk, second.pk}

    edit(second, status=Case.Status.WITHDRAWN)
    CaseFactory(title="Another draft", status=Case.Status.DRAFT)
    third = CaseFactory(title="Third")
    partner.sync()

    assert set(partner.mirror) == published_ids() == {first.pk, third.pk}
    assert all(item["status"] == "published" for item in partner.mirror.values())


def test_a_token_sync_asking_for_statuses_gets_those_cases_and_tombstones_of_the_others(
    editor_client,
):
    since = timezone.now()
    published = CaseFactory(title="Published")
    draft = CaseFactory(title="Draft", status=Case.Status.DRAFT)
    review = CaseFactory(title="In review", status=Case.Status.IN_REVIEW)

    results = fetch_all(
        editor_client, updated_since=since.isoformat(), status=["draft", "in_review"]
    )

    shown = {item["id"]: item for item in results}
    assert shown[draft.pk]["status"] == "draft" and "title" in shown[draft.pk]
    assert shown[review.pk]["status"] == "in_review" and "title" in shown[review.pk]
    assert set(shown[published.pk]) == {"id", "status", "updated_at"}


def test_an_editors_list_filters_by_status_when_it_is_not_a_sync(editor_client):
    CaseFactory(title="Published")
    CaseFactory(title="Draft", status=Case.Status.DRAFT)

    assert [item["title"] for item in fetch_all(editor_client, status="draft")] == ["Draft"]
    assert len(fetch_all(editor_client)) == 2


def test_an_unknown_status_gets_a_400_naming_it(editor_client):
    response = editor_client.get("/api/v1/cases/?status=deleted")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "status"
    assert "deleted" in error["message"]
