"""Revisions of published cases: an editor's edit waits for review, the live case stays.

The admin is used as editors and publishers use it; the public page, the API and the
changes feed are read as the public and partners read them.
"""

import pytest

from cases.models import Case, CaseRevision, CorrectionNote
from cases.services import editing, revisions
from tests.editors import case_form_data, change_url, make_user
from tests.factories import CaseFactory, KeywordFactory, edit

pytestmark = pytest.mark.django_db

Status = CaseRevision.Status
QUEUE = "/admin/cases/case/review/"


@pytest.fixture
def editor():
    user = make_user("editor", "Editors")
    user.first_name, user.last_name = "Erin", "Editor"
    user.save()
    return user


@pytest.fixture
def publisher():
    return make_user("publisher", "Publishers")


def decide(client, revision, decision, comment=""):
    url = f"/admin/cases/case/revisions/{revision.pk}/{decision}/"
    return client.post(url, {"comment": comment}, follow=True)


def propose_summary(client, editor, case, summary, **extra):
    client.force_login(editor)
    response = client.post(change_url(case), case_form_data(case, summary=summary, **extra))
    assert response.status_code == 302
    return CaseRevision.objects.get(case=case, author=editor)


def test_an_editors_edit_of_a_published_case_waits_and_the_live_case_stays(client, editor):
    case = CaseFactory(summary="The live summary.")
    version = case.version
    client.force_login(editor)
    data = case_form_data(case, summary="A better summary.", change_reason="Clearer wording")
    response = client.post(change_url(case), data, follow=True)
    html = response.content.decode()
    revision = CaseRevision.objects.get(case=case)
    assert f"wait for review as revision #{revision.pk}" in html
    assert revision.status == Status.PENDING and revision.author == editor
    assert revision.changes == {"summary": "A better summary."}
    assert revision.base == {"summary": "The live summary."}
    assert revision.reason == "Clearer wording" and revision.base_version == version
    case.refresh_from_db()
    assert case.summary == "The live summary." and case.version == version
    assert case.history.count() == 1  # nothing new in the live case's history
    client.logout()
    page = client.get(case.get_absolute_url()).content.decode()
    assert "The live summary." in page and "A better summary." not in page
    api = client.get(f"/api/v1/cases/{case.pk}/").json()
    assert api["summary"] == "The live summary."


def test_the_editor_continues_their_revision_and_a_second_edit_extends_it(client, editor):
    case = CaseFactory(summary="The live summary.", disproof="The live disproof.")
    propose_summary(client, editor, case, "A better summary.")
    form = client.get(change_url(case)).content.decode()
    assert "You are continuing your revision" in form
    assert "A better summary.</textarea>" in form
    # The form now holds the proposed summary; the editor changes the disproof too.
    data = case_form_data(case, summary="A better summary.", disproof="A sharper disproof.")
    client.post(change_url(case), data)
    revision = CaseRevision.objects.get(case=case)  # still one open revision
    assert revision.changes == {
        "summary": "A better summary.",
        "disproof": "A sharper disproof.",
    }
    # Putting a field back to the live text drops it from the revision.
    client.post(change_url(case), case_form_data(case, disproof="A sharper disproof."))
    assert CaseRevision.objects.get(case=case).changes == {"disproof": "A sharper disproof."}


def test_the_queue_shows_the_diff_and_approving_publishes_it(client, editor, publisher):
    case = CaseFactory(summary="The live summary.")
    revision = propose_summary(
        client, editor, case, "A better summary.", correction_note="Summary clarified."
    )
    client.force_login(publisher)
    queue = client.get(QUEUE).content.decode()
    assert "<strong>1</strong> revision of published cases" in queue
    assert '<td class="old">The live summary.</td><td class="new">A better summary.</td>' in queue
    assert "Summary clarified." in queue and "Erin Editor" in queue
    assert "<del>The live</del><ins>A better</ins> summary." in queue  # the words that change

    response = decide(client, revision, "approve")
    assert "is live with the changes" in response.content.decode()
    case.refresh_from_db()
    assert case.summary == "A better summary."
    revision.refresh_from_db()
    assert revision.status == Status.APPROVED and revision.reviewer == publisher
    assert revision.applied_version == case.version
    record = case.history.first()
    assert record.history_user == editor
    assert f"revision #{revision.pk}, approved by publisher" in record.history_change_reason
    note = CorrectionNote.objects.get(case=case)
    assert note.text == "Summary clarified." and note.case_version == case.version
    client.logout()
    assert "A better summary." in client.get(case.get_absolute_url()).content.decode()
    assert "Nothing is waiting" not in queue


def test_an_approval_that_would_overwrite_a_newer_change_is_refused(client, editor, publisher):
    case = CaseFactory(summary="The live summary.")
    revision = propose_summary(client, editor, case, "A better summary.")
    edit(case, summary="A publisher's own fix.")
    client.force_login(publisher)
    response = decide(client, revision, "approve")
    assert "was not applied: the live case changed Summary" in response.content.decode()
    case.refresh_from_db()
    assert case.summary == "A publisher's own fix."
    revision.refresh_from_db()
    assert revision.status == Status.PENDING


def test_an_approval_keeps_a_newer_change_to_another_field(client, editor, publisher):
    case = CaseFactory(summary="The live summary.", disproof="Old disproof.")
    revision = propose_summary(client, editor, case, "A better summary.")
    edit(case, disproof="A newer disproof.")
    client.force_login(publisher)
    decide(client, revision, "approve")
    case.refresh_from_db()
    assert case.summary == "A better summary." and case.disproof == "A newer disproof."


def test_request_changes_needs_a_comment_and_the_editor_sees_it(client, editor, publisher):
    case = CaseFactory()
    revision = propose_summary(client, editor, case, "A better summary.")
    client.force_login(publisher)
    response = decide(client, revision, "request_changes")
    assert "the comment is sent to the editor" in response.content.decode()
    revision.refresh_from_db()
    assert revision.status == Status.PENDING
    decide(client, revision, "request_changes", "Cite the source.")
    revision.refresh_from_db()
    assert revision.status == Status.CHANGES_REQUESTED
    client.force_login(editor)
    form = client.get(change_url(case)).content.decode()
    assert "Cite the source." in form and "changes requested" in form
    queue = client.get(QUEUE).content.decode()
    assert "<strong>1</strong> revision sent back" in queue
    # The editor's next save sends it to review again.
    client.post(change_url(case), case_form_data(case, summary="A sourced summary."))
    revision.refresh_from_db()
    assert revision.status == Status.PENDING
    assert revision.changes == {"summary": "A sourced summary."}


def test_reject_closes_the_revision_and_the_live_case_stays(client, editor, publisher):
    case = CaseFactory(summary="The live summary.")
    revision = propose_summary(client, editor, case, "A worse summary.")
    client.force_login(publisher)
    decide(client, revision, "reject", "Not supported by the sources.")
    revision.refresh_from_db()
    assert revision.status == Status.REJECTED
    case.refresh_from_db()
    assert case.summary == "The live summary."
    assert decide(client, revision, "approve").status_code == 200
    revision.refresh_from_db()
    assert revision.status == Status.REJECTED


def test_an_editor_cannot_decide_on_a_revision(client, editor):
    case = CaseFactory()
    revision = propose_summary(client, editor, case, "A better summary.")
    response = client.post(f"/admin/cases/case/revisions/{revision.pk}/approve/")
    assert response.status_code == 403
    assert "Approve and publish</button>" not in client.get(QUEUE).content.decode()
    revision.refresh_from_db()
    assert revision.status == Status.PENDING


def test_a_publishers_edit_goes_live_and_is_recorded_as_an_approved_revision(client, publisher):
    case = CaseFactory(summary="The live summary.")
    client.force_login(publisher)
    client.post(change_url(case), case_form_data(case, summary="Fixed at once."))
    case.refresh_from_db()
    assert case.summary == "Fixed at once."
    revision = CaseRevision.objects.get(case=case)
    assert revision.status == Status.APPROVED
    assert revision.author == revision.reviewer == publisher
    assert revision.changes == {"summary": "Fixed at once."}
    assert revision.applied_version == case.version


def test_drafts_are_edited_directly_without_revisions(client, editor):
    case = CaseFactory(status=Case.Status.DRAFT)
    client.force_login(editor)
    client.post(change_url(case), case_form_data(case, summary="Draft text."))
    case.refresh_from_db()
    assert case.summary == "Draft text." and not CaseRevision.objects.exists()


def test_links_and_appearances_of_a_revision_are_applied_on_approval(editor, publisher):
    case = CaseFactory(keywords=[KeywordFactory(name="Old keyword")])
    new_keyword = KeywordFactory(name="New keyword")
    saved = editing.save_case(
        case,
        user=editor,
        keywords=[new_keyword],
        appearances=[(None, "https://example.org/claim", "")],
    )
    assert saved.outcome == "proposed"
    assert [k.name for k in case.keywords.all()] == ["Old keyword"]
    assert not case.appearances.exists()
    revisions.approve(saved.revision, publisher)
    assert [k.name for k in case.keywords.all()] == ["New keyword"]
    assert list(case.appearances.values_list("url", flat=True)) == ["https://example.org/claim"]


def test_an_edit_that_changes_nothing_makes_no_revision(editor):
    case = CaseFactory()
    saved = editing.save_case(case, user=editor, summary=case.summary)
    assert saved.revision is None and not CaseRevision.objects.exists()
