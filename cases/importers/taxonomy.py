"""Turning the taxonomy names of an import file into keywords, countries, languages, outlets
and issues: the same value whatever the spelling, a standard code, and a stable slug.

    resolver = TaxonomyResolver()
    resolver.prepare(parsed_cases)      # a handful of queries for the whole file
    resolver.problems_for(parsed)       # ["languages: unknown language (Klingonish)"]
    resolver.keyword("NATO"), resolver.country(ref), resolver.language(ref),
    resolver.outlet(name, domain), resolver.issue(270)     # dict look-ups after prepare()

prepare() reads every value and alias once, matches every name of the file, and creates
the missing values with one bulk_create per model. A look-up of a name prepare() did not
see resolves (and creates) that one name the same way, so the resolver also works without
it, one name at a time. find_*() only look: they never create anything.

How names match (the editors' alias tables come first, then the rules):

- Keywords: same name_key() (case, accents, spaces and punctuation left out), or a
  KeywordAlias.
- Countries and regions: a CountryAlias, then REGIONS (regions, alliances and historical
  states: no ISO code), then the ISO 3166-1 alpha-2 code of the name (COUNTRY_CODES, then
  pycountry's names, official names and common names), then is_region() (pycountry's
  historical countries, "region of…", "X and Y" of known places). Two names with one code
  are one Country. A name that is none of these stays a country without a code.
- Languages: a LanguageAlias, then a BCP 47 code (ISO 639-1 where one exists) from
  LANGUAGE_CODES, the name as a code ("ru"), the exact names language-data knows in many
  languages ("Castilian" → es, "Deutsch" → de) or "Language (Country)" ("Português
  (Brazil)" → pt-BR).
  Montenegrin is sr-ME: langcodes (after CLDR) reads the ISO 639-3 code cnr as sr-ME too.
  A name none of these knows is a problem ("unknown language (…)"), never a made-up code.
- Outlets: an outlet's name, an OutletAlias or a domain; then the same outlet_key(): case,
  punctuation and a language or platform suffix (" - YouTube", " - Russian",
  " (Telegram)") left out. The file's spelling is recorded as an OutletAlias.

A value the file gives a slug for (ParsedCase.slugs: the site's own exports) is matched by
its exact name only and created as the file has it, apart from its spelling variants, so an
export reads back as it was.

A new value's name: when several spellings of the file are one new value, the standard
name if the file uses it, else the most frequent spelling, ties broken by sort order (never
by the order of the file). An existing value's name never changes on import. Its slug is
the one the file gives for it (ParsedCase.slugs), if free, else cases.models.stable_slug().
"""

import functools
import re
import unicodedata
from collections import Counter, defaultdict

import langcodes
import pycountry
from django.utils.text import slugify
from language_data import names as language_names
from language_data.util import data_filename

from cases.models import (
    SLUG_MAX_LENGTH,
    Country,
    CountryAlias,
    Issue,
    Keyword,
    KeywordAlias,
    Language,
    LanguageAlias,
    Outlet,
    OutletAlias,
    name_key,
    stable_slug,
)

FIELD_NAMES = {
    "keyword": "keywords",
    "country": "countries",
    "language": "languages",
    "outlet": "outlets",
}
MAX_LANGUAGE_CODE_LENGTH = Language._meta.get_field("code").max_length
MAX_LANGUAGE_NAME_LENGTH = Language._meta.get_field("name").max_length


class TaxonomyError(ValueError):
    """A name the resolver cannot turn into a value; str() is `field: reason`."""

    def __init__(self, kind, name, reason):
        self.kind = kind
        self.name = name
        self.reason = reason
        super().__init__(f"{FIELD_NAMES[kind]}: {reason}")


# Language names (and spellings) EUvsDisinfo uses, and what langcodes reads differently.
LANGUAGE_CODES = {
    "albanian": "sq",
    "arabic": "ar",
    "armenian": "hy",
    "azerbaijani": "az",
    "azeri": "az",
    "belarusian": "be",
    "belarussian": "be",
    "bosnian": "bs",
    "bulgarian": "bg",
    "castilian": "es",
    "chinese": "zh",
    "croatian": "hr",
    "czech": "cs",
    "danish": "da",
    "dutch": "nl",
    "english": "en",
    "estonian": "et",
    "farsi": "fa",
    "finnish": "fi",
    "flemish": "nl",
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
    "kirghiz": "ky",
    "korean": "ko",
    "kyrgyz": "ky",
    "latvian": "lv",
    "lithuanian": "lt",
    "macedonian": "mk",
    "moldavian": "ro-MD",
    "moldovan": "ro-MD",
    "mongolian": "mn",
    "montenegrin": "sr-ME",
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
# The name a new language gets when the file's names do not include langcodes' own.
LANGUAGE_NAMES = {"ro-MD": "Moldovan", "sr-ME": "Montenegrin"}

COUNTRY_CODES = {
    "azerbaidjan": "AZ",
    "belorussia": "BY",
    "bosnia": "BA",
    "britain": "GB",
    "brunei": "BN",
    "burma": "MM",
    "byelorussia": "BY",
    "cape verde": "CV",
    "czech republic": "CZ",
    "democratic republic of congo": "CD",
    "democratic republic of the congo": "CD",
    "dr congo": "CD",
    "drc": "CD",
    "great britain": "GB",
    "holland": "NL",
    "holy see": "VA",
    "hongkong": "HK",
    "ivory coast": "CI",
    "kirgizia": "KG",
    "kirgizstan": "KG",
    "kirghizia": "KG",
    "kirghizstan": "KG",
    "kosovo": "XK",
    "kyrgyz republic": "KG",
    "macedonia": "MK",
    "micronesia": "FM",
    "moldavia": "MD",
    "palestine": "PS",
    "russia": "RU",
    "swaziland": "SZ",
    "syria": "SY",
    "tadjikistan": "TJ",
    "turkey": "TR",
    "u s": "US",
    "uae": "AE",
    "uk": "GB",
    "united states of america": "US",
    "us": "US",
    "usa": "US",
    "vatican": "VA",
    "vatican city": "VA",
    "north korea": "KP",
    "south korea": "KR",
    "laos": "LA",
    "vietnam": "VN",
}

# Regions, alliances, occupied territories and historical states: kind=region, no ISO code.
REGIONS = frozenset(
    {
        "abkhazia",
        "africa",
        "arctic",
        "asia",
        "asia pacific",
        "baltic states",
        "baltics",
        "balkans",
        "black sea",
        "brics",
        "caucasus",
        "cee",
        "central and eastern europe",
        "central asia",
        "central europe",
        "cis",
        "commonwealth of independent states",
        "crimea",
        "csto",
        "czechoslovakia",
        "donbas",
        "donbass",
        "donetsk",
        "east germany",
        "eastern europe",
        "eastern partnership",
        "eu",
        "eurasian economic union",
        "europe",
        "european union",
        "g7",
        "g20",
        "gdr",
        "german democratic republic",
        "global",
        "indo pacific",
        "international",
        "latin america",
        "luhansk",
        "lugansk",
        "mena",
        "middle east",
        "middle east and africa",
        "nagorno karabakh",
        "nato",
        "nordic countries",
        "north africa",
        "northern cyprus",
        "osce",
        "republika srpska",
        "sahel",
        "scandinavia",
        "south east asia",
        "south caucasus",
        "south ossetia",
        "southeast asia",
        "soviet union",
        "the west",
        "transnistria",
        "un",
        "united nations",
        "ussr",
        "visegrad group",
        "west",
        "western balkans",
        "western europe",
        "world",
        "yugoslavia",
    }
)
REGION_WORDS = re.compile(
    r"\b(region|regions|territory|territories|occupied|bloc|alliance|union|states of)\b", re.I
)

# Outlet name suffixes that name a platform or a language edition of the same outlet.
OUTLET_PLATFORMS = frozenset(
    {
        "facebook",
        "gab",
        "gettr",
        "instagram",
        "ok",
        "odnoklassniki",
        "rumble",
        "rutube",
        "substack",
        "telegram",
        "telegram channel",
        "tiktok",
        "twitter",
        "vk",
        "vkontakte",
        "website",
        "x",
        "youtube",
        "youtube channel",
        "english version",
        "russian version",
    }
)
OUTLET_SUFFIX = re.compile(
    r"^(?P<base>.*\S)\s*(?:[-–—|:]\s+(?P<dashed>[^-–—|:()]+)|\((?P<bracketed>[^()]+)\))\s*$"
)


@functools.lru_cache(maxsize=65536)
def plain(name):
    """Lower case, no accents, punctuation as spaces: the form the built-in tables use."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    text = text.replace(".", "").replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def country_plain(name):
    return re.sub(r"^the ", "", plain(name))


def _is_outlet_suffix(text):
    words = plain(text)
    words = re.sub(r"^in ", "", words)
    return words in OUTLET_PLATFORMS or words in LANGUAGE_CODES


@functools.lru_cache(maxsize=65536)
def outlet_base(name):
    """The outlet's name without language or platform suffixes ("RT - YouTube" → "RT")."""
    while True:
        match = OUTLET_SUFFIX.match(name)
        if not match:
            return name
        suffix = match["dashed"] or match["bracketed"]
        if not _is_outlet_suffix(suffix):
            return name
        name = match["base"].rstrip(" -–—|:")


@functools.lru_cache(maxsize=65536)
def outlet_key(name):
    return name_key(outlet_base(name)) or name_key(name) or name.casefold()


def sort_key(name):
    """Ties between spellings are broken the way names sort (then by code point)."""
    return (plain(name), name)


def preferred_name(spellings, standard=()):
    """The name a new value gets from its spellings in a file, {spelling: count}."""
    standard = {name.casefold() for name in standard if name}
    usual = [name for name in spellings if name.casefold() in standard]
    if usual:
        return min(usual, key=sort_key)
    return min(spellings, key=lambda name: (-spellings[name], sort_key(name)))


# ISO 3166-1 by name: pycountry's names, official names and common names, and the short
# form of "Moldova, Republic of"; COUNTRY_CODES first.
def _country_index():
    index, short = {}, defaultdict(set)
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                index.setdefault(country_plain(value), country.alpha_2)
                head = value.split(",")[0].split("(")[0]
                short[country_plain(head)].add(country.alpha_2)
    for name, codes in short.items():
        if len(codes) == 1:
            index.setdefault(name, next(iter(codes)))
    index.update(COUNTRY_CODES)
    return index


COUNTRY_INDEX = _country_index()
HISTORIC_COUNTRIES = frozenset(
    country_plain(value)
    for country in pycountry.historic_countries
    for value in (country.name, getattr(country, "official_name", None) or country.name)
)
STANDARD_COUNTRY_NAMES = {
    country.alpha_2: [getattr(country, "common_name", None) or country.name.split(",")[0]]
    for country in pycountry.countries
}
STANDARD_COUNTRY_NAMES["GB"] = ["United Kingdom"]
STANDARD_COUNTRY_NAMES["US"] = ["United States"]
STANDARD_COUNTRY_NAMES["RU"] = ["Russia"]


def country_code(name):
    """The ISO 3166-1 alpha-2 code of a country's name, or ""."""
    key = country_plain(name)
    code = COUNTRY_INDEX.get(key)
    if code is None and name.isupper() and len(name) in (2, 3):
        found = pycountry.countries.get(alpha_2=name) if len(name) == 2 else None
        found = found or (pycountry.countries.get(alpha_3=name) if len(name) == 3 else None)
        code = found.alpha_2 if found else None
    return code or ""


# Of the regions above, the historical states and the alliances and organisations: each a
# kind of its own (Country.Kind), shown as such on /countries/ and in the API.
HISTORICAL_STATES = frozenset(
    {
        "czechoslovakia",
        "east germany",
        "gdr",
        "german democratic republic",
        "soviet union",
        "ussr",
        "yugoslavia",
        "russian empire",
        "ottoman empire",
    }
)
ALLIANCES = frozenset(
    {
        "brics",
        "cis",
        "commonwealth of independent states",
        "csto",
        "eastern partnership",
        "eu",
        "eurasian economic union",
        "european union",
        "g7",
        "g20",
        "nato",
        "osce",
        "un",
        "united nations",
        "visegrad group",
    }
)


def region_kind(name):
    """The kind of a name that is no country's: historical state, alliance, or region."""
    key = country_plain(name)
    if key in HISTORICAL_STATES or key in HISTORIC_COUNTRIES:
        return Country.Kind.HISTORICAL
    if key in ALLIANCES:
        return Country.Kind.ALLIANCE
    return Country.Kind.REGION


def is_region(name):
    """Whether a name (not a country's) is a region, an alliance or a historical state."""
    key = country_plain(name)
    if key in REGIONS or key in HISTORIC_COUNTRIES or REGION_WORDS.search(key):
        return True
    parts = [part for part in re.split(r",| and | & |/", key) if part.strip()]
    return len(parts) > 1 and all(
        country_plain(part) in REGIONS or country_code(part) for part in parts
    )


def standard_language_code(text):
    """The BCP 47 form of a code ("iw" → he, "cnr" → sr-ME), or None if it is none."""
    text = text.strip()
    if not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*", text):
        return None
    try:
        code = langcodes.standardize_tag(text.replace("_", "-"))
        language = langcodes.Language.get(code)
    except (ValueError, LookupError):
        return None
    if not language.is_valid() or not language.language:
        return None
    if language.display_name().casefold().startswith("unknown language"):
        return None
    return code if len(code) <= MAX_LANGUAGE_CODE_LENGTH else None


def language_code(name):
    """(BCP 47 code of a language name, None) or (None, reason)."""
    key = plain(name)
    if not key:
        return None, "empty language name"
    if key in LANGUAGE_CODES:
        return LANGUAGE_CODES[key], None
    code = standard_language_code(name)
    if code:
        return code, None
    unknown = None, f"unknown language ({name})"
    if re.search(r"[,;|/]", name):
        return unknown  # a list of languages, split on the wrong separator
    found = named_language(name)
    if found:
        return found, None
    match = re.fullmatch(r"(?P<language>[^()]+?)\s*\((?P<where>[^()]+)\)", name.strip())
    if match:
        language, _ = language_code(match["language"])
        if language:
            territory = country_code(match["where"])
            if territory and "-" not in language:
                return f"{language}-{territory}", None
            return language, None
    return unknown


@functools.cache
def _language_names():
    return language_names.load_trie(data_filename("trie/und/name_to_language.marisa"))


def named_language(name):
    """The BCP 47 code of a language's name in any language ("Deutsch", "Castilian"), or
    None. Exact names only: langcodes.find() also takes "Englishh" or "English, Russian"
    for English, which would hide a mistake in the file."""
    trie = _language_names()
    lookup = language_names.normalize_name(name)
    if lookup not in trie:
        return None
    return standard_language_code(language_names.get_trie_value(trie, lookup))


def language_name(code):
    """The English name of a language code: Montenegrin for sr-ME, Portuguese (Brazil)."""
    if code in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[code]
    return langcodes.Language.get(code).display_name()


def given_slug(slug):
    """A slug the file gave, if it is one."""
    if slug and len(slug) <= SLUG_MAX_LENGTH and slugify(slug) == slug:
        return slug
    return None


class TaxonomyResolver:
    """Finds keywords, countries, languages, outlets and issues by name, creating missing
    ones: call prepare() with the parsed cases first, then look names up."""

    def __init__(self):
        self.problems = {}  # (kind, name) -> reason
        self._keywords = {}  # name -> Keyword
        self._countries = {}  # CountryRef -> Country
        self._languages = {}  # LanguageRef -> Language
        self._outlets = {}  # (name, domain) -> Outlet
        self.issues = {}
        self._load()

    # Loading: one query per table.

    def _load(self):
        self.keyword_rows = list(Keyword.objects.all())
        self.keywords_by_name = {k.name.casefold(): k for k in self.keyword_rows}
        self.keywords_by_key = {}
        for keyword in sorted(self.keyword_rows, key=lambda k: k.pk):
            self.keywords_by_key.setdefault(name_key(keyword.name), keyword)
        by_pk = {k.pk: k for k in self.keyword_rows}
        self.keyword_aliases = {
            name_key(name): by_pk[pk]
            for name, pk in KeywordAlias.objects.values_list("name", "keyword_id")
        }

        self.country_rows = list(Country.objects.all())
        self.countries_by_name = {c.name.casefold(): c for c in self.country_rows}
        self.countries_by_key, self.countries_by_code = {}, {}
        for country in sorted(self.country_rows, key=lambda c: c.pk):
            self.countries_by_key.setdefault(name_key(country.name), country)
            if country.iso_code:
                self.countries_by_code.setdefault(country.iso_code.upper(), country)
        by_pk = {c.pk: c for c in self.country_rows}
        self.country_aliases = {
            name_key(name): by_pk[pk]
            for name, pk in CountryAlias.objects.values_list("name", "country_id")
        }

        self.language_rows = list(Language.objects.all())
        self.languages_by_name = {lang.name.casefold(): lang for lang in self.language_rows}
        self.languages_by_code = {lang.code.casefold(): lang for lang in self.language_rows}
        # By the standard form of their code too: a language stored as "cnr" is sr-ME.
        self.languages_by_standard = {}
        for language in sorted(self.language_rows, key=lambda lang: lang.pk):
            standard = standard_language_code(language.code)
            if standard:
                self.languages_by_standard.setdefault(standard, language)
        by_pk = {lang.pk: lang for lang in self.language_rows}
        self.language_aliases = {
            name_key(name): by_pk[pk]
            for name, pk in LanguageAlias.objects.values_list("name", "language_id")
        }

        self.outlet_rows = list(Outlet.objects.all())
        self.outlets_by_name = {o.name.casefold(): o for o in self.outlet_rows}
        # Other names and domains of outlets: "Sputnik Poland", "pl.sputniknews.com".
        self.outlet_aliases = {o.domain.casefold(): o for o in self.outlet_rows if o.domain}
        self.outlets_by_key = {}
        for outlet in sorted(self.outlet_rows, key=lambda o: o.pk):
            self.outlets_by_key.setdefault(outlet_key(outlet.name), outlet)
        by_pk = {o.pk: o for o in self.outlet_rows}
        self.alias_names = set()
        for name, pk in OutletAlias.objects.order_by("id").values_list("name", "outlet_id"):
            self.outlet_aliases[name.casefold()] = by_pk[pk]
            self.outlets_by_key.setdefault(outlet_key(name), by_pk[pk])
            self.alias_names.add(name)

        self.slugs = {
            model: set(model.objects.values_list("slug", flat=True))
            for model in (Keyword, Country, Outlet)
        }

    # The two phases.

    def prepare(self, parsed_cases):
        """Resolve every name of the file, creating the missing values in bulk."""
        parsed_cases = list(parsed_cases)
        slugs = {}
        for parsed in parsed_cases:
            for (kind, name), slug in (parsed.slugs or {}).items():
                slugs.setdefault((kind, name), slug)
        keywords, countries, languages, outlets, issues = Counter(), Counter(), Counter(), [], set()
        for parsed in parsed_cases:
            keywords.update(parsed.keywords)
            countries.update(parsed.countries)
            languages.update(parsed.languages)
            outlets += [(a.outlet, a.outlet_domain) for a in parsed.appearances if a.outlet]
            if parsed.issue is not None:
                issues.add(parsed.issue)
        self._resolve_keywords(keywords, slugs)
        self._resolve_countries(countries, slugs)
        self._resolve_languages(languages)
        self._resolve_outlets(Counter(outlets), slugs)
        self._resolve_issues(issues)
        return self

    def problems_for(self, parsed):
        """`field: reason` for each name of a parsed case that cannot be resolved, such as
        "languages: unknown language (Klingonish)"; empty when all is well."""
        found = []
        for ref in parsed.languages:
            if ref in self._languages:
                continue
            _, reason = self._language_match(ref)
            if reason is not None and f"languages: {reason}" not in found:
                found.append(f"languages: {reason}")
        return found

    # Look-ups (after prepare(); a name it did not see is resolved on its own).

    def keyword(self, name):
        if name not in self._keywords:
            self._resolve_keywords(Counter([name]), {})
        return self._keywords[name]

    def country(self, ref):
        if ref not in self._countries:
            self._resolve_countries(Counter([ref]), {})
        return self._countries[ref]

    def language(self, ref):
        """The Language of a LanguageRef; TaxonomyError when the name is not a language."""
        if ref not in self._languages:
            self._resolve_languages(Counter([ref]))
        language = self._languages.get(ref)
        if language is None:
            raise TaxonomyError("language", ref.name, self.problems[("language", ref.name)])
        return language

    def outlet(self, name, domain=""):
        if (name, domain) not in self._outlets:
            self._resolve_outlets(Counter([(name, domain)]), {})
        return self._outlets[(name, domain)]

    def issue(self, number):
        if number is None:
            return None
        if number not in self.issues:
            self._resolve_issues({number})
        return self.issues[number]

    # Finding without creating (the paste import's preview).

    def find_keyword(self, name):
        return self._keyword_match(name)

    def find_country(self, ref):
        found, _, _ = self._country_match(ref)
        return found

    def find_language(self, ref):
        found, _ = self._language_match(ref)
        return found if isinstance(found, Language) else None

    def find_outlet(self, name, domain=""):
        """The outlet known by this name, by it as an alias or domain, or by `domain`."""
        found, _ = self._outlet_match(name, domain)
        return found

    # Keywords.

    def _keyword_match(self, name):
        return (
            self.keywords_by_name.get(name.casefold())
            or self.keyword_aliases.get(name_key(name))
            or self.keywords_by_key.get(name_key(name))
        )

    def _resolve_keywords(self, names, slugs):
        new = defaultdict(Counter)
        for name, count in names.items():
            # A value the file gives a slug for (the site's own export) is that value:
            # matched by its exact name only, and kept apart from its spelling variants.
            exact = ("keyword", name) in slugs
            if exact:
                found = self.keywords_by_name.get(name.casefold())
            else:
                found = self._keyword_match(name)
            if found is not None:
                self._keywords[name] = found
            elif exact:
                new[("=", name.casefold())][name] += count
            else:
                new[name_key(name) or name.casefold()][name] += count
        created = self._create(Keyword, "keyword", new, slugs, lambda spellings: {})
        for key, keyword in created.items():
            self.keywords_by_key.setdefault(name_key(keyword.name), keyword)
            self.keywords_by_name[keyword.name.casefold()] = keyword
            for name in new[key]:
                self._keywords[name] = keyword

    # Countries and regions.

    def _country_match(self, ref, exact=False):
        """(existing Country or None, ISO code, kind) of a CountryRef; `exact`: by its
        exact name only (a value the file gives a slug for)."""
        found = self.countries_by_name.get(ref.name.casefold())
        if not exact:
            found = (
                found
                or self.country_aliases.get(name_key(ref.name))
                or self.countries_by_key.get(name_key(ref.name))
            )
        if found is not None:
            return found, found.iso_code, found.kind
        if ref.kind not in (None, Country.Kind.COUNTRY):
            return None, "", ref.kind
        if ref.kind is None and country_plain(ref.name) in REGIONS:
            return None, "", region_kind(ref.name)
        code = (ref.iso_code or country_code(ref.name)).upper()
        if not code and ref.kind is None and is_region(ref.name):
            return None, "", region_kind(ref.name)
        if code and code in self.countries_by_code and not exact:
            return self.countries_by_code[code], code, Country.Kind.COUNTRY
        return None, code, Country.Kind.COUNTRY

    def _resolve_countries(self, refs, slugs):
        new, kinds = defaultdict(Counter), {}
        for ref, count in refs.items():
            exact = ("country", ref.name) in slugs
            found, code, kind = self._country_match(ref, exact)
            if found is not None:
                self._countries[ref] = found
                continue
            if exact:
                group = ("=", ref.name.casefold())
            elif code:
                group = ("code", code)
            else:
                group = ("key", name_key(ref.name) or ref.name.casefold())
            new[group][ref.name] += count
            kinds[group] = (code, kind)
            self._countries.setdefault(("pending", group), []).append(ref)

        def fields(group):
            code, kind = kinds[group]
            return {"iso_code": code, "kind": kind}

        def standard(group):
            code, _ = kinds[group]
            return STANDARD_COUNTRY_NAMES.get(code, [])

        created = self._create(Country, "country", new, slugs, fields, standard)
        for group, country in created.items():
            self.countries_by_key.setdefault(name_key(country.name), country)
            self.countries_by_name[country.name.casefold()] = country
            if country.iso_code:
                self.countries_by_code.setdefault(country.iso_code, country)
            for ref in self._countries.pop(("pending", group)):
                self._countries[ref] = country
                self.countries_by_key.setdefault(name_key(ref.name), country)

    # Languages.

    def _language_match(self, ref):
        """(existing Language or the standard code of a new one, None) or (None, reason)."""
        name = ref.name.strip()
        found = (
            self.languages_by_name.get(name.casefold())
            or self.languages_by_code.get(name.casefold())
            or self.language_aliases.get(name_key(name))
        )
        if found is not None:
            return found, None
        code = standard_language_code(ref.code) if ref.code else None
        if code is None:
            # No code, or one that is not BCP 47 (an older database's made-up code): the
            # name decides.
            code, reason = language_code(name)
            if code is None:
                return None, f"unknown language code ({ref.code})" if ref.code else reason
        given = ref.code.strip() if ref.code and standard_language_code(ref.code) else ""
        found = self.languages_by_code.get(given.casefold()) if given else None
        found = found or self.languages_by_code.get(code.casefold())
        return found or self.languages_by_standard.get(code, code), None

    def _resolve_languages(self, refs):
        new, given = defaultdict(Counter), defaultdict(Counter)
        for ref, count in refs.items():
            found, reason = self._language_match(ref)
            if reason is not None:
                self.problems[("language", ref.name)] = reason
            elif isinstance(found, Language):
                self._languages[ref] = found
            else:
                new[found][ref.name] += count
                if ref.code and standard_language_code(ref.code):
                    given[found][(ref.code.strip(), ref.name)] += count
        if not new:
            return
        languages = []
        for standard_code in sorted(new):
            if given[standard_code]:
                # The file names the code (the site's own exports): code and name as given.
                spellings = given[standard_code]
                code, name = min(spellings, key=lambda pair: (-spellings[pair], pair))
            else:
                # A new language is named in English, after its code: Castilian and
                # Spanish are Spanish, Português (Brazil) is Portuguese (Brazil).
                code, name = standard_code, language_name(standard_code)
            if name.casefold() in self.languages_by_name:
                name = f"{language_name(standard_code)} ({code})"
            language = Language(code=code, name=name[:MAX_LANGUAGE_NAME_LENGTH])
            languages.append(language)
            self.languages_by_name[language.name.casefold()] = language
            self.languages_by_code[code.casefold()] = language
            self.languages_by_standard[standard_code] = language
        Language.objects.bulk_create(languages)
        for ref in refs:
            found, _ = self._language_match(ref)
            if isinstance(found, Language):
                self._languages[ref] = found

    # Outlets.

    def _outlet_match(self, name, domain="", exact=False):
        """(existing Outlet or None, whether the name is another spelling of it); `exact`:
        by its exact name only (a value the file gives a slug for)."""
        found = self.outlets_by_name.get(name.casefold())
        if exact or found is not None:
            return found, found is not None and name != found.name
        found = self.outlet_aliases.get(name.casefold())
        if found is not None:
            return found, name != found.name
        found = self.outlets_by_key.get(outlet_key(name))
        if found is not None:
            return found, True
        if domain:
            return self.outlet_aliases.get(domain.casefold()), False
        return None, False

    def _resolve_outlets(self, refs, slugs):
        new, domains, aliases = defaultdict(Counter), defaultdict(Counter), []
        group_of = {}
        for (name, domain), count in refs.items():
            exact = ("outlet", name) in slugs
            found, variant = self._outlet_match(name, domain, exact)
            if found is not None:
                self._outlets[(name, domain)] = found
                if variant:
                    aliases.append((name, found))
                continue
            key = ("=", name.casefold()) if exact else outlet_key(name)
            group_of[(name, domain)] = key
            new[key][name] += count
            if domain:
                domains[key][domain] += count

        def fields(key):
            domain = preferred_name(domains[key]) if domains[key] else ""
            return {"domain": domain}

        def names(key):
            # A new outlet is named after the file's spellings without their suffixes.
            if isinstance(key, tuple):
                return new[key]  # named as the file has it (exact)
            bases = Counter()
            for name, count in new[key].items():
                bases[outlet_base(name)] += count
            return bases

        created = self._create(Outlet, "outlet", new, slugs, fields, spellings=names)
        for key, outlet in created.items():
            self.outlets_by_name[outlet.name.casefold()] = outlet
            self.outlets_by_key.setdefault(outlet_key(outlet.name), outlet)
            if outlet.domain:
                self.outlet_aliases.setdefault(outlet.domain.casefold(), outlet)
            for name in new[key]:
                if name != outlet.name:
                    aliases.append((name, outlet))
        for ref, key in group_of.items():
            self._outlets[ref] = created[key]
        new_aliases = []
        for name, outlet in sorted(aliases, key=lambda item: item[0]):
            if name in self.alias_names or name == outlet.name:
                continue
            self.alias_names.add(name)
            self.outlet_aliases[name.casefold()] = outlet
            new_aliases.append(OutletAlias(outlet=outlet, name=name))
        OutletAlias.objects.bulk_create(new_aliases)

    # Issues.

    def _resolve_issues(self, numbers):
        wanted = {number for number in numbers if number not in self.issues}
        if not wanted:
            return
        self.issues.update(
            {issue.number: issue for issue in Issue.objects.filter(number__in=wanted)}
        )
        missing = [Issue(number=number) for number in sorted(wanted - set(self.issues))]
        Issue.objects.bulk_create(missing)
        self.issues.update({issue.number: issue for issue in missing})

    # Creating.

    def _create(self, model, kind, groups, slugs, fields, standard=None, spellings=None):
        """One new value per group of spellings, {group: {spelling: count}}; bulk_create."""
        if not groups:
            return {}
        taken = self.slugs[model]
        values = {}
        # Sorted, so that which group meets a taken slug first never depends on the file.
        for group in sorted(groups, key=str):
            names = spellings(group) if spellings else groups[group]
            name = preferred_name(names, standard(group) if standard else ())
            slug = None
            for spelling in sorted(groups[group], key=lambda s: (s != name, sort_key(s))):
                slug = given_slug(slugs.get((kind, spelling)))
                if slug and slug not in taken:
                    break
                slug = None
            slug = slug or stable_slug(name, taken)
            taken.add(slug)
            values[group] = model(name=name, slug=slug, **fields(group))
        model.objects.bulk_create(values.values())
        return values


def taxonomy_errors(parsed_cases, resolver=None):
    """A CaseImportError (`path:line: languages: unknown language (Xyz)`) for each name of
    the parsed cases that no rule or alias resolves, in file order. Nothing is written."""
    from cases.importers.base import CaseImportError

    resolver = resolver or TaxonomyResolver()
    return [
        CaseImportError(parsed.path, parsed.line, reason)
        for parsed in parsed_cases
        for reason in resolver.problems_for(parsed)
    ]
