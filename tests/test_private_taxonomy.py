"""Nothing private leaks through the taxonomy or the typo suggestions.

A keyword, country, language, outlet or review issue that no published case carries (only
drafts, cases in review or withdrawn cases do) is unknown to the public on every surface:
absent from the API lists, 404 on its API URL, absent from the browse pages, the facets
and the statistics, and a filter naming it answers exactly as one naming a value that never
existed. It shows once a case carrying it is published, and goes when that case is
withdrawn, on the production path too (facet index and page cache on). Editors still see
and filter by it.
"""

import json

import pytest
from django.utils import timezone

from cases.models import Case, Country, Issue, Keyword, Language, Outlet
from cases.search import approximate_query
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    CountryFactory,
    IssueFactory,
    KeywordFactory,
    LanguageFactory,
    OutletFactory,
    edit,
)

UNPUBLISHED = [Case.Status.DRAFT, Case.Status.IN_REVIEW, Case.Status.WITHDRAWN]

# facet: (API list, the value's API URL, its browse page, the name shown)
PRIVATE = {
    "keyword": ("/api/v1/keywords/", "/api/v1/keywords/hushed/", "/keywords/", "Hushed"),
    "country": ("/api/v1/countries/", "/api/v1/countries/atlantis/", "/countries/", "Atlantis"),
    "language": ("/api/v1/languages/", "/api/v1/languages/tlh/", "/languages/", "Klingon"),
    "outlet": ("/api/v1/outlets/", "/api/v1/outlets/hush-courier/", "/outlets/", "Hush Courier"),
    "issue": ("/api/v1/issues/", "/api/v1/issues/999/", "/issues/", "Issue 999"),
}
# The filter parameter value of each private value, and one that never existed.
FILTER_VALUES = {
    "keyword": ("hushed", "never-was"),
    "country": ("atlantis", "never-was"),
    "language": ("tlh", "zz"),
    "outlet": ("hush-courier", "never-was"),
}


def make_world(status):
    """A published case with public values, and a case of `status` with private ones."""
    public = CaseFactory(
        title="Public claim",
        issue=IssueFactory(number=1),
        keywords=[KeywordFactory(name="Shown")],
        countries=[CountryFactory(name="Freedonia")],
        languages=[LanguageFactory(code="en", name="English")],
    )
    AppearanceFactory(case=public, outlet=OutletFactory(name="Open Gazette"))
    fields = {"withdrawal_reason": "Duplicate."} if status == Case.Status.WITHDRAWN else {}
    hidden = CaseFactory(
        title="Hidden claim",
        status=Case.Status.PUBLISHED if status == Case.Status.WITHDRAWN else status,
        issue=IssueFactory(number=999),
        keywords=[KeywordFactory(name="Shown"), KeywordFactory(name="Hushed")],
        countries=[CountryFactory(name="Atlantis")],
        languages=[LanguageFactory(code="tlh", name="Klingon")],
    )
    AppearanceFactory(case=hidden, outlet=OutletFactory(name="Hush Courier"))
    if status == Case.Status.WITHDRAWN:
        hidden = edit(hidden, status=status, **fields)
    return public, hidden


def names_listed(client, url):
    body = client.get(url).json()
    return {item.get("name") or f"Issue {item.get('number')}" for item in body}


@pytest.mark.django_db
@pytest.mark.parametrize("status", UNPUBLISHED)
class TestAValueOfNoPublishedCase:
    def test_is_absent_from_the_api_lists_and_404_on_its_url(self, api_client, status):
        make_world(status)
        for facet, (list_url, detail_url, _, name) in PRIVATE.items():
            listed = names_listed(api_client, list_url)
            assert name not in listed, facet
            assert listed, facet  # the public value is there
            response = api_client.get(detail_url)
            assert response.status_code == 404, facet
            never = api_client.get(f"{list_url}998/" if facet == "issue" else f"{list_url}zz/")
            assert response.content == never.content, facet

    def test_is_absent_from_the_browse_pages_facets_and_statistics(self, client, status):
        make_world(status)
        for facet, (_, _, browse_url, name) in PRIVATE.items():
            html = client.get(browse_url).content.decode()
            assert name not in html, facet
        for url in ("/cases/", "/api/v1/cases/facets/", "/stats/", "/cases/?q=claim"):
            text = client.get(url).content.decode()
            for _, _, _, name in PRIVATE.values():
                assert name not in text, (url, name)
        assert "Freedonia" in client.get("/cases/").content.decode()

    def test_a_filter_naming_it_answers_as_one_naming_a_value_that_never_existed(
        self, client, api_client, status
    ):
        make_world(status)
        for facet, (private, unknown) in FILTER_VALUES.items():
            for url in ("/cases/", "/stats/", "/cases/feed/rss/", "/cases/export/"):
                hidden = client.get(f"{url}?{facet}={private}")
                never = client.get(f"{url}?{facet}={unknown}")
                assert hidden.status_code == 400, (url, facet)
                hidden_text = hidden.content.decode().replace(private, unknown)
                assert hidden_text == never.content.decode(), (url, facet)
            hidden = api_client.get(f"/api/v1/cases/?{facet}={private}")
            never = api_client.get(f"/api/v1/cases/?{facet}={unknown}")
            assert hidden.status_code == 400
            assert [error["field"] for error in hidden.json()["errors"]] == [facet]
            assert hidden.content.decode().replace(private, unknown) == never.content.decode()
        # The list page shows no chip for it.
        html = client.get("/cases/?keyword=hushed").content.decode()
        assert "Keyword: Hushed" not in html

    def test_editors_still_see_it_in_the_api_filter_and_the_admin(
        self, editor_client, admin_client, status
    ):
        _, hidden = make_world(status)
        response = editor_client.get("/api/v1/cases/?keyword=hushed&country=atlantis")
        assert response.status_code == 200
        assert [case["id"] for case in response.json()["results"]] == [hidden.pk]
        assert "Hushed" in admin_client.get("/admin/cases/keyword/").content.decode()


@pytest.mark.django_db
def test_a_value_shows_once_its_case_is_published_and_goes_when_it_is_withdrawn(client, api_client):
    _, hidden = make_world(Case.Status.DRAFT)
    assert api_client.get("/api/v1/keywords/hushed/").status_code == 404

    edit(hidden, status=Case.Status.PUBLISHED)
    for facet, (list_url, detail_url, browse_url, name) in PRIVATE.items():
        assert name in names_listed(api_client, list_url), facet
        assert api_client.get(detail_url).json()["case_count"] == 1, facet
        assert name in client.get(browse_url).content.decode(), facet
    assert client.get("/cases/?keyword=hushed").context_data["total"] == 1
    assert "Keyword: Hushed" in client.get("/cases/?keyword=hushed").content.decode()

    edit(hidden, status=Case.Status.WITHDRAWN, withdrawal_reason="Duplicate.")
    for facet, (list_url, detail_url, browse_url, name) in PRIVATE.items():
        assert name not in names_listed(api_client, list_url), facet
        assert api_client.get(detail_url).status_code == 404, facet
        assert name not in client.get(browse_url).content.decode(), facet
    assert client.get("/cases/?keyword=hushed").status_code == 400


@pytest.mark.django_db
def test_a_redirect_to_a_private_value_names_only_what_was_typed(api_client):
    CaseFactory(title="Public claim", keywords=[KeywordFactory(name="Shown")])
    hushed = KeywordFactory(name="Hushed")
    CaseFactory(title="Hidden", status=Case.Status.DRAFT, keywords=[hushed])
    hushed.name = "Renamed secret"
    hushed.save()  # the old slug "hushed" now redirects to "renamed-secret"

    response = api_client.get("/api/v1/cases/?keyword=hushed")
    assert response.status_code == 400
    assert "renamed" not in response.content.decode().lower()


# --- The production path: committed data, facet index and page cache on -----------------

# Values only the committed draft, case in review or withdrawn case carries.
COMMITTED_PRIVATE = [
    ("/api/v1/keywords/", "/api/v1/keywords/quokka-keyword/", "/keywords/", "Quokka keyword"),
    ("/api/v1/outlets/", "/api/v1/outlets/quokka-courier/", "/outlets/", "Quokka Courier"),
    ("/api/v1/keywords/", "/api/v1/keywords/narwhal-keyword/", "/keywords/", "Narwhal keyword"),
]


def production(settings):
    settings.FACET_INDEX, settings.PAGE_CACHE = True, True


def shows(client, value):
    list_url, detail_url, browse_url, name = value
    listed = name in {item["name"] for item in client.get(list_url).json()}
    found = client.get(detail_url).status_code == 200
    browsed = name in client.get(browse_url).content.decode()
    assert listed == found == browsed, value
    return listed


def test_on_the_production_path_private_values_show_only_while_a_case_is_published(
    committed, client, settings
):
    production(settings)
    client.get("/api/v1/cases/facets/")  # the facet index is built
    for value in COMMITTED_PRIVATE:
        assert not shows(client, value)
        assert not shows(client, value)  # kept by the page cache: still absent
    assert client.get("/cases/?keyword=quokka-keyword").status_code == 400

    draft = committed.draft
    Case.objects.filter(pk=draft.pk).update(
        status=Case.Status.PUBLISHED, published_at=timezone.now()
    )
    try:
        assert shows(client, COMMITTED_PRIVATE[0])
        assert shows(client, COMMITTED_PRIVATE[1])
        assert not shows(client, COMMITTED_PRIVATE[2])
        response = client.get("/cases/?keyword=quokka-keyword")
        assert response.status_code == 200
        assert "Keyword: Quokka keyword" in response.content.decode()
    finally:
        Case.objects.filter(pk=draft.pk).update(status=draft.status, published_at=None)
    for value in COMMITTED_PRIVATE:
        assert not shows(client, value)
    assert client.get("/cases/?keyword=quokka-keyword").status_code == 400


def test_on_the_production_path_a_value_goes_when_its_last_case_is_withdrawn(
    committed, client, settings
):
    production(settings)
    value = ("/api/v1/keywords/", "/api/v1/keywords/comma-keyword/", "/keywords/", "Comma, keyword")
    assert shows(client, value)
    assert client.get("/cases/?keyword=comma-keyword").status_code == 200

    quoted = committed.quoted
    Case.objects.filter(pk=quoted.pk).update(status=Case.Status.WITHDRAWN)
    try:
        assert not shows(client, value)
        assert client.get("/cases/?keyword=comma-keyword").status_code == 400
        facets = json.dumps(client.get("/api/v1/cases/facets/").json())
        assert "comma-keyword" not in facets
    finally:
        Case.objects.filter(pk=quoted.pk).update(status=quoted.status)
    assert shows(client, value)
    assert "comma-keyword" in json.dumps(client.get("/api/v1/cases/facets/?limit=100").json())


# --- Typo suggestions ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("status", UNPUBLISHED)
def test_a_word_only_an_unpublished_case_has_is_never_suggested(client, status):
    CaseFactory(title="Claim about the weather")
    case = CaseFactory(title="Claim about vextrimould", status=Case.Status.PUBLISHED)
    assert approximate_query("vextrimoold") == "vextrimould"
    fields = {"withdrawal_reason": "Duplicate."} if status == Case.Status.WITHDRAWN else {}
    edit(case, status=status, **fields)

    assert approximate_query("vextrimoold") is None
    response = client.get("/cases/?q=vextrimoold")
    assert "vextrimould" not in response.content.decode()
    assert response.context_data["approximate"] is None


@pytest.mark.django_db
def test_a_word_is_suggested_once_a_published_case_has_it_and_no_longer_once_edited_out(
    client,
):
    draft = CaseFactory(title="Claim about vextrimould", status=Case.Status.DRAFT)
    assert approximate_query("vextrimoold") is None

    published = edit(draft, status=Case.Status.PUBLISHED)
    assert approximate_query("vextrimoold") == "vextrimould"
    response = client.get("/cases/?q=vextrimoold")
    assert response.context_data["approximate"]["corrected"] == "vextrimould"

    edit(published, title="Claim about the weather")
    assert approximate_query("vextrimoold") is None


@pytest.mark.django_db
def test_the_closest_public_word_is_suggested_past_a_closer_private_one():
    CaseFactory(title="Claim about vextrimould", status=Case.Status.DRAFT)
    CaseFactory(title="Claim about vextrimoulds", status=Case.Status.PUBLISHED)
    hidden = CaseFactory(title="Claim about vextrimoolder")
    edit(hidden, status=Case.Status.WITHDRAWN, withdrawal_reason="Duplicate.")

    assert approximate_query("vextrimoold") == "vextrimoulds"


def suggestion(client, typed):
    """The word the list page suggests for a search that matched nothing, or None."""
    body = client.get(f"/cases/?q={typed}").content.decode()
    shown = body.split("Showing approximate matches for", 1)
    return shown[1].split("”", 1)[0].rsplit("“", 1)[1] if len(shown) == 2 else None


def test_on_the_production_path_a_typo_is_corrected_only_while_its_word_is_published(
    committed, client, settings
):
    production(settings)
    assert suggestion(client, "narwhel") is None  # only a withdrawn case says "Narwhal"
    assert suggestion(client, "quokkas") is None  # only unpublished cases say "Quokka"
    assert suggestion(client, "windowz") == "windows"
    assert suggestion(client, "windowz") == "windows"  # kept by the page cache

    quoted = committed.quoted  # the one published case with "Windows"
    Case.objects.filter(pk=quoted.pk).update(status=Case.Status.WITHDRAWN)
    try:
        # The withdrawal moved the change log: the kept page is not served again.
        assert suggestion(client, "windowz") is None
    finally:
        Case.objects.filter(pk=quoted.pk).update(status=quoted.status)
    assert suggestion(client, "windowz") == "windows"


@pytest.mark.parametrize(
    ("model", "link_column"),
    [
        (Keyword, 'U0."keyword_id"'),
        (Country, 'U0."country_id"'),
        (Language, 'U0."language_id"'),
        (Outlet, 'U0."outlet_id"'),
        (Issue, 'U0."issue_id"'),
    ],
)
def test_a_value_s_public_check_stops_at_its_first_use_along_the_link_column(model, link_column):
    # At a million cases, EXISTS read every use of a popular value through a bitmap before
    # the first match, and "= pk LIMIT 1" scanned the whole link table for a value without
    # uses (docs/performance.md). Ordered by the link column, only its index gives the
    # first use without reading the others. (Tables this small hide the planner's choice.)
    sql = str(model.objects.public().query)
    assert "EXISTS" not in sql
    assert f"ORDER BY {link_column} ASC LIMIT 1) IS NOT NULL" in sql
