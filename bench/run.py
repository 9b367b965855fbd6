"""make bench: the site under production settings against N cases, next to exact SQL and
Datasette.

    python bench/run.py [--cases N] [--datasette PATH] [--quick]

1. Loads (or reuses) N synthetic cases (BENCH_CASES, default 1,000,000) into a database of
   its own, disinfo_bench, on the server of DATABASE_URL (or the embedded one).
2. Serves the site with DJANGO_DEBUG=0 and collected static files under gunicorn on
   127.0.0.1, each worker building its facet index before it takes requests.
3. For every question of a fixed mix it measures:
   - first asks: several different variants of the question, each asked once, so that no
     answer of ours is cached (the facet index is built; PostgreSQL's buffers are warm);
   - repeats of one variant, at concurrency 1 and at concurrency 8 (latency percentiles
     and throughput);
   - the exact SQL answer computed directly against PostgreSQL (total, five facet counts
     and the first page, no index, no cache);
   - Datasette asked the same question over the same cases exported to SQLite (JSON array
     columns with _facet_array, FTS5 for _search).
4. Builds the bulk dumps (manage.py build_dumps, bench/dump_speed.py): cases/s per file.
5. Prints one table and writes bench/results.json.

Only loopback addresses are used; every loop is bounded in requests and in time.
"""

import argparse
import http.client
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
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
            "disinfo_db.wsgi",
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


def get(port, path, timeout=REQUEST_TIMEOUT):
    """(status, body bytes, seconds) of one GET over a fresh loopback connection."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "localhost"})
        response = conn.getresponse()
        body = response.read()
        return response.status, body, time.perf_counter() - started
    finally:
        conn.close()


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


def ask_each(port, paths, check=None, budget=None):
    """Ask each path once, in order; with a budget (seconds), stop when it is spent."""
    times, statuses = [], []
    deadline = time.monotonic() + budget if budget else None
    for path in paths:
        if deadline and times and time.monotonic() > deadline:
            break
        status, body, seconds = get(port, path)
        statuses.append(status)
        if status == 200:
            times.append(seconds)
            if check:
                check(body)
    return times, statuses


def ask_concurrently(port, path, concurrency, requests, seconds):
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
            try:
                status, _, took = get(port, path)
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


def build_questions(quick):
    """The request mix, with variants chosen from the data."""
    from django.db.models import Count, Q

    from bench import synthetic
    from cases.models import Case, Country, Keyword, Language
    from cases.readmodels.keyset import Cursor

    published = Case.objects.published()
    n_published = published.count()
    top = {
        model: list(
            model.objects.annotate(n=Count("cases", filter=Q(cases__status="published")))
            .order_by("-n")
            .values_list(key, flat=True)[:40]
        )
        for model, key in ((Keyword, "slug"), (Country, "slug"), (Language, "code"))
    }
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
    sample = list(published.order_by("?").values_list("id", "slug")[: variants + 1])
    questions.append(
        Question(
            "case page",
            "page",
            first=[f"/cases/{pk}/{slug}/" for pk, slug in sample[1:]],
            repeat=f"/cases/{sample[0][0]}/{sample[0][1]}/",
            raw=raw_case_page(sample[0][0]),
            # Datasette's own page for one row: HTML for HTML.
            datasette=f"/bench/cases/{sample[0][0]}",
            datasette_first=[f"/bench/cases/{pk}" for pk, _ in sample[1:]],
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
    return questions, n_published


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


def run_question(question, port, quick):
    result = {"name": question.name, "kind": question.kind, "note": question.note}
    status, _, _ = get(port, question.repeat)
    if status == 404:
        result["skipped"] = f"{question.repeat.split('?')[0]} answers 404 (not built yet)"
        return result
    first_times, statuses = ask_each(port, question.first)
    result["first"] = summary(first_times)
    result["first_errors"] = [s for s in statuses if s != 200]
    repeats = 3 if question.kind == "export" else (10 if quick else REPEATS)
    rep_times, statuses = ask_each(port, [question.repeat] * repeats)
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
        )
        result["concurrent"] = summary(times) | {"req_per_s": throughput, "errors": len(errors)}
    return result


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
    header = (
        f"{'question':<24} {'first p50':>9} {'p95':>6} | {'repeat p50':>10} {'p95':>6} {'p99':>6}"
        f" | {'c=8 p95':>7} {'req/s':>6} | {'exact SQL':>9} {'x':>6} | {'Datasette':>9} {'x':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        if "skipped" in r:
            print(f"{r['name']:<24} skipped: {r['skipped']}")
            continue
        ours = r["first"]["p50"] if r["first"]["n"] else r["repeat"]["p50"]
        raw = r.get("raw_sql_ms")
        ds = r.get("datasette", {})
        # Like with like: first asks with first asks, repeats with repeats.
        ds_asks = ds.get("asks" if r["first"]["n"] else "repeats") or {}
        ds_time = ds_asks.get("p50") or (ds.get("asks") or {}).get("p50")
        c8 = r.get("concurrent", {})
        print(
            f"{r['name']:<24} {fmt(r['first']['p50']):>9} {fmt(r['first']['p95']):>6} |"
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
        if extra:
            print(f"{'':<24} {'; '.join(extra)}")
    print(
        "x = their time / our time: first asks against first asks; repeats against repeats"
        " when a question has no variants."
    )


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
    args = parser.parse_args()

    DATA.mkdir(parents=True, exist_ok=True)
    url = bench_database_url()
    imported = None
    if args.import_cases:
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
    if not args.no_dumps:
        from bench import dump_speed

        print("… build_dumps", file=sys.stderr, flush=True)
        dumps = dump_speed.measure(env)

    questions, n_published = build_questions(args.quick)
    # The index first: its process growth is measured before the exact SQL's large
    # results have grown the process.
    index = measure_index()
    exact = measure_exact_sql(questions)
    # Each server's questions are asked back to back, ours then Datasette's, each side's
    # caches warmed just before. Interleaved, each server's first asks came after minutes
    # of idling while the other worked, and this machine pages out the memory of idle
    # processes: after a pause, the first few case pages took 30-165 ms, not 3-4.
    warmed = warm_postgresql()
    server = datasette_process = None
    results = []
    try:
        started = time.monotonic()
        server = start_gunicorn(env, args.port, args.workers)
        boot = time.monotonic() - started
        for question in questions:
            print(f"… {question.name}", file=sys.stderr, flush=True)
            result = run_question(question, args.port, args.quick)
            if question.name in exact and "skipped" not in result:
                result["raw_sql_ms"] = exact[question.name]
            results.append(result)
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
