"""Write a CSV file shaped like a real EUvsDisinfo archive, in import_cases's CSV format.

    python bench/archive.py --count 10000 --out archive.csv [--seed 0] [--invalid]

    from bench.archive import write_archive
    stats = write_archive(path, count=500, seed=1, invalid=True)

What the real archive has and a tidy generator would not:

- a report URL (https://euvsdisinfo.eu/report/<slug>/) on every row, the source key;
- about 0.7% of rows sharing their title and date with another row, with another URL: they
  are distinct cases;
- the separator inside outlet names ("02:47 - 03:06; Channel One"), escaped as `\\;`;
- language names as the archive writes them ("Castilian", "Português (Brazil)",
  "Montenegrin"), regions ("CEE", "Middle East and Africa", "USSR") and spelling variants
  ("Kirgizstan"/"Kyrgyzstan", "Ria Novosti"/"RIA Novosti", "TASS - YouTube");
- about three languages, countries and keywords a case, one to three appearances;
- texts with new lines, quotes, commas, emoji, right-to-left and CJK script; every 50th
  summary starts with "=" (written with the quote an export puts before a formula).

With --invalid, about 0.5% of rows carry an outlet name longer than 200 characters with a
line break in it (a transcript pasted into the outlet field): import_cases rejects those
rows, naming line, field and value. Without it, the file imports cleanly.

The same seed gives the same file. Needs no database and no Django.
"""

import argparse
import csv
import datetime
import random
import re
import sys
import unicodedata

SEP = ";"
COLUMNS = [
    "source_url",
    "title",
    "date",
    "summary",
    "disproof",
    "issue",
    "languages",
    "countries",
    "keywords",
    "outlets",
    "urls",
    "archive_urls",
]
REPORT_URL = "https://euvsdisinfo.eu/report/{slug}/"
DUPLICATE_SHARE = 0.007
INVALID_SHARE = 0.005

LANGUAGES = [
    ("Russian", 30),
    ("English", 12),
    ("German", 5),
    ("French", 4),
    ("Castilian", 3),
    ("Spanish", 3),
    ("Português (Brazil)", 2),
    ("Portuguese", 1),
    ("Montenegrin", 1),
    ("Serbian", 2),
    ("Arabic", 2),
    ("Ukrainian", 2),
    ("Georgian", 1),
    ("Czech", 1),
    ("Polish", 1),
    ("Armenian", 1),
    ("Hungarian", 1),
    ("Italian", 1),
]
COUNTRIES = [
    ("Ukraine", 25),
    ("Russia", 20),
    ("US", 15),
    ("EU", 10),
    ("Germany", 6),
    ("Poland", 5),
    ("Lithuania", 4),
    ("Latvia", 3),
    ("Estonia", 3),
    ("Georgia", 3),
    ("Belarus", 4),
    ("UK", 5),
    ("Kyrgyzstan", 1),
    ("Kirgizstan", 1),
    ("CEE", 1),
    ("Middle East and Africa", 1),
    ("USSR", 1),
    ("Baltic states", 2),
    ("Moldova", 2),
    ("Syria", 2),
    ("Serbia", 1),
    ("Armenia", 1),
    ("Azerbaijan", 1),
    ("Kazakhstan", 1),
]
KEYWORDS = [
    "NATO",
    "Colour revolutions",
    "Euromaidan",
    "Protest",
    "MI6",
    "Secret services",
    "Russophobia",
    "Nazi/Fascist",
    "Biological weapons",
    "Coronavirus",
    "Vaccination",
    "Sanctions",
    "Elections",
    "Migration crisis",
    "Anti-Russian",
    "War in Ukraine",
    "Donbas",
    "Crimea",
    "Sovereignty",
    "Western values",
    "Destabilising Russia",
    "Information war",
    "Propaganda",
    "Encircling Russia",
    "LGBT",
    "Gas",
    "Nord Stream",
    "Energy",
    "Chemical weapons/attack",
    "Skripal",
    "MH17",
    "Genocide",
]
# (name, domain): the archive's own spellings, variants and separators included.
OUTLETS = [
    ("RT", "rt.com"),
    ("RT Arabic", "arabic.rt.com"),
    ("Sputnik", "sputniknews.com"),
    ("Sputnik Deutschland", "de.sputniknews.com"),
    ("Ria Novosti", "ria.ru"),
    ("RIA Novosti", "ria.ru"),
    ("TASS", "tass.ru"),
    ("TASS - YouTube", "youtube.com"),
    ("Komsomolskaya Pravda", "kp.ru"),
    ("Rossiya 1", "smotrim.ru"),
    ("Channel One", "1tv.ru"),
    ("02:47 - 03:06; Channel One", "1tv.ru"),
    ("Vesti Nedeli; Rossiya 1 (14:20 - 14:35)", "smotrim.ru"),
    ("News Front", "news-front.info"),
    ("Первый канал", "1tv.ru"),
    ("Zvezda", "tvzvezda.ru"),
    ("Izvestia", "iz.ru"),
    ("Regnum", "regnum.ru"),
    ("Ukraina.ru", "ukraina.ru"),
    ("Politnavigator", "politnavigator.net"),
]
WORDS = [
    *("west", "plan", "attack", "secret", "lab", "border", "army", "election", "protest"),
    *("vaccine", "gas", "sanctions", "nazi", "regime", "puppet", "coup", "colonial"),
    *("satellite", "decline", "crisis", "refugees", "hysteria", "agents"),
]
TEXT_EXTRAS = [
    'The outlet says "no evidence is needed", and repeats it, twice.',
    "=A claim that starts like a spreadsheet formula",
    "Quoted in Arabic: \u0627\u0644\u062d\u0631\u0628 \u0641\u064a "
    "\u0623\u0648\u0643\u0631\u0627\u0646\u064a\u0627.",
    "Quoted in Chinese: \u4e4c\u514b\u5170\u5c40\u52bf\u3002",
    "Emoji in a post: \U0001f1fa\U0001f1e6 \U0001f525",
    "A line with a semicolon; and a backslash \\ in it.",
]


def slugify(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


def escaped(item):
    """An item of a multi-value cell: `\\` and the separator escaped with a backslash."""
    return item.replace("\\", "\\\\").replace(SEP, "\\" + SEP)


def joined(items):
    return SEP.join(escaped(item) for item in items)


def weighted_sample(rng, choices, count):
    names = [name for name, _ in choices]
    weights = [weight for _, weight in choices]
    picked = []
    while len(picked) < count:
        name = rng.choices(names, weights)[0]
        if name not in picked:
            picked.append(name)
    return picked


def paragraph(rng, sentences):
    words = [rng.choice(WORDS) for _ in range(sentences * 8)]
    text = " ".join(words).capitalize() + "."
    if rng.random() < 0.15:
        text += " " + rng.choice(TEXT_EXTRAS)
    return text


def long_outlet_name(rng):
    """A transcript pasted into the outlet field: over 200 characters, across two lines."""
    first = "Rossiya 1, Evening with Vladimir Solovyov (" + ", ".join(
        f"{minute:02d}:{rng.randrange(60):02d}" for minute in range(20)
    )
    return first + ")\n" + "Transcript excerpt: " + paragraph(rng, 3)


def write_archive(
    path,
    count=10_000,
    seed=0,
    invalid=False,
    duplicate_share=DUPLICATE_SHARE,
    invalid_share=INVALID_SHARE,
    texts=True,
):
    """Write `count` rows to `path` (texts=False: empty summaries and disproofs, a
    metadata-only export); returns what the file holds:
    {"rows", "duplicate_titles" (rows sharing title and date with an earlier row),
    "invalid_lines" (file lines of the rows with a too long outlet name)}."""
    rng = random.Random(seed)
    stats = {"rows": count, "duplicate_titles": 0, "invalid_lines": []}
    titles = []
    slugs = set()
    start = datetime.date(2015, 1, 1)
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        line = 2
        for index in range(count):
            if titles and rng.random() < duplicate_share:
                title, date = rng.choice(titles)
                stats["duplicate_titles"] += 1
            else:
                words = rng.sample(WORDS, 5)
                title = f"The {words[0]} {words[1]} is behind the {words[2]} in case {index}"
                if index % 97 == 0:
                    title += " \u2013 \u00ab\u043f\u0440\u0430\u0432\u0434\u0430\u00bb"
                date = start + datetime.timedelta(days=rng.randrange(3650))
                titles.append((title, date))
            slug = slugify(title)
            suffix = 1
            while slug in slugs:
                suffix += 1
                slug = f"{slugify(title)}-{suffix}"
            slugs.add(slug)

            appearances = []
            for _ in range(rng.randint(1, 3)):
                name, domain = rng.choice(OUTLETS)
                url = f"https://{domain}/news/{date.isoformat()}/{rng.randrange(10**6)}"
                archive = (
                    f"https://archive.ph/{rng.randrange(10**8):08d}" if rng.random() < 0.6 else ""
                )
                appearances.append((name, url, archive))
            if invalid and rng.random() < invalid_share:
                _, url, archive = appearances[0]
                appearances[0] = (long_outlet_name(rng), url, archive)
                stats["invalid_lines"].append(line)

            summary = "\n\n".join(
                paragraph(rng, rng.randint(2, 4)) for _ in range(rng.randint(1, 3))
            )
            if index % 50 == 7:
                summary = "=" + summary
            disproof = "\n\n".join(
                paragraph(rng, rng.randint(2, 5)) for _ in range(rng.randint(1, 4))
            )
            if not texts:
                summary = disproof = ""
            row = [
                REPORT_URL.format(slug=slug),
                title,
                date.isoformat(),
                summary,
                disproof,
                str(1 + (date - start).days // 7),
                joined(weighted_sample(rng, LANGUAGES, rng.choice([1, 2, 3, 3, 4]))),
                joined(weighted_sample(rng, COUNTRIES, rng.choice([2, 3, 3, 4]))),
                joined(rng.sample(KEYWORDS, rng.choice([2, 3, 3, 4]))),
                joined(name for name, _, _ in appearances),
                joined(url for _, url, _ in appearances),
                joined(archive for _, _, archive in appearances),
            ]
            # A cell starting like a formula gets the quote an export gives it.
            row = ["'" + cell if cell.startswith(("=", "+", "-", "@")) else cell for cell in row]
            writer.writerow(row)
            line += sum(cell.count("\n") for cell in row) + 1
    return stats


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="How many rows.")
    parser.add_argument("--seed", type=int, default=0, help="Same seed, same file.")
    parser.add_argument("--out", required=True, help="The CSV file to write.")
    parser.add_argument(
        "--invalid",
        action="store_true",
        help="Put over-long multi-line outlet names in about 0.5%% of rows (rejected on import).",
    )
    parser.add_argument(
        "--no-texts",
        action="store_true",
        help="Leave summaries and disproofs empty, as a metadata-only export does.",
    )
    options = parser.parse_args(argv)
    stats = write_archive(
        options.out, options.count, options.seed, options.invalid, texts=not options.no_texts
    )
    print(
        f"{options.out}: {stats['rows']} rows, {stats['duplicate_titles']} sharing a title and "
        f"date with another, {len(stats['invalid_lines'])} invalid.",
        file=sys.stdout,
    )


if __name__ == "__main__":
    main()
