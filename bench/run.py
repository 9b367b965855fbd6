"""make bench: the site under production settings against N cases, next to exact SQL and
Datasette.

    python bench/run.py [--cases N] [--datasette PATH] [--quick] [--questions PATTERNS]

1. Loads (or reuses) N synthetic cases (BENCH_CASES, default 1,000,000) into a database of
   its own, disinfo_bench, on the server of DATABASE_URL (or the embedded one).
2. Serves the site with DJANGO_DEBUG=0 and collected static files under gunicorn on
   127.0.0.1, each worker building its facet index before it takes requests.
3. For every question of a fixed mix it measures:
   - first asks: several different variants of the question, each asked once, so that no
     answer of ours is cached (the facet index is built; PostgreSQL's buffers are warm);
   - repeats of one variant, at concurrency 1 and at concurrency 8 (latency percentiles
     and throughput);
   - a repeat on every worker: a variant one worker has answered once (its first ask),
     asked again over new connections until every gunicorn worker has answered it
     EVERY_WORKER_REPEATS times (bench/wsgi.py names the worker in each answer);
   - the exact SQL answer computed directly against PostgreSQL (total, five facet counts
     and the first page, no index, no cache);
   - Datasette asked the same question over the same cases exported to SQLite (JSON array
     columns with _facet_array, FTS5 for _search).
   The admin's rows are asked signed in, as a superuser the bench makes in its database.
4. The mixed load: fresh variants of the public questions drawn from the data, at
   concurrency 8 for 30 s (requests/s, p50, p95, p99, errors).
5. Builds the bulk dumps (manage.py build_dumps, bench/dump_speed.py): cases/s per file.
6. Prints one table and writes bench/results.json.

BENCH_QUESTIONS (or --questions) runs a subset: comma-separated row keys or glob patterns
(`search-*,admin-*`); the keys are the rows' names in lower case, with hyphens
(`list-4-facets`), plus `mixed-load`, `import`, `dumps` and `soak` (bench/soak.py).

Only loopback addresses are used; every loop is bounded in requests and in time.
"""

import argparse
import fnmatch
import http.client
import json
import math
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
DATA = BASE / "bench" / "data"
RESULTS = BASE / "bench" / "results.json"
HOST = "127.0.0.1"

FIRST_VARIANTS = 20  # different variants asked once each
REPEATS = 60  # repeats of one variant at concurrency 1
CONCURRENT_REQUESTS = 400  # requests at concurrency 8 (per question, at most)
CONCURRENT_SECONDS = 15  # ... or this long, whichever comes first
REQUEST_TIMEOUT = 600
DATASETTE_BUDGET = 60  # seconds of further asks per question, after the first one
DATASETTE_LIMIT_MS = 60_000  # Datasette's own limit per SQL query (and per facet)
EVERY_WORKER_REPEATS = 10  # answers of the repeated variant asked of each worker
EVERY_WORKER_SECONDS = 60  # ... within this long (per question)
MIXED_CONCURRENCY = 8
MIXED_SECONDS = 30
ADMIN_USER = "bench-admin"  # the superuser the admin's rows sign in as (bench database only)
WORKER_HEADER = "X-Bench-Worker"  # bench/wsgi.py: the process id of the worker that answered


# --- Database and data -------------------------------------------------------------------


def bench_database_url():
    """BENCH_DATABASE_URL, or DATABASE_URL's server with the disinfo_bench database."""
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    if os.environ.get("DATABASE_URL"):
        parts = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
        return urllib.parse.urlunsplit(parts._replace(path="/disinfo_bench"))
    socket_dir = urllib.parse.quote(str(BASE / ".pgdata"), safe="")
    return f"postgres://postgres@{socket_dir}/disinfo_bench"


def connect(url, dbname=None):
    """A psycopg2 connection to the server of `url`: to its database, or to `dbname`."""
    import dj_database_url
    import psycopg2

    config = dj_database_url.parse(url)
    params = {
        "dbname": dbname or config["NAME"],
        "user": config["USER"] or None,
        "password": config["PASSWORD"] or None,
        "host": config["HOST"] or None,
        "port": config["PORT"] or None,
    }
    return psycopg2.connect(**{k: v for k, v in params.items() if v})


def database_name(url):
    import dj_database_url

    return dj_database_url.parse(url)["NAME"]


def ensure_database(url):
    conn = connect(url, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        name = database_name(url)
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def manage(*args, env, **kwargs):
    return subprocess.run(
        [sys.executable, str(BASE / "manage.py"), *args], env=env, check=True, **kwargs
    )


def generate(*args, env):
    return subprocess.run(
        [sys.executable, str(BASE / "bench" / "generate.py"), *args], env=env, check=True
    )


def ensure_cases(count, seed, env):
    """Load `count` synthetic cases unless exactly that many are there; returns seconds spent."""
    from bench import synthetic

    # A bench database made when the schema flagged synthetic cases keeps them.
    synthetic.adopt_flagged_cases()
    manage("migrate", "--noinput", "-v0", env=env)
    have = synthetic.synthetic_cases().count()
    if have == count:
        print(f"Reusing the {count:,} synthetic cases of the bench database.")
        return None
    if have:
        generate("--remove", env=env)
    started = time.monotonic()
    generate("--count", str(count), "--seed", str(seed), env=env)
    return time.monotonic() - started


def ensure_sqlite(count, env):
    """The SQLite copy for Datasette (database "bench"), made again when the count changed."""
    # "dump": the layout of /data/'s SQLite file; copies in the older layout are made again.
    path = DATA / f"sqlite-dump-{count}" / "bench.db"
    if path.exists():
        return path, None
    for old in DATA.glob("sqlite-*/bench.db"):
        old.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    subprocess.run(
        [sys.executable, str(BASE / "bench" / "export_sqlite.py"), str(path)], env=env, check=True
    )
    return path, time.monotonic() - started


# --- Servers ------------------------------------------------------------------------------


def server_env(url):
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": url,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain http on loopback: no redirect to https (docs/deployment.md, a trial).
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_SETTINGS_MODULE": "disinfo_db.settings",
        }
    )
    return env


def wait_until_up(port, path="/", seconds=300):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            status, _, _ = get(port, path, timeout=10)
            if status < 500:
                return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def start_gunicorn(env, port, workers):
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = open(DATA / "gunicorn.log", "w")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [
            str(gunicorn),
            # The site's application, naming its worker in each answer (bench/wsgi.py).
            "bench.wsgi",
            "--config",
            str(BASE / "disinfo_db" / "gunicorn_conf.py"),
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
        ],
        cwd=BASE,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    if not wait_until_up(port, "/robots.txt"):
        process.terminate()
        raise SystemExit("gunicorn did not come up; see bench/data/gunicorn.log")
    return process


def start_datasette(datasette, db_path, port):
    log = open(DATA / "datasette.log", "w")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [
            datasette,
            "serve",
            "-i",
            str(db_path),
            "-h",
            HOST,
            "-p",
            str(port),
            "--setting",
            "sql_time_limit_ms",
            str(DATASETTE_LIMIT_MS),
            "--setting",
            "facet_time_limit_ms",
            str(DATASETTE_LIMIT_MS),
            "--setting",
            "suggest_facets",
            "off",
            "--setting",
            "default_page_size",
            "20",
            "--setting",
            "max_returned_rows",
            "1000",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    if not wait_until_up(port, "/-/versions.json", seconds=600):
        process.terminate()
        raise SystemExit("datasette did not come up; see bench/data/datasette.log")
    return process


def stop(process):
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


# --- HTTP ---------------------------------------------------------------------------------


def fetch(port, path, method="GET", body=None, headers=None, timeout=REQUEST_TIMEOUT):
    """(status, body bytes, seconds, response headers) of one request over a fresh
    loopback connection."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Host": "localhost", **(headers or {})})
        response = conn.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - started, response.headers
    finally:
        conn.close()


def get(port, path, timeout=REQUEST_TIMEOUT, headers=None):
    """(status, body bytes, seconds) of one GET over a fresh loopback connection."""
    return fetch(port, path, headers=headers, timeout=timeout)[:3]


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    index = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[index]


def summary(seconds):
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
    }


def ask_each(port, paths, check=None, budget=None, headers=None):
    """Ask each path once, in order; with a budget (seconds), stop when it is spent."""
    times, statuses = [], []
    deadline = time.monotonic() + budget if budget else None
    for path in paths:
        if deadline and times and time.monotonic() > deadline:
            break
        status, body, seconds = get(port, path, headers=headers)
        statuses.append(status)
        if status == 200:
            times.append(seconds)
            if check:
                check(body)
    return times, statuses


def ask_concurrently(port, path, concurrency, requests, seconds, headers=None):
    """Ask `path` (or, when it is a function, the path it returns for each request) from
    `concurrency` clients, `requests` times in all or for `seconds`, whichever ends first."""
    times, errors = [], []
    lock = threading.Lock()
    remaining = [requests]
    deadline = time.monotonic() + seconds

    def worker():
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
                asked = path() if callable(path) else path
            try:
                status, _, took = get(port, asked, headers=headers)
            except OSError as error:
                errors.append(str(error))
                continue
            with lock:
                (times if status == 200 else errors).append(took if status == 200 else status)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return times, errors, (len(times) / elapsed if elapsed else 0)


def ask_on_every_worker(port, path, workers, per_worker, seconds, headers=None):
    """({worker pid: [seconds of each answer, in order]}, requests made): `path` asked again
    and again, each time over a new connection, until every one of `workers` (their
    process ids) has answered it `per_worker` times, or `seconds` have passed.

    Which worker takes a new connection is the kernel's choice; the X-Bench-Worker header
    of each answer (bench/wsgi.py) says which one did. Answers other than 200 are left out.
    """
    answers = {str(pid): [] for pid in workers}
    deadline = time.monotonic() + seconds
    asked = 0
    while time.monotonic() < deadline and asked < 20 * per_worker * max(1, len(workers)):
        if all(len(times) >= per_worker for times in answers.values()):
            break
        status, _, took, response_headers = fetch(port, path, headers=headers)
        asked += 1
        worker = response_headers.get(WORKER_HEADER)
        if status == 200 and worker in answers and len(answers[worker]) < per_worker:
            answers[worker].append(took)
    return answers, asked


def every_worker_summary(answers):
    """Per worker: summary() of its answers, its first answer and its slowest (ms)."""
    return {
        worker: summary(times)
        | {
            "first": times[0] * 1000 if times else None,
            "max": max(times) * 1000 if times else None,
        }
        for worker, times in answers.items()
    }


# --- Questions ----------------------------------------------------------------------------


@dataclass
class Question:
    name: str
    kind: str  # list | search | page | api | export | stats
    first: list  # paths of distinct variants, each asked once
    repeat: str  # the path asked again and again
    raw: object = None  # () -> seconds of the exact SQL answer, or None
    datasette: str = None  # the same question of Datasette, or None
    datasette_first: list = field(default_factory=list)
    note: str = ""
    concurrent: bool = True
    rows: int = None  # cases an export returns
    headers: dict = None  # sent with each request (the admin's session cookie)
    draw: object = None  # (random.Random) -> (our path, Datasette's or None): a fresh variant
    every_worker: bool = True  # measure the repeat on every worker

    @property
    def key(self):
        return question_key(self.name)


def question_key(name):
    """A row's key for BENCH_QUESTIONS: "list, 4 facets" -> "list-4-facets"."""
    from django.utils.text import slugify

    return slugify(name)


def drawn(name, kind, draw, variants, raw=None, repeat=None, **fields):
    """A question whose variants are drawn from the data by draw(rng), which returns (our
    path, Datasette's path or None): the first draw is the repeated variant (unless
    `repeat` gives it), the next `variants` different ones the first asks. `raw`, given the
    repeated path, returns the exact SQL's timer. The mixed load draws further variants
    with `draw`."""
    rng = random.Random(name)
    picks = dict([repeat]) if repeat else {}
    for _ in range(50 * (variants + 1)):
        if len(picks) > variants:
            break
        ours, theirs = draw(rng)
        picks.setdefault(ours, theirs)
    (repeat, ds_repeat), *rest = picks.items()
    return Question(
        name,
        kind,
        first=[ours for ours, _ in rest],
        repeat=repeat,
        raw=raw(repeat) if raw else None,
        datasette=ds_repeat,
        datasette_first=[theirs for _, theirs in rest if theirs],
        draw=draw,
        **fields,
    )


def query_of(path):
    return urllib.parse.urlsplit(path).query


def build_questions(quick):
    """The request mix, with variants chosen from the data."""
    from django.db.models import Count, Q

    from bench import synthetic
    from cases.models import Case, Country, Keyword, Language
    from cases.readmodels.keyset import Cursor

    published = Case.objects.published()
    n_published = published.count()
    # Every value in use, the most used first.
    ranked = {
        model: list(
            model.objects.annotate(n=Count("cases", filter=Q(cases__status="published")))
            .filter(n__gt=0)
            .order_by("-n", key)
            .values_list(key, flat=True)
        )
        for model, key in ((Keyword, "slug"), (Country, "slug"), (Language, "code"))
    }
    top = {model: values[:40] for model, values in ranked.items()}
    kws, cos, las = top[Keyword], top[Country], top[Language]
    variants = 5 if quick else FIRST_VARIANTS

    def qs(**params):
        return urllib.parse.urlencode(params, doseq=True)

    facets = (
        "_facet_array=keywords&_facet_array=countries&_facet_array=languages"
        "&_facet_array=outlets&_facet=year"
    )

    def ds(params="", with_facets=True, sort="_sort_desc=date", size=20):
        parts = [f"_size={size}", sort, facets if with_facets else "", params]
        return "/bench/cases.json?" + "&".join(p for p in parts if p)

    def ds_filters(keyword=None, country=None, language=None):
        parts = []
        if keyword:
            parts.append(f"keywords__arraycontains={keyword}")
        if country:
            parts.append(f"countries__arraycontains={country}")
        if language:
            parts.append(f"languages__arraycontains={language}")
        return "&".join(parts)

    questions = []

    one = [(kws[i % len(kws)],) for i in range(variants + 1)]
    two = [(kws[i % len(kws)], cos[(i * 7) % min(len(cos), 12)]) for i in range(variants + 1)]
    three = [
        (kws[i % len(kws)], cos[(i * 7) % min(len(cos), 12)], las[i % 3])
        for i in range(variants + 1)
    ]
    questions.append(
        Question(
            "list, unfiltered",
            "list",
            first=["/cases/"] + [f"/cases/?{qs(ordering=o)}" for o in ("date", "-updated_at")],
            repeat="/cases/",
            raw=raw_list(""),
            datasette=ds(),
        )
    )
    for label, combos in (("1 facet", one), ("2 facets", two), ("3 facets", three)):
        names = ("keyword", "country", "language")

        def path(combo, names=names):
            return "/cases/?" + qs(**dict(zip(names, combo, strict=False)))

        def ds_path(combo, names=names):
            return ds(ds_filters(**dict(zip(names, combo, strict=False))))

        questions.append(
            Question(
                f"list, {label}",
                "list",
                first=[path(c) for c in combos[1:]],
                repeat=path(combos[0]),
                raw=raw_list(path(combos[0]).split("?", 1)[1]),
                datasette=ds_path(combos[0]),
                datasette_first=[ds_path(c) for c in combos[1:]],
            )
        )

    common = [synthetic.COMMON_TERM, "NATO", "Kremlin", "Europe", "evidence", "government"]
    rare = [synthetic.RARE_TERM] + synthetic.VOCABULARY[6000 : 6000 + variants]
    very_rare = [synthetic.VERY_RARE_TERM, "uranium", "Manghystau"] + synthetic.VOCABULARY[
        -variants:
    ]
    for label, terms in (("common", common), ("rare", rare), ("very rare", very_rare)):
        matches = published.search(terms[0]).count() if label != "common" else None
        questions.append(
            Question(
                f"search, {label} term",
                "search",
                first=[f"/cases/?{qs(q=t)}" for t in terms[1 : variants + 1]],
                repeat=f"/cases/?{qs(q=terms[0])}",
                raw=raw_list(qs(q=terms[0])),
                datasette=ds(f"_search={terms[0]}", sort=""),
                datasette_first=[ds(f"_search={t}", sort="") for t in terms[1 : variants + 1]],
                note=f"“{terms[0]}”" + (f": {matches:,} cases" if matches is not None else ""),
            )
        )
    mixed = [(rare[i % len(rare)], kws[i % len(kws)]) for i in range(variants + 1)]
    questions.append(
        Question(
            "search + facets",
            "search",
            first=[f"/cases/?{qs(q=t, keyword=k)}" for t, k in mixed[1:]]
            + [f"/cases/?{qs(q=common[0], country=cos[i])}" for i in range(3)],
            repeat=f"/cases/?{qs(q=mixed[0][0], keyword=mixed[0][1])}",
            raw=raw_list(qs(q=mixed[0][0], keyword=mixed[0][1])),
            datasette=ds(f"_search={mixed[0][0]}&" + ds_filters(keyword=mixed[0][1]), sort=""),
            datasette_first=[
                ds(f"_search={t}&" + ds_filters(keyword=k), sort="") for t, k in mixed[1:]
            ],
        )
    )

    # Deep pages: cursors pointing half-way down the list and further.
    order = published.order_by("-date", "-id").values_list("date", "id")
    deep_keys = [order[int(n_published * (0.3 + 0.6 * i / variants))] for i in range(variants + 1)]

    def deep(key):
        return "/cases/?" + qs(cursor=Cursor("-date", "next", key).encode())

    def ds_deep(key):
        date, pk = key
        return ds(with_facets=False) + "&_next=" + urllib.parse.quote(f"{date.isoformat()},{pk}")

    questions.append(
        Question(
            "list, deep page",
            "list",
            first=[deep(k) for k in deep_keys[1:]],
            repeat=deep(deep_keys[0]),
            raw=raw_deep_page(deep_keys[0]),
            datasette=ds_deep(deep_keys[0]),
            datasette_first=[ds_deep(k) for k in deep_keys[1:]],
            note="a cursor half-way down the list and deeper",
        )
    )
    pool = case_pool(published)
    sample = [(pk, slug) for pk, slug, _ in pool[: variants + 1]]

    def case_page(rng):
        pk, slug, _ = rng.choice(pool)
        # Datasette's own page for one row: HTML for HTML.
        return f"/cases/{pk}/{slug}/", f"/bench/cases/{pk}"

    questions.append(
        drawn(
            "case page",
            "page",
            case_page,
            variants,
            raw=lambda path: raw_case_page(int(path.split("/")[2])),
        )
    )
    questions.append(
        Question(
            "API case",
            "api",
            first=[f"/api/v1/cases/{pk}/" for pk, _ in sample[1:]],
            repeat=f"/api/v1/cases/{sample[0][0]}/",
            raw=raw_case_page(sample[0][0]),
            # ... and its JSON for JSON.
            datasette=f"/bench/cases/{sample[0][0]}.json",
            datasette_first=[f"/bench/cases/{pk}.json" for pk, _ in sample[1:]],
        )
    )
    # Claim matching: each variant a case's title reworded, with words of its summary.
    from bench.match_quality import details, reword

    rng = random.Random(1)
    claims = [
        " ".join([reword(title), *details(rng, summary)])
        for title, summary in published.filter(id__in=[pk for pk, _ in sample]).values_list(
            "title", "summary"
        )
    ]
    questions.append(
        Question(
            "claim match (API)",
            "api",
            first=[f"/api/v1/match/?{qs(text=claim)}" for claim in claims[1:]],
            repeat=f"/api/v1/match/?{qs(text=claims[0])}",
            note="a case's title reworded, with four words of its summary",
        )
    )
    questions.append(
        Question(
            "similar cases (API)",
            "api",
            first=[f"/api/v1/cases/{pk}/similar/" for pk, _ in sample[1:]],
            repeat=f"/api/v1/cases/{sample[0][0]}/similar/",
        )
    )
    # The API list, unfiltered: page sizes make the variants (the same on both sides).
    sizes = range(21, 21 + variants)
    questions.append(
        Question(
            "API list",
            "api",
            first=[f"/api/v1/cases/?{qs(page_size=n)}" for n in sizes],
            repeat="/api/v1/cases/",
            raw=raw_api_list(""),
            datasette=ds(with_facets=False),
            datasette_first=[ds(with_facets=False, size=n) for n in sizes],
        )
    )
    questions.append(
        Question(
            "API list, 1 facet",
            "api",
            first=[f"/api/v1/cases/?{qs(keyword=k)}" for (k,) in one[1:]],
            repeat=f"/api/v1/cases/?{qs(keyword=one[0][0])}",
            raw=raw_api_list(qs(keyword=one[0][0])),
            datasette=ds(ds_filters(keyword=one[0][0]), with_facets=False),
            datasette_first=[ds(ds_filters(keyword=k), with_facets=False) for (k,) in one[1:]],
        )
    )
    questions.append(
        Question(
            "facets endpoint",
            "api",
            first=[f"/api/v1/cases/facets/?{qs(keyword=k)}" for (k,) in one[1:]],
            repeat="/api/v1/cases/facets/",
            raw=raw_list(""),
            datasette=ds(),
        )
    )
    # An export of about 100,000 cases: the year closest to that.
    years = published.exclude(date=None).values_list("date__year").annotate(n=Count("id"))
    year, rows = min(years, key=lambda row: abs(row[1] - 100_000))
    for export_format in ("csv", "json", "ndjson"):
        questions.append(
            Question(
                f"export, {export_format.upper()}",
                "export",
                first=[],
                repeat=f"/cases/export/?{qs(format=export_format, year=year)}",
                raw=raw_export(year),
                datasette=f"/bench/cases.csv?_stream=on&_size=max&year={year}"
                if export_format == "csv"
                else None,
                note=f"{rows:,} cases ({year})",
                concurrent=False,
                rows=rows,
            )
        )
    questions.append(
        Question("statistics page", "stats", first=[], repeat="/stats/", concurrent=False)
    )
    questions.append(suggest_question(kws, cos, las, variants))
    questions += drawn_questions(published, ranked, pool, variants, ds, ds_filters)
    return questions, n_published


def suggest_question(kws, cos, las, variants):
    """The type-ahead (/cases/suggest/): each first ask a facet, a prefix of 1 to 4 letters
    of one of its names and 0 to 3 filters from the second half of the top values, which
    the list rows leave alone, so that nothing is counted yet; the repeat, a one-letter
    outlet prefix under a keyword."""
    from cases.models import Country, Keyword, Language, Outlet

    names = {
        field: list(model.objects.order_by("id").values_list("name", flat=True))
        for field, model in (
            ("keyword", Keyword),
            ("country", Country),
            ("language", Language),
            ("outlet", Outlet),
        )
    }
    first = []
    for i in range(max(variants, 8)):
        field = ("keyword", "country", "language", "outlet")[i % 4]
        name = names[field][(i * 37 + i // 4 * 11) % len(names[field])]
        filters = [
            ("keyword", kws[(len(kws) // 2 + 1 + i) % len(kws)]),
            ("country", cos[(len(cos) // 2 + i) % len(cos)]),
            ("language", las[min(3, len(las) - 1)]),
        ]
        params = [("field", field), ("prefix", name[: 1 + (i // 4) % 4].lower())]
        params += filters[: (i + i // 4) % 4]
        first.append("/cases/suggest/?" + urllib.parse.urlencode(params))
    repeat = "/cases/suggest/?" + urllib.parse.urlencode(
        {"field": "outlet", "prefix": "s", "keyword": kws[len(kws) // 2 - 1]}
    )
    return Question("type-ahead suggestions", "api", first=first, repeat=repeat)


def case_pool(published, size=3000):
    """(id, slug, title) of published cases spread over the table, in a random order:
    case pages, change forms, and titles to take phrases from."""
    from django.db.models import Max, Min

    span = published.aggregate(lo=Min("id"), hi=Max("id"))
    if span["lo"] is None:
        return []
    rng = random.Random(2)
    ids = rng.sample(range(span["lo"], span["hi"] + 1), min(size, span["hi"] - span["lo"] + 1))
    pool = list(published.filter(id__in=ids).order_by("id").values_list("id", "slug", "title"))
    rng.shuffle(pool)
    return pool


def drawn_questions(published, ranked, pool, variants, ds, ds_filters):
    """The questions whose variants are drawn from the data as they are asked: the list
    with rarer and more filters, searches with the websearch syntax, statistics, a feed,
    the API, and the admin (signed in). Each has a Datasette equivalent where Datasette
    has one, and its exact SQL. `pool`: case_pool()."""
    import datetime

    from django.db import connection
    from django.db.models import Count, Max, Min

    from bench import synthetic
    from cases.models import Case, Country, Keyword, Language, Outlet
    from cases.search import SEARCH_CONFIG, prefix_query

    def qs(*pairs, **params):
        return urllib.parse.urlencode([*pairs, *params.items()])

    keywords, countries = ranked[Keyword], ranked[Country]
    common_keywords, languages = keywords[:100], ranked[Language][:3]
    # The rarest quarter of the keywords in use; countries from about the 10th to the 40th.
    tail_keywords = keywords[len(keywords) * 3 // 4 :] or keywords
    mid_countries = countries[len(countries) // 10 : len(countries) // 3] or countries
    span = published.aggregate(first=Min("date"), last=Max("date"))
    years = list(range(span["first"].year, span["last"].year + 1))

    def window(rng, shortest, longest):
        length = rng.randint(shortest, longest)
        days = max(0, (span["last"] - span["first"]).days - length)
        start = span["first"] + datetime.timedelta(days=rng.randint(0, days))
        return start.isoformat(), (start + datetime.timedelta(days=length)).isoformat()

    # Search words: the generator's vocabulary from its first content word on (Zipf ranks
    # ~60 to ~1,500: in about 40% down to 2% of the cases) and its topic terms, less what
    # the search configuration drops as a stop word.
    start = synthetic.VOCABULARY.index("claim")
    candidates = [w for w in synthetic.VOCABULARY[start : start + 1500] if w.isalpha()]
    candidates += list(synthetic.TOPIC_TERMS)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT w FROM unnest(%s::text[]) w WHERE numnode(plainto_tsquery(%s, w)) > 0",
            [candidates, SEARCH_CONFIG],
        )
        kept = {row[0] for row in cursor.fetchall()}
    words = [w for w in candidates if w in kept]
    common_words = [t for t, share in synthetic.TOPIC_TERMS.items() if share >= 0.02]
    common_words += words[:40]
    # Phrases: two words of a title.
    phrases = []
    for _, _, title in pool:
        title_words = re.findall(r"[^\W\d_]+", title)
        phrases += [" ".join(title_words[i : i + 2]) for i in range(len(title_words) - 1)]
    phrases = [p for p in phrases if all(len(w) > 3 for w in p.split())] or phrases

    def search(params, sort=""):
        return ds(qs(*params), sort=sort)

    def list_params(params):
        return f"/cases/?{qs(*params.items())}"

    # Each draw returns (our path, Datasette's path); the exact SQL is timed on the
    # repeated variant's query.
    def tail_keyword_country(rng):
        k, c = rng.choice(tail_keywords), rng.choice(mid_countries)
        return list_params({"keyword": k, "country": c}), ds(ds_filters(keyword=k, country=c))

    def four_facets(rng):
        f = {
            "keyword": rng.choice(keywords[:60]),
            "country": rng.choice(countries[:20]),
            "language": rng.choice(languages),
        }
        year = rng.choice(years)
        return list_params(f | {"year": year}), ds(ds_filters(**f) + f"&year={year}")

    def three_keywords(rng):
        chosen = rng.sample(common_keywords, 3)
        # Datasette's filters AND; its `_where` says OR (slugs need no escaping).
        where = ", ".join(f"'{k}'" for k in chosen)
        where = f"EXISTS (SELECT 1 FROM json_each(keywords) WHERE value IN ({where}))"
        return "/cases/?" + qs(*[("keyword", k) for k in chosen]), ds(qs(_where=where))

    def window_keyword(rng):
        k, (after, before) = rng.choice(common_keywords), window(rng, 30, 365)
        return (
            list_params({"keyword": k, "date_after": after, "date_before": before}),
            ds(ds_filters(keyword=k) + "&" + qs(date__gte=after, date__lte=before)),
        )

    def two_words(rng):
        terms = " ".join(rng.sample(words, 2))
        return list_params({"q": terms}), search([("_search", terms)])

    def phrase(rng):
        quoted = f'"{rng.choice(phrases)}"'
        return list_params({"q": quoted}), search([("_search", quoted), ("_searchmode", "raw")])

    def word_not_word(rng):
        w, x = rng.sample(words, 2)
        return (
            list_params({"q": f"{w} -{x}"}),
            search([("_search", f"{w} NOT {x}"), ("_searchmode", "raw")]),
        )

    def search_window(rng):
        w, (after, before) = rng.choice(words), window(rng, 180, 1095)
        return (
            list_params({"q": w, "date_after": after, "date_before": before, "ordering": "-date"}),
            search(
                [("_search", w), ("date__gte", after), ("date__lte", before)],
                sort="_sort_desc=date",
            ),
        )

    def stats_two(rng):
        k, c = rng.choice(common_keywords), rng.choice(countries[:30])
        return f"/stats/?{qs(keyword=k, country=c)}", ds(ds_filters(keyword=k, country=c))

    def atom(rng):
        k, c = rng.choice(common_keywords), rng.choice(countries[:30])
        return (
            f"/cases/feed/atom/?{qs(keyword=k, country=c)}",
            ds(
                ds_filters(keyword=k, country=c),
                with_facets=False,
                sort="_sort_desc=published_at",
                size=50,
            ),
        )

    def api_oldest(rng):
        k = rng.choice(common_keywords)
        return (
            f"/api/v1/cases/?{qs(keyword=k, ordering='date')}",
            ds(ds_filters(keyword=k), with_facets=False, sort="_sort=date"),
        )

    def api_facets_search(rng):
        w = rng.choice(words)
        return f"/api/v1/cases/facets/?{qs(q=w)}", search([("_search", w)])

    def listed(path):
        return raw_list(query_of(path))

    rows = [
        ("list, tail keyword + country", "list", tail_keyword_country, listed),
        ("list, 4 facets", "list", four_facets, listed),
        ("list, OR of 3 keywords", "list", three_keywords, listed),
        ("list, date window + keyword", "list", window_keyword, listed),
        ("search, two words", "search", two_words, listed),
        ("search, quoted phrase", "search", phrase, listed),
        ("search, word -word", "search", word_not_word, listed),
        ("search + date window, by date", "search", search_window, listed),
        ("stats, 2 filters", "stats", stats_two, lambda path: raw_stats(query_of(path))),
        ("Atom feed, filtered", "feed", atom, lambda path: raw_feed(query_of(path))),
        (
            "API list, filtered, oldest first",
            "api",
            api_oldest,
            lambda path: raw_api_list(query_of(path)),
        ),
        ("API facets with a search", "api", api_facets_search, listed),
    ]
    questions = [drawn(name, kind, draw, variants, raw=raw) for name, kind, draw, raw in rows]

    # The admin, signed in (main() sets the questions' session cookie). Its pages are not
    # kept (a signed-in visitor's never are): each variant is another page, filter, sort or
    # search. Datasette's table and row pages are its nearest equivalent.
    language_ids = list(Language.objects.filter(code__in=languages).values_list("id", flat=True))
    taxonomy_words = {
        Keyword: sorted({w for k in synthetic.KEYWORD_NAMES for w in k.lower().split()}),
        Outlet: sorted({w for o in synthetic.OUTLET_NAMES for w in o.lower().split()}),
    }

    # The first 40 pages of a hundred cases.
    case_pages = min(40, max(1, math.ceil(Case.objects.count() / 100)))

    def admin_cases(rng):
        param = rng.choice(
            [
                ("p", rng.randint(1, case_pages)),
                ("date__year", rng.choice(years)),
                ("languages__id__exact", rng.choice(language_ids)),
                ("status__exact", rng.choice(["published", "draft"])),
                ("o", rng.choice(["2", "-2", "5", "-5", "1"])),
            ]
        )
        return f"/admin/cases/case/?{qs(param)}", None

    def admin_search(rng):
        w = rng.choice(common_words)
        return f"/admin/cases/case/?{qs(q=w)}", f"/bench/cases?{qs(_search=w, _size=100)}"

    def admin_taxonomy(model):
        pages = max(1, math.ceil(model.objects.count() / 100))

        def draw(rng):
            param = rng.choice(
                [
                    ("p", rng.randint(1, pages)),
                    ("q", rng.choice(taxonomy_words[model])),
                    ("o", rng.choice(["-1", "2", "-2", "4", "-4"])),  # 4: the case count
                ]
            )
            return f"/admin/cases/{model._meta.model_name}/?{qs(param)}", None

        return draw

    def admin_change(rng):
        pk, _, _ = rng.choice(pool)
        return f"/admin/cases/case/{pk}/change/", f"/bench/cases/{pk}"

    def taxonomy_rows(model, relation):
        counted = model.objects.annotate(case_count=Count(relation)).order_by("name")
        return lambda path: raw_rows(counted)

    cases_by_date = Case.objects.select_related("issue").order_by("-date", "-id")
    common = synthetic.COMMON_TERM
    admin = [
        drawn(
            "admin, case list",
            "admin",
            admin_cases,
            variants,
            repeat=("/admin/cases/case/", "/bench/cases?_size=100&_sort_desc=date"),
            raw=lambda path: raw_rows(cases_by_date),
        ),
        drawn(
            "admin, common-word search",
            "admin",
            admin_search,
            variants,
            repeat=(
                f"/admin/cases/case/?{qs(q=common)}",
                f"/bench/cases?{qs(_search=common, _size=100)}",
            ),
            raw=lambda path: raw_rows(cases_by_date.filter(search_vector=prefix_query(common))),
        ),
        drawn(
            "admin, keyword list",
            "admin",
            admin_taxonomy(Keyword),
            variants,
            repeat=("/admin/cases/keyword/", "/bench/keywords?_size=100"),
            raw=taxonomy_rows(Keyword, "cases"),
        ),
        drawn(
            "admin, outlet list",
            "admin",
            admin_taxonomy(Outlet),
            variants,
            repeat=("/admin/cases/outlet/", "/bench/outlets?_size=100"),
            raw=taxonomy_rows(Outlet, "appearances"),
        ),
        drawn(
            "admin, change form",
            "admin",
            admin_change,
            variants,
            raw=lambda path: raw_case_page(int(path.split("/")[4])),
        ),
    ]
    for question in admin:
        question.concurrent = False
        question.every_worker = False
    return questions + admin


# Exact answers straight from PostgreSQL, in this process: no index, no cache.


def _timed(function, runs=3, budget=30):
    times = []
    deadline = time.monotonic() + budget
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
        if time.monotonic() > deadline:
            break
    return statistics.median(times)


def _bound_filter(query):
    from django.http import QueryDict

    from cases.filters import CaseFilter
    from cases.models import Case

    bound = CaseFilter(QueryDict(query), queryset=Case.objects.published())
    assert bound.is_valid(), bound.errors
    return bound


def raw_list(query):
    def run():
        from cases.facets import exact_facet_counts
        from cases.readmodels.keyset import paginate

        bound = _bound_filter(query)
        exact_facet_counts(bound)
        list(paginate(bound.qs, bound.active_ordering, None, 20).object_list)

    return lambda: _timed(run)


def raw_deep_page(key):
    def run():
        from cases.facets import exact_facet_counts
        from cases.readmodels.keyset import Cursor, paginate

        bound = _bound_filter("")
        exact_facet_counts(bound)
        list(paginate(bound.qs, "-date", Cursor("-date", "next", key), 20).object_list)

    return lambda: _timed(run)


def raw_case_page(pk):
    def run():
        from cases.models import Case

        case = Case.objects.published().with_related_data().get(pk=pk)
        list(case.related.all())

    return lambda: _timed(run, runs=5)


def raw_stats(query):
    def run():
        from cases.site.stats import exact_case_statistics

        exact_case_statistics(_bound_filter(query).qs)

    return lambda: _timed(run)


def raw_feed(query):
    def run():
        from cases.site.feeds import FEED_LENGTH

        bound = _bound_filter(query)
        list(bound.qs.with_related_data().order_by("-published_at", "-id")[:FEED_LENGTH])

    return lambda: _timed(run)


def raw_rows(queryset, page=100):
    """The admin's lists: the count and the first page of `queryset`."""

    def run():
        queryset.count()
        list(queryset[:page])

    return lambda: _timed(run)


def raw_api_list(query):
    def run():
        bound = _bound_filter(query)
        bound.qs.count()
        list(bound.qs.with_related_data()[:20])

    return lambda: _timed(run)


def raw_export(year):
    def run():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.id, c.title, c.summary, c.disproof, c.date FROM cases_case c"
                " WHERE c.status = 'published' AND c.date >= %s AND c.date < %s"
                " ORDER BY c.date DESC, c.id DESC",
                [f"{year}-01-01", f"{year + 1}-01-01"],
            )
            while cursor.fetchmany(5000):
                pass

    return lambda: _timed(run, runs=2)


# What reading one case by its id touches: these tables, their indexes that start with the
# case's id, those of the link tables (index-only reads), and the case table's TOAST index.
CASE_TABLES = (
    "cases_case",
    "cases_appearance",
    "cases_case_related",
    "cases_correctionnote",
    "cases_keyword",
    "cases_country",
    "cases_language",
    "cases_outlet",
    "cases_issue",
)
LINK_TABLES = ("cases_case_keywords", "cases_case_countries", "cases_case_languages")
PREWARM_SQL = """
SELECT coalesce(sum(pg_prewarm(c.oid)), 0) * 8 / 1024 FROM pg_class c
WHERE c.relname = ANY(%(tables)s)
   OR c.oid IN (
        SELECT i.indexrelid FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid::regclass::text = ANY(%(tables)s || %(links)s)
          AND a.attname IN ('id', 'case_id', 'from_case_id'))
   OR c.oid IN (
        SELECT indexrelid FROM pg_index WHERE indrelid = (
            SELECT reltoastrelid FROM pg_class WHERE relname = 'cases_case'))
"""


# The case texts' TOAST (6 GB at a million cases): read once into the OS page cache, as the
# SQLite file is for Datasette; it does not fit in shared buffers.
TOAST_READ_SQL = """
SELECT coalesce(sum(pg_prewarm(reltoastrelid, 'read')), 0) * 8 / 1024 FROM pg_class
WHERE relname = 'cases_case' AND reltoastrelid <> 0
"""


def warm_postgresql():
    """Warm PostgreSQL's buffers before our questions, as a server in use would have them.

    pg_prewarm loads what reading a case touches into shared buffers, and reads the case
    texts' TOAST once into the OS page cache, as warm_sqlite() does for Datasette's file.
    Returns what was done.
    """
    from django.db import connection

    done = {}
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            params = {"tables": list(CASE_TABLES), "links": list(LINK_TABLES)}
            cursor.execute(PREWARM_SQL, params)
            done["postgresql_prewarmed_mb"] = int(cursor.fetchone()[0])
            cursor.execute(TOAST_READ_SQL)
            done["postgresql_toast_read_mb"] = int(cursor.fetchone()[0])
            cursor.execute(
                "SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'"
            )
            done["shared_buffers_mb"] = int(cursor.fetchone()[0])
    except Exception as error:  # noqa: BLE001 (an external server may lack pg_prewarm)
        print(f"PostgreSQL's buffers not prewarmed: {error}".strip())
    done["seconds"] = round(time.monotonic() - started, 1)
    return done


def warm_sqlite(sqlite_path):
    """Read the SQLite file once into the OS page cache before Datasette's questions:
    SQLite has no cache of its own across connections. Returns what was done."""
    started = time.monotonic()
    with open(sqlite_path, "rb") as db:
        while db.read(8 * 2**20):
            pass
    return {
        "sqlite_read_mb": sqlite_path.stat().st_size // 2**20,
        "sqlite_seconds": round(time.monotonic() - started, 1),
    }


def measure_index():
    """Build time and size of the facet index, and its patch time for one edited case."""
    import resource

    from cases import facets
    from cases.facets.index import FacetIndex, current_index
    from cases.models import Case

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    index = FacetIndex.build()
    build = time.perf_counter() - started
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    bitmaps = [index.published, index.sample, *index.issues.values(), *index.days.values()]
    bitmaps += [*index.months.values()]
    for values in index.values.values():
        bitmaps += values.values()
    size = sum(len(b.serialize()) for b in bitmaps) / 2**20
    # One edit, logged as a change, patched in.
    case = Case.objects.published().order_by("-id").first()
    facets.reset()
    facets.warm_up()
    Case.objects.filter(pk=case.pk).update(date=case.date)
    started = time.perf_counter()
    current_index()
    patch = time.perf_counter() - started
    return {
        "build_seconds": round(build, 2),
        "bitmaps": len(bitmaps),
        "serialized_mb": round(size, 1),
        "rss_growth_mb": round(rss, 1),
        "patch_one_case_ms": round(patch * 1000, 1),
    }


def ask_datasette(port, question, quick):
    """Datasette's times for the question, asked as ours are: first asks, then repeats.

    First asks are the variants' own requests, each asked once, as for our first asks;
    repeats ask the repeated variant again. Datasette computes facets over a million JSON
    arrays with no index to help: an ask can take minutes, and the bench has to end. So
    further asks are made only while asks take under 10 s, within DATASETTE_BUDGET; its own
    time limits (DATASETTE_LIMIT_MS per query) cut the slowest asks short, and those are
    reported as timed out.
    """
    timed_out = []

    def check(body):
        try:
            data = json.loads(body)
        except ValueError:
            return
        if isinstance(data, dict) and data.get("facets_timed_out"):
            timed_out.extend(data["facets_timed_out"])

    first, statuses = ask_each(port, [question.datasette], check=check)
    repeats = []
    if first and first[0] < 10 and not timed_out:
        more, more_statuses = ask_each(
            port, question.datasette_first, check=check, budget=DATASETTE_BUDGET
        )
        first += more
        statuses += more_statuses
        repeats, repeat_statuses = ask_each(
            port, [question.datasette] * (3 if quick else 10), check=check, budget=10
        )
        statuses += repeat_statuses
    return {
        "asks": summary(first),
        "repeats": summary(repeats),
        "errors": [s for s in statuses if s != 200],
        "timed_out": sorted(set(timed_out)),
    }


# --- Running ------------------------------------------------------------------------------


def run_question(question, port, quick, workers=()):
    """Our times for the question; `workers`: the gunicorn workers' process ids."""
    result = {
        "name": question.name,
        "key": question.key,
        "kind": question.kind,
        "note": question.note,
    }
    headers = question.headers
    status, _, _ = get(port, question.repeat, headers=headers)
    if status == 404:
        result["skipped"] = f"{question.repeat.split('?')[0]} answers 404 (not built yet)"
        return result
    first_times, statuses = ask_each(port, question.first, headers=headers)
    result["first"] = summary(first_times)
    result["first_errors"] = [s for s in statuses if s != 200]
    repeats = 3 if question.kind == "export" else (10 if quick else REPEATS)
    rep_times, statuses = ask_each(port, [question.repeat] * repeats, headers=headers)
    result["repeat"] = summary(rep_times)
    result["repeat_errors"] = [s for s in statuses if s != 200]
    if question.rows and rep_times:
        result["cases_per_second"] = question.rows / statistics.median(rep_times)
    if question.concurrent:
        times, errors, throughput = ask_concurrently(
            port,
            question.repeat,
            8,
            100 if quick else CONCURRENT_REQUESTS,
            5 if quick else CONCURRENT_SECONDS,
            headers=headers,
        )
        result["concurrent"] = summary(times) | {"req_per_s": throughput, "errors": len(errors)}
    if question.every_worker and question.first and workers:
        # The first variant: one worker has answered it once, in the first asks.
        answers, asked = ask_on_every_worker(
            port,
            question.first[0],
            workers,
            EVERY_WORKER_REPEATS,
            20 if quick else EVERY_WORKER_SECONDS,
            headers=headers,
        )
        result["every_worker"] = every_worker_summary(answers)
        result["every_worker_requests"] = asked
    return result


def mixed_load(port, questions, asked, seconds=MIXED_SECONDS):
    """Fresh variants of the drawn public questions, each path asked once at most (none
    that `asked` holds, so no answer is kept yet; each asked is added to it), at
    MIXED_CONCURRENCY for `seconds`."""
    rng = random.Random("mixed")
    drawing = [q for q in questions if q.draw and q.kind != "admin"]

    def fresh():
        for _ in range(100):
            path, _ = rng.choice(drawing).draw(rng)
            if path not in asked:
                break
        asked.add(path)
        return path

    started = time.monotonic()
    times, errors, throughput = ask_concurrently(port, fresh, MIXED_CONCURRENCY, 10**9, seconds)
    return summary(times) | {
        "concurrency": MIXED_CONCURRENCY,
        "seconds": round(time.monotonic() - started, 1),
        "req_per_s": throughput,
        "errors": len(errors),
        "error_examples": errors[:10],
        "questions": [q.name for q in drawing],
    }


# --- The admin's session -----------------------------------------------------------------


def ensure_superuser():
    """The superuser the admin's rows sign in as, in the bench database, with a new random
    password each run; returns the password."""
    import secrets

    from django.contrib.auth import get_user_model

    password = secrets.token_urlsafe(18)
    user, _ = get_user_model().objects.get_or_create(username=ADMIN_USER)
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()
    return password


def admin_session(port, username, password):
    """The Cookie header of a session signed in through the admin's sign-in form."""
    from http.cookies import SimpleCookie

    cookies = {}

    def keep(headers):
        for value in headers.get_all("Set-Cookie") or []:
            cookies.update({name: m.value for name, m in SimpleCookie(value).items()})

    def cookie_header():
        return "; ".join(f"{name}={value}" for name, value in cookies.items())

    status, body, _, headers = fetch(port, "/admin/login/")
    keep(headers)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or token is None:
        raise SystemExit(f"The admin's sign-in page answered {status} without a form.")
    form = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token.group(1).decode(),
            "username": username,
            "password": password,
            "next": "/admin/",
        }
    )
    status, _, _, headers = fetch(
        port,
        "/admin/login/?next=/admin/",
        method="POST",
        body=form,
        headers={
            "Cookie": cookie_header(),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    keep(headers)
    if status != 302:
        raise SystemExit(f"Signing in to the admin as {username} answered {status}, not 302.")
    return cookie_header()


# --- Choosing rows ------------------------------------------------------------------------

# Rows that are not questions, which BENCH_QUESTIONS can choose too ("soak": bench/soak.py,
# which make bench runs next).
OTHER_ROWS = ("mixed-load", "import", "dumps", "soak")


def row_patterns(spec):
    """BENCH_QUESTIONS's comma-separated keys or glob patterns; none: every row."""
    return [part.strip().lower() for part in (spec or "").split(",") if part.strip()]


def chosen(patterns, key):
    return not patterns or any(fnmatch.fnmatchcase(key, pattern) for pattern in patterns)


def check_patterns(patterns, keys):
    """Every pattern must choose a row: a typo is not a silent empty run."""
    unknown = [p for p in patterns if not any(fnmatch.fnmatchcase(k, p) for k in keys)]
    if unknown:
        raise SystemExit(
            f"BENCH_QUESTIONS: no row matches {', '.join(unknown)}. Rows: {', '.join(keys)}."
        )


def measure_exact_sql(questions):
    """{question name: the exact SQL's time in ms}, measured directly in PostgreSQL.

    Run before the servers' turns, and before PostgreSQL is warmed for them: the exact
    answers scan millions of rows (a common word's search vectors, 33 s), which pushes
    what the servers read out of PostgreSQL's buffers and the OS page cache. Run between
    our questions, as they were until late on 26 November, they left the next question's first
    asks to meet cold pages, which Datasette's, asked without them, never did.
    """
    times = {}
    for question in questions:
        if question.raw is not None:
            print(f"… {question.name}, exact SQL", file=sys.stderr, flush=True)
            times[question.name] = question.raw() * 1000
    return times


def fmt(value, unit="ms"):
    if value is None:
        return "–"
    if unit == "ms":
        return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"
    return f"{value:,.0f}"


def print_table(results, meta):
    print()
    print(
        f"{meta['cases']:,} cases ({meta['published']:,} published), {meta['workers']} gunicorn "
        f"workers, {meta['cpus']} CPUs. Times in ms; ‘first’ = distinct variants asked once."
    )
    width = max([24, *(len(r["name"]) for r in results)])
    header = (
        f"{'question':<{width}} {'first p50':>9} {'p95':>6} | {'repeat p50':>10} {'p95':>6}"
        f" {'p99':>6} | {'c=8 p95':>7} {'req/s':>6} | {'exact SQL':>9} {'x':>6}"
        f" | {'Datasette':>9} {'x':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        if "skipped" in r:
            print(f"{r['name']:<{width}} skipped: {r['skipped']}")
            continue
        ours = r["first"]["p50"] if r["first"]["n"] else r["repeat"]["p50"]
        raw = r.get("raw_sql_ms")
        ds = r.get("datasette", {})
        # Like with like: first asks with first asks, repeats with repeats.
        ds_asks = ds.get("asks" if r["first"]["n"] else "repeats") or {}
        ds_time = ds_asks.get("p50") or (ds.get("asks") or {}).get("p50")
        c8 = r.get("concurrent", {})
        print(
            f"{r['name']:<{width}} {fmt(r['first']['p50']):>9} {fmt(r['first']['p95']):>6} |"
            f" {fmt(r['repeat']['p50']):>10} {fmt(r['repeat']['p95']):>6}"
            f" {fmt(r['repeat']['p99']):>6} | {fmt(c8.get('p95')):>7}"
            f" {fmt(c8.get('req_per_s'), ''):>6} | {fmt(raw):>9}"
            f" {(f'{raw / ours:,.1f}' if raw and ours else '–'):>6} | {fmt(ds_time):>9}"
            f" {(f'{ds_time / ours:,.1f}' if ds_time and ours else '–'):>6}"
        )
        extra = [r["note"]] if r.get("note") else []
        if r.get("cases_per_second"):
            extra.append(f"{r['cases_per_second']:,.0f} cases/s")
        if ds.get("timed_out") or ds.get("errors"):
            extra.append(
                "Datasette: "
                + ", ".join(
                    [f"facets {', '.join(ds['timed_out'])} timed out"] * bool(ds.get("timed_out"))
                    + [f"HTTP {e}" for e in ds.get("errors", [])]
                )
            )
        errors = r.get("first_errors", []) + r.get("repeat_errors", [])
        if errors:
            extra.append(
                "answered "
                + ", ".join(f"HTTP {s} ×{n}" for s, n in sorted(Counter(errors).items()))
            )
        if extra:
            print(f"{'':<{width}} {'; '.join(extra)}")
    print(
        "x = their time / our time: first asks against first asks; repeats against repeats"
        " when a question has no variants."
    )
    print_every_worker(results, width)
    if meta.get("mixed"):
        m = meta["mixed"]
        print(
            f"\nMixed fresh variants at concurrency {m['concurrency']} for {m['seconds']:.0f}s:"
            f" {m['n']:,} answers, {m['req_per_s']:,.1f} requests/s, p50 {fmt(m['p50'])},"
            f" p95 {fmt(m['p95'])}, p99 {fmt(m['p99'])} ms, {m['errors']} errors."
        )


def print_every_worker(results, width):
    rows = [r for r in results if r.get("every_worker")]
    if not rows:
        return
    print(
        f"\nRepeat on every worker: a variant one worker answered once (its first ask),"
        f" asked again over new connections until each worker answered it"
        f" {EVERY_WORKER_REPEATS} times. Per worker (process id): p95 (its first answer), ms."
    )
    for r in rows:
        cells = [
            f"{pid}: {fmt(s['p95'])} ({fmt(s['first'])})" if s["n"] else f"{pid}: no answer"
            for pid, s in r["every_worker"].items()
        ]
        print(f"{r['name']:<{width}} {'   '.join(cells)}")


def main():
    sys.path.insert(0, str(BASE))
    from disinfo_db import gunicorn_conf

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=int(os.environ.get("BENCH_CASES", 1e6)))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8765)))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("BENCH_WORKERS", 0)) or gunicorn_conf.workers,
        help="gunicorn workers (default: as disinfo_db/gunicorn_conf.py, one per CPU)",
    )
    parser.add_argument("--datasette", default=os.environ.get("BENCH_DATASETTE"))
    parser.add_argument("--quick", action="store_true", help="fewer requests, for a smoke run")
    parser.add_argument("--no-dumps", action="store_true", help="skip the build_dumps measurement")
    parser.add_argument(
        "--import-cases",
        type=int,
        default=int(os.environ.get("BENCH_IMPORT_CASES", 100_000)),
        help="Cases of the import measurement (bench/import_speed.py); 0 skips it.",
    )
    parser.add_argument(
        "--questions",
        default=os.environ.get("BENCH_QUESTIONS", ""),
        help="Only these rows: comma-separated keys or glob patterns (search-*,admin-*);"
        " BENCH_QUESTIONS by default.",
    )
    args = parser.parse_args()
    patterns = row_patterns(args.questions)

    DATA.mkdir(parents=True, exist_ok=True)
    url = bench_database_url()
    imported = None
    if args.import_cases and chosen(patterns, "import"):
        from bench import import_speed

        print(f"… importing {args.import_cases:,} cases", file=sys.stderr, flush=True)
        imported = import_speed.measure(args.import_cases, url)
    ensure_database(url)
    env = server_env(url)
    os.environ.update(env)
    import django

    django.setup()

    generated = ensure_cases(args.cases, args.seed, env)
    manage("collectstatic", "--noinput", "-v0", env=env)
    datasette = args.datasette or shutil.which("datasette")
    sqlite_path, exported = (None, None)
    if datasette:
        sqlite_path, exported = ensure_sqlite(args.cases, env)
    else:
        print("Datasette not found (make bench installs it in bench/.venv): column skipped.")

    dumps = None
    if not args.no_dumps and chosen(patterns, "dumps"):
        from bench import dump_speed

        print("… build_dumps", file=sys.stderr, flush=True)
        dumps = dump_speed.measure(env)

    questions, n_published = build_questions(args.quick)
    check_patterns(patterns, [q.key for q in questions] + list(OTHER_ROWS))
    # Paths asked by some row: the mixed load's variants are none of them.
    asked = {path for q in questions for path in [q.repeat, *q.first]}
    everything, questions = questions, [q for q in questions if chosen(patterns, q.key)]
    # The index first: its process growth is measured before the exact SQL's large
    # results have grown the process.
    index = measure_index()
    exact = measure_exact_sql(questions)
    admin_password = ensure_superuser() if any(q.kind == "admin" for q in questions) else None
    # Each server's questions are asked back to back, ours then Datasette's, each side's
    # caches warmed just before. Interleaved, each server's first asks came after minutes
    # of idling while the other worked, and this machine pages out the memory of idle
    # processes: after a pause, the first few case pages took 30-165 ms, not 3-4.
    warmed = warm_postgresql()
    server = datasette_process = mixed = None
    results = []
    try:
        started = time.monotonic()
        server = start_gunicorn(env, args.port, args.workers)
        boot = time.monotonic() - started
        from bench.soak import children

        workers = children(server.pid)
        if admin_password:
            cookie = admin_session(args.port, ADMIN_USER, admin_password)
            for question in questions:
                if question.kind == "admin":
                    question.headers = {"Cookie": cookie}
        for question in questions:
            print(f"… {question.name}", file=sys.stderr, flush=True)
            result = run_question(question, args.port, args.quick, workers)
            if question.name in exact and "skipped" not in result:
                result["raw_sql_ms"] = exact[question.name]
            results.append(result)
        if chosen(patterns, "mixed-load"):
            print("… mixed load", file=sys.stderr, flush=True)
            mixed = mixed_load(args.port, everything, asked, 10 if args.quick else MIXED_SECONDS)
        stop(server)
        if sqlite_path:
            warmed |= warm_sqlite(sqlite_path)
            ds_port = args.port + 1
            datasette_process = start_datasette(datasette, sqlite_path, ds_port)
            for question, result in zip(questions, results, strict=True):
                if question.datasette and "skipped" not in result:
                    print(f"… {question.name}, Datasette", file=sys.stderr, flush=True)
                    result["datasette"] = ask_datasette(ds_port, question, args.quick)
    finally:
        stop(server)
        stop(datasette_process)

    meta = {
        "cases": args.cases,
        "published": n_published,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "generate_seconds": generated,
        "sqlite_export_seconds": exported,
        "server_boot_seconds": boot,
        "index": index,
        "warmed": warmed,
        "import": imported,
        "dumps": dumps,
        "mixed": mixed,
        "questions": args.questions or None,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    RESULTS.write_text(json.dumps({"meta": meta, "results": results}, indent=2, default=str))
    print_table(results, meta)
    if generated:
        print(f"Loading {args.cases:,} cases took {generated:,.0f}s.")
    print(
        f"Facet index: built in {index['build_seconds']}s, {index['bitmaps']:,} bitmaps,"
        f" {index['serialized_mb']} MB serialized, process grew {index['rss_growth_mb']} MB;"
        f" one edited case patched in {index['patch_one_case_ms']} ms."
    )
    if warmed.get("postgresql_prewarmed_mb") is not None:
        print(
            f"Warmed before our questions: {warmed['postgresql_prewarmed_mb']:,} MB into"
            f" PostgreSQL's {warmed['shared_buffers_mb']:,} MB of shared buffers, and the"
            f" {warmed['postgresql_toast_read_mb']:,} MB of the case texts' TOAST read,"
            f" in {warmed['seconds']}s."
        )
    if "sqlite_read_mb" in warmed:
        print(
            f"Warmed before Datasette's: the {warmed['sqlite_read_mb']:,} MB SQLite file read,"
            f" in {warmed['sqlite_seconds']}s."
        )
    if imported:
        print(import_speed.describe(imported) + ".")
    if dumps:
        from bench import dump_speed

        print(dump_speed.describe(dumps) + ".")
    print(f"Server boot (index built in every worker): {boot:.1f}s. Results: {RESULTS}")


if __name__ == "__main__":
    main()
