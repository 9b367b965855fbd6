"""Time to the first results of the list page, against the time to the whole page.

For each URL, asked once (a first ask: neither the page cache nor the facet index's result
cache has it), the milliseconds until the response's headers, until the first match's
bytes (`class="case-card"`), until the count (`id="results-heading"`) and until the last
byte. With several ports, each URL is asked of every server back to back, the order turning
from one URL to the next, so that neither server always finds PostgreSQL's cache warmed by
the other.

    python -m bench.first_results --port 8771 --port 8772 [--label old --label new] [--round 1]

The servers are started apart (bench/run.py's start_gunicorn() shows how): gunicorn with the
production settings against the bench database.
"""

import argparse
import http.client
import statistics
import time
import urllib.parse

from bench import synthetic

MATCH = b'class="case-card"'
COUNT = b'id="results-heading"'


COMMON = ["NATO", "Kremlin", "Europe", "evidence", "government", "Ukraine", "Russia", "war",
          "West", "sanctions", "Moscow", "Washington", "media", "people", "president",
          "military", "election", "Poland", "Germany", "weapons", "protest", "Baltic",
          "refugees", "economy", "history"]  # fmt: skip
KEYWORDS = ["war-in-ukraine", "russophobia", "anti-russian", "nato", "sanctions", "coup",
            "colour-revolutions", "euromaidan", "protest", "nazifascist"]  # fmt: skip
COUNTRIES = ["ukraine", "russia", "us", "germany", "poland", "uk", "belarus", "lithuania",
             "latvia", "estonia", "france", "georgia"]  # fmt: skip


def urls(round_):
    """(group, path): first asks of searches and filters at a million cases, five a group,
    other ones in each round (a page asked before is answered by the page cache)."""

    def path(**params):
        return "/cases/?" + urllib.parse.urlencode(params, doseq=True)

    n = 5 * round_
    common = (COMMON * 2)[n : n + 5]
    pairs = zip(common, (COMMON * 2)[n + 7 : n + 12], strict=True)
    rare = synthetic.VOCABULARY[6010 + n : 6015 + n]
    filters = [(k, c) for c in COUNTRIES[1:] for k in KEYWORDS][n : n + 5]
    groups = [
        ("search, common word", [path(q=word) for word in common]),
        ("search, rare word", [path(q=word) for word in rare]),
        ("search, two words by date", [path(q=f"{a} {b}", ordering="-date") for a, b in pairs]),
        ("keyword + country", [path(keyword=k, country=c) for k, c in filters]),
    ]
    return [(group, url) for group, paths in groups for url in paths]


def ask(port, path):
    """(headers, first match, count, whole) in ms from the request; None if never seen."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    connection.request("GET", path, headers={"Accept": "text/html"})
    response = connection.getresponse()
    headers = time.perf_counter()
    seen = b""
    first_match = count = None
    while True:
        chunk = response.read1(65536)
        if not chunk:
            break
        seen += chunk
        now = time.perf_counter()
        if first_match is None and MATCH in seen:
            first_match = now
        if count is None and COUNT in seen:
            count = now
    whole = time.perf_counter()
    connection.close()
    if response.status != 200:
        raise SystemExit(f"{path} on port {port}: {response.status}")

    def ms(moment):
        return None if moment is None else round((moment - started) * 1000, 1)

    return ms(headers), ms(first_match), ms(count), ms(whole)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, action="append", required=True)
    parser.add_argument("--label", action="append")
    parser.add_argument("--round", type=int, default=0, help="which variants, 0 to 4")
    args = parser.parse_args()
    labels = args.label or [str(port) for port in args.port]
    rows = {label: {} for label in labels}
    for n, (group, path) in enumerate(urls(args.round)):
        order = list(zip(args.port, labels, strict=True))
        if n % 2:
            order.reverse()
        for port, label in order:
            times = ask(port, path)
            rows[label].setdefault(group, []).append(times)
            print(label, path, times, flush=True)
    print()
    print(f"{'':8} {'group':28} {'first match':>12} {'count':>8} {'whole':>8}   (median ms)")
    for label in labels:
        for group, times in rows[label].items():
            first, count, whole = (
                statistics.median(t[i] for t in times if t[i] is not None) for i in (1, 2, 3)
            )
            print(f"{label:8} {group:28} {first:12.1f} {count:8.1f} {whole:8.1f}")


if __name__ == "__main__":
    main()
