import os

import psutil
import pytest
from django.conf import settings
from django.db import connection

from disinfo_db import embedded_db


def test_a_pid_file_left_by_a_killed_server_is_removed_before_the_next_start(tmp_path, monkeypatch):
    monkeypatch.setattr(embedded_db, "PGDATA", tmp_path)
    # The pid now belongs to a process that is not our PostgreSQL server (this test run).
    (tmp_path / "postmaster.pid").write_text(f"{os.getpid()}\n{tmp_path}\n")
    (tmp_path / ".s.PGSQL.5432.lock").write_text("stale")

    embedded_db._remove_stale_pid_file()

    assert not (tmp_path / "postmaster.pid").exists()
    assert not (tmp_path / ".s.PGSQL.5432.lock").exists()


def test_the_pid_file_of_a_running_server_is_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(embedded_db, "PGDATA", tmp_path)
    monkeypatch.setattr(embedded_db, "_server_process_is_ours", lambda pid: True)
    (tmp_path / "postmaster.pid").write_text("12345\n")

    embedded_db._remove_stale_pid_file()

    assert (tmp_path / "postmaster.pid").exists()


def test_shared_buffers_are_a_quarter_of_memory_within_postgresql_default_and_2_gb():
    gib = 2**30
    assert embedded_db.shared_buffers_mb(256 * 2**20) == 128  # never below the default
    assert embedded_db.shared_buffers_mb(4 * gib) == 1024
    assert embedded_db.shared_buffers_mb(64 * gib) == 2048


@pytest.mark.django_db
def test_the_embedded_server_runs_with_those_shared_buffers():
    if settings.DATABASES["default"]["HOST"] != str(embedded_db.PGDATA):
        pytest.skip("DATABASE_URL is set: the tests run on another server")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'"
        )
        (mb,) = cursor.fetchone()
    assert mb == embedded_db.shared_buffers_mb(psutil.virtual_memory().total)
