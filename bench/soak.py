"""make bench-soak: the site under a long mixed load while cases are imported beside it.

    python bench/soak.py [--minutes 10] [--concurrency 16] [--cases N] [--import-cases 200]

1. Uses the bench database of bench/run.py (BENCH_CASES synthetic cases, default
   1,000,000; loaded if they are not there) and serves it under gunicorn with the
   project's settings (disinfo_db/gunicorn_conf.py) and DJANGO_DEBUG=0.
2. For --minutes, --concurrency clients ask fresh variants of a mixed workload: the list
   with facets, searches, statistics, feeds, the API's list and cases, case pages and
   exports. Each URL draws its filters at random from the data, so most are not in the
   page cache.
3. Meanwhile an importer loads a new file of real-archive shape (bench/archive.py) with
   `manage.py import_cases --status published`, again and again: every import moves the
   change log, so workers patch their facet index and kept pages go stale.
4. Reports the number of errors (5xx, connection failures, any other status a question
   should not get), latency p50/p95/p99 overall and per kind, imports done, and each
   worker's memory (RSS) when the load started, at its peak and at the end. Writes
   bench/soak.json.

The cases the importer created are deleted at the end, so the bench database keeps its
BENCH_CASES cases. Only loopback addresses are used; every loop is bounded in time.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
RESULTS = BASE / "bench" / "soak.json"
SAMPLE_EVERY = 5  # seconds between samples of the workers' memory
PAGE = os.sysconf("SC_PAGE_SIZE")

# kind: (weight, statuses a request of the kind may get)
KINDS = {
    "list": (5, {200}),
    "search": (3, {200}),
    "stats": (1, {200}),
    "feed": (1, {200}),
    "api-list": (3, {200}),
    "api-case": (3, {200, 404, 410}),  # a case the importer's cleanup or a test removed
    "case-page": (4, {200, 404, 410}),
    "export": (1, {200}),
}


# --- The workload --------------------------------------------------------------------------


class Workload:
    """Random URLs of each kind, drawn from the values of the published cases."""

    def __init__(self, seed):
        from django.db.models import Count, Max, Min, Q

        from cases.models import Case, Country, Keyword, Language, Outlet

        self.random = random.Random(seed)
        published = Q(cases__status="published")

        def top(model, key, n=200):
            counted = model.objects.annotate(n=Count("cases", filter=published))
            return list(counted.filter(n__gt=0).order_by("-n").values_list(key, flat=True)[:n])

        self.keywords = top(Keyword, "slug")
        self.countries = top(Country, "slug")
        self.languages = top(Language, "code")
        self.outlets = list(
            Outlet.objects.filter(appearances__case__status="published")
            .values_list("slug", flat=True)
            .distinct()[:200]
        )
        cases = Case.objects.published()
        span = cases.aggregate(first=Min("date"), last=Max("date"), top=Max("id"))
        self.first_day, self.last_day = span["first"], span["last"]
        self.years = list(range(self.first_day.year, self.last_day.year + 1))
        # Case pages and API cases: ids spread over the table, with their slugs.
        step = max(1, span["top"] // 5000)
        self.cases = list(
            cases.filter(id__in=range(1, span["top"] + 1, step)).values_list("id", "slug")
        )
        self.words = [
            title.split()[i].strip(".,:;\"'").lower()
            for title in cases.order_by("?").values_list("title", flat=True)[:300]
            for i in (0, -1)
        ]
        self.words = [word for word in self.words if len(word) > 3] or ["nato"]

    def some(self, values, most=2):
        return self.random.sample(values, min(len(values), self.random.randint(1, most)))

    def filters(self):
        """One to three filters of the contract, drawn at random."""
        params = []
        choices = [
            ("keyword", lambda: self.some(self.keywords)),
            ("country", lambda: self.some(self.countries)),
            ("language", lambda: self.some(self.languages, 1)),
            ("outlet", lambda: self.some(self.outlets, 1)),
            ("year", lambda: self.some(self.years)),
        ]
        for name, draw in self.random.sample(choices, self.random.randint(1, 3)):
            params += [(name, value) for value in draw()]
        return params

    def days(self, length):
        """(date_after, date_before) of a window of `length` days within the data."""
        import datetime

        span = (self.last_day - self.first_day).days
        start = self.first_day + datetime.timedelta(days=self.random.randint(0, max(span, 0)))
        return [
            ("date_after", start.isoformat()),
            ("date_before", (start + datetime.timedelta(days=length)).isoformat()),
        ]

    def url(self, kind):
        q = urllib.parse.urlencode
        pick = self.random.choice
        if kind == "list":
            return "/cases/?" + q(self.filters())
        if kind == "search":
            words = " ".join(self.some(self.words))
            return "/cases/?" + q([("q", words), *self.filters()[: self.random.randint(0, 1)]])
        if kind == "stats":
            return "/stats/?" + q(self.filters())
        if kind == "feed":
            return f"/cases/feed/{pick(['rss', 'atom'])}/?" + q(self.filters())
        if kind == "api-list":
            return "/api/v1/cases/?" + q([*self.filters(), ("page_size", pick([20, 50, 100]))])
        if kind == "api-case":
            return f"/api/v1/cases/{pick(self.cases)[0]}/"
        if kind == "case-page":
            pk, slug = pick(self.cases)
            return f"/cases/{pk}/{slug}/"
        if kind == "export":
            # A few days of one keyword: an export of hundreds of rows, not of the archive.
            params = [*self.days(self.random.randint(1, 7)), ("keyword", pick(self.keywords))]
            return f"/cases/export/?format={pick(['csv', 'ndjson'])}&" + q(params)
        raise ValueError(kind)

    def kind(self):
        kinds = list(KINDS)
        return self.random.choices(kinds, weights=[KINDS[k][0] for k in kinds])[0]


# --- The importer ----------------------------------------------------------------------------


def import_loop(env, count, deadline, done, stop):
    """Import a new generated archive file of `count` cases, again and again."""
    from bench.archive import write_archive

    with tempfile.TemporaryDirectory(prefix="soak-") as directory:
        seed = 10_000
        while time.monotonic() < deadline and not stop.is_set():
            path = Path(directory) / f"archive-{seed}.csv"
            write_archive(path, count=count, seed=seed)
            started = time.monotonic()
            result = subprocess.run(
                [
                    sys.executable,
                    str(BASE / "manage.py"),
                    "import_cases",
                    str(path),
                    "--status",
                    "published",
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            done.append(
                {
                    "seconds": time.monotonic() - started,
                    "ok": result.returncode == 0,
                    "error": result.stderr[-500:] if result.returncode else "",
                }
            )
            path.unlink()
            seed += 1


# --- Workers' memory -------------------------------------------------------------------------


def children(pid):
    """The ids of the processes whose parent is `pid` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid):
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except OSError:
        return None
    return pages * PAGE / 2**20


def sample_memory(master, memory):
    for pid in children(master):
        rss = rss_mb(pid)
        if rss is not None:
            memory[pid].append(rss)


# --- The run ---------------------------------------------------------------------------------


def soak(port, workload, minutes, concurrency, master, import_env, import_cases):
    from bench.run import get, summary

    deadline = time.monotonic() + minutes * 60
    lock = threading.Lock()
    times = defaultdict(list)
    statuses = Counter()
    errors = []
    imports = []
    memory = defaultdict(list)
    stop = threading.Event()

    def client(seed):
        draw = Workload.__new__(Workload)
        draw.__dict__.update(workload.__dict__)
        draw.random = random.Random(seed)
        while time.monotonic() < deadline:
            kind = draw.kind()
            path = draw.url(kind)
            try:
                status, _, took = get(port, path, timeout=120)
            except OSError as error:
                with lock:
                    errors.append({"kind": kind, "path": path, "error": str(error)})
                continue
            with lock:
                statuses[status] += 1
                if status == 200:
                    times[kind].append(took)
                if status >= 500 or status not in KINDS[kind][1]:
                    errors.append({"kind": kind, "path": path, "status": status})

    sample_memory(master, memory)
    threads = [threading.Thread(target=client, args=(n,)) for n in range(concurrency)]
    if import_cases:
        threads.append(
            threading.Thread(
                target=import_loop, args=(import_env, import_cases, deadline, imports, stop)
            )
        )
    started = time.monotonic()
    for thread in threads:
        thread.start()
    while time.monotonic() < deadline:
        time.sleep(min(SAMPLE_EVERY, max(0, deadline - time.monotonic())))
        sample_memory(master, memory)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    sample_memory(master, memory)

    everything = [seconds for kind_times in times.values() for seconds in kind_times]
    return {
        "minutes": minutes,
        "concurrency": concurrency,
        "seconds": round(elapsed, 1),
        "requests": sum(statuses.values()) + sum(1 for e in errors if "error" in e),
        "requests_per_second": round(sum(statuses.values()) / elapsed, 1),
        "statuses": dict(sorted(statuses.items())),
        "errors": len(errors),
        "server_errors": sum(1 for e in errors if e.get("status", 0) >= 500),
        "error_examples": errors[:10],
        "latency_ms": summary(everything),
        "latency_ms_by_kind": {kind: summary(times[kind]) for kind in KINDS},
        "imports": {
            "runs": len(imports),
            "failed": sum(1 for run in imports if not run["ok"]),
            "cases_each": import_cases,
            "median_seconds": (
                round(sorted(run["seconds"] for run in imports)[len(imports) // 2], 1)
                if imports
                else None
            ),
            "errors": [run["error"] for run in imports if not run["ok"]][:3],
        },
        "workers_rss_mb": {
            str(pid): {
                "start": round(samples[0], 1),
                "peak": round(max(samples), 1),
                "end": round(samples[-1], 1),
                "growth": round(samples[-1] - samples[0], 1),
            }
            for pid, samples in sorted(memory.items())
        },
    }


def remove_imported(before):
    """Delete the cases created after id `before` (the importer's): the bench keeps its N."""
    from cases.models import Case

    imported = Case.objects.filter(pk__gt=before)
    count = imported.count()
    while ids := list(imported.values_list("pk", flat=True)[:1000]):
        Case.objects.filter(pk__in=ids).delete()
    return count


def fmt(value):
    return "-" if value is None else f"{value:,.1f}"


def print_report(result, meta):
    print(
        f"Soak: {result['seconds']:.0f}s at concurrency {result['concurrency']} on "
        f"{meta['cases']:,} cases, {meta['workers']} gunicorn workers, {meta['cpus']} CPUs."
    )
    print(
        f"{result['requests']:,} requests ({result['requests_per_second']}/s), "
        f"{result['errors']} errors ({result['server_errors']} 5xx); statuses "
        f"{result['statuses']}."
    )
    print(f"{'kind':<11} {'n':>7} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9}")
    rows = [("all", result["latency_ms"]), *result["latency_ms_by_kind"].items()]
    for kind, latency in rows:
        print(
            f"{kind:<11} {latency['n']:>7,} {fmt(latency['p50']):>9} {fmt(latency['p95']):>9}"
            f" {fmt(latency['p99']):>9}"
        )
    imports = result["imports"]
    if imports["runs"]:
        print(
            f"Importer: {imports['runs']} imports of {imports['cases_each']} cases "
            f"({imports['failed']} failed), median {imports['median_seconds']}s each."
        )
    print("Worker RSS (MB): start -> peak -> end (growth)")
    for pid, rss in result["workers_rss_mb"].items():
        print(f"  {pid}: {rss['start']} -> {rss['peak']} -> {rss['end']} ({rss['growth']:+})")
    for example in result["error_examples"]:
        print(f"  error: {example}")


def main():
    sys.path.insert(0, str(BASE))
    from bench.run import (
        DATA,
        bench_database_url,
        chosen,
        ensure_cases,
        ensure_database,
        manage,
        row_patterns,
        server_env,
        start_gunicorn,
        stop,
    )
    from disinfo_db import gunicorn_conf

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 10)))
    parser.add_argument(
        "--concurrency", type=int, default=int(os.environ.get("SOAK_CONCURRENCY", 16))
    )
    parser.add_argument("--cases", type=int, default=int(os.environ.get("BENCH_CASES", 1e6)))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8765)) + 2)
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("BENCH_WORKERS", 0)) or gunicorn_conf.workers,
        help="gunicorn workers (default: as disinfo_db/gunicorn_conf.py, one per CPU)",
    )
    parser.add_argument(
        "--import-cases",
        type=int,
        default=int(os.environ.get("SOAK_IMPORT_CASES", 200)),
        help="Cases of each file the concurrent importer loads; 0: no importer.",
    )
    args = parser.parse_args()
    if not chosen(row_patterns(os.environ.get("BENCH_QUESTIONS")), "soak"):
        print("Soak skipped: BENCH_QUESTIONS does not name it.")
        return

    DATA.mkdir(parents=True, exist_ok=True)
    url = bench_database_url()
    ensure_database(url)
    env = server_env(url)
    os.environ.update(env)
    import django

    django.setup()
    from django.db.models import Max

    from cases.models import Case

    ensure_cases(args.cases, args.seed, env)
    manage("collectstatic", "--noinput", "-v0", env=env)
    workload = Workload(args.seed)
    before = Case.objects.aggregate(top=Max("id"))["top"] or 0
    server = None
    try:
        server = start_gunicorn(env, args.port, args.workers)
        print(
            f"… soaking for {args.minutes:g} minutes at concurrency {args.concurrency}",
            file=sys.stderr,
            flush=True,
        )
        result = soak(
            args.port,
            workload,
            args.minutes,
            args.concurrency,
            server.pid,
            env,
            args.import_cases,
        )
    finally:
        stop(server)
        removed = remove_imported(before)
    meta = {
        "cases": args.cases,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "imported_cases_removed": removed,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    RESULTS.write_text(json.dumps({"meta": meta, "result": result}, indent=2, default=str))
    print_report(result, meta)
    print(f"Results: {RESULTS}")
    if result["server_errors"]:
        raise SystemExit(f"{result['server_errors']} requests answered 5xx.")


if __name__ == "__main__":
    main()
