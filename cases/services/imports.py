"""Writing parsed import files (cases.importers) through the write path.

The whole file is one transaction: a bad file leaves nothing behind.

- New cases are written set by set (create_cases()), a chunk at a time while the next is
  built: links and appearances by COPY, the cases by COPY into a staging table and an
  INSERT ... SELECT that computes their search vectors with the write path's SQL, then
  pending references in a few statements. A second connection shares the text search
  work of a big batch. No history record is written per new case: the batch lists them.
  A big batch into a database without cases (a first load) builds the secondary indexes
  of the tables it writes after its rows (indexes_built_after()).
- Cases the file matches (cases.importers.base.ExistingCases: source key first, then title
  and date) are compared with the file in bulk, long texts by digest; only those that
  differ go through cases.services.editing.save_case(), one by one, with its merge,
  review and history rules. Re-importing an unchanged file writes nothing.
- Paste import (propose=True) goes through save_case() for every case: a change to a
  published case becomes a revision waiting for review.

The ImportBatch is the one entry that lists the run (file, user, counts) and the cases it
created: their first version's history entry. Every case an import changes gets one
history record whose reason names the batch. The change log follows by itself:
its triggers are per statement (cases.freshness.dataversion). A batch of more new cases
than one statement logs case by case (BIG_STATEMENT) is written in bulk instead
(writing_in_bulk()): one change for the batch, each of its cases logged once, and the
rows its new rows refer to checked and locked once per value rather than row by row.
"""

import csv
import hashlib
import io
import itertools
import queue
import threading
from contextlib import contextmanager

from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    connection,
    connections,
    transaction,
)
from django.db.models import CharField, Func
from django.db.models.functions import Lower, Trim
from django.utils import timezone
from django.utils.text import slugify

from cases.freshness.dataversion import (
    BIG_STATEMENT,
    bulk_write,
    record_cases_changed,
    record_full_change,
)
from cases.importers.base import (
    OPTIONAL_FIELDS,
    CaseImportError,
    ExistingCases,
    ImportSummary,
    TaxonomyResolver,
)
from cases.models import Appearance, Case, ImportBatch, PendingReference, normalize_title
from cases.progress import Progress
from cases.search import among, vector_sql, vectors_of_texts, words_of_texts
from cases.services import editing
from cases.urlnorm import lookup_keys

# save_cases(status=STATUS_FROM_FILE): new cases take the status the file gives.
STATUS_FROM_FILE = "from-file"


def save_cases(
    parsed_cases,
    status=Case.Status.DRAFT,
    user=None,
    propose=None,
    *,
    source="",
    keep_ids=False,
    skipped=0,
    stream=None,
    resolver=None,
):
    """Create or update every parsed case in one transaction; new cases get `status`
    (STATUS_FROM_FILE or None: the status the file gives each case, draft where it gives
    none).

    propose=True (paste import): a change to a published case becomes a pending revision,
    never a live change, whoever imports it.
    keep_ids: a case the file gives an id for (the site's own export) updates the case with
    that id, or is created with it; the id sequence moves past the largest id.
    skipped: how many invalid records the caller left out (--skip-invalid), for the batch.
    resolver: the TaxonomyResolver the caller already checked the names with, if any.

    A related title names a case already in the database, or becomes a pending reference
    that links up when its case arrives, later in the same file or in another import.
    The batch (attributed to `user`) lists the cases it created, their first version's
    history entry; each changed case gets one history entry whose reason names the batch
    (paste import: each created case too). stream: where progress goes (standard error by
    default).
    """
    summary = ImportSummary()
    with transaction.atomic():
        batch = ImportBatch.objects.create(user=user, source=str(source)[:500], skipped=skipped)
        summary.batch = batch
        existing = ExistingCases(parsed_cases, keep_ids=keep_ids)
        # Every name of the file resolved, and the missing values created, in a few queries.
        resolver = resolver or TaxonomyResolver()
        resolver.prepare(parsed_cases)
        matched = [(parsed, existing.find_parsed(parsed)) for parsed in parsed_cases]
        new = [parsed for parsed, pk in matched if pk is None]
        old = [(parsed, pk) for parsed, pk in matched if pk is not None]
        if propose:
            # Paste import: a handful of cases, each through the write path's review rules.
            for parsed, pk in matched:
                write_one(parsed, pk, resolver, status, user, propose, batch, summary, keep_ids)
        else:
            if new:
                with database_errors_reported_in(new):
                    created = create_cases(new, resolver, status, user, batch, keep_ids, stream)
                summary.created += len(created)
                summary.created_ids.extend(created)
            changed = differing(old, resolver, stream)
            summary.unchanged += len(old) - len(changed)
            for parsed, pk in changed:
                write_one(parsed, pk, resolver, status, user, propose, batch, summary)
        batch.created, batch.updated = summary.created, summary.updated
        batch.unchanged = summary.unchanged
        if summary.created or summary.updated or summary.proposed:
            batch.save()
        else:
            # An import that changed nothing leaves no trace.
            batch.delete()
            summary.batch = None
    return summary


def write_one(parsed, pk, resolver, status, user, propose, batch, summary, keep_ids=False):
    """One case through editing.save_case()."""
    with database_errors_reported_at(parsed):
        saved = save_case(
            parsed, pk, resolver, status, user, propose, batch.reason, keep_ids=keep_ids
        )
    summary.count(saved.outcome)
    summary.saved.append((saved.case, saved.outcome, saved.revision))


@contextmanager
def database_errors_reported_at(parsed):
    """A database error names the line of the case that caused it."""
    try:
        yield
    except DatabaseError as error:
        raise parsed.error(f"could not be saved: {error}") from error


@contextmanager
def database_errors_reported_in(parsed_cases):
    """A database error while writing new cases in bulk names the file."""
    try:
        yield
    except DatabaseError as error:
        first = parsed_cases[0]
        raise CaseImportError(first.path, None, f"could not be saved: {error}") from error


def given_values(parsed, resolver, created):
    """save_case()'s values for the fields the file gives (every field for a new case)."""
    given = {"title", *OPTIONAL_FIELDS} if created else {"title", *parsed.given}
    values = {name: getattr(parsed, name) for name in ("title", "summary", "disproof", "date")}
    values = {name: value for name, value in values.items() if name in given}
    # A source key the file gives is set; one it leaves out is kept.
    for name in ("source_id", "source_url"):
        if getattr(parsed, name):
            values[name] = getattr(parsed, name)
    if "issue" in given:
        values["issue"] = resolver.issue(parsed.issue)
    if "languages" in given:
        values["languages"] = [resolver.language(ref) for ref in parsed.languages]
    if "countries" in given:
        values["countries"] = [resolver.country(ref) for ref in parsed.countries]
    if "keywords" in given:
        values["keywords"] = [resolver.keyword(name) for name in parsed.keywords]
    appearances = None
    if "appearances" in given:
        appearances = [
            (
                resolver.outlet(ref.outlet, ref.outlet_domain).pk if ref.outlet else None,
                ref.url or "",
                ref.archive_url or "",
            )
            for ref in parsed.appearances
        ]
    return values, appearances


def new_status(status, parsed):
    """The status a new case gets: `status`, or with STATUS_FROM_FILE the file's."""
    if status in (None, STATUS_FROM_FILE):
        return parsed.status or Case.Status.DRAFT
    return status


def save_case(
    parsed, pk, resolver, status, user=None, propose=None, reason="Imported", keep_ids=False
):
    """Write one case; returns the write path's Saved."""
    if pk is None:
        case = Case(status=new_status(status, parsed))
        if keep_ids and parsed.case_id is not None:
            case.pk = parsed.case_id
    else:
        case = Case.objects.select_related("issue").get(pk=pk)
    values, appearances = given_values(parsed, resolver, pk is None)
    return editing.save_case(
        case,
        user=user,
        reason=reason,
        propose=propose,
        appearances=appearances,
        related_titles=parsed.related_titles,
        **values,
    )


# New cases, set by set


def create_cases(parsed_cases, resolver, status, user, batch, keep_ids=False, stream=None):
    """Create every parsed case as a new case, in a few statements; returns their ids.

    The rows are built here, CHUNK_CASES cases at a time, while a writer thread writes the
    chunks before them on this transaction's connection (psycopg2 lets go of the GIL while
    the database works): the database and Python each keep a core busy.
    """
    now = timezone.now()
    progress = Progress("new cases", len(parsed_cases), stream)
    ids = _case_ids(parsed_cases, keep_ids)
    user_id = user.pk if user is not None else None
    bulk = len(parsed_cases) > BIG_STATEMENT
    # A big batch shares the text search work with a second connection: the search vectors
    # of the last SIDE_SHARE percent of each chunk's cases, and the words of its published
    # ones (for search suggestions).
    side = TextsOnTheSide() if len(parsed_cases) >= PARALLEL_TEXTS else None
    texts = []
    with (
        connection.cursor() as cursor,
        writing_in_bulk(cursor, bulk),
        indexes_built_after(cursor, bulk and first_load(cursor), stream),
    ):
        writer = ChunkWriter(cursor, bulk, user_id, progress)
        try:
            cursor.execute(STAGING_SQL)
            for start in range(0, len(parsed_cases), CHUNK_CASES):
                chunk = _chunk_rows(
                    ids[start : start + CHUNK_CASES],
                    parsed_cases[start : start + CHUNK_CASES],
                    resolver,
                    status,
                    user_id,
                    now,
                )
                texts += chunk.texts
                share = -(-len(chunk.cases) * SIDE_SHARE // 100) if side else 0
                vectors = side.vectors_of(chunk.cases[-share:]) if share else None
                if side:
                    side.add_words(chunk.texts)
                writer.write(chunk, share, vectors)
        except BaseException:
            if side:
                side.stop()
            raise
        finally:
            writer.close()
        cursor.execute("DROP TABLE import_case")
        words = side.words(cursor, texts) if side else sorted(words_of_texts(cursor, texts))
        cursor.execute(
            "INSERT INTO cases_searchword (word) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING",
            [words],
        )
        if keep_ids:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('cases_case', 'id'),"
                " greatest((SELECT max(id) FROM cases_case), 1))"
            )
        progress.finish()
        linked = _relate(ids, parsed_cases)
        # The batch lists the cases it created: their first version's history entry
        # (cases.history.record_imported() writes a case's record when it first changes).
        batch.case_ids = ids
        if bulk:
            # The change log's one change for the batch, and each case it wrote or linked
            # to for the partners' changes feed.
            record_cases_changed(cursor, "SELECT unnest(%s::bigint[])", [ids + sorted(linked)])
            record_full_change(cursor)
    return ids


# New cases are built and written this many at a time.
CHUNK_CASES = 5000


class Chunk:
    """The rows of CHUNK_CASES new cases: cases (CASE_COLUMNS and keyword names), links by
    name, appearances, and the texts of the published ones."""

    def __init__(self):
        self.cases, self.appearances, self.texts = [], [], []
        self.links = {name: [] for name in LINK_TABLES}


def _chunk_rows(ids, parsed_cases, resolver, status, user_id, now):
    chunk = Chunk()
    cases, links, appearances, texts = chunk.cases, chunk.links, chunk.appearances, chunk.texts
    for pk, parsed in zip(ids, parsed_cases, strict=True):
        case_status = new_status(status, parsed)
        title = parsed.title.strip()
        issue = resolver.issue(parsed.issue)
        published = case_status == Case.Status.PUBLISHED
        withdrawn = case_status == Case.Status.WITHDRAWN
        keywords = list({k.pk: k for k in map(resolver.keyword, parsed.keywords)}.values())
        # Keyword names in the order their link rows are written, as the search vector of
        # a case written by save_case() reads them.
        names = " ".join(k.name for k in keywords) or None
        cases.append(
            (
                pk,
                title,
                slugify(title)[:120].strip("-") or "case",
                parsed.summary,
                parsed.disproof,
                parsed.date,
                issue.pk if issue is not None else None,
                case_status,
                "",
                1,
                # A copy of another database (its export) keeps when a case was entered and
                # first published; updated_at is when this database changed it.
                parsed.timestamps.get("created_at", now),
                now,
                parsed.timestamps.get("published_at", now) if published or withdrawn else None,
                user_id if published else None,
                now if withdrawn else None,
                parsed.source_id,
                parsed.source_url,
                names,
            )
        )
        for name, values in (
            ("languages", [resolver.language(ref) for ref in parsed.languages]),
            ("countries", [resolver.country(ref) for ref in parsed.countries]),
            ("keywords", keywords),
        ):
            for value_id in dict.fromkeys(value.pk for value in values):
                links[name].append((pk, value_id))
        if published:
            texts.append((title, parsed.summary, parsed.disproof, names))
        for ref in parsed.appearances:
            outlet = resolver.outlet(ref.outlet, ref.outlet_domain) if ref.outlet else None
            url, archive_url = ref.url or "", ref.archive_url or ""
            appearances.append(
                (pk, outlet.pk if outlet else None, url, archive_url, "", "")
                + lookup_keys(url, archive_url)
            )
    return chunk


class ChunkWriter:
    """Writes chunks of new cases (Chunk) in order, on a thread of its own, with `cursor`
    (this transaction's connection); the thread that builds them goes on with the next.

    write() hands over a chunk; close() waits for every chunk handed over and raises the
    first error the writing met (after which later chunks are not written). Until then
    nothing else may use the connection: building rows asks the database nothing, since
    the resolver has every name of the batch already (TaxonomyResolver.prepare()).
    """

    def __init__(self, cursor, bulk, user_id, progress):
        self.cursor, self.bulk, self.progress = cursor, bulk, progress
        self.user_id = user_id
        self.locked = {table: set() for table in LOCKED_TABLES}
        self.written = 0
        self.error = None
        self.queue = queue.Queue(maxsize=2)
        self.thread = threading.Thread(target=self._work, name="import-writer", daemon=True)
        self.thread.start()

    def write(self, chunk, share, vectors):
        """Write `chunk`; the search vectors of its last `share` cases will be `vectors`
        (a callable giving them as text, or None: this connection computes them)."""
        if self.error is not None:
            self.close()
        self.queue.put((chunk, share, vectors))

    def close(self):
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if self.error is not None:
            raise self.error

    def _work(self):
        while (job := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self._write(*job)
                except BaseException as error:
                    self.error = error

    def _write(self, chunk, share, vectors):
        cursor = self.cursor
        if self.bulk:
            self._lock(chunk)
        for name, table in LINK_TABLES.items():
            copy_rows(cursor, table, ("case_id", LINK_COLUMNS[name]), chunk.links[name])
        # The search vectors of the first cases are computed as they go in (one write of
        # each row and its indexes); then the others, with the vectors computed beside.
        head, tail = (
            chunk.cases[: len(chunk.cases) - share],
            chunk.cases[len(chunk.cases) - share :],
        )
        _insert_staged(cursor, [(*case, None) for case in head])
        tail_vectors = (vectors() if vectors else None) or [None] * len(tail)
        _insert_staged(
            cursor, [(*case, vector) for case, vector in zip(tail, tail_vectors, strict=True)]
        )
        copy_rows(cursor, "cases_appearance", APPEARANCE_COLUMNS, chunk.appearances, ["outlet_id"])
        self.written += len(chunk.cases)
        self.progress.update(self.written)

    def _lock(self, chunk):
        """What a foreign key check of each new row does, once per value: the issues,
        taxonomy values, outlets and user the new rows refer to exist, and stay until this
        transaction ends."""
        wanted = {
            "cases_issue": {case[6] for case in chunk.cases},
            "cases_outlet": {row[1] for row in chunk.appearances},
            "auth_user": {self.user_id},
        }
        for name, table in LINK_VALUE_TABLES.items():
            wanted[table] = {value_id for _, value_id in chunk.links[name]}
        for table, values in wanted.items():
            new = values - self.locked[table]
            lock_rows(self.cursor, table, new)
            self.locked[table] |= new


@contextmanager
def writing_in_bulk(cursor, bulk):
    """A big batch is written with the change log's per-statement bookkeeping off, and, for
    a superuser, without a foreign key check per row: cases.freshness.dataversion.bulk_write().
    The batch then locks the rows its new rows refer to itself (ChunkWriter._lock(), _relate()),
    once per value, and logs its cases once at the end. A small batch is written as any
    other write: its triggers log each case, so the facet index updates them in place.
    """
    if not bulk:
        yield
        return
    with bulk_write(cursor):
        yield


# The tables a new case writes rows to.
WRITTEN_TABLES = (
    "cases_case",
    "cases_case_languages",
    "cases_case_countries",
    "cases_case_keywords",
    "cases_appearance",
)
# Their indexes a load into an empty database builds after the rows are in: all but the
# primary keys and unique ones, which keep checking the rows as they come.
DEFERRED_INDEXES_SQL = """
SELECT c.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisunique AND NOT i.indisprimary
ORDER BY i.indrelid, c.relname
"""
# What building them may use (PostgreSQL's default is 64 MB): the full-text index of
# 100,000 cases builds in a third of the time with it.
INDEX_BUILD_MEMORY = "256MB"


def first_load(cursor):
    """Whether new cases go into a database without cases, through a database user that
    may drop and build the indexes of the tables they are written to (their owner, or a
    superuser): indexes_built_after() is then worth it."""
    if Case.objects.exists():
        return False
    cursor.execute(
        "SELECT bool_and(pg_has_role(relowner, 'USAGE')) FROM pg_class"
        " WHERE oid = ANY(%s::regclass[])",
        [list(WRITTEN_TABLES)],
    )
    return bool(cursor.fetchone()[0])


@contextmanager
def indexes_built_after(cursor, defer, stream=None):
    """With `defer`, drop the secondary indexes of the tables new cases are written to,
    and build them again once the rows are in, in the same transaction, as pg_restore
    does: building an index over 100,000 rows costs a fraction of updating it row by row.

    create_cases() defers them for a big batch into an empty case table (first_load()).
    Dropping an index locks its table until the import commits, which a database with
    nothing to show can afford; a database that has cases keeps serving them, and its
    imports update the indexes as they go. After an error the transaction rolls back,
    and with it the drops.
    """
    if not defer:
        yield
        return
    cursor.execute(DEFERRED_INDEXES_SQL, [list(WRITTEN_TABLES)])
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    progress = Progress("building indexes", len(indexes), stream)
    cursor.execute("SELECT current_setting('maintenance_work_mem')")
    (memory,) = cursor.fetchone()
    cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [INDEX_BUILD_MEMORY])
    for built, (_, definition) in enumerate(indexes, 1):
        cursor.execute(definition)
        progress.update(built)
    cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [memory])
    progress.finish()


def lock_rows(cursor, table, ids):
    """Lock the rows of `table` with these ids (None left out) against deletion and key
    changes until the transaction ends, as a foreign key check does; IntegrityError if one
    is missing."""
    ids = sorted(pk for pk in ids if pk is not None)
    if not ids:
        return
    cursor.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE", [ids])
    found = {pk for (pk,) in cursor.fetchall()}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise IntegrityError(f"{table} has no row with id {missing[0]}, which the import names")


CASE_COLUMNS = (
    "id",
    "title",
    "slug",
    "summary",
    "disproof",
    "date",
    "issue_id",
    "status",
    "withdrawal_reason",
    "version",
    "created_at",
    "updated_at",
    "published_at",
    "published_by_id",
    "withdrawn_at",
    "source_id",
    "source_url",
)
NULLABLE_CASE_COLUMNS = ["date", "issue_id", "published_at", "published_by_id", "withdrawn_at"]
STAGING_SQL = """
CREATE TEMPORARY TABLE import_case ON COMMIT DROP AS
    SELECT {columns}, NULL::text AS keyword_names, search_vector FROM cases_case WITH NO DATA
""".format(columns=", ".join(CASE_COLUMNS))
# The search vector: the expression save_case() uses (cases.search.UPDATE_SQL), with the
# keyword names from the staging table. The vectors are computed into a table of their own
# first, then written with the cases: computed within the INSERT, the same vectors of
# 100,000 cases took 18 s of the database's CPU against 10 s in two steps.
STAGED_VECTORS_SQL = """
CREATE TEMPORARY TABLE import_vector ON COMMIT DROP AS
SELECT c.id, {vector} AS search_vector FROM import_case c WHERE c.search_vector IS NULL
""".format(vector=vector_sql("c", "c.keyword_names"))
INSERT_SQL = """
INSERT INTO cases_case ({columns}, search_vector)
SELECT {staged}, coalesce(c.search_vector, v.search_vector)
FROM import_case c LEFT JOIN import_vector v ON v.id = c.id
""".format(
    columns=", ".join(CASE_COLUMNS), staged=", ".join("c." + column for column in CASE_COLUMNS)
)
# From this many new cases on, a second connection shares the text search work; it computes
# the search vectors of this share of them (percent, rounded up) and the published ones'
# words. Per 100,000 cases the words take it about 8 s of CPU and all the vectors 9 s, while
# this connection writes for about 12 s and Python builds the rows for about 8 s: with 30%
# of the vectors on the side, both cores have about as much to do.
PARALLEL_TEXTS = 500
SIDE_SHARE = 30


def _insert_staged(cursor, rows):
    """Write staged rows (CASE_COLUMNS, keyword names, search vector or None) as cases."""
    if rows:
        copy_rows(
            cursor,
            "import_case",
            [*CASE_COLUMNS, "keyword_names", "search_vector"],
            rows,
            [*NULLABLE_CASE_COLUMNS, "search_vector"],
        )
        cursor.execute(STAGED_VECTORS_SQL)
        cursor.execute(INSERT_SQL)
        cursor.execute("TRUNCATE import_case")
        cursor.execute("DROP TABLE import_vector")


def case_texts(case):
    """(title, summary, disproof, keyword names) of a row of create_cases()."""
    return (case[1], case[3], case[4], case[-1])


LINK_TABLES = {
    "languages": "cases_case_languages",
    "countries": "cases_case_countries",
    "keywords": "cases_case_keywords",
}
LINK_COLUMNS = {"languages": "language_id", "countries": "country_id", "keywords": "keyword_id"}
LINK_VALUE_TABLES = {
    "languages": "cases_language",
    "countries": "cases_country",
    "keywords": "cases_keyword",
}
# The tables whose rows new cases refer to (ChunkWriter locks them).
LOCKED_TABLES = ("cases_issue", "cases_outlet", "auth_user", *LINK_VALUE_TABLES.values())
APPEARANCE_COLUMNS = (
    "case_id",
    "outlet_id",
    "url",
    "archive_url",
    "url_status",
    "archive_status",
    *Appearance.LOOKUP_FIELDS,
)


class TextsOnTheSide:
    """Text search work of a big batch done by a second connection while this one writes:
    the search vectors of the cases handed to vectors_of(), and the words of the published
    ones handed to add_words(), chunk by chunk (vectors before words), with cases.search's SQL.
    Parsing texts is most of the database's work in an import, and the machine has a core
    for each connection.

    The texts are given as values, so that connection needs nothing this transaction wrote.
    Should it fail, the vectors are None (this connection computes them as the cases go
    in) and words() finds the words here.
    """

    def __init__(self):
        # Vectors first: the writing thread waits for them, while words are wanted only
        # at the end. (priority, order, job); a stop comes after everything handed over.
        self.jobs = queue.PriorityQueue()
        self.order = itertools.count()
        self.failed = False
        self._words = set()
        self.thread = threading.Thread(target=self._work, name="import-texts", daemon=True)
        self.thread.start()

    def vectors_of(self, cases):
        """A callable that waits for, and gives, the vectors (as text) of these rows of
        create_cases(), in order; None if this connection is to compute them."""
        job = {"vectors": [case_texts(case) for case in cases], "done": threading.Event()}
        self.jobs.put((0, next(self.order), job))

        def vectors():
            job["done"].wait()
            return job.get("result")

        return vectors

    def add_words(self, texts):
        """Find the words of these texts (title, summary, disproof, keyword names)."""
        if texts:
            self.jobs.put((1, next(self.order), {"words": texts}))

    def words(self, cursor, word_texts):
        """The words of every text handed to add_words() (word_texts: all of them, found
        with `cursor` should the second connection have failed), sorted."""
        self.stop()
        self.thread.join()
        if self.failed:
            self._words = set(words_of_texts(cursor, word_texts))
        return sorted(self._words)

    def stop(self):
        """End the work once what was handed over is done."""
        self.jobs.put((2, next(self.order), None))

    def _work(self):
        conn = None
        try:
            while (job := self.jobs.get()[2]) is not None:
                try:
                    if not self.failed:
                        if conn is None:
                            conn = connections.create_connection(DEFAULT_DB_ALIAS)
                        with conn.cursor() as cursor:
                            if "words" in job:
                                self._words.update(words_of_texts(cursor, job["words"]))
                            else:
                                job["result"] = vectors_of_texts(cursor, job["vectors"])
                except DatabaseError:
                    self.failed = True
                finally:
                    if "done" in job:
                        job["done"].set()
        finally:
            if conn is not None:
                conn.close()


def _case_ids(parsed_cases, keep_ids):
    """The new cases' ids: the file's with keep_ids, else the next ones of the sequence."""
    given = [parsed.case_id if keep_ids else None for parsed in parsed_cases]
    missing = given.count(None)
    if missing:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('cases_case', 'id'))"
                " FROM generate_series(1, %s)",
                [missing],
            )
            reserved = iter(row[0] for row in cursor.fetchall())
        given = [pk if pk is not None else next(reserved) for pk in given]
    return given


# Characters sent to COPY at a time (psycopg2 reads 8 KB by default).
COPY_CHUNK = 1 << 20


def copy_rows(cursor, table, columns, rows, nullable=()):
    """COPY `rows` (tuples in `columns` order) into `table`.

    CSV with every value quoted, written by the csv module: an empty string stays one,
    and None (written as an empty quoted value too) becomes NULL in the `nullable` columns,
    none of which holds text.
    """
    if not rows:
        return
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    buffer.seek(0)
    options = "FORMAT csv"
    if nullable:
        options += f", FORCE_NULL ({', '.join(nullable)})"
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN ({options})"
    cursor.copy_expert(sql, buffer, COPY_CHUNK)


def _relate(ids, parsed_cases):
    """Related titles of the new cases, and pending references to them, in bulk; returns
    the ids of the older cases they were linked to.

    A title names a case of this file or of the database (the oldest with that title), or
    becomes a pending reference; pending references of other cases to a new case's title
    become related links, as editing.save_case() does one case at a time.
    """
    if not PendingReference.objects.exists() and not any(
        parsed.related_titles for parsed in parsed_cases
    ):
        return set()  # nothing waits for these cases, and they name none
    titles = {}
    for pk, parsed in zip(ids, parsed_cases, strict=True):
        titles.setdefault(normalize_title(parsed.title), pk)
    wanted = {
        normalize_title(title)
        for parsed in parsed_cases
        for title in parsed.related_titles
        if title.strip()
    }
    known = {}
    if wanted - titles.keys():
        lowered = sorted({key.rstrip(".") for key in wanted - titles.keys()})
        rows = (
            among(Case.objects, "id", ids, exclude=True)
            .annotate(lowered=Lower(Trim("title")))
            .filter(lowered__in=lowered)
            .order_by("id")
            .values_list("id", "title")
        )
        for pk, title in rows:
            known.setdefault(normalize_title(title), pk)
    related, pending = set(), {}
    for pk, parsed in zip(ids, parsed_cases, strict=True):
        for title in parsed.related_titles:
            key = normalize_title(title)
            if not title.strip():
                continue
            target = titles.get(key) if key in titles else known.get(key)
            if target == pk:
                continue
            if target is not None:
                related |= {(pk, target), (target, pk)}
            else:
                pending.setdefault((pk, key), title.strip())
    waiting = list(
        among(
            among(PendingReference.objects, "normalized_title", titles),
            "case_id",
            ids,
            exclude=True,
        ).values_list("pk", "case_id", "normalized_title")
    )
    for _, case_id, key in waiting:
        related |= {(case_id, titles[key]), (titles[key], case_id)}
    new = set(ids)
    linked = {b for a, b in related if a in new and b not in new}
    with connection.cursor() as cursor:
        # The older cases the new ones link to stay, as a foreign key check would see to.
        lock_rows(cursor, "cases_case", linked)
        copy_rows(cursor, "cases_case_related", ("from_case_id", "to_case_id"), sorted(related))
        copy_rows(
            cursor,
            "cases_pendingreference",
            ("case_id", "normalized_title", "title"),
            [(pk, key, title) for (pk, key), title in pending.items()],
        )
    if waiting:
        PendingReference.objects.filter(pk__in=[pk for pk, _, _ in waiting]).delete()
    # Cases already in the database that now show a new related case.
    editing.touch(linked)
    return linked


# Cases the file matched: which differ


def differing(matched, resolver, stream=None):
    """The (parsed, pk) pairs whose case the file would change, read in bulk."""
    if not matched:
        return []
    progress = Progress("compare cases", len(matched), stream)
    ids = [pk for _, pk in matched]
    # The long texts are compared by digest: reading 100,000 cases' summaries and
    # disproofs into Python took longer than the rest of the comparison.
    stored = {
        row["id"]: row
        for row in among(Case.objects, "id", ids)
        .annotate(**{f"{name}_sha256": TextDigest(name) for name in DIGESTED})
        .values(
            "id",
            "title",
            "date",
            "issue_id",
            "source_id",
            "source_url",
            *(f"{name}_sha256" for name in DIGESTED),
        )
    }
    links = {pk: {name: set() for name in LINK_TABLES} for pk in ids}
    for name in LINK_TABLES:
        through = Case._meta.get_field(name).remote_field.through
        column = LINK_COLUMNS[name]
        for case_id, value_id in among(through.objects, "case_id", ids).values_list(
            "case_id", column
        ):
            links[case_id][name].add(value_id)
    appearances = {pk: [] for pk in ids}
    for row in (
        among(Appearance.objects, "case_id", ids)
        .order_by("id")
        .values_list("case_id", "outlet_id", "url", "archive_url")
    ):
        appearances[row[0]].append(row[1:])
    related = {pk: set() for pk in ids}
    through = Case.related.through
    for case_id, title in among(through.objects, "from_case_id", ids).values_list(
        "from_case_id", "to_case__title"
    ):
        related[case_id].add(normalize_title(title))
    for case_id, key in among(PendingReference.objects, "case_id", ids).values_list(
        "case_id", "normalized_title"
    ):
        related[case_id].add(key)
    changed = []
    for done, (parsed, pk) in enumerate(matched):
        if _differs(parsed, resolver, stored[pk], links[pk], appearances[pk], related[pk]):
            changed.append((parsed, pk))
        if done % 1000 == 0:
            progress.update(done)
    progress.finish()
    return changed


# The text fields differing() compares by digest.
DIGESTED = ("summary", "disproof")


class TextDigest(Func):
    """The SHA-256 of a text column's UTF-8 bytes, in hex (text_digest() in SQL)."""

    template = "encode(sha256(convert_to(%(expressions)s, 'UTF8')), 'hex')"
    output_field = CharField()


def text_digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def _differs(parsed, resolver, stored, links, appearances, related):
    values, wanted_appearances = given_values(parsed, resolver, created=False)
    for name, value in values.items():
        if name in LINK_TABLES:
            if {item.pk for item in value} != links[name]:
                return True
        elif name == "issue":
            if (value.pk if value is not None else None) != stored["issue_id"]:
                return True
        elif name in DIGESTED:
            if text_digest(value) != stored[f"{name}_sha256"]:
                return True
        elif (value.strip() if name == "title" else value) != stored[name]:
            return True
    if wanted_appearances is not None and wanted_appearances != appearances:
        return True
    return any(
        normalize_title(title) not in related for title in parsed.related_titles if title.strip()
    )
