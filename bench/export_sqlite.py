"""Copy the published cases into SQLite for Datasette, the reference the bench compares to.

One row per case, multi-valued fields as JSON arrays (for Datasette's _facet_array and
arraycontains), and an FTS5 index over title, keyword names, summary and disproof with
Porter stemming (for _search), as sqlite-utils would set it up.

Run inside the project's Django environment: python bench/export_sqlite.py OUT.db
"""

import json
import os
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "disinfo_db.settings")

SCHEMA = """
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    title TEXT,
    slug TEXT,
    summary TEXT,
    disproof TEXT,
    date TEXT,
    year INTEGER,
    issue INTEGER,
    keywords TEXT,      -- JSON array of keyword slugs
    keyword_names TEXT, -- the same keywords' names, for full-text search
    countries TEXT,     -- JSON array of country slugs
    languages TEXT,     -- JSON array of language codes
    outlets TEXT        -- JSON array of outlet slugs
);
"""
INDEXES = """
CREATE INDEX cases_date ON cases (date DESC, id DESC);
CREATE INDEX cases_year ON cases (year);
CREATE INDEX cases_issue ON cases (issue);
CREATE VIRTUAL TABLE cases_fts USING fts5(
    title, keyword_names, summary, disproof,
    content='cases', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
INSERT INTO cases_fts (cases_fts) VALUES ('rebuild');
"""

QUERY = """
SELECT c.id, c.title, c.slug, c.summary, c.disproof, c.date, i.number,
    (SELECT coalesce(json_agg(k.slug), '[]') FROM cases_case_keywords ck
        JOIN cases_keyword k ON k.id = ck.keyword_id WHERE ck.case_id = c.id),
    (SELECT coalesce(string_agg(k.name, ' '), '') FROM cases_case_keywords ck
        JOIN cases_keyword k ON k.id = ck.keyword_id WHERE ck.case_id = c.id),
    (SELECT coalesce(json_agg(x.slug), '[]') FROM cases_case_countries cc
        JOIN cases_country x ON x.id = cc.country_id WHERE cc.case_id = c.id),
    (SELECT coalesce(json_agg(l.code), '[]') FROM cases_case_languages cl
        JOIN cases_language l ON l.id = cl.language_id WHERE cl.case_id = c.id),
    (SELECT coalesce(json_agg(DISTINCT o.slug), '[]') FROM cases_appearance a
        JOIN cases_outlet o ON o.id = a.outlet_id WHERE a.case_id = c.id)
FROM cases_case c LEFT JOIN cases_issue i ON i.id = c.issue_id
WHERE c.status = 'published'
"""


def _json(value):
    return value if isinstance(value, str) else json.dumps(value)


def _row(r):
    case_id, title, slug, summary, disproof, date, issue, kws, kw_names, cos, las, outs = r
    return (
        case_id,
        title,
        slug,
        summary,
        disproof,
        date.isoformat() if date else None,
        date.year if date else None,
        issue,
        _json(kws),
        kw_names,
        _json(cos),
        _json(las),
        _json(outs),
    )


def export(path, stream=sys.stderr):
    import django

    django.setup()
    from django.db import connection

    path = Path(path)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.executescript(SCHEMA)
    started = time.monotonic()
    copied = 0
    connection.ensure_connection()
    connection.set_autocommit(False)  # a server-side cursor lives in a transaction
    with connection.connection.cursor(name="bench_export") as cursor:
        cursor.itersize = 5000
        cursor.execute(QUERY)
        while rows := cursor.fetchmany(5000):
            db.executemany(
                "INSERT INTO cases VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", [_row(r) for r in rows]
            )
            copied += len(rows)
            elapsed = time.monotonic() - started
            stream.write(f"\rsqlite export    {copied:>9,} cases {elapsed:6.1f}s")
            stream.flush()
    connection.connection.commit()
    db.commit()
    stream.write("\nsqlite export    indexes and full-text index...\n")
    db.executescript(INDEXES)
    db.execute("ANALYZE")
    db.commit()
    db.close()
    tmp.rename(path)
    stream.write(f"sqlite export    done in {time.monotonic() - started:.0f}s\n")
    return copied


if __name__ == "__main__":
    export(sys.argv[1])
