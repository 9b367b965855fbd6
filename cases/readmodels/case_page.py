"""A published case with everything its page shows, read in one query.

    case = published_case_for_page(pk)  # None if no published case has this id
    prefetch_list_relations(page_of_cases)  # what a list shows of each, in one query

The case comes with the same related objects, in the same order, as
Case.objects.published().with_related_data() plus the published related cases and the
correction notes: its issue, languages, countries, keywords, appearances with their
outlets, published related cases (id, title, slug and date) and correction notes. They sit
in the caches prefetch_related() fills, so `case.keywords.all()` and the rest read them
without a query, in templates and in cases.site.claimreview alike.

The ORM would take seven queries for this. Their round trips, and building and compiling
seven querysets, were most of the time of a case page; one statement with a JSON array per
relation costs about one round trip. It is a prepared statement (cases.readmodels.prepared):
planning it took longer than running it. It reads the data version too (with_version()). The
columns come from the models' fields, so a new field is read too; the tests hold the result
equal to the ORM's.
"""

import functools

from django.db.models import QuerySet

from cases.freshness.dataversion import execute_with_version, with_version
from cases.models import Appearance, Case, CorrectionNote, Country, Issue, Keyword, Language, Outlet
from cases.readmodels import prepared
from disinfo_db.routers import read_connection

RELATED_CASE_FIELDS = ("id", "title", "slug", "date")
CASE_FIELDS = [field for field in Case._meta.concrete_fields if field.attname != "search_vector"]


def _json_object(model, alias, names=None):
    """json_build_object() of a row's fields, keyed by attribute name."""
    fields = (
        [model._meta.get_field(name) for name in names] if names else model._meta.concrete_fields
    )
    pairs = ", ".join(f"'{field.attname}', {alias}.{field.column}" for field in fields)
    return f"json_build_object({pairs})"


# Each relation a list shows (with_related_data()), in the order its model or
# with_related_data() gives it, of the row `c`. Labels are looked up by id
# (= ANY(ARRAY(...))): joined, the planner hashed the whole keyword table.
LIST_RELATIONS_SQL = f"""
    (SELECT json_agg({_json_object(Language, "l")} ORDER BY l.name)
        FROM cases_language l WHERE l.id = ANY(ARRAY(
            SELECT x.language_id FROM cases_case_languages x WHERE x.case_id = c.id))),
    (SELECT json_agg({_json_object(Country, "n")} ORDER BY n.name)
        FROM cases_country n WHERE n.id = ANY(ARRAY(
            SELECT x.country_id FROM cases_case_countries x WHERE x.case_id = c.id))),
    (SELECT json_agg({_json_object(Keyword, "k")} ORDER BY k.name)
        FROM cases_keyword k WHERE k.id = ANY(ARRAY(
            SELECT x.keyword_id FROM cases_case_keywords x WHERE x.case_id = c.id))),
    (SELECT json_agg(json_build_object('appearance', {_json_object(Appearance, "a")},
                                       'outlet', {_json_object(Outlet, "o")}) ORDER BY a.id)
        FROM cases_appearance a LEFT JOIN cases_outlet o ON o.id = a.outlet_id
        WHERE a.case_id = c.id)"""

PAGE_SQL = f"""
SELECT {", ".join(f"c.{field.column}" for field in CASE_FIELDS)},
    (SELECT {_json_object(Issue, "i")} FROM cases_issue i WHERE i.id = c.issue_id),
    {LIST_RELATIONS_SQL},
    (SELECT json_agg({_json_object(Case, "r", RELATED_CASE_FIELDS)} ORDER BY r.date DESC, r.id DESC)
        FROM cases_case_related x JOIN cases_case r ON r.id = x.to_case_id
        WHERE x.from_case_id = c.id AND r.status = %(published)s),
    (SELECT json_agg({_json_object(CorrectionNote, "t")} ORDER BY t.created_at, t.id)
        FROM cases_correctionnote t WHERE t.case_id = c.id)
FROM cases_case c
WHERE c.id = %(id)s AND c.status = %(published)s
"""


# The data version comes with the case: on a page the page cache has not kept yet, it is
# the request's reading (cases.freshness.dataversion), and costs no round trip of its own.
PAGE_SQL_WITH_VERSION = with_version(PAGE_SQL)

# The largest id a bigint holds: a longer number in a URL names no case.
MAX_ID = 2**63 - 1


def published_case_for_page(pk):
    if pk is None or not 0 < pk <= MAX_ID:
        return None
    with read_connection().cursor() as cursor:
        params = {"id": pk, "published": Case.Status.PUBLISHED}
        rows = execute_with_version(cursor, "case_page", PAGE_SQL_WITH_VERSION, params)
    if not rows:
        return None
    row = rows[0]
    n = len(CASE_FIELDS)
    case = Case.from_db(read_connection().alias, [field.attname for field in CASE_FIELDS], row[:n])
    issue, languages, countries, keywords, appearances, related, notes = row[n:]
    case.issue = _instance(Issue, issue) if issue else None
    _fill_list_relations(case, languages, countries, keywords, appearances)
    _prefetched(case, "related", [_instance(Case, data) for data in related or []])
    case_notes = []
    for data in notes or []:
        note = _instance(CorrectionNote, data)
        note.case = case
        case_notes.append(note)
    _prefetched(case, "correction_notes", case_notes)
    return case


# The relations of a page of the case list, for cases already read (the page's query).
LIST_SQL = f"""
SELECT c.id, {LIST_RELATIONS_SQL}
FROM cases_case c
WHERE c.id = ANY(%(ids)s)
"""


def prefetch_list_relations(cases):
    """Fill the languages, countries, keywords and appearances (with their outlets) of
    `cases` (a page of the list, read with their issue) as with_related_data()'s prefetches
    would, in one statement instead of four: the same objects, in the same order."""
    if not cases:
        return
    with read_connection().cursor() as cursor:
        prepared.execute(cursor, "case_list_relations", LIST_SQL, {"ids": [c.pk for c in cases]})
        relations = {row[0]: row[1:] for row in cursor.fetchall()}
    for case in cases:
        _fill_list_relations(case, *relations.get(case.pk, (None, None, None, None)))


def _fill_list_relations(case, languages, countries, keywords, appearances):
    _prefetched(case, "languages", [_instance(Language, data) for data in languages or []])
    _prefetched(case, "countries", [_instance(Country, data) for data in countries or []])
    _prefetched(case, "keywords", [_instance(Keyword, data) for data in keywords or []])
    case_appearances = []
    for data in appearances or []:
        appearance = _instance(Appearance, data["appearance"])
        outlet = data["outlet"]
        appearance.outlet = _instance(Outlet, outlet) if outlet["id"] is not None else None
        appearance.case = case
        case_appearances.append(appearance)
    _prefetched(case, "appearances", case_appearances)


def _instance(model, data):
    """A model instance from a JSON object of some of its fields (the rest deferred)."""
    fields, names = _fields_of(model, tuple(data))
    values = [field.to_python(data[field.attname]) for field in fields]
    return model.from_db(read_connection().alias, names, values)


@functools.cache
def _fields_of(model, keys):
    """The concrete fields of `model` named in `keys`, and their attribute names: the same
    for every object of a statement, so found once."""
    fields = [field for field in model._meta.concrete_fields if field.attname in keys]
    return fields, [field.attname for field in fields]


def _prefetched(instance, name, objects):
    """Fill the cache prefetch_related(name) would fill, with objects already read.

    The cache holds a plain queryset of the related model: the related manager's own
    (get_queryset()) would build its filter and join for nothing, a third of the time of
    filling a list page's relations."""
    queryset = QuerySet(model=instance._meta.get_field(name).related_model)
    queryset._result_cache = objects
    queryset._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[name] = queryset
