"""Existing cases that look like the one an editor is writing: the duplicate warning.

The same similarity as claim matching and similar cases (cases.search.match): the case's
title (twice) and the start of its summary are matched against every case, drafts
included, since a duplicate may still be a draft. A case scoring DUPLICATE_SCORE or more
is listed, most similar first; among cases as similar, the one whose title reads most like
the typed one comes first.
"""

import difflib
import re

from cases.models import Case
from cases.search import SEARCH_CONFIG
from cases.search.match import case_text, fold, match_cases
from disinfo_db.routers import read_connection

DUPLICATE_SCORE = 0.3
WORD = re.compile(r"[^\W\d_]{4,}")


def similar_cases(title="", summary="", exclude_pk=None, limit=8):
    """Cases whose title or summary is similar, most similar first, as a list of Case.

    Each case carries `similarity` (0..1, the match score) and `matched_on` ("title" when
    most of the words it shares are in its title, else "summary").
    """
    title = (title or "").strip()
    summary = (summary or "").strip()
    if not title and not summary:
        return []
    exclude = {exclude_pk} if exclude_pk else set()
    text = case_text(title, summary)[:4000]
    matches, _ = match_cases(text, Case.objects.all(), limit, exclude_ids=exclude)
    matches = [m for m in matches if m.score >= DUPLICATE_SCORE]
    cases = Case.objects.only("id", "title", "slug", "status", "date").in_bulk(
        [m.id for m in matches]
    )
    typed = fold(title)
    found = []
    for match in matches:
        case = cases.get(match.id)
        if case is None:
            continue
        case.similarity = match.score
        in_title = [t for t in match.terms if fold(t) in fold(case.title)]
        case.matched_on = "title" if len(in_title) * 2 >= len(match.terms) else "summary"
        case.title_likeness = difflib.SequenceMatcher(None, typed, fold(case.title)).ratio()
        found.append(case)
    found.sort(key=lambda c: (-round(c.similarity, 2), -c.title_likeness, -c.pk))
    return found[:limit]


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
    with read_connection().cursor() as cursor:
        cursor.execute(RAREST_SQL, [words, SEARCH_CONFIG, n])
        return [word for (word,) in cursor.fetchall()]
