r"""CSV with a header row; the columns are those export_cases writes (cases.readmodels.csv).

Multi-value cells are split on a separator (";" by default); a separator or a backslash
inside an item is escaped with a backslash (`\;`, `\\`, cases.readmodels.csv.joined()).
The i-th outlet, outlet slug, URL and archive URL together make one appearance, so those
cells keep empty items. A cell that an export wrote with a quote in front, so that no
spreadsheet takes it for a formula (cases.readmodels.csv.neutralised()), is read without it.

`id`, `status`, the slug columns and the timestamps come from the site's own exports: they
go to ParsedCase.case_id, .status, .slugs and .timestamps. `url` is the case's address on
the site that exported it, and is not read.
"""

import csv
import datetime
import io
import re

from cases.filters import MAX_INTEGER, whole_number
from cases.importers.base import (
    AppearanceRef,
    CaseImportError,
    CountryRef,
    LanguageRef,
    ParsedCase,
    Problems,
    check_case,
    clean_text,
)
from cases.readmodels.csv import CSV_COLUMNS, restored, split_escaped

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
APPEARANCE_COLUMNS = ("outlets", "outlet_slugs", "urls", "archive_urls")
TIMESTAMP_COLUMNS = ("created_at", "updated_at", "published_at")
# Slug columns: (names column, slugs column, taxonomy kind).
SLUG_COLUMNS = (
    ("countries", "country_slugs", "country"),
    ("keywords", "keyword_slugs", "keyword"),
)
# Which ParsedCase field each column gives.
GIVEN_BY_COLUMN = {
    "summary": "summary",
    "disproof": "disproof",
    "date": "date",
    "issue": "issue",
    "languages": "languages",
    "countries": "countries",
    "keywords": "keywords",
    "outlets": "appearances",
    "urls": "appearances",
    "archive_urls": "appearances",
}


def parse_csv(text, path, sep=";"):
    """Every case of the file; raises CaseImportError naming every problem (up to the
    default limit)."""
    problems = Problems()
    parsed_cases = []
    for parsed, _raw in csv_records(text, path, sep):
        if problems.stop_before_next():
            break
        problems.items.extend(parsed.problems)
        parsed_cases.append(parsed)
    problems.raise_if_any()
    return parsed_cases


def csv_header(text, path):
    """The file's header row as written; raises CaseImportError naming each problem."""
    # The first 64 KB hold the header: the reader need not copy the whole file.
    start = text[:65536]
    read_header(csv.reader(io.StringIO(start, newline="")), path)
    return next(csv.reader(io.StringIO(start, newline="")))


def csv_records(text, path, sep=";"):
    """(ParsedCase, the row's cells) for each row, in file order. A row's problems are in
    its ParsedCase.problems; a problem of the header raises CaseImportError."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = read_header(reader, path)
    given = {GIVEN_BY_COLUMN[column] for column in header if column in GIVEN_BY_COLUMN}
    row_start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            parsed = ParsedCase(path=path, line=row_start, title="")
            parsed.problem(None, f"unreadable CSV: {error}")
            yield parsed, []
            return
        if row:
            yield parse_row(row, header, path, row_start, sep, given), row
        row_start = reader.line_num + 1


def read_header(reader, path):
    row = next(reader, None)
    if not row:
        raise CaseImportError(path, 1, "missing header row")
    header = [cell.strip().lower() for cell in row]
    problems = Problems(limit=None)
    for index, column in enumerate(header):
        if column not in CSV_COLUMNS:
            problems.add(
                CaseImportError(
                    path, 1, f"unknown column (known: {', '.join(CSV_COLUMNS)})", "header", column
                )
            )
        elif column in header[:index]:
            problems.add(CaseImportError(path, 1, "column appears twice", "header", column))
    if "title" not in header:
        problems.add(CaseImportError(path, 1, "missing column 'title'", "header"))
    problems.raise_if_any()
    return header


def parse_row(row, header, path, line, sep, given):
    """The row as a ParsedCase; its problems in .problems."""
    if len(row) != len(header):
        parsed = ParsedCase(path=path, line=line, title="")
        parsed.problem(None, f"expected {len(header)} cells, found {len(row)}")
        return parsed
    # The quote an export puts before what would be a formula comes off again.
    cells = {column: restored(cell) for column, cell in zip(header, row, strict=True)}
    parsed = ParsedCase(path=path, line=line, title=clean_text(cells["title"]), given=set(given))
    parsed.summary = cells.get("summary", "").strip()
    parsed.disproof = cells.get("disproof", "").strip()
    parsed.date = parse_date(parsed, cells.get("date", ""))
    parsed.issue = parse_issue(parsed, cells.get("issue", ""))
    parsed.source_id = cells.get("source_id", "").strip()
    parsed.source_url = cells.get("source_url", "").strip()
    parsed.case_id = parse_id(parsed, cells.get("id", ""))
    parsed.status = cells.get("status", "").strip() or None
    for column in TIMESTAMP_COLUMNS:
        value = parse_timestamp(parsed, column, cells.get(column, ""))
        if value is not None:
            parsed.timestamps[column] = value
    parsed.languages = parse_languages(parsed, cells, sep)
    parsed.countries = [CountryRef(name=name) for name in split_names(cells, "countries", sep)]
    parsed.keywords = split_names(cells, "keywords", sep)
    for names_column, slugs_column, kind in SLUG_COLUMNS:
        if slugs_column in cells:
            names = split_names(cells, names_column, sep)
            pair_slugs(parsed, kind, names, cells, slugs_column, sep)
    parsed.appearances = parse_appearances(parsed, cells, sep)
    parsed.related_titles = split_names(cells, "related", sep)
    check_case(parsed)
    return parsed


def parse_date(parsed, value):
    value = value.strip()
    if not value:
        return None
    if ISO_DATE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    parsed.problem("date", "not a date in the form YYYY-MM-DD", value)
    return None


def parse_issue(parsed, value):
    value = value.strip()
    if not value:
        return None
    number = whole_number(value, 0, MAX_INTEGER)
    if number is None:
        parsed.problem("issue", "not a number", value)
    return number


def parse_id(parsed, value):
    value = value.strip()
    if not value:
        return None
    number = whole_number(value, 1, 2**63 - 1)
    if number is None:
        parsed.problem("id", "not a positive whole number", value)
    return number


def parse_timestamp(parsed, column, value):
    value = value.strip()
    if not value:
        return None
    try:
        stamp = datetime.datetime.fromisoformat(value)
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:
        parsed.problem(column, "not an ISO 8601 date and time with a time zone", value)
        return None
    return stamp


def split_names(cells, column, sep):
    """The non-empty items of a multi-value cell, unescaped, whitespace collapsed."""
    return [clean_text(item) for item in split_escaped(cells.get(column, ""), sep) if item.strip()]


def split_keeping_empty(cells, column, sep):
    value = cells.get(column, "")
    return [item.strip() for item in split_escaped(value, sep)] if value.strip() else []


def parse_languages(parsed, cells, sep):
    names = split_names(cells, "languages", sep)
    if "language_codes" not in cells:
        return [LanguageRef(name=name) for name in names]
    codes = split_names(cells, "language_codes", sep)
    if len(codes) != len(names):
        parsed.problem(
            "language_codes",
            f"{len(codes)} codes for {len(names)} languages",
            cells["language_codes"],
        )
        return [LanguageRef(name=name) for name in names]
    return [LanguageRef(name=name, code=code) for name, code in zip(names, codes, strict=True)]


def pair_slugs(parsed, kind, names, cells, column, sep):
    """Put the slug column's items, one per name, in parsed.slugs."""
    slugs = split_names(cells, column, sep)
    if len(slugs) != len(names):
        parsed.problem(column, f"{len(slugs)} slugs for {len(names)} names", cells[column])
        return
    for name, slug in zip(names, slugs, strict=True):
        parsed.slugs[kind, name] = slug


def parse_appearances(parsed, cells, sep):
    outlets, outlet_slugs, urls, archive_urls = (
        split_keeping_empty(cells, column, sep) for column in APPEARANCE_COLUMNS
    )
    count = max(len(outlets), len(urls), len(archive_urls))

    def item(values, index):
        return values[index] if index < len(values) else ""

    appearances = []
    for index in range(count):
        appearance = AppearanceRef(
            outlet=clean_text(item(outlets, index)),
            url=item(urls, index),
            archive_url=item(archive_urls, index),
        )
        if not (appearance.outlet or appearance.url or appearance.archive_url):
            continue
        slug = item(outlet_slugs, index)
        if slug and appearance.outlet:
            parsed.slugs["outlet", appearance.outlet] = slug
        appearances.append(appearance)
    return appearances
