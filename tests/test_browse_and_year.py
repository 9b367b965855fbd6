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
