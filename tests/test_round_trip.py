"""An export imported into an empty database gives back the same cases: CSV and NDJSON.

Titles, texts, dates, issues, statuses, source keys, taxonomy values with their slugs
(language codes), appearances and related links survive, including values holding the
separator, a backslash, quotes, new lines, a leading `=`, emoji, right-to-left and CJK text.
With keep_ids the cases keep their ids too.
"""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from cases.importers import parse_file
from cases.models import Appearance, Case, Country, ImportBatch, Issue, Keyword, Language, Outlet
from cases.readmodels.csv import joined, split_escaped
from cases.services.imports import STATUS_FROM_FILE, save_cases
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

FORMATS = [("csv", "cases.csv"), ("ndjson", "cases.ndjson")]


@pytest.fixture
def archive():
    """Cases in every status an export carries, with awkward values everywhere."""
    semicolon = KeywordFactory(name="Semicolon; inside")
    backslash = KeywordFactory(name="Back\\slash\\; and more")
    formula = KeywordFactory(name="=SUM(A1)")
    cjk = KeywordFactory(name="\u4e4c\u514b\u5170")
    arabic = LanguageFactory(code="ar", name="Arabic")
    montenegrin = LanguageFactory(code="cnr", name="Montenegrin")
    russian = LanguageFactory(code="ru", name="Russian")
    uk = CountryFactory(name="UK", iso_code="GB")
    baltics = CountryFactory(name="Baltic states", kind=Country.Kind.REGION, iso_code="")
    channel = OutletFactory(name="02:47 - 03:06; Channel One", domain="1tv.ru")
    rtl = OutletFactory(name="\u0642\u0646\u0627\u0629 RT", domain="arabic.rt.com")

    first = CaseFactory(
        title='=1+1: "NATO", the West; and \u0627\u0644\u063a\u0631\u0628 \U0001f525',
        summary="First line, with a comma;\nsecond line \\ with a backslash.\n\n=Third.",
        disproof="\u4e4c\u514b\u5170 \u5c40\u52bf \u2014 see [the debunk](https://eeas.example/s).",
        date=datetime.date(2022, 1, 10),
        issue=IssueFactory(number=270),
        languages=[russian, arabic],
        countries=[uk, baltics],
        keywords=[semicolon, backslash, formula, cjk],
        source_id="EUvsD;0001",
        source_url="https://euvsdisinfo.eu/report/nato-the-west/",
    )
    AppearanceFactory(case=first, outlet=channel, url="https://1tv.ru/a?b=c;d", archive_url="")
    AppearanceFactory(case=first, outlet=None, url="https://blog.example/x", archive_url="")
    AppearanceFactory(case=first, outlet=rtl, url="", archive_url="https://archive.example/\u0642")
    second = CaseFactory(
        title="A second claim, same day",
        date=datetime.date(2022, 1, 10),
        languages=[montenegrin],
        source_url="https://euvsdisinfo.eu/report/a-second-claim/",
    )
    draft = CaseFactory(
        title="A draft -with a minus",
        summary="-Starts with a minus,\tholds a tab",
        status=Case.Status.DRAFT,
        date=None,
    )
    in_review = CaseFactory(title="In review \U0001f914", status=Case.Status.IN_REVIEW)
    first.related.add(second, draft)
    in_review.related.add(second)
    return [first, second, draft, in_review]


def snapshot(with_ids=False, outlet_domains=True):
    """Every case as the export should carry it over, in title order."""
    cases = []
    for case in Case.objects.order_by("title"):
        item = {
            "title": case.title,
            "summary": case.summary,
            "disproof": case.disproof,
            "date": case.date,
            "issue": case.issue.number if case.issue else None,
            "status": case.status,
            "published": case.published_at is not None,
            "published_at": case.published_at,
            "created_at": case.created_at,
            "source_id": case.source_id,
            "source_url": case.source_url,
            "languages": sorted(case.languages.values_list("code", "name")),
            "countries": sorted(case.countries.values_list("slug", "name", "iso_code", "kind")),
            "keywords": sorted(case.keywords.values_list("slug", "name")),
            "appearances": [
                (
                    a.outlet.slug if a.outlet else None,
                    a.outlet.name if a.outlet else None,
                    a.outlet.domain if a.outlet and outlet_domains else None,
                    a.url,
                    a.archive_url,
                )
                for a in case.appearances.select_related("outlet").order_by("id")
            ],
            "related": sorted(case.related.values_list("title", flat=True)),
        }
        if with_ids:
            item["id"] = case.pk
            item["related_ids"] = sorted(case.related.values_list("id", flat=True))
        cases.append(item)
    return cases


def export_to(tmp_path, file_format, name):
    path = tmp_path / name
    call_command(
        "export_cases",
        "--format",
        file_format,
        "--status",
        "all",
        "--output",
        str(path),
        stderr=StringIO(),
    )
    return path


def empty_the_database():
    Case.objects.all().delete()
    for model in (Issue, Keyword, Country, Language, Outlet):
        model.objects.all().delete()
    assert not Appearance.objects.exists()


@pytest.mark.parametrize("file_format,name", FORMATS)
def test_export_then_import_with_keep_ids_gives_the_same_cases_and_ids(
    archive, tmp_path, file_format, name
):
    before = snapshot(with_ids=True, outlet_domains=file_format != "csv")
    path = export_to(tmp_path, file_format, name)
    empty_the_database()

    summary = save_cases(parse_file(path), STATUS_FROM_FILE, keep_ids=True)

    assert summary.created == len(archive)
    assert snapshot(with_ids=True, outlet_domains=file_format != "csv") == before
    # New cases get ids after the kept ones.
    assert CaseFactory(title="Entered afterwards").pk > max(case.pk for case in archive)


@pytest.mark.parametrize("file_format,name", FORMATS)
def test_the_command_imports_an_export_into_an_empty_database(archive, tmp_path, file_format, name):
    before = snapshot(outlet_domains=file_format != "csv")
    path = export_to(tmp_path, file_format, name)
    empty_the_database()

    out = StringIO()
    call_command("import_cases", str(path), "--status", "from-file", stdout=out)

    assert "4 created" in out.getvalue()
    assert snapshot(outlet_domains=file_format != "csv") == before
    # Each copied case's history is the one entry of the import that brought it: the batch,
    # which lists the cases it created.
    batch = ImportBatch.objects.get()
    assert (batch.source, batch.created) == (str(path), 4)
    assert sorted(batch.case_ids) == sorted(Case.objects.values_list("id", flat=True))
    for case in Case.objects.all():
        assert not case.history.exists()


@pytest.mark.parametrize("file_format,name", FORMATS)
def test_without_from_file_new_cases_are_drafts(archive, tmp_path, file_format, name):
    path = export_to(tmp_path, file_format, name)
    empty_the_database()

    call_command("import_cases", str(path), stdout=StringIO())

    assert set(Case.objects.values_list("status", flat=True)) == {Case.Status.DRAFT}
    assert Case.objects.count() == len(archive)


@pytest.mark.parametrize("file_format,name", FORMATS)
def test_importing_an_export_into_its_own_database_changes_nothing(
    archive, tmp_path, file_format, name
):
    path = export_to(tmp_path, file_format, name)
    versions = dict(Case.objects.values_list("pk", "version"))

    out = StringIO()
    call_command("import_cases", str(path), "--status", "from-file", stdout=out)

    assert "4 unchanged" in out.getvalue()
    assert dict(Case.objects.values_list("pk", "version")) == versions


def test_the_csv_export_escapes_separators_and_the_import_reads_the_slugs(archive, tmp_path):
    path = export_to(tmp_path, "csv", "cases.csv")
    text = path.read_text(encoding="utf-8")
    assert "02:47 - 03:06\\; Channel One" in text
    assert "Back\\\\slash\\\\\\; and more" in text

    first = next(p for p in parse_file(path) if p.source_id == "EUvsD;0001")

    assert first.case_id == archive[0].pk
    assert first.status == Case.Status.PUBLISHED
    assert first.slugs["outlet", "02:47 - 03:06; Channel One"] == "0247-0306-channel-one"
    assert first.slugs["keyword", "Back\\slash\\; and more"] == "backslash-and-more"
    assert [ref.code for ref in first.languages] == ["ar", "ru"]
    assert set(first.timestamps) == {"created_at", "updated_at", "published_at"}


@pytest.mark.parametrize("sep", [";", "|", ","])
def test_split_escaped_reads_back_what_joined_wrote(sep):
    items = ["a;b", "c\\", "", ";", "\\;x", "x|y,z", "\\\\", "end\\"]

    assert split_escaped(joined(items, sep), sep) == items
    assert split_escaped("plain;items", ";") == ["plain", "items"]
    assert split_escaped("a lone backslash at the end\\", ";") == ["a lone backslash at the end\\"]
