"""make bench-match: how well claim matching finds the case a claim is about.

    python bench/match_quality.py [--claims N] [--seed S] [--json PATH]

Runs against the database of DATABASE_URL (or the embedded one): the seed (`make seed`),
synthetic cases (`python bench/generate.py --count N`), or real data. It builds a labelled
set from the published cases there, asks each tier for each claim, and prints recall@1,
recall@10 and the mean reciprocal rank (MRR, over the first 10 answers) per kind of claim
and tier, with the lexical tier's latency percentiles (in this process, no HTTP).

The labelled set (docs/matching.md tells how to extend it). For N published cases drawn
at random (same seed, same cases), each claim's expected answer is that case:

- reworded: the title with its verbs and nouns inflected differently, function words
  changed ("is behind" -> "stands behind", "attacks" -> "attack") and four words of its
  summary, as a claim someone saw would carry details;
- reordered: the same words as the title and those four, shuffled;
- translated: the title put in German and Russian phrase by phrase (bench/match_phrases.py
  knows the synthetic titles' phrases, and the seed's titles whole); other titles are
  skipped. Expected to need the semantic tier: the lexical one finds only the names;
- related: each case that editors linked to others, its title asked as similar cases
  would; any of its related cases counts as a right answer.

A case whose title and summary another case repeats word for word is a right answer too.

Tiers: lexical (always); semantic alone and semantic+lexical (fused) when
DISINFO_EMBEDDING_MODEL names a model directory.
"""

import argparse
import json
import os
import random
import re
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent

REWORDINGS = [
    (r"\bis behind\b", "stands behind"),
    (r"\bis preparing\b", "prepares"),
    (r"\bis planning\b", "plans"),
    (r"\bis hiding\b", "hides"),
    (r"\bsecretly funds\b", "is secretly funding"),
    (r"\bwants to start\b", "wanted to start"),
    (r"\bwill soon announce\b", "is about to announce"),
    (r"\borganised\b", "organized"),
    (r"\bcovered up\b", "covers up"),
    (r"\bordered\b", "orders"),
    (r"\bstaged\b", "stages"),
    (r"\bprovoked\b", "provokes"),
    (r"\binvented\b", "invents"),
    (r"\bfinanced\b", "finances"),
    (r"\borchestrated\b", "orchestrates"),
    (r"\battacks\b", "attack"),
    (r"\bbiolabs\b", "biolab"),
    (r"\bprotests\b", "protest"),
    (r"\belections\b", "election"),
    (r"\bthe\b ", ""),
    (r"\bThe\b ", ""),
    (r"\ba\b ", ""),
]
KINDS = ("reworded", "reordered", "translated", "related")
TOP = 10
WORD = re.compile(r"[^\W\d_]{5,}")


def setup_django():
    if str(BASE) not in sys.path:
        sys.path.insert(0, str(BASE))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "disinfo_db.settings")
    import django

    django.setup()


def reword(title):
    for pattern, replacement in REWORDINGS:
        title = re.sub(pattern, replacement, title)
    return title


def details(rng, summary, count=4):
    words = list(dict.fromkeys(w.lower() for w in WORD.findall(summary or "")))
    return rng.sample(words, min(count, len(words)))


def labelled_set(count, seed):
    """[(kind, claim, {right case ids}, source case id)]."""
    from django.db.models import Count

    from bench.match_phrases import translations
    from cases.models import Case

    rng = random.Random(seed)
    published = Case.objects.published()
    ids = list(published.values_list("id", flat=True))
    chosen = rng.sample(ids, min(count, len(ids)))
    rows = published.filter(id__in=chosen).values_list("id", "title", "summary")
    cases = {pk: (title, summary) for pk, title, summary in rows}
    # Word-for-word repeats of a chosen case count as right answers too.
    twins = {}
    for pk, title, summary in published.filter(
        title__in=[t for t, _ in cases.values()]
    ).values_list("id", "title", "summary"):
        twins.setdefault((title, summary), set()).add(pk)
    claims = []
    for pk in chosen:
        title, summary = cases[pk]
        right = twins.get((title, summary), set()) | {pk}
        extra = details(rng, summary)
        claims.append(("reworded", " ".join([reword(title), *extra]), right, pk))
        words = title.split() + extra
        rng.shuffle(words)
        claims.append(("reordered", " ".join(words), right, pk))
        for text in translations(title):
            claims.append(("translated", text, right, pk))
    linked = (
        published.annotate(n=Count("related"))
        .filter(n__gt=0)
        .order_by("id")
        .values_list("id", "title", "summary")
    )
    linked = list(linked[:count])
    for pk, title, summary in linked:
        related = set(
            Case.objects.get(pk=pk).related.filter(status="published").values_list("id", flat=True)
        )
        if related:
            claims.append(("related", (pk, title, summary), related, pk))
    return claims


def evaluate(claims, tier):
    """{kind: (n, recall@1, recall@10, MRR)} and {kind: latencies in ms}."""
    from cases.models import Case
    from cases.search import match, semantic
    from cases.search.match import case_text

    published = Case.objects.published()
    ranks = {kind: [] for kind in KINDS}
    times = {kind: [] for kind in KINDS}
    for kind, claim, right, _ in claims:
        exclude = ()
        if kind == "related":
            pk, title, summary = claim
            text, exclude = case_text(title, summary), {pk}
        else:
            text = claim
        started = time.perf_counter()
        if tier == "lexical":
            found = match.lexical_matches(match.analyse(text), published, TOP, exclude)
        elif tier == "semantic":
            found = semantic.semantic_matches(text, published, TOP, exclude)
        else:
            found, _ = match.match_cases(text, published, TOP, exclude_ids=exclude)
        times[kind].append((time.perf_counter() - started) * 1000)
        ids = [m.id for m in found[:TOP]]
        rank = next((i + 1 for i, pk in enumerate(ids) if pk in right), None)
        ranks[kind].append(rank)
    table = {}
    for kind, found in ranks.items():
        if not found:
            continue
        n = len(found)
        table[kind] = (
            n,
            sum(r == 1 for r in found) / n,
            sum(r is not None for r in found) / n,
            sum(1 / r for r in found if r) / n,
        )
    return table, times


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=200, help="Cases to build claims from.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="Also write the results to this file.")
    args = parser.parse_args(argv)
    setup_django()
    from django.db import connection

    from cases.models import Case
    from cases.search import semantic

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")  # the statistics the lexical tier reads
    total = Case.objects.published().count()
    if not total:
        print("No published cases to build claims from: run make seed, or bench/generate.py.")
        return
    claims = labelled_set(args.claims, args.seed)
    tiers = ["lexical"]
    if semantic.enabled():
        print("… building the semantic index", file=sys.stderr, flush=True)
        semantic.ensure_index()
        tiers += ["semantic", "semantic+lexical"]
    results = {}
    print(f"{total:,} published cases; {len(claims)} labelled claims (seed {args.seed}).")
    header = (
        f"{'tier':<17} {'claims':<11} {'n':>5} {'recall@1':>9} {'recall@10':>10} {'MRR':>6}"
        "   latency"
    )
    print(header)
    print("-" * len(header))
    for tier in tiers:
        table, times = evaluate(claims, tier)
        every = [t for kind_times in times.values() for t in kind_times]
        results[tier] = {
            "quality": {
                kind: dict(zip(("n", "r1", "r10", "mrr"), values, strict=True))
                for kind, values in table.items()
            },
            "ms": {"p50": percentile(every, 50), "p95": percentile(every, 95)},
        }
        for kind, (n, r1, r10, mrr) in table.items():
            p50, p95 = percentile(times[kind], 50), percentile(times[kind], 95)
            print(
                f"{tier:<17} {kind:<11} {n:>5} {r1:>9.3f} {r10:>10.3f} {mrr:>6.3f}"
                f"   p50 {p50:.0f} ms, p95 {p95:.0f} ms"
            )
        print(
            f"{tier:<17} {'all':<11} {len(every):>5}  p50 {percentile(every, 50):.0f} ms,"
            f" p95 {percentile(every, 95):.0f} ms (in this process, no HTTP)"
        )
    if not semantic.enabled():
        print(
            "semantic tier: not configured (DISINFO_EMBEDDING_MODEL names no model directory);"
            " its rows are left out."
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"cases": total, "tiers": results}, indent=2))


if __name__ == "__main__":
    main()
