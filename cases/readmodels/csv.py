r"""The CSV export written by PostgreSQL: what the site, the API and export_cases send.

    lines = sql_csv_lines(Case.objects.published().order_by("id"))

Its reference is csv_lines() in cases.site.exports, which writes the same text from model
instances with Python's csv module; tests/contracts/ holds the two byte for byte equal.
CSV_COLUMNS and DEFAULT_SEPARATOR are the file's layout, which both follow and import_cases
reads back (cases.importers.csv).

The file is lossless: it carries each case's id, the address of its page here (absolute:
for the request, or settings.SITE_URL), its source's id and
report URL, status and timestamps, and each taxonomy value's slug (language code) beside
its name, in the same order. Items of a multi-value cell are joined with the separator; a
separator or a backslash inside an item is escaped with a backslash (joined(),
split_escaped()), so `A;B` in one outlet name is written `A\;B`.
"""

import csv
import datetime
import functools
import re

from cases.readmodels.api_json import _utc_timestamp as utc_timestamp_sql
from cases.readmodels.chunked import CHUNK_CTE, IN_CHUNK, chunk_texts

CSV_COLUMNS = [
    "id",
    "url",
    "source_id",
    "source_url",
    "status",
    "title",
    "date",
    "summary",
    "disproof",
    "issue",
    "languages",
    "language_codes",
    "countries",
    "country_slugs",
    "keywords",
    "keyword_slugs",
    "outlets",
    "outlet_slugs",
    "urls",
    "archive_urls",
    "related",
    "created_at",
    "updated_at",
    "published_at",
]
DEFAULT_SEPARATOR = ";"
ESCAPE = "\\"


def escaped(item, sep):
    """An item of a multi-value cell: backslashes doubled, separators after a backslash."""
    return item.replace(ESCAPE, ESCAPE + ESCAPE).replace(sep, ESCAPE + sep)


def joined(items, sep):
    """A multi-value cell: the items, escaped, joined with the separator."""
    return sep.join(escaped(item, sep) for item in items)


@functools.lru_cache
def _item_boundaries(sep):
    """An escaped character (group 1) or a separator."""
    return re.compile(r"\\(.)|" + re.escape(sep), re.DOTALL)


def split_escaped(value, sep):
    """The items of a multi-value cell (empty ones included), unescaped: joined()'s inverse.

    A backslash makes the next character literal; a backslash at the very end stays.
    """
    if ESCAPE not in value:
        return value.split(sep)
    items, current, position = [], [], 0
    for match in _item_boundaries(sep).finditer(value):
        current.append(value[position : match.start()])
        if match.group(1) is not None:
            current.append(match.group(1))
        else:
            items.append("".join(current))
            current = []
        position = match.end()
    current.append(value[position:])
    items.append("".join(current))
    return items


def case_url_prefix(request=None):
    """What the `url` cell of every case starts with: the address of its page without the
    id and slug, for this request or settings.SITE_URL ("https://example.org/cases/")."""
    from cases.api.serializers import case_url_prefix as prefix

    return prefix(request)


def utc_timestamp(value):
    """A timestamp cell: ISO 8601 in UTC, microseconds only when there are any, and Z."""
    if value is None:
        return ""
    value = value.astimezone(datetime.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


# A cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV Injection"):
# =1+1, +1, -1, @SUM(...), or a tab or carriage return before one. Such a cell is written
# with a single quote in front, which spreadsheets show as text; one that already starts
# with quotes before such a character gets one more, so import_cases takes exactly one off.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text):
    """The cell `text` as written to CSV: a quote in front of what would be a formula."""
    return "'" + text if text.lstrip("'").startswith(FORMULA_START) else text


def restored(text):
    """A cell of an exported CSV as it was before neutralised()."""
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_START):
        return text[1:]
    return text


class Echo:
    """A file-like object whose write() hands back the text, for streaming csv.writer."""

    def write(self, text):
        return text


# A text column (never null) as csv.writer writes a cell: its default dialect quotes a
# cell holding a comma, a quote or a line break, and doubles the quotes in it.
CSV_CELL_SQL = (
    "CASE WHEN strpos({0}, ',') > 0 OR strpos({0}, '\"') > 0"
    " OR strpos({0}, chr(10)) > 0 OR strpos({0}, chr(13)) > 0"
    " THEN '\"' || replace({0}, '\"', '\"\"') || '\"' ELSE {0} END"
)
# Cells whose text may need quotes; dates and issue numbers never do.
QUOTED_COLUMNS = [
    column
    for column in CSV_COLUMNS
    if column not in ("id", "status", "date", "issue", "created_at", "updated_at", "published_at")
]
# neutralised() of a text column (never null), in SQL.
_STARTS_A_FORMULA = "left({0}, 1) IN ('=', '+', '-', '@', chr(9), chr(13))"
NEUTRALISED_SQL = (
    "CASE WHEN "
    + _STARTS_A_FORMULA
    + " OR (left({0}, 1) = '''' AND "
    + _STARTS_A_FORMULA.replace("{0}", "ltrim({0}, '''')")
    + ") THEN '''' || {0} ELSE {0} END"
)
# The cells of a row read by the innermost query, each neutralised once.
NEUTRALISED_COLUMNS_SQL = ", ".join(
    NEUTRALISED_SQL.format(column) + " AS " + column if column in QUOTED_COLUMNS else column
    for column in CSV_COLUMNS
)
# One line of csv_lines(), from a row with the CSV_COLUMNS as text columns.
CSV_LINE_SQL = "concat_ws(',', {}) || chr(13) || chr(10)".format(
    ", ".join(
        CSV_CELL_SQL.format(column) if column in QUOTED_COLUMNS else column
        for column in CSV_COLUMNS
    )
)

# csv_lines() in one SQL query per chunk: the same text, without building model instances
# (which costs a hundred times more than the query at export sizes) and without Python's
# CSV writer (which takes longer than the query: it copies text a character at a time).
# COPY ... (FORMAT csv) would quote the cells but ends lines with "\n", not "\r\n".
# An item of a multi-value cell in SQL, as escaped() writes it.
ESCAPED_SQL = "replace(replace({0}, '\\', '\\\\'), %(sep)s, '\\' || %(sep)s)"


def _timestamp_sql(column):
    """utc_timestamp() in SQL; '' for null."""
    return f"coalesce({utc_timestamp_sql(column)}, '')"


def _agg(column, order):
    return f"string_agg({ESCAPED_SQL.format(column)}, %(sep)s ORDER BY {order})"


def _labels(table, key):
    """Each value of a taxonomy table, its name and key escaped, and its place in name
    order: worked out once per chunk for the few hundred values rather than for every
    link, and the links sorted by that number rather than by comparing names (an ICU
    collation)."""
    return (
        f"(SELECT t.id, row_number() OVER (ORDER BY t.name) AS rank,"
        f" {ESCAPED_SQL.format('t.name')} AS name, {ESCAPED_SQL.format(f't.{key}')} AS {key}"
        f" FROM {table} t)"
    )


def _ranked_agg(column):
    """The items of a multi-value cell, escaped already, in name order."""
    return f"string_agg({column}, %(sep)s ORDER BY v.rank)"


CSV_CHUNK_SQL = f"""
WITH {CHUNK_CTE}, languages AS (
    SELECT x.case_id, {_ranked_agg("v.name")} AS cell, {_ranked_agg("v.code")} AS codes
    FROM cases_case_languages x JOIN {_labels("cases_language", "code")} v
        ON v.id = x.language_id
    WHERE x.case_id {IN_CHUNK} GROUP BY x.case_id
), countries AS (
    SELECT x.case_id, {_ranked_agg("v.name")} AS cell, {_ranked_agg("v.slug")} AS slugs
    FROM cases_case_countries x JOIN {_labels("cases_country", "slug")} v
        ON v.id = x.country_id
    WHERE x.case_id {IN_CHUNK} GROUP BY x.case_id
), keywords AS (
    SELECT x.case_id, {_ranked_agg("v.name")} AS cell, {_ranked_agg("v.slug")} AS slugs
    FROM cases_case_keywords x JOIN {_labels("cases_keyword", "slug")} v
        ON v.id = x.keyword_id
    WHERE x.case_id {IN_CHUNK} GROUP BY x.case_id
), appearances AS (
    SELECT a.case_id,
        {_agg("coalesce(o.name, '')", "a.id")} AS outlets,
        {_agg("coalesce(o.slug, '')", "a.id")} AS outlet_slugs,
        {_agg("a.url", "a.id")} AS urls,
        {_agg("a.archive_url", "a.id")} AS archive_urls
    FROM cases_appearance a LEFT JOIN cases_outlet o ON o.id = a.outlet_id
    WHERE a.case_id {IN_CHUNK} GROUP BY a.case_id
), related AS (
    SELECT cr.from_case_id AS case_id, {_agg("r.title", "r.id")} AS cell
    FROM cases_case_related cr JOIN cases_case r ON r.id = cr.to_case_id
    WHERE cr.from_case_id {IN_CHUNK}
        AND (%(include_drafts)s OR r.status = 'published')
    GROUP BY cr.from_case_id
)
SELECT case_id, {CSV_LINE_SQL}
FROM (
    -- A quote before each text cell a spreadsheet would take for a formula, worked out
    -- once from the values read below: the line mentions each cell up to six times.
    SELECT case_id, {NEUTRALISED_COLUMNS_SQL}
    FROM (
    SELECT c.id AS case_id,
        c.id::text AS id,
        %(url_prefix)s::text || c.id || '/' || c.slug || '/' AS url,
        c.source_id,
        c.source_url,
        c.status::text AS status,
        c.title,
        coalesce(to_char(c.date, 'YYYY-MM-DD'), '') AS date,
        -- Read from TOAST storage here, once: the line mentions each cell up to six times.
        c.summary || '' AS summary,
        c.disproof || '' AS disproof,
        coalesce(i.number::text, '') AS issue,
        coalesce(languages.cell, '') AS languages,
        coalesce(languages.codes, '') AS language_codes,
        coalesce(countries.cell, '') AS countries,
        coalesce(countries.slugs, '') AS country_slugs,
        coalesce(keywords.cell, '') AS keywords,
        coalesce(keywords.slugs, '') AS keyword_slugs,
        coalesce(appearances.outlets, '') AS outlets,
        coalesce(appearances.outlet_slugs, '') AS outlet_slugs,
        coalesce(appearances.urls, '') AS urls,
        coalesce(appearances.archive_urls, '') AS archive_urls,
        coalesce(related.cell, '') AS related,
        {_timestamp_sql("c.created_at")} AS created_at,
        {_timestamp_sql("c.updated_at")} AS updated_at,
        {_timestamp_sql("c.published_at")} AS published_at
    FROM cases_case c
    LEFT JOIN cases_issue i ON i.id = c.issue_id
    LEFT JOIN languages ON languages.case_id = c.id
    LEFT JOIN countries ON countries.case_id = c.id
    LEFT JOIN keywords ON keywords.case_id = c.id
    LEFT JOIN appearances ON appearances.case_id = c.id
    LEFT JOIN related ON related.case_id = c.id
    WHERE c.id {IN_CHUNK}
    -- Keeps this a subquery of its own: merged into the outer query, each of its columns
    -- would be computed again at every mention in the line.
    OFFSET 0
    ) AS read_row
    OFFSET 0
) AS case_row
"""
SQL_CHUNK_SIZE = 2000


def sql_csv_lines(queryset, sep=DEFAULT_SEPARATOR, include_drafts=False, request=None):
    """csv_lines() for large exports: the same text in UTF-8, a chunk of lines per item
    (bytes), the next chunks read ahead (cases.readmodels.chunked)."""
    yield csv.writer(Echo()).writerow(CSV_COLUMNS).encode()
    params = {"sep": sep, "include_drafts": include_drafts, "url_prefix": case_url_prefix(request)}
    for texts in chunk_texts(queryset, CSV_CHUNK_SQL, params, SQL_CHUNK_SIZE, "export_csv"):
        yield b"".join(texts)
