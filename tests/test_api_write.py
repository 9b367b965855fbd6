import datetime

import pytest

from cases.models import Appearance, Case, DeletedCase
from tests.factories import (
    CaseFactory,
    CountryFactory,
    IssueFactory,
    KeywordFactory,
    LanguageFactory,
    OutletFactory,
    edit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def taxonomy():
    return {
        "issue": IssueFactory(number=270),
        "language": LanguageFactory(code="ru", name="Russian"),
        "country": CountryFactory(name="Ukraine", iso_code="UA"),
        "keyword": KeywordFactory(name="NATO"),
        "outlet": OutletFactory(name="Sputnik", domain="sputniknews.com"),
    }


def new_case(**fields):
    return {
        "title": "NATO is preparing an attack",
        "summary": "The outlet claimed NATO was about to attack.",
        "disproof": "No evidence was given.",
        "date": "2023-03-01",
        "issue": 270,
        "languages": ["ru"],
        "countries": ["ukraine"],
        "keywords": ["nato"],
        "appearances": [
            {
                "outlet": "sputnik",
                "url": "https://sputniknews.com/a",
                "archive_url": "https://archive.example/a",
            }
        ],
        **fields,
    }


def test_an_editor_creates_a_draft_with_a_token(editor_client, taxonomy):
    response = editor_client.post("/api/v1/cases/", new_case(), format="json")

    assert response.status_code == 201, response.json()
    case = Case.objects.get()
    body = response.json()
    assert response["Location"] == f"http://testserver/api/v1/cases/{case.pk}/"
    assert response["ETag"].startswith(f'"v{case.version}-')
    assert body == {
        "id": case.pk,
        "url": f"http://testserver/cases/{case.pk}/nato-is-preparing-an-attack/",
        "status": "draft",
        "title": "NATO is preparing an attack",
        "summary": "The outlet claimed NATO was about to attack.",
        "disproof": "No evidence was given.",
        "date": "2023-03-01",
        "issue": 270,
        "languages": [{"code": "ru", "name": "Russian"}],
        "countries": [{"slug": "ukraine", "name": "Ukraine", "iso_code": "UA", "kind": "country"}],
        "keywords": [{"slug": "nato", "name": "NATO"}],
        "appearances": [
            {
                "outlet": {"slug": "sputnik", "name": "Sputnik", "domain": "sputniknews.com"},
                "url": "https://sputniknews.com/a",
                "archive_url": "https://archive.example/a",
            }
        ],
        "related": [],
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert case.status == Case.Status.DRAFT
    # The search vector includes keyword names, written in the same request.
    assert list(Case.objects.search("nato")) == [case]


def test_a_created_draft_is_not_public(editor_client, api_client, taxonomy):
    case_id = editor_client.post("/api/v1/cases/", new_case(), format="json").json()["id"]
    assert api_client.get(f"/api/v1/cases/{case_id}/").status_code == 404
    assert editor_client.get(f"/api/v1/cases/{case_id}/").json()["status"] == "draft"


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"keywords": ["no-such-keyword"]}, "keywords"),
        ({"countries": ["atlantis"]}, "countries"),
        ({"languages": ["xx"]}, "languages"),
        ({"issue": 999}, "issue"),
        ({"issue": "abc"}, "issue"),
        ({"related": [987654]}, "related"),
        (
            {"appearances": [{"outlet": "nowhere", "url": "https://a.example/"}]},
            "appearances[0].outlet",
        ),
        ({"appearances": [{"url": "not a url"}]}, "appearances[0].url"),
        ({"appearances": [{"archive_url": "https://a.example/"}]}, "appearances[0]"),
        ({"date": "2023-13-45"}, "date"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 501}, "title"),
        ({"title": "nul \x00 byte"}, "title"),
        ({"status": "lost"}, "status"),
    ],
)
def test_invalid_writes_get_a_400_naming_the_field_and_write_nothing(
    editor_client, taxonomy, fields, field
):
    response = editor_client.post("/api/v1/cases/", new_case(**fields), format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert [error["field"] for error in body["errors"]] == [field]
    assert Case.objects.count() == 0
    assert Appearance.objects.count() == 0


def test_a_case_needs_a_title(editor_client):
    response = editor_client.post("/api/v1/cases/", {"summary": "No title."}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "title", "message": "This field is required."}]


def test_an_update_replaces_links_and_bumps_version_and_updated_at(editor_client, taxonomy):
    case = CaseFactory(status=Case.Status.DRAFT, keywords=[KeywordFactory(name="Old")])
    other = CaseFactory(title="Another claim")
    before = Case.objects.get(pk=case.pk)

    response = editor_client.patch(
        f"/api/v1/cases/{case.pk}/",
        {"keywords": ["nato"], "related": [other.pk], "title": "A new title"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    case.refresh_from_db()
    assert case.title == "A new title"
    assert [k.slug for k in case.keywords.all()] == ["nato"]
    assert list(case.related.all()) == [other]
    assert list(other.related.all()) == [case]
    assert case.version == before.version + 1
    assert case.updated_at > before.updated_at
    assert response.json()["related"][0]["id"] == other.pk


def test_a_stale_if_match_gets_412_and_overwrites_nothing(editor_client):
    case = CaseFactory(status=Case.Status.DRAFT, title="Original")
    etag = editor_client.get(f"/api/v1/cases/{case.pk}/")["ETag"]
    # Someone else edits the case in the admin meanwhile.
    edit(case, title="Edited elsewhere")

    response = editor_client.patch(
        f"/api/v1/cases/{case.pk}/", {"title": "Mine"}, format="json", HTTP_IF_MATCH=etag
    )

    assert response.status_code == 412
    assert response.json()["errors"][0]["field"] == "If-Match"
    case.refresh_from_db()
    assert case.title == "Edited elsewhere"


def test_a_current_if_match_lets_the_update_through(editor_client):
    case = CaseFactory(status=Case.Status.DRAFT, title="Original")
    etag = editor_client.get(f"/api/v1/cases/{case.pk}/")["ETag"]

    response = editor_client.put(
        f"/api/v1/cases/{case.pk}/", {"title": "Mine"}, format="json", HTTP_IF_MATCH=etag
    )

    assert response.status_code == 200
    assert response["ETag"] != etag
    case.refresh_from_db()
    assert case.title == "Mine"
    # The old ETag is now stale.
    again = editor_client.put(
        f"/api/v1/cases/{case.pk}/", {"title": "Again"}, format="json", HTTP_IF_MATCH=etag
    )
    assert again.status_code == 412


def test_a_stale_if_match_on_delete_deletes_nothing(staff_client):
    case = CaseFactory()
    etag = staff_client.get(f"/api/v1/cases/{case.pk}/")["ETag"]
    edit(case, title="Edited elsewhere")
    assert staff_client.delete(f"/api/v1/cases/{case.pk}/", HTTP_IF_MATCH=etag).status_code == 412
    assert Case.objects.filter(pk=case.pk).exists()


class TestStatusChanges:
    def test_an_editor_may_submit_for_review(self, editor_client):
        case = CaseFactory(status=Case.Status.DRAFT)
        response = editor_client.patch(
            f"/api/v1/cases/{case.pk}/", {"status": "in_review"}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["status"] == "in_review"

    def test_an_editor_may_not_publish(self, editor_client):
        case = CaseFactory(status=Case.Status.IN_REVIEW, title="Original")
        response = editor_client.patch(
            f"/api/v1/cases/{case.pk}/", {"status": "published", "title": "Changed"}, format="json"
        )
        assert response.status_code == 403
        assert response.json()["errors"][0]["field"] == "status"
        case.refresh_from_db()
        assert (case.status, case.title) == (Case.Status.IN_REVIEW, "Original")

    def test_an_editor_may_not_withdraw(self, editor_client):
        case = CaseFactory(status=Case.Status.PUBLISHED)
        response = editor_client.patch(
            f"/api/v1/cases/{case.pk}/",
            {"status": "withdrawn", "withdrawal_reason": "Wrong."},
            format="json",
        )
        assert response.status_code == 403
        case.refresh_from_db()
        assert case.status == Case.Status.PUBLISHED

    def test_a_published_case_cannot_go_straight_back_to_draft(self, publisher_client):
        case = CaseFactory(status=Case.Status.PUBLISHED)
        response = publisher_client.patch(
            f"/api/v1/cases/{case.pk}/", {"status": "draft"}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "status"
        case.refresh_from_db()
        assert case.status == Case.Status.PUBLISHED

    def test_withdrawing_needs_a_reason(self, publisher_client, api_client):
        case = CaseFactory(status=Case.Status.PUBLISHED)
        url = f"/api/v1/cases/{case.pk}/"
        response = publisher_client.patch(url, {"status": "withdrawn"}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "withdrawal_reason"

        reason = {"status": "withdrawn", "withdrawal_reason": "The outlet was misidentified."}
        assert publisher_client.patch(url, reason, format="json").status_code == 200
        case.refresh_from_db()
        assert case.withdrawal_reason == "The outlet was misidentified."
        gone = api_client.get(url)
        assert gone.status_code == 410
        assert "The outlet was misidentified." in gone.json()["errors"][0]["message"]

    def test_an_editor_may_not_create_a_published_case(self, editor_client):
        response = editor_client.post(
            "/api/v1/cases/", {"title": "Straight out", "status": "published"}, format="json"
        )
        assert response.status_code == 403
        assert not Case.objects.exists()

    def test_a_publisher_publishes_and_the_case_becomes_public(self, publisher_client, api_client):
        case = CaseFactory(status=Case.Status.IN_REVIEW)
        response = publisher_client.patch(
            f"/api/v1/cases/{case.pk}/", {"status": "published"}, format="json"
        )
        assert response.status_code == 200
        case.refresh_from_db()
        assert case.published_at is not None
        assert api_client.get(f"/api/v1/cases/{case.pk}/").status_code == 200


def test_deleting_a_case_leaves_a_tombstone(staff_client):
    case = CaseFactory()
    response = staff_client.delete(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 204
    assert not Case.objects.filter(pk=case.pk).exists()
    tombstone = DeletedCase.objects.get()
    assert (tombstone.case_id, tombstone.was_published) == (case.pk, True)


def test_bulk_deletes_leave_tombstones_too():
    cases = [CaseFactory(), CaseFactory(status=Case.Status.DRAFT)]
    Case.objects.filter(pk__in=[c.pk for c in cases]).delete()
    assert sorted(DeletedCase.objects.values_list("case_id", "was_published")) == [
        (cases[0].pk, True),
        (cases[1].pk, False),
    ]


# The auth matrix: every endpoint and method, for each kind of client.
# Expected statuses are (anonymous, editor, staff).
CASE = "/api/v1/cases/{case}/"
MATRIX = [
    ("get", "/api/v1/cases/", (200, 200, 200)),
    ("post", "/api/v1/cases/", (401, 201, 201)),
    ("get", CASE, (200, 200, 200)),
    ("put", CASE, (401, 200, 200)),
    ("patch", CASE, (401, 200, 200)),
    ("delete", CASE, (401, 403, 204)),
    ("get", "/api/v1/cases/{draft}/", (404, 200, 200)),
    ("get", "/api/v1/cases/facets/", (200, 200, 200)),
    ("post", "/api/v1/cases/facets/", (405, 405, 405)),
    ("get", "/api/v1/schema/", (200, 200, 200)),
    ("get", "/api/v1/", (200, 200, 200)),
]
for taxonomy_url in ["keywords/nato", "countries/ukraine", "languages/ru", "outlets/sputnik"]:
    collection = "/api/v1/" + taxonomy_url.split("/")[0] + "/"
    MATRIX += [
        ("get", collection, (200, 200, 200)),
        ("get", f"/api/v1/{taxonomy_url}/", (200, 200, 200)),
        ("post", collection, (405, 405, 405)),
        ("put", f"/api/v1/{taxonomy_url}/", (405, 405, 405)),
        ("delete", f"/api/v1/{taxonomy_url}/", (405, 405, 405)),
    ]
MATRIX += [
    ("get", "/api/v1/issues/", (200, 200, 200)),
    ("get", "/api/v1/issues/270/", (200, 200, 200)),
    ("post", "/api/v1/issues/", (405, 405, 405)),
    ("delete", "/api/v1/issues/270/", (405, 405, 405)),
]


@pytest.mark.parametrize("method, url, expected", MATRIX)
@pytest.mark.parametrize("who", [0, 1, 2], ids=["anonymous", "editor", "staff"])
def test_auth_matrix(request, taxonomy, method, url, expected, who):
    case = CaseFactory(keywords=[taxonomy["keyword"]])
    draft = CaseFactory(status=Case.Status.DRAFT)
    client = request.getfixturevalue(["api_client", "editor_client", "staff_client"][who])
    body = {"title": "Edited", "keywords": ["nato"]} if method in ("post", "put", "patch") else None

    response = getattr(client, method)(
        url.format(case=case.pk, draft=draft.pk), body, format="json"
    )

    assert response.status_code == expected[who], response.content[:300]
    if response.status_code >= 400:
        assert response.json()["status"] == response.status_code
    if method == "delete" and expected[who] != 204 and "cases" in url:
        assert Case.objects.filter(pk=case.pk).exists()
    if method in ("put", "patch") and response.status_code != 200:
        case.refresh_from_db()
        assert case.title != "Edited"


def test_session_users_without_case_permissions_read_like_the_public(client, taxonomy):
    from tests.conftest import make_user

    client.force_login(make_user("reader", []))
    draft = CaseFactory(status=Case.Status.DRAFT)
    assert client.get(f"/api/v1/cases/{draft.pk}/").status_code == 404
    response = client.post("/api/v1/cases/", new_case(), content_type="application/json")
    assert response.status_code == 403


def test_editors_see_drafts_and_status_in_the_list(editor_client, api_client):
    CaseFactory(title="Public", date=datetime.date(2022, 1, 2))
    CaseFactory(title="Draft", status=Case.Status.DRAFT, date=datetime.date(2022, 1, 1))

    editor_view = editor_client.get("/api/v1/cases/").json()["results"]
    public_view = api_client.get("/api/v1/cases/").json()["results"]

    assert [(c["title"], c["status"]) for c in editor_view] == [
        ("Public", "published"),
        ("Draft", "draft"),
    ]
    assert [c["title"] for c in public_view] == ["Public"]
    assert "status" not in public_view[0]


def test_each_api_write_is_one_history_entry_by_its_author(editor_client, taxonomy):
    response = editor_client.post("/api/v1/cases/", new_case(), format="json")
    case = Case.objects.get(pk=response.json()["id"])
    editor_client.patch(f"/api/v1/cases/{case.pk}/", {"keywords": []}, format="json")
    # Sending what the case already has changes nothing, and records nothing.
    editor_client.patch(f"/api/v1/cases/{case.pk}/", {"keywords": []}, format="json")

    entries = list(case.history.order_by("history_date"))
    assert [entry.history_type for entry in entries] == ["+", "~"]
    assert {entry.history_user.username for entry in entries} == {"editor"}
    assert entries[0].history_change_reason == "Created through the API"
