"""Names the claims are about, with the other ways they are written.

Each entry is a canonical name and its variants: spellings, transliterations from
Cyrillic, demonyms and short forms. A claim naming a variant is matched as if it named the
canonical form too, so "British MI-6", "МИ-6" and "MI6" meet, and "the Kazakh riots"
finds cases about Kazakhstan. The taxonomy's own countries and keywords are entities too
(cases.search.match); this list adds people, organisations and places the taxonomy lacks,
and the forms of taxonomy names that are not themselves names in it.

Variants are compared after transliteration to Latin letters (unidecode) and case folding,
word by word: "Зеленский" is looked up as "zelenskii". Extend it freely; tests check that
every variant is found in a sentence naming it.
"""

PERSON, ORGANISATION, PLACE = "person", "organisation", "place"

GAZETTEER = {
    # People
    "Putin": (PERSON, ["Vladimir Putin", "Путин", "Путін"]),
    "Zelensky": (
        PERSON,
        ["Zelenskyy", "Zelenskiy", "Zelenskii", "Zelenskyi", "Зеленский", "Зеленський"],
    ),
    "Lukashenko": (PERSON, ["Lukashenka", "Лукашенко"]),
    "Tokayev": (PERSON, ["Tokaev", "Токаев", "Тоқаев"]),
    "Nazarbayev": (PERSON, ["Nazarbaev", "Назарбаев"]),
    "Navalny": (PERSON, ["Navalnyi", "Navalnii", "Навальный"]),
    "Soros": (PERSON, ["George Soros", "Сорос"]),
    "Biden": (PERSON, ["Байден"]),
    "Lavrov": (PERSON, ["Лавров"]),
    "Bill Gates": (PERSON, ["Гейтс"]),
    # Organisations
    "MI6": (
        ORGANISATION,
        ["MI-6", "MI 6", "Secret Intelligence Service", "British intelligence", "МИ-6", "МИ6"],
    ),
    "CIA": (ORGANISATION, ["Central Intelligence Agency", "ЦРУ"]),
    "NATO": (ORGANISATION, ["North Atlantic Alliance", "НАТО", "OTAN"]),
    "EU": (ORGANISATION, ["European Union", "Евросоюз", "ЕС"]),
    "WHO": (ORGANISATION, ["World Health Organization", "ВОЗ"]),
    "CSTO": (ORGANISATION, ["Collective Security Treaty Organisation", "ОДКБ"]),
    "USAID": (ORGANISATION, ["ЮСАИД"]),
    "Pentagon": (ORGANISATION, ["Пентагон"]),
    "Kremlin": (ORGANISATION, ["Кремль"]),
    # Places, with their demonyms: taxonomy countries are matched by these names.
    "Kazakhstan": (
        PLACE,
        ["Kazakh", "Kazakhs", "Kazakstan", "Qazaqstan", "Казахстан", "Kasachstan"],
    ),
    "Ukraine": (PLACE, ["Ukrainian", "Ukrainians", "Украина", "Україна", "Ukrainer"]),
    "Russia": (PLACE, ["Russian", "Russians", "Россия", "Russian Federation", "Russland"]),
    "Belarus": (PLACE, ["Belarusian", "Belarusians", "Беларусь", "Belorussia"]),
    "Lithuania": (PLACE, ["Lithuanian", "Lithuanians", "Литва", "Litauen"]),
    "Latvia": (PLACE, ["Latvian", "Latvians", "Латвия"]),
    "Estonia": (PLACE, ["Estonian", "Estonians", "Эстония"]),
    "Poland": (PLACE, ["Polish", "Poles", "Польша", "Polen"]),
    "Georgia": (PLACE, ["Georgian", "Georgians", "Грузия"]),
    "Moldova": (PLACE, ["Moldovan", "Молдова"]),
    "Armenia": (PLACE, ["Armenian", "Armenians", "Армения"]),
    "Germany": (PLACE, ["German", "Germans", "Германия", "Deutschland"]),
    "France": (PLACE, ["French", "Франция"]),
    "China": (PLACE, ["Chinese", "Китай"]),
    "Syria": (PLACE, ["Syrian", "Сирия"]),
    "UK": (
        PLACE,
        [
            "United Kingdom",
            "Britain",
            "Great Britain",
            "British",
            "Британия",
            "Briten",
            "Großbritannien",
        ],
    ),
    "US": (PLACE, ["USA", "United States", "American", "Americans", "США"]),
    "Kyiv": (PLACE, ["Kiev", "Киев", "Київ"]),
    "Moscow": (PLACE, ["Москва"]),
    "Almaty": (PLACE, ["Alma-Ata", "Алматы"]),
    "Crimea": (PLACE, ["Крым", "Крим"]),
    "Donbas": (PLACE, ["Donbass", "Донбасс", "Донбас"]),
}
