import datetime

import pytest

from cases.models import Appearance, Case, CaseRevision, DeletedCase
from tests.factories import (
    AppearanceFactory,
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
        "source_id": "",
        "source_url": "",
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
        "published_at": None,
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
    # The case is published: an editor's change waits for review (202).
    ("put", CASE, (401, 202, 200)),
    ("patch", CASE, (401, 202, 200)),
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
    # A published case carries every value: the API shows only values of published cases.
    case = CaseFactory(
        keywords=[taxonomy["keyword"]],
        countries=[taxonomy["country"]],
        languages=[taxonomy["language"]],
        issue=taxonomy["issue"],
    )
    AppearanceFactory(case=case, outlet=taxonomy["outlet"])
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
        # Refused, or waiting for review: the live case is unchanged.
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


def etag_version(response):
    """The case version an ETag carries: "v3-…" is version 3."""
    return int(response["ETag"].strip('W/"').split("-")[0].removeprefix("v"))


class TestBaseVersion:
    """A change made on an older version is merged with what changed since."""

    def test_a_field_only_the_other_writer_changed_keeps_their_value(self, editor_client):
        case = CaseFactory(status=Case.Status.DRAFT, title="Original", summary="Old summary")
        url = f"/api/v1/cases/{case.pk}/"
        read = editor_client.get(url)
        base = etag_version(read)
        edit(case, summary="Their summary")  # someone else, meanwhile

        # The client sends its whole copy back, the old summary included, and a new title.
        mine = {"title": "My title", "summary": read.json()["summary"], "base_version": base}
        response = editor_client.patch(url, mine, format="json")

        assert response.status_code == 200, response.json()
        assert (response.json()["title"], response.json()["summary"]) == (
            "My title",
            "Their summary",
        )
        case.refresh_from_db()
        assert (case.title, case.summary, case.version) == ("My title", "Their summary", base + 2)
        assert etag_version(response) == base + 2

    def test_a_field_both_changed_is_a_409_and_nothing_is_written(self, editor_client, taxonomy):
        case = CaseFactory(
            status=Case.Status.DRAFT,
            summary="Old summary",
            keywords=[taxonomy["keyword"]],
            issue=taxonomy["issue"],
        )
        url = f"/api/v1/cases/{case.pk}/"
        base = etag_version(editor_client.get(url))
        other = KeywordFactory(name="Biolabs")
        edit(case, summary="Their summary", keywords=[other], title="Their title")

        response = editor_client.patch(
            url,
            {"summary": "My summary", "keywords": ["nato", "biolabs"], "base_version": base},
            format="json",
        )

        assert response.status_code == 409
        body = response.json()
        assert body["status"] == 409
        assert body["current_version"] == base + 1
        assert body["conflicts"] == {
            "summary": {"base": "Old summary", "current": "Their summary", "yours": "My summary"},
            "keywords": {"base": ["nato"], "current": ["biolabs"], "yours": ["nato", "biolabs"]},
        }
        assert body["detail"].startswith(
            f"Case {case.pk} changed since version {base} (it is now at version {base + 1}): "
            "summary and keywords were changed by both you and the newer version."
        )
        assert [error["field"] for error in body["errors"]] == ["summary", "keywords"]
        case.refresh_from_db()
        assert (case.summary, case.version) == ("Their summary", base + 1)
        assert list(case.keywords.all()) == [other]

    def test_conflicts_use_the_api_names_and_values(self, editor_client, taxonomy):
        from cases.services import editing
        from tests.conftest import make_user

        case = CaseFactory(status=Case.Status.DRAFT, issue=taxonomy["issue"])
        edit(case, appearances=[(taxonomy["outlet"].pk, "https://a.example/1", "")])
        url = f"/api/v1/cases/{case.pk}/"
        base = etag_version(editor_client.get(url))
        editing.save_case(
            Case.objects.get(pk=case.pk),
            user=make_user("rival", []),
            issue=IssueFactory(number=271),
            appearances=[(None, "https://b.example/2", "")],
        )
        IssueFactory(number=272)

        mine = {
            "issue": 272,
            "appearances": [{"outlet": "sputnik", "url": "https://c.example/3"}],
            "base_version": base,
        }
        response = editor_client.patch(url, mine, format="json")

        assert response.status_code == 409
        body = response.json()
        assert body["conflicts"] == {
            "issue": {"base": 270, "current": 271, "yours": 272},
            "appearances": {
                "base": [
                    {"outlet": "sputnik", "url": "https://a.example/1", "archive_url": ""},
                ],
                "current": [{"outlet": None, "url": "https://b.example/2", "archive_url": ""}],
                "yours": [{"outlet": "sputnik", "url": "https://c.example/3", "archive_url": ""}],
            },
        }
        assert f"(it is now at version {base + 1}, saved by rival)" in body["detail"]

    def test_after_a_conflict_the_current_version_as_base_goes_through(self, editor_client):
        case = CaseFactory(status=Case.Status.DRAFT, summary="Old summary")
        url = f"/api/v1/cases/{case.pk}/"
        base = etag_version(editor_client.get(url))
        edit(case, summary="Their summary")
        conflict = editor_client.patch(
            url, {"summary": "Mine", "base_version": base}, format="json"
        ).json()

        again = {"summary": "Mine", "base_version": conflict["current_version"]}
        response = editor_client.patch(url, again, format="json")

        assert response.status_code == 200
        case.refresh_from_db()
        assert case.summary == "Mine"

    def test_if_match_wins_over_base_version(self, editor_client):
        case = CaseFactory(status=Case.Status.DRAFT, title="Original")
        url = f"/api/v1/cases/{case.pk}/"
        read = editor_client.get(url)
        edit(case, summary="Their summary")

        # A base_version that would merge cleanly does not save a stale If-Match.
        mine = {"title": "Mine", "base_version": etag_version(read)}
        response = editor_client.patch(url, mine, format="json", HTTP_IF_MATCH=read["ETag"])

        assert response.status_code == 412
        assert response.json()["errors"][0]["field"] == "If-Match"
        case.refresh_from_db()
        assert case.title == "Original"

    def test_without_if_match_or_base_version_the_last_write_wins(self, editor_client):
        case = CaseFactory(status=Case.Status.DRAFT, summary="Old summary")
        edit(case, summary="Their summary")
        response = editor_client.patch(
            f"/api/v1/cases/{case.pk}/", {"summary": "Old summary"}, format="json"
        )
        assert response.status_code == 200
        case.refresh_from_db()
        assert case.summary == "Old summary"

    @pytest.mark.parametrize("value", [0, -1, "three", 2.5, True, None, 2**31, 99])
    def test_a_bad_base_version_is_a_400_naming_it(self, editor_client, value):
        case = CaseFactory(status=Case.Status.DRAFT, title="Original")
        response = editor_client.patch(
            f"/api/v1/cases/{case.pk}/", {"title": "Mine", "base_version": value}, format="json"
        )
        assert response.status_code == 400
        assert [error["field"] for error in response.json()["errors"]] == ["base_version"]
        case.refresh_from_db()
        assert case.title == "Original"

    def test_a_new_case_has_no_base_version(self, editor_client, taxonomy):
        response = editor_client.post("/api/v1/cases/", new_case(base_version=1), format="json")
        assert response.status_code == 400
        assert [error["field"] for error in response.json()["errors"]] == ["base_version"]
        assert not Case.objects.exists()


class TestPublishedCasesChangeThroughReview:
    """An editor's change of a published case waits for a publisher; the live case stays."""

    def test_an_editors_change_is_a_pending_revision(self, editor_client, api_client, taxonomy):
        case = CaseFactory(title="Live title", summary="Live summary")
        url = f"/api/v1/cases/{case.pk}/"
        public_before = api_client.get(url).json()
        version = case.version

        response = editor_client.patch(
            url, {"title": "Proposed title", "keywords": ["nato"]}, format="json"
        )

        assert response.status_code == 202, response.json()
        assert "ETag" not in response
        revision = CaseRevision.objects.get(case=case)
        body = response.json()
        assert body == {
            "detail": (
                "The case is published: your change waits for review by a publisher; "
                "the live case is unchanged."
            ),
            "revision": {
                "id": revision.pk,
                "case": case.pk,
                "status": "pending",
                "base_version": version,
                "fields": ["title", "keywords"],
                "changes": {"title": "Proposed title", "keywords": ["nato"]},
                "created_at": body["revision"]["created_at"],
                "updated_at": body["revision"]["updated_at"],
            },
        }
        assert revision.status == CaseRevision.Status.PENDING
        assert revision.author.username == "editor"
        assert revision.changes == {"title": "Proposed title", "keywords": [taxonomy["keyword"].pk]}
        # The live case is unchanged, for the public and for editors.
        case.refresh_from_db()
        assert (case.title, case.version) == ("Live title", version)
        assert api_client.get(url).json() == public_before
        assert editor_client.get(url).json()["title"] == "Live title"

    def test_a_later_change_extends_the_same_revision(self, editor_client):
        case = CaseFactory(title="Live title", summary="Live summary")
        url = f"/api/v1/cases/{case.pk}/"
        first = editor_client.patch(url, {"title": "Proposed title"}, format="json").json()

        second = editor_client.patch(url, {"summary": "Proposed summary"}, format="json")

        assert second.status_code == 202
        assert second.json()["revision"]["id"] == first["revision"]["id"]
        assert second.json()["revision"]["fields"] == ["title", "summary"]
        assert CaseRevision.objects.filter(case=case).count() == 1

    def test_an_editors_group_member_with_a_session_gets_a_202_too(self, client):
        from tests.editors import make_user

        client.force_login(make_user("group-editor", "Editors"))
        case = CaseFactory(title="Live title")

        response = client.patch(
            f"/api/v1/cases/{case.pk}/", {"title": "Proposed"}, content_type="application/json"
        )

        assert response.status_code == 202
        case.refresh_from_db()
        assert case.title == "Live title"
        assert CaseRevision.objects.get(case=case).changes == {"title": "Proposed"}

    def test_a_stale_base_version_is_merged_before_it_is_proposed(self, editor_client):
        case = CaseFactory(title="Live title", summary="Live summary")
        url = f"/api/v1/cases/{case.pk}/"
        read = editor_client.get(url)
        edit(case, summary="Newer summary")

        mine = {"title": "Proposed", "summary": "Live summary"}
        response = editor_client.patch(
            url, {**mine, "base_version": etag_version(read)}, format="json"
        )

        assert response.status_code == 202
        assert response.json()["revision"]["changes"] == {"title": "Proposed"}

    def test_a_publishers_change_goes_live(self, publisher_client, api_client):
        case = CaseFactory(title="Live title")
        url = f"/api/v1/cases/{case.pk}/"

        response = publisher_client.patch(url, {"title": "New live title"}, format="json")

        assert response.status_code == 200
        assert response.json()["title"] == "New live title"
        assert api_client.get(url).json()["title"] == "New live title"
        revision = CaseRevision.objects.get(case=case)
        assert revision.status == CaseRevision.Status.APPROVED

    def test_an_editors_change_of_a_draft_goes_live(self, editor_client, api_client):
        case = CaseFactory(title="Draft title", status=Case.Status.DRAFT)
        url = f"/api/v1/cases/{case.pk}/"

        response = editor_client.patch(url, {"title": "New draft title"}, format="json")

        assert response.status_code == 200
        assert response.json()["title"] == "New draft title"
        case.refresh_from_db()
        assert case.title == "New draft title"
        assert not CaseRevision.objects.filter(case=case).exists()
        # Drafts are not public.
        assert api_client.get(url).status_code == 404

    def test_an_editors_change_that_changes_nothing_is_a_200(self, editor_client):
        case = CaseFactory(title="Live title")
        response = editor_client.patch(
            f"/api/v1/cases/{case.pk}/", {"title": "Live title"}, format="json"
        )
        assert response.status_code == 200
        assert not CaseRevision.objects.filter(case=case).exists()
