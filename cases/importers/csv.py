"""CSV with a header row; the columns are those export_cases writes (cases.readmodels.csv).

Multi-value cells are split on a separator (";" by default). The i-th outlet, URL and
archive URL together make one appearance, so those three cells keep empty items. A cell
that an export wrote with a quote in front, so that no spreadsheet takes it for a formula
(cases.readmodels.csv.neutralised()), is read without it.
"""

import csv
import datetime
import io
import re

from cases.importers.base import (
    AppearanceRef,
    CaseImportError,
    CountryRef,
    LanguageRef,
    ParsedCase,
    check_case,
    clean_text,
)
from cases.readmodels.csv import CSV_COLUMNS, restored

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
APPEARANCE_COLUMNS = ("outlets", "urls", "archive_urls")
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
    reader = csv.reader(io.StringIO(text, newline=""))
    header = read_header(reader, path)
    given = {GIVEN_BY_COLUMN[column] for column in header if column in GIVEN_BY_COLUMN}
    parsed_cases = []
    row_start = reader.line_num + 1
    for row in reader:
        if row:
            parsed_cases.append(parse_row(row, header, path, row_start, sep, given))
        row_start = reader.line_num + 1
    return parsed_cases


def read_header(reader, path):
    row = next(reader, None)
    if not row:
        raise CaseImportError(path, 1, "missing header row")
    header = [cell.strip().lower() for cell in row]
    for column in header:
        if column not in CSV_COLUMNS:
            raise CaseImportError(
                path, 1, f"unknown column {column!r} (known: {', '.join(CSV_COLUMNS)})"
            )
        if header.count(column) > 1:
            raise CaseImportError(path, 1, f"column {column!r} appears twice")
    if "title" not in header:
        raise CaseImportError(path, 1, "missing column 'title'")
    return header


def parse_row(row, header, path, line, sep, given):
    if len(row) != len(header):
        raise CaseImportError(path, line, f"expected {len(header)} cells, found {len(row)}")
    # The quote an export puts before what would be a formula comes off again.
    cells = {column: restored(cell) for column, cell in zip(header, row, strict=True)}
    parsed = ParsedCase(path=path, line=line, title=clean_text(cells["title"]), given=set(given))
    if not parsed.title:
        raise parsed.error("missing title")
    parsed.summary = cells.get("summary", "").strip()
    parsed.disproof = cells.get("disproof", "").strip()
    parsed.date = parse_date(parsed, cells.get("date", ""))
    parsed.issue = parse_issue(parsed, cells.get("issue", ""))
    parsed.languages = [LanguageRef(name=name) for name in split_names(cells, "languages", sep)]
    parsed.countries = [CountryRef(name=name) for name in split_names(cells, "countries", sep)]
    parsed.keywords = split_names(cells, "keywords", sep)
    parsed.appearances = parse_appearances(cells, sep)
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
    raise parsed.error(f"invalid date {value!r} (expected YYYY-MM-DD)")


def parse_issue(parsed, value):
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise parsed.error(f"issue {value!r} is not a number")
    return int(value)


def split_names(cells, column, sep):
    return [clean_text(item) for item in cells.get(column, "").split(sep) if item.strip()]


def split_keeping_empty(cells, column, sep):
    value = cells.get(column, "")
    return [item.strip() for item in value.split(sep)] if value.strip() else []


def parse_appearances(cells, sep):
    outlets, urls, archive_urls = (
        split_keeping_empty(cells, column, sep) for column in APPEARANCE_COLUMNS
    )
    count = max(len(outlets), len(urls), len(archive_urls))

    def item(values, index):
        return values[index] if index < len(values) else ""

    appearances = [
        AppearanceRef(
            outlet=clean_text(item(outlets, index)),
            url=item(urls, index),
            archive_url=item(archive_urls, index),
        )
        for index in range(count)
    ]
    return [a for a in appearances if a.outlet or a.url or a.archive_url]
