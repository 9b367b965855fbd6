"""What every import format produces, and the one place that writes it to the database.

Parsers turn a file into a list of ParsedCase without touching the database. They read the
whole file and collect every problem (a CaseImportError each, `path:line: field: reason
(value)`), up to a limit: a row with a problem is rejected, the others stay valid
(cases.importers.parse_file_collecting). cases.services.imports.save_cases() then writes
the valid cases in one transaction, through the write path, so a bad file never leaves
half an import behind.
"""

import datetime
import re
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
from cases.search import among
from cases.services.editing import TEXT_LIMITS

__all__ = ["TaxonomyError", "TaxonomyResolver"]  # they live in cases.importers.taxonomy


NO_VALUE = object()
# How much of a value a message quotes.
VALUE_LENGTH = 80
DEFAULT_MAX_ERRORS = 100


def shortened(value, length=VALUE_LENGTH):
    """repr() of the value, cut to about `length` characters with an ellipsis."""
    if not isinstance(value, str):
        return repr(value)
    text = repr(value)
    if len(text) <= length:
        return text
    cut = repr(value[: max(length - 3, 1)])
    return cut[:-1] + "\u2026" + cut[-1]


class CaseImportError(Exception):
    """A problem in an import file: `path:line: field: reason (value)`.

    field and value are optional (`path:line: reason`, or `path: reason` without a line).
    `problems` lists every problem it stands for: itself, or several (ImportErrors).
    """

    def __init__(self, path, line, reason, field=None, value=NO_VALUE):
        self.path = str(path)
        self.line = line
        self.reason = reason
        self.field = field
        self.value = value
        super().__init__(self.message)

    @property
    def detail(self):
        """The message without its path and line: `field: reason (value)`."""
        text = f"{self.field}: {self.reason}" if self.field else self.reason
        if self.value is not NO_VALUE:
            text += f" ({shortened(self.value)})"
        return text

    @property
    def message(self):
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.detail}"

    @property
    def problems(self):
        return [self]

    def __str__(self):
        return self.message


class ImportErrors(CaseImportError):
    """Several problems of one file, in the order found; `truncated` when the parse stopped
    at the limit. Its path, line and reason are the first problem's."""

    def __init__(self, problems, truncated=False):
        problems = list(problems)
        if not problems:
            raise ValueError("ImportErrors needs at least one problem")
        self._problems = problems
        self.truncated = truncated
        first = problems[0]
        super().__init__(first.path, first.line, first.reason, first.field, first.value)

    @property
    def problems(self):
        return list(self._problems)

    @property
    def message(self):
        lines = [problem.message for problem in self._problems]
        if self.truncated:
            lines.append(f"stopped after {len(lines)} errors")
        return "\n".join(lines)


class Problems:
    """Collects the problems of one file, up to `limit` (None: no limit)."""

    def __init__(self, limit=DEFAULT_MAX_ERRORS):
        self.limit = limit
        self.items = []
        self.truncated = False

    def add(self, problem):
        self.items.extend(problem.problems)

    @property
    def full(self):
        """The limit is reached: reading the next record marks the list truncated."""
        return self.limit is not None and len(self.items) >= self.limit

    def stop_before_next(self):
        """True (and the list marked truncated) when the limit is reached: call it before
        reading each record, so a file with exactly `limit` problems is not truncated."""
        if self.full:
            self.truncated = True
        return self.truncated

    def __bool__(self):
        return bool(self.items)

    def __len__(self):
        return len(self.items)

    def error(self):
        """One exception for every problem collected (the first `limit`)."""
        items = self.items if self.limit is None else self.items[: self.limit]
        truncated = self.truncated or len(items) < len(self.items)
        if len(items) == 1 and not truncated:
            return items[0]
        return ImportErrors(items, truncated)

    def raise_if_any(self):
        if self.items:
            raise self.error()


@dataclass
class Rejected:
    """A record of the file left out, with its problems and the record as it was read:
    the CSV row's cells, or the text of the record."""

    line: int
    problems: list
    raw: object = None

    @property
    def reasons(self):
        return "; ".join(problem.detail for problem in self.problems)


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
    # From the site's own exports, read and checked but not written by the importer:
    # {"created_at" | "updated_at" | "published_at": aware datetime}.
    timestamps: dict = field(default_factory=dict)
    given: set[str] = field(default_factory=set)
    # The problems found in the record; a case with any is rejected, never written.
    problems: list = field(default_factory=list, compare=False, repr=False)

    def error(self, reason, field=None, value=NO_VALUE):
        return CaseImportError(self.path, self.line, reason, field, value)

    def problem(self, field, reason, value=NO_VALUE, line=None):
        """Record a problem of the record (at its first line unless `line` says)."""
        self.problems.append(
            CaseImportError(self.path, self.line if line is None else line, reason, field, value)
        )

    @property
    def source_key(self):
        return bool(self.source_id or self.source_url)


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Changes to published cases that wait for review (paste import), not applied.
    proposed: int = 0
    # (case, outcome, revision or None) of each case written through save_case(), in file
    # order; the ids of the cases created in bulk are in created_ids.
    saved: list = field(default_factory=list)
    created_ids: list = field(default_factory=list)
    batch: object = None

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
# The common shape of a URL in an archive, which URLValidator accepts too: http(s), a host
# name of ASCII labels, no port, no user. Checked first, because URLValidator takes about
# 0.2 ms a URL (a 10,000-case archive has 40,000); anything else goes through it.
PLAIN_URL = re.compile(
    r"https?://(?P<host>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})"
    r"(?:[/?#][^\s]*)?",
    re.IGNORECASE,
)
COUNTRY_KINDS = frozenset(Country.Kind.values)
CASE_STATUSES = frozenset(Case.Status.values)


def clean_text(text):
    """Collapse every run of whitespace (non-breaking spaces included) into one space."""
    return " ".join(text.split())


MAX_SOURCE_ID_LENGTH = Case._meta.get_field("source_id").max_length
MAX_SOURCE_URL_LENGTH = Case._meta.get_field("source_url").max_length
# The file's name for each taxonomy kind, in messages.
NAME_FIELDS = {
    "keyword": "keywords",
    "country": "countries",
    "language": "languages",
    "outlet": "outlets",
}


def check_case(parsed):
    """Record in parsed.problems what the database would refuse, each naming the field and
    the value, so that errors name the file's line. Returns True when the case is valid."""
    if not parsed.title:
        parsed.problem("title", "missing")
    elif len(parsed.title) > MAX_TITLE_LENGTH:
        parsed.problem("title", f"is longer than {MAX_TITLE_LENGTH} characters", parsed.title)
    for name, limit in TEXT_LIMITS.items():
        if len(getattr(parsed, name)) > limit:
            parsed.problem(name, f"is longer than {limit} characters")
    names = [("keyword", name) for name in parsed.keywords]
    names += [("country", country.name) for country in parsed.countries]
    names += [("language", language.name) for language in parsed.languages]
    names += [("outlet", a.outlet) for a in parsed.appearances if a.outlet]
    for kind, name in names:
        if len(name) > MAX_NAME_LENGTHS[kind]:
            parsed.problem(
                NAME_FIELDS[kind], f"name is longer than {MAX_NAME_LENGTHS[kind]} characters", name
            )
        elif "\n" in name or "\r" in name:
            parsed.problem(NAME_FIELDS[kind], "name spans several lines", name)
    for language in parsed.languages:
        if len(language.code) > MAX_LANGUAGE_CODE_LENGTH:
            parsed.problem(
                "languages", f"code is longer than {MAX_LANGUAGE_CODE_LENGTH} characters",
                language.code,
            )  # fmt: skip
    for country in parsed.countries:
        if country.kind is not None and country.kind not in COUNTRY_KINDS:
            parsed.problem(
                "countries", f"kind is not one of {', '.join(Country.Kind.values)}", country.kind
            )
        if country.iso_code and len(country.iso_code) != 2:
            parsed.problem("countries", "ISO code is not two letters", country.iso_code)
        if country.kind not in (None, Country.Kind.COUNTRY) and country.iso_code:
            parsed.problem(
                "countries", f"a {country.kind} value cannot have an ISO code", country.name
            )
    for appearance in parsed.appearances:
        if not appearance.outlet and not appearance.url:
            parsed.problem("urls", "an appearance needs an outlet or a URL")
        check_url(parsed, "urls", appearance.url)
        check_url(parsed, "archive_urls", appearance.archive_url)
    if len(parsed.source_id) > MAX_SOURCE_ID_LENGTH:
        parsed.problem(
            "source_id", f"is longer than {MAX_SOURCE_ID_LENGTH} characters", parsed.source_id
        )
    elif parsed.source_id != parsed.source_id.strip() or "\n" in parsed.source_id:
        parsed.problem("source_id", "has spaces around it or spans lines", parsed.source_id)
    check_url(parsed, "source_url", parsed.source_url, MAX_SOURCE_URL_LENGTH)
    if parsed.status is not None and parsed.status not in CASE_STATUSES:
        parsed.problem("status", f"is not one of {', '.join(Case.Status.values)}", parsed.status)
    return not parsed.problems


def check_url(parsed, field_name, url, max_length=MAX_URL_LENGTH):
    """Record a problem when `url` (if any) is too long or not an http(s) URL."""
    if not url:
        return
    if len(url) > max_length:
        parsed.problem(field_name, f"URL is longer than {max_length} characters", url)
        return
    plain = PLAIN_URL.fullmatch(url)
    if plain and len(plain["host"]) <= 253 and len(url) <= 2048:
        return
    try:
        validate_url(url)
    except ValidationError:
        parsed.problem(field_name, "invalid URL", url)


def normalize_url(url):
    """The form under which source URLs are compared: no trailing slash, case-insensitive
    scheme and host."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        return url.strip()
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}".rstrip("/")


def url_variants(url):
    """The spellings of `url` that normalize_url() takes for it: with and without the
    trailing slash, as given and with a lower-case scheme and host."""
    variants = set()
    for spelling in (url.strip(), normalize_url(url)):
        bare = spelling.rstrip("/")
        variants |= {bare, bare + "/"}
    return variants


def duplicate_problems(parsed_cases):
    """The problems of entries that describe a case an earlier entry of the file already
    describes, which would silently overwrite each other.

    Two entries are one case when they share a source id or a source URL; entries sharing
    a title and a date are one case only when neither has a source key (real archives hold
    distinct cases with one title on one date, told apart by their source URLs). The first
    entry is kept; each later one gets a problem.
    """
    first_line = {}
    problems = []
    for parsed in parsed_cases:
        keys = []
        if parsed.source_id:
            keys.append(("source_id", parsed.source_id, "same source id"))
        if parsed.source_url:
            keys.append(("source_url", normalize_url(parsed.source_url), "same source URL"))
        if not parsed.source_key:
            key = (normalize_title(parsed.title), parsed.date)
            keys.append(("title", key, "same title and date"))
        for field_name, key, reason in keys:
            if (field_name, key) in first_line:
                line = first_line[field_name, key]
                value = parsed.title if field_name == "title" else getattr(parsed, field_name)
                problems.append(
                    parsed.error(f"{reason} as the case on line {line}", field_name, value)
                )
                break
        else:
            for field_name, key, _reason in keys:
                first_line[field_name, key] = parsed.line
    return problems


def check_no_duplicates(parsed_cases):
    """Raise the duplicate problems of the file (see duplicate_problems()), if any."""
    problems = Problems(limit=None)
    for problem in duplicate_problems(parsed_cases):
        problems.add(problem)
    problems.raise_if_any()


class ExistingCases:
    """Finds the case a parsed case describes.

    1. By the source key: the case with the entry's source id, else the one with its
       source URL (compared without a trailing slash, host case-insensitive).
    2. An entry with a source key that matched nothing takes a case with its normalised
       title and date only if that case has no source key of its own (a case entered by
       hand or imported from the text layout, which the import now keys). A case that
       has another source key is another case: the entry is new, whatever its title.
    3. An entry without a source key matches on normalised title and date, as before: a
       dated entry also matches an undated case with its title, and an undated entry the
       only case with its title, so adding a date to a case (in a file or in the admin)
       doesn't turn the next import into a duplicate.

    With keep_ids, an entry's `case_id` (from the site's own export) names its case first.
    Each case is matched at most once.
    """

    def __init__(self, parsed_cases, keep_ids=False):
        self.keep_ids = keep_ids
        self.by_title = {}
        self.by_source_id = {}
        self.by_source_url = {}
        self.ids = set()
        self.keyed = set()
        self.matched = set()
        case_ids = {parsed.case_id for parsed in parsed_cases if parsed.case_id is not None}
        if keep_ids and case_ids:
            self.ids = set(among(Case.objects, "id", case_ids).values_list("pk", flat=True))
        source_ids = {parsed.source_id for parsed in parsed_cases if parsed.source_id}
        if source_ids:
            rows = among(Case.objects, "source_id", source_ids).values_list("source_id", "pk")
            self.by_source_id = dict(rows)
        source_urls = [parsed.source_url for parsed in parsed_cases if parsed.source_url]
        if source_urls:
            variants = {variant for url in source_urls for variant in url_variants(url)}
            rows = among(Case.objects, "source_url", variants).values_list("source_url", "pk")
            self.by_source_url = {normalize_url(url): pk for url, pk in rows}
        # Titles are needed for entries without a source key, and for keyed entries whose
        # key names no case (they may take a case that has no key).
        wanted = {
            normalize_title(parsed.title) for parsed in parsed_cases if not self._known_key(parsed)
        }
        if not wanted:
            return
        rows = Case.objects.order_by("id").values_list(
            "id", "title", "date", "source_id", "source_url"
        )
        if all(parsed.source_id or parsed.source_url for parsed in parsed_cases):
            rows = rows.filter(source_id="", source_url="")
        for pk, title, date, source_id, source_url in rows.iterator(chunk_size=5000):
            key = normalize_title(title)
            if key in wanted:
                self.by_title.setdefault(key, []).append((pk, date))
                if source_id or source_url:
                    self.keyed.add(pk)

    def _known_key(self, parsed):
        return (parsed.source_id and parsed.source_id in self.by_source_id) or (
            parsed.source_url and normalize_url(parsed.source_url) in self.by_source_url
        )

    def find_parsed(self, parsed):
        """The id of the case `parsed` describes, or None: it is new."""
        return self.find(
            parsed.title,
            parsed.date,
            source_id=parsed.source_id,
            source_url=parsed.source_url,
            case_id=parsed.case_id,
        )

    def find(self, title, date, source_id="", source_url="", case_id=None):
        if self.keep_ids and case_id in self.ids and case_id not in self.matched:
            return self._take(case_id)
        if source_id or source_url:
            pk = self.by_source_id.get(source_id) if source_id else None
            if pk is None and source_url:
                pk = self.by_source_url.get(normalize_url(source_url))
            if pk is not None:
                return None if pk in self.matched else self._take(pk)
        candidates = [
            (pk, candidate_date)
            for pk, candidate_date in self.by_title.get(normalize_title(title), [])
            if pk not in self.matched and not ((source_id or source_url) and pk in self.keyed)
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
        return self._take(pk)

    def _take(self, pk):
        self.matched.add(pk)
        return pk
