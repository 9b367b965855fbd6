"""Full-text search over cases.

Each case has a stored tsvector: title (weight A), keyword names (A), summary (B) and
disproof (C), in the `disinfo` text search configuration (English stemming with unaccent),
which migration 0001 creates. update_search_vectors() keeps it current; it is called on
every write path.
"""

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F

SEARCH_CONFIG = "disinfo"

UPDATE_SQL = """
UPDATE cases_case AS c SET search_vector =
    setweight(to_tsvector('disinfo', coalesce(c.title, '')), 'A') ||
    setweight(to_tsvector('disinfo', coalesce((
        SELECT string_agg(k.name, ' ') FROM cases_case_keywords ck
        JOIN cases_keyword k ON k.id = ck.keyword_id WHERE ck.case_id = c.id
    ), '')), 'A') ||
    setweight(to_tsvector('disinfo', coalesce(c.summary, '')), 'B') ||
    setweight(to_tsvector('disinfo', coalesce(c.disproof, '')), 'C')
"""


def update_search_vectors(case_ids=None):
    """Recompute the stored search vector of the given cases (all when None)."""
    with connection.cursor() as cursor:
        if case_ids is None:
            cursor.execute(UPDATE_SQL)
        else:
            cursor.execute(UPDATE_SQL + " WHERE c.id = ANY(%s)", [list(case_ids)])


def search_query(text):
    return SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)


def search_cases(queryset, text):
    """Cases matching `text` in websearch syntax, annotated with `rank`."""
    query = search_query(text)
    return queryset.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query))
