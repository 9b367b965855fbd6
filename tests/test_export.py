import csv
import datetime
import io
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory

from cases.api.serializers import (
    CaseSerializer,
    CountedKeywordSerializer,
    KeywordSerializer,
    prefetch_for_case_serializer,
)
from cases.models import Appearance, Case, Country, Issue, Keyword, Language, Outlet
from cases.readmodels.csv import CSV_COLUMNS
from cases.site.exports import csv_rows
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


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "https://disinfo.example"


@pytest.fixture
def sample():
    """Two published cases and a draft, with every kind of field filled somewhere."""
    first = CaseFactory(
        title='Kazakhstan\u2019s "colour revolution", again',
        summary="First paragraph, with a comma.\n\nSecond paragraph.",
        disproof="No evidence.\n\nSee [the statement](https://eeas.example/s).",
        date=datetime.date(2022, 1, 10),
        issue=IssueFactory(number=270),
        languages=[
            LanguageFactory(code="ru", name="Russian"),
            LanguageFactory(code="ro-MD", name="Moldovan"),
        ],
        countries=[
            CountryFactory(name="UK", iso_code="GB"),
            CountryFactory(name="Baltic states", kind=Country.Kind.REGION, iso_code=""),
        ],
        keywords=[KeywordFactory(name="Protest"), KeywordFactory(name="MI6")],
        source_id="4711",
        source_url="https://euvsdisinfo.eu/report/colour-revolution-again/",
    )
    sputnik = OutletFactory(name="Sputnik", domain="sputniknews.com")
    AppearanceFactory(
        case=first,
        outlet=sputnik,
        url="https://sputniknews.com/a",
        archive_url="https://archive.example/a",
    )
    AppearanceFactory(case=first, outlet=None, url="https://blog.example/b", archive_url="")
    AppearanceFactory(
        case=first, outlet=OutletFactory(name="RT", domain="rt.com"), url="", archive_url=""
    )
    second = CaseFactory(title="An undated claim", summary="Claim.", disproof="", date=None)
    draft = CaseFactory(title="A draft claim", status=Case.Status.DRAFT)
    first.related.add(second, draft)
    return {"first": first, "second": second, "draft": draft}


def export(*args):
    out = StringIO()
    call_command("export_cases", *args, stdout=out)
    return out.getvalue()


def export_to(tmp_path, name, *args):
    path = tmp_path / name
    call_command("export_cases", "--output", str(path), *args, stderr=StringIO())
    return path


def import_file(path, *args):
    call_command("import_cases", str(path), *args, stdout=StringIO())


def empty_the_database():
    Case.objects.all().delete()
    for model in (Issue, Keyword, Country, Language, Outlet):
        model.objects.all().delete()


def comparable(case, outlet_domains=True):
    """Everything an export must carry over, without ids and timestamps."""
    return {
        "title": case.title,
        "summary": case.summary,
        "disproof": case.disproof,
        "date": case.date,
        "issue": case.issue.number if case.issue else None,
        "languages": sorted(case.languages.values_list("code", "name")),
        "countries": sorted(case.countries.values_list("name", "iso_code", "kind")),
        "keywords": sorted(case.keywords.values_list("name", flat=True)),
        "appearances": [
            (
                appearance.outlet.name if appearance.outlet else None,
                appearance.outlet.domain if appearance.outlet and outlet_domains else None,
                appearance.url,
                appearance.archive_url,
            )
            for appearance in case.appearances.order_by("id")
        ],
        "related": sorted(case.related.values_list("title", flat=True)),
    }


def all_comparable(**options):
    return sorted(
        (comparable(case, **options) for case in Case.objects.all()), key=lambda c: c["title"]
    )


class TestJsonExport:
    def test_it_lists_published_cases_in_the_api_representation(self, sample):
        first, second = sample["first"], sample["second"]

        cases = json.loads(export())

        assert [case["title"] for case in cases] == [first.title, second.title]
        assert cases[0] == {
            "id": first.pk,
            "url": f"https://disinfo.example/cases/{first.pk}/kazakhstans-colour-revolution-again/",
            "source_id": "4711",
            "source_url": "https://euvsdisinfo.eu/report/colour-revolution-again/",
            "title": 'Kazakhstan\u2019s "colour revolution", again',
            "summary": "First paragraph, with a comma.\n\nSecond paragraph.",
            "disproof": "No evidence.\n\nSee [the statement](https://eeas.example/s).",
            "date": "2022-01-10",
            "issue": 270,
            "languages": [
                {"code": "ro-MD", "name": "Moldovan"},
                {"code": "ru", "name": "Russian"},
            ],
            "countries": [
                {
                    "slug": "baltic-states",
                    "name": "Baltic states",
                    "iso_code": "",
                    "kind": "region",
                },
                {"slug": "uk", "name": "UK", "iso_code": "GB", "kind": "country"},
            ],
            "keywords": [{"slug": "mi6", "name": "MI6"}, {"slug": "protest", "name": "Protest"}],
            "appearances": [
                {
                    "outlet": {"slug": "sputnik", "name": "Sputnik", "domain": "sputniknews.com"},
                    "url": "https://sputniknews.com/a",
                    "archive_url": "https://archive.example/a",
                },
                {"outlet": None, "url": "https://blog.example/b", "archive_url": ""},
                {
                    "outlet": {"slug": "rt", "name": "RT", "domain": "rt.com"},
                    "url": "",
                    "archive_url": "",
                },
            ],
            "related": [
                {
                    "id": second.pk,
                    "title": "An undated claim",
                    "url": f"https://disinfo.example/cases/{second.pk}/an-undated-claim/",
                }
            ],
            "created_at": cases[0]["created_at"],
            "updated_at": cases[0]["updated_at"],
            "published_at": cases[0]["published_at"],
        }
        assert (
            datetime.datetime.fromisoformat(cases[0]["updated_at"])
            == Case.objects.get(pk=first.pk).updated_at
        )
        assert (
            datetime.datetime.fromisoformat(cases[0]["published_at"])
            == Case.objects.get(pk=first.pk).published_at
        )
        assert cases[1]["date"] is None
        assert cases[1]["issue"] is None
        assert cases[1]["source_url"] == ""

    def test_status_all_includes_drafts_and_links_to_them(self, sample):
        cases = json.loads(export("--status", "all"))

        assert [case["title"] for case in cases] == [
            sample["first"].title,
            "An undated claim",
            "A draft claim",
        ]
        assert [r["title"] for r in cases[0]["related"]] == ["An undated claim", "A draft claim"]

    def test_an_empty_database_exports_an_empty_list(self):
        assert json.loads(export()) == []

    def test_export_then_import_into_an_empty_database_reproduces_the_cases(self, sample, tmp_path):
        sample["first"].languages.add(Language.objects.create(code="cnr", name="Montenegrin"))
        before = all_comparable()
        path = export_to(tmp_path, "cases.json", "--status", "all")
        empty_the_database()

        import_file(path)

        assert all_comparable() == before
        assert Case.objects.count() == 3

    def test_importing_its_own_export_again_changes_nothing(self, sample, tmp_path):
        path = export_to(tmp_path, "cases.json", "--status", "all")
        versions = dict(Case.objects.values_list("pk", "version"))
        appearance_ids = list(Appearance.objects.values_list("pk", flat=True))

        import_file(path)

        assert Case.objects.count() == 3
        assert list(Appearance.objects.values_list("pk", flat=True)) == appearance_ids
        assert dict(Case.objects.values_list("pk", "version")) == versions

    def test_an_api_page_with_results_can_be_imported(self, sample, tmp_path):
        page = {"count": 2, "next": None, "previous": None, "results": json.loads(export())}
        path = tmp_path / "page.json"
        path.write_text(json.dumps(page), encoding="utf-8")
        before = all_comparable()
        empty_the_database()

        import_file(path)

        after = all_comparable()
        assert [case["title"] for case in after] == [case["title"] for case in before[1:]]


class TestCsvExport:
    def test_the_columns_are_the_import_columns(self, sample):
        first = Case.objects.get(pk=sample["first"].pk)
        rows = list(csv.reader(io.StringIO(export("--format", "csv"), newline="")))

        assert rows[0] == CSV_COLUMNS
        stamp = "%Y-%m-%dT%H:%M:%S.%fZ"
        assert dict(zip(rows[0], rows[1], strict=True)) == {
            "id": str(first.pk),
            "url": f"https://disinfo.example/cases/{first.pk}/kazakhstans-colour-revolution-again/",
            "source_id": "4711",
            "source_url": "https://euvsdisinfo.eu/report/colour-revolution-again/",
            "status": "published",
            "title": 'Kazakhstan\u2019s "colour revolution", again',
            "date": "2022-01-10",
            "summary": "First paragraph, with a comma.\n\nSecond paragraph.",
            "disproof": "No evidence.\n\nSee [the statement](https://eeas.example/s).",
            "issue": "270",
            "languages": "Moldovan;Russian",
            "language_codes": "ro-MD;ru",
            "countries": "Baltic states;UK",
            "country_slugs": "baltic-states;uk",
            "keywords": "MI6;Protest",
            "keyword_slugs": "mi6;protest",
            "outlets": "Sputnik;;RT",
            "outlet_slugs": "sputnik;;rt",
            "urls": "https://sputniknews.com/a;https://blog.example/b;",
            "archive_urls": "https://archive.example/a;;",
            "related": "An undated claim",
            "created_at": first.created_at.astimezone(datetime.UTC).strftime(stamp),
            "updated_at": first.updated_at.astimezone(datetime.UTC).strftime(stamp),
            "published_at": first.published_at.astimezone(datetime.UTC).strftime(stamp),
        }
        assert rows[2][5:7] == ["An undated claim", ""]
        assert len(rows) == 3

    def test_export_then_import_into_an_empty_database_reproduces_the_cases(self, sample, tmp_path):
        before = all_comparable(outlet_domains=False)
        path = export_to(tmp_path, "cases.csv", "--format", "csv", "--status", "all")
        empty_the_database()

        import_file(path)

        assert all_comparable(outlet_domains=False) == before

    def test_a_different_separator_round_trips_too(self, sample, tmp_path):
        before = all_comparable(outlet_domains=False)
        path = export_to(tmp_path, "cases.csv", "--format", "csv", "--sep", "|")
        assert "Moldovan|Russian" in path.read_text(encoding="utf-8")
        empty_the_database()

        import_file(path, "--sep", "|")

        published_before = [case for case in before if case["title"] != "A draft claim"]
        for case in published_before:
            case["related"] = [title for title in case["related"] if title != "A draft claim"]
        assert all_comparable(outlet_domains=False) == published_before

    def test_rows_come_from_a_constant_number_of_queries(self):
        def queries_for_export():
            with CaptureQueriesContext(connection) as context:
                rows = list(csv_rows(Case.objects.order_by("id")))
            return len(rows) - 1, len(context.captured_queries)

        CaseFactory(keywords=[KeywordFactory()], countries=[CountryFactory()])
        cases_few, queries_few = queries_for_export()
        for _ in range(6):
            case = CaseFactory(keywords=[KeywordFactory()], languages=[LanguageFactory()])
            case.related.add(CaseFactory())
            AppearanceFactory(case=case)
        cases_many, queries_many = queries_for_export()

        assert (cases_few, cases_many) == (1, 13)
        assert queries_many == queries_few


class TestSerializers:
    def test_case_urls_use_the_request_when_there_is_one(self, sample):
        request = APIRequestFactory().get("/api/v1/cases/")
        case = prefetch_for_case_serializer(Case.objects.filter(pk=sample["second"].pk)).get()

        data = CaseSerializer(case, context={"request": request}).data

        first = sample["first"]
        assert data["url"] == f"http://testserver/cases/{case.pk}/an-undated-claim/"
        assert data["related"] == [
            {
                "id": first.pk,
                "title": first.title,
                "url": f"http://testserver/cases/{first.pk}/kazakhstans-colour-revolution-again/",
            }
        ]

    def test_taxonomy_values_carry_a_case_count_only_in_the_taxonomy_lists(self, sample):
        keyword = Keyword.objects.annotate(case_count=Count("cases")).get(name="MI6")

        assert CountedKeywordSerializer(keyword).data == {
            "slug": "mi6",
            "name": "MI6",
            "case_count": 1,
        }
        assert KeywordSerializer(keyword).data == {
            "slug": "mi6",
            "name": "MI6",
        }


def test_a_chunk_keeps_its_order_and_leaves_out_a_case_deleted_since_its_id_was_read():
    # The chunk statement reads its cases in id order; the chunk's order is the export's.
    from cases.readmodels.chunked import _chunk_texts
    from cases.readmodels.json_export import CHUNK_SQL

    older, newer = CaseFactory(), CaseFactory()
    deleted = older.pk + newer.pk  # no such case
    params = {"url_prefix": "https://disinfo.example/cases/", "ids": [newer.pk, deleted, older.pk]}

    texts = _chunk_texts(CHUNK_SQL[False, True], params, "default")

    assert [json.loads(text)["id"] for text in texts] == [newer.pk, older.pk]
