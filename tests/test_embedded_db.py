import os

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
