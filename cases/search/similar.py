"""Existing cases that look like the one an editor is writing (pg_trgm similarity).

Titles are compared with the trigram operators, nearest first, served by the GiST index
case_title_trgm_idx. Summaries are long, so a trigram index on them would be large:
candidates come from the full-text index instead, and trigram similarity ranks those few.
A candidate shares at least two of the summary's rarest longer words (rarest by
PostgreSQL's statistics of the search vectors): any one of its words matched most cases at
a million, and ranking them took 17 seconds.
"""

import itertools
import re

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    TrigramDistance,
    TrigramSimilarity,
)
from django.db import connection
from django.db.models import F

from cases.models import Case
from cases.search import SEARCH_CONFIG

TITLE_THRESHOLD = 0.3
SUMMARY_THRESHOLD = 0.3
SUMMARY_CANDIDATES = 30
SUMMARY_WORDS = 12  # the summary's first longer words ...
RARE_WORDS = 6  # ... of which the rarest, in pairs, find the candidates
WORD = re.compile(r"[^\W\d_]{4,}")


def similar_cases(title="", summary="", exclude_pk=None, limit=8):
    """Cases whose title or summary is similar, most similar first, as a list of Case.

    Each case carries `similarity` (0..1) and `matched_on` ("title" or "summary").
    """
    title = (title or "").strip()
    summary = (summary or "").strip()
    found = {}
    base = Case.objects.only("id", "title", "slug", "status", "date")
    if exclude_pk:
        base = base.exclude(pk=exclude_pk)

    if len(title) >= 4:
        # Nearest first, as the GiST index walks them: the scan stops after `limit`.
        by_title = (
            base.filter(title__trigram_similar=title)
            .annotate(distance=TrigramDistance("title", title))
            .order_by("distance")[:limit]
        )
        for case in by_title:
            case.similarity = 1 - case.distance
            if case.similarity >= TITLE_THRESHOLD:
                case.matched_on = "title"
                found[case.pk] = case

    words = list(dict.fromkeys(w.lower() for w in WORD.findall(summary)))[:SUMMARY_WORDS]
    words = rarest(words, RARE_WORDS)
    if words:
        pairs = [f"('{a}' & '{b}')" for a, b in itertools.combinations(words, 2)]
        query = SearchQuery(" | ".join(pairs or words), search_type="raw", config=SEARCH_CONFIG)
        candidates = (
            base.filter(search_vector=query)
            .annotate(rank=SearchRank(F("search_vector"), query))
            .order_by("-rank", "-id")
            .values_list("pk", flat=True)[:SUMMARY_CANDIDATES]
        )
        by_summary = (
            base.filter(pk__in=list(candidates))
            .annotate(similarity=TrigramSimilarity("summary", summary))
            .filter(similarity__gte=SUMMARY_THRESHOLD)
            .order_by("-similarity", "-id")[:limit]
        )
        for case in by_summary:
            if case.pk not in found or found[case.pk].similarity < case.similarity:
                case.matched_on = "summary"
                found[case.pk] = case

    return sorted(found.values(), key=lambda c: (-c.similarity, -c.pk))[:limit]


# Each word's share of the cases, from the most common lexemes PostgreSQL's statistics keep
# for the search vectors (pg_stats); a word that is not among them is rarer than those that
# are, and a stop word has no lexeme at all.
RAREST_SQL = """
WITH stats AS (
    SELECT most_common_elems::text::text[] AS lexemes, most_common_elem_freqs AS shares
    FROM pg_stats
    WHERE schemaname = current_schema() AND tablename = 'cases_case'
      AND attname = 'search_vector'
)
SELECT w.word
FROM unnest(%s::text[]) WITH ORDINALITY AS w(word, position)
CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(%s::regconfig, w.word))) AS l(lexeme)
LEFT JOIN stats ON true
GROUP BY w.word, w.position
ORDER BY max(coalesce(stats.shares[array_position(stats.lexemes, l.lexeme)], 0)),
         length(w.word) DESC, w.position
LIMIT %s
"""


def rarest(words, n):
    """The `n` rarest of the words in the search vectors, rarest first (longest first among
    words as rare as each other); stop words are left out."""
    if not words:
        return []
    with connection.cursor() as cursor:
        cursor.execute(RAREST_SQL, [words, SEARCH_CONFIG, n])
        return [word for (word,) in cursor.fetchall()]
