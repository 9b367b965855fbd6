"""How fast a real archive loads: `manage.py import_cases` on a generated file of real-archive
shape (bench/archive.py), into an empty database of its own, then the same file again.

    python bench/import_speed.py [--cases N]

Part of make bench (bench/run.py runs it at 100,000 cases). Figures are printed as rates and
as ratios: to the target of 5,000 new cases a second, and to a reference run in this process,
PostgreSQL's COPY of the same file, as it is, into a table of text columns (the floor any
import stands on: no parsing, checks, taxonomy, search vectors, links or history).
"""

import argparse
import os
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
DATA = BASE / "bench" / "data"
TARGET_CASES_PER_SECOND = 5000


def import_database_url(url):
    """The server of `url`, with the disinfo_bench_import database."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/disinfo_bench_import"))


def recreate_database(url):
    from bench.run import connect, database_name

    conn = connect(url, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}"')
        cursor.execute(f'CREATE DATABASE "{database_name(url)}"')
    conn.close()


def timed_manage(env, *args):
    """Run manage.py; returns (seconds, its last line of output, {step: seconds}).

    The steps are import_cases's progress lines, one per step in a log (cases.progress):
    "new cases:   100,000/100,000   30.1s   3,322/s".
    """
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(BASE / "manage.py"), *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    lines = result.stdout.strip().splitlines()
    return time.monotonic() - started, lines[-1] if lines else "", step_seconds(result.stderr)


def step_seconds(log):
    """{step: seconds} of the progress lines in `log`."""
    steps = {}
    for line in log.splitlines():
        match = STEP_LINE.match(line)
        if match:
            steps[match["step"]] = float(match["seconds"])
    return steps


STEP_LINE = re.compile(r"(?P<step>[a-z][a-z ]*): +[\d,/]+ +(?P<seconds>[\d.]+)s +[\d,]+/s$")


def reference_copy_seconds(url, path):
    """COPY of the file, as it is, into a temporary table of text columns."""
    import csv

    from bench.run import connect

    with open(path, encoding="utf-8", newline="") as file:
        header = next(csv.reader(file))
    columns = ", ".join(f'"{name}" text' for name in header)
    conn = connect(url)
    try:
        with conn.cursor() as cursor, open(path, encoding="utf-8") as file:
            cursor.execute(f"CREATE TEMPORARY TABLE raw_archive ({columns})")
            started = time.monotonic()
            cursor.copy_expert("COPY raw_archive FROM STDIN (FORMAT csv, HEADER)", file)
            conn.commit()
            return time.monotonic() - started
    finally:
        conn.close()


def measure(count, url, seed=1):
    """Import `count` generated cases into an empty database, then again; returns figures."""
    sys.path.insert(0, str(BASE))
    from bench.archive import write_archive

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"archive-{count}-{seed}.csv"
    if not path.exists():
        write_archive(path, count, seed)
    url = import_database_url(url)
    recreate_database(url)
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(
        [sys.executable, str(BASE / "manage.py"), "migrate", "--noinput", "-v0"],
        env=env,
        check=True,
    )
    args = ("import_cases", str(path), "--status", "published")
    first, first_line, first_steps = timed_manage(env, *args)
    again, again_line, again_steps = timed_manage(env, *args)
    reference = reference_copy_seconds(url, path)
    rate = count / first
    return {
        "cases": count,
        "import_seconds": round(first, 2),
        "cases_per_second": round(rate),
        "ratio_to_target": round(rate / TARGET_CASES_PER_SECOND, 2),
        "reference_copy_seconds": round(reference, 2),
        "ratio_to_reference_copy": round(first / reference, 1),
        "import_output": first_line,
        "import_steps": first_steps,
        "reimport_steps": again_steps,
        "reimport_seconds": round(again, 2),
        "reimport_output": again_line,
    }


def describe(figures):
    return (
        f"Import of a real-archive-shaped file: {figures['cases']:,} new cases in "
        f"{figures['import_seconds']}s, {figures['cases_per_second']:,} cases/s "
        f"({figures['ratio_to_target']}x the {TARGET_CASES_PER_SECOND:,}/s target, "
        f"{figures['ratio_to_reference_copy']}x a plain COPY of the file); "
        f"the same file again in {figures['reimport_seconds']}s "
        f"({figures['reimport_output'].split(': ', 1)[-1]})"
        f"\n  steps of the import: {steps_text(figures['import_steps'])}"
        f"\n  steps of the same file again: {steps_text(figures['reimport_steps'])}"
    )


def steps_text(steps):
    return ", ".join(f"{step} {seconds:.1f}s" for step, seconds in steps.items()) or "none shown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sys.path.insert(0, str(BASE))
    from bench.run import bench_database_url

    print(describe(measure(args.cases, bench_database_url(), args.seed)))


if __name__ == "__main__":
    main()
