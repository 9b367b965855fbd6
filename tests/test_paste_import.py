import pytest

from cases.models import Case, CaseRevision, Keyword, OutletAlias, PendingReference
from tests.editors import make_user
from tests.factories import CaseFactory, KeywordFactory, OutletFactory

pytestmark = pytest.mark.django_db

URL = "/admin/cases/case/paste-import/"

PASTED = """Disinfo: Pasted claim about the Baltic states


The outlet said the Baltic states are run from abroad.


There is no evidence for this.


Read also related cases: An older case already in the database, or A case nobody entered yet.

  \u2022 Reported in: Issue 300
  \u2022 DATE OF PUBLICATION: 05/03/2023
  \u2022 Article language(s) Russian
  \u2022 Countries and/or Regions discussed in the disinformation: Latvia, Baltic states
  \u2022 Keywords: Sovereignty, Brand new keyword
see more
"""


@pytest.fixture
def editor():
    return make_user("editor", "Editors")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def test_the_preview_shows_recognised_and_new_values_and_writes_nothing(editor_client):
    KeywordFactory(name="Sovereignty")
    older = CaseFactory(title="An older case already in the database")
    keywords = Keyword.objects.count()
    response = editor_client.post(URL, {"text": PASTED, "preview": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Line 1: Pasted claim about the Baltic states" in html
    assert '<span class="taxonomy-known" title="already in the database">Sovereignty' in html
    assert "Brand new keyword <em>(new)</em>" in html
    assert f'links to <a href="/admin/cases/case/{older.pk}/change/">#{older.pk}</a>' in html
    assert 'A case nobody entered yet — <span class="pending">' in html
    assert 'name="confirm"' in html
    assert Case.objects.count() == 1 and Keyword.objects.count() == keywords


def test_errors_are_shown_by_line_and_nothing_can_be_confirmed(editor_client):
    broken = PASTED.replace("05/03/2023", "31/02/2023") + "\nDisinfo: \n"
    response = editor_client.post(URL, {"text": broken, "preview": "1"})
    html = response.content.decode()
    assert "Line 13: date: not a date in the form DD/MM/YYYY (&#x27;31/02/2023&#x27;)" in html
    assert "Line 19: title: &#x27;Disinfo:&#x27; line without a title" in html
    assert 'name="confirm"' not in html
    assert Case.objects.count() == 0


def test_confirming_saves_drafts_with_their_history(editor_client, editor):
    preview = editor_client.post(URL, {"text": PASTED, "preview": "1"})
    previewed = preview.context["form"]["previewed"].value()
    response = editor_client.post(URL, {"text": PASTED, "previewed": previewed, "confirm": "1"})
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.title == "Pasted claim about the Baltic states"
    assert case.status == Case.Status.DRAFT
    assert {k.name for k in case.keywords.all()} == {"Sovereignty", "Brand new keyword"}
    assert PendingReference.objects.filter(case=case).count() == 2
    assert case.history.get().history_user == editor


def test_confirming_a_text_changed_since_the_preview_writes_nothing(editor_client):
    preview = editor_client.post(URL, {"text": PASTED, "preview": "1"})
    previewed = preview.context["form"]["previewed"].value()
    changed = PASTED.replace("Pasted claim", "Edited claim")
    response = editor_client.post(URL, {"text": changed, "previewed": previewed, "confirm": "1"})
    assert response.status_code == 200
    assert "Edited claim" in response.content.decode()
    assert Case.objects.count() == 0


def confirm(client, text):
    preview = client.post(URL, {"text": text, "preview": "1"})
    previewed = preview.context["form"]["previewed"].value()
    return client.post(URL, {"text": text, "previewed": previewed, "confirm": "1"}, follow=True)


def test_an_existing_case_is_shown_with_the_fields_the_paste_changes(editor_client):
    existing = CaseFactory(
        title="Pasted claim about the Baltic states", date=None, summary="The live summary."
    )
    html = editor_client.post(URL, {"text": PASTED, "preview": "1"}).content.decode()
    assert f'the existing case <a href="/admin/cases/case/{existing.pk}/change/">' in html
    assert "(published)" in html and "become a revision waiting for review" in html
    assert '<th scope="row">Summary</th><td class="old">The live summary.</td>' in html
    assert "The outlet said the Baltic states are run from abroad." in html
    assert '<th scope="row">Title</th>' not in html  # the title is the same
    assert Case.objects.count() == 1


def test_a_pasted_published_case_waits_for_review_and_the_live_text_stays(editor_client, client):
    existing = CaseFactory(
        title="Pasted claim about the Baltic states", date=None, summary="The live summary."
    )
    version = existing.version
    response = confirm(editor_client, PASTED)
    html = response.content.decode()
    revision = CaseRevision.objects.get(case=existing)
    assert revision.status == CaseRevision.Status.PENDING
    assert revision.changes["summary"] == "The outlet said the Baltic states are run from abroad."
    assert f"revision #{revision.pk}</a> of" in html and "No published case changed." in html
    assert response.redirect_chain[-1][0] == "/admin/cases/case/review/"
    existing.refresh_from_db()
    assert existing.summary == "The live summary." and existing.version == version
    client.logout()
    assert "The live summary." in client.get(existing.get_absolute_url()).content.decode()


def test_a_publishers_paste_of_a_published_case_waits_for_review_too(client):
    existing = CaseFactory(title="Pasted claim about the Baltic states", date=None)
    client.force_login(make_user("publisher", "Publishers"))
    confirm(client, PASTED)
    assert CaseRevision.objects.get(case=existing).status == CaseRevision.Status.PENDING
    existing.refresh_from_db()
    assert existing.summary != "The outlet said the Baltic states are run from abroad."


def test_a_pasted_draft_is_updated_and_the_message_links_to_it(editor_client):
    existing = CaseFactory(
        title="Pasted claim about the Baltic states", date=None, status=Case.Status.DRAFT
    )
    response = confirm(editor_client, PASTED)
    existing.refresh_from_db()
    assert existing.summary == "The outlet said the Baltic states are run from abroad."
    assert not CaseRevision.objects.exists()
    assert f'href="/admin/cases/case/{existing.pk}/change/">#{existing.pk}' in (
        response.content.decode()
    )


def test_a_new_pasted_case_lands_on_its_own_draft(editor_client):
    response = confirm(editor_client, PASTED)
    case = Case.objects.get()
    assert response.redirect_chain[-1][0] == f"/admin/cases/case/{case.pk}/change/"
    assert f'new draft <a href="/admin/cases/case/{case.pk}/change/">' in (
        response.content.decode()
    )


def test_the_page_needs_the_add_permission(client):
    client.force_login(make_user("viewer"))
    assert client.get(URL).status_code == 403


def test_the_case_list_links_to_the_paste_import(editor_client):
    assert URL in editor_client.get("/admin/cases/case/").content.decode()


def test_the_preview_matches_outlets_by_alias_and_domain(editor_client):
    outlet = OutletFactory(name="Sputnik", domain="sputniknews.com")
    OutletAlias.objects.create(outlet=outlet, name="Sputnik Poland")
    from cases.importers.base import TaxonomyResolver

    resolver = TaxonomyResolver()
    assert resolver.find_outlet("Sputnik Poland") == outlet
    assert resolver.find_outlet("sputniknews.com") == outlet
    assert resolver.find_outlet("Unknown outlet", "sputniknews.com") == outlet
    assert resolver.find_outlet("Unknown outlet") is None
