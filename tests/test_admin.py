import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

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


def autocomplete(client, field_name, term):
    """What the case form's autocomplete for `field_name` offers for `term`."""
    response = client.get(
        "/admin/autocomplete/",
        {"term": term, "app_label": "cases", "model_name": "case", "field_name": field_name},
    )
    return [result["text"] for result in response.json()["results"]]


def test_keyword_autocomplete_finds_keywords_by_name(editor_client):
    KeywordFactory(name="Colour revolutions")
    KeywordFactory(name="NATO")
    assert autocomplete(editor_client, "keywords", "colour") == ["Colour revolutions"]


def changelist_titles(client, term):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/cases/case/", {"q": term})
    assert response.status_code == 200
    # The search index, not a scan of every title and summary.
    assert not any("LIKE" in query["sql"] for query in queries.captured_queries)
    return {case.title for case in response.context["cl"].result_list}


def test_the_case_list_finds_cases_by_words_and_their_start_through_the_search_index(
    editor_client,
):
    kremlin = CaseFactory(title="The Kremlin warns", summary="About occupation.")
    draft = CaseFactory(title="Biolabs again", status=Case.Status.DRAFT)
    CaseFactory(title="Something else", summary="Nothing to see.")

    assert changelist_titles(editor_client, "krem") == {"The Kremlin warns"}
    assert changelist_titles(editor_client, "kremlin occup") == {"The Kremlin warns"}
    assert changelist_titles(editor_client, "kremlin biolabs") == set()  # every word
    assert changelist_titles(editor_client, "biolab") == {"Biolabs again"}  # drafts too
    CaseFactory(title="Quiet title", disproof="Nothing about uranium was found.")
    assert changelist_titles(editor_client, "uranium") == {"Quiet title"}  # the disproof
    assert changelist_titles(editor_client, str(draft.pk)) == {"Biolabs again"}
    assert changelist_titles(editor_client, f" {kremlin.pk} ") == {"The Kremlin warns"}
    assert changelist_titles(editor_client, "9" * 30) == set()  # past a bigint: no case
    assert changelist_titles(editor_client, "'&|!:*()") == set()  # no word to search for
    assert changelist_titles(editor_client, "²") == set()  # a digit, but not a number


def test_the_related_cases_autocomplete_finds_cases_as_the_editor_types(editor_client):
    CaseFactory(title="The Kremlin warns")
    CaseFactory(title="Biolabs again")
    assert autocomplete(editor_client, "related", "kreml") == ["The Kremlin warns"]


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


def test_the_issue_filter_lists_the_newest_issues_with_cases_not_every_issue(admin_client):
    from cases.models import Issue
    from tests.factories import IssueFactory

    for number in range(1, 16):
        CaseFactory(title=f"Case of issue {number}", issue=IssueFactory(number=number))
    Issue.objects.create(number=999)  # no case: an orphan

    html = admin_client.get("/admin/cases/case/").content.decode()
    sidebar = html[html.index('id="changelist-filter"') :]
    offered = re.findall(r"\?issue=(\d+)", sidebar)
    assert offered == [str(number) for number in range(15, 5, -1)]

    response = admin_client.get("/admin/cases/case/", {"issue": "3"})
    assert response.status_code == 200
    assert [case.title for case in response.context["cl"].result_list] == ["Case of issue 3"]
