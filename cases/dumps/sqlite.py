"""The published cases as a SQLite file, ready for Datasette.

    copied = write_sqlite(path, published_ids_sql, params)

Facet-friendly: a `cases` table with one column per single value (date, year, issue) and
each multi-valued field twice: as a JSON array of slugs in the case's row (Datasette's
`_facet_array=keywords`, `keywords__arraycontains=nato`), and as a table of its own
(keywords, countries, languages, outlets, issues) with a link table (case_keywords, ...),
whose foreign keys Datasette follows and labels. `cases_fts` is an FTS5 index over title,
summary and disproof (Datasette's `_search`), with Porter stemming.

Only what the public sees goes in: the published cases the query names, the taxonomy
values those cases show, and related cases that are published too.
"""

import sqlite3
import time

from django.db import connection

from cases.api.serializers import case_url_prefix
from cases.readmodels.csv import utc_timestamp

SCHEMA = """
CREATE TABLE issues (
    number INTEGER PRIMARY KEY,
    date TEXT
);
CREATE TABLE keywords (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);
CREATE TABLE countries (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    iso_code TEXT NOT NULL,
    kind TEXT NOT NULL
);
CREATE TABLE languages (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);
CREATE TABLE outlets (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    domain TEXT NOT NULL
);
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    title TEXT NOT NULL,
    slug TEXT NOT NULL,
    summary TEXT NOT NULL,
    disproof TEXT NOT NULL,
    date TEXT,
    year INTEGER,
    issue INTEGER REFERENCES issues (number),
    keywords TEXT NOT NULL,
    countries TEXT NOT NULL,
    languages TEXT NOT NULL,
    outlets TEXT NOT NULL,
    source_id TEXT NOT NULL,
    source_url TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    published_at TEXT
);
CREATE TABLE case_keywords (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    keyword_id INTEGER NOT NULL REFERENCES keywords (id),
    PRIMARY KEY (case_id, keyword_id)
) WITHOUT ROWID;
CREATE TABLE case_countries (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    country_id INTEGER NOT NULL REFERENCES countries (id),
    PRIMARY KEY (case_id, country_id)
) WITHOUT ROWID;
CREATE TABLE case_languages (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    language_id INTEGER NOT NULL REFERENCES languages (id),
    PRIMARY KEY (case_id, language_id)
) WITHOUT ROWID;
CREATE TABLE appearances (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    outlet_id INTEGER REFERENCES outlets (id),
    url TEXT NOT NULL,
    archive_url TEXT NOT NULL
);
CREATE TABLE related_cases (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    related_case_id INTEGER NOT NULL REFERENCES cases (id),
    PRIMARY KEY (case_id, related_case_id)
) WITHOUT ROWID;
"""
# Made after the rows are in: building an index once is faster than keeping it up.
INDEXES = """
CREATE INDEX cases_date ON cases (date DESC, id DESC);
CREATE INDEX cases_year ON cases (year);
CREATE INDEX cases_issue ON cases (issue);
CREATE INDEX case_keywords_keyword ON case_keywords (keyword_id);
CREATE INDEX case_countries_country ON case_countries (country_id);
CREATE INDEX case_languages_language ON case_languages (language_id);
CREATE INDEX appearances_case ON appearances (case_id);
CREATE INDEX appearances_outlet ON appearances (outlet_id);
-- content=[cases], as sqlite-utils writes it: the form Datasette looks for to offer _search
-- (with content='cases' it silently searches nothing).
CREATE VIRTUAL TABLE cases_fts USING fts5(
    title, summary, disproof,
    content=[cases], content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
INSERT INTO cases_fts (cases_fts) VALUES ('rebuild');
"""

# {table: [(column, Table Schema type, description)]}: the file's layout, which
# datapackage.json describes (cases.dumps.datapackage).
TABLES = {
    "cases": [
        ("id", "integer", "The case's permanent id."),
        ("url", "string", "The case's address on the site."),
        ("title", "string", "The claim's headline."),
        ("slug", "string", "The title as it appears in the case's address."),
        ("summary", "string", "What the outlet claimed (Markdown)."),
        ("disproof", "string", "The debunk (Markdown, links allowed)."),
        ("date", "date", "When the disinformation was published; empty when unknown."),
        ("year", "integer", "The year of `date`."),
        ("issue", "integer", "The number of the weekly review that reported it."),
        ("keywords", "array", "JSON array of keyword slugs."),
        ("countries", "array", "JSON array of country slugs."),
        ("languages", "array", "JSON array of language codes."),
        ("outlets", "array", "JSON array of the slugs of the outlets it appeared in."),
        ("source_id", "string", "The source's own id of the case, if any."),
        ("source_url", "string", "The source's report of the case, if any."),
        ("created_at", "datetime", "When the case was entered (UTC)."),
        ("updated_at", "datetime", "When the case last changed (UTC)."),
        ("published_at", "datetime", "When the case was first published (UTC)."),
    ],
    "issues": [
        ("number", "integer", "The review's number."),
        ("date", "date", "The review's date."),
    ],
    "keywords": [
        ("id", "integer", "The keyword's id."),
        ("slug", "string", "The keyword's slug, as the `keyword` filter takes it."),
        ("name", "string", "The keyword."),
    ],
    "countries": [
        ("id", "integer", "The country's id."),
        ("slug", "string", "The country's slug, as the `country` filter takes it."),
        ("name", "string", "The country or region."),
        ("iso_code", "string", "ISO 3166-1 alpha-2; empty for regions."),
        ("kind", "string", "country, region, historical or alliance."),
    ],
    "languages": [
        ("id", "integer", "The language's id."),
        ("code", "string", "BCP 47 code, as the `language` filter takes it."),
        ("name", "string", "The language."),
    ],
    "outlets": [
        ("id", "integer", "The outlet's id."),
        ("slug", "string", "The outlet's slug, as the `outlet` filter takes it."),
        ("name", "string", "The outlet."),
        ("domain", "string", "The outlet's web domain, if known."),
    ],
    "case_keywords": [
        ("case_id", "integer", "A case (cases.id)."),
        ("keyword_id", "integer", "One of its keywords (keywords.id)."),
    ],
    "case_countries": [
        ("case_id", "integer", "A case (cases.id)."),
        ("country_id", "integer", "One of the countries it targets (countries.id)."),
    ],
    "case_languages": [
        ("case_id", "integer", "A case (cases.id)."),
        ("language_id", "integer", "One of its languages (languages.id)."),
    ],
    "appearances": [
        ("id", "integer", "The appearance's id."),
        ("case_id", "integer", "The case (cases.id)."),
        ("outlet_id", "integer", "The outlet (outlets.id); empty when unknown."),
        ("url", "string", "Where the claim appeared."),
        ("archive_url", "string", "An archived copy of it."),
    ],
    "related_cases": [
        ("case_id", "integer", "A case (cases.id)."),
        ("related_case_id", "integer", "A published case related to it (cases.id)."),
    ],
}

BATCH = 5000


def _json_array(items, order):
    return f"(SELECT coalesce(json_agg({items} ORDER BY {order}), '[]')::text"


def _queries(published):
    """{table: SELECT of its rows}, `published` being SQL listing the cases' ids."""
    return {
        "issues": f"""SELECT number, to_char(date, 'YYYY-MM-DD') FROM cases_issue
            WHERE id IN (SELECT issue_id FROM cases_case WHERE id IN ({published}))""",
        "keywords": f"""SELECT id, slug, name FROM cases_keyword WHERE id IN (
            SELECT keyword_id FROM cases_case_keywords WHERE case_id IN ({published}))""",
        "countries": f"""SELECT id, slug, name, iso_code, kind FROM cases_country WHERE id IN (
            SELECT country_id FROM cases_case_countries WHERE case_id IN ({published}))""",
        "languages": f"""SELECT id, code, name FROM cases_language WHERE id IN (
            SELECT language_id FROM cases_case_languages WHERE case_id IN ({published}))""",
        "outlets": f"""SELECT id, slug, name, domain FROM cases_outlet WHERE id IN (
            SELECT outlet_id FROM cases_appearance WHERE case_id IN ({published}))""",
        "cases": f"""
SELECT c.id, %(url_prefix)s::text || c.id || '/' || c.slug || '/', c.title, c.slug,
    c.summary, c.disproof, to_char(c.date, 'YYYY-MM-DD'), extract(year FROM c.date)::int,
    i.number,
    {_json_array("k.slug", "k.name")} FROM cases_case_keywords x
        JOIN cases_keyword k ON k.id = x.keyword_id WHERE x.case_id = c.id),
    {_json_array("n.slug", "n.name")} FROM cases_case_countries x
        JOIN cases_country n ON n.id = x.country_id WHERE x.case_id = c.id),
    {_json_array("l.code", "l.name")} FROM cases_case_languages x
        JOIN cases_language l ON l.id = x.language_id WHERE x.case_id = c.id),
    (SELECT coalesce(json_agg(DISTINCT o.slug), '[]')::text FROM cases_appearance a
        JOIN cases_outlet o ON o.id = a.outlet_id WHERE a.case_id = c.id),
    c.source_id, c.source_url, c.created_at, c.updated_at, c.published_at
FROM cases_case c LEFT JOIN cases_issue i ON i.id = c.issue_id
WHERE c.id IN ({published})
ORDER BY c.id""",
        "case_keywords": f"""SELECT case_id, keyword_id FROM cases_case_keywords
            WHERE case_id IN ({published})""",
        "case_countries": f"""SELECT case_id, country_id FROM cases_case_countries
            WHERE case_id IN ({published})""",
        "case_languages": f"""SELECT case_id, language_id FROM cases_case_languages
            WHERE case_id IN ({published})""",
        "appearances": f"""SELECT id, case_id, outlet_id, url, archive_url FROM cases_appearance
            WHERE case_id IN ({published})""",
        "related_cases": f"""SELECT from_case_id, to_case_id FROM cases_case_related
            WHERE from_case_id IN ({published}) AND to_case_id IN ({published})""",
    }


def _case_row(row):
    *head, created_at, updated_at, published_at = row
    return (*head, utc_timestamp(created_at), utc_timestamp(updated_at),
            utc_timestamp(published_at) or None)  # fmt: skip


def write_sqlite(path, published_sql, progress=None, log=None):
    """Write the cases `published_sql` lists (a SELECT of ids, without parameters) to a new
    SQLite file at `path`; returns how many cases it holds. log(text) hears how long
    each table and the indexes took.

    Run it inside the transaction the other dump files are read in: rows are read with
    a server-side cursor, which lives in a transaction.
    """
    params = {"url_prefix": case_url_prefix()}
    db = sqlite3.connect(path)
    try:
        # A new file, written once: nothing to journal or sync until the end.
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.executescript(SCHEMA)
        copied = 0
        say = log or (lambda text: None)
        for table, sql in _queries(published_sql).items():
            started = time.monotonic()
            insert = f"INSERT INTO {table} VALUES ({', '.join('?' * len(TABLES[table]))})"
            connection.ensure_connection()
            with connection.connection.cursor(name=f"dump_{table}") as cursor:
                cursor.itersize = BATCH
                cursor.execute(sql, params)
                while rows := cursor.fetchmany(BATCH):
                    if table == "cases":
                        rows = [_case_row(row) for row in rows]
                        copied += len(rows)
                        if progress:
                            progress(copied)
                    db.executemany(insert, rows)
            say(f"{path.name}: table {table} in {time.monotonic() - started:.1f}s.")
        started = time.monotonic()
        db.executescript(INDEXES)
        db.execute("ANALYZE")
        db.commit()
        say(f"{path.name}: indexes and full-text index in {time.monotonic() - started:.1f}s.")
    finally:
        db.close()
    return copied


def column_names(path):
    """{table: [column names]} of a SQLite file, for checking it against TABLES."""
    db = sqlite3.connect(path)
    try:
        return {
            table: [row[1] for row in db.execute(f"PRAGMA table_info({table})")] for table in TABLES
        }
    finally:
        db.close()
