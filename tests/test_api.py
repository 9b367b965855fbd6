import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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


def result_titles(response):
    return [case["title"] for case in response.json()["results"]]


def test_case_detail_has_every_field(api_client):
    case = CaseFactory(
        title="The ears of MI6",
        summary="Summary.",
        disproof="Disproof.",
        date=datetime.date(2022, 1, 10),
        issue=IssueFactory(number=270),
        keywords=[KeywordFactory(name="MI6")],
        countries=[CountryFactory(name="UK", iso_code="GB")],
        languages=[LanguageFactory(code="ru", name="Russian")],
    )
    related = CaseFactory(title="Related claim")
    case.related.add(related)
    AppearanceFactory(
        case=case,
        outlet=OutletFactory(name="Sputnik", domain="sputniknews.com"),
        url="https://sputniknews.com/a",
        archive_url="https://archive.example/a",
    )
    case.refresh_from_db()

    response = api_client.get(f"/api/v1/cases/{case.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": case.pk,
        "url": f"http://testserver/cases/{case.pk}/the-ears-of-mi6/",
        "title": "The ears of MI6",
        "summary": "Summary.",
        "disproof": "Disproof.",
        "date": "2022-01-10",
        "issue": 270,
        "languages": [{"code": "ru", "name": "Russian"}],
        "countries": [{"slug": "uk", "name": "UK", "iso_code": "GB", "kind": "country"}],
        "keywords": [{"slug": "mi6", "name": "MI6"}],
        "appearances": [
            {
                "outlet": {"slug": "sputnik", "name": "Sputnik", "domain": "sputniknews.com"},
                "url": "https://sputniknews.com/a",
                "archive_url": "https://archive.example/a",
            }
        ],
        "related": [
            {
                "id": related.pk,
                "title": "Related claim",
                "url": f"http://testserver/cases/{related.pk}/related-claim/",
            }
        ],
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert datetime.datetime.fromisoformat(body["updated_at"]) == case.updated_at


def test_case_list_is_paginated_by_cursor_with_a_count(api_client):
    for n in range(3):
        CaseFactory(title=f"Claim {n}", date=datetime.date(2022, 1, 1 + n))

    first = api_client.get("/api/v1/cases/?page_size=2")
    assert first.status_code == 200
    body = first.json()
    assert body["count"] == 3
    assert [c["title"] for c in body["results"]] == ["Claim 2", "Claim 1"]
    assert body["previous"] is None
    assert body["next"].startswith("http://testserver/api/v1/cases/?cursor=")
    assert "page_size=2" in body["next"]

    second = api_client.get(body["next"]).json()
    assert [c["title"] for c in second["results"]] == ["Claim 0"]
    assert second["count"] == 3
    assert second["next"] is None

    back = api_client.get(second["previous"]).json()
    assert [c["title"] for c in back["results"]] == ["Claim 2", "Claim 1"]
    assert back["previous"] is None


@pytest.mark.parametrize("status", [Case.Status.DRAFT, Case.Status.IN_REVIEW])
def test_unpublished_cases_never_appear_in_the_api(api_client, status):
    kw = KeywordFactory(name="Shared")
    CaseFactory(title="Public", keywords=[kw])
    hidden = CaseFactory(title="Hidden", status=status, keywords=[kw])
    public = CaseFactory(title="Links to hidden")
    public.related.add(hidden)

    assert "Hidden" not in result_titles(api_client.get("/api/v1/cases/"))
    assert api_client.get(f"/api/v1/cases/{hidden.pk}/").status_code == 404
    detail = api_client.get(f"/api/v1/cases/{public.pk}/").json()
    assert detail["related"] == []
    keywords = api_client.get("/api/v1/keywords/").json()
    assert keywords == [{"slug": "shared", "name": "Shared", "case_count": 1}]


class TestFiltersInTheApi:
    def test_keyword(self, api_client):
        nato = KeywordFactory(name="NATO")
        KeywordFactory(name="Unused")
        CaseFactory(title="Match", keywords=[nato])
        CaseFactory(title="Other")
        assert result_titles(api_client.get("/api/v1/cases/?keyword=nato")) == ["Match"]
        assert result_titles(api_client.get("/api/v1/cases/?keyword=unused")) == []

    def test_country(self, api_client):
        kz = CountryFactory(name="Kazakhstan")
        CountryFactory(name="Lithuania")
        CaseFactory(title="Match", countries=[kz])
        CaseFactory(title="Other")
        assert result_titles(api_client.get("/api/v1/cases/?country=kazakhstan")) == ["Match"]
        assert result_titles(api_client.get("/api/v1/cases/?country=lithuania")) == []

    def test_language(self, api_client):
        ru = LanguageFactory(code="ru", name="Russian")
        LanguageFactory(code="de", name="German")
        CaseFactory(title="Match", languages=[ru])
        CaseFactory(title="Other")
        assert result_titles(api_client.get("/api/v1/cases/?language=ru")) == ["Match"]
        assert result_titles(api_client.get("/api/v1/cases/?language=de")) == []

    def test_outlet(self, api_client):
        sputnik, rt = OutletFactory(name="Sputnik"), OutletFactory(name="RT")
        AppearanceFactory(case=CaseFactory(title="Match"), outlet=sputnik)
        AppearanceFactory(case=CaseFactory(title="Other"), outlet=rt)
        assert result_titles(api_client.get("/api/v1/cases/?outlet=sputnik")) == ["Match"]
        assert result_titles(api_client.get("/api/v1/cases/?outlet=rt")) == ["Other"]

    def test_issue(self, api_client):
        CaseFactory(title="Match", issue=IssueFactory(number=270))
        CaseFactory(title="Other", issue=IssueFactory(number=271))
        assert result_titles(api_client.get("/api/v1/cases/?issue=270")) == ["Match"]
        assert result_titles(api_client.get("/api/v1/cases/?issue=999")) == []

    def test_dates(self, api_client):
        CaseFactory(title="January", date=datetime.date(2022, 1, 10))
        CaseFactory(title="March", date=datetime.date(2022, 3, 1))
        assert result_titles(api_client.get("/api/v1/cases/?date_after=2022-03-01")) == ["March"]
        assert result_titles(api_client.get("/api/v1/cases/?date_before=2022-01-10")) == ["January"]

    def test_updated_since(self, api_client):
        old = CaseFactory(title="Old")
        Case.objects.filter(pk=old.pk).update(
            updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
        )
        CaseFactory(title="Fresh")
        response = api_client.get("/api/v1/cases/?updated_since=2021-01-01T00:00:00Z")
        assert result_titles(response) == ["Fresh"]
        response = api_client.get("/api/v1/cases/?updated_since=2019-01-01T00:00:00Z")
        assert sorted(result_titles(response)) == ["Fresh", "Old"]

    def test_search(self, api_client):
        CaseFactory(title="MI6 behind the protests in Kazakhstan")
        CaseFactory(title="Lithuania under Soviet rule")
        assert result_titles(api_client.get("/api/v1/cases/?q=kazakhstan")) == [
            "MI6 behind the protests in Kazakhstan"
        ]
        assert result_titles(api_client.get("/api/v1/cases/?q=venezuela")) == []

    def test_ordering(self, api_client):
        CaseFactory(title="Older", date=datetime.date(2020, 1, 1))
        CaseFactory(title="Newer", date=datetime.date(2023, 1, 1))
        assert result_titles(api_client.get("/api/v1/cases/?ordering=date")) == [
            "Older",
            "Newer",
        ]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("date_after=notadate", "date_after"),
        ("keyword=no-such-keyword", "keyword"),
        ("country=atlantis", "country"),
        ("language=xx", "language"),
        ("outlet=nowhere", "outlet"),
        ("issue=abc", "issue"),
        ("updated_since=yesterday", "updated_since"),
        ("ordering=title", "ordering"),
    ],
)
def test_bad_query_parameters_get_a_400_naming_the_parameter(api_client, query, parameter):
    response = api_client.get(f"/api/v1/cases/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert [error["field"] for error in body["errors"]] == [parameter]
    assert body["errors"][0]["message"]


def test_anonymous_clients_cannot_write(api_client):
    case = CaseFactory()
    assert api_client.post("/api/v1/cases/", {"title": "x"}).status_code in (401, 403, 405)
    assert api_client.delete(f"/api/v1/cases/{case.pk}/").status_code in (401, 403, 405)
    assert Case.objects.filter(pk=case.pk).exists()


@pytest.mark.parametrize(
    "url, expected",
    [
        ("/api/v1/keywords/", [{"slug": "nato", "name": "NATO", "case_count": 1}]),
        (
            "/api/v1/countries/",
            [{"slug": "uk", "name": "UK", "iso_code": "GB", "kind": "country", "case_count": 1}],
        ),
        ("/api/v1/languages/", [{"code": "ru", "name": "Russian", "case_count": 1}]),
        (
            "/api/v1/outlets/",
            [{"slug": "rt", "name": "RT", "domain": "rt.com", "case_count": 1}],
        ),
        ("/api/v1/issues/", [{"number": 270, "date": "2022-01-13", "case_count": 1}]),
    ],
)
def test_taxonomy_lists_count_published_cases(api_client, url, expected):
    case = CaseFactory(
        issue=IssueFactory(number=270),
        keywords=[KeywordFactory(name="NATO")],
        countries=[CountryFactory(name="UK", iso_code="GB")],
        languages=[LanguageFactory(code="ru", name="Russian")],
    )
    AppearanceFactory(case=case, outlet=OutletFactory(name="RT", domain="rt.com"))
    draft = CaseFactory(status=Case.Status.DRAFT, issue=case.issue)
    draft.keywords.set(case.keywords.all())
    assert api_client.get(url).json() == expected


def test_the_case_list_runs_a_constant_number_of_queries(api_client):
    def queries_for_list():
        with CaptureQueriesContext(connection) as context:
            assert api_client.get("/api/v1/cases/").status_code == 200
        return len(context.captured_queries)

    CaseFactory(keywords=[KeywordFactory()], countries=[CountryFactory()])
    few = queries_for_list()
    for _ in range(10):
        case = CaseFactory(keywords=[KeywordFactory()], countries=[CountryFactory()])
        case.related.add(CaseFactory())
        AppearanceFactory(case=case)
    # last change (Last-Modified), page, languages, countries, keywords, appearances,
    # related, count
    assert queries_for_list() == few == 8
