"""Every table a cached or fast read uses has the change-log triggers, and they fire.

Caches, the facet index and the partners' changes feed trust the change log
(cases.freshness.dataversion); a table the reads use without triggers would let them go
stale.
"""

import re
from pathlib import Path

import pytest
from django.db import connection

from cases.freshness.dataversion import CASE_TABLES, LABEL_TABLES, read_version
from cases.models import CorrectionNote
from tests.factories import CaseFactory

CASES_PACKAGE = Path(__file__).resolve().parent.parent / "cases"

# Tables whose rows carry a case: each write logs the cases it touched.
CASE_ROW_TABLES = [
    "cases_case",
    "cases_case_keywords",
    "cases_case_countries",
    "cases_case_languages",
    "cases_case_related",
    "cases_appearance",
    "cases_correctionnote",
]
# Tables of labels that cases show: renaming one logs every case that shows it.
LABEL_ROW_TABLES = [
    "cases_keyword",
    "cases_country",
    "cases_language",
    "cases_outlet",
    "cases_issue",
]
# Tables SQL in cases/ reads that need no triggers, and why.
NOT_LOGGED = {
    # The change log itself.
    "cases_casechange",
    "cases_datachange",
    "cases_dataversion",
    # Typo-tolerant search's word list: suggestions, never part of a case's representation.
    "cases_searchword",
    # A delete's tombstone, written with the delete, which the cases_case triggers log.
    "cases_deletedcase",
    # History and import batches: read by the write path (cases.history.record_imported())
    # and the admin, never by a cached or public read.
    "cases_historicalcase",
    "cases_historicalappearance",
    "cases_importbatch",
}

INSERT, DELETE, UPDATE, TRUNCATE = 4, 8, 16, 32


def tables_read_by_sql():
    """Every cases_* table that SQL in the cases package reads (FROM or JOIN), by module
    (its path in cases/).

    The case page statement, the API's SQL-built JSON, the CSV export, the facet index
    and search all live there; migrations do not read."""
    found = {}
    for path in CASES_PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        text = path.read_text()
        for table in re.findall(r"\b(?:FROM|JOIN)\s+(cases_[a-z_]+)\b", text):
            found.setdefault(table, set()).add(path.relative_to(CASES_PACKAGE).as_posix())
    return found


def triggers_on(table):
    """[(event bits, function source)] of the table's own (not internal) triggers."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgtype, p.prosrc FROM pg_trigger t"
            " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid"
            " WHERE NOT t.tgisinternal AND c.relname = %s",
            [table],
        )
        return cursor.fetchall()


def events_logging_cases(table):
    """The events (INSERT, UPDATE, DELETE, TRUNCATE bits) of the table whose triggers
    log the cases they change."""
    events = 0
    for tgtype, source in triggers_on(table):
        if "cases_casechange" in source:
            events |= tgtype & (INSERT | DELETE | UPDATE | TRUNCATE)
    return events


def test_the_lists_here_are_the_ones_dataversion_documents():
    assert sorted(CASE_TABLES) == sorted(CASE_ROW_TABLES)
    assert sorted(LABEL_TABLES) == sorted(LABEL_ROW_TABLES)


def test_every_table_the_fast_reads_use_is_covered_by_the_lists():
    read = tables_read_by_sql()
    # The statements that must be found where they live, or the search above found
    # nothing useful: the fast reads, the facet index and search.
    fast_reads = {"readmodels/case_page.py", "readmodels/api_json.py", "readmodels/csv.py"}
    assert fast_reads <= read.get("cases_case_related", set())
    assert "readmodels/case_page.py" in read.get("cases_correctionnote", set())
    assert "facets/index.py" in read.get("cases_case", set())
    assert "search/__init__.py" in read.get("cases_searchword", set())
    uncovered = set(read) - NOT_LOGGED - set(CASE_ROW_TABLES) - set(LABEL_ROW_TABLES)
    assert not uncovered, {table: read[table] for table in uncovered}


@pytest.mark.django_db
@pytest.mark.parametrize("table", CASE_ROW_TABLES)
def test_every_write_to_a_case_table_logs_its_cases(table):
    assert events_logging_cases(table) == INSERT | UPDATE | DELETE | TRUNCATE


@pytest.mark.django_db
@pytest.mark.parametrize("table", LABEL_ROW_TABLES)
def test_a_change_to_a_label_table_logs_the_cases_that_show_it(table):
    assert events_logging_cases(table) & (UPDATE | TRUNCATE) == UPDATE | TRUNCATE
    # And the facet index still hears of every label change.
    labels = [tgtype for tgtype, source in triggers_on(table) if "'labels'" in source]
    assert labels and labels[0] & (INSERT | UPDATE | DELETE) == INSERT | UPDATE | DELETE


def committed_version():
    return read_version().version


@pytest.mark.django_db(transaction=True)
def test_relating_cases_with_plain_orm_code_moves_the_data_version():
    case, other = CaseFactory(), CaseFactory()
    before = committed_version()

    case.related.add(other)
    assert committed_version() > before

    after_add = committed_version()
    case.related.remove(other)
    assert committed_version() > after_add


@pytest.mark.django_db(transaction=True)
def test_a_correction_note_moves_the_data_version():
    case = CaseFactory()
    before = committed_version()

    note = CorrectionNote.objects.create(case=case, text="The date was corrected.")
    assert committed_version() > before

    after_create = committed_version()
    note.delete()
    assert committed_version() > after_create
