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


def test_the_change_page_lists_similar_cases_without_javascript(editor_client):
    other = CaseFactory(title="NATO is preparing an attack on Russia")
    case = CaseFactory(title="NATO prepares an attack on Russia", status=Case.Status.DRAFT)
    html = editor_client.get(change_url(case)).content.decode()
    assert "Possible duplicates" in html and change_url(other) in html
    # Editing a case that has look-alikes needs no extra confirmation.
    assert editor_client.post(change_url(case), case_form_data(case)).status_code == 302


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
