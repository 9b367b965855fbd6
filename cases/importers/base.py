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
from django.utils.text import slugify

from cases.models import (
    Appearance,
    Case,
    Country,
    Issue,
    Keyword,
    Language,
    Outlet,
    OutletAlias,
    normalize_title,
)


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


# ISO 639-1 codes for the languages EUvsDisinfo uses; other names fall back to their slug.
LANGUAGE_CODES = {
    "albanian": "sq",
    "arabic": "ar",
    "armenian": "hy",
    "azerbaijani": "az",
    "belarusian": "be",
    "bosnian": "bs",
    "bulgarian": "bg",
    "chinese": "zh",
    "croatian": "hr",
    "czech": "cs",
    "danish": "da",
    "dutch": "nl",
    "english": "en",
    "estonian": "et",
    "finnish": "fi",
    "french": "fr",
    "georgian": "ka",
    "german": "de",
    "greek": "el",
    "hebrew": "he",
    "hindi": "hi",
    "hungarian": "hu",
    "italian": "it",
    "japanese": "ja",
    "kazakh": "kk",
    "korean": "ko",
    "kyrgyz": "ky",
    "latvian": "lv",
    "lithuanian": "lt",
    "macedonian": "mk",
    "moldovan": "ro-MD",
    "mongolian": "mn",
    "norwegian": "no",
    "persian": "fa",
    "polish": "pl",
    "portuguese": "pt",
    "romanian": "ro",
    "russian": "ru",
    "serbian": "sr",
    "slovak": "sk",
    "slovenian": "sl",
    "spanish": "es",
    "swedish": "sv",
    "tajik": "tg",
    "turkish": "tr",
    "turkmen": "tk",
    "ukrainian": "uk",
    "urdu": "ur",
    "uzbek": "uz",
    "vietnamese": "vi",
}
LANGUAGE_NAMES_BY_CODE = {code.casefold(): name.title() for name, code in LANGUAGE_CODES.items()}

COUNTRY_CODES = {
    "afghanistan": "AF",
    "albania": "AL",
    "algeria": "DZ",
    "argentina": "AR",
    "armenia": "AM",
    "australia": "AU",
    "austria": "AT",
    "azerbaijan": "AZ",
    "belarus": "BY",
    "belgium": "BE",
    "bolivia": "BO",
    "bosnia and herzegovina": "BA",
    "brazil": "BR",
    "bulgaria": "BG",
    "burkina faso": "BF",
    "canada": "CA",
    "central african republic": "CF",
    "chile": "CL",
    "china": "CN",
    "colombia": "CO",
    "croatia": "HR",
    "cuba": "CU",
    "cyprus": "CY",
    "czech republic": "CZ",
    "czechia": "CZ",
    "denmark": "DK",
    "egypt": "EG",
    "estonia": "EE",
    "ethiopia": "ET",
    "finland": "FI",
    "france": "FR",
    "georgia": "GE",
    "germany": "DE",
    "greece": "GR",
    "hungary": "HU",
    "iceland": "IS",
    "india": "IN",
    "indonesia": "ID",
    "iran": "IR",
    "iraq": "IQ",
    "ireland": "IE",
    "israel": "IL",
    "italy": "IT",
    "japan": "JP",
    "jordan": "JO",
    "kazakhstan": "KZ",
    "kosovo": "XK",
    "kyrgyzstan": "KG",
    "latvia": "LV",
    "lebanon": "LB",
    "libya": "LY",
    "lithuania": "LT",
    "luxembourg": "LU",
    "macedonia": "MK",
    "mali": "ML",
    "malta": "MT",
    "mexico": "MX",
    "moldova": "MD",
    "mongolia": "MN",
    "montenegro": "ME",
    "netherlands": "NL",
    "new zealand": "NZ",
    "nicaragua": "NI",
    "niger": "NE",
    "nigeria": "NG",
    "north korea": "KP",
    "north macedonia": "MK",
    "norway": "NO",
    "pakistan": "PK",
    "palestine": "PS",
    "poland": "PL",
    "portugal": "PT",
    "qatar": "QA",
    "romania": "RO",
    "russia": "RU",
    "saudi arabia": "SA",
    "serbia": "RS",
    "slovakia": "SK",
    "slovenia": "SI",
    "south africa": "ZA",
    "south korea": "KR",
    "spain": "ES",
    "sudan": "SD",
    "sweden": "SE",
    "switzerland": "CH",
    "syria": "SY",
    "taiwan": "TW",
    "tajikistan": "TJ",
    "turkey": "TR",
    "türkiye": "TR",
    "turkmenistan": "TM",
    "uk": "GB",
    "ukraine": "UA",
    "united kingdom": "GB",
    "united states": "US",
    "us": "US",
    "usa": "US",
    "uzbekistan": "UZ",
    "venezuela": "VE",
    "vietnam": "VN",
    "yemen": "YE",
}

REGIONS = frozenset(
    {
        "abkhazia",
        "africa",
        "arctic",
        "asia",
        "baltic states",
        "balkans",
        "caucasus",
        "central asia",
        "central europe",
        "crimea",
        "donbas",
        "eastern europe",
        "eastern partnership",
        "eu",
        "europe",
        "european union",
        "latin america",
        "middle east",
        "nagorno-karabakh",
        "nordic countries",
        "north africa",
        "sahel",
        "scandinavia",
        "south caucasus",
        "south ossetia",
        "soviet union",
        "the west",
        "transnistria",
        "ussr",
        "west",
        "western balkans",
        "world",
    }
)

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


class TaxonomyResolver:
    """Finds keywords, countries, languages and outlets by name, creating missing ones.

    Everything is loaded once: the tables are small (hundreds to a few thousand rows).
    """

    def __init__(self):
        self.keywords = {k.name.casefold(): k for k in Keyword.objects.all()}
        self.outlets = {o.name.casefold(): o for o in Outlet.objects.all()}
        # Other names and domains of outlets: "Sputnik Poland", "pl.sputniknews.com".
        self.outlet_aliases = {o.domain.casefold(): o for o in self.outlets.values() if o.domain}
        for alias in OutletAlias.objects.select_related("outlet"):
            self.outlet_aliases[alias.name.casefold()] = alias.outlet
        self.countries = {c.name.casefold(): c for c in Country.objects.all()}
        self.languages = {}
        self.language_codes = {}
        for language in Language.objects.all():
            self._remember_language(language)
        self.issues = {}

    def _remember_language(self, language):
        self.languages[language.name.casefold()] = language
        self.language_codes[language.code.casefold()] = language

    def find_keyword(self, name):
        return self.keywords.get(name.casefold())

    def keyword(self, name):
        key = name.casefold()
        if key not in self.keywords:
            self.keywords[key] = Keyword.objects.create(name=name)
        return self.keywords[key]

    def find_outlet(self, name, domain=""):
        """The outlet known by this name, by it as an alias or domain, or by `domain`."""
        key = name.casefold()
        found = self.outlets.get(key) or self.outlet_aliases.get(key)
        if found is None and domain:
            found = self.outlet_aliases.get(domain.casefold())
        return found

    def outlet(self, name, domain=""):
        found = self.find_outlet(name, domain)
        if found is None:
            found = Outlet.objects.create(name=name, domain=domain)
            self.outlets[name.casefold()] = found
            if domain:
                self.outlet_aliases[domain.casefold()] = found
        return found

    def find_country(self, ref):
        return self.countries.get(ref.name.casefold())

    def country(self, ref):
        key = ref.name.casefold()
        if key in self.countries:
            return self.countries[key]
        kind = ref.kind or (Country.Kind.REGION if key in REGIONS else Country.Kind.COUNTRY)
        iso_code = ref.iso_code if ref.iso_code is not None else COUNTRY_CODES.get(key, "")
        if kind == Country.Kind.REGION:
            iso_code = ""
        same_code = iso_code and next(
            (c for c in self.countries.values() if c.iso_code == iso_code), None
        )
        country = same_code or Country.objects.create(name=ref.name, iso_code=iso_code, kind=kind)
        self.countries[key] = country
        return country

    def find_language(self, ref):
        name_key = ref.name.casefold()
        code = ref.code or LANGUAGE_CODES.get(name_key, "")
        return (
            self.language_codes.get(code.casefold())
            or self.languages.get(name_key)
            or self.language_codes.get(name_key)
        )

    def language(self, ref):
        name_key = ref.name.casefold()
        code = ref.code or LANGUAGE_CODES.get(name_key, "")
        existing = self.find_language(ref)
        if existing:
            return existing
        name = ref.name
        if not code and name_key in LANGUAGE_NAMES_BY_CODE:
            # The file gave a code such as "ru" where a name was expected.
            code, name = ref.name, LANGUAGE_NAMES_BY_CODE[name_key]
        code = code or slugify(ref.name)[:MAX_LANGUAGE_CODE_LENGTH] or name_key
        existing = self.language_codes.get(code.casefold()) or self.languages.get(name.casefold())
        if existing:
            return existing
        language = Language.objects.create(code=code, name=name)
        self._remember_language(language)
        return language

    def issue(self, number):
        if number is None:
            return None
        if number not in self.issues:
            self.issues[number], _ = Issue.objects.get_or_create(number=number)
        return self.issues[number]


class ExistingCases:
    """Finds the case a parsed case describes.

    With keep_ids, a case the file gives an id for is the case with that id, if any. Then a
    source key (source id, then source URL) names its case, if any, and a row with a source
    key that matches none is a new case. Only a row without a source key is matched by
    normalised title and date, to a case that has no source key either.

    A dated entry also matches an undated case with its title, and an undated entry the
    only case with its title, so adding a date to a case (in a file or in the admin)
    doesn't turn the next import into a duplicate. Each case is matched at most once.
    """

    def __init__(self, parsed_cases, keep_ids=False):
        self.by_title = {}
        self.matched = set()
        self.ids = set()
        if keep_ids:
            given = [parsed.case_id for parsed in parsed_cases if parsed.case_id is not None]
            self.ids = set(Case.objects.filter(pk__in=given).values_list("pk", flat=True))
        self.by_source = {}
        for name in ("source_id", "source_url"):
            keys = [getattr(parsed, name) for parsed in parsed_cases if getattr(parsed, name)]
            if keys:
                rows = Case.objects.filter(**{f"{name}__in": keys}).values_list(name, "pk")
                self.by_source.update({(name, key): pk for key, pk in rows})
        wanted = {
            normalize_title(parsed.title)
            for parsed in parsed_cases
            if not (parsed.source_id or parsed.source_url)
        }
        if not wanted:
            return
        rows = (
            Case.objects.filter(source_id="", source_url="")
            .order_by("id")
            .values_list("id", "title", "date")
        )
        for pk, title, date in rows.iterator(chunk_size=5000):
            key = normalize_title(title)
            if key in wanted:
                self.by_title.setdefault(key, []).append((pk, date))

    def find_case(self, parsed):
        """The id of the case `parsed` describes, or None for a new case."""
        if parsed.case_id in self.ids:
            self.matched.add(parsed.case_id)
            return parsed.case_id
        if parsed.source_id or parsed.source_url:
            for name in ("source_id", "source_url"):
                pk = self.by_source.get((name, getattr(parsed, name)))
                if pk is not None and pk not in self.matched:
                    self.matched.add(pk)
                    return pk
            return None
        return self.find(parsed.title, parsed.date)

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
