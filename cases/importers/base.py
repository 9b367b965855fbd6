"""What every import format produces, and the one place that writes it to the database.

Parsers turn a file into a list of ParsedCase without touching the database, raising
CaseImportError (with file and line) on the first problem. cases.services.imports
.save_cases() then writes the whole list in one transaction, through the write path, so a
bad file never leaves half an import behind.
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from cases.importers.taxonomy import TaxonomyError, TaxonomyResolver
from cases.models import (
    Appearance,
    Case,
    Country,
    Keyword,
    Language,
    Outlet,
    normalize_title,
)

__all__ = ["TaxonomyError", "TaxonomyResolver"]  # they live in cases.importers.taxonomy


class CaseImportError(Exception):
    """A problem in an import file, reported as `path:line: reason` (or `path: reason`)."""

    def __init__(self, path, line, reason):
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class LanguageRef:
    name: str
    code: str = ""


@dataclass(frozen=True)
class CountryRef:
    name: str
    iso_code: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class AppearanceRef:
    outlet: str = ""
    url: str = ""
    archive_url: str = ""
    outlet_domain: str = ""


# Fields a file may leave out; on an existing case, a field the file does not give is kept.
OPTIONAL_FIELDS = frozenset(
    {"summary", "disproof", "date", "issue", "languages", "countries", "keywords", "appearances"}
)


@dataclass
class ParsedCase:
    """One case read from a file, before anything is written."""

    path: str
    line: int
    title: str
    summary: str = ""
    disproof: str = ""
    date: datetime.date | None = None
    issue: int | None = None
    languages: list[LanguageRef] = field(default_factory=list)
    countries: list[CountryRef] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    appearances: list[AppearanceRef] = field(default_factory=list)
    related_titles: list[str] = field(default_factory=list)
    # The source's id and report URL: the case's identity when present (ExistingCases).
    source_id: str = ""
    source_url: str = ""
    # From the site's own exports: the case's id here (kept with --keep-ids), its status,
    # and the slugs of its taxonomy values, {("keyword" | "country" | "outlet", name): slug}.
    case_id: int | None = None
    status: str | None = None
    slugs: dict = field(default_factory=dict)
    given: set[str] = field(default_factory=set)

    def error(self, reason):
        return CaseImportError(self.path, self.line, reason)


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Changes to published cases that wait for review (paste import), not applied.
    proposed: int = 0
    # (case, outcome, revision or None) of each case written, in file order.
    saved: list = field(default_factory=list)

    def count(self, outcome):
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def total(self):
        return self.created + self.updated + self.unchanged + self.proposed


MAX_TITLE_LENGTH = Case._meta.get_field("title").max_length
MAX_NAME_LENGTHS = {
    "keyword": Keyword._meta.get_field("name").max_length,
    "country": Country._meta.get_field("name").max_length,
    "language": Language._meta.get_field("name").max_length,
    "outlet": Outlet._meta.get_field("name").max_length,
}
MAX_URL_LENGTH = Appearance._meta.get_field("url").max_length
MAX_LANGUAGE_CODE_LENGTH = Language._meta.get_field("code").max_length
validate_url = URLValidator()


def clean_text(text):
    """Collapse every run of whitespace (non-breaking spaces included) into one space."""
    return " ".join(text.split())


def check_case(parsed):
    """Reject what the database would refuse, so errors name the file's line."""
    if not parsed.title:
        raise parsed.error("missing title")
    if len(parsed.title) > MAX_TITLE_LENGTH:
        raise parsed.error(f"title is longer than {MAX_TITLE_LENGTH} characters")
    names = [("keyword", name) for name in parsed.keywords]
    names += [("country", country.name) for country in parsed.countries]
    names += [("language", language.name) for language in parsed.languages]
    names += [("outlet", a.outlet) for a in parsed.appearances if a.outlet]
    for kind, name in names:
        if len(name) > MAX_NAME_LENGTHS[kind]:
            raise parsed.error(f"{kind} name is longer than {MAX_NAME_LENGTHS[kind]} characters")
    for language in parsed.languages:
        if len(language.code) > MAX_LANGUAGE_CODE_LENGTH:
            raise parsed.error(f"language code {language.code!r} is too long")
    for country in parsed.countries:
        if country.kind not in (None, *Country.Kind.values):
            raise parsed.error(f"country kind {country.kind!r} is not one of country, region")
        if country.iso_code and len(country.iso_code) != 2:
            raise parsed.error(f"ISO code {country.iso_code!r} is not two letters")
        if country.kind == Country.Kind.REGION and country.iso_code:
            raise parsed.error(f"region {country.name!r} cannot have an ISO code")
    for appearance in parsed.appearances:
        if not appearance.outlet and not appearance.url:
            raise parsed.error("an appearance needs an outlet or a URL")
        for url in (appearance.url, appearance.archive_url):
            check_url(parsed, url)


def check_url(parsed, url):
    if not url:
        return
    if len(url) > MAX_URL_LENGTH:
        raise parsed.error(f"URL is longer than {MAX_URL_LENGTH} characters")
    try:
        validate_url(url)
    except ValidationError:
        raise parsed.error(f"invalid URL {url!r}") from None


def check_no_duplicates(parsed_cases):
    """Two entries for one case in a file would silently overwrite each other."""
    first_line = {}
    for parsed in parsed_cases:
        key = (normalize_title(parsed.title), parsed.date)
        if key in first_line:
            raise parsed.error(f"same title and date as the case on line {first_line[key]}")
        first_line[key] = parsed.line


class ExistingCases:
    """Finds the case a parsed case describes: same normalised title and same date.

    A dated entry also matches an undated case with its title, and an undated entry the
    only case with its title, so adding a date to a case (in a file or in the admin)
    doesn't turn the next import into a duplicate. Each case is matched at most once.
    """

    def __init__(self, parsed_cases):
        wanted = {normalize_title(parsed.title) for parsed in parsed_cases}
        self.by_title = {}
        self.matched = set()
        rows = Case.objects.order_by("id").values_list("id", "title", "date")
        for pk, title, date in rows.iterator(chunk_size=5000):
            key = normalize_title(title)
            if key in wanted:
                self.by_title.setdefault(key, []).append((pk, date))

    def find(self, title, date):
        candidates = [
            (pk, candidate_date)
            for pk, candidate_date in self.by_title.get(normalize_title(title), [])
            if pk not in self.matched
        ]
        same_date = [pk for pk, candidate_date in candidates if candidate_date == date]
        undated = [pk for pk, candidate_date in candidates if candidate_date is None]
        if same_date:
            pk = same_date[0]
        elif undated:
            pk = undated[0]
        elif date is None and len(candidates) == 1:
            pk = candidates[0][0]
        else:
            return None
        self.matched.add(pk)
        return pk
