"""Building the bulk dumps, and finding the current one.

    manifest = build_dumps()          # manage.py build_dumps
    manifest = current_manifest()     # what /data/ serves, or None before the first build

Every file of a build is read in one REPEATABLE READ transaction, with the data version
(the change log's seq) read in the same snapshot: a file holds exactly the changes numbered
up to its seq, so a partner that loads it and then follows /api/v1/changes/?since=<seq>
misses nothing and replays nothing it lacks.

A build is written into a temporary directory beside the served ones, which is renamed
into place once complete; then index.json, which names the served build, is replaced
(written to a temporary file and renamed). Readers see the old build or the new one,
never a mix, and a download already under way keeps its open file. The two newest builds
are kept, older ones removed.
"""

import gzip
import hashlib
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from cases.dumps import sqlite
from cases.dumps.datapackage import (
    CSV_NAME,
    DESCRIPTOR_NAME,
    NDJSON_NAME,
    SQLITE_NAME,
    datapackage,
    licence,
)
from cases.freshness.dataversion import read_version
from cases.models import Case
from cases.readmodels.csv import sql_csv_lines, utc_timestamp
from cases.readmodels.json_export import sql_ndjson_lines

INDEX_NAME = "index.json"
BUILD_PREFIX = "build-"
KEEP_BUILDS = 2
# Compressing took longer than reading: level 1 is twice as fast as 4 and four times as
# fast as 6 (gzip's default is 9), for files 11% and 17% larger (measured on the bench's
# cases, whose text compresses as real text does).
COMPRESS_LEVEL = 1

# name: (media type, description), in the order /data/ lists them.
FILES = {
    NDJSON_NAME: (
        "application/gzip",
        "Newline-delimited JSON, gzipped: each line a case as GET /api/v1/cases/<id>/ shows it.",
    ),
    CSV_NAME: (
        "application/gzip",
        "CSV, gzipped: the site's export format, with ids, addresses, slugs and timestamps.",
    ),
    SQLITE_NAME: (
        "application/vnd.sqlite3",
        "SQLite, ready for Datasette: a cases table, taxonomy and link tables, and "
        "full-text search over title, summary and disproof.",
    ),
    DESCRIPTOR_NAME: (
        "application/json",
        "Frictionless Data Package descriptor: every file and field, with checksums.",
    ),
}


def dumps_directory():
    return Path(settings.DUMPS_DIR)


@contextmanager
def one_snapshot():
    """A read-only REPEATABLE READ transaction: every query sees the same committed data.

    Yields the snapshot's id, which other connections can share (SET TRANSACTION
    SNAPSHOT) while this transaction lasts; or None inside a transaction already (a
    test's), which is then the one used.
    """
    if connection.in_atomic_block:
        yield None
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        yield snapshot


def _in_snapshot(snapshot, write, path, log):
    """write(path, log) on this thread's connection, in the snapshot; (its result, seconds)."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
            return _timed(write, path, log)
    finally:
        connection.close()


def _timed(write, path, log):
    started = time.monotonic()
    return write(path, log), time.monotonic() - started


def published_ids_sql():
    """Case.objects.published() as a SELECT of ids, its parameters quoted in."""
    sql, params = Case.objects.published().order_by().values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        text = cursor.mogrify(sql, params)
    text = text.decode() if isinstance(text, bytes) else text
    # It goes into statements with %(name)s parameters.
    return text.replace("%", "%%")


def _write_gzip(path, chunks):
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(
            filename="", mode="wb", fileobj=raw, compresslevel=COMPRESS_LEVEL, mtime=0
        ) as zipped,  # fmt: skip
    ):
        for chunk in chunks:
            zipped.write(chunk)


def _published():
    return Case.objects.published().order_by("id")


def write_ndjson(path, log=None):
    """The NDJSON file; returns how many cases it holds."""
    counter = [0]
    _write_gzip(path, _counted(sql_ndjson_lines(_published()), counter))
    return counter[0]


def write_csv(path, log=None):
    _write_gzip(path, sql_csv_lines(_published()))


def write_sqlite(path, log=None):
    return sqlite.write_sqlite(path, published_ids_sql(), log=log)


WRITERS = {NDJSON_NAME: write_ndjson, CSV_NAME: write_csv, SQLITE_NAME: write_sqlite}


def _counted(chunks, counter):
    """The chunks of NDJSON text (UTF-8 bytes), counting their lines (a JSON text has no raw
    newline)."""
    for chunk in chunks:
        counter[0] += chunk.count(b"\n")
        yield chunk


def _digest(path):
    sha = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(1 << 20):
            sha.update(block)
    return sha.hexdigest()


def build_dumps(directory=None, log=None):
    """Write a new build of every dump file and serve it; returns its manifest."""
    directory = Path(directory or dumps_directory())
    directory.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".building-", dir=directory))
    work.chmod(0o755)  # mkdtemp makes it private; the web server may be another user
    say = log or (lambda text: None)
    try:
        with one_snapshot() as snapshot:
            seq = read_version().version
            built_at = utc_timestamp(timezone.now().replace(microsecond=0))
            say(f"Building dumps at seq {seq}.")
            if snapshot is None:
                results = {name: _timed(write, work / name, say) for name, write in WRITERS.items()}
            else:
                # Each file on a connection of its own, all in this one snapshot: PostgreSQL
                # and the compression keep both cores busy.
                with ThreadPoolExecutor(max_workers=len(WRITERS)) as pool:
                    futures = {
                        name: pool.submit(_in_snapshot, snapshot, write, work / name, say)
                        for name, write in WRITERS.items()
                    }
                    results = {name: future.result() for name, future in futures.items()}
        seconds = {name: taken for name, (_, taken) in results.items()}
        count = results[NDJSON_NAME][0]
        for name, taken in seconds.items():
            say(f"{name}: {taken:.1f}s.")

        files = {
            name: {"bytes": (work / name).stat().st_size, "sha256": _digest(work / name)}
            for name in (NDJSON_NAME, CSV_NAME, SQLITE_NAME)
        }
        manifest = {"seq": seq, "built_at": built_at, "cases": count}
        descriptor = datapackage(files, manifest)
        (work / DESCRIPTOR_NAME).write_text(json.dumps(descriptor, indent=2) + "\n")
        files[DESCRIPTOR_NAME] = {
            "bytes": (work / DESCRIPTOR_NAME).stat().st_size,
            "sha256": _digest(work / DESCRIPTOR_NAME),
        }
        manifest["licence"] = licence()
        manifest["files"] = [
            {
                "name": name,
                "media_type": media_type,
                "description": description,
                "bytes": files[name]["bytes"],
                "sha256": files[name]["sha256"],
                "last_modified": built_at,
                "seq": seq,
                "cases": count,
                **({"build_seconds": round(seconds[name], 2)} if name in seconds else {}),
            }
            for name, (media_type, description) in FILES.items()
        ]
        # Unique even for two builds of one seq in one second: mkdtemp's random part.
        build = f"{BUILD_PREFIX}{seq}-{built_at.replace(':', '')}-{work.name.split('-')[-1]}"
        manifest["build"] = build
        work.rename(directory / build)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _replace(directory / INDEX_NAME, json.dumps(manifest, indent=2) + "\n")
    _prune(directory, build)
    return manifest


def _replace(path, text):
    """Write `path` whole or not at all: readers see the old text or the new."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def _prune(directory, current):
    builds = sorted(
        (path for path in directory.glob(f"{BUILD_PREFIX}*") if path.is_dir()),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    kept = [current] + [path.name for path in builds if path.name != current][: KEEP_BUILDS - 1]
    for path in builds:
        if path.name not in kept:
            shutil.rmtree(path, ignore_errors=True)


def current_manifest(directory=None):
    """The manifest of the build /data/ serves, or None when there is none yet."""
    directory = Path(directory or dumps_directory())
    try:
        return json.loads((directory / INDEX_NAME).read_text())
    except FileNotFoundError:
        return None


def served_file(manifest, name, directory=None):
    """(path, the manifest's entry) of a file of the served build, or None."""
    directory = Path(directory or dumps_directory())
    for entry in manifest["files"]:
        if entry["name"] == name:
            return directory / manifest["build"] / name, entry
    return None
