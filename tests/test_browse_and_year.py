import datetime

import pytest

from cases.models import Case
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    CountryFactory,
    IssueFactory,
    KeywordFactory,
    LanguageFactory,
    OutletFactory,
)

pytestmark = pytest.mark.django_db


class TestYearFilter:
    def test_on_the_page(self, client):
        CaseFactory(title="Match", date=datetime.date(2021, 12, 31))
        CaseFactory(title="Other", date=datetime.date(2022, 1, 1))
        CaseFactory(title="Undated", date=None)
        response = client.get("/cases/?year=2021")
        assert [case.title for case in response.context_data["cases"]] == ["Match"]
        assert [case.title for case in client.get("/cases/?year=2019").context_data["cases"]] == []

    def test_years_are_ored(self, client):
        CaseFactory(title="2020", date=datetime.date(2020, 5, 1))
        CaseFactory(title="2021", date=datetime.date(2021, 5, 1))
        CaseFactory(title="2022", date=datetime.date(2022, 5, 1))
        response = client.get("/cases/?year=2020&year=2022")
        assert [case.title for case in response.context_data["cases"]] == ["2022", "2020"]

    def test_in_the_api(self, api_client):
        CaseFactory(title="Match", date=datetime.date(2021, 6, 1))
        CaseFactory(title="Other", date=datetime.date(2022, 6, 1))
        body = api_client.get("/api/v1/cases/?year=2021").json()
        assert [case["title"] for case in body["results"]] == ["Match"]
        assert api_client.get("/api/v1/cases/?year=2019").json()["results"] == []

    @pytest.mark.parametrize("value", ["abc", "20222", "1492", "50%25", "%25s"])
    def test_a_bad_year_is_a_400_naming_the_parameter_in_the_api(self, api_client, value):
        response = api_client.get(f"/api/v1/cases/?year={value}")
        assert response.status_code == 400
        assert [error["field"] for error in response.json()["errors"]] == ["year"]


@pytest.fixture
def tagged_case():
    case = CaseFactory(
        issue=IssueFactory(number=270, date=datetime.date(2022, 1, 13)),
        keywords=[KeywordFactory(name="NATO")],
        countries=[CountryFactory(name="Kazakhstan")],
        languages=[LanguageFactory(code="ru", name="Russian")],
    )
    AppearanceFactory(case=case, outlet=OutletFactory(name="Sputnik"))
    AppearanceFactory(case=case, outlet=OutletFactory(name="Sputnik"))
    return case


@pytest.mark.parametrize(
    "url, label, link",
    [
        ("/keywords/", "NATO", "/cases/?keyword=nato"),
        ("/countries/", "Kazakhstan", "/cases/?country=kazakhstan"),
        ("/languages/", "Russian", "/cases/?language=ru"),
        ("/outlets/", "Sputnik", "/cases/?outlet=sputnik"),
        ("/issues/", "Issue 270, 13 January 2022", "/cases/?issue=270"),
    ],
)
def test_browse_pages_list_each_value_with_its_published_cases_and_link_to_them(
    client, tagged_case, url, label, link
):
    draft = CaseFactory(status=Case.Status.DRAFT, issue=tagged_case.issue)
    draft.keywords.set(tagged_case.keywords.all())
    draft.countries.set(tagged_case.countries.all())
    draft.languages.set(tagged_case.languages.all())
    AppearanceFactory(case=draft, outlet=tagged_case.appearances.first().outlet)
    KeywordFactory(name="Only in drafts")

    response = client.get(url)

    assert response.status_code == 200
    assert response.context_data["rows"] == [{"label": label, "count": 1, "url": link}]
    assert f'href="{link}"' in response.content.decode()


def test_browse_pages_sort_by_name_or_by_count(client):
    big, small = KeywordFactory(name="Zeta"), KeywordFactory(name="Alpha")
    CaseFactory(keywords=[big, small])
    CaseFactory(keywords=[big])
    by_name = client.get("/keywords/").context_data["rows"]
    by_count = client.get("/keywords/?sort=count").context_data["rows"]
    assert [row["label"] for row in by_name] == ["Alpha", "Zeta"]
    assert [row["label"] for row in by_count] == ["Zeta", "Alpha"]


def test_a_bad_sort_is_a_400_naming_the_parameter(client):
    response = client.get("/keywords/?sort=size")
    assert response.status_code == 400
    assert "sort: choose one of" in response.content.decode()


def test_an_empty_browse_page_says_so(client):
    KeywordFactory(name="Unused")
    html = client.get("/keywords/").content.decode()
    assert "no published case has one" in html
    assert "Unused" not in html


@pytest.fixture
def archive_of_outlets():
    """3,000 outlets, each on a published case, as an archive-sized /outlets/ has."""
    from cases.models import Appearance, Outlet

    outlets = Outlet.objects.bulk_create(
        Outlet(name=f"Outlet {n:04d} Česká", slug=f"outlet-{n:04d}", domain=f"o{n}.example")
        for n in range(3000)
    )
    case = CaseFactory()
    Appearance.objects.bulk_create(Appearance(case=case, outlet=outlet) for outlet in outlets)
    return outlets


def test_an_archive_sized_outlets_page_is_paginated_under_100_kb_in_a_pinned_query_count(
    client, archive_of_outlets, django_assert_num_queries
):
    client.get("/outlets/?page=2")  # once per process: whether the collation exists
    # 1. the data version, 2. the outlets with their published case counts
    with django_assert_num_queries(2):
        response = client.get("/outlets/")
    html = response.content.decode()
    assert response.status_code == 200
    assert len(response.content) < 100_000
    assert len(response.context_data["rows"]) == 200
    assert response.context_data["pages"] == 15
    assert "1–200 of 3,000 values" in html
    assert '<a rel="next" href="?page=2">' in html
    last = client.get("/outlets/?page=15")
    assert [row["label"] for row in last.context_data["rows"]][-1] == "Outlet 2999 Česká"
    assert len(last.content) < 100_000


def test_a_browse_page_filters_on_the_server_by_name_without_case_or_accents(
    client, archive_of_outlets
):
    response = client.get("/outlets/?q=0042 CESKÁ".replace(" ", "+"))
    assert [row["label"] for row in response.context_data["rows"]] == ["Outlet 0042 Česká"]
    assert "1–1 of 1 matching value (3,000 in all)" in response.content.decode()
    assert 'value="0042 CESKÁ"' in response.content.decode()


def test_browse_links_keep_the_filter_and_the_sort(client, archive_of_outlets):
    html = client.get("/outlets/?q=outlet&sort=count").content.decode()
    assert '<a rel="next" href="?sort=count&amp;q=outlet&amp;page=2">' in html
    assert '<input type="hidden" name="sort" value="count">' in html
    assert '<a href="?q=outlet">name</a>' in html


@pytest.mark.parametrize("page", ["0", "-1", "two", "1.5", "١", "99"])
def test_a_bad_browse_page_is_a_400_naming_the_parameter(client, archive_of_outlets, page):
    response = client.get(f"/outlets/?page={page}")
    assert response.status_code == 400
    assert "page: " in response.content.decode()


def test_a_filter_matching_nothing_says_so(client, tagged_case):
    response = client.get("/keywords/?q=nothing-like-this")
    assert response.status_code == 200
    assert "No value matches this filter." in response.content.decode()


def test_a_short_browse_list_filters_as_you_type_in_the_page_too(client, tagged_case):
    assert "data-filter-in-page" in client.get("/keywords/").content.decode()
