"""Importing a file shaped like the real archive (bench/archive.py): distinct cases that
share a title and a date, separators inside names, over-long multi-line outlet names."""

import csv
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from bench.archive import write_archive
from cases.models import Case, Outlet

pytestmark = pytest.mark.django_db

ROWS = 60


def import_cases(path, *args):
    out, err = StringIO(), StringIO()
    call_command("import_cases", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def file_rows(path):
    with open(path, encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture
def clean_archive(tmp_path):
    path = tmp_path / "archive.csv"
    stats = write_archive(path, count=ROWS, seed=7, duplicate_share=0.1)
    assert stats["duplicate_titles"] > 0 and not stats["invalid_lines"]
    return path, stats


@pytest.fixture
def broken_archive(tmp_path):
    path = tmp_path / "archive.csv"
    stats = write_archive(path, count=ROWS, seed=7, invalid=True, invalid_share=0.1)
    assert len(stats["invalid_lines"]) > 1
    return path, stats


def test_rows_sharing_a_title_and_date_are_distinct_cases(clean_archive):
    path, stats = clean_archive

    import_cases(path)

    assert Case.objects.count() == ROWS
    groups = Case.objects.values("title", "date").annotate(n=Count("id"))
    assert len(groups) == ROWS - stats["duplicate_titles"]
    urls = {row["source_url"] for row in file_rows(path)}
    assert set(Case.objects.values_list("source_url", flat=True)) == urls


def test_separators_inside_names_and_formula_cells_survive(clean_archive):
    path, _stats = clean_archive
    rows = file_rows(path)

    import_cases(path)

    outlet_names = {o for row in rows for o in row["outlets"].replace("\\;", "\0").split(";")}
    with_separator = {name.replace("\0", ";") for name in outlet_names if "\0" in name}
    assert with_separator  # the file has some
    assert with_separator <= set(Outlet.objects.values_list("name", flat=True))
    assert not Outlet.objects.filter(name__endswith="\\").exists()
    formulas = [row["summary"][1:] for row in rows if row["summary"].startswith("'=")]
    assert formulas
    assert set(formulas) <= set(Case.objects.values_list("summary", flat=True))


def test_importing_the_archive_again_changes_nothing(clean_archive):
    path, _stats = clean_archive
    import_cases(path)
    versions = dict(Case.objects.values_list("pk", "version"))

    out, _err = import_cases(path)

    assert f"{ROWS} unchanged" in out
    assert dict(Case.objects.values_list("pk", "version")) == versions


def test_every_over_long_outlet_name_is_reported_and_nothing_is_written(broken_archive):
    path, stats = broken_archive

    with pytest.raises(CommandError) as error:
        import_cases(path)

    lines = str(error.value).splitlines()
    expected = [
        f"{path}:{line}: outlets: name is longer than 200 characters "
        "('Rossiya 1, Evening with Vladimir Solovyov ("
        for line in stats["invalid_lines"]
    ]
    assert [line[: len(prefix)] for line, prefix in zip(lines, expected, strict=False)] == expected
    assert lines[-1] == f"{len(expected)} problems: nothing was imported."
    assert all(line.endswith("\u2026')") for line in lines[:-1])
    assert Case.objects.count() == 0


def test_skip_invalid_imports_the_rest_and_writes_the_rejected_rows(broken_archive, tmp_path):
    path, stats = broken_archive
    rejected = tmp_path / "rejected.csv"

    out, err = import_cases(path, "--skip-invalid", "--rejected", str(rejected))

    bad = len(stats["invalid_lines"])
    assert f"{ROWS - bad} created" in out and f"{bad} rejected" in out
    assert err.count("outlets: name is longer than 200 characters") == bad
    assert Case.objects.count() == ROWS - bad
    written = file_rows(rejected)
    assert len(written) == bad
    assert all(row["reason"].startswith("outlets: name is longer") for row in written)
    assert all("\n" in row["outlets"] for row in written)  # the row as it was
    originals = {row["source_url"]: row for row in file_rows(path)}
    for row in written:
        reason = row.pop("reason")
        assert row == originals[row["source_url"]], reason
        assert not Case.objects.filter(source_url=row["source_url"]).exists()


def test_the_default_side_file_is_beside_the_import(broken_archive):
    path, stats = broken_archive

    import_cases(path, "--skip-invalid")

    assert len(file_rows(f"{path}.rejected.csv")) == len(stats["invalid_lines"])


@pytest.mark.django_db(transaction=True)
def test_facet_counts_of_an_imported_archive_equal_an_independent_count(tmp_path):
    """Committed, as production serves it: the facet index counts what SQL counts, and
    each keyword counts the file's rows that name it."""
    from django.http import QueryDict

    from cases import facets
    from cases.facets import BROWSE_FACETS, browse_counts, exact_browse_counts, facet_counts
    from cases.facets import index as facet_index
    from cases.filters import CaseFilter

    facets.reset()
    path = tmp_path / "archive.csv"
    write_archive(path, count=400, seed=11)
    import_cases(path, "--status", "published")
    rows = file_rows(path)

    assert facet_index.current_index() is not None
    bound = CaseFilter(QueryDict(""), queryset=Case.objects.published())
    assert bound.is_valid()
    assert facet_counts(bound).total == len(rows) == Case.objects.published().count()
    for facet in BROWSE_FACETS:
        assert browse_counts(facet) == exact_browse_counts(facet), facet
    in_file = {}
    for row in rows:
        for name in {name.strip() for name in row["keywords"].split(";") if name.strip()}:
            in_file[name] = in_file.get(name, 0) + 1
    counted = {name: count for _, name, count in browse_counts("keyword")}
    assert counted == in_file
    # Importing the same file again changes nothing, and the counts stay.
    out, _ = import_cases(path, "--status", "published")
    assert f"{len(rows)} unchanged" in out
    assert {name: count for _, name, count in browse_counts("keyword")} == in_file
