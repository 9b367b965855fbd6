import pytest

from cases.models import Case
from cases.search.similar import similar_cases
from tests.editors import case_form_data, change_url, make_user, new_case_data
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client):
    client.force_login(make_user("editor", "Editors"))
    return client


def test_a_case_with_a_similar_title_is_suggested_and_an_unrelated_one_is_not():
    similar = CaseFactory(title="NATO is preparing an attack on Russia")
    CaseFactory(title="Vaccines contain microchips")
    found = similar_cases("NATO prepares an attack on Russia")
    assert [case.pk for case in found] == [similar.pk]
    assert found[0].matched_on == "title" and 0.3 <= found[0].similarity <= 1


def test_a_case_with_a_similar_summary_is_suggested():
    summary = "The outlet claimed that Western laboratories in Ukraine develop biological weapons."
    similar = CaseFactory(title="Secret labs", summary=summary)
    CaseFactory(title="Other", summary="An election was said to be rigged by foreign agents.")
    found = similar_cases("Completely different headline", summary.replace("develop", "make"))
    assert [case.pk for case in found] == [similar.pk]
    assert found[0].matched_on == "summary"


def test_the_case_itself_is_not_its_own_duplicate():
    case = CaseFactory(title="NATO is preparing an attack on Russia")
    assert similar_cases(case.title, exclude_pk=case.pk) == []


def test_the_json_endpoint_lists_similar_cases_with_links(editor_client):
    published = CaseFactory(title="NATO is preparing an attack on Russia")
    draft = CaseFactory(title="NATO prepares attacks on Russia", status=Case.Status.DRAFT)
    response = editor_client.get(
        "/admin/cases/case/similar/", {"title": "NATO is preparing an attack on Russia!"}
    )
    results = response.json()["results"]
    assert [r["id"] for r in results] == [published.pk, draft.pk]
    assert results[0]["admin_url"] == change_url(published)
    assert results[0]["public_url"] == published.get_absolute_url()
    assert results[1]["public_url"] is None


def test_the_json_endpoint_needs_a_staff_login(client):
    response = client.get("/admin/cases/case/similar/", {"title": "anything"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_adding_a_case_like_an_existing_one_asks_for_confirmation_first(editor_client):
    existing = CaseFactory(title="NATO is preparing an attack on Russia")
    data = new_case_data(title="NATO is preparing an attack against Russia", summary="x")
    response = editor_client.post("/admin/cases/case/add/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Possible duplicates" in html and change_url(existing) in html
    assert Case.objects.count() == 1

    response = editor_client.post("/admin/cases/case/add/", {**data, "not_a_duplicate": "on"})
    assert response.status_code == 302
    assert Case.objects.count() == 2


def test_adding_a_case_unlike_any_other_needs_no_confirmation(editor_client):
    CaseFactory(title="NATO is preparing an attack on Russia")
    data = new_case_data(title="Vaccines contain microchips", summary="x")
    assert editor_client.post("/admin/cases/case/add/", data).status_code == 302


def duplicates_url(case):
    return f"/admin/cases/case/{case.pk}/duplicates/"


def test_the_change_page_lists_similar_cases_without_javascript(editor_client):
    other = CaseFactory(title="NATO is preparing an attack on Russia")
    case = CaseFactory(title="NATO prepares an attack on Russia", status=Case.Status.DRAFT)
    html = editor_client.get(change_url(case)).content.decode()
    # The form links to its look-alikes rather than matching them itself ...
    assert "Possible duplicates" in html and f'href="{duplicates_url(case)}"' in html
    assert change_url(other) not in html
    # ... and the link leads to a page listing them.
    page = editor_client.get(duplicates_url(case))
    assert page.status_code == 200
    page_html = page.content.decode()
    assert "Possible duplicates" in page_html and change_url(other) in page_html
    assert 'id="site-name"' in page_html  # a page of the admin, with its header
    # Editing a case that has look-alikes needs no extra confirmation.
    assert editor_client.post(change_url(case), case_form_data(case)).status_code == 302


def test_the_duplicates_page_lists_what_the_duplicate_check_finds_in_its_order(editor_client):
    case = CaseFactory(title="NATO is preparing an attack on Russia")
    published = CaseFactory(title="NATO is preparing an attack on Russia!")
    draft = CaseFactory(title="NATO prepares attacks on Russia", status=Case.Status.DRAFT)
    CaseFactory(title="Vaccines contain microchips")
    expected = [c.pk for c in similar_cases(case.title, case.summary, exclude_pk=case.pk)]
    assert expected == [published.pk, draft.pk]  # drafts included, most similar first

    response = editor_client.get(duplicates_url(case), {"fragment": "1"})
    assert response.status_code == 200
    assert [c.pk for c in response.context["similar"]] == expected
    html = response.content.decode()
    # The fragment: the list alone, no admin page around it.
    assert html.lstrip().startswith('<div id="similar-list">') and "<html" not in html
    assert html.index(change_url(published)) < html.index(change_url(draft))
    assert "Draft" in html


def test_the_duplicates_page_says_when_no_case_looks_alike(editor_client):
    case = CaseFactory(title="NATO is preparing an attack on Russia", summary="War plans.")
    CaseFactory(title="Vaccines contain microchips", summary="Chips in vaccines.")
    html = editor_client.get(duplicates_url(case), {"fragment": "1"}).content.decode()
    assert "No existing case looks like this one." in html and "<li>" not in html


def test_the_duplicates_page_needs_the_permission_of_the_change_form(client):
    case = CaseFactory(title="NATO is preparing an attack on Russia")
    response = client.get(duplicates_url(case))
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(make_user("staff-without-cases"))  # staff, no permission on cases
    assert client.get(change_url(case)).status_code == 403
    assert client.get(duplicates_url(case)).status_code == 403
    assert client.get(duplicates_url(case), {"fragment": "1"}).status_code == 403


@pytest.mark.parametrize("object_id", ["0", "abc", "999999999", "9" * 50, "%C2%B2"])
def test_the_duplicates_page_of_no_case_is_not_found(editor_client, object_id):
    assert editor_client.get(f"/admin/cases/case/{object_id}/duplicates/").status_code == 404


def test_the_add_form_lists_no_duplicates_until_there_is_text(editor_client):
    CaseFactory(title="NATO is preparing an attack on Russia")
    html = editor_client.get("/admin/cases/case/add/").content.decode()
    assert 'class="similar-cases empty"' in html
    assert "Possible duplicates" not in html and "/duplicates/" not in html


def test_summary_candidates_come_from_the_rarest_words_by_the_search_statistics():
    from django.db import connection

    from cases.search.similar import rarest

    for n in range(30):
        CaseFactory(summary=f"Disinformation about the elections, number {n}.")
    CaseFactory(summary="Disinformation about Zanzibar.")
    # Without statistics, longer words come first; "about" is a stop word and never does.
    assert rarest(["about", "disinformation", "zanzibar"], 2) == ["disinformation", "zanzibar"]

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")

    assert rarest(["about", "disinformation", "zanzibar"], 2) == ["zanzibar", "disinformation"]
    assert rarest(["disinformation", "zanzibar"], 1) == ["zanzibar"]
