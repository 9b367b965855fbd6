import pytest

from cases import history
from cases.importers import parse_file
from cases.models import Case, CorrectionNote
from cases.services.imports import save_cases
from tests.editors import case_form_data, change_url, make_user
from tests.factories import AppearanceFactory, CaseFactory, KeywordFactory, OutletFactory, edit

pytestmark = pytest.mark.django_db

Status = Case.Status


@pytest.fixture
def editor():
    return make_user("editor", "Editors")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def test_an_admin_edit_records_one_entry_with_the_user_fields_links_and_appearances(
    editor_client, editor
):
    case = CaseFactory(status=Status.DRAFT, title="Original title")
    nato = KeywordFactory(name="NATO")
    outlet = OutletFactory(name="Sputnik")
    before = case.history.count()
    data = case_form_data(
        case,
        title="Corrected title",
        keywords=[nato.pk],
        **{
            "appearances-TOTAL_FORMS": 1,
            "appearances-0-outlet": outlet.pk,
            "appearances-0-url": "https://sputnik.example/a",
            "appearances-0-archive_url": "",
        },
    )
    assert editor_client.post(change_url(case), data).status_code == 302
    assert case.history.count() == before + 1
    record = case.history.first()
    assert record.history_user == editor
    changes = {label: (old, new) for label, old, new in history.changes_in(record)}
    assert changes["Title"] == ("Original title", "Corrected title")
    assert changes["Keywords"] == ("", "NATO")
    assert changes["Appearances"] == ("", "Sputnik https://sputnik.example/a")


def test_the_history_page_shows_who_changed_what(editor_client):
    case = CaseFactory(status=Status.DRAFT, title="Before")
    editor_client.post(change_url(case), case_form_data(case, title="After"))
    html = editor_client.get(f"/admin/cases/case/{case.pk}/history/").content.decode()
    assert "editor" in html
    assert "Before" in html and "After" in html


def test_reverting_restores_fields_links_and_appearances_as_a_new_version(editor_client):
    nato = KeywordFactory(name="NATO")
    case = CaseFactory(status=Status.DRAFT, title="First title", keywords=[nato])
    AppearanceFactory(case=case, url="https://first.example/a")
    history.record_now(case)
    first = case.history.first()
    case.refresh_from_db()
    data = case_form_data(
        case,
        title="Second title",
        keywords=[],
        **{"appearances-0-url": "https://second.example/b"},
    )
    assert editor_client.post(change_url(case), data).status_code == 302
    case.refresh_from_db()
    assert case.title == "Second title" and not case.keywords.exists()
    version_before_revert = case.version

    url = f"/admin/cases/case/{case.pk}/history/{first.history_id}/"
    page = editor_client.get(url).content.decode()
    assert "Second title" in page and "First title" in page
    assert editor_client.post(url).status_code == 302

    case.refresh_from_db()
    assert case.title == "First title"
    assert list(case.keywords.all()) == [nato]
    assert list(case.appearances.values_list("url", flat=True)) == ["https://first.example/a"]
    assert case.version == version_before_revert + 1
    assert case.history.first().history_change_reason == f"Reverted to version {first.version}"
    assert Case.objects.search("nato").get() == case


def test_related_case_links_are_in_the_history_and_restored_by_a_revert(editor_client):
    other = CaseFactory(title="The other claim")
    case = CaseFactory(status=Status.DRAFT, title="A claim")
    case.related.add(other)
    history.record_now(case)
    first = case.history.first()
    case.refresh_from_db()
    data = case_form_data(case, related=[])
    assert editor_client.post(change_url(case), data).status_code == 302
    assert not case.related.exists()

    assert history.changes_in(case.history.first()) == [("Related cases", "The other claim", "")]
    url = f"/admin/cases/case/{case.pk}/history/{first.history_id}/"
    assert editor_client.post(url).status_code == 302
    assert list(case.related.all()) == [other]
    assert list(other.related.all()) == [case]


def test_reverting_does_not_change_the_status(editor_client):
    case = CaseFactory(status=Status.DRAFT, title="Draft title")
    history.record_now(case)
    first = case.history.first()
    edit(case, status=Status.PUBLISHED)
    editor_client.post(f"/admin/cases/case/{case.pk}/history/{first.history_id}/")
    case.refresh_from_db()
    assert case.status == Status.PUBLISHED


def test_a_correction_note_is_saved_with_the_edit_and_listed_on_the_public_page(
    client, editor_client, editor
):
    case = CaseFactory(title="A published claim")
    data = case_form_data(case, correction_note="The date of publication was corrected.")
    assert editor_client.post(change_url(case), data).status_code == 302
    note = CorrectionNote.objects.get(case=case)
    assert note.author == editor and note.case_version == case.version + 1
    assert case.history.first().history_change_reason == note.text
    client.logout()
    html = client.get(case.get_absolute_url()).content.decode()
    assert "Corrections" in html
    assert "The date of publication was corrected." in html
    assert note.created_at.strftime("%Y-%m-%d") in html


def test_a_case_page_without_corrections_has_no_corrections_section(client):
    case = CaseFactory()
    html = client.get(case.get_absolute_url()).content.decode()
    assert '<h2 id="corrections-heading">' not in html
    assert 'class="corrections"' not in html


def test_an_import_records_one_history_entry_per_case(seed_file):
    save_cases(parse_file(seed_file))
    recorded_keywords = 0
    for case in Case.objects.all():
        assert case.history.count() == 1
        record = case.history.get()
        assert record.history_type == "+" and record.history_change_reason == "Imported"
        assert record.keywords.count() == case.keywords.count()
        recorded_keywords += record.keywords.count()
    assert recorded_keywords > 0


class TestTwoEditors:
    """Two editors open the same case; the second one to save must not overwrite the first."""

    def test_the_second_save_is_refused_and_shows_what_the_first_editor_changed(self, client):
        case = CaseFactory(status=Status.DRAFT, title="Shared title", summary="Old summary")
        alice, bob = make_user("alice", "Editors"), make_user("bob", "Editors")
        opened_by_alice = case_form_data(case)
        opened_by_bob = case_form_data(case)

        client.force_login(alice)
        alice_data = {**opened_by_alice, "summary": "Alice's summary"}
        assert client.post(change_url(case), alice_data).status_code == 302

        client.force_login(bob)
        bob_data = {**opened_by_bob, "title": "Bob's title"}
        response = client.post(change_url(case), bob_data)
        assert response.status_code == 200
        html = response.content.decode()
        assert "another editor changed this case" in html
        assert "Old summary" in html and "Alice&#x27;s summary" in html
        assert "Bob&#x27;s title" in html  # Bob's edit is still in the form
        case.refresh_from_db()
        assert case.title == "Shared title" and case.summary == "Alice's summary"

        # Bob read the changes; saving the re-rendered form again is deliberate.
        version = response.context["adminform"].form["loaded_version"].value()
        assert version == case.version
        again = {**bob_data, "summary": "Alice's summary", "loaded_version": version}
        assert client.post(change_url(case), again).status_code == 302
        case.refresh_from_db()
        assert case.title == "Bob's title" and case.summary == "Alice's summary"

    def test_a_save_without_a_version_is_refused(self, editor_client):
        case = CaseFactory(status=Status.DRAFT)
        data = case_form_data(case, title="Changed")
        del data["loaded_version"]
        assert editor_client.post(change_url(case), data).status_code == 200
        case.refresh_from_db()
        assert case.title != "Changed"

    def test_changes_since_lists_what_changed_after_a_version(self):
        case = CaseFactory(status=Status.DRAFT, title="One")
        history.record_now(case)
        version = case.version
        edit(case, title="Two")
        assert history.changes_since(case, version) == [("Title", "One", "Two")]
        assert history.changes_since(case, 999) is None


def test_a_textarea_posted_with_crlf_line_ends_is_not_recorded_as_a_change(editor_client):
    case = CaseFactory(status=Status.DRAFT, summary="One.\n\nTwo.", disproof="Three.\n\nFour.")
    data = case_form_data(case, summary="One.\r\n\r\nTwo.", disproof="Three.\r\n\r\nFour.")
    version = case.version
    assert editor_client.post(change_url(case), data).status_code == 302
    case.refresh_from_db()
    assert case.summary == "One.\n\nTwo."
    # Nothing changed: no new version and no history entry.
    assert case.version == version
    assert case.history.count() == 1
