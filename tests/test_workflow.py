import datetime

import pytest
from django.contrib.auth.models import Group

from cases import workflow
from cases.models import Case, CaseRevision
from tests.editors import case_form_data, change_url, make_user, new_case_data
from tests.factories import CaseFactory, KeywordFactory, LanguageFactory, edit

pytestmark = pytest.mark.django_db

Status = Case.Status


@pytest.fixture
def editor():
    return make_user("editor", "Editors")


@pytest.fixture
def publisher():
    return make_user("publisher", "Publishers")


def draft(**kwargs):
    return CaseFactory(status=Status.DRAFT, **kwargs)


def test_the_groups_exist_with_the_workflow_permissions(editor, publisher):
    assert editor.has_perm("cases.submit_case") and not editor.has_perm("cases.publish_case")
    assert editor.has_perm("cases.change_case") and not editor.has_perm("cases.delete_case")
    assert publisher.has_perm("cases.submit_case") and publisher.has_perm("cases.publish_case")
    assert not editor.has_perm("cases.delete_keyword")
    assert publisher.has_perm("cases.delete_keyword")
    editors = set(Group.objects.get(name="Editors").permissions.values_list("codename", flat=True))
    publishers = Group.objects.get(name="Publishers").permissions.values_list("codename", flat=True)
    assert editors < set(publishers)


def test_an_editor_may_submit_a_draft_but_not_publish_it(editor):
    case = draft()
    workflow.check_transition(editor, case, Status.IN_REVIEW)
    with pytest.raises(workflow.TransitionError, match="publish"):
        workflow.check_transition(editor, case, Status.PUBLISHED)
    assert workflow.allowed_statuses(editor, case) == [Status.DRAFT, Status.IN_REVIEW]


def test_an_editor_may_not_withdraw_a_published_case(editor):
    case = CaseFactory()
    with pytest.raises(workflow.TransitionError):
        workflow.check_transition(editor, case, Status.WITHDRAWN, "Wrong claim")
    assert workflow.allowed_statuses(editor, case) == [Status.PUBLISHED]


def test_a_publisher_may_publish_and_withdraw_with_a_reason(publisher):
    case = CaseFactory(status=Status.IN_REVIEW)
    workflow.check_transition(publisher, case, Status.PUBLISHED)
    published = CaseFactory()
    workflow.check_transition(publisher, published, Status.WITHDRAWN, "Duplicate of #1")
    with pytest.raises(workflow.TransitionError, match="reason"):
        workflow.check_transition(publisher, published, Status.WITHDRAWN, "  ")


def test_a_published_case_cannot_go_back_to_draft_without_being_withdrawn(publisher):
    with pytest.raises(workflow.TransitionError, match="directly"):
        workflow.check_transition(publisher, CaseFactory(), Status.DRAFT)


def workflow_url(case, action):
    return f"/admin/cases/case/{case.pk}/workflow/{action}/"


def buttons(client, case):
    """The workflow buttons the change form shows, by label."""
    html = client.get(change_url(case)).content.decode()
    return {action.label for action in workflow.ACTIONS if f">{action.label}</a>" in html}


# Who sees which move, from each status: the role matrix of cases.workflow.ACTIONS.
ROLE_MATRIX = [
    ("editor", Status.DRAFT, {"Submit for review"}),
    ("editor", Status.IN_REVIEW, {"Request changes"}),
    ("editor", Status.PUBLISHED, set()),
    ("editor", Status.WITHDRAWN, set()),
    ("publisher", Status.DRAFT, {"Submit for review", "Publish without review"}),
    ("publisher", Status.IN_REVIEW, {"Approve and publish", "Request changes"}),
    ("publisher", Status.PUBLISHED, {"Withdraw"}),
    ("publisher", Status.WITHDRAWN, {"Republish", "Back to draft"}),
]


@pytest.mark.parametrize("role,status,expected", ROLE_MATRIX)
def test_the_change_form_offers_each_role_only_its_moves(client, role, status, expected):
    user = make_user(role, "Editors" if role == "editor" else "Publishers")
    case = CaseFactory(status=status, withdrawal_reason="Old." if status == "withdrawn" else "")
    client.force_login(user)
    assert buttons(client, case) == expected


def test_the_change_form_has_no_status_dropdown(client, editor):
    client.force_login(editor)
    html = client.get(change_url(draft())).content.decode()
    assert 'name="status"' not in html and 'name="withdrawal_reason"' not in html


def test_a_move_the_role_may_not_make_is_refused_and_changes_nothing(client, editor):
    case = draft()
    client.force_login(editor)
    response = client.post(workflow_url(case, "publish"), {"version": case.version})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.DRAFT and case.published_at is None
    # Posting a status in the change form does nothing either.
    client.post(change_url(case), case_form_data(case, status="published"))
    case.refresh_from_db()
    assert case.status == Status.DRAFT


def test_submit_asks_for_confirmation_then_records_who_submitted(client, editor):
    case = draft()
    client.force_login(editor)
    page = client.get(workflow_url(case, "submit")).content.decode()
    assert "Publishers will find it in the review queue" in page
    case.refresh_from_db()
    assert case.status == Status.DRAFT  # a GET only asks
    response = client.post(workflow_url(case, "submit"), {"version": case.version}, follow=True)
    assert f"Submitted “{case.title}” for review" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW
    assert case.submitted_by == editor and case.submitted_at is not None
    assert "Submitted by editor on" in client.get(change_url(case)).content.decode()


def test_approve_and_publish_records_the_reviewer_and_publisher(client, editor, publisher):
    case = draft()
    client.force_login(editor)
    client.post(workflow_url(case, "submit"), {"version": case.version})
    client.force_login(publisher)
    case.refresh_from_db()
    response = client.post(workflow_url(case, "publish"), {"version": case.version}, follow=True)
    assert "it is live on the public site" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.PUBLISHED and case.published_at is not None
    assert case.reviewed_by == publisher and case.published_by == publisher
    assert case.submitted_by == editor
    html = client.get(change_url(case)).content.decode()
    assert "Submitted by editor" in html and "Published by publisher" in html


def test_request_changes_needs_a_comment_and_shows_it(client, editor, publisher):
    case = CaseFactory(status=Status.IN_REVIEW)
    client.force_login(publisher)
    response = client.post(workflow_url(case, "request_changes"), {"version": case.version})
    assert response.status_code == 200 and "is required" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW
    client.post(
        workflow_url(case, "request_changes"),
        {"version": case.version, "note": "Add the archive link."},
    )
    case.refresh_from_db()
    assert case.status == Status.DRAFT and case.review_comment == "Add the archive link."
    client.force_login(editor)
    assert (
        "changes requested: “Add the archive link.”"
        in client.get(change_url(case)).content.decode()
    )


def test_withdrawing_needs_a_reason(client, publisher):
    case = CaseFactory()
    client.force_login(publisher)
    page = client.get(workflow_url(case, "withdraw")).content.decode()
    assert "410 Gone" in page and 'name="note"' in page
    response = client.post(workflow_url(case, "withdraw"), {"version": case.version, "note": ""})
    assert response.status_code == 200
    assert "withdrawal reason (public) is required" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.PUBLISHED
    client.post(workflow_url(case, "withdraw"), {"version": case.version, "note": "Duplicate."})
    case.refresh_from_db()
    assert case.status == Status.WITHDRAWN and case.withdrawal_reason == "Duplicate."
    assert not Case.objects.published().filter(pk=case.pk).exists()


def test_a_move_on_a_case_that_changed_since_the_page_was_opened_is_refused(client, publisher):
    case = CaseFactory(status=Status.IN_REVIEW)
    client.force_login(publisher)
    opened = case.version
    edit(case, summary="Changed meanwhile.")
    response = client.post(workflow_url(case, "publish"), {"version": opened})
    assert response.status_code == 200 and "changed since this page was opened" in (
        response.content.decode()
    )
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW


def test_an_editor_cannot_create_a_published_case(client, editor):
    client.force_login(editor)
    data = new_case_data(title="Brand new claim", summary="x", status="published")
    response = client.post("/admin/cases/case/add/", data)
    assert response.status_code == 200
    assert not Case.objects.filter(title="Brand new claim").exists()


def test_bulk_publish_is_not_offered_to_editors_but_submit_is(client, editor, publisher):
    draft()
    client.force_login(editor)
    html = client.get("/admin/cases/case/").content.decode()
    assert 'value="submit_for_review"' in html and 'value="publish"' not in html
    client.force_login(publisher)
    html = client.get("/admin/cases/case/").content.decode()
    assert 'value="submit_for_review"' in html and 'value="publish"' in html


def test_an_editor_posting_the_bulk_publish_action_publishes_nothing(client, editor):
    case = CaseFactory(status=Status.IN_REVIEW)
    client.force_login(editor)
    client.post("/admin/cases/case/", {"action": "publish", "_selected_action": [case.pk]})
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW


def test_bulk_submit_moves_drafts_and_reports_cases_it_may_not_move(client, editor):
    one, two = draft(), draft()
    published = CaseFactory()
    client.force_login(editor)
    response = client.post(
        "/admin/cases/case/",
        {"action": "submit_for_review", "_selected_action": [one.pk, two.pk, published.pk]},
        follow=True,
    )
    assert Case.objects.filter(status=Status.IN_REVIEW).count() == 2
    published.refresh_from_db()
    assert published.status == Status.PUBLISHED
    assert "Not moved" in response.content.decode()


def test_bulk_publish_by_a_publisher(client, publisher):
    case = CaseFactory(status=Status.IN_REVIEW)
    client.force_login(publisher)
    client.post("/admin/cases/case/", {"action": "publish", "_selected_action": [case.pk]})
    case.refresh_from_db()
    assert case.status == Status.PUBLISHED and case.published_at is not None


def test_bulk_add_keyword_asks_for_the_keyword_then_adds_it(client, editor):
    keyword = KeywordFactory(name="Elections")
    one, two = draft(), draft(keywords=[keyword])
    client.force_login(editor)
    selected = {"action": "add_keyword", "_selected_action": [one.pk, two.pk]}
    page = client.post("/admin/cases/case/", selected)
    assert "Add a keyword" in page.content.decode()
    assert not one.keywords.exists()
    client.post("/admin/cases/case/", {**selected, "apply": "1", "keyword": keyword.pk})
    assert list(one.keywords.all()) == [keyword]
    assert two.keywords.count() == 1
    one_version = one.version
    one.refresh_from_db()
    assert one.version == one_version + 1


def test_bulk_add_keyword_to_a_published_case_by_an_editor_waits_for_review(client, editor):
    keyword = KeywordFactory(name="Elections")
    live = CaseFactory()
    client.force_login(editor)
    selected = {"action": "add_keyword", "_selected_action": [live.pk], "apply": "1"}
    response = client.post("/admin/cases/case/", {**selected, "keyword": keyword.pk}, follow=True)
    assert "For 1 published case(s) the addition waits for review" in response.content.decode()
    assert not live.keywords.exists()
    revision = CaseRevision.objects.get(case=live)
    assert revision.changes == {"keywords": [keyword.pk]}


def test_the_case_list_counts_cases_waiting_for_review(client, editor):
    CaseFactory(status=Status.IN_REVIEW)
    CaseFactory(status=Status.IN_REVIEW)
    draft()
    client.force_login(editor)
    html = client.get("/admin/cases/case/").content.decode()
    assert "<strong>2</strong> cases and <strong>0</strong> revisions" in html
    assert 'href="/admin/cases/case/review/"' in html


@pytest.mark.parametrize(
    "incomplete, complete_kwargs, incomplete_kwargs",
    [
        ("no_date", {}, {"date": None}),
        ("no_keyword", {"keywords": "k"}, {}),
        ("no_language", {"languages": "l"}, {}),
    ],
)
def test_the_incomplete_data_filters(
    client, editor, incomplete, complete_kwargs, incomplete_kwargs
):
    keyword, language = KeywordFactory(), LanguageFactory()
    values = {"k": [keyword], "l": [language]}
    complete = {"keywords": [keyword], "languages": [language], "date": datetime.date(2022, 1, 1)}
    complete.update({k: values[v] for k, v in complete_kwargs.items()})
    CaseFactory(title="Complete case", **complete)
    partial = {**complete, **incomplete_kwargs}
    if incomplete == "no_keyword":
        partial.pop("keywords")
    if incomplete == "no_language":
        partial.pop("languages")
    CaseFactory(title="Incomplete case", **partial)
    client.force_login(editor)
    html = client.get(f"/admin/cases/case/?incomplete={incomplete}").content.decode()
    assert "Incomplete case" in html and "Complete case" not in html
