"""How fast the admin answers an editor at N cases: the case list, a search for a common
word, a status filter, the taxonomy lists and a case's change form, asked in process through
Django's test client as a signed-in superuser.

    python bench/admin_speed.py [--database-url URL] [--repeats 5] [--json]

The database is BENCH_DATABASE_URL, else the bench database (bench/run.py's disinfo_bench).
It WRITES to it: it migrates it, and adds a superuser `bench-admin` (made if missing) and a
session for it. Run it on a database of the bench's own, never on a production one.

For each page it prints the first ask (the facet index built and PostgreSQL warm from the
other pages, but that page not asked before), the median of the repeats, and the number of
SQL queries; with --json, one JSON object. measure() returns the same rows, for a harness.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
if str(BASE) not in sys.path:
    sys.path.insert(0, str(BASE))

USERNAME = "bench-admin"
TARGET_MS = 300


def pages(common_word):
    """(label, URL) of every page measured; the change form's case is the newest one."""
    from bench import synthetic
    from cases.models import Case

    newest = Case.objects.order_by("-id").values_list("id", flat=True).first()
    rare, very_rare = synthetic.RARE_TERM, synthetic.VERY_RARE_TERM
    # A language of about 3% of the cases (Arabic in the bench's data), a country and a
    # keyword of the commonest, and the rarest language.
    language, rare_language = language_ids()
    country = most_used(Case.countries.through, "country_id")
    keyword = most_used(Case.keywords.through, "keyword_id")
    return [
        ("case list", "/admin/cases/case/"),
        (f"case list, search “{common_word}”", f"/admin/cases/case/?q={common_word}"),
        (f"case list, search “{rare}”", f"/admin/cases/case/?q={rare}"),
        (f"case list, search “{very_rare}”", f"/admin/cases/case/?q={very_rare}"),
        ("case list, search an id", f"/admin/cases/case/?q={newest}"),
        ("case list, drafts", "/admin/cases/case/?status__exact=draft"),
        ("case list, page 50", "/admin/cases/case/?p=50"),
        ("case list, one year", "/admin/cases/case/?date__year=2020"),
        ("case list, a language", f"/admin/cases/case/?languages__id__exact={language}"),
        ("case list, rarest language", f"/admin/cases/case/?languages__id__exact={rare_language}"),
        ("case list, a country", f"/admin/cases/case/?countries__id__exact={country}"),
        ("case list, a keyword", f"/admin/cases/case/?keywords__id__exact={keyword}"),
        (
            "case list, language + year",
            f"/admin/cases/case/?languages__id__exact={language}&date__year=2020",
        ),
        ("case list, counts shown", "/admin/cases/case/?_facets=True"),
        (
            "case list, language, counts",
            f"/admin/cases/case/?languages__id__exact={language}&_facets=True",
        ),
        ("keyword list", "/admin/cases/keyword/"),
        ("country list", "/admin/cases/country/"),
        ("language list", "/admin/cases/language/"),
        ("outlet list", "/admin/cases/outlet/"),
        ("issue list", "/admin/cases/issue/"),
        ("case change form", f"/admin/cases/case/{newest}/change/"),
        ("keyword autocomplete", autocomplete("keywords", "")),
        ("related case autocomplete", autocomplete("related", "kreml")),
    ]


def language_ids():
    """(a language of about 3% of the cases, the language of fewest cases)."""
    from django.db.models import Count

    from cases.models import Case

    links = Case.languages.through.objects.values("language_id")
    counted = list(
        links.annotate(count=Count("*")).order_by("count").values_list("language_id", "count")
    )
    total = sum(count for _, count in counted)
    near_three = min(counted, key=lambda row: abs(row[1] - 0.03 * total))
    return near_three[0], counted[0][0]


def most_used(link_model, column):
    from django.db.models import Count

    return (
        link_model.objects.values(column)
        .annotate(count=Count("*"))
        .order_by("-count")
        .values_list(column, flat=True)
        .first()
    )


def autocomplete(field_name, term):
    return (
        f"/admin/autocomplete/?term={term}&app_label=cases&model_name=case&field_name={field_name}"
    )


def signed_in_client():
    from django.contrib.auth.models import User
    from django.test import Client

    user = User.objects.filter(username=USERNAME).first()
    if user is None:
        user = User.objects.create_superuser(USERNAME, "bench-admin@example.org", None)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def ask(client, url):
    """(milliseconds, SQL queries) of one GET, which must answer 200."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return elapsed, len(queries.captured_queries)


def measure(repeats=5, common_word=None, only=None, skip=None):
    """[{page, url, first_ms, median_ms, queries}] against the configured database."""
    from bench import synthetic
    from cases.facets import warm_up

    warm_up()  # as gunicorn does before a worker takes requests
    client = signed_in_client()
    client.get("/admin/")  # the first request of a process loads templates and URLs
    rows = []
    for label, url in pages(common_word or synthetic.COMMON_TERM):
        if (only and only not in label) or (skip and skip in label):
            continue
        try:
            first, queries = ask(client, url)
        except RuntimeError as error:  # a filter this version has not got
            print(error, file=sys.stderr)
            continue
        times = [ask(client, url)[0] for _ in range(repeats)]
        rows.append(
            {
                "page": label,
                "url": url,
                "first_ms": round(first, 1),
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 95), 1),
                "queries": queries,
            }
        )
    return rows


def percentile(values, percent):
    """The nearest-rank percentile: with 20 repeats, p95 is the second slowest."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * percent // 100) - 1)]


def describe(rows, cases):
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    lines = [
        f"Admin at {cases:,} cases (in process; load average {load}; target < {TARGET_MS} ms)",
        f"{'page':<34} {'first ms':>9} {'median ms':>10} {'p95 ms':>8} {'queries':>8}",
    ]
    for row in rows:
        slowest = max(row["first_ms"], row["p95_ms"])
        flag = "" if slowest < TARGET_MS else "  over target"
        lines.append(
            f"{row['page']:<34} {row['first_ms']:>9.1f} {row['median_ms']:>10.1f} "
            f"{row['p95_ms']:>8.1f} {row['queries']:>8}{flag}"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: the bench database")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--word", help="the common word to search for (default: the bench's)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not migrate the database first (its indexes made by hand, or read-only)",
    )
    parser.add_argument("--only", help="only the pages whose label contains this text")
    parser.add_argument("--skip", help="not the pages whose label contains this text")
    args = parser.parse_args()

    from bench.run import bench_database_url

    os.environ["DATABASE_URL"] = args.database_url or bench_database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "disinfo_db.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from cases.models import Case

    if not args.no_migrate:
        call_command("migrate", interactive=False, verbosity=0)  # the admin's indexes

    rows = measure(args.repeats, args.word, args.only, args.skip)
    cases = Case.objects.count()
    if args.json:
        print(json.dumps({"cases": cases, "load": os.getloadavg(), "pages": rows}))
    else:
        print(describe(rows, cases))


if __name__ == "__main__":
    main()
