"""Claim matching: the published cases most like a piece of text, and why.

    matches = match_cases("MI6 is behind the riots in Kazakhstan", Case.objects.published())
    similar = similar_cases_for(case)   # the case page and /api/v1/cases/<id>/similar/

One similarity serves the public match page and API, similar cases on a case page, and the
editors' duplicate warning (cases.search.similar). Two tiers answer through match_cases():

- **Lexical** (always): "more like this" in PostgreSQL. The text's words are stemmed with the
  `disinfo` configuration (so word order and inflection do not matter), names written in
  Cyrillic are transliterated (unidecode), and names are recognised: the taxonomy's countries
  and keywords, and the gazetteer's people, organisations and places with their variant
  spellings (cases.search.gazetteer). Each term weighs its inverse document frequency (BM25's
  idf) times ts_rank() of the term alone (a title or keyword counts more than the debunk);
  a case shares the countries and keywords the text names adds to that.
- **Semantic** (when DISINFO_EMBEDDING_MODEL names a model directory): multilingual static
  embeddings (cases.search.semantic); its ranking is fused with the lexical one.

Speed at a million cases. The candidates are found through the GIN index on search_vector
with an OR of the text's rarest terms only, rarest by PostgreSQL's own statistics of the
vectors (pg_stats, kept by ANALYZE): a common word would fetch half the table. If even the
rarest term is common, a candidate must share two of the rarest terms. At most CANDIDATES
are ranked; each one's vector is read once (detoasted in a materialised CTE) and scored
against every term.
"""

import itertools
import math
import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery
from unidecode import unidecode

from cases.search.gazetteer import GAZETTEER
from disinfo_db.routers import read_connection

MAX_TEXT_LENGTH = 2000  # characters of a claim: more is refused (400 naming `text`)
DEFAULT_LIMIT = 10
MAX_LIMIT = 50
MAX_TERMS = 24  # the rarest terms of a long text are scored; the others left out
CANDIDATE_TERMS = 8  # at most this many of the rarest terms find the candidates ...
CANDIDATES = 400  # ... and at most this many candidates are ranked
PAIR_TERMS = 6  # when every term is common, pairs of these rarest ones find candidates
# ts_rank's weights for the labels D, C, B, A: title and keywords (A), summary (B), debunk (C).
RANK_WEIGHTS = "{0.05, 0.2, 0.5, 1.0}"
ENTITY_SHARE = 0.25  # of a score that comes from shared countries and keywords

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
LATIN_TOKEN = re.compile(r"[a-z0-9]+")


def fold(text):
    """Text as names are compared: Latin letters (transliterated), lower case."""
    return unidecode(text).casefold()


def _tokens(text):
    return tuple(LATIN_TOKEN.findall(fold(text)))


def _is_acronym(word):
    return len(word) <= 4 and word.isupper()


def _gazetteer_index():
    """{variant's tokens: (canonical name, kind)}; and the variants that are acronyms ("US",
    "WHO"), which only count written in capitals: in lower case some are common words."""
    index, acronyms = {}, set()
    for canonical, (kind, variants) in GAZETTEER.items():
        for variant in (canonical, *variants):
            tokens = _tokens(variant)
            index.setdefault(tokens, (canonical, kind))
            if _is_acronym(unidecode(variant)):
                acronyms.add(tokens)
    return index, acronyms


GAZETTEER_INDEX, GAZETTEER_ACRONYMS = _gazetteer_index()
LONGEST_NAME = max(len(tokens) for tokens in GAZETTEER_INDEX)


@dataclass
class Entity:
    kind: str  # person, organisation, place, country, keyword
    name: str
    id: int | None = None  # a country's or keyword's id

    def as_json(self):
        return {"kind": self.kind, "name": self.name}


@dataclass
class Analysis:
    """What a text is matched by: its terms (lexeme, the word as written, idf), rarest
    first, and the names it mentions."""

    terms: list = field(default_factory=list)
    entities: list = field(default_factory=list)
    name_lexemes: set = field(default_factory=set)  # the terms that are names
    total: float = 0  # how many cases the statistics counted (0: no statistics)

    @property
    def country_ids(self):
        return [e.id for e in self.entities if e.kind == "country"]

    @property
    def keyword_ids(self):
        return [e.id for e in self.entities if e.kind == "keyword"]


@dataclass
class Match:
    id: int
    title: str
    slug: str
    date: object
    score: float
    terms: list  # the words of the text the case shares
    entities: list  # Entity: the names of the text the case is tagged with or mentions
    related: bool = False  # an editor linked it to the case (similar cases)
    tier: str = "lexical"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("cases:detail", kwargs={"pk": self.id, "slug": self.slug})


def gazetteer_names(text):
    """[(canonical name, kind)] of the gazetteer's names the text mentions, in order."""
    written = re.findall(r"[A-Za-z0-9]+", unidecode(text))
    tokens = tuple(token.casefold() for token in written)
    found = {}
    i = 0
    while i < len(tokens):
        for size in range(min(LONGEST_NAME, len(tokens) - i), 0, -1):
            name = tokens[i : i + size]
            hit = GAZETTEER_INDEX.get(name)
            if hit and name in GAZETTEER_ACRONYMS and not written[i].isupper():
                hit = None
            if hit:
                found.setdefault(hit[0], hit)
                i += size
                break
        else:
            hit = _inflected(tokens[i])
            if hit:
                found.setdefault(hit[0], hit)
            i += 1
    return list(found.values())


def _inflected(token):
    """The name a word is an inflected form of: the word less an ending of up to three
    letters is a known name of five letters or more, or such a name less its own ending
    of up to two letters ("Kazakhstane" from "Казахстане", "Zelenskogo" from
    "Зеленского", "Putina")."""
    for cut in range(1, 4):
        if len(token) - cut < 5:
            break
        hit = INFLECTION_INDEX.get(token[:-cut])
        if hit:
            return hit
    return None


def _inflection_index():
    index = {}
    for tokens, hit in GAZETTEER_INDEX.items():
        if len(tokens) != 1 or len(tokens[0]) < 5 or not tokens[0].isalpha():
            continue
        word = tokens[0]
        for cut in range(0, 3):
            if len(word) - cut >= 5:
                index.setdefault(word[: len(word) - cut], hit)
    return index


INFLECTION_INDEX = _inflection_index()


def expanded_text(text):
    """What the terms of a text are taken from: the canonical form of each name it
    mentions, its transliteration where it has other letters than Latin, and the text.
    Terms as rare as each other count in that order."""
    parts = [canonical for canonical, _ in gazetteer_names(text)]
    latin = unidecode(text)
    if latin != text:
        parts.append(latin)
    parts.append(text)
    return "\n".join(parts)


# One statement: each term's lexeme, the first word it came from, and its share of the
# cases from pg_stats (NULL where the statistics do not list it: rarer than those they
# do); how many cases the statistics counted; and the countries and keywords the text
# names (a stemmed phrase, or an acronym such as "UK" written in capitals).
ANALYSIS_SQL = """
WITH stats AS (
    SELECT most_common_elems::text::text[] AS lexemes, most_common_elem_freqs AS shares
    FROM pg_stats
    WHERE schemaname = current_schema() AND tablename = 'cases_case'
      AND attname = 'search_vector'
), text_vector AS (
    SELECT to_tsvector('disinfo', %(text)s) AS v
), terms AS (
    SELECT DISTINCT ON (l.lexeme) l.lexeme, w.word, w.position
    FROM unnest(%(words)s::text[]) WITH ORDINALITY AS w(word, position)
    CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('disinfo', w.word))) AS l(lexeme)
    ORDER BY l.lexeme, w.position
)
SELECT 'term', t.lexeme, t.word, t.position,
       stats.shares[array_position(stats.lexemes, t.lexeme)],
       stats.shares[array_length(stats.lexemes, 1) + 1]
FROM terms t LEFT JOIN stats ON true
UNION ALL
SELECT 'cases', NULL, NULL, NULL, greatest(reltuples, 0), NULL
FROM pg_class WHERE oid = 'cases_case'::regclass
UNION ALL
SELECT 'country', n.name, NULL, n.id, NULL, NULL
FROM cases_country n, text_vector
WHERE CASE WHEN length(n.name) <= 4 AND n.name = upper(n.name)
           THEN lower(n.name) = ANY(%(acronyms)s)
           ELSE numnode(phraseto_tsquery('disinfo', n.name)) > 0
                AND text_vector.v @@ phraseto_tsquery('disinfo', n.name) END
UNION ALL
SELECT 'keyword', k.name, NULL, k.id, NULL, NULL
FROM cases_keyword k, text_vector
WHERE CASE WHEN length(k.name) <= 4 AND k.name = upper(k.name)
           THEN lower(k.name) = ANY(%(acronyms)s)
           ELSE numnode(phraseto_tsquery('disinfo', k.name)) > 0
                AND text_vector.v @@ phraseto_tsquery('disinfo', k.name) END
"""


def analyse(text):
    """The terms and names of `text` (one query)."""
    names = gazetteer_names(text)
    expanded = expanded_text(text)
    words = WORD.findall(expanded)
    # Acronyms as written ("UK", "EU"): in lower case a few are stop words ("us", "who").
    acronyms = {w.lower() for w in WORD.findall(unidecode(text)) if w.isupper() and len(w) <= 4}
    acronyms |= {c.lower() for c, _ in names if len(c) <= 4 and c.isupper()}
    with read_connection().cursor() as cursor:
        cursor.execute(
            ANALYSIS_SQL, {"text": expanded, "words": words, "acronyms": sorted(acronyms)}
        )
        rows = cursor.fetchall()
    total = next((row[4] for row in rows if row[0] == "cases"), 0) or 0
    # The words of the names' canonical forms come first in `words` (expanded_text()).
    name_words = len(WORD.findall("\n".join(canonical for canonical, _ in names)))
    analysis = Analysis(total=total)
    terms = []
    for kind, name, word, position, share, least_share in rows:
        if kind == "term":
            terms.append((name, word, position, share, least_share))
        elif kind in ("country", "keyword"):
            analysis.entities.append(Entity(kind, name, position))
    for canonical, kind in names:
        if not any(e.name.casefold() == canonical.casefold() for e in analysis.entities):
            analysis.entities.append(Entity(kind, canonical))
    ranked = []
    for lexeme, word, position, share, least_share in terms:
        ranked.append((lexeme, word, _idf(share, least_share, total), position))
        if position <= name_words:
            analysis.name_lexemes.add(lexeme)
    # Rarest first; among terms as rare, the text's first.
    ranked.sort(key=lambda t: (-t[2], t[3]))
    analysis.terms = [(lexeme, word, idf) for lexeme, word, idf, _ in ranked[:MAX_TERMS]]
    return analysis


def _idf(share, least_share, total):
    """BM25's idf of a term in `share` of `total` cases. A term the statistics do not list
    is taken to be in half as many cases as the rarest term they list; without statistics
    (a table never analysed) every term weighs the same, as a rare one."""
    if not total:
        return COMMON_IDF
    if share is None:
        share = (least_share or 1 / total) / 2
    df = share * total
    return math.log(1 + (total - df + 0.5) / (df + 0.5))


def _ts_lexeme(lexeme):
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def candidate_queries(terms, names=frozenset(), total=0):
    """The tsqueries that find the candidates, most specific first.

    From the rarest terms: all of them; all but one; each pair; each rare term alone (one
    whose idf is at least COMMON_IDF). They are ordered by how many cases each is expected
    to find (a term's share of the cases times another's for a pair), so that a case
    sharing the most telling terms is found before the CANDIDATES are reached.
    """
    # Names first, unless they are in many cases: the most telling terms of a claim,
    # however rare its other words are (words in no case at all, or in another language).
    first = [
        t
        for t in terms
        if t[0] in names and (not total or math.exp(-t[2]) * total <= MAX_BRANCH_ROWS)
    ]
    ordered = first + [t for t in terms if t not in first]
    rarest = ordered[:CANDIDATE_TERMS]
    if not rarest:
        return []
    few = rarest[:PAIR_TERMS]
    share = [math.exp(-idf) for _, _, idf in few]  # about df / N, from idf = ln(N / df)
    branches = []
    if len(few) >= 2:
        branches.append((math.prod(share), list(range(len(few)))))
    if len(few) >= 3:
        for left_out in range(len(few)):
            kept = [i for i in range(len(few)) if i != left_out]
            branches.append((math.prod(share[i] for i in kept), kept))
    for a, b in itertools.combinations(range(len(few)), 2):
        branches.append((share[a] * share[b], [a, b]))
    for i, (_, _, idf) in enumerate(rarest):
        if idf >= COMMON_IDF or i == 0:
            branches.append((math.exp(-idf), [i]))
    branches.sort(key=lambda branch: branch[0])  # stable: as listed among equals
    # A branch expected to find many cases finds nothing telling, and its posting lists
    # are long: GIN reads them whole before the LIMIT can stop it.
    if total:
        branches = branches[:1] + [b for b in branches[1:] if b[0] * total <= MAX_BRANCH_ROWS]
    return [" & ".join(_ts_lexeme(rarest[i][0]) for i in chosen) for _, chosen in branches]


# A term in more than about 2% of the cases (idf below this) is too common to find
# candidates by alone: at a million cases it would fetch twenty thousand.
COMMON_IDF = math.log(1 + 0.98 / 0.02)
MAX_BRANCH_ROWS = 20_000
SENTINEL = "match-candidates-placeholder"


def candidates_sql(cases, analysis, exclude_ids=()):
    """(SQL, params) of the ids of at most CANDIDATES cases of the queryset `cases` found
    by candidate_queries(), each branch through the GIN index; PostgreSQL stops running
    branches once it has enough."""
    queries = candidate_queries(analysis.terms, analysis.name_lexemes, analysis.total)
    candidates = cases.order_by().filter(
        search_vector=SearchQuery(SENTINEL, search_type="raw", config="disinfo")
    )
    if exclude_ids:
        candidates = candidates.exclude(id__in=list(exclude_ids))
    sql, params = candidates.values("id")[:CANDIDATES].query.sql_with_params()
    at = params.index(SENTINEL)
    parts, all_params = [], []
    for query in queries:
        parts.append(f"({sql})")
        all_params.extend([*params[:at], query, *params[at + 1 :]])
    return f"SELECT id FROM ({' UNION ALL '.join(parts)}) AS found LIMIT {CANDIDATES}", all_params


RANK_SQL = """
WITH candidates AS MATERIALIZED ({candidates}),
docs AS MATERIALIZED (
    -- Each vector detoasted once (|| copies it), then scored against every term.
    SELECT c.id, c.title, c.slug, c.date, c.search_vector || ''::tsvector AS v
    FROM cases_case c WHERE c.id IN (SELECT id FROM candidates)
),
terms AS (
    SELECT t.word, t.idf, t.lexeme::tsquery AS q
    FROM unnest(%s::text[], %s::text[], %s::float8[]) AS t(lexeme, word, idf)
),
scored AS (
    SELECT d.id, d.title, d.slug, d.date, s.score, s.words,
        (SELECT count(*) FROM cases_case_countries x
         WHERE x.case_id = d.id AND x.country_id = ANY(%s)) +
        (SELECT count(*) FROM cases_case_keywords x
         WHERE x.case_id = d.id AND x.keyword_id = ANY(%s)) AS shared,
        ARRAY(SELECT x.country_id FROM cases_case_countries x
              WHERE x.case_id = d.id AND x.country_id = ANY(%s)) AS countries,
        ARRAY(SELECT x.keyword_id FROM cases_case_keywords x
              WHERE x.case_id = d.id AND x.keyword_id = ANY(%s)) AS keywords
    FROM docs d CROSS JOIN LATERAL (
        SELECT sum(t.idf * ts_rank(%s::float4[], d.v, t.q, 0)) AS score,
               array_agg(t.word ORDER BY t.idf DESC) AS words
        FROM terms t WHERE d.v @@ t.q
    ) s
)
SELECT id, title, slug, date, score, words, shared, countries, keywords FROM scored
"""


def _best_possible(terms):
    # A case with every term once in its title: ts_rank of one A occurrence is about 0.61.
    return sum(idf for _, _, idf in terms) * 0.6079 or 1.0


def lexical_matches(analysis, cases, limit, exclude_ids=()):
    """The `limit` best lexical matches of an analysed text among `cases` (a queryset
    of cases the caller may show, with its filters), best first, as Match objects."""
    if not analysis.terms:
        return []
    sql, params = candidates_sql(cases, analysis, exclude_ids)
    lexemes = [_ts_lexeme(t[0]) for t in analysis.terms]
    words = [t[1] for t in analysis.terms]
    idfs = [t[2] for t in analysis.terms]
    country_ids, keyword_ids = analysis.country_ids, analysis.keyword_ids
    entity_count = len(country_ids) + len(keyword_ids)
    best = _best_possible(analysis.terms)
    with read_connection().cursor() as cursor:
        # One message, so one transaction: the settings hold for this statement only. A
        # branch read in table order with a LIMIT looked cheaper to the planner than the
        # GIN index, and checked every vector on the way; the cost that turning that off
        # adds must not make it compile the statement (JIT took a second); the candidates'
        # vectors are held in memory while they are scored.
        cursor.execute(
            "SET LOCAL enable_seqscan = off; SET LOCAL jit = off; SET LOCAL work_mem = '32MB';"
            + RANK_SQL.format(candidates=sql),
            [
                *params,
                lexemes,
                words,
                idfs,
                country_ids,
                keyword_ids,
                country_ids,
                keyword_ids,
                RANK_WEIGHTS,
            ],
        )
        rows = cursor.fetchall()
    names = {(e.kind, e.id): e for e in analysis.entities if e.id is not None}
    found = []
    for pk, title, slug, date, score, words_shared, shared, countries, keywords in rows:
        lexical = min((score or 0) / best, 1.0)
        entity = shared / entity_count if entity_count else 0.0
        total = (1 - ENTITY_SHARE) * lexical + ENTITY_SHARE * entity
        if not entity_count:
            total = lexical
        shared_entities = [names[("country", i)] for i in countries] + [
            names[("keyword", i)] for i in keywords
        ]
        found.append(
            Match(pk, title, slug, date, total, list(dict.fromkeys(words_shared)), shared_entities)
        )
    found.sort(key=lambda m: (-m.score, -(m.date.toordinal() if m.date else 0), -m.id))
    _add_named_entities(found, analysis)
    return found[:limit]


def _add_named_entities(matches, analysis):
    """The gazetteer's names a match shares with the text among its terms: part of why."""
    for match in matches:
        shared_words = {fold(w) for w in match.terms}
        for entity in analysis.entities:
            named = entity.id is None and fold(entity.name) in shared_words
            if named and entity not in match.entities:
                match.entities.append(entity)


def match_cases(text, cases, limit=DEFAULT_LIMIT, exclude_ids=(), analysis=None):
    """(matches, tier): the cases of `cases` most like `text`, best first.

    The semantic tier takes part where a model is configured (cases.search.semantic).
    """
    from cases.search import semantic

    analysis = analysis or analyse(text)
    lexical = lexical_matches(analysis, cases, max(limit, semantic.FUSED_DEPTH), exclude_ids)
    if not semantic.enabled():
        return lexical[:limit], "lexical"
    meaning = semantic.semantic_matches(text, cases, semantic.FUSED_DEPTH, exclude_ids)
    return semantic.fuse(lexical, meaning, limit), "semantic+lexical"


SIMILAR_LIMIT = 5
SIMILAR_SUMMARY_CHARS = 400


def case_text(title, summary):
    """The text a case is matched by: its title twice (it is the claim), then the start of
    its summary."""
    return f"{title}\n{title}\n{(summary or '')[:SIMILAR_SUMMARY_CHARS]}"


def similar_cases_for(case, cases, limit=SIMILAR_LIMIT, related=()):
    """The editors' related cases of `case` first (`related`: (id, title, slug, date)),
    then the cases of `cases` most like it, without itself."""
    first = [
        Match(pk, title, slug, date, 1.0, [], [], related=True)
        for pk, title, slug, date in related[:limit]
    ]
    if len(first) >= limit:
        return first
    exclude = {case.pk, *(m.id for m in first)}
    text = case_text(case.title, case.summary)
    found, _ = match_cases(text, cases, limit - len(first), exclude_ids=exclude)
    return first + found


def similar_published_cases(case, limit=SIMILAR_LIMIT):
    """Similar cases of a published case as its page and the API show them: its published
    related cases (`case.related.all()`, as published_case_for_page() reads them) first."""
    from cases.models import Case

    related = [(r.pk, r.title, r.slug, r.date) for r in case.related.all()]
    return similar_cases_for(case, Case.objects.published(), limit, related=related)
