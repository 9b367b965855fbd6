"""JSON in the API's case representation (cases.api.serializers.CaseSerializer).

The file holds a list of cases, or one API page: an object whose "results" is that list.
NDJSON holds one case object per line, as the site's export writes it.
Taxonomy values may also be given as plain names ("keywords": ["Protest", "MI6"]).

"source_id" and "source_url" are the case's identity in its source. From the site's own
exports, "id", "status", the slugs of taxonomy values and the timestamps are read too
(ParsedCase.case_id, .status, .slugs, .timestamps); "url" is not.
"""

import contextlib
import datetime
import json
import re

from cases.filters import MAX_INTEGER
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

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
WHITESPACE = re.compile(r"[ \t\n\r]*")
OPTIONAL_KEYS = ("summary", "disproof", "date", "issue")
LIST_KEYS = ("languages", "countries", "keywords", "appearances")
decoder = json.JSONDecoder()


def parse_json(text, path):
    return _raise_problems(json_records(text, path))


def parse_ndjson(text, path):
    return _raise_problems(ndjson_records(text, path))


def _raise_problems(records):
    problems = Problems()
    parsed_cases = []
    for parsed, _raw in records:
        if problems.stop_before_next():
            break
        problems.items.extend(parsed.problems)
        parsed_cases.append(parsed)
    problems.raise_if_any()
    return parsed_cases


def json_records(text, path):
    """(ParsedCase, the case's JSON text) for each case of a JSON document; a document
    that is not valid JSON raises CaseImportError."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise CaseImportError(path, error.lineno, f"invalid JSON: {error.msg}") from None

    if isinstance(document, dict) and isinstance(document.get("results"), list):
        items = document["results"]
        array_offset = object_value_offset(text, skip_whitespace(text, 0), "results")
    elif isinstance(document, list):
        items = document
        array_offset = skip_whitespace(text, 0)
    else:
        raise CaseImportError(path, 1, 'expected a list of cases or an object with "results"')

    offsets = array_element_offsets(text, array_offset)
    for item, line in zip(items, line_numbers(text, offsets), strict=True):
        yield parse_case(item, path, line), json.dumps(item, ensure_ascii=False)


def ndjson_records(text, path):
    """(ParsedCase, the line's text) for each non-blank line."""
    for line, row in enumerate(text.splitlines(), start=1):
        if not row.strip():
            continue
        try:
            item = json.loads(row)
        except json.JSONDecodeError as error:
            parsed = ParsedCase(path=path, line=line, title="")
            parsed.problem(None, f"invalid JSON: {error.msg}")
            yield parsed, row
            continue
        yield parse_case(item, path, line), row


# json.loads gives no positions, so walk the (already valid) document to find where each
# case starts, for error messages.
def skip_whitespace(text, index):
    return WHITESPACE.match(text, index).end()


def array_element_offsets(text, index):
    """Where the elements of the array opening at text[index] start."""
    offsets = []
    index = skip_whitespace(text, index + 1)
    while text[index] != "]":
        offsets.append(index)
        _, index = decoder.raw_decode(text, index)
        index = skip_whitespace(text, index)
        if text[index] == ",":
            index = skip_whitespace(text, index + 1)
    return offsets


def object_value_offset(text, index, wanted_key):
    """Where the value of wanted_key starts in the object opening at text[index]."""
    found = None
    index = skip_whitespace(text, index + 1)
    while text[index] != "}":
        key, index = decoder.raw_decode(text, index)
        index = skip_whitespace(text, skip_whitespace(text, index) + 1)
        if key == wanted_key:
            found = index  # the last duplicate key wins, as in json.loads
        _, index = decoder.raw_decode(text, index)
        index = skip_whitespace(text, index)
        if text[index] == ",":
            index = skip_whitespace(text, index + 1)
    return found


def line_numbers(text, offsets):
    line, previous = 1, 0
    for offset in offsets:
        line += text.count("\n", previous, offset)
        previous = offset
        yield line


class Invalid(Exception):
    """A value of the case that cannot be read; its problem is already recorded."""


def parse_case(item, path, line):
    """The case object as a ParsedCase; its problems in .problems."""
    if not isinstance(item, dict):
        parsed = ParsedCase(path=path, line=line, title="")
        parsed.problem(None, "a case must be a JSON object")
        return parsed
    title = item.get("title")
    given = {key for key in (*OPTIONAL_KEYS, *LIST_KEYS) if key in item}
    parsed = ParsedCase(
        path=path, line=line, title=clean_text(title) if isinstance(title, str) else "",
        given=given,
    )  # fmt: skip
    if title is not None and not isinstance(title, str):
        parsed.problem("title", "must be a string", title)
    parsed.summary = text_value(parsed, item, "summary")
    parsed.disproof = text_value(parsed, item, "disproof")
    parsed.source_id = text_value(parsed, item, "source_id")
    parsed.source_url = text_value(parsed, item, "source_url")
    parsed.date = date_value(parsed, item.get("date"))
    parsed.issue = issue_value(parsed, item.get("issue"))
    parsed.case_id = id_value(parsed, item.get("id"))
    parsed.status = optional_string(parsed, item.get("status"), "status") or None
    for key in TIMESTAMP_KEYS:
        stamp = timestamp_value(parsed, key, item.get(key))
        if stamp is not None:
            parsed.timestamps[key] = stamp
    parsed.languages = each(parsed, item, "languages", language_ref)
    parsed.countries = each(parsed, item, "countries", country_ref)
    parsed.keywords = each(parsed, item, "keywords", keyword_name)
    parsed.appearances = each(parsed, item, "appearances", appearance_ref)
    parsed.related_titles = each(
        parsed, item, "related", lambda p, v: name_value(p, v, "related", key="title")
    )
    check_case(parsed)
    return parsed


TIMESTAMP_KEYS = ("created_at", "updated_at", "published_at")


def each(parsed, item, key, read):
    """read(parsed, value) of each item of the list `key`; unreadable items left out."""
    values = []
    for value in list_value(parsed, item, key):
        with contextlib.suppress(Invalid):
            values.append(read(parsed, value))
    return values


def text_value(parsed, item, key):
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        parsed.problem(key, "must be a string", value)
        return ""
    return value.strip()


def date_value(parsed, value):
    if value is None:
        return None
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    parsed.problem("date", "not a date in the form YYYY-MM-DD", value)
    return None


def issue_value(parsed, value):
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("number")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INTEGER:
        return value
    parsed.problem("issue", "not a number", value)
    return None


def id_value(parsed, value):
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    parsed.problem("id", "not a positive whole number", value)
    return None


def timestamp_value(parsed, key, value):
    if value is None:
        return None
    stamp = None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            stamp = datetime.datetime.fromisoformat(value)
    if stamp is None or stamp.tzinfo is None:
        parsed.problem(key, "not an ISO 8601 date and time with a time zone", value)
        return None
    return stamp


def list_value(parsed, item, key):
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        parsed.problem(key, "must be a list", value)
        return []
    return value


def name_value(parsed, value, list_key, key="name"):
    """A plain string, or the `key` of an object; raises Invalid when there is none."""
    name = value.get(key) if isinstance(value, dict) else value
    if not isinstance(name, str) or not clean_text(name):
        parsed.problem(list_key, f"every item needs a {key}", value)
        raise Invalid
    return clean_text(name)


def optional_string(parsed, value, description):
    if value is None:
        return None
    if not isinstance(value, str):
        parsed.problem(description, "must be a string", value)
        return None
    return value.strip()


def remember_slug(parsed, kind, name, value):
    if isinstance(value, dict):
        slug = optional_string(parsed, value.get("slug"), f"{kind} slug")
        if slug:
            parsed.slugs[kind, name] = slug


def keyword_name(parsed, value):
    name = name_value(parsed, value, "keywords")
    remember_slug(parsed, "keyword", name, value)
    return name


def language_ref(parsed, value):
    name = name_value(parsed, value, "languages")
    code = value.get("code") if isinstance(value, dict) else None
    return LanguageRef(name=name, code=optional_string(parsed, code, "language code") or "")


def country_ref(parsed, value):
    name = name_value(parsed, value, "countries")
    if not isinstance(value, dict):
        return CountryRef(name=name)
    remember_slug(parsed, "country", name, value)
    return CountryRef(
        name=name,
        iso_code=optional_string(parsed, value.get("iso_code"), "iso_code"),
        kind=optional_string(parsed, value.get("kind"), "kind") or None,
    )


def appearance_ref(parsed, value):
    if not isinstance(value, dict):
        parsed.problem("appearances", "every item must be an object", value)
        raise Invalid
    outlet = value.get("outlet")
    domain = ""
    if outlet is not None:
        domain = outlet.get("domain") if isinstance(outlet, dict) else ""
        outlet_value = outlet
        outlet = name_value(parsed, outlet, "outlets")
        remember_slug(parsed, "outlet", outlet, outlet_value)
    return AppearanceRef(
        outlet=outlet or "",
        url=optional_string(parsed, value.get("url"), "urls") or "",
        archive_url=optional_string(parsed, value.get("archive_url"), "archive_urls") or "",
        outlet_domain=optional_string(parsed, domain, "outlet domain") or "",
    )
