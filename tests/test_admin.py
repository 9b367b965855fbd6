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


def issue_sidebar(html):
    """The issue filter's part of the changelist's sidebar."""
    start = html.index('data-filter-title="issue"')
    return html[start : html.index("</details>", start)]


def listed_titles(response):
    return sorted(case.title for case in response.context["cl"].result_list)


def test_the_issue_filter_is_a_number_box_with_the_five_newest_issues_under_it(admin_client):
    from cases.models import Issue
    from tests.factories import IssueFactory

    for number in range(1, 16):
        CaseFactory(title=f"Case of issue {number}", issue=IssueFactory(number=number))
    Issue.objects.create(number=999)  # no case: not offered

    sidebar = issue_sidebar(admin_client.get("/admin/cases/case/").content.decode())
    assert re.search(r'<label for="issue-search-number"[^>]*>Issue number</label>', sidebar)
    box = re.search(r'<input type="number" id="issue-search-number"[^>]*>', sidebar).group(0)
    assert 'name="issue"' in box and 'value=""' in box
    assert re.findall(r"\?issue=(\d+)", sidebar) == ["15", "14", "13", "12", "11"]
    assert ">All issues</a>" in sidebar

    # Any issue, not only a listed one; the old ?issue=N URLs keep working.
    response = admin_client.get("/admin/cases/case/", {"issue": "3"})
    assert response.status_code == 200
    assert listed_titles(response) == ["Case of issue 3"]
    box = re.search(r'<input type="number"[^>]*>', issue_sidebar(response.content.decode()))
    assert 'value="3"' in box.group(0)

    # The box sent empty: every issue, and no complaint.
    response = admin_client.get("/admin/cases/case/", {"issue": ""})
    assert len(response.context["cl"].result_list) == 15
    assert "is not an issue number" not in response.content.decode()


def test_the_issue_box_keeps_the_other_filters_and_all_issues_clears_only_the_issue(
    admin_client,
):
    from tests.factories import IssueFactory

    issue = IssueFactory(number=270)
    CaseFactory(title="Published claim", issue=issue)
    CaseFactory(title="Draft claim", issue=issue, status=Case.Status.DRAFT)
    CaseFactory(title="Published claim of another issue", issue=IssueFactory(number=271))

    query = {"status__exact": "published", "q": "claim", "o": "-2", "p": "2", "issue": "270"}
    response = admin_client.get("/admin/cases/case/", query)
    assert listed_titles(response) == ["Published claim"]
    sidebar = issue_sidebar(response.content.decode())
    form = sidebar[sidebar.index("<form") : sidebar.index("</form>")]
    hidden = re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', form)
    # What the box sends with the number it is given: everything but the issue and the page.
    assert hidden == [("o", "-2"), ("q", "claim"), ("status__exact", "published")]
    assert re.search(r'<input type="number"[^>]*name="issue"', form)

    resubmitted = dict(hidden, issue="271")
    response = admin_client.get("/admin/cases/case/", resubmitted)
    assert listed_titles(response) == ["Published claim of another issue"]

    every_issue = re.search(r'<a href="([^"]*)">All issues</a>', sidebar).group(1)
    assert every_issue == "?o=-2&amp;q=claim&amp;status__exact=published"
    response = admin_client.get("/admin/cases/case/" + every_issue.replace("&amp;", "&"))
    assert listed_titles(response) == ["Published claim", "Published claim of another issue"]


@pytest.mark.parametrize("value", ["abc", "²", "3.0", "-3", "99999999999999999999"])
def test_an_issue_that_is_no_number_shows_no_case_and_says_why(admin_client, value):
    from tests.factories import IssueFactory

    CaseFactory(title="Case of issue 3", issue=IssueFactory(number=3))

    # With the counts on, the changelist filters once per other filter as well.
    response = admin_client.get("/admin/cases/case/", {"issue": value, "_facets": "True"})

    assert response.status_code == 200
    assert listed_titles(response) == []
    html = response.content.decode()
    assert html.count("is not an issue number, so no case is shown") == 1
    assert re.search(r'<li class="error">“[^”]*” is not an issue number', html)
    # ... and once only: no copy is left over for the next page.
    html = admin_client.get("/admin/cases/case/").content.decode()
    assert "is not an issue number" not in html
