"""The data version: one number that every committed write to the case data moves forward.

Caches and the in-memory facet index (cases.facets) are keyed on it, and the partners'
changes feed (cases.api.changes) follows it case by case. PostgreSQL triggers keep it, so
that no write path can forget to: model saves, QuerySet.update(), bulk_create, raw SQL,
imports, taxonomy merges, and writes from other processes or from psql alike.

How it works. The SQL lives in migrations only: 0008 made the tables, the sequence and
the triggers, 0011 added the per-case log (cases_casechange) and the tables 0008 left
out. To change a trigger, write a migration that replaces its function.

- A statement trigger on each table the public data is made of (CASE_TABLES: cases, their
  links, related cases, appearances, correction notes; LABEL_TABLES: taxonomy and issues)
  writes a row to ``cases_datachange``: the id of each case it touched, or ``labels`` when
  a taxonomy row or issue changed, or ``all`` when a statement touched more than
  BIG_STATEMENT cases or a table was truncated. The facet index reads these rows.
- The same triggers log each case whose public representation changed in
  ``cases_casechange`` (one row per case, its ``seq`` set to NULL), whatever the size of
  the statement: the cases a write touched; every case showing a keyword, country,
  language, outlet or issue that an UPDATE really changed; and the cases related to a case
  whose title, slug or status changed (they show those). The row also remembers whether
  the public ever saw the case (``was_public``), so that its removal leaves a tombstone.
- At commit, a deferred trigger on ``cases_datachange`` locks the single row of
  ``cases_dataversion``, takes the next number from ``cases_dataversion_seq`` and stamps
  it on the change row, on the version row, and on this transaction's ``cases_casechange``
  rows (the only unstamped rows it can see: others' are uncommitted). The lock makes
  version numbers follow the commit order, so a reader that has seen version V has seen
  every change numbered up to V, and the sequence never hands out a number twice, even
  across rollbacks. A case's ``seq`` is thus the number of the last committed change to
  it, in commit order: a transaction that commits later numbers its cases higher, however
  early it wrote them.
- Until its transaction commits a change row has no version. A reader that finds change
  rows without a version is looking at its own uncommitted writes (nobody else's are
  visible to it) and must not trust any shared cache.
- ``cases_datachange`` is pruned (KEEP_CHANGES); ``cases_casechange`` never is. It keeps
  one row per case ever changed, so a partner however far behind can always catch up.

Bulk loaders that know better (the synthetic case generator) switch the triggers' logging
off with bulk_write(), log the cases they wrote or removed with record_cases_changed(), and
call record_full_change() once.
"""

import threading
from contextlib import contextmanager

import psycopg2.extensions
from django.db import connection

from cases.readmodels import prepared
from disinfo_db.routers import read_connection

# A statement touching more cases than this is logged as one "rebuild everything" change.
BIG_STATEMENT = 2000
# Change rows kept for readers that fall behind; older ones are pruned (by the stamp
# function of migration 0011, which holds this number).
KEEP_CHANGES = 20_000

SCOPE_CASE = "case"
SCOPE_LABELS = "labels"
SCOPE_ALL = "all"

# What the triggers of migrations 0008 and 0011 cover (tests/test_change_log_triggers.py
# holds the database to it): tables whose rows carry a case, with the columns holding it,
CASE_TABLES = {
    "cases_case": ("id",),
    "cases_case_keywords": ("case_id",),
    "cases_case_countries": ("case_id",),
    "cases_case_languages": ("case_id",),
    "cases_case_related": ("from_case_id", "to_case_id"),
    "cases_appearance": ("case_id",),
    "cases_correctionnote": ("case_id",),
}
# ... and tables of labels cases show: names, slugs, codes, domains, issue numbers.
LABEL_TABLES = ["cases_keyword", "cases_country", "cases_language", "cases_outlet", "cases_issue"]


class VersionState:
    """What a reader learns from one look at the version row."""

    __slots__ = ("version", "pruned_through", "own_pending")

    def __init__(self, version, pruned_through, own_pending):
        self.version = version
        self.pruned_through = pruned_through
        self.own_pending = own_pending


_request = threading.local()


class RequestVersion:
    """The one reading of the version a request's answer is keyed on (request_state())."""

    __slots__ = ("state", "reading")

    def __init__(self, state=None):
        self.state = state
        self.reading = False

    def read(self):
        """The reading, made now if the request has none yet."""
        if self.state is None:
            self.reading = True
            try:
                self.state = _read(read_connection())
            finally:
                self.reading = False
        return self.state


@contextmanager
def version_for_request(state=None):
    """Within a read-only request, let read_version() answer one reading without asking again.

    With `state`, that is the reading. Without, the reading is made on the request's first
    query, just before it, or comes with a statement that carries it (execute_with_version),
    so that a request the page cache has not answered before costs no extra round trip.
    Either way the reading is never later than the data the request reads. Yields the
    RequestVersion; its state stays None if the request sent no query.
    """
    holder = _request.holder = RequestVersion(state)
    try:
        if state is None:
            with read_connection().execute_wrapper(_reading_first(holder)):
                yield holder
        else:
            yield holder
    finally:
        _request.holder = None


def _reading_first(holder):
    def wrapper(execute, sql, params, many, context):
        if not holder.reading:
            holder.read()
        return execute(sql, params, many, context)

    return wrapper


READ_VERSION_SQL = (
    "SELECT (SELECT version FROM cases_dataversion WHERE id = 1),"
    " (SELECT pruned_through FROM cases_dataversion WHERE id = 1),"
    " EXISTS (SELECT 1 FROM cases_datachange WHERE version IS NULL)"
)


def with_version(sql):
    """`sql`, with the three columns of READ_VERSION_SQL before its own: one snapshot for
    both. It gives one row of NULLs after the version when `sql` finds nothing."""
    return f"SELECT v.*, q.* FROM ({READ_VERSION_SQL}) AS v LEFT JOIN LATERAL ({sql}) AS q ON true"


def execute_with_version(cursor, name, sql, params):
    """Rows of `sql` (made by with_version()), without the version columns.

    The reading they carry becomes the request's, if the request has none yet: its first
    query then reads data and version in one round trip.
    """
    holder = getattr(_request, "holder", None)
    deferred = holder is not None and holder.state is None and not holder.reading
    if deferred:
        holder.reading = True
    try:
        prepared.execute(cursor, name, sql, params)
    finally:
        if deferred:
            holder.reading = False
    rows = cursor.fetchall()
    if deferred and rows:
        version, pruned, pending = rows[0][:3]
        holder.state = VersionState(version or 0, pruned or 0, pending)
    return [row[3:] for row in rows if row[3] is not None]


def request_state():
    """The current request's reading of the version (version_for_request), or None outside
    of one. A request that has not read it yet reads it now."""
    if getattr(_request, "holder", None) is None:
        return None
    return read_version()


def read_version(using=None):
    """The committed data version, and whether this connection has uncommitted changes.

    One query, on an index and a single-row table (or none inside version_for_request,
    once the request has its reading).
    Every request asks it, so on the connection requests read from (the primary, or the
    request's replica: disinfo_db.routers) it is a prepared statement.
    """
    holder = getattr(_request, "holder", None) if using is None else None
    if holder is not None:
        return holder.read()
    return _read(using or read_connection(), prepare=using is None)


def _read(conn, prepare=True):
    with conn.cursor() as cursor:
        if prepare:
            prepared.execute(cursor, "read_version", READ_VERSION_SQL, {})
        else:
            cursor.execute(READ_VERSION_SQL)
        version, pruned, pending = cursor.fetchone()
    return VersionState(version or 0, pruned or 0, pending)


def changes_since(version, using=None):
    """[(version, scope, case_id)] committed after `version`, and the row for `version` itself."""
    conn = using or read_connection()
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT version, scope, case_id FROM cases_datachange"
            " WHERE version >= %s ORDER BY version",
            [version],
        )
        return cursor.fetchall()


def current_version():
    return read_version().version


@contextmanager
def bulk_write(cursor):
    """Within the current transaction, stop logging per-case changes.

    For a superuser, triggers and foreign-key checks are skipped altogether (replica mode,
    this session only): a million-row load spends less time in bookkeeping. The caller
    writes consistent rows, logs the cases it wrote or removes (record_cases_changed()),
    and calls record_full_change() in the same transaction.
    """
    cursor.execute("SELECT set_config('disinfo.bulk_write', 'on', true)")
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    row = cursor.fetchone()
    if row and row[0]:
        cursor.execute("SET LOCAL session_replication_role = replica")
    try:
        yield
    finally:
        # After an error the transaction is aborted: rolling it back resets both settings.
        if not _aborted(cursor):
            _triggers_on(cursor)
            cursor.execute("SELECT set_config('disinfo.bulk_write', 'off', true)")


def _aborted(cursor):
    status = cursor.cursor.connection.get_transaction_status()
    return status == psycopg2.extensions.TRANSACTION_STATUS_INERROR


def _triggers_on(cursor):
    cursor.execute("SELECT current_setting('session_replication_role')")
    if cursor.fetchone()[0] == "replica":
        cursor.execute("SET LOCAL session_replication_role = origin")


def record_full_change(cursor=None):
    """Log that anything may have changed: the facet index and caches rebuild from scratch.

    Its change row's stamp at commit numbers the data version, and the cases this
    transaction logged with record_cases_changed(). It does not say which cases changed:
    a bulk loader that wrote with bulk_write() logs them itself (record_cases_changed()),
    or the partners' changes feed never hears of them.
    """
    if cursor is None:
        with connection.cursor() as cursor:
            _record_full_change(cursor)
    else:
        _triggers_on(cursor)  # the change row's own trigger stamps the version
        _record_full_change(cursor)


def _record_full_change(cursor):
    cursor.execute("INSERT INTO cases_datachange (scope) VALUES (%s)", [SCOPE_ALL])


def record_cases_changed(cursor, ids_sql, params=None):
    """Log the cases that the query `ids_sql` lists (one column of case ids) as changed.

    For bulk loaders that wrote with bulk_write(), which switches the triggers' logging
    off: one set-based statement, whatever the number of cases. Call it before removing
    cases (the log then remembers whether the public saw them, for their tombstones),
    after writing new ones, and call record_full_change() in the same transaction: its
    stamp at commit numbers them for the changes feed.

        record_cases_changed(cursor, "SELECT id FROM cases_case WHERE id >= %s", [first])
    """
    sql = f"""
INSERT INTO cases_casechange AS l (case_id, was_public)
SELECT listed.id, coalesce(bool_or(c.status = 'published' OR c.published_at IS NOT NULL), false)
FROM ({ids_sql}) AS listed (id)
LEFT JOIN cases_case c ON c.id = listed.id
WHERE listed.id IS NOT NULL
GROUP BY listed.id
ORDER BY listed.id
ON CONFLICT (case_id) DO UPDATE SET seq = NULL, was_public = l.was_public OR excluded.was_public
"""
    if params is None:
        cursor.execute(sql)
    else:
        cursor.execute(sql, params)


# The changes feed's page: cases numbered after `since` up to `upto` (a committed data
# version), in commit order, with what decides how each is shown. A case comes as itself
# if it is published; as a tombstone if it is gone or hidden and the public ever saw it;
# not at all otherwise (a draft never published).
CASE_CHANGES_SQL = """
SELECT l.seq, l.case_id, c.status,
    l.was_public OR c.published_at IS NOT NULL OR coalesce(d.was_published, false)
FROM (
    SELECT case_id, seq, was_public FROM cases_casechange
    WHERE seq > %(since)s AND seq <= %(upto)s ORDER BY seq LIMIT %(limit)s
) AS l
LEFT JOIN cases_case c ON c.id = l.case_id
LEFT JOIN cases_deletedcase d ON d.case_id = l.case_id
ORDER BY l.seq
"""
# How many cases are numbered after `since` up to `upto`.
CASES_CHANGED_COUNT_SQL = (
    "SELECT count(*) FROM cases_casechange WHERE seq > %(since)s AND seq <= %(upto)s"
)


def case_changes(since, upto, limit):
    """[(seq, case id, status or None if gone, whether the public saw it)] of the first
    `limit` cases numbered after `since`, up to `upto`, in commit order."""
    with read_connection().cursor() as cursor:
        cursor.execute(CASE_CHANGES_SQL, {"since": since, "upto": upto, "limit": limit})
        return cursor.fetchall()


def cases_changed_count(since, upto):
    with read_connection().cursor() as cursor:
        cursor.execute(CASES_CHANGED_COUNT_SQL, {"since": since, "upto": upto})
        return cursor.fetchone()[0]
