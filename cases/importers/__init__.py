"""Reading case files: the seed text layout, CSV, JSON and NDJSON.

parsed_cases = parse_file(path)          # reads everything; raises CaseImportError
summary = cases.services.imports.save_cases(parsed_cases, status)  # one transaction

Nothing here writes; paste.py parses and previews the text editors paste in the admin.
"""

from pathlib import Path

from cases.importers.base import (
    CaseImportError,
    ImportSummary,
    ParsedCase,
    check_no_duplicates,
)
from cases.importers.csv import parse_csv
from cases.importers.json import parse_json, parse_ndjson
from cases.importers.text import parse_text

FORMATS_BY_EXTENSION = {
    ".txt": "text",
    ".csv": "csv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
FORMATS = ("text", "csv", "json", "ndjson")

__all__ = [
    "FORMATS",
    "CaseImportError",
    "ImportSummary",
    "ParsedCase",
    "guess_format",
    "parse_file",
]


def guess_format(path):
    """The format for a file name's extension, or None."""
    return FORMATS_BY_EXTENSION.get(Path(path).suffix.lower())


def read_text(path):
    """The file's text, UTF-8 with or without a byte order mark."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise CaseImportError(path, None, error.strerror or str(error)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CaseImportError(path, line, "not UTF-8 text") from None


def parse_file(path, file_format=None, sep=";"):
    """Read and check every case in the file, without touching the database."""
    file_format = file_format or guess_format(path)
    text = read_text(path)
    if file_format == "text":
        parsed_cases = parse_text(text, str(path))
    elif file_format == "csv":
        parsed_cases = parse_csv(text, str(path), sep=sep)
    elif file_format == "json":
        parsed_cases = parse_json(text, str(path))
    elif file_format == "ndjson":
        parsed_cases = parse_ndjson(text, str(path))
    else:
        raise ValueError(f"unknown format {file_format!r}")
    check_no_duplicates(parsed_cases)
    return parsed_cases
