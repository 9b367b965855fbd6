import re

import pytest
from django.contrib.auth.models import User

from cases.models import Case
from tests.factories import CaseFactory, KeywordFactory, OutletFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client):
    client.force_login(User.objects.create_superuser("editor", "editor@example.org", "pw"))
    return client


def test_the_case_form_uses_autocomplete_and_inline_appearances(editor_client):
    html = editor_client.get("/admin/cases/case/add/").content.decode()
    for field in ("keywords", "countries", "languages", "related", "issue"):
        select = re.search(rf'<select [^>]*name="{field}"[^>]*>', html).group(0)
        assert "admin-autocomplete" in select, field
    assert "appearances-0-outlet" in html
    assert "appearances-0-archive_url" in html


def test_keyword_autocomplete_finds_keywords_by_name(editor_client):
    KeywordFactory(name="Colour revolutions")
    KeywordFactory(name="NATO")
    response = editor_client.get(
        "/admin/autocomplete/",
        {"term": "colour", "app_label": "cases", "model_name": "case", "field_name": "keywords"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["Colour revolutions"]


def test_an_editor_creates_a_case_with_an_appearance(editor_client):
    keyword = KeywordFactory(name="NATO")
    outlet = OutletFactory(name="Sputnik")
    response = editor_client.post(
        "/admin/cases/case/add/",
        {
            "title": "NATO is preparing an attack",
            "summary": "The outlet said so.",
            "disproof": "No evidence.",
            "status": "published",
            "date": "2024-05-01",
            "keywords": [keyword.pk],
            "appearances-TOTAL_FORMS": "1",
            "appearances-INITIAL_FORMS": "0",
            "appearances-0-outlet": outlet.pk,
            "appearances-0-url": "https://sputnik.example/nato",
            "appearances-0-archive_url": "https://archive.example/nato",
            "pending_references-TOTAL_FORMS": "0",
            "pending_references-INITIAL_FORMS": "0",
            "correction_notes-TOTAL_FORMS": "0",
            "correction_notes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get(title="NATO is preparing an attack")
    assert case.is_published and case.published_at is not None
    assert list(case.keywords.all()) == [keyword]
    assert case.appearances.get().outlet == outlet
    assert Case.objects.search("nato").get() == case


def test_the_case_list_searches_and_filters_by_status(editor_client):
    CaseFactory(title="Published claim")
    CaseFactory(title="Draft claim", status=Case.Status.DRAFT)
    html = editor_client.get("/admin/cases/case/?status__exact=draft").content.decode()
    assert "Draft claim" in html and "Published claim" not in html
    html = editor_client.get("/admin/cases/case/?q=published").content.decode()
    assert "Published claim" in html and "Draft claim" not in html
