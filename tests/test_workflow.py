import datetime

import pytest
from django.contrib.auth.models import Group

from cases import workflow
from cases.models import Case
from tests.editors import case_form_data, change_url, make_user, new_case_data
from tests.factories import CaseFactory, KeywordFactory, LanguageFactory

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


def test_the_admin_form_offers_an_editor_only_the_statuses_they_may_choose(client, editor):
    client.force_login(editor)
    html = client.get(change_url(draft())).content.decode()
    assert 'value="in_review"' in html
    assert 'value="published"' not in html and 'value="withdrawn"' not in html


def test_an_editor_cannot_publish_through_the_admin_form(client, editor):
    case = draft()
    client.force_login(editor)
    response = client.post(change_url(case), case_form_data(case, status="published"))
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == Status.DRAFT and case.published_at is None


def test_an_editor_submits_a_draft_for_review_in_the_admin_form(client, editor):
    case = draft()
    client.force_login(editor)
    response = client.post(change_url(case), case_form_data(case, status="in_review"))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW


def test_a_publisher_publishes_in_the_admin_form_and_published_at_is_set(client, publisher):
    case = CaseFactory(status=Status.IN_REVIEW)
    client.force_login(publisher)
    response = client.post(change_url(case), case_form_data(case, status="published"))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.PUBLISHED and case.published_at is not None


def test_withdrawing_in_the_admin_needs_a_reason(client, publisher):
    case = CaseFactory()
    client.force_login(publisher)
    response = client.post(change_url(case), case_form_data(case, status="withdrawn"))
    assert response.status_code == 200
    assert "needs a withdrawal reason" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.PUBLISHED
    data = case_form_data(case, status="withdrawn", withdrawal_reason="Duplicate.")
    assert client.post(change_url(case), data).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.WITHDRAWN
    assert not Case.objects.published().filter(pk=case.pk).exists()


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


def test_the_case_list_counts_cases_waiting_for_review(client, editor):
    CaseFactory(status=Status.IN_REVIEW)
    CaseFactory(status=Status.IN_REVIEW)
    draft()
    client.force_login(editor)
    html = client.get("/admin/cases/case/").content.decode()
    assert "<strong>2</strong> cases waiting for review" in html


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
