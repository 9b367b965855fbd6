"""Full-text search over cases.

Each case has a stored tsvector: title (weight A), keyword names (A), summary (B) and
disproof (C), in the `disinfo` text search configuration (English stemming with unaccent),
which migration 0001 creates. update_search_vectors() keeps it current; it is called on
every write path.

Typos: a search that finds nothing is retried with each unknown word replaced by the most
similar word of a published case (pg_trgm over the SearchWord table), and the page says so.

Cases that look like one an editor is writing, for the duplicate warning, are found by
similar.py.
"""

import re
import unicodedata

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.utils.html import escape
from django.utils.safestring import mark_safe
from psycopg2.errorcodes import LOCK_NOT_AVAILABLE

from disinfo_db.routers import read_connection

SEARCH_CONFIG = "disinfo"


def vector_sql(case, keyword_names):
    """SQL for the search vector of the row `case`, given its keyword names as SQL."""
    return f"""
    setweight(to_tsvector('disinfo', coalesce({case}.title, '')), 'A') ||
    setweight(to_tsvector('disinfo', coalesce({keyword_names}, '')), 'A') ||
    setweight(to_tsvector('disinfo', coalesce({case}.summary, '')), 'B') ||
    setweight(to_tsvector('disinfo', coalesce({case}.disproof, '')), 'C')
"""


KEYWORD_NAMES_SQL = """(
        SELECT string_agg(k.name, ' ') FROM cases_case_keywords ck
        JOIN cases_keyword k ON k.id = ck.keyword_id WHERE ck.case_id = c.id
    )"""

UPDATE_SQL = "UPDATE cases_case AS c SET search_vector =" + vector_sql("c", KEYWORD_NAMES_SQL)


# The words a published case is searchable by, unaccented and lower case, without numbers.
# Only published cases contribute: a suggestion must never reveal a draft.
def words_sql(case, keyword_names):
    """SQL for the words (unstemmed) of the row `case`, given its keyword names as SQL."""
    return f"""to_tsvector('simple', unaccent(
    {case}.title || ' ' || {case}.summary || ' ' || {case}.disproof || ' ' ||
    coalesce({keyword_names}, '')
))"""


# Which of those words go into the word list.
WORD_FILTER = "length(w.word) >= 3 AND w.word !~ '[0-9_]'"
CASE_WORDS_SQL = words_sql("c", KEYWORD_NAMES_SQL)
# Words are made distinct by their bytes ("C"): a sort by the database's collation costs
# several times as much, and equal words are equal bytes in either.
WORDS_SQL = f"""
INSERT INTO cases_searchword (word)
SELECT DISTINCT left(w.word, 100) COLLATE "C"
FROM cases_case c
CROSS JOIN LATERAL unnest(tsvector_to_array({CASE_WORDS_SQL})) AS w(word)
WHERE c.status = 'published' AND {WORD_FILTER}
"""

# The word list's words and the search vectors of cases not written yet, from their texts and
# keyword names given as arrays (a bulk import, cases.services.imports): the expressions of
# WORDS_SQL and UPDATE_SQL.
WORDS_OF_TEXTS_SQL = f"""
SELECT DISTINCT left(w.word, 100) COLLATE "C"
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[])
    AS c(title, summary, disproof, keyword_names)
CROSS JOIN LATERAL unnest(tsvector_to_array({words_sql("c", "c.keyword_names")})) AS w(word)
WHERE {WORD_FILTER}
"""


VECTORS_OF_TEXTS_SQL = f"""
SELECT ({vector_sql("c", "c.keyword_names")})::text
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) WITH ORDINALITY
    AS c(title, summary, disproof, keyword_names, n)
ORDER BY c.n
"""


# Texts sent in one statement: a big import's arrays stay small, and its word sorts in memory.
TEXTS_PER_STATEMENT = 5000


def _chunks(texts):
    for start in range(0, len(texts), TEXTS_PER_STATEMENT):
        chunk = texts[start : start + TEXTS_PER_STATEMENT]
        yield [list(column) for column in zip(*chunk, strict=True)]


def vectors_of_texts(cursor, texts):
    """The search vectors, as text, of [(title, summary, disproof, keyword names or None)]:
    what UPDATE_SQL stores for cases with those texts and keyword names."""
    vectors = []
    for arrays in _chunks(texts):
        cursor.execute(VECTORS_OF_TEXTS_SQL, arrays)
        vectors += [vector for (vector,) in cursor.fetchall()]
    return vectors


def words_of_texts(cursor, texts):
    """The word list's words of [(title, summary, disproof, keyword names or None)]."""
    words = set()
    for arrays in _chunks(texts):
        cursor.execute(WORDS_OF_TEXTS_SQL, arrays)
        words.update(word for (word,) in cursor.fetchall())
    return list(words)


def update_search_vectors(case_ids=None):
    """Recompute the stored search vector of the given cases (all when None)."""
    with connection.cursor() as cursor:
        if case_ids is None:
            cursor.execute(UPDATE_SQL)
            cursor.execute(WORDS_SQL + " ON CONFLICT DO NOTHING")
        else:
            case_ids = list(case_ids)
            cursor.execute(UPDATE_SQL + " WHERE c.id = ANY(%s)", [case_ids])
            add_search_words(cursor, case_ids)


# How long adding a case's words may wait for another transaction adding the same word.
WORDS_LOCK_TIMEOUT = "100ms"


def add_search_words(cursor, case_ids):
    """Add the words of the given published cases that the word list lacks.

    A word that another open transaction is adding at the same time (a long import) would
    make this edit wait until that transaction ends. It is skipped instead: that
    transaction brings it, and `manage.py rebuild_search_words` would too.
    """
    new_words = (
        WORDS_SQL
        + " AND c.id = ANY(%s) AND NOT EXISTS"
        + " (SELECT 1 FROM cases_searchword s WHERE s.word = left(w.word, 100))"
        + " ON CONFLICT DO NOTHING"
    )
    cursor.execute("SELECT current_setting('lock_timeout')")
    (before,) = cursor.fetchone()
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [WORDS_LOCK_TIMEOUT])
    try:
        with transaction.atomic():
            cursor.execute(new_words, [case_ids])
    except OperationalError as error:
        if getattr(error.__cause__, "pgcode", None) != LOCK_NOT_AVAILABLE:
            raise
    finally:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [before])


def rebuild_search_words():
    """Start the word list over, so words of deleted or withdrawn cases go away."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_searchword")
        cursor.execute(WORDS_SQL + " ON CONFLICT DO NOTHING")


# A search with more matches than this ranks only its newest ones. Ranking reads each
# match's search vector from TOAST storage (15-30 µs each at a million cases): seconds for a
# word in hundreds of thousands of cases. Relevance pages stop at
# keyset.MAX_RELEVANCE_OFFSET, so as many are ranked as those pages can show. Sorting by
# date shows every match.
RANKED_MATCHES = 1000


def newest_matches(matches, cases, text, limit=RANKED_MATCHES):
    """The `limit` newest of the `matches` of a search for `text`, from `cases`, ranked.

    The newest matches are found once, with every filter; the ranking query looks them up
    by id and ranks only them.
    """
    newest = matches.order_by(F("date").desc(nulls_last=True), "-id").values("id")[:limit]
    return rank_cases(cases.filter(id__in=newest), text)


def ranked_matches(case_filter, matches, cases, text, total, index=True):
    """(the matches of a search for `text` to rank, how many newest ones or None for all).

    `matches` is the filter's queryset, `cases` what a page reads the cases from, `total`
    how many matches there are (or about). With more than RANKED_MATCHES matches only the
    newest are ranked. Where the facet index knows the matches (or, for a common word,
    the cases the other filters let through), it narrows them down to a few months' worth
    of ids, so the ranking query reads few search vectors (index=False when the cases
    include drafts, which the index leaves out). For a search counted on the sample, the
    newest months searched may hold fewer than RANKED_MATCHES: those are ranked, the newest
    ones all the same, and the number says how many. The caller orders the result.
    """
    newest = _newest_match_ids(case_filter, text) if index else None
    if newest is not None:
        ranked = _newest_only(total)
        if len(newest) < min(RANKED_MATCHES, total):
            # A search counted on the sample: only its newest months were searched.
            ranked = len(newest)
        return rank_cases(with_ids(cases, newest), text), ranked
    if total > RANKED_MATCHES:
        return newest_matches(matches, cases, text, limit=RANKED_MATCHES), RANKED_MATCHES
    return matches, None


def _newest_only(total):
    return RANKED_MATCHES if total > RANKED_MATCHES else None


def with_ids(queryset, ids):
    """The cases of the queryset with the given ids: one array parameter, however many."""
    return among(queryset, "id", ids)


def among(queryset, column, values, exclude=False):
    """`queryset`'s rows whose `column` is one of `values` (with exclude: is none of them),
    given as one array parameter however many they are. Django's `__in` prepares and
    writes out each value: seconds for the 100,000 cases of a big import."""
    table = queryset.model._meta.db_table
    test = "<> ALL" if exclude else "= ANY"
    return queryset.extra(where=[f'"{table}"."{column}" {test}(%s)'], params=[list(values)])


def _newest_match_ids(case_filter, text):
    """The ids of the RANKED_MATCHES newest matches, through the facet index, or None."""
    from cases.facets import newest_matching
    from cases.facets.index import NEWEST_MIN_MATCHES
    from cases.models import Case

    found = newest_matching(case_filter, RANKED_MATCHES)
    if found is None:
        return None
    if found.searched:
        return list(found.ids)  # exactly the newest matches: nothing left to ask SQL
    if found.since is not None:
        # The candidates are the filter's cases dated since that day: said so, PostgreSQL
        # ANDs the GIN index's bitmap with the date index's and reads the search vectors of
        # the rows in both. Given as an array of ids, it walked the ids and read every
        # candidate's vector, or checked each matching row against the whole array.
        matches = case_filter.qs.prefetch_related(None).filter(date__gte=found.since)
    else:
        matches = with_ids(Case.objects.all(), found.ids).filter(search_vector=search_query(text))
    newest = matches.order_by(F("date").desc(nulls_last=True), "-id").values_list("id", flat=True)
    ids = list(newest[:RANKED_MATCHES])
    if len(ids) < min(RANKED_MATCHES, NEWEST_MIN_MATCHES) and not found.complete:
        return None  # the sample's share was off: fewer matches than a page needs
    # Fewer than RANKED_MATCHES: all the matches since a day, the newest ones all the same.
    return ids


# A search longer than this is refused (a 400 naming `q`); words past MAX_QUERY_TERMS are
# left out. Nobody types more, and each term costs the ranking and the headlines.
MAX_QUERY_LENGTH = 500
MAX_QUERY_TERMS = 32

# A phrase in quotes (perhaps negated, perhaps unclosed), or a run of other characters.
QUERY_TOKEN = re.compile(r'(-*)"([^"]*)"?|[^\s"]+')
# A word as a term of a query: word characters, perhaps joined by single - or . ("covid-19",
# "u.s"); anything else in a token only separates words.
TERM_WORD = re.compile(r"\w+(?:[-.]\w+)*")


def clean_query(text):
    """`text` rebuilt in plain websearch syntax: words, "phrases", -negations and `or`.

    PostgreSQL's websearch_to_tsquery() fails ("tsquery stack too small") on runs of
    operators with nothing to apply them to, like 33 dashes. Here a token without a word
    is dropped, a `-` only negates the word or phrase it starts, punctuation inside a token
    only separates words, `or` stands only between terms, and only the first
    MAX_QUERY_TERMS terms are kept. The result is what the search means, and cleaning it
    again changes nothing.
    """
    terms = []
    pending_or = False
    for match in QUERY_TOKEN.finditer(text):
        if len(terms) >= MAX_QUERY_TERMS:
            break
        if match.group(2) is not None:  # a phrase
            words = TERM_WORD.findall(match.group(2))
            if not words:
                continue
            negation = "-" if match.group(1) else ""
            found = [negation + '"' + " ".join(words) + '"']
        else:
            token = match.group()
            negation = "-" if token.startswith("-") else ""
            body = token.lstrip("-")
            if body.lower() == "or" and not negation:
                pending_or = bool(terms)
                continue
            found = [negation + word for word in TERM_WORD.findall(body)]
        for term in found[: MAX_QUERY_TERMS - len(terms)]:
            if pending_or:
                terms.append("or")
                pending_or = False
            terms.append(term)
    return " ".join(terms)


def search_query(text):
    return SearchQuery(clean_query(text), search_type="websearch", config=SEARCH_CONFIG)


ADMIN_WORD = re.compile(r"[^\W_]+")


def prefix_query(text):
    """A query for cases with every word of `text`, each word also as the start of a longer
    one ("krem occup" finds "Kremlin" and "occupation"), or None if `text` has no word.

    For editors finding a case as they type (admin search and autocomplete), through the
    full-text index: a substring search read every case's title and summary.
    """
    words = ADMIN_WORD.findall(text)
    if not words:
        return None
    raw = " & ".join(f"'{word}':*" for word in words)
    return SearchQuery(raw, search_type="raw", config=SEARCH_CONFIG)


def search_cases(queryset, text):
    """Cases matching `text` in websearch syntax, annotated with `rank`."""
    return rank_cases(queryset.filter(search_vector=search_query(text)), text)


def rank_cases(queryset, text):
    """The cases annotated with their `rank` for `text`."""
    return queryset.annotate(rank=SearchRank(F("search_vector"), search_query(text)))


# Word characters of a query, outside of the websearch operators `"`, `-` and `or`.
QUERY_WORD = re.compile(r"\w+", re.UNICODE)
# A word is corrected only when it is at least this similar to a known word (pg_trgm 0..1).
MIN_SIMILARITY = 0.35

# The closest word of the word list that a published case holds now. The list only grows
# (words of a withdrawn or edited case stay until `manage.py rebuild_search_words`), so each
# candidate, most similar first, is looked up among the published cases by their search
# vectors (GIN index, stemmed), then in their words as written: a word that only a draft, a
# case in review or a withdrawn case has is never proposed.

CORRECTION_SQL = f"""
SELECT t.token, best.word
FROM unnest(%s::text[]) AS t(token)
CROSS JOIN LATERAL (
    SELECT candidate.word FROM (
        SELECT w.word FROM cases_searchword w
        WHERE w.word %% lower(unaccent(t.token))
          AND similarity(w.word, lower(unaccent(t.token))) >= %s
        ORDER BY similarity(w.word, lower(unaccent(t.token))) DESC,
                 abs(length(w.word) - length(t.token)), w.word
        OFFSET 0  -- sorted first; then only the first candidates are looked up
    ) AS candidate
    WHERE EXISTS (
        SELECT 1 FROM cases_case c
        WHERE c.search_vector @@ plainto_tsquery('disinfo', candidate.word)
          AND c.status = 'published'
          AND {CASE_WORDS_SQL} @@ plainto_tsquery('simple', candidate.word)
        OFFSET 0  -- a lookup per candidate through the GIN index, not a join over cases
    )
    LIMIT 1
) AS best
"""


def approximate_query(text):
    """`text` with each word that no published case contains replaced by the closest one.

    Returns None when nothing could be corrected. Operators (quotes, -, or) are kept, so
    `"kazakstan protests" -lituania` becomes `"kazakhstan protests" -lithuania`.
    """
    tokens = sorted(
        {m.group() for m in QUERY_WORD.finditer(text) if len(m.group()) >= 3} - {"or", "OR", "Or"}
    )
    if not tokens:
        return None
    with read_connection().cursor() as cursor:
        cursor.execute(CORRECTION_SQL, [tokens, MIN_SIMILARITY])
        best = dict(cursor.fetchall())
    corrections = {
        token: word
        for token, word in best.items()
        if word != _fold(token)  # the word exists as typed: nothing to correct
    }
    if not corrections:
        return None
    return QUERY_WORD.sub(lambda m: corrections.get(m.group(), m.group()), text)


def _fold(word):
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Headlines mark matches with control characters that cannot occur in text typed by an
# editor; the text is then HTML-escaped and only those marks become <mark> elements.
MARK_START, MARK_STOP = "\x02", "\x03"
SNIPPET_FRAGMENT_DELIMITER = " … "
ELLIPSIS = "…"


def with_headlines(queryset, text):
    """Annotate `title_headline` and `summary_headline`: the matches of `text` marked."""
    query = search_query(text)
    marks = {"start_sel": MARK_START, "stop_sel": MARK_STOP, "config": SEARCH_CONFIG}
    return queryset.annotate(
        title_headline=SearchHeadline("title", query, highlight_all=True, **marks),
        summary_headline=SearchHeadline(
            "summary",
            query,
            max_words=40,
            min_words=20,
            max_fragments=2,
            fragment_delimiter=SNIPPET_FRAGMENT_DELIMITER,
            **marks,
        ),
    )


def highlighted(headline, text=None):
    """Safe HTML of a headline: everything escaped, only the matches in <mark>.

    Given the `text` it was cut from, an ellipsis marks where the headline starts after
    the text's start or stops before its end, so a snippet never reads as the whole."""
    if text is not None:
        plain = " ".join(headline.replace(MARK_START, "").replace(MARK_STOP, "").split())
        whole = " ".join(text.split())
        fragments = plain.split(SNIPPET_FRAGMENT_DELIMITER.strip())
        first, last = fragments[0].strip(), fragments[-1].strip()
        if first and not whole.startswith(first):
            headline = f"{ELLIPSIS} {headline.lstrip()}"
        if last and not whole.endswith(last):
            headline = f"{headline.rstrip()} {ELLIPSIS}"
    html = escape(headline).replace(MARK_START, "<mark>").replace(MARK_STOP, "</mark>")
    return mark_safe(html)
