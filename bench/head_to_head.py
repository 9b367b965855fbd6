"""Single-row questions asked of both servers in turn, request by request.

    python bench/head_to_head.py [--requests 300]

`make bench` asks each server its questions in a block of its own, minutes apart, and a
request of a few milliseconds can take half as long again from one block to the next. Here
both servers run at once, both warmed just before, and each variant goes to one server and
then the other (which goes first alternates), so both meet the same machine. It reuses the
bench database and SQLite copy that `make bench` made; every case and page size is asked
once on each side.
"""

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (bench/run.py, beside this file)


def alternate(pairs, ours_port, theirs_port):
    """([our seconds], [their seconds]) of each (our path, their path), asked in turn."""
    ours, theirs = [], []
    for number, (our_path, their_path) in enumerate(pairs):
        asks = [(ours_port, our_path, ours), (theirs_port, their_path, theirs)]
        for port, path, times in asks if number % 2 == 0 else reversed(asks):
            status, _, seconds = run.get(port, path)
            if status != 200:
                raise SystemExit(f"{path}: HTTP {status}")
            times.append(seconds)
    return ours, theirs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="cases asked per question")
    parser.add_argument("--cases", type=int, default=int(os.environ.get("BENCH_CASES", 1e6)))
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8765)))
    parser.add_argument("--datasette", default=os.environ.get("BENCH_DATASETTE"))
    args = parser.parse_args()

    sys.path.insert(0, str(run.BASE))
    from disinfo_db import gunicorn_conf

    url = run.bench_database_url()
    env = run.server_env(url)
    os.environ.update(env)
    import django

    django.setup()
    from cases.models import Case

    sqlite_path = run.DATA / f"sqlite-{args.cases}" / "bench.db"
    if not sqlite_path.exists() or not args.datasette:
        raise SystemExit("Run make bench first: it makes the bench data and installs Datasette.")
    n = args.requests
    sample = list(Case.objects.published().order_by("?").values_list("id", "slug")[: 2 * n])
    pages, api = sample[:n], sample[n:]
    sizes = range(41, 81)  # not among the bench's own variants (21-40)
    questions = {
        "case page": [(f"/cases/{pk}/{slug}/", f"/bench/cases/{pk}") for pk, slug in pages],
        "API case": [(f"/api/v1/cases/{pk}/", f"/bench/cases/{pk}.json") for pk, _ in api],
        "API list": [
            (f"/api/v1/cases/?page_size={size}", f"/bench/cases.json?_size={size}&_sort_desc=date")
            for size in sizes
        ],
    }
    run.warm_postgresql()
    run.warm_sqlite(sqlite_path)
    ours = run.start_gunicorn(env, args.port, gunicorn_conf.workers)
    theirs = run.start_datasette(args.datasette, sqlite_path, args.port + 1)
    try:
        print(f"{'question':<10} {'ours p50':>9} {'p95':>6} | {'Datasette p50':>13} {'p95':>6} | x")
        for name, pairs in questions.items():
            mine, other = alternate(pairs, args.port, args.port + 1)
            p50, their_p50 = statistics.median(mine) * 1e3, statistics.median(other) * 1e3
            print(
                f"{name:<10} {p50:>9.2f} {run.percentile(mine, 95) * 1e3:>6.2f} | "
                f"{their_p50:>13.2f} {run.percentile(other, 95) * 1e3:>6.2f} | "
                f"{their_p50 / p50:.2f}  ({len(pairs)} variants)"
            )
    finally:
        run.stop(ours)
        run.stop(theirs)


if __name__ == "__main__":
    main()
