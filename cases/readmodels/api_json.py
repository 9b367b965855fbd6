"""Cases as the API represents them (CaseSerializer), written by PostgreSQL.

    rows = case_representations(ids, {"request": request})  # [(id, version, updated_at, JSON)]
    data = represent_cases(ids, context)                      # the same, as Python objects

Its reference is CaseSerializer (cases.api.serializers) over prefetch_for_case_serializer().
The statements take their fields, in order, from the serializers (a CaseSerializer field
without SQL here stops this module loading), and tests/contracts/ holds the two equal, for
the public and for editors.

Reading the cases as model instances and passing them through the serializer and its
nested serializers took most of the time of an API list page and of an API case. Each
statement here is prepared (cases.readmodels.prepared): the API list and case, the
editors' list, the public case with the data version, and the newest page of the list.
"""

import json

from cases.api.serializers import (
    AppearanceSerializer,
    CaseSerializer,
    CountrySerializer,
    KeywordSerializer,
    LanguageSerializer,
    OutletSerializer,
    RelatedCaseSerializer,
    case_url_prefix,
)
from cases.freshness.dataversion import execute_with_version, with_version
from cases.readmodels import prepared
from disinfo_db.routers import read_connection


def _json_object(serializer_class, alias):
    """json_build_object() of the serializer's fields, from the columns of the same names."""
    pairs = ", ".join(f"'{name}', {alias}.{name}" for name in serializer_class.Meta.fields)
    return f"json_build_object({pairs})"


def _appearance_json_object():
    outlet = f"CASE WHEN o.id IS NULL THEN NULL ELSE {_json_object(OutletSerializer, 'o')} END"
    pairs = ", ".join(
        f"'{name}', {outlet if name == 'outlet' else f'a.{name}'}"
        for name in AppearanceSerializer.Meta.fields
    )
    return f"json_build_object({pairs})"


def _utc_timestamp(column):
    """A timestamptz as DRF writes it with TIME_ZONE = "UTC": ISO 8601, microseconds only
    when there are any, and Z for the zone."""
    # One to_char() with the microseconds, taken off again when there are none: '.000000'
    # appears nowhere else in the text. Two to_char() calls and an extract() cost an export
    # about 1 µs a case.
    utc = f"({column} AT TIME ZONE 'UTC')"
    return f"replace(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z'"


def _case_url(alias):
    """A case's absolute URL, as absolute_case_url() writes it, from case_url_prefix()."""
    return f"%(url_prefix)s::text || {alias}.id || '/' || {alias}.slug || '/'"


def _case_field_sql(include_drafts):
    """What each CaseSerializer field is made of, in SQL; `c` is the case."""
    visible = "true" if include_drafts else "r.status = 'published'"
    related = ", ".join(
        f"'{name}', {_case_url('r') if name == 'url' else f'r.{name}'}"
        for name in RelatedCaseSerializer().fields
    )
    return {
        "id": "c.id",
        "url": _case_url("c"),
        "source_id": "c.source_id",
        "source_url": "c.source_url",
        "status": "c.status",
        "title": "c.title",
        "summary": "c.summary",
        "disproof": "c.disproof",
        "date": "c.date",
        "issue": "(SELECT i.number FROM cases_issue i WHERE i.id = c.issue_id)",
        # Labels are looked up by id (= ANY(ARRAY(...))): joined, the planner hashed the
        # whole keyword table for every case.
        "languages": f"""(SELECT json_agg({_json_object(LanguageSerializer, "l")} ORDER BY l.name)
            FROM cases_language l WHERE l.id = ANY(ARRAY(
                SELECT x.language_id FROM cases_case_languages x WHERE x.case_id = c.id)))""",
        "countries": f"""(SELECT json_agg({_json_object(CountrySerializer, "n")} ORDER BY n.name)
            FROM cases_country n WHERE n.id = ANY(ARRAY(
                SELECT x.country_id FROM cases_case_countries x WHERE x.case_id = c.id)))""",
        "keywords": f"""(SELECT json_agg({_json_object(KeywordSerializer, "k")} ORDER BY k.name)
            FROM cases_keyword k WHERE k.id = ANY(ARRAY(
                SELECT x.keyword_id FROM cases_case_keywords x WHERE x.case_id = c.id)))""",
        "appearances": f"""(SELECT json_agg({_appearance_json_object()} ORDER BY a.id)
            FROM cases_appearance a LEFT JOIN cases_outlet o ON o.id = a.outlet_id
            WHERE a.case_id = c.id)""",
        "related": f"""(SELECT json_agg(json_build_object({related}) ORDER BY r.id)
            FROM cases_case_related x JOIN cases_case r ON r.id = x.to_case_id
            WHERE x.from_case_id = c.id AND {visible})""",
        "created_at": _utc_timestamp("c.created_at"),
        "updated_at": _utc_timestamp("c.updated_at"),
        "published_at": f"CASE WHEN c.published_at IS NULL THEN NULL ELSE "
        f"{_utc_timestamp('c.published_at')} END",
    }


LIST_FIELDS = ("languages", "countries", "keywords", "appearances", "related")


def _case_json_sql(include_drafts):
    """The JSON object CaseSerializer makes of the case `c`, as SQL. The public sees
    published cases only, without status."""
    field_sql = _case_field_sql(include_drafts)
    names = [n for n in CaseSerializer.Meta.fields if include_drafts or n != "status"]
    pairs = ", ".join(
        f"'{name}', "
        + (f"coalesce({field_sql[name]}, '[]')" if name in LIST_FIELDS else field_sql[name])
        for name in names
    )
    return f"json_build_object({pairs})::text"


def _cases_json_sql(include_drafts):
    """Many cases as CaseSerializer represents them, in the order of their ids, each a JSON
    object written by PostgreSQL."""
    return f"""
SELECT c.id, c.version, c.updated_at, {_case_json_sql(include_drafts)}
FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS page(id, position)
JOIN cases_case c ON c.id = page.id
WHERE {"true" if include_drafts else "c.status = 'published'"}
ORDER BY page.position
"""


CASES_JSON_SQL = {False: _cases_json_sql(False), True: _cases_json_sql(True)}
# One published case, with the data version (cases.freshness.dataversion.with_version()).
PUBLIC_CASE_JSON_SQL = with_version(CASES_JSON_SQL[False])


def _newest_page_sql(after_key):
    """A page of the public list in its default order (newest first), with each case's
    JSON: `size` cases and the date and id of one more, which says there is a next page.

    From the start, or after the dated case (%(date)s, %(id)s), going on through dated
    cases only; the page served by case_published_date_idx as the list's own is.
    """
    after = "AND date <= %(date)s AND (date < %(date)s OR id < %(id)s)" if after_key else ""
    order = "date DESC NULLS LAST, id DESC"
    # The page's rows are the case rows themselves, not ids joined back to cases_case: a
    # prepared statement's plan does not know the page's size and would hash the table.
    return f"""
SELECT c.id, c.date, CASE WHEN c.position <= %(size)s THEN {_case_json_sql(False)} END
FROM (
    SELECT *, row_number() OVER (ORDER BY {order}) AS position
    FROM (
        SELECT * FROM cases_case WHERE status = 'published' {after}
        ORDER BY {order} LIMIT %(size)s + 1
    ) AS newest
) AS c
ORDER BY c.position
"""


NEWEST_PAGE_SQL = {False: _newest_page_sql(False), True: _newest_page_sql(True)}


def newest_cases_page(size, after=None, request=None):
    """[(id, date, JSON text)] of the public list's page in its default order, as
    case_representations() writes each case; one more row (with no JSON) when a next page
    follows. `after` is the (date, id) of a dated case the page starts after.

    One prepared statement reads the page and writes its cases: what a partner walking
    the whole list asks for, page after page.
    """
    params = {"size": size, "url_prefix": case_url_prefix(request)}
    if after is not None:
        params["date"], params["id"] = after
    name = "newest_page_after" if after is not None else "newest_page"
    with read_connection().cursor() as cursor:
        prepared.execute(cursor, name, NEWEST_PAGE_SQL[after is not None], params)
        return cursor.fetchall()


def represent_cases(cases, context):
    """[CaseSerializer(case, context=context).data for case in cases], in one query.

    `cases` are cases or their ids. Without include_drafts in the context, drafts are
    left out.
    """
    return [json.loads(text) for _, _, _, text in case_representations(cases, context)]


def case_representations(cases, context):
    """[(id, version, updated_at, JSON text)] of the cases, as represent_cases() but as text.

    PostgreSQL writes each case's representation, URLs and all (CASES_JSON_SQL, a prepared
    statement). Reading the cases as model instances and passing them through the
    serializer and its nested serializers took most of the time of an API list page, and
    of an API case; so did reading its JSON back into Python to add the URLs and writing
    it out again.
    """
    ids = [getattr(case, "pk", case) for case in cases]
    if not ids:
        return []
    include_drafts = bool(context.get("include_drafts", False))
    params = {"ids": ids, "url_prefix": case_url_prefix(context.get("request"))}
    name = "cases_json_editor" if include_drafts else "cases_json"
    with read_connection().cursor() as cursor:
        prepared.execute(cursor, name, CASES_JSON_SQL[include_drafts], params)
        return cursor.fetchall()


def public_case_representation(pk, request):
    """(id, version, updated_at, JSON text) of a published case, or None.

    As case_representations() for the public, in the same statement as the data version:
    a case the page cache has not kept yet costs one round trip.
    """
    if pk is None:
        return None
    params = {"ids": [pk], "url_prefix": case_url_prefix(request)}
    with read_connection().cursor() as cursor:
        rows = execute_with_version(cursor, "case_json", PUBLIC_CASE_JSON_SQL, params)
    return rows[0] if rows else None
