"""First asks of the search questions, in this process: p50/p95 per kind of search.

    DATABASE_URL=... python bench/search_asks.py [--variants 12] [--seed N] [--kinds a,b]
        [--profile] [--api]

Each kind of search (two words, a quoted phrase, `word -word`, a search with a date
window sorted by date, a search with a keyword) is asked in fresh variants, each once,
through Django's test client under the production settings: the facet index is built
first, so no answer is cached, only PostgreSQL's buffers are warm. Variants are drawn from
the synthetic vocabulary (bench/synthetic.py) with the seed; a new seed gives new ones.

With --profile, each request's SQL time is split by statement, which says where a search
spends its time: the match (ids for the count and the facets), the ranking, the page, the
rest.
"""

import argparse
import os
import random
import sys
import time
import urllib.parse
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent

# Words that make sensible searches: the common words of the texts and the topic terms.
TWO_WORD_POOL = (
    "kremlin",
    "nato",
    "propaganda",
    "security",
    "military",
    "weapons",
    "election",
    "sanctions",
    "protests",
    "troops",
    "border",
    "energy",
    "gas",
    "nuclear",
    "biological",
    "laboratory",
    "vaccine",
    "refugees",
    "migrants",
    "church",
    "journalists",
    "intelligence",
    "secret",
    "conspiracy",
    "genocide",
    "occupation",
    "referendum",
    "mercenaries",
    "humanitarian",
    "embassy",
    "pipeline",
    "hackers",
    "terrorism",
    "crimea",
    "donbas",
    "poland",
    "washington",
    "europe",
    "syria",
    "belarus",
    "moldova",
    "georgia",
    "navalny",
    "skripal",
    "grain",
    "inflation",
)
PHRASES = (
    "secretly funds",
    "colour revolution",
    "energy crisis",
    "biolabs in",
    "a coup in",
    "is preparing",
    "the protests in",
    "chemical attacks",
    "migrant invasion",
    "global elites",
    "western media",
    "is behind",
    "will soon announce",
    "terrorist attacks in",
    "the occupation of",
    "a war against",
    "pharmaceutical companies",
    "the baltic states",
    "western intelligence",
    "genocide of russians",
)


def setup_django():
    if str(BASE) not in sys.path:
        sys.path.insert(0, str(BASE))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "disinfo_db.settings")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")
    import django

    django.setup()


def variants(kind, rng, n):
    out = []
    while len(out) < n:
        if kind == "two words":
            a, b = rng.sample(TWO_WORD_POOL, 2)
            params = {"q": f"{a} {b}"}
        elif kind == "phrase":
            params = {"q": f'"{rng.choice(PHRASES)}"'}
        elif kind == "word -word":
            a, b = rng.sample(TWO_WORD_POOL, 2)
            params = {"q": f"{a} -{b}"}
        elif kind == "search + date window":
            year = rng.randrange(2016, 2026)
            month = rng.randrange(1, 12)
            params = {
                "q": rng.choice(TWO_WORD_POOL),
                "date_after": f"{year}-{month:02d}-01",
                "date_before": f"{year}-{month + 1:02d}-{rng.randrange(1, 28):02d}",
                "ordering": "-date",
            }
        elif kind == "search + keyword":
            from cases.models import Keyword

            slugs = list(Keyword.objects.order_by("id").values_list("slug", flat=True)[:60])
            params = {"q": rng.choice(TWO_WORD_POOL), "keyword": rng.choice(slugs)}
        else:
            raise ValueError(kind)
        query = urllib.parse.urlencode(params)
        if query not in out:
            out.append(query)
    return out


KINDS = ("two words", "phrase", "word -word", "search + date window", "search + keyword")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))]


class StatementTimer:
    """Time spent in each SQL statement of a request (connection.execute_wrapper)."""

    def __init__(self):
        self.rows = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.rows.append((time.perf_counter() - started, sql))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=12)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--api", action="store_true", help="ask /api/v1/cases/ instead")
    args = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.test import Client

    from cases import facets

    facets.warm_up()
    client = Client()
    rng = random.Random(args.seed)
    prefix = "/api/v1/cases/?" if args.api else "/cases/?"
    # The first request of a process compiles the templates: not a first ask of a search.
    client.get(prefix + "q=warming+up", secure=True)
    print(f"seed {args.seed}; load average {os.getloadavg()}")
    for kind in args.kinds.split(","):
        times = []
        for query in variants(kind, rng, args.variants):
            timer = StatementTimer()
            started = time.perf_counter()
            with connection.execute_wrapper(timer):
                response = client.get(prefix + query, secure=True)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (query, response.status_code)
            times.append(elapsed * 1000)
            if args.profile:
                sql_ms = sum(t for t, _ in timer.rows) * 1000
                print(f"  {elapsed * 1000:7.1f} ms  sql {sql_ms:6.1f} ms  {query}")
                for t, sql in sorted(timer.rows, reverse=True)[:4]:
                    print(f"      {t * 1000:6.1f}  {' '.join(sql.split())[:150]}")
        print(
            f"{kind:22s} p50 {percentile(times, 50):7.1f}  p95 {percentile(times, 95):7.1f}"
            f"  max {max(times):7.1f} ms   load {os.getloadavg()[0]:.2f}"
        )


if __name__ == "__main__":
    main()
