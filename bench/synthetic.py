"""Synthetic cases for load tests and benchmarks.

The shape follows the real data (see DESIGN.md): about 1.9 countries, 3 keywords,
1.05 languages and 1.8 outlets per case, drawn with Zipf-like popularity from about
110 countries and regions, 600 keywords, 35 languages and 2,750 outlets. Summaries run
to about 120 words and disproofs to about 250, drawn from a Zipf-distributed vocabulary
plus topic words with known frequencies, so that a search can hit very common terms
(COMMON_TERM, in about three cases out of four), rare ones (RARE_TERM, about 0.5%) and
very rare ones (VERY_RARE_TERM, about 0.02%).

Everything depends only on the seed: the same seed gives the same cases, in the same order,
whatever the chunk size. Ids are whatever the database hands out.

Loading goes through PostgreSQL COPY, search vectors included: they are put together from
the vectors of the words and phrases the texts are made of (case_vector).

The production schema knows nothing of synthetic cases. The generator keeps its own record,
the table bench_synthetic_batch: the range of case ids each load reserved. Nothing else can
take an id in a reserved range (the id sequence is moved past it first), so
remove_synthetic() takes out exactly what was loaded, and leaves hand-made cases alone.
Each batch also records the ids of the issues, keywords, countries, languages and outlets
its load created (the column `created`): removal deletes those no remaining case uses, and
never a value that was there before the generator, nor one a hand-made case took up since.

Run it with bench/generate.py.
"""

import datetime
import io
import itertools
import json
import math
import multiprocessing
import queue
import random
import re
import sys
import threading
import time
from array import array
from bisect import bisect

from django.db import connection, connections, models, transaction
from django.utils.text import slugify

from cases.progress import Progress
from cases.urlnorm import host_key, host_of_key, lookup_url

# --- Taxonomy -------------------------------------------------------------------------------


def _items(text, separator="|"):
    """Split a block of text into stripped items."""
    return [item.strip() for item in " ".join(text.split()).split(separator) if item.strip()]


def _pairs(text):
    return [tuple(part.strip() for part in item.split(":")) for item in _items(text)]


# Most discussed first: list order is popularity rank. Name: ISO 3166-1 alpha-2.
COUNTRIES = _pairs(
    """
Ukraine:UA | Russia:RU | US:US | Germany:DE | Poland:PL | UK:GB | Belarus:BY | Lithuania:LT
| Latvia:LV | Estonia:EE | France:FR | Georgia:GE | Moldova:MD | Syria:SY | Armenia:AM |
Sweden:SE | Finland:FI | Czech Republic:CZ | Hungary:HU | Italy:IT | Spain:ES |
Netherlands:NL | Serbia:RS | Kazakhstan:KZ | China:CN | Azerbaijan:AZ | Bulgaria:BG |
Romania:RO | Slovakia:SK | Turkey:TR | Norway:NO | Denmark:DK | Austria:AT | Montenegro:ME |
North Macedonia:MK | Bosnia and Herzegovina:BA | Kosovo: | Croatia:HR | Slovenia:SI |
Greece:GR | Iran:IR | Israel:IL | Afghanistan:AF | Venezuela:VE | Libya:LY | Iraq:IQ |
Belgium:BE | Switzerland:CH | Canada:CA | Japan:JP | Kyrgyzstan:KG | Uzbekistan:UZ |
Tajikistan:TJ | Turkmenistan:TM | Mali:ML | Central African Republic:CF | Sudan:SD |
Egypt:EG | India:IN | Brazil:BR | Cuba:CU | Nicaragua:NI | Bolivia:BO | Portugal:PT |
Ireland:IE | Iceland:IS | Luxembourg:LU | Malta:MT | Cyprus:CY | Albania:AL | Mongolia:MN |
North Korea:KP | South Korea:KR | Vietnam:VN | Australia:AU | New Zealand:NZ | Mexico:MX |
Argentina:AR | Chile:CL | Colombia:CO | Peru:PE | Ecuador:EC | South Africa:ZA | Nigeria:NG
| Ethiopia:ET | Kenya:KE | Algeria:DZ | Morocco:MA | Tunisia:TN | Saudi Arabia:SA | Qatar:QA
| United Arab Emirates:AE | Jordan:JO | Lebanon:LB | Yemen:YE | Pakistan:PK | Indonesia:ID |
Burkina Faso:BF | Niger:NE | Chad:TD
"""
)

REGIONS = _items(
    """
EU | Baltic states | USSR | Western Balkans | Central Asia | Middle East | Africa | Latin
America | South Caucasus | Eastern Europe | Scandinavia | Sahel
"""
)

LANGUAGES = _pairs(
    """
ru:Russian | en:English | de:German | es:Spanish | fr:French | ar:Arabic | it:Italian |
uk:Ukrainian | pl:Polish | cs:Czech | sr:Serbian | hu:Hungarian | lt:Lithuanian | lv:Latvian
| et:Estonian | ka:Georgian | hy:Armenian | az:Azerbaijani | be:Belarusian | bg:Bulgarian |
ro:Romanian | sk:Slovak | sl:Slovenian | hr:Croatian | mk:Macedonian | el:Greek | fi:Finnish
| sv:Swedish | no:Norwegian | da:Danish | nl:Dutch | pt:Portuguese | tr:Turkish | fa:Persian
| zh:Chinese
"""
)

BASE_KEYWORDS = _items(
    """
War in Ukraine | Russophobia | Anti-Russian | NATO | Sanctions | Coup | Colour revolutions |
Euromaidan | Protest | Nazi/Fascist | Biological weapons | Manipulated elections/referendum
| Destabilising Russia | Western values | Migration crisis | Conspiracy theory | Coronavirus
| Vaccination | MH17 | Crimea | Donbas | Information war | Russian world | Encircling Russia
| Secret services | Intelligence services | Elections | Sovereignty | Puppets | Imperialism
| Terrorism | Military exercise | Gas | Energy | Nord Stream | Human rights | Freedom of
speech | LGBT | Gender | Religion | Orthodox Church | Refugees | Chemical weapons | Skripal
| Navalny | Occupation | Genocide | Russian speakers | Minority rights | Abuse of power |
Corruption | Economic difficulties | Fake news | Media | Censorship | Propaganda | WWII |
Historical revisionism | Holocaust | Red Army | Soviet Union | Laboratory | Pharmaceutical
industry | George Soros | Deep state | Foreign agents | Hybrid war | Cyber attack | Hacking
| Euroscepticism | Brexit | European Parliament | EU disintegration | Islam | Terrorist
attack | Provocation | False flag | Chemical attack | Syrian war | White Helmets |
Colonialism | Global elite | Humanitarian aid | Diplomacy | Nuclear issues | Arms race |
Mercenaries | Peacekeeping | Referendum | Independence | Annexation | Blockade | Grain |
Food crisis | Inflation | Economic collapse | Social unrest | Police brutality | Election
meddling
"""
)

_KEYWORD_QUALIFIERS = _items(
    """
Western | Military | Economic | Energy | Nuclear | Information | Biological | Political |
Financial | Cyber | Historical | Religious | Ethnic | Digital | Foreign | Secret | Global |
Regional | Humanitarian | Legal | Social | Cultural | Environmental | Strategic | Covert |
Public
"""
)

_KEYWORD_NOUNS = _items(
    """
interference | aggression | crisis | threat | sabotage | provocation | dominance |
dependence | collapse | conspiracy | occupation | blackmail | pressure | expansion |
security | manipulation | warfare | espionage | corruption | propaganda | sanctions |
control | decline | alliances
"""
)


def _keyword_names(count=600):
    names = list(BASE_KEYWORDS)
    seen = {n.casefold() for n in names}
    combos = itertools.product(_KEYWORD_NOUNS, _KEYWORD_QUALIFIERS)
    for noun, qualifier in combos:
        if len(names) >= count:
            break
        name = f"{qualifier} {noun}"
        if name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return names


_OUTLET_FIRST = _items(
    """
Vesti | Pravda | Novosti | Front | Baltic | Eurasia | Global | Free | Truth | Real |
People's | Red | Northern | Eastern | New | Daily | Open | Independent | Sovereign | Patriot
| Slavic | Union | Alternative | Geo | Strategic | Info | Continental | Horizon | Voice |
Signal | Capital | Dawn | Orbit | Zenith | Meridian | Citadel | Compass | Beacon | Frontier
| Echo | Atlas | Arsenal | Kremlin | Nevsky | Volga | Danube | Caspian | Steppe | Taiga |
Urals
"""
)

_OUTLET_SECOND = _items(
    """
News | Times | Today | Observer | Herald | Review | Journal | Post | Tribune | Digest |
Report | Chronicle | Monitor | Insider | Politics | Analytics | Express | Gazette | Bulletin
| Courier | Wire | Press | Media | TV | Radio | Portal | Online | Weekly | Telegraph |
Inform | Agency | Channel | Forum | Line | Focus | World | Club | Blog | Network | Dispatch
| Live | Now | Pulse | Source | Files | Matters | Voice | Briefing | Outlook | Lens | Point
| Hub | Stream | Notes | Leaks | Notebook
"""
)


def _outlet_names(count=2750):
    names = []
    for first, second in itertools.product(_OUTLET_FIRST, _OUTLET_SECOND):
        if first != second:
            names.append(f"{first} {second}")
    rng = random.Random("outlets")
    rng.shuffle(names)
    return names[:count]


KEYWORD_NAMES = _keyword_names()
OUTLET_NAMES = _outlet_names()

# --- Text -----------------------------------------------------------------------------------

# Real words first, roughly by frequency; a pseudo-word tail makes rare and very rare terms.
_COMMON_WORDS = _items(
    """
the | of | and | to | in | that | is | was | for | on | are | with | as | by | this | it |
from | be | have | not | at | which | an | has | were | its | their | they | been | also |
or | but | more | who | about | after | all | would | there | other | than | into | such |
can | only | over | these | most | new | claim | claims | article | outlet | evidence |
disinformation | narrative | pro | kremlin | media | government | russian | western |
country | countries | west | states | state | people | public | political | military |
official | officials | report | reports | president | war | security | foreign | forces |
power | against | support | world | international | protests | protest | history | regime |
attack | attempt | elections | election | crisis | economic | economy | information |
campaign | sources | source | false | falsely | without | any | no | facts | fact |
statement | statements | policy | policies | plan | plans | region | regional | border |
borders | troops | army | weapons | conflict | peace | agreement | treaty | alliance |
allies | sanctions | energy | gas | oil | nuclear | biological | laboratories | laboratory |
virus | vaccine | vaccines | pandemic | health | refugees | migrants | migration | religion
| church | values | society | citizens | population | rights | freedom | speech | press |
journalists | journalist | independent | investigation | investigations | court | law |
legal | illegal | constitution | parliament | minister | ministry | leader | leaders |
leadership | party | parties | opposition | activists | organisation | organisations |
network | networks | service | services | intelligence | agents | agent | secret | operation
| operations | propaganda | conspiracy | theory | theories | allegedly | alleged | accused |
accusations | denied | denies | confirmed | reported | according | described | presented |
portrayed | portrays | recurring | common | frequent | frequently | often | repeatedly |
again | similar | previous | previously | recent | recently | since | during | while | when
| where | because | however | although | despite | instead | therefore | example | several |
many | some | few | each | every | both | either | neither | between | among | within |
across | towards | through | under | before | until | already | still | even | just | very |
much | well | good | bad | large | small | great | important | major | main | real | true |
untrue | fake | fabricated | baseless | unfounded | misleading | manipulative | distorted |
distortion | context | background | fact-check | debunk | debunked | debunking | verified |
verification | analysis | analysts | experts | expert | researchers | research | study |
studies | data | figures | numbers | percent | million | billion | year | years | month |
months | week | weeks | day | days | time | times | history | historical | soviet | union |
empire | imperial | colonial | sovereignty | independence | democracy | democratic |
authoritarian | dictatorship | elite | elites | globalist | corporations | companies |
industry | financial | bank | banks | money | funding | funded | financed | budget | debt |
crisis | collapse | decline | growth | trade | market | markets | prices | price | inflation
| food | grain | supply | supplies | exports | imports | pipeline | pipelines |
infrastructure | cyber | hackers | hacking | attacks | terrorism | terrorist | terrorists |
extremists | extremism | nationalism | nationalist | radical | radicals | nazi | nazis |
fascist | fascists | genocide | massacre | victims | civilians | casualties | losses |
occupation | occupied | annexation | referendum | separatists | separatist | militia |
mercenaries | volunteers | humanitarian | aid | mission | missions | peacekeepers |
peacekeeping | negotiations | talks | diplomacy | diplomats | embassy | ambassador | summit
| meeting | meetings | visit | visits
"""
)


TOPIC_TERMS = {
    "Ukraine": 0.52,
    "NATO": 0.30,
    "Kremlin": 0.25,
    "Europe": 0.20,
    "Washington": 0.12,
    "Poland": 0.08,
    "Crimea": 0.05,
    "Donbas": 0.04,
    "Georgia": 0.03,
    "Moldova": 0.02,
    "Belarus": 0.02,
    "Syria": 0.015,
    "Navalny": 0.01,
    "Skripal": 0.008,
    "Kazakhstan": 0.003,
    "Almaty": 0.005,
    "Manghystau": 0.001,
    "Tokayev": 0.0002,
    "uranium": 0.0001,
}
COMMON_TERM = "Ukraine"
RARE_TERM = "Almaty"
VERY_RARE_TERM = "Tokayev"

_SYLLABLES = _items(
    """
ba | be | bi | bo | bu | da | de | di | do | du | ka | ke | ki | ko | ku | la | le | li | lo
| lu | ma | me | mi | mo | mu | na | ne | ni | no | nu | pa | pe | pi | po | pu | ra | re |
ri | ro | ru | sa | se | si | so | su | ta | te | ti | to | tu | va | ve | vi | vo | vu | za
| ze | zi | zo | zu | bra | dre | gri | klo | pru | stra | vel | mir | gor | slav | nik |
rov | tar | zen | dor | vik
"""
)

VOCABULARY_SIZE = 60_000


def _vocabulary():
    rng = random.Random("vocabulary")
    words = list(dict.fromkeys(_COMMON_WORDS))
    seen = set(words) | {t.lower() for t in TOPIC_TERMS}
    while len(words) < VOCABULARY_SIZE:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def _zipf_cum_weights(n, exponent=1.0):
    return list(itertools.accumulate(1.0 / (rank**exponent) for rank in range(1, n + 1)))


VOCABULARY = _vocabulary()

# Word draws go through a table of 2**20 quantiles of the Zipf distribution: one random
# 32-bit number per word and a list lookup, instead of a bisection per word.
_WORD_TABLE_BITS = 20


def _word_table():
    cum = _zipf_cum_weights(len(VOCABULARY), 1.0)
    size = 1 << _WORD_TABLE_BITS
    step = cum[-1] / size
    return [
        VOCABULARY[min(bisect(cum, (b + 0.5) * step), len(VOCABULARY) - 1)] for b in range(size)
    ]


_WORD_TABLE = _word_table()


def _draw_words(rng, count):
    shift = 32 - _WORD_TABLE_BITS
    table = _WORD_TABLE
    return [table[x >> shift] for x in array("I", rng.randbytes(4 * count))]


# --- Case shape -----------------------------------------------------------------------------

# How many values a case gets: (count, probability); the means follow the real data.
_COUNTRY_COUNTS = ((1, 0.40), (2, 0.38), (3, 0.15), (4, 0.05), (5, 0.02))  # 1.91
_KEYWORD_COUNTS = ((1, 0.10), (2, 0.27), (3, 0.33), (4, 0.18), (5, 0.09), (6, 0.03))  # 2.98
_LANGUAGE_COUNTS = ((1, 0.95), (2, 0.05))  # 1.05
_OUTLET_COUNTS = ((1, 0.47), (2, 0.35), (3, 0.11), (4, 0.05), (5, 0.02))  # 1.80

FIRST_DATE = datetime.date(2015, 1, 1)
LAST_DATE = datetime.date(2026, 10, 31)
DRAFT_SHARE = 0.05
UNDATED_SHARE = 0.003

_TITLE_SUBJECTS = _items(
    """
NATO | The West | The EU | The US | Washington | Brussels | Kyiv | Warsaw | The Baltic
states | London | Berlin | Western intelligence | Global elites | The Pentagon | George
Soros | Pharmaceutical companies | Western media
"""
)

_TITLE_VERBS = _items(
    """
is preparing | secretly funds | staged | provoked | is planning | organised | wants to start
| is behind | covered up | is hiding | invented | orchestrated | will soon announce |
financed | ordered
"""
)

_TITLE_OBJECTS = _items(
    """
a coup in {c} | biolabs in {c} | a war against {c} | the protests in {c} | a colour
revolution in {c} | the famine in {c} | a provocation at the border of {c} | chemical
attacks in {c} | the energy crisis in {c} | a genocide of Russians in {c} | the occupation
of {c} | terrorist attacks in {c} | elections in {c} | a migrant invasion of {c} | the
collapse of {c}
"""
)


class _Picker:
    """Draws distinct values with Zipf-like popularity."""

    def __init__(self, values, exponent):
        self.values = values
        self.cum = _zipf_cum_weights(len(values), exponent)
        self.total = self.cum[-1]

    def pick(self, rng, count):
        chosen = []
        cum, total, values = self.cum, self.total, self.values
        while len(chosen) < count:
            value = values[bisect(cum, rng.random() * total)]
            if value not in chosen:
                chosen.append(value)
        return chosen


def _draw_count(rng, table):
    x = rng.random()
    for count, probability in table:
        x -= probability
        if x < 0:
            return count
    return table[-1][0]


def _sentences(rng, words):
    """Join words into sentences of 6 to 22 words."""
    out = []
    i, n = 0, len(words)
    lengths = rng.randbytes(n // 6 + 1)
    k = 0
    while i < n:
        end = i + 6 + lengths[k] % 17
        k += 1
        sentence = " ".join(words[i:end])
        out.append(sentence[0].upper() + sentence[1:] + ".")
        i = end
    return " ".join(out)


def _paragraphs(rng, words, count):
    if count <= 1 or len(words) < 40:
        return _sentences(rng, words)
    size = math.ceil(len(words) / count)
    return "\n\n".join(_sentences(rng, words[i : i + size]) for i in range(0, len(words), size))


def case_dates(seed, count):
    """count case dates, oldest first; more cases in later years; a few unknown (None)."""
    rng = random.Random(f"{seed}:dates")
    span = (LAST_DATE - FIRST_DATE).days
    # Density rising linearly over the period: inverse of F(x) = (x + x^2/2) / 1.5.
    offsets = sorted(int(span * (-1 + math.sqrt(1 + 3 * rng.random()))) for _ in range(count))
    dates = [FIRST_DATE + datetime.timedelta(days=o) for o in offsets]
    for i in range(count):
        if rng.random() < UNDATED_SHARE:
            dates[i] = None
    return dates


def issue_number_for(date):
    """Weekly issues, numbered from the first week of 2015: a case is in its week's issue."""
    return (date - FIRST_DATE).days // 7 + 1


def issue_date(number):
    return FIRST_DATE + datetime.timedelta(days=7 * number - 3)


class Taxonomy:
    """Ids of the taxonomy rows the generator uses, created when missing.

    `created` holds the ids of the rows it created, by table, for the batch's record.
    """

    def __init__(self):
        from cases.models import Country, Keyword, Language, Outlet

        self.created = {}
        self.countries = _ensure(
            Country,
            "name",
            [{"name": n, "iso_code": iso, "kind": "country"} for n, iso in COUNTRIES]
            + [{"name": n, "iso_code": "", "kind": "region"} for n in REGIONS],
            self.created,
        )
        self.keywords = _ensure(Keyword, "name", [{"name": n} for n in KEYWORD_NAMES], self.created)
        self.languages = _ensure(
            Language, "code", [{"code": c, "name": n} for c, n in LANGUAGES], self.created
        )
        self.outlets = _ensure(
            Outlet,
            "name",
            [{"name": n, "domain": slugify(n).replace("-", "") + ".example"} for n in OUTLET_NAMES],
            self.created,
        )
        self.outlet_domains = dict(
            Outlet.objects.filter(pk__in=[pk for pk, _ in self.outlets]).values_list("pk", "domain")
        )


def _ensure(model, key, rows, created):
    """[(pk, name)] for rows, in the given order, creating the missing ones; their ids go
    to created[table]."""
    existing = {
        getattr(o, key): o for o in model.objects.filter(**{f"{key}__in": [r[key] for r in rows]})
    }
    missing = [r for r in rows if r[key] not in existing]
    if missing:
        taken = set(model.objects.values_list("slug", flat=True)) if _has_slug(model) else set()
        objects = []
        for row in missing:
            obj = model(**row)
            if _has_slug(model):
                base = slugify(row["name"])[:90] or "item"
                slug, n = base, 1
                while slug in taken:
                    n += 1
                    slug = f"{base}-{n}"
                taken.add(slug)
                obj.slug = slug
            objects.append(obj)
        model.objects.bulk_create(objects)
        created[model._meta.db_table] = [obj.pk for obj in objects]
        existing.update(
            {
                getattr(o, key): o
                for o in model.objects.filter(**{f"{key}__in": [r[key] for r in missing]})
            }
        )
    return [(existing[r[key]].pk, str(existing[r[key]])) for r in rows]


def _has_slug(model):
    return any(f.name == "slug" for f in model._meta.fields)


# --- Generation -----------------------------------------------------------------------------

CHUNK = 5_000


# Search vectors. to_tsvector() would be most of the cost of loading a case. The texts are
# made of known pieces: vocabulary words, title fragments, keyword names. Each piece goes
# through to_tsvector() once, and a case's vector is put together here from its pieces the
# way cases.search.vector_sql() puts the weighted parts together with ||: the same lexemes,
# positions and weights (tests/test_generator.py holds them equal).

_END = "zzqqend"  # a word after each piece, whose position tells how many positions it took


def word_lexemes(pieces):
    """{piece: (positions it takes, ((lexeme, position in it), ...))} in the disinfo config.

    Lexemes come as "'lexeme':", ready to start a tsvector entry.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT w, to_tsvector('disinfo', w || ' ' || %s)::text, "
            "to_tsvector('disinfo', %s)::text FROM unnest(%s::text[]) AS w",
            [_END, _END, sorted(set(pieces))],
        )
        rows = cursor.fetchall()
    lexemes = {}
    for piece, vector, end in rows:
        end_lexeme = _TSVECTOR_ENTRY.match(end).group(1)
        entries, taken = [], None
        for lexeme, positions in _TSVECTOR_ENTRY.findall(vector):
            if "\\" in lexeme:
                raise ValueError(f"a backslash in a lexeme of {piece!r}")  # COPY would need it
            for position in positions.split(","):
                if lexeme == end_lexeme and taken is None:
                    taken = int(position) - 1
                else:
                    entries.append((f"'{lexeme}':", int(position)))
        lexemes[piece] = (taken, tuple(entries))
    # The pieces that take one position, with their one lexeme (None for a stop word).
    lexemes[_SIMPLE] = {
        piece: entries[0][0] if entries else None
        for piece, (taken, entries) in lexemes.items()
        if taken == 1 and len(entries) <= 1 and (not entries or entries[0][1] == 1)
    }
    lexemes[_NOT_SIMPLE] = frozenset(lexemes) - set(lexemes[_SIMPLE]) - {_SIMPLE}
    return lexemes


_SIMPLE, _NOT_SIMPLE = object(), object()
_TSVECTOR_ENTRY = re.compile(r"'((?:[^']|'')*)':([\d,]+)")
# Position strings with their weight: _POSITIONS["B"][5] == "5B".
_POSITIONS = {weight: [f"{n}{weight}" for n in range(16384)] for weight in "ABCD"}


def case_vector(lexemes, sections):
    """The tsvector, as text, of the sections [(pieces, weight)] joined in order with ||.

    Within a section, each piece follows the one before (separated by spaces or sentence
    ends); || shifts each section's positions by the largest position before it. Each
    occurrence is written as an entry of its own: PostgreSQL merges a lexeme's entries
    when it reads the vector.
    """
    entries = []
    simple = lexemes[_SIMPLE]
    offset = 0
    for pieces, weight in sections:
        positions = _POSITIONS[weight]
        if lexemes[_NOT_SIMPLE].isdisjoint(pieces):
            # One position and at most one lexeme per piece.
            made = list(map(simple.__getitem__, pieces))
            entries += [
                lexeme + positions[n] for n, lexeme in enumerate(made, offset + 1) if lexeme
            ]
            last = len(made)
            while last and made[last - 1] is None:
                last -= 1
            if last:
                offset += last
        else:
            start, last = offset, 0
            for piece in pieces:
                taken, made = lexemes[piece]
                for lexeme, position in made:
                    entries.append(lexeme + positions[start + position])
                    last = max(last, start + position)
                start += taken
            if last:
                offset = last
    return " ".join(entries)


class CaseGenerator:
    """Produces COPY lines for cases and their links, chunk by chunk, from the seed alone."""

    def __init__(self, seed, count, taxonomy, first_id, issue_ids, now):
        self.seed = seed
        self.count = count
        self.taxonomy = taxonomy
        self.first_id = first_id
        self.issue_ids = issue_ids
        self.now = now
        self.dates = case_dates(seed, count)
        self.countries = _Picker([pk for pk, _ in taxonomy.countries], 1.1)
        self.country_names = dict(taxonomy.countries)
        self.keyword_names = dict(taxonomy.keywords)
        self.keywords = _Picker([pk for pk, _ in taxonomy.keywords], 1.0)
        self.languages = _Picker([pk for pk, _ in taxonomy.languages], 1.6)
        self.outlets = _Picker([pk for pk, _ in taxonomy.outlets], 1.0)
        self.topics = list(TOPIC_TERMS.items())
        self.case_defaults = copy_defaults("cases_case", CASE_COLUMNS)[1]
        self.appearance_defaults = copy_defaults("cases_appearance", LINK_COPIES[3][1])[1]
        self.lookup_hosts = {}
        for domain in taxonomy.outlet_domains.values():
            key = lookup_url(f"https://{domain}/")
            self.lookup_hosts[domain] = (key, host_key(host_of_key(key)))
        titles = [
            *_TITLE_SUBJECTS,
            *_TITLE_VERBS,
            *(o.format(c=name) for o in _TITLE_OBJECTS for name in self.country_names.values()),
        ]
        keyword_names = self.keyword_names.values()
        self.lexemes = word_lexemes([*VOCABULARY, *TOPIC_TERMS, *titles, *keyword_names])

    def chunk_lines(self, chunk_index):
        """COPY text for one chunk: (cases, keywords, countries, languages, appearances).

        Each case line ends with its search vector (see case_vector).
        """
        rng = random.Random(f"{self.seed}:chunk:{chunk_index}")
        start = chunk_index * CHUNK
        stop = min(start + CHUNK, self.count)
        cases, kw, co, la, ap = [], [], [], [], []
        for i in range(start, stop):
            case_id = self.first_id + i
            date = self.dates[i]
            countries = self.countries.pick(rng, _draw_count(rng, _COUNTRY_COUNTS))
            keywords = self.keywords.pick(rng, _draw_count(rng, _KEYWORD_COUNTS))
            languages = self.languages.pick(rng, _draw_count(rng, _LANGUAGE_COUNTS))
            outlets = self.outlets.pick(rng, _draw_count(rng, _OUTLET_COUNTS))

            place = self.country_names[countries[0]]
            title_pieces = (
                rng.choice(_TITLE_SUBJECTS),
                rng.choice(_TITLE_VERBS),
                rng.choice(_TITLE_OBJECTS).format(c=place),
            )
            title = " ".join(title_pieces)
            summary_words = _draw_words(rng, 60 + int(rng.random() * 120))
            disproof_words = _draw_words(rng, 150 + int(rng.random() * 200))
            for term, share in self.topics:
                if rng.random() < share:
                    target = summary_words if rng.random() < 0.5 else disproof_words
                    target.insert(int(rng.random() * len(target)), term)
            summary = _paragraphs(rng, summary_words, 1 + int(rng.random() * 2))
            disproof = _paragraphs(rng, disproof_words, 2 + int(rng.random() * 3))

            lag = int(rng.random() * 15)
            if date is None:
                issue = self.issue_ids[int(rng.random() * len(self.issue_ids))]
                created = self.now
                date_text = r"\N"
            else:
                issue = self.issue_ids[issue_number_for(date) - 1]
                created = datetime.datetime.combine(
                    date + datetime.timedelta(days=lag), datetime.time(10), datetime.UTC
                )
                date_text = date.isoformat()
            draft = rng.random() < DRAFT_SHARE
            created_text = created.isoformat()
            cases.append(
                "\t".join(
                    (
                        str(case_id),
                        title,
                        slugify(title)[:120],
                        summary.replace("\n", "\\n"),
                        disproof.replace("\n", "\\n"),
                        date_text,
                        str(issue),
                        "draft" if draft else "published",
                        "",
                        "1",
                        created_text,
                        created_text,
                        r"\N" if draft else created_text,
                    )
                )
                + self.case_defaults
                + "\t"
                + case_vector(
                    self.lexemes,
                    (
                        (title_pieces, "A"),
                        ([self.keyword_names[pk] for pk in keywords], "A"),
                        (summary_words, "B"),
                        (disproof_words, "C"),
                    ),
                )
            )
            for pk in keywords:
                kw.append(f"{case_id}\t{pk}")
            for pk in countries:
                co.append(f"{case_id}\t{pk}")
            for pk in languages:
                la.append(f"{case_id}\t{pk}")
            month = date.strftime("%Y/%m") if date else "undated"
            for n, pk in enumerate(outlets):
                domain = self.taxonomy.outlet_domains[pk]
                # The lookup keys (cases.urlnorm.lookup_keys) of URLs of this one shape,
                # without parsing each: tests/test_generator.py holds them equal.
                bare, host = self.lookup_hosts[domain]
                path = f"{month}/{case_id}-{n}"
                archived = f"archive.example/{case_id:x}{n}"
                ap.append(
                    f"{case_id}\t{pk}\thttps://{domain}/{path}\thttps://{archived}\t"
                    f"{bare}/{path}\t{archived}\t{host}\texample.archive."
                    f"{self.appearance_defaults}"
                )
        return tuple("\n".join(lines) + "\n" for lines in (cases, kw, co, la, ap))


CASE_COLUMNS = (
    "id, title, slug, summary, disproof, date, issue_id, status, withdrawal_reason, version, "
    "created_at, updated_at, published_at"
)


def _reserve_ids(cursor, table, count):
    """Move the table's id sequence past count new ids and return the first one.

    Past every recorded batch too: a new range never overlaps an old record, even one
    left behind by a table emptied without remove_synthetic().
    """
    cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
    cursor.execute(f"SELECT pg_get_serial_sequence('{table}', 'id')")
    sequence = cursor.fetchone()[0]
    cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
    max_id = cursor.fetchone()[0]
    cursor.execute(f"SELECT coalesce(max(last_id), 0) FROM {BATCH_TABLE}")
    max_recorded = cursor.fetchone()[0]
    cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
    last_value, is_called = cursor.fetchone()
    first = max(max_id, max_recorded, last_value if is_called else last_value - 1) + 1
    cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


# --- The bench's record of what it loaded ---------------------------------------------------

BATCH_TABLE = "bench_synthetic_batch"


def _create_batch_table(cursor):
    """The record, made or brought up to date.

    created: {"cases_keyword": [id, ...], ...}, the taxonomy rows the load created; NULL
    for loads recorded before the generator kept them (and for adopted flagged cases).
    """
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {BATCH_TABLE} ("
        " first_id bigint NOT NULL, last_id bigint NOT NULL, seed integer,"
        " created_at timestamptz NOT NULL DEFAULT now(), CHECK (first_id <= last_id))"
    )
    cursor.execute(f"ALTER TABLE {BATCH_TABLE} ADD COLUMN IF NOT EXISTS created jsonb")


def _batch_table_exists(cursor):
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [BATCH_TABLE])
    return cursor.fetchone()[0]


def batches():
    """[(first id, last id, seed)] of every recorded load, oldest first."""
    with connection.cursor() as cursor:
        if not _batch_table_exists(cursor):
            return []
        cursor.execute(f"SELECT first_id, last_id, seed FROM {BATCH_TABLE} ORDER BY first_id")
        return cursor.fetchall()


def synthetic_cases():
    """The cases the generator loaded and has not removed, as a Case queryset."""
    from cases.models import Case

    ranges = models.Q()
    for first_id, last_id, _ in batches():
        ranges |= models.Q(pk__range=(first_id, last_id))
    return Case.objects.filter(ranges) if ranges else Case.objects.none()


def adopt_flagged_cases():
    """Record the synthetic cases of a database whose schema still flags them.

    Until migration 0012 the generator marked its cases with cases_case.is_synthetic.
    Called before migrating such a database (bench/run.py does): each run of consecutive
    flagged ids becomes a batch, so that the bench reuses its cases and remove_synthetic()
    finds them once the column is gone. Returns how many batches were recorded.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = 'cases_case' AND column_name = 'is_synthetic'"
        )
        if cursor.fetchone() is None:
            return 0
        _create_batch_table(cursor)
        cursor.execute(
            f"INSERT INTO {BATCH_TABLE} (first_id, last_id)"
            " SELECT min(id), max(id) FROM ("
            "  SELECT c.id, c.id - row_number() OVER (ORDER BY c.id) AS run FROM cases_case c"
            "  WHERE c.is_synthetic AND NOT EXISTS ("
            f"   SELECT 1 FROM {BATCH_TABLE} b WHERE c.id BETWEEN b.first_id AND b.last_id)"
            " ) AS flagged GROUP BY run ORDER BY 1"
        )
        return cursor.rowcount


def _forget_failed_batch(first_id):
    """Drop the record of a load that failed, unless some of its cases got in after all,
    and the taxonomy rows it created that nothing uses."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {BATCH_TABLE} b WHERE b.first_id = %s AND NOT EXISTS"
            " (SELECT 1 FROM cases_case c WHERE c.id BETWEEN b.first_id AND b.last_id)"
            " RETURNING b.created::text",
            [first_id],
        )
        for (created,) in cursor.fetchall():
            _remove_created_values(cursor, "SELECT %s::jsonb", [created])


def _remove_created_values(cursor, created_sql, params=()):
    """Delete the taxonomy rows that the records `created_sql` lists (one jsonb column of
    `created` values) and that nothing uses; returns how many went."""
    removed = 0
    for table in TAXONOMY_TABLES:
        removed += _remove_unused(
            cursor,
            table,
            f"SELECT v.id::bigint FROM ({created_sql}) AS r (created),"
            " jsonb_array_elements_text(r.created -> %s) AS v (id)",
            [*params, table],
        )
    return removed


# The kind of TaxonomyRedirect that points at rows of a table.
REDIRECT_KINDS = {"cases_keyword": "keyword", "cases_country": "country", "cases_outlet": "outlet"}


def _remove_unused(cursor, table, ids_sql, params=()):
    """Delete the rows of `table` that `ids_sql` lists and that no row of any table points
    at (a case, a case's link, an appearance, an outlet alias: every foreign key), with
    the redirects to them; returns how many went.

    Foreign keys are looked up rather than listed: a table added later that points at a
    keyword or an outlet keeps it too. Under bulk_write() PostgreSQL does not check them.
    """
    cursor.execute(
        "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " WHERE c.contype = 'f' AND c.confrelid = %s::regclass ORDER BY 1, 2",
        [table],
    )
    unused = "".join(
        f' AND NOT EXISTS (SELECT 1 FROM {user} u WHERE u."{column}" = t.id)'
        for user, column in cursor.fetchall()
    )
    cursor.execute(
        f"DELETE FROM {table} t WHERE t.id IN ({ids_sql}){unused} RETURNING t.id", params
    )
    ids = [row[0] for row in cursor.fetchall()]
    if ids and table in REDIRECT_KINDS:
        cursor.execute(
            "DELETE FROM cases_taxonomyredirect WHERE kind = %s AND target_id = ANY(%s)",
            [REDIRECT_KINDS[table], ids],
        )
    return len(ids)


def _ensure_issues(cursor, last_number, created):
    """Issue rows 1..last_number (creating the missing ones, their ids to created); returns
    their ids by number."""
    from cases.models import Issue

    existing = dict(Issue.objects.filter(number__lte=last_number).values_list("number", "pk"))
    missing = [
        Issue(number=n, date=issue_date(n)) for n in range(1, last_number + 1) if n not in existing
    ]
    Issue.objects.bulk_create(missing)
    if missing:
        created[Issue._meta.db_table] = [issue.pk for issue in missing]
    numbers = dict(Issue.objects.filter(number__lte=last_number).values_list("number", "pk"))
    return [numbers[n] for n in range(1, last_number + 1)]


def _copy_text(value):
    """A value in COPY's text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value)
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_defaults(table, columns):
    """The table's other columns COPY must fill: ([column], text to append to each line).

    Columns added to the models after this generator was written get their field default,
    so that a new NOT NULL column does not break the load.
    """
    from django.apps import apps

    model = next(m for m in apps.get_models(include_auto_created=True) if m._meta.db_table == table)
    known = {column.strip() for column in columns.split(",")}
    names, values = [], []
    for field in model._meta.concrete_fields:
        if field.column in known or field.primary_key or field.generated:
            continue
        if getattr(field, "db_default", None) is not models.NOT_PROVIDED:
            continue
        if field.null and not field.has_default():
            continue
        names.append(field.column)
        values.append(_copy_text(field.get_prep_value(field.get_default())))
    return names, "".join("\t" + value for value in values)


def copy_columns(table, columns):
    extra = copy_defaults(table, columns)[0]
    return ", ".join([columns, *extra]) if extra else columns


LINK_COPIES = (
    ("cases_case_keywords", "case_id, keyword_id"),
    ("cases_case_countries", "case_id, country_id"),
    ("cases_case_languages", "case_id, language_id"),
    (
        "cases_appearance",
        "case_id, outlet_id, url, archive_url,"
        " lookup_url, lookup_archive_url, lookup_host, lookup_archive_host",
    ),
)

_worker_generator = None


def _generate_chunk(index):
    return _worker_generator.chunk_lines(index)


def _generate_chunks(generator, chunks, processes=2):
    """Chunks in order, made by worker processes while this one feeds COPY."""
    global _worker_generator
    if chunks < 4 or processes < 2:
        for index in range(chunks):
            yield generator.chunk_lines(index)
        return
    _worker_generator = generator
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            yield from pool.imap(_generate_chunk, range(chunks), chunksize=1)
    finally:
        _worker_generator = None


def generate(count, seed=0, stream=None, workers=2):
    """Load count synthetic cases; returns a dict of timings in seconds.

    Worker processes make the COPY text of each chunk of cases, search vectors included;
    `workers` loader threads, each on a connection of its own, copy the chunks' cases and
    links. The loaders commit together at the end: a failed load leaves nothing behind.
    """
    from cases.freshness.dataversion import record_cases_changed, record_full_change

    timings = {}
    started = time.monotonic()
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    last_issue = issue_number_for(LAST_DATE) + 3
    with transaction.atomic(), connection.cursor() as cursor:
        taxonomy = Taxonomy()
        issue_ids = _ensure_issues(cursor, last_issue, taxonomy.created)
        _create_batch_table(cursor)
        first_id = _reserve_ids(cursor, "cases_case", count)
        # Recorded before loading: whatever a load that dies half-way leaves, --remove finds.
        cursor.execute(
            f"INSERT INTO {BATCH_TABLE} (first_id, last_id, seed, created) VALUES (%s, %s, %s, %s)",
            [first_id, first_id + count - 1, seed, json.dumps(taxonomy.created)],
        )
    generator = CaseGenerator(seed, count, taxonomy, first_id, issue_ids, now)

    # Filling GIN indexes row by row costs more than the rows themselves: for a big load,
    # drop them and build them again in one pass each.
    indexes = _drop_indexes(REBUILT_INDEXES) if count >= REBUILD_INDEXES_FROM else []
    try:
        try:
            _load(generator, count, stream, workers)
        except BaseException:
            _forget_failed_batch(first_id)
            raise
        timings["load"] = time.monotonic() - started
        add_search_words()
    finally:
        if indexes:
            mark = time.monotonic()
            _run_in_parallel(
                [
                    [*INDEX_BUILD_SETTINGS, indexes[0]],
                    [*INDEX_BUILD_SETTINGS, *indexes[1:]]
                    + [f"VACUUM ANALYZE {table}" for table in LINK_TABLES],
                ],
                label="indexes",
                stream=stream,
            )
            timings["indexes"] = time.monotonic() - mark

    mark = time.monotonic()
    with connection.cursor() as cursor:
        tables = ["cases_case"] + ([] if indexes else LINK_TABLES)
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")
        # The taxonomy grew too: without statistics (autovacuum may be off) the planner
        # guesses how many keywords, countries and outlets there are.
        cursor.execute(f"ANALYZE {', '.join(TAXONOMY_TABLES)}")
    with transaction.atomic(), connection.cursor() as cursor:
        # The loaders wrote with the triggers' logging off: the changes feed hears of the
        # new cases here, numbered at this commit.
        record_cases_changed(
            cursor,
            "SELECT id FROM cases_case WHERE id >= %s AND id < %s",
            [first_id, first_id + count],
        )
        record_full_change(cursor)
    timings["vacuum_analyze"] = time.monotonic() - mark
    timings["total"] = time.monotonic() - started
    return timings


def _load(generator, count, stream, workers):
    """Copy every chunk of cases and links, on `workers` connections, all or nothing."""
    from cases.freshness.dataversion import bulk_write

    columns = copy_columns("cases_case", CASE_COLUMNS)
    chunks = math.ceil(count / CHUNK)
    progress = Progress("cases", count, stream)
    pending = queue.Queue(maxsize=2 * workers)
    lock = threading.Lock()
    done = [0]
    errors = []
    loaded = threading.Barrier(workers + 1)  # every loader has done its share, or failed
    decided = threading.Barrier(workers + 1)  # ... and the outcome is known
    outcome = {"commit": False}

    def load():
        conn = connections.create_connection("default")
        try:
            conn.set_autocommit(False)
            with conn.cursor() as cursor, bulk_write(cursor):
                while (item := pending.get()) is not None:
                    if errors:
                        continue  # drain the queue so the feeder never blocks
                    cases, *links = item
                    cursor.copy_expert(
                        f"COPY cases_case ({columns}, search_vector) FROM STDIN",
                        io.StringIO(cases),
                        1 << 20,
                    )
                    for (table, link_columns), lines in zip(LINK_COPIES, links, strict=True):
                        link_columns = copy_columns(table, link_columns)
                        cursor.copy_expert(
                            f"COPY {table} ({link_columns}) FROM STDIN", io.StringIO(lines), 1 << 20
                        )
                    with lock:
                        done[0] += cases.count("\n")
                        progress.update(done[0])
        except Exception as exc:  # re-raised in the calling thread
            errors.append(exc)
        try:
            loaded.wait()
            decided.wait()
            if outcome["commit"]:
                conn.commit()
            else:
                conn.rollback()
        except Exception as exc:
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=load, name=f"load-{n}") for n in range(workers)]
    for thread in threads:
        thread.start()
    fed = False
    try:
        for item in _generate_chunks(generator, chunks):
            if errors:
                break
            pending.put(item)
        fed = True
    finally:
        for _ in threads:
            pending.put(None)
        loaded.wait()
        outcome["commit"] = fed and not errors
        decided.wait()
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
    progress.finish()


REBUILD_INDEXES_FROM = 50_000
# The full-text index first: the longest build, given a connection of its own.
REBUILT_INDEXES = ["case_search_date_idx", "case_title_trgm_idx", "case_sample_search_idx"]
INDEX_BUILD_SETTINGS = [
    "SET maintenance_work_mem = '1GB'",
    # PostgreSQL 18 builds GIN indexes in parallel; older servers ignore this for GIN.
    "SET max_parallel_maintenance_workers = 2",
]
TAXONOMY_TABLES = [
    "cases_keyword",
    "cases_country",
    "cases_language",
    "cases_outlet",
    "cases_issue",
]
LINK_TABLES = [
    "cases_case_keywords",
    "cases_case_countries",
    "cases_case_languages",
    "cases_appearance",
]


def _drop_indexes(names):
    """Drop the named indexes that exist; returns the statements that make them again."""
    statements = []
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name])
            row = cursor.fetchone()
            if row is not None:
                cursor.execute(f"DROP INDEX {name}")
                statements.append(row[0])
    return statements


def _run_in_parallel(scripts, label, stream=None):
    """Run each list of statements on its own connection, all at once."""
    errors = []
    started = time.monotonic()

    def run(statements):
        conn = connections.create_connection("default")
        try:
            conn.set_autocommit(True)
            with conn.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
        except Exception as exc:  # re-raised in the calling thread
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(script,)) for script in scripts if script]
    for thread in threads:
        thread.start()
    out = stream if stream is not None else sys.stderr
    # A terminal sees the time go by; a log gets the one line at the end.
    live = bool(getattr(out, "isatty", None) and out.isatty())
    while any(thread.is_alive() for thread in threads):
        if live:
            out.write(f"\r{label:<16} building... {time.monotonic() - started:6.1f}s")
            out.flush()
        for thread in threads:
            thread.join(timeout=0.5)
    out.write(f"{chr(13) if live else ''}{label:<16} built in {time.monotonic() - started:.1f}s\n")
    if errors:
        raise errors[0]


def add_search_words():
    """Offer the generator's words to the search suggestions (cases_searchword).

    The same words cases.search.WORDS_SQL would collect from the synthetic cases, taken
    from the vocabulary instead of from a million texts.
    """
    from cases.models import Keyword

    words = set()
    texts = [*VOCABULARY, *TOPIC_TERMS, *_TITLE_SUBJECTS, *_TITLE_VERBS, *_TITLE_OBJECTS]
    texts += [name for name, _ in COUNTRIES] + REGIONS
    texts += list(Keyword.objects.filter(name__in=KEYWORD_NAMES).values_list("name", flat=True))
    for text in texts:
        for word in re.findall(r"[^\W\d_]+", text.lower()):
            if len(word) >= 3:
                words.add(word[:100])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_searchword (word) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING",
            [sorted(words)],
        )


def remove_synthetic(stream=None):
    """Delete every case of the recorded batches with its links, the taxonomy rows the
    loads created that no remaining case uses, and the record; returns how many cases
    went.

    Set-based, in one transaction, as the loads wrote: the removed cases are logged for
    the changes feed (tombstones) and the data version moves, as for any other write.
    """
    from cases.freshness.dataversion import bulk_write, record_cases_changed, record_full_change

    with transaction.atomic(), connection.cursor() as cursor, bulk_write(cursor):
        recorded = _batch_table_exists(cursor)
        cursor.execute(
            "CREATE TEMP TABLE synthetic_ids ON COMMIT DROP AS "
            + (
                f"SELECT c.id FROM {BATCH_TABLE} b"
                " JOIN cases_case c ON c.id BETWEEN b.first_id AND b.last_id"
                if recorded
                else "SELECT id FROM cases_case WHERE false"
            )
        )
        if recorded:
            _create_batch_table(cursor)  # a record from before `created`
        cursor.execute("SELECT count(*) FROM synthetic_ids")
        count = cursor.fetchone()[0]
        if count:
            # Logged while they exist, so that partners get a tombstone for each.
            record_cases_changed(cursor, "SELECT id FROM synthetic_ids")
            # Every row that points at a synthetic case first, whichever table holds it.
            cursor.execute(
                "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c"
                " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
                " WHERE c.contype = 'f' AND c.confrelid = 'cases_case'::regclass"
                " AND c.conrelid <> 'cases_case'::regclass ORDER BY 1, 2"
            )
            for table, column in cursor.fetchall():
                cursor.execute(
                    f'DELETE FROM {table} WHERE "{column}" IN (SELECT id FROM synthetic_ids)'
                )
            cursor.execute("DELETE FROM cases_case WHERE id IN (SELECT id FROM synthetic_ids)")
        removed = 0
        if recorded:
            removed += _remove_created_values(cursor, f"SELECT created FROM {BATCH_TABLE}")
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {BATCH_TABLE} WHERE created IS NULL)")
            if cursor.fetchone()[0]:
                # A load recorded before its taxonomy was: only its outlets are known for
                # the generator's (its names, a domain under .example, reserved for examples).
                removed += _remove_unused(
                    cursor,
                    "cases_outlet",
                    "SELECT id FROM cases_outlet WHERE name = ANY(%s) AND domain LIKE '%%.example'",
                    [OUTLET_NAMES],
                )
            cursor.execute(f"DROP TABLE {BATCH_TABLE}")
        if count or removed:
            record_full_change(cursor)
    if count:
        from cases.search import rebuild_search_words

        rebuild_search_words()
    return count
