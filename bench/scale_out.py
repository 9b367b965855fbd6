"""Requests per second of one web node, of one reading through the replica router, and of
two nodes taking turns, on the database of DATABASE_URL (docs/deployment.md).

    DATABASE_URL=... python bench/scale_out.py [--requests 2000] [--concurrency 8]
        [--replica-url URL]

Each node is `gunicorn -c disinfo_db/gunicorn_conf.py` (one worker per CPU) on its own
port. The client sends anonymous GETs of a fixed mix (case pages of random ids, list and
facet pages, API lists) from `concurrency` threads, to the nodes in turn, as a round-robin
load balancer does. Without --replica-url, the router's run reads from a "replica" that is
the primary itself: what it measures is the router's own cost (one ping a request).
The client runs on the same machine and takes CPU from the nodes: the figures compare the
set-ups with each other, on this machine only.
"""

import argparse
import itertools
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_node(env):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "disinfo_db.wsgi", "-c", "disinfo_db/gunicorn_conf.py"]
        + ["--bind", f"127.0.0.1:{port}"],
        cwd=BASE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/cases/", timeout=60).read()
            return process, url
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    process.kill()
    raise SystemExit("a node did not start")


def paths(count, max_id, seed=0):
    rng = random.Random(seed)
    mix = [
        lambda: f"/api/v1/cases/{rng.randint(1, max_id)}/",
        lambda: f"/cases/{rng.randint(1, max_id)}/",
        lambda: "/cases/",
        lambda: "/api/v1/cases/",
        lambda: "/api/v1/cases/facets/",
        lambda: f"/cases/?year={rng.randint(2015, 2024)}",
    ]
    return [rng.choice(mix)() for _ in range(count)]


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError):
        return 0


def measure(nodes, requests, concurrency, max_id):
    turns = itertools.cycle(nodes)
    # Warm every node on the same mix first: facet index, templates, kept pages.
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(get, [next(turns) + path for path in paths(requests // 4, max_id, 1)]))
    urls = [next(turns) + path for path in paths(requests, max_id, 2)]
    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        statuses = list(pool.map(get, urls))
    seconds = time.monotonic() - started
    errors = sum(1 for status in statuses if status >= 500 or status == 0)
    return requests / seconds, errors


def max_case_id(database_url):
    import psycopg2

    conn = psycopg2.connect(database_url)
    with conn.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 1) FROM cases_case")
        (max_id,) = cursor.fetchone()
    conn.close()
    return max_id


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--replica-url", default=None)
    parser.add_argument("--rounds", type=int, default=3, help="Set-ups taken in turn, N times.")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("Set DATABASE_URL (the embedded server is not reachable over TCP).")
    base_env = {**os.environ, "DJANGO_DEBUG": "1", "DISINFO_API_ANON_RATE": ""}
    base_env.pop("DATABASE_REPLICA_URLS", None)
    routed_env = {**base_env, "DATABASE_REPLICA_URLS": args.replica_url or database_url}
    max_id = max_case_id(database_url)
    runs = [
        ("one node", [base_env]),
        ("one node, reads through the router", [routed_env]),
        ("two nodes in turn", [base_env, base_env]),
    ]
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
    rates = {name: [] for name, _ in runs}
    errors = dict.fromkeys(rates, 0)
    # Round after round, so that a busy spell of the machine falls on every set-up alike.
    for _ in range(args.rounds):
        for name, envs in runs:
            started = [start_node(env) for env in envs]
            try:
                urls = [url for _, url in started]
                rate, failed = measure(urls, args.requests, args.concurrency, max_id)
            finally:
                for process, _ in started:
                    process.terminate()
                    process.wait(timeout=30)
            rates[name].append(rate)
            errors[name] += failed
    for name, measured in rates.items():
        low, middle, high = min(measured), statistics.median(measured), max(measured)
        print(
            f"{name:40} median {middle:5.0f} requests/s (from {low:.0f} to {high:.0f}),"
            f" {errors[name]} errors"
        )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
