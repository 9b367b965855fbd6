"""Repeats on every gunicorn worker, and memory per worker, with and without CACHE_URL and
GUNICORN_PRELOAD.

    BENCH_DATABASE_URL=postgres://… python -m bench.workers [--cache-url redis://…] [--preload]

Serves the site as bench/run.py does (DJANGO_DEBUG=0, disinfo_db/gunicorn_conf.py, 2
workers) over an existing database, which it only reads. For each of a few fresh questions
(searches and filtered lists no earlier run asked: a random word picks them), it asks once,
then asks the same URL again, each time on a new connection, until every worker has
answered it REPEATS times. The access log's "pid" says which worker answered each request.
Without CACHE_URL, a worker's first repeat of a question another worker computed is
computed again; with it, every repeat is a shared-cache hit.

Memory: /proc/PID/smaps_rollup of each worker after warm-up and after the questions. USS
(Private_Clean + Private_Dirty) is what a worker costs alone; PSS shares the pages it shares
with the master and the other workers among them.
"""

import argparse
import json
import os
import random
import sys
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

import psutil

from bench import run, synthetic

PORT = 8771
REPEATS = 10  # repeats answered by each worker, per question
MAX_ASKS = 200  # per question, however the kernel spreads connections


def smaps(pid):
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])  # kB
    return {
        "rss_mb": round(fields["Rss"] / 1024, 1),
        "pss_mb": round(fields["Pss"] / 1024, 1),
        "uss_mb": round((fields["Private_Clean"] + fields["Private_Dirty"]) / 1024, 1),
        "shared_mb": round((fields["Shared_Clean"] + fields["Shared_Dirty"]) / 1024, 1),
    }


def memory(master):
    workers = sorted(child.pid for child in psutil.Process(master).children())
    return {"master": smaps(master), **{str(pid): smaps(pid) for pid in workers}}


def questions(seed):
    """Fresh URLs: word pairs, phrases, exclusions and filtered lists, chosen by `seed`."""
    rng = random.Random(seed)
    common = ["government", "evidence", "security", "military", "elections", "sanctions"]
    words = synthetic.VOCABULARY[2000:20000]
    qs = urllib.parse.urlencode
    phrase = f'"{rng.choice(common)} {rng.choice(common)}"'
    before = f"{rng.randint(2016, 2024)}-03-01"
    return [
        f"/cases/?{qs({'q': f'{rng.choice(common)} {rng.choice(words)}'})}",
        f"/cases/?{qs({'q': f'{rng.choice(common)} {rng.choice(common)}'})}",
        f"/cases/?{qs({'q': phrase})}",
        f"/cases/?{qs({'q': f'{rng.choice(common)} -{rng.choice(common)}'})}",
        f"/cases/?{qs({'q': rng.choice(words), 'date_after': f'{rng.randint(2016, 2024)}-01-01'})}",
        f"/api/v1/cases/?{qs({'q': f'{rng.choice(common)} {rng.choice(words)}'})}",
        f"/stats/?{qs({'q': rng.choice(common), 'date_before': before})}",
    ]


def access_records(log, since):
    records = []
    with open(log) as lines:
        lines.seek(since)
        for line in lines:
            if line.startswith("{"):
                records.append(json.loads(line))
    return records


def measure(url, cache_url, preload, seed, write=False):
    env = run.server_env(url)
    env.pop("CACHE_URL", None)
    if cache_url:
        env["CACHE_URL"] = cache_url
    env["GUNICORN_PRELOAD"] = "1" if preload else "0"
    env.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")  # plain http on the loopback
    env["DISINFO_RELEASE"] = f"bench-workers-{seed}"  # pages of no earlier run
    run.DATA.mkdir(parents=True, exist_ok=True)
    run.manage("collectstatic", "--noinput", "-v0", env=env)
    started = time.monotonic()
    server = run.start_gunicorn(env, PORT, workers=2)
    log = run.DATA / "gunicorn.log"
    try:
        # Both workers ready: each has answered.
        seen = set()
        deadline = time.monotonic() + 300
        while len(seen) < 2 and time.monotonic() < deadline:
            run.get(PORT, "/robots.txt")
            time.sleep(0.2)
            seen = {r["pid"] for r in access_records(log, 0) if r["path"] == "/robots.txt"}
        ready_seconds = time.monotonic() - started
        after_warm_up = memory(server.pid)

        firsts, repeats = [], defaultdict(list)
        first_repeat = defaultdict(list)
        for path in questions(seed):
            offset = log.stat().st_size
            status, _, seconds = run.get(PORT, path)
            assert status == 200, (status, path)
            firsts.append(seconds)
            times = []
            for _ in range(MAX_ASKS):
                status, _, seconds = run.get(PORT, path)
                assert status == 200, (status, path)
                times.append(seconds)
                if len(times) % 10 == 0:
                    time.sleep(0.05)  # the log lines are written after the answers
                    counts = _by_worker(log, offset, path, times)
                    if len(counts) >= 2 and all(len(v) > REPEATS for v in counts.values()):
                        break
            time.sleep(0.1)
            by_worker = _by_worker(log, offset, path, times)
            computed_by = next(iter(by_worker.items()))[0] if by_worker else None
            for pid, answered in by_worker.items():
                repeats[pid].extend(answered[: REPEATS + 1])
                if pid != computed_by and answered:
                    first_repeat[pid].append(answered[0])
        after_questions = memory(server.pid)
        after_write = None
        if write:
            # One case written (its title set to itself: the triggers log it all the same),
            # then each worker asked until it has caught its index up.
            touch_one_case(url)
            for path in questions(seed)[:2]:
                offset = log.stat().st_size
                for _ in range(MAX_ASKS):
                    run.get(PORT, path)
                    time.sleep(0.02)
                    if len(_by_worker(log, offset, path, [0] * MAX_ASKS)) >= 2:
                        break
            after_write = memory(server.pid)
    finally:
        run.stop(server)
    return {
        "cache_url": bool(cache_url),
        "preload": preload,
        "ready_seconds": round(ready_seconds, 1),
        "load_average": os.getloadavg(),
        "first": run.summary(firsts),
        "repeat_by_worker": {pid: run.summary(t) for pid, t in repeats.items()},
        "first_repeat_on_the_other_worker_ms": {
            pid: [round(t * 1000, 1) for t in ts] for pid, ts in first_repeat.items()
        },
        "memory_after_warm_up": after_warm_up,
        "memory_after_questions": after_questions,
        "memory_after_a_write": after_write,
    }


def touch_one_case(url):
    import psycopg2

    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_case SET title = title"
            " WHERE id = (SELECT min(id) FROM cases_case WHERE status = 'published')"
        )


def _by_worker(log, offset, path, client_times):
    """{pid: [seconds]} of this path's asks after the first, in order: sequential requests
    are logged in the order they were asked. The first ask's worker comes first."""
    parsed = urllib.parse.urlsplit(path)
    query = urllib.parse.unquote_plus(parsed.query)
    mine = [
        r
        for r in access_records(log, offset)
        if r["path"] == parsed.path and urllib.parse.unquote_plus(r["query"]) == query
    ]
    by_worker = {mine[0]["pid"]: []} if mine else {}
    for record, seconds in zip(mine[1:], client_times, strict=False):
        by_worker.setdefault(record["pid"], []).append(seconds)
    return by_worker


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache-url", default="")
    parser.add_argument("--preload", action="store_true")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--write",
        action="store_true",
        help="then write one case and measure memory again (a database you may write to)",
    )
    args = parser.parse_args()
    url = run.bench_database_url()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    result = measure(url, args.cache_url, args.preload, seed, args.write)
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
