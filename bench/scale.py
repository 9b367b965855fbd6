"""How the costs grow with the number of cases: one database, read only.

    BENCH_DATABASE_URL=postgres://… python -m bench.scale [--no-ndjson]

Over an existing database of generated cases, which it never writes, it measures:

- the facet index built in this process: seconds, bitmaps, serialized MB, and the
  process's own memory (USS, /proc/self/smaps_rollup) before and after;
- gunicorn as bench/run.py serves it (2 workers, no preload, no CACHE_URL): seconds until
  both workers answer (each builds its index), then each worker's USS/PSS after warm-up;
- first asks of the drawn rows of `make bench` (the same fresh variants bench/run.py draws,
  each asked once, after one warm-up ask of the row's repeated variant), p50/p95 per row
  and over the whole mix;
- `manage.py export_cases` of every published case to /dev/null, CSV and NDJSON: wall
  seconds (Django's start included) and cases/s;
- pg_database_size and the biggest relations.

It prints one JSON object, with the load average before and after each step.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
PORT = 8781


def uss_mb(pid="self"):
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    return round((fields["Private_Clean"] + fields["Private_Dirty"]) / 1024, 1)


def load():
    return round(os.getloadavg()[0], 1)


def measure_index():
    from cases.facets.index import FacetIndex

    before = uss_mb()
    load_before = load()
    started = time.perf_counter()
    index = FacetIndex.build()
    seconds = time.perf_counter() - started
    after = uss_mb()
    bitmaps = [index.published, index.sample, *index.issues.values(), *index.days.values()]
    bitmaps += [*index.months.values()]
    for values in index.values.values():
        bitmaps += values.values()
    result = {
        "published": len(index.published),
        "build_seconds": round(seconds, 2),
        "bitmaps": len(bitmaps),
        "serialized_mb": round(sum(len(b.serialize()) for b in bitmaps) / 2**20, 1),
        "uss_growth_mb": round(after - before, 1),
        "load": [load_before, load()],
    }
    del index
    return result


def measure_server(env, questions):
    from bench import run, workers

    load_before = load()
    started = time.monotonic()
    server = run.start_gunicorn(env, PORT, workers=2)
    log = run.DATA / "gunicorn.log"
    try:
        seen, deadline = set(), time.monotonic() + 600
        while len(seen) < 2 and time.monotonic() < deadline:
            run.get(PORT, "/robots.txt")
            time.sleep(0.2)
            seen = {r["pid"] for r in workers.access_records(log, 0) if r["path"] == "/robots.txt"}
        ready = time.monotonic() - started
        memory = workers.memory(server.pid)
        rows, every = {}, []
        load_questions = load()
        for question in questions:
            run.get(PORT, question.repeat)  # warm-up, not counted
            times, statuses = run.ask_each(PORT, question.first)
            errors = [s for s in statuses if s != 200]
            rows[question.key] = run.summary(times) | ({"errors": errors} if errors else {})
            every += times
        memory_after = workers.memory(server.pid)
    finally:
        run.stop(server)
    return {
        "both_workers_ready_seconds": round(ready, 1),
        "load_at_start": load_before,
        "memory_after_warm_up": memory,
        "memory_after_questions": memory_after,
        "first_asks": rows,
        "first_asks_all": run.summary(every),
        "load_questions": [load_questions, load()],
    }


def measure_export(env, fmt, published):
    load_before = load()
    started = time.monotonic()
    subprocess.run(
        [sys.executable, str(BASE / "manage.py"), "export_cases", "--format", fmt],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.monotonic() - started
    return {
        "seconds": round(seconds, 1),
        "cases_per_second": round(published / seconds),
        "load": [load_before, load()],
    }


def measure_sizes():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database()), version()")
        size, version = cursor.fetchone()
        cursor.execute(
            "SELECT c.relname, c.relkind, pg_total_relation_size(c.oid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 'm')"
            " ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 15"
        )
        biggest = [
            {
                "name": name,
                "kind": {"r": "table", "i": "index", "m": "view"}[kind],
                "mb": round(b / 2**20),
            }
            for name, kind, b in cursor.fetchall()
        ]
    return {
        "database_mb": round(size / 2**20),
        "postgresql": version.split(" on ")[0],
        "biggest": biggest,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-ndjson", action="store_true", help="CSV export only")
    args = parser.parse_args()
    sys.path.insert(0, str(BASE))
    from bench import run

    url = run.bench_database_url()
    env = run.server_env(url)
    env.pop("CACHE_URL", None)
    env["GUNICORN_PRELOAD"] = "0"
    env["DISINFO_RELEASE"] = f"bench-scale-{time.time():.0f}"
    os.environ.update(env)
    import django

    django.setup()
    run.DATA.mkdir(parents=True, exist_ok=True)
    run.manage("collectstatic", "--noinput", "-v0", env=env)

    result = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "sizes": measure_sizes()}
    result["index"] = measure_index()
    started = time.monotonic()
    questions, published = run.build_questions(quick=False)
    result["published"] = published
    result["draw_seconds"] = round(time.monotonic() - started, 1)
    drawn = [q for q in questions if q.draw is not None and q.kind != "admin"]
    result["server"] = measure_server(env, drawn)
    result["export_csv"] = measure_export(env, "csv", published)
    if not args.no_ndjson:
        result["export_ndjson"] = measure_export(env, "ndjson", published)
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
