"""Reading case files: the seed text layout, CSV, JSON and NDJSON.

parsed_cases = parse_file(path)          # every case; raises CaseImportError naming every
                                         # problem of the file (up to max_errors)
result = parse_file_collecting(path)     # result.valid, result.rejected (with reasons)
summary = cases.services.imports.save_cases(parsed_cases, status)  # one transaction

Nothing here writes to the database; paste.py parses and previews the text editors paste
in the admin, and write_rejected() writes the rejected records to a side file.
"""

import csv as csv_module
from dataclasses import dataclass, field
from pathlib import Path

from cases.importers.base import (
    DEFAULT_MAX_ERRORS,
    CaseImportError,
    ImportErrors,
    ImportSummary,
    ParsedCase,
    Problems,
    Rejected,
    duplicate_problems,
)
from cases.importers.csv import csv_header, csv_records, parse_csv
from cases.importers.json import json_records, ndjson_records, parse_json, parse_ndjson
from cases.importers.taxonomy import taxonomy_errors
from cases.importers.text import parse_text, text_records
from cases.progress import Progress

FORMATS_BY_EXTENSION = {
    ".txt": "text",
    ".csv": "csv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
FORMATS = ("text", "csv", "json", "ndjson")

__all__ = [
    "DEFAULT_MAX_ERRORS",
    "FORMATS",
    "CaseImportError",
    "ImportErrors",
    "ImportSummary",
    "ParseResult",
    "ParsedCase",
    "Rejected",
    "guess_format",
    "parse_csv",
    "parse_file",
    "parse_file_collecting",
    "parse_json",
    "parse_ndjson",
    "parse_text",
    "rejected_path_for",
    "write_rejected",
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


@dataclass
class ParseResult:
    """A file read through: the cases to write, and the records left out with their
    problems. `problems` holds every problem (the first max_errors of them)."""

    file_format: str
    valid: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    header: list | None = None  # a CSV file's header row, as written
    # The record as read, of each valid case, by line: for setting it aside later.
    raw: dict = field(default_factory=dict)

    def error(self):
        """One CaseImportError for every problem, or None."""
        return self.problems.error() if self.problems else None


def records(text, path, file_format, sep=";"):
    """(ParsedCase, raw record) of each record of the file; raises CaseImportError when the
    file as a whole cannot be read (invalid JSON, a bad CSV header)."""
    if file_format == "text":
        return text_records(text, path)
    if file_format == "csv":
        return csv_records(text, path, sep)
    if file_format == "json":
        return json_records(text, path)
    if file_format == "ndjson":
        return ndjson_records(text, path)
    raise ValueError(f"unknown format {file_format!r}")


def parse_file_collecting(
    path, file_format=None, sep=";", max_errors=DEFAULT_MAX_ERRORS, stream=None
):
    """Read and check every record of the file, without touching the database.

    Returns a ParseResult: the valid cases, and each rejected record with its problems and
    raw text. A record describing a case an earlier record already describes (same source
    id or URL; same title and date when neither has a source key) is rejected. With
    max_errors, reading stops once that many problems are found (result.problems.truncated);
    None reads the whole file. A file that cannot be read at all raises CaseImportError.
    stream: where the records read so far are shown (cases.progress), if anywhere.
    """
    file_format = file_format or guess_format(path)
    text = read_text(path)
    result = ParseResult(file_format, problems=Problems(max_errors))
    if file_format == "csv":
        result.header = csv_header(text, str(path))
    kept = []
    progress = Progress("reading file", None, stream) if stream is not None else None
    for count, (parsed, raw) in enumerate(records(text, str(path), file_format, sep), 1):
        if progress:
            progress.update(count)
        if result.problems.stop_before_next():
            break
        if parsed.problems:
            result.problems.items.extend(parsed.problems)
            result.rejected.append(Rejected(parsed.line, list(parsed.problems), raw))
        else:
            kept.append((parsed, raw))
    if progress:
        progress.finish(len(kept) + len(result.rejected))
    duplicates = {}
    for problem in duplicate_problems([parsed for parsed, _raw in kept]):
        duplicates[problem.line] = problem
    for parsed, raw in kept:
        problem = duplicates.get(parsed.line)
        if problem is None:
            result.valid.append(parsed)
            result.raw[parsed.line] = raw
        else:
            result.problems.add(problem)
            result.rejected.append(Rejected(parsed.line, [problem], raw))
    result.rejected.sort(key=lambda rejected: rejected.line)
    result.problems.items.sort(key=lambda problem: problem.line or 0)
    if max_errors is not None and len(result.problems) > max_errors:
        result.problems.truncated = True
    return result


def set_aside_unknown_names(result, resolver, stream=None):
    """Check the valid cases' taxonomy names against the database (resolver, a
    TaxonomyResolver): a case naming a value no rule or alias resolves (an unknown language)
    joins the rejected records with its problems. Nothing is written. stream: as
    parse_file_collecting()'s."""
    kept = []
    progress = Progress("checking names", len(result.valid), stream) if stream is not None else None
    for done, parsed in enumerate(result.valid, 1):
        if progress:
            progress.update(done)
        problems = taxonomy_errors([parsed], resolver)
        if not problems:
            kept.append(parsed)
            continue
        for problem in problems:
            result.problems.add(problem)
        result.rejected.append(Rejected(parsed.line, problems, result.raw.pop(parsed.line, None)))
    if progress:
        progress.finish()
    result.valid = kept
    result.rejected.sort(key=lambda rejected: rejected.line)
    result.problems.items.sort(key=lambda problem: problem.line or 0)
    limit = result.problems.limit
    if limit is not None and len(result.problems) > limit:
        result.problems.truncated = True
        del result.problems.items[limit:]


def parse_file(path, file_format=None, sep=";", max_errors=DEFAULT_MAX_ERRORS):
    """Every case in the file, without touching the database; raises CaseImportError
    naming every problem found (up to max_errors; ImportErrors when several)."""
    result = parse_file_collecting(path, file_format, sep, max_errors)
    error = result.error()
    if error is not None:
        raise error
    return result.valid


def rejected_path_for(path, file_format):
    """Where the rejected records of `path` go by default: beside it."""
    suffix = ".rejected.csv" if file_format == "csv" else ".rejected.txt"
    return Path(f"{path}{suffix}")


def write_rejected(result, out_path):
    """Write the rejected records: a CSV file's rows as they were with a `reason` column,
    or, for other formats, `line: reason` and the record's text, a blank line apart."""
    with open(out_path, "w", encoding="utf-8", newline="") as file:
        if result.file_format == "csv":
            writer = csv_module.writer(file)
            writer.writerow([*(result.header or []), "reason"])
            for rejected in result.rejected:
                writer.writerow([*(rejected.raw or []), rejected.reasons])
            return
        for rejected in result.rejected:
            for problem in rejected.problems:
                file.write(f"{problem.line}: {problem.detail}\n")
            file.write(f"{rejected.raw or ''}\n\n")
