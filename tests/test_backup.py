"""Backups (disinfo_db.backup): pg_dump's custom format, restored with pg_restore.

A database holding every kind of record is dumped and restored, and compared with the
original table by table and row by row, sequences, indexes, triggers and functions too.
"""

import pytest
from django.db import connection, connections

from cases.api.tokens import issue_token
from cases.freshness.dataversion import read_version
from cases.models import ApiToken, Case, CaseRevision, CorrectionNote, PendingReference
from cases.services import editing
from disinfo_db import backup
from tests.conftest import EDITOR_PERMISSIONS, make_user
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    CountryFactory,
    IssueFactory,
    KeywordFactory,
    LanguageFactory,
    edit,
)

pytestmark = pytest.mark.django_db(transaction=True)


def build_every_kind_of_record():
    """Drafts, published and withdrawn cases, their history, a pending revision, correction
    notes, an API token, related links and a pending reference, all through the write path."""
    editor = make_user("editor", EDITOR_PERMISSIONS)
    issue_token(editor, scope=ApiToken.Scope.WRITE)
    keyword, country, language = KeywordFactory(), CountryFactory(), LanguageFactory()
    first = CaseFactory(
        title="Sanctions stopped the grain",
        keywords=[keyword],
        countries=[country],
        languages=[language],
        issue=IssueFactory(),
    )
    AppearanceFactory(case=first)
    second = CaseFactory(title="The harvest failed on purpose", related=[first])
    editing.save_case(second, pending_titles=["A claim the database does not hold yet"])
    editing.save_case(first, correction_note="The date of the claim was corrected.")
    withdrawn = CaseFactory(title="A claim withdrawn later")
    edit(withdrawn, status=Case.Status.WITHDRAWN, withdrawal_reason="A duplicate.")
    CaseFactory(title="A draft nobody may see", status=Case.Status.DRAFT)
    editing.save_case(first, user=editor, summary="An editor's better summary.")
    gone = CaseFactory(title="A case deleted later")
    editing.delete_case(gone)

    assert CaseRevision.objects.filter(status=CaseRevision.Status.PENDING).count() == 1
    assert CorrectionNote.objects.count() == 1
    assert PendingReference.objects.count() == 1
    assert Case.objects.filter(status=Case.Status.WITHDRAWN).count() == 1
    assert Case.objects.filter(status=Case.Status.DRAFT).count() == 1


def database_named(name):
    return {**connection.settings_dict, "NAME": name}


def snapshot(database):
    """Everything in the database's public schema, as comparable text."""
    conn = backup._connect(database)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S')"
                " ORDER BY c.relname"
            )
            relations = cursor.fetchall()
            contents = {}
            for name, kind in relations:
                if kind == "r":
                    cursor.execute(f'SELECT t::text FROM public."{name}" t ORDER BY 1')
                else:
                    cursor.execute(f'SELECT last_value, is_called FROM public."{name}"')
                contents[name] = cursor.fetchall()
            # A partial index's predicate reads back spelt differently (the same condition
            # parsed again), so its text is left out of the comparison.
            cursor.execute(
                "SELECT split_part(indexdef, ' WHERE ', 1), indexdef LIKE '% WHERE %'"
                " FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
            )
            contents["(indexes)"] = cursor.fetchall()
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, contype FROM pg_constraint c"
                " JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'"
                " ORDER BY 1, 2"
            )
            contents["(constraints)"] = cursor.fetchall()
            cursor.execute(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"
            )
            contents["(triggers)"] = cursor.fetchall()
            cursor.execute(
                "SELECT pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n"
                " ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND p.prokind = 'f'"
                " ORDER BY 1"
            )
            contents["(functions)"] = cursor.fetchall()
            cursor.execute("SELECT extname, extversion FROM pg_extension ORDER BY 1")
            contents["(extensions)"] = cursor.fetchall()
            cursor.execute(
                "SELECT collname, collprovider FROM pg_collation c JOIN pg_namespace n"
                " ON n.oid = c.collnamespace WHERE n.nspname = 'public' ORDER BY 1"
            )
            contents["(collations)"] = cursor.fetchall()
        return contents
    finally:
        conn.close()


@pytest.fixture
def fresh_database():
    """An empty database on the same server, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restored"
    admin = backup._connect(database_named("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    yield database_named(name)
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_a_backup_restored_into_a_fresh_database_holds_every_row_of_every_table(
    tmp_path, fresh_database
):
    build_every_kind_of_record()
    original = snapshot(connection.settings_dict)

    dump_file = backup.dump(tmp_path / "disinfo.dump", connection.settings_dict)
    backup.restore(dump_file, fresh_database)

    restored = snapshot(fresh_database)
    assert restored.keys() == original.keys()
    for name, rows in original.items():
        assert restored[name] == rows, f"{name} differs after the restore"
    assert len(original["cases_case"]) == 4 and len(original["cases_deletedcase"]) == 1
    assert original["cases_dataversion_seq"][0][0] > 0


def test_restoring_over_the_live_database_brings_back_its_state_under_a_newer_version(tmp_path):
    build_every_kind_of_record()
    dump_file = backup.dump(tmp_path / "disinfo.dump", connection.settings_dict)
    at_backup = snapshot(connection.settings_dict)
    CaseFactory(title="A case written after the backup")
    version_before_restore = read_version().version

    connections.close_all()
    backup.restore(dump_file, connection.settings_dict)

    restored = snapshot(connection.settings_dict)
    # The change log records the restore itself.
    changed = {"cases_dataversion", "cases_dataversion_seq", "cases_datachange",
               "cases_datachange_id_seq", "cases_casechange"}  # fmt: skip
    for name, rows in at_backup.items():
        if name not in changed:
            assert restored[name] == rows, f"{name} differs after the restore"
    assert not Case.objects.filter(title="A case written after the backup").exists()
    # Kept pages and partners' positions all name older versions: none can match.
    assert read_version().version > version_before_restore
    # ... and partners following the changes feed are sent every case as restored.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM cases_casechange WHERE seq > %s", [version_before_restore]
        )
        assert cursor.fetchone()[0] == Case.objects.count()


def test_a_restore_without_a_file_changes_nothing_and_says_why(tmp_path):
    with pytest.raises(backup.BackupError, match="No backup file"):
        backup.restore(tmp_path / "missing.dump", connection.settings_dict)


def test_a_failed_restore_leaves_the_database_as_it_was(tmp_path):
    CaseFactory(title="Still here after a failed restore")
    broken = tmp_path / "broken.dump"
    broken.write_bytes(b"PGDMP not really a dump")

    with pytest.raises(backup.BackupError, match="pg_restore failed"):
        backup.restore(broken, connection.settings_dict)

    assert Case.objects.filter(title="Still here after a failed restore").exists()


def test_the_tools_are_at_least_as_new_as_the_server():
    server = backup.server_major_version(connection.settings_dict)
    for name in ("pg_dump", "pg_restore"):
        assert backup.tool_major_version(backup.find_tool(name, connection.settings_dict)) >= server


def test_the_default_backup_file_is_in_backups_named_by_its_utc_time():
    import datetime

    when = datetime.datetime(2026, 3, 1, 4, 5, 6, tzinfo=datetime.UTC)
    assert backup.default_backup_path(when) == backup.BACKUP_DIR / "disinfo-20260301T040506Z.dump"


def test_an_unreachable_server_is_reported_not_raised_as_a_traceback(tmp_path):
    nowhere = {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": "1"}
    with pytest.raises(backup.BackupError, match="Cannot connect"):
        backup.dump(tmp_path / "x.dump", nowhere)


def test_renumbering_after_a_point_in_time_recovery_jumps_the_data_version():
    case = CaseFactory(title="Known to partners before the recovery")
    before = read_version().version

    after = backup.renumber(connection.settings_dict)

    assert after > before + backup.RENUMBER_JUMP
    assert read_version().version == after
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM cases_casechange WHERE case_id = %s", [case.pk])
        assert cursor.fetchone()[0] > before + backup.RENUMBER_JUMP
