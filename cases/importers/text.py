"""The text layout EUvsDisinfo publishes (see fixtures/seed_cases.txt).

    Disinfo: <title>
                                       (blank lines)
    <summary paragraphs, one blank line apart>
                                       (two blank lines)
    <disproof paragraphs, one blank line apart>
                                       (two blank lines)
      • Reported in: Issue 270
      • DATE OF PUBLICATION: 10/01/2022
      • Article language(s) Russian
      • Countries and/or Regions discussed in the disinformation: Kazakhstan, UK
      • Keywords: Protest, MI6
    see more

The metadata bullets and "see more" are optional. A case ends where the next title starts.
The layout carries no report URL or id: cases read from it have no source key.
"""

import datetime
import re

from cases.filters import MAX_INTEGER, whole_number
from cases.importers.base import (
    CountryRef,
    LanguageRef,
    ParsedCase,
    Problems,
    check_case,
    clean_text,
)

TITLE_PREFIX = "Disinfo:"
BULLET = "\u2022"
SEE_MORE = "see more"

READ_ALSO = re.compile(r"read also(?: related cases?)?\s*:\s*(?P<titles>.+)", re.IGNORECASE)
METADATA_LABELS = [
    ("issue", re.compile(r"reported in\s*:?\s*(?:issue\b\s*)?(?P<value>.*)", re.IGNORECASE)),
    ("date", re.compile(r"date of publication\s*:?\s*(?P<value>.*)", re.IGNORECASE)),
    ("languages", re.compile(r"article language\(s\)\s*:?\s*(?P<value>.*)", re.IGNORECASE)),
    (
        "countries",
        re.compile(
            r"countries and/or regions discussed in the disinformation\s*:?\s*(?P<value>.*)",
            re.IGNORECASE,
        ),
    ),
    ("keywords", re.compile(r"keywords\s*:?\s*(?P<value>.*)", re.IGNORECASE)),
]
DAY_MONTH_YEAR = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_text(text, path):
    """Every case of the text; raises CaseImportError naming every problem (up to the
    default limit)."""
    problems = Problems()
    parsed_cases = []
    for parsed, _raw in text_records(text, path):
        if problems.stop_before_next():
            break
        problems.items.extend(parsed.problems)
        parsed_cases.append(parsed)
    problems.raise_if_any()
    return parsed_cases


def parse_text_collecting_errors(text, path):
    """Parse every case it can; returns (parsed cases, errors), errors in line order.

    A case with an error is left out; the others are still parsed, so a preview can show
    all the problems of a pasted text at once.
    """
    parsed_cases, errors = [], []
    for parsed, _raw in text_records(text, path):
        if parsed.problems:
            errors.extend(parsed.problems)
        else:
            parsed_cases.append(parsed)
    return parsed_cases, errors


def text_records(text, path):
    """(ParsedCase, the record's lines as text) for each case, in file order; text before
    the first title is a record of its own, with a problem."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    title_indexes = [i for i, line in enumerate(lines) if line.startswith(TITLE_PREFIX)]
    if not title_indexes:
        parsed = ParsedCase(path=path, line=1, title="")
        parsed.problem(None, f"no {TITLE_PREFIX!r} title line found")
        yield parsed, text
        return
    for i, line in enumerate(lines[: title_indexes[0]]):
        if line.strip():
            parsed = ParsedCase(path=path, line=i + 1, title="")
            parsed.problem(None, f"text before the first {TITLE_PREFIX!r} title line")
            yield parsed, "\n".join(lines[: title_indexes[0]])
            break

    ends = title_indexes[1:] + [len(lines)]
    for start, end in zip(title_indexes, ends, strict=True):
        yield parse_case(path, lines, start, end), "\n".join(lines[start:end]).rstrip()


def parse_case(path, lines, start, end):
    """Parse lines[start:end]: a title line and everything up to the next title."""
    title = clean_text(lines[start][len(TITLE_PREFIX) :])
    parsed = ParsedCase(path=path, line=start + 1, title=title, given={"summary", "disproof"})
    if not title:
        parsed.problem("title", f"{TITLE_PREFIX!r} line without a title")
        return parsed

    summary, disproof = [], []
    paragraph = []
    section = summary
    blank_run = 0
    after_metadata = False
    see_more_seen = False
    for index in range(start + 1, end):
        line, line_number = lines[index], index + 1
        stripped = line.strip()
        if not stripped:
            blank_run += 1
            continue
        if see_more_seen:
            parsed.problem(None, f"text after {SEE_MORE!r}", stripped, line=line_number)
            break
        if stripped.startswith(BULLET):
            parse_metadata(parsed, stripped[len(BULLET) :], line_number)
            after_metadata = True
        elif stripped.casefold() == SEE_MORE:
            see_more_seen = True
        elif after_metadata:
            parsed.problem(None, "text after the metadata lines", stripped, line=line_number)
            break
        else:
            if paragraph and blank_run:
                section.append(clean_text(" ".join(paragraph)))
                paragraph = []
            if blank_run >= 2 and summary and section is summary:
                section = disproof
            paragraph.append(stripped)
        blank_run = 0
    if paragraph:
        section.append(clean_text(" ".join(paragraph)))

    if not summary:
        parsed.problem("summary", f"{TITLE_PREFIX!r} title without a summary and disproof")
    parsed.summary = "\n\n".join(summary)
    parsed.disproof = "\n\n".join(take_read_also(parsed, disproof))
    check_case(parsed)
    return parsed


def take_read_also(parsed, paragraphs):
    """Move "Read also related cases: A, B, or C." into parsed.related_titles."""
    kept = []
    for paragraph in paragraphs:
        match = READ_ALSO.fullmatch(paragraph)
        if match:
            parsed.related_titles.extend(split_titles(match["titles"]))
        else:
            kept.append(paragraph)
    return kept


def split_titles(text):
    """'A, B, or C.' -> ['A', 'B', 'C']"""
    titles = []
    for piece in text.split(","):
        title = re.sub(r"^(?:or|and)\s+", "", piece.strip()).rstrip(".").strip()
        if title:
            titles.append(title)
    return titles


def parse_metadata(parsed, text, line_number):
    text = clean_text(text)
    for name, pattern in METADATA_LABELS:
        match = pattern.fullmatch(text)
        if match:
            value = match["value"].strip()
            set_metadata(parsed, name, value, line_number)
            parsed.given.add(name)
            return
    parsed.problem(None, "unknown metadata line", text, line=line_number)


def set_metadata(parsed, name, value, line_number):
    if name == "issue":
        number = whole_number(value, 0, MAX_INTEGER)
        if number is None:
            parsed.problem("issue", "not a number", value, line=line_number)
            return
        parsed.issue = number
    elif name == "date":
        parsed.date = parse_day_month_year(parsed, value, line_number)
    elif name == "languages":
        parsed.languages = [LanguageRef(name=item) for item in split_list(value)]
    elif name == "countries":
        parsed.countries = [CountryRef(name=item) for item in split_list(value)]
    elif name == "keywords":
        parsed.keywords = split_list(value)


def split_list(value):
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_day_month_year(parsed, value, line_number):
    match = DAY_MONTH_YEAR.fullmatch(value)
    if match:
        day, month, year = (int(part) for part in match.groups())
        try:
            return datetime.date(year, month, day)
        except ValueError:
            pass
    parsed.problem("date", "not a date in the form DD/MM/YYYY", value, line=line_number)
    return None
