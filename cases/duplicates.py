"""Existing cases that look like the one an editor is writing (pg_trgm similarity).

Titles are compared with the trigram operator, served by case_title_trgm_idx. Summaries are
long, so a trigram index on them would be large: candidates come from the full-text index
instead (any of the summary's longer words), and trigram similarity ranks those few.
"""

import re

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramSimilarity
from django.db.models import F

from cases.models import Case
from cases.search import SEARCH_CONFIG

TITLE_THRESHOLD = 0.3
SUMMARY_THRESHOLD = 0.3
SUMMARY_CANDIDATES = 30
SUMMARY_WORDS = 12
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
        by_title = (
            base.filter(title__trigram_similar=title)
            .annotate(similarity=TrigramSimilarity("title", title))
            .filter(similarity__gte=TITLE_THRESHOLD)
            .order_by("-similarity", "-id")[:limit]
        )
        for case in by_title:
            case.matched_on = "title"
            found[case.pk] = case

    words = list(dict.fromkeys(w.lower() for w in WORD.findall(summary)))[:SUMMARY_WORDS]
    if words:
        query = SearchQuery(" | ".join(words), search_type="raw", config=SEARCH_CONFIG)
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
