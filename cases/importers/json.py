"""JSON in the API's case representation (cases.api.serializers.CaseSerializer).

The file holds a list of cases, or one API page: an object whose "results" is that list.
NDJSON holds one case object per line, as the site's export writes it.
Taxonomy values may also be given as plain names ("keywords": ["Protest", "MI6"]).
"""

import datetime
import json
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

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
WHITESPACE = re.compile(r"[ \t\n\r]*")
OPTIONAL_KEYS = ("summary", "disproof", "date", "issue")
LIST_KEYS = ("languages", "countries", "keywords", "appearances")
decoder = json.JSONDecoder()


def parse_json(text, path):
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
    return [
        parse_case(item, path, line)
        for item, line in zip(items, line_numbers(text, offsets), strict=True)
    ]


def parse_ndjson(text, path):
    parsed_cases = []
    for line, row in enumerate(text.splitlines(), start=1):
        if not row.strip():
            continue
        try:
            item = json.loads(row)
        except json.JSONDecodeError as error:
            raise CaseImportError(path, line, f"invalid JSON: {error.msg}") from None
        parsed_cases.append(parse_case(item, path, line))
    return parsed_cases


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


def parse_case(item, path, line):
    if not isinstance(item, dict):
        raise CaseImportError(path, line, "a case must be a JSON object")
    title = item.get("title")
    if not isinstance(title, str) or not clean_text(title):
        raise CaseImportError(path, line, "case without a title")

    given = {key for key in (*OPTIONAL_KEYS, *LIST_KEYS) if key in item}
    parsed = ParsedCase(path=path, line=line, title=clean_text(title), given=given)
    parsed.summary = text_value(parsed, item, "summary")
    parsed.disproof = text_value(parsed, item, "disproof")
    parsed.date = date_value(parsed, item.get("date"))
    parsed.issue = issue_value(parsed, item.get("issue"))
    parsed.languages = [
        language_ref(parsed, value) for value in list_value(parsed, item, "languages")
    ]
    parsed.countries = [
        country_ref(parsed, value) for value in list_value(parsed, item, "countries")
    ]
    parsed.keywords = [
        name_value(parsed, value, "keywords") for value in list_value(parsed, item, "keywords")
    ]
    parsed.appearances = [
        appearance_ref(parsed, value) for value in list_value(parsed, item, "appearances")
    ]
    parsed.related_titles = [
        name_value(parsed, value, "related", key="title")
        for value in list_value(parsed, item, "related")
    ]
    check_case(parsed)
    return parsed


def text_value(parsed, item, key):
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise parsed.error(f'"{key}" must be a string')
    return value.strip()


def date_value(parsed, value):
    if value is None:
        return None
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise parsed.error(f"invalid date {value!r} (expected YYYY-MM-DD)")


def issue_value(parsed, value):
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("number")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise parsed.error(f"issue {value!r} is not a number")


def list_value(parsed, item, key):
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise parsed.error(f'"{key}" must be a list')
    return value


def name_value(parsed, value, list_key, key="name"):
    """A plain string, or the `key` of an object."""
    if isinstance(value, dict):
        value = value.get(key)
    if not isinstance(value, str) or not clean_text(value):
        raise parsed.error(f'every item of "{list_key}" needs a {key}')
    return clean_text(value)


def optional_string(parsed, value, description):
    if value is None:
        return None
    if not isinstance(value, str):
        raise parsed.error(f"{description} must be a string")
    return value.strip()


def language_ref(parsed, value):
    name = name_value(parsed, value, "languages")
    code = value.get("code") if isinstance(value, dict) else None
    return LanguageRef(name=name, code=optional_string(parsed, code, "language code") or "")


def country_ref(parsed, value):
    name = name_value(parsed, value, "countries")
    if not isinstance(value, dict):
        return CountryRef(name=name)
    return CountryRef(
        name=name,
        iso_code=optional_string(parsed, value.get("iso_code"), "iso_code"),
        kind=optional_string(parsed, value.get("kind"), "kind") or None,
    )


def appearance_ref(parsed, value):
    if not isinstance(value, dict):
        raise parsed.error('every item of "appearances" must be an object')
    outlet = value.get("outlet")
    domain = ""
    if outlet is not None:
        domain = outlet.get("domain") if isinstance(outlet, dict) else ""
        outlet = name_value(parsed, outlet, "appearances' outlets")
    return AppearanceRef(
        outlet=outlet or "",
        url=optional_string(parsed, value.get("url"), "url") or "",
        archive_url=optional_string(parsed, value.get("archive_url"), "archive_url") or "",
        outlet_domain=optional_string(parsed, domain, "outlet domain") or "",
    )
