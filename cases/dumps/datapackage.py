"""datapackage.json: the dump described as a Frictionless Data Package (v1 with v5 hashes).

    descriptor = datapackage(files, manifest)

One resource per file, and one per table of the SQLite file, each with its fields, types
and meanings. The fields come from the files' own layouts (CSV_COLUMNS, the API's
CaseSerializer, cases.dumps.sqlite.TABLES): a column added there without a description
here stops the dump being built, so the descriptor can never miss one.
"""

from django.conf import settings

from cases.api.serializers import CaseSerializer
from cases.dumps import sqlite
from cases.readmodels.csv import CSV_COLUMNS, DEFAULT_SEPARATOR

MULTI_VALUE = (
    f"Items joined with '{DEFAULT_SEPARATOR}'; a '{DEFAULT_SEPARATOR}' or a backslash in an "
    "item has a backslash before it"
)
# {column: (Table Schema type, description)} of the CSV file.
CSV_FIELDS = {
    "id": ("integer", "The case's permanent id."),
    "url": ("string", "The case's address, from the site's root."),
    "source_id": ("string", "The source's own id of the case, if any."),
    "source_url": ("string", "The source's report of the case, if any."),
    "status": ("string", "Always 'published' in the dump."),
    "title": ("string", "The claim's headline."),
    "date": ("date", "When the disinformation was published; empty when unknown."),
    "summary": ("string", "What the outlet claimed (Markdown)."),
    "disproof": ("string", "The debunk (Markdown, links allowed)."),
    "issue": ("integer", "The number of the weekly review that reported it."),
    "languages": ("string", f"Language names. {MULTI_VALUE}."),
    "language_codes": ("string", f"Their BCP 47 codes, in the same order. {MULTI_VALUE}."),
    "countries": ("string", f"Countries and regions targeted. {MULTI_VALUE}."),
    "country_slugs": ("string", f"Their slugs, in the same order. {MULTI_VALUE}."),
    "keywords": ("string", f"Keywords. {MULTI_VALUE}."),
    "keyword_slugs": ("string", f"Their slugs, in the same order. {MULTI_VALUE}."),
    "outlets": ("string", f"The outlet of each appearance (may be empty). {MULTI_VALUE}."),
    "outlet_slugs": ("string", f"Their slugs, in the same order. {MULTI_VALUE}."),
    "urls": ("string", f"Where the claim appeared, one per appearance. {MULTI_VALUE}."),
    "archive_urls": ("string", f"Archived copies, one per appearance. {MULTI_VALUE}."),
    "related": ("string", f"Titles of related published cases. {MULTI_VALUE}."),
    "created_at": ("datetime", "When the case was entered (UTC)."),
    "updated_at": ("datetime", "When the case last changed (UTC)."),
    "published_at": ("datetime", "When the case was first published (UTC)."),
}
# {field: (Table Schema type, description)} of each NDJSON line: GET /api/v1/cases/<id>/.
NDJSON_FIELDS = {
    "id": ("integer", "The case's permanent id."),
    "url": ("string", "The case's address on the site."),
    "source_id": ("string", "The source's own id of the case, if any."),
    "source_url": ("string", "The source's report of the case, if any."),
    "title": ("string", "The claim's headline."),
    "summary": ("string", "What the outlet claimed (Markdown)."),
    "disproof": ("string", "The debunk (Markdown, links allowed)."),
    "date": ("date", "When the disinformation was published; null when unknown."),
    "issue": ("integer", "The number of the weekly review that reported it."),
    "languages": ("array", "Objects with code and name."),
    "countries": ("array", "Objects with slug, name, iso_code and kind."),
    "keywords": ("array", "Objects with slug and name."),
    "appearances": ("array", "Objects with url, archive_url and outlet (slug, name, domain)."),
    "related": ("array", "Related published cases: objects with id, url and title."),
    "created_at": ("datetime", "When the case was entered (UTC)."),
    "updated_at": ("datetime", "When the case last changed (UTC)."),
    "published_at": ("datetime", "When the case was first published (UTC)."),
}

NDJSON_NAME = "cases.ndjson.gz"
CSV_NAME = "cases.csv.gz"
SQLITE_NAME = "cases.sqlite"
DESCRIPTOR_NAME = "datapackage.json"


def _fields(names, described):
    missing = [name for name in names if name not in described]
    if missing:
        raise LookupError(f"datapackage.json describes no field {', '.join(missing)}")
    return [
        {"name": name, "type": described[name][0], "description": described[name][1]}
        for name in names
    ]


def ndjson_field_names():
    """The keys of each NDJSON line: the public API's case, which has no status."""
    return [name for name in CaseSerializer.Meta.fields if name != "status"]


def licence():
    return {
        "name": settings.DATA_LICENCE,
        "title": settings.DATA_LICENCE_TITLE,
        "path": settings.DATA_LICENCE_URL,
    }


def _file_facts(file):
    return {"bytes": file["bytes"], "hash": f"sha256:{file['sha256']}"}


def datapackage(files, manifest):
    """The descriptor of the dump whose files ({name: {bytes, sha256, ...}}) the
    manifest lists."""
    resources = [
        {
            "name": "cases-ndjson",
            "path": NDJSON_NAME,
            "title": "Published cases, one JSON object a line",
            "description": "Each line is the case as GET /api/v1/cases/<id>/ shows it.",
            "format": "ndjson",
            "mediatype": "application/x-ndjson",
            "compression": "gz",
            "encoding": "utf-8",
            **_file_facts(files[NDJSON_NAME]),
            "schema": {
                "fields": _fields(ndjson_field_names(), NDJSON_FIELDS),
                "primaryKey": ["id"],
            },
        },
        {
            "name": "cases-csv",
            "path": CSV_NAME,
            "title": "Published cases as CSV",
            "description": "The site's CSV export of every published case, which "
            "manage.py import_cases reads back. A cell a spreadsheet would take for a "
            "formula starts with a single quote.",
            "format": "csv",
            "mediatype": "text/csv",
            "compression": "gz",
            "encoding": "utf-8",
            **_file_facts(files[CSV_NAME]),
            "dialect": {"delimiter": ",", "quoteChar": '"', "doubleQuote": True, "header": True},
            "schema": {
                "fields": _fields(CSV_COLUMNS, CSV_FIELDS),
                "missingValues": [""],
                "primaryKey": ["id"],
            },
        },
    ]
    for table, columns in sqlite.TABLES.items():
        described = {name: (kind, text) for name, kind, text in columns}
        resources.append(
            {
                "name": f"sqlite-{table.replace('_', '-')}",
                "path": SQLITE_NAME,
                "title": f"The {table} table of the SQLite file",
                "format": "sqlite",
                "mediatype": "application/vnd.sqlite3",
                **_file_facts(files[SQLITE_NAME]),
                "dialect": {"table": table},
                "schema": {"fields": _fields([name for name, _, _ in columns], described)},
            }
        )
    return {
        "profile": "data-package",
        "name": "disinfo-db-cases",
        "title": f"{settings.SITE_NAME}: published disinformation cases",
        "description": (
            "Every published case, built at change-log seq "
            f"{manifest['seq']}: follow /api/v1/changes/?since={manifest['seq']} for what "
            "changed since."
        ),
        "homepage": settings.SITE_URL.rstrip("/") + "/data/",
        "version": str(manifest["seq"]),
        "created": manifest["built_at"],
        "licenses": [licence()],
        "resources": resources,
    }
