"""A withdrawn case keeps its URL: it answers 410 with the reason, on the site and in the
API, so that citations of it keep working. Drafts stay unknown (404)."""

import datetime

import pytest

from cases.models import Case
from tests.factories import CaseFactory, edit

pytestmark = pytest.mark.django_db

REASON = "A duplicate of case 12, which says it better."


@pytest.fixture
def withdrawn():
    case = CaseFactory(title="A claim that was withdrawn", summary="The quokka text.")
    return edit(case, status=Case.Status.WITHDRAWN, withdrawal_reason=REASON)


def test_a_withdrawn_case_page_answers_410_with_its_title_and_reason(client, withdrawn):
    response = client.get(f"/cases/{withdrawn.pk}/{withdrawn.slug}/")
    assert response.status_code == 410
    html = response.content.decode()
    assert "This case was withdrawn" in html
    assert "A claim that was withdrawn" in html
    assert REASON in html
    assert "quokka" not in html  # the claim's text is no longer shown
    assert '<meta name="robots" content="noindex">' in html


def test_a_withdrawn_case_answers_410_at_any_slug_of_its_url(client, withdrawn):
    assert client.get(f"/cases/{withdrawn.pk}/").status_code == 410
    assert client.get(f"/cases/{withdrawn.pk}/an-old-slug/").status_code == 410


def test_the_api_answers_410_naming_when_and_why(api_client, withdrawn):
    response = api_client.get(f"/api/v1/cases/{withdrawn.pk}/")
    assert response.status_code == 410
    day = withdrawn.updated_at.date().isoformat()
    assert response.json() == {
        "status": 410,
        "errors": [
            {
                "field": None,
                "message": f"Case {withdrawn.pk} was withdrawn on {day}: {REASON} "
                f"Corrections log: /corrections/#withdrawal-{withdrawn.pk}",
            }
        ],
    }
    assert api_client.get(f"/api/v1/cases/{withdrawn.pk}/?format=jsonld").status_code == 410


@pytest.mark.parametrize("status", [Case.Status.DRAFT, Case.Status.IN_REVIEW])
def test_unpublished_cases_stay_unknown(client, api_client, status):
    case = CaseFactory(status=status)
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    assert api_client.get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_ids_that_name_no_case_are_404(client, api_client):
    for pk in (999999, 2**63 - 1, 2**63):
        assert client.get(f"/cases/{pk}/").status_code == 404
        assert api_client.get(f"/api/v1/cases/{pk}/").status_code == 404


def test_a_republished_case_is_back(client, withdrawn):
    edit(withdrawn, status=Case.Status.PUBLISHED)
    assert client.get(withdrawn.get_absolute_url()).status_code == 200


def test_the_withdrawal_date_stays_when_a_related_case_changes_later(client, withdrawn):
    Case.objects.filter(pk=withdrawn.pk).update(
        withdrawn_at=datetime.datetime(2024, 3, 5, 12, tzinfo=datetime.UTC)
    )
    other = CaseFactory(related=[withdrawn])
    edit(other, title="A retitled related case")  # refreshes the withdrawn case's updated_at
    withdrawn.refresh_from_db()
    assert withdrawn.updated_at.year > 2024
    assert "on 5 March 2024" in client.get(f"/cases/{withdrawn.pk}/").content.decode()
    log = client.get("/corrections/").content.decode()
    assert "2024-03-05" in log or "5 March 2024" in log
