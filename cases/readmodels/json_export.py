"""The JSON and NDJSON exports written by PostgreSQL: what the site, export_cases and the
dumps send.

    lines = sql_ndjson_lines(Case.objects.published().order_by("id"), request=request)
    lines = sql_json_lines(Case.objects.published().order_by("id"), request=request)

Their reference is json_lines() and ndjson_lines() in cases.site.exports, which pass each
case through CaseSerializer and json.dumps(ensure_ascii=False), with indent=2 for JSON;
tests/contracts/ holds the two byte for byte equal. The statements write that very text:
the serializers' fields in their order, json.dumps's separators and indentation, and its
escaping, which is PostgreSQL's to_json() of a string (both escape the quote, the backslash
and the control characters, \\b \\f \\n \\r \\t by name and the others as \\u00xx, and
nothing else).

Reading a chunk of cases and aggregating their keywords, countries, languages, appearances
and related cases once for the chunk, rather than once per case as the API's statement
does (cases.readmodels.api_json), and leaving out the round trip through Python's json,
makes an export as fast as the CSV one (docs/performance.md).
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
)
from cases.readmodels.api_json import _utc_timestamp
from cases.readmodels.chunked import CHUNK_CTE, IN_CHUNK, chunk_texts
from cases.readmodels.csv import case_url_prefix

INDENT = "  "  # json.dumps(indent=2)
SQL_CHUNK_SIZE = 2000


def _literal(text):
    """A SQL string literal of the text (our own keys and punctuation)."""
    assert "%" not in text, text  # the statements take %(name)s parameters
    return "'" + text.replace("'", "''") + "'"


def _string(expression):
    """A JSON string of a text column that is never null."""
    return f"to_json({expression})::text"


def _nullable(expression):
    """JSON of a value that may be null: to_json() of it, or null."""
    return f"coalesce(to_json({expression})::text, 'null')"


def _object(members, level, indented):
    """The text of a JSON object as json.dumps writes it at this nesting level: `members`
    are (key, value) where value(level) is the SQL text of the value at that level."""
    parts = []
    for number, (key, value) in enumerate(members):
        opening = "{" if number == 0 else ("," if indented else ", ")
        if indented:
            opening += "\n" + INDENT * (level + 1)
        parts.append(_literal(opening + json.dumps(key) + ": "))
        parts.append(value(level + 1))
    parts.append(_literal(("\n" + INDENT * level if indented else "") + "}"))
    return f"concat({', '.join(parts)})"


def _aggregated_list(item, order, level, indented):
    """string_agg() of the items of a JSON list at this level, with the list's brackets;
    null for no rows (the caller writes [] then). item(level) is an item's SQL text."""
    inner = "\n" + INDENT * (level + 1) if indented else ""
    separator = "," + inner if indented else ", "
    closing = ("\n" + INDENT * level if indented else "") + "]"
    return (
        f"{_literal('[' + inner)} || string_agg({item(level + 1)}, {_literal(separator)}"
        f" ORDER BY {order}) || {_literal(closing)}"
    )


def _fields(serializer_class, alias):
    """(field, value) pairs of a serializer whose fields are text columns of `alias`."""
    return [
        (name, lambda level, name=name: _string(f"{alias}.{name}"))
        for name in serializer_class.Meta.fields
    ]


def _case_url(alias):
    return _string(f"%(url_prefix)s::text || {alias}.id || '/' || {alias}.slug || '/'")


def _chunk_sql(indented, include_drafts):
    """(id, text) of each case of the chunk %(ids)s (cases.readmodels.chunked):
    CaseSerializer's representation as json.dumps writes it, with indent=2 or on one line
    (then ending with a newline)."""
    level = 1  # where the case's members and their values are

    def outlet(level):
        text = _object(_fields(OutletSerializer, "o"), level, indented)
        return f"CASE WHEN o.id IS NULL THEN 'null' ELSE {text} END"

    appearance_values = {
        "outlet": outlet,
        "url": lambda level: _string("a.url"),
        "archive_url": lambda level: _string("a.archive_url"),
    }
    appearance = [(name, appearance_values[name]) for name in AppearanceSerializer.Meta.fields]
    related_values = {
        "id": lambda level: "r.id::text",
        "title": lambda level: _string("r.title"),
        "url": lambda level: _case_url("r"),
    }
    related = [(name, related_values[name]) for name in RelatedCaseSerializer().fields]

    def labels(serializer_class, table):
        """Each value of a taxonomy table as its list item, and its place in name order:
        worked out once per chunk for the few hundred values rather than for every link,
        and the links sorted by that number rather than by comparing names (an ICU
        collation)."""
        item = _object(_fields(serializer_class, "t"), level + 1, indented)
        return (
            f"(SELECT t.id, row_number() OVER (ORDER BY t.name) AS rank, {item} AS text"
            f" FROM {table} t)"
        )

    def aggregated_labels():
        return _aggregated_list(lambda _level: "v.text", "v.rank", level, indented)

    visible = "true" if include_drafts else "r.status = 'published'"
    lists = f"""
    languages AS (
        SELECT x.case_id, {aggregated_labels()} AS text
        FROM cases_case_languages x JOIN {labels(LanguageSerializer, "cases_language")} v
            ON v.id = x.language_id
        WHERE x.case_id {IN_CHUNK} GROUP BY x.case_id
    ), countries AS (
        SELECT x.case_id, {aggregated_labels()} AS text
        FROM cases_case_countries x JOIN {labels(CountrySerializer, "cases_country")} v
            ON v.id = x.country_id
        WHERE x.case_id {IN_CHUNK} GROUP BY x.case_id
    ), keywords AS (
        SELECT x.case_id, {aggregated_labels()} AS text
        FROM cases_case_keywords x JOIN {labels(KeywordSerializer, "cases_keyword")} v
            ON v.id = x.keyword_id
        WHERE x.case_id {IN_CHUNK} GROUP BY x.case_id
    ), appearances AS (
        SELECT a.case_id, {
        _aggregated_list(lambda lv: _object(appearance, lv, indented), "a.id", level, indented)
    } AS text
        FROM cases_appearance a LEFT JOIN cases_outlet o ON o.id = a.outlet_id
        WHERE a.case_id {IN_CHUNK} GROUP BY a.case_id
    ), related AS (
        SELECT x.from_case_id AS case_id, {
        _aggregated_list(lambda lv: _object(related, lv, indented), "r.id", level, indented)
    } AS text
        FROM cases_case_related x JOIN cases_case r ON r.id = x.to_case_id
        WHERE x.from_case_id {IN_CHUNK} AND {visible}
        GROUP BY x.from_case_id
    )"""
    case_values = {
        "id": lambda level: "c.id::text",
        "url": lambda level: _case_url("c"),
        "source_id": lambda level: _string("c.source_id"),
        "source_url": lambda level: _string("c.source_url"),
        "status": lambda level: _string("c.status"),
        "title": lambda level: _string("c.title"),
        "summary": lambda level: _string("c.summary"),
        "disproof": lambda level: _string("c.disproof"),
        "date": lambda level: _nullable("c.date"),
        "issue": lambda level: "coalesce(i.number::text, 'null')",
        "created_at": lambda level: "'\"' || " + _utc_timestamp("c.created_at") + " || '\"'",
        "updated_at": lambda level: "'\"' || " + _utc_timestamp("c.updated_at") + " || '\"'",
        "published_at": lambda level: (
            "coalesce('\"' || " + _utc_timestamp("c.published_at") + " || '\"', 'null')"
        ),
        **{
            name: lambda level, name=name: f"coalesce({name}.text, '[]')"
            for name in ("languages", "countries", "keywords", "appearances", "related")
        },
    }
    # The public sees published cases only, without status (CaseSerializer).
    names = [n for n in CaseSerializer.Meta.fields if include_drafts or n != "status"]
    case = _object([(name, case_values[name]) for name in names], 0, indented)
    line_end = "" if indented else " || chr(10)"
    return f"""
-- The ids come once, and each list is aggregated once for the whole chunk.
WITH {CHUNK_CTE}, {lists}
SELECT c.id, {case}{line_end}
FROM cases_case c
LEFT JOIN cases_issue i ON i.id = c.issue_id
LEFT JOIN languages ON languages.case_id = c.id
LEFT JOIN countries ON countries.case_id = c.id
LEFT JOIN keywords ON keywords.case_id = c.id
LEFT JOIN appearances ON appearances.case_id = c.id
LEFT JOIN related ON related.case_id = c.id
WHERE c.id {IN_CHUNK}
"""


# (indented, include_drafts) -> the statement
CHUNK_SQL = {
    (indented, include_drafts): _chunk_sql(indented, include_drafts)
    for indented in (False, True)
    for include_drafts in (False, True)
}


def _texts(queryset, indented, include_drafts, request):
    params = {"url_prefix": case_url_prefix(request)}
    sql = CHUNK_SQL[indented, include_drafts]
    name = f"export_{'json' if indented else 'ndjson'}{'_drafts' if include_drafts else ''}"
    return chunk_texts(queryset, sql, params, SQL_CHUNK_SIZE, name)


def sql_ndjson_lines(queryset, request=None, include_drafts=False):
    """ndjson_lines() for large exports: the same text in UTF-8, a chunk of lines per item
    (bytes)."""
    for texts in _texts(queryset, False, include_drafts, request):
        yield b"".join(texts)


def sql_json_lines(queryset, request=None, include_drafts=False):
    """json_lines() for large exports: the same text in UTF-8, a chunk of cases per item
    (bytes)."""
    yield b"["
    separator = b"\n"
    for texts in _texts(queryset, True, include_drafts, request):
        if texts:
            yield b",\n".join([separator + texts[0], *texts[1:]])
            separator = b",\n"
    yield b"\n]\n"
