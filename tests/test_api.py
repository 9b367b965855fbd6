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
    edit,
)

pytestmark = pytest.mark.django_db


def assert_bad_parameter(response, parameter):
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [parameter]


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
        "source_id": "",
        "source_url": "",
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
        "published_at": body["published_at"],
    }
    assert datetime.datetime.fromisoformat(body["updated_at"]) == case.updated_at
    assert datetime.datetime.fromisoformat(body["published_at"]) == case.published_at


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
        # A value no published case carries is unknown, as one that never existed.
        assert_bad_parameter(api_client.get("/api/v1/cases/?keyword=unused"), "keyword")

    def test_country(self, api_client):
        kz = CountryFactory(name="Kazakhstan")
        CountryFactory(name="Lithuania")
        CaseFactory(title="Match", countries=[kz])
        CaseFactory(title="Other")
        assert result_titles(api_client.get("/api/v1/cases/?country=kazakhstan")) == ["Match"]
        assert_bad_parameter(api_client.get("/api/v1/cases/?country=lithuania"), "country")

    def test_language(self, api_client):
        ru = LanguageFactory(code="ru", name="Russian")
        LanguageFactory(code="de", name="German")
        CaseFactory(title="Match", languages=[ru])
        CaseFactory(title="Other")
        assert result_titles(api_client.get("/api/v1/cases/?language=ru")) == ["Match"]
        assert_bad_parameter(api_client.get("/api/v1/cases/?language=de"), "language")

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
    # last change (Last-Modified), data version, count (exact SQL: the test's writes are
    # uncommitted), and the page with its cases as JSON, relations and all
    assert queries_for_list() == few == 4


@pytest.mark.parametrize(
    "query",
    ["keyword=nato", "ordering=date", "q=troops", "format=api", "cursor=bad", "updated_since=2020"],
)
def test_other_lists_take_the_general_path(api_client, query):
    CaseFactory(keywords=[KeywordFactory(name="NATO")], title="Troops")
    with CaptureQueriesContext(connection) as queries:
        api_client.get(f"/api/v1/cases/?{query}")
    assert not any("newest_page" in q["sql"] for q in queries.captured_queries)


def test_editors_lists_take_the_general_path(editor_client):
    CaseFactory(status=Case.Status.DRAFT)
    with CaptureQueriesContext(connection) as queries:
        body = editor_client.get("/api/v1/cases/").json()
    assert body["results"][0]["status"] == "draft"
    assert not any("newest_page" in q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize("cursor", ["bad", "t.", "t.bad"])
def test_a_bad_cursor_is_a_400_pointing_to_the_envelopes_links(api_client, cursor):
    response = api_client.get(f"/api/v1/cases/?cursor={cursor}")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "cursor",
            "message": "not a cursor of this list; follow the next and previous links.",
        }
    ]


def test_a_bad_page_size_on_the_unfiltered_list_is_a_400(api_client):
    response = api_client.get("/api/v1/cases/?page_size=0")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["page_size"]


def test_case_list_payload_with_its_envelope(api_client):
    case = CaseFactory(
        title="Only one",
        summary="S.",
        disproof="D.",
        date=datetime.date(2022, 2, 2),
        keywords=[KeywordFactory(name="NATO")],
    )
    case.refresh_from_db()

    body = api_client.get("/api/v1/cases/").json()

    assert body == {
        "count": 1,
        "approximate": False,
        "corrected_query": None,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": case.pk,
                "url": f"http://testserver/cases/{case.pk}/only-one/",
                "source_id": "",
                "source_url": "",
                "title": "Only one",
                "summary": "S.",
                "disproof": "D.",
                "date": "2022-02-02",
                "issue": None,
                "languages": [],
                "countries": [],
                "keywords": [{"slug": "nato", "name": "NATO"}],
                "appearances": [],
                "related": [],
                "created_at": case.created_at.isoformat().replace("+00:00", "Z"),
                "updated_at": case.updated_at.isoformat().replace("+00:00", "Z"),
                "published_at": case.published_at.isoformat().replace("+00:00", "Z"),
            }
        ],
    }


def test_the_facets_endpoint_returns_the_site_facet_counts(api_client):
    from cases.facets import facet_counts
    from cases.filters import CaseFilter

    nato, eu = KeywordFactory(name="NATO"), KeywordFactory(name="EU")
    CaseFactory(date=datetime.date(2022, 1, 1), keywords=[nato, eu])
    CaseFactory(date=datetime.date(2023, 1, 1), keywords=[nato])
    CaseFactory(date=datetime.date(2023, 1, 1), keywords=[eu])
    CaseFactory(status=Case.Status.DRAFT, keywords=[nato])

    body = api_client.get("/api/v1/cases/facets/?keyword=nato").json()

    assert body == {
        "count": 2,
        "approximate": False,
        "corrected_query": None,
        "facets": {
            # Disjunctive, as on the site: a facet's own selection does not narrow it, and
            # a value not selected adds its cases not already in the result (OR).
            "keyword": [
                {"value": "eu", "label": "EU", "count": 2, "selected": False, "adds": 1},
                {"value": "nato", "label": "NATO", "count": 2, "selected": True, "adds": None},
            ],
            "country": [],
            "language": [],
            "outlet": [],
            "year": [
                {"value": "2022", "label": "2022", "count": 1, "selected": False, "adds": None},
                {"value": "2023", "label": "2023", "count": 1, "selected": False, "adds": None},
            ],
        },
    }
    site = CaseFilter({"keyword": ["nato"]}, queryset=Case.objects.published())
    assert site.is_valid()
    result = facet_counts(site)
    assert body["count"] == result.total
    assert body["facets"]["keyword"] == [
        {
            "value": v.value,
            "label": v.label,
            "count": v.count,
            "selected": v.selected,
            "adds": v.adds,
        }
        for v in result.facets["keyword"]
    ]


def test_the_facets_endpoint_rejects_bad_filters_and_limits(api_client):
    response = api_client.get("/api/v1/cases/facets/?keyword=nope")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "keyword"
    response = api_client.get("/api/v1/cases/facets/?limit=0")
    assert response.json()["errors"][0]["field"] == "limit"


class TestFormats:
    def test_csv_list_has_the_site_export_columns_and_streams_every_match(self, api_client):
        import csv
        import io

        from cases.readmodels.csv import CSV_COLUMNS

        for n in range(3):
            CaseFactory(title=f"Claim {n}", date=datetime.date(2022, 1, 1 + n))
        CaseFactory(title="Draft", status=Case.Status.DRAFT)

        response = api_client.get("/api/v1/cases/?format=csv&page_size=1&ordering=date")

        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["ETag"] and response["Last-Modified"]
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0] == CSV_COLUMNS
        title = CSV_COLUMNS.index("title")
        assert [row[title] for row in rows[1:]] == ["Claim 0", "Claim 1", "Claim 2"]

    def test_csv_detail_is_one_row(self, api_client):
        from cases.readmodels.csv import CSV_COLUMNS

        case = CaseFactory(title="One", date=datetime.date(2022, 1, 1))
        response = api_client.get(f"/api/v1/cases/{case.pk}/?format=csv")
        lines = response.content.decode().splitlines()
        assert lines[0] == ",".join(CSV_COLUMNS)
        url = f"http://testserver/cases/{case.pk}/one/"
        assert lines[1].startswith(f"{case.pk},{url},,,published,One,2022-01-01,")

    @pytest.mark.parametrize(
        "url, headers",
        [
            ("/api/v1/cases/{pk}/?format=jsonld", {}),
            ("/api/v1/cases/{pk}/", {"HTTP_ACCEPT": "application/ld+json"}),
        ],
    )
    def test_claimreview_json_ld(self, api_client, settings, url, headers):
        settings.SITE_ORGANISATION = "EUvsDisinfo"
        case = CaseFactory(title="The claim", date=datetime.date(2022, 1, 10))
        AppearanceFactory(case=case, url="https://outlet.example/a")

        response = api_client.get(url.format(pk=case.pk), **headers)

        assert response["Content-Type"] == "application/ld+json"
        data = response.json()
        assert data["@context"] == "https://schema.org"
        assert data["@type"] == "ClaimReview"
        assert data["claimReviewed"] == "The claim"
        assert data["url"] == f"http://testserver/cases/{case.pk}/the-claim/"
        assert data["author"]["name"] == "EUvsDisinfo"
        assert data["reviewRating"]["alternateName"] == "Disinformation"
        assert data["itemReviewed"]["@type"] == "Claim"
        assert data["itemReviewed"]["appearance"][0]["url"] == "https://outlet.example/a"

    def test_json_ld_list_is_a_graph_of_claimreviews_with_the_page_beside_it(self, api_client):
        CaseFactory(title="The claim")
        body = api_client.get("/api/v1/cases/?format=jsonld").json()
        assert body["@context"]["@vocab"] == "http://schema.org/"
        assert [item["claimReviewed"] for item in body["@graph"]] == ["The claim"]
        assert "@context" not in body["@graph"][0]
        assert body["count"] == 1

    def test_an_unknown_format_gets_a_400_naming_it(self, api_client):
        response = api_client.get("/api/v1/cases/?format=xml")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "format"

    def test_errors_are_json_whatever_the_format(self, api_client):
        response = api_client.get("/api/v1/cases/?format=csv&keyword=nope")
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert response.json()["errors"][0]["field"] == "keyword"


class TestCaching:
    def test_a_detail_answers_304_to_its_etag(self, api_client):
        case = CaseFactory()
        first = api_client.get(f"/api/v1/cases/{case.pk}/")
        assert first["ETag"].startswith(f'"v{case.version}-')
        assert first["Last-Modified"]

        again = api_client.get(f"/api/v1/cases/{case.pk}/", HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304
        assert again.content == b""
        assert again["ETag"] == first["ETag"]

        edit(case, title="Changed")
        changed = api_client.get(f"/api/v1/cases/{case.pk}/", HTTP_IF_NONE_MATCH=first["ETag"])
        assert changed.status_code == 200
        assert changed["ETag"] != first["ETag"]

    def test_a_list_answers_304_to_its_etag_until_a_case_changes(self, api_client):
        case = CaseFactory()
        first = api_client.get("/api/v1/cases/")
        assert first["Last-Modified"]
        assert api_client.get("/api/v1/cases/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

        case.delete()
        assert api_client.get("/api/v1/cases/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200

    def test_a_list_answers_304_to_if_modified_since(self, api_client):
        CaseFactory()
        first = api_client.get("/api/v1/cases/")
        since = first["Last-Modified"]
        assert api_client.get("/api/v1/cases/", HTTP_IF_MODIFIED_SINCE=since).status_code == 304
        Case.objects.update(updated_at=datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC))
        assert api_client.get("/api/v1/cases/", HTTP_IF_MODIFIED_SINCE=since).status_code == 200

    def test_editors_and_the_public_get_different_etags(self, api_client, editor_client):
        case = CaseFactory()
        public = api_client.get(f"/api/v1/cases/{case.pk}/")
        editor = editor_client.get(f"/api/v1/cases/{case.pk}/")
        assert public["ETag"] != editor["ETag"]
        assert "Authorization" in public["Vary"]

    def test_taxonomy_lists_have_etags_too(self, api_client):
        KeywordFactory()
        first = api_client.get("/api/v1/keywords/")
        again = api_client.get("/api/v1/keywords/", HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304


def test_anonymous_clients_are_throttled_with_retry_after(api_client, editor_client, settings):
    settings.DISINFO_API_ANON_RATE = "3/minute"
    for _ in range(3):
        assert api_client.get("/api/v1/keywords/").status_code == 200

    response = api_client.get("/api/v1/keywords/")

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["status"] == 429
    # Editors with a token are not limited.
    assert editor_client.get("/api/v1/keywords/").status_code == 200


def test_get_requests_are_allowed_from_any_origin(client):
    response = client.get("/api/v1/cases/", HTTP_ORIGIN="https://partner.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response["Access-Control-Expose-Headers"]

    preflight = client.options(
        "/api/v1/cases/",
        HTTP_ORIGIN="https://partner.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert set(preflight["Access-Control-Allow-Methods"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_the_site_pages_get_no_cors_headers(client):
    response = client.get("/cases/", HTTP_ORIGIN="https://partner.example")
    assert "Access-Control-Allow-Origin" not in response


def test_unknown_api_urls_answer_in_the_error_shape(api_client):
    response = api_client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"status": 404, "errors": [{"field": None, "message": "Not found."}]}
    assert api_client.get("/api/v1/cases/not-a-number/").status_code == 404
    # A line break in the path too (%0A): it must not fall through to the site's HTML page.
    response = api_client.put("/api/v1/cases/a%0Ab/", {}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_taxonomy_lists_are_in_name_order(api_client):
    for name in ["Zeta", "Alpha", "Mu"]:
        CaseFactory(keywords=[KeywordFactory(name=name)])
    names = [keyword["name"] for keyword in api_client.get("/api/v1/keywords/").json()]
    assert names == ["Alpha", "Mu", "Zeta"]


@pytest.mark.parametrize("as_editor", [False, True])
def test_each_listed_case_is_shown_as_its_own_page_shows_it(api_client, editor_client, as_editor):
    client = editor_client if as_editor else api_client
    odd = 'with "quotes", a \\ backslash,\na line break, Россия and 😀'
    for n in range(4):
        case = CaseFactory(
            title=f"Claim {n} {odd}",
            date=datetime.date(2022, 1, 1 + n) if n else None,
            issue=IssueFactory(number=200 + n) if n % 2 else None,
            status=Case.Status.DRAFT if n == 3 else Case.Status.PUBLISHED,
            keywords=[KeywordFactory(name=f"Keyword {k} {odd}") for k in range(n)],
            countries=[CountryFactory(name=f"Country {k}") for k in range(n % 3)],
            languages=[LanguageFactory(code=f"l{k}", name=f"Language {k}") for k in range(n % 2)],
        )
        for k in range(n):
            AppearanceFactory(
                case=case, outlet=OutletFactory(name=f"Outlet {k} {odd}") if k else None
            )
        if n:
            case.related.add(Case.objects.get(title__startswith=f"Claim {n - 1} "))

    listed = client.get("/api/v1/cases/?page_size=10").json()["results"]

    assert len(listed) == (4 if as_editor else 3)
    for item in listed:
        assert item == client.get(f"/api/v1/cases/{item['id']}/").json()


@pytest.mark.parametrize("path", ["/api/v1/cases/{n}/", "/api/v1/cases/{n}/?format=jsonld"])
def test_an_id_too_long_for_a_case_is_a_404(api_client, path):
    response = api_client.get(path.format(n="9" * 25))
    assert response.status_code == 404


def test_a_case_withdrawn_between_the_page_and_its_json_is_left_out(api_client, monkeypatch):
    from cases.api import views

    kept, gone = CaseFactory(title="Kept"), CaseFactory(title="Gone")
    case_representations = views.case_representations

    def withdrawn_meanwhile(cases, context):
        Case.objects.filter(pk=gone.pk).update(status=Case.Status.WITHDRAWN)
        return case_representations(cases, context)

    monkeypatch.setattr(views, "case_representations", withdrawn_meanwhile)
    # The general path reads the page, then its cases (the unfiltered list in its default
    # order reads both in one statement).
    response = api_client.get("/api/v1/cases/?ordering=-date")

    assert response.status_code == 200
    assert [case["id"] for case in response.json()["results"]] == [kept.pk]
