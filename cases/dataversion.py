"""The data version: one number that every committed write to the case data moves forward.

Caches and the in-memory facet index (cases.facets) are keyed on it. PostgreSQL triggers
keep it, so that no write path can forget to: model saves, QuerySet.update(), bulk_create,
raw SQL, imports, taxonomy merges, and writes from other processes or from psql alike.

How it works (migration 0008 creates the tables, the sequence and the triggers from
INSTALL_SQL below; change both together):

- A statement trigger on each table the public data is made of (cases, their links,
  appearances, taxonomy, issues) writes a row to ``cases_datachange``: the id of each
  case it touched, or ``labels`` when a taxonomy row or issue changed, or ``all`` when a
  statement touched more than BIG_STATEMENT cases or a table was truncated.
- At commit, a deferred trigger on ``cases_datachange`` locks the single row of
  ``cases_dataversion``, takes the next number from ``cases_dataversion_seq`` and stamps
  it on the change row and on the version row. The lock makes version numbers follow the
  commit order, so a reader that has seen version V has seen every change numbered up to
  V, and the sequence never hands out a number twice, even across rollbacks.
- Until its transaction commits a change row has no version. A reader that finds change
  rows without a version is looking at its own uncommitted writes (nobody else's are
  visible to it) and must not trust any shared cache.

Bulk loaders that know better (the synthetic case generator) switch the per-case rows
off with bulk_write() and call record_full_change() once.
"""

import threading
from contextlib import contextmanager

import psycopg2.extensions
from django.db import connection

from cases import prepared

# A statement touching more cases than this is logged as one "rebuild everything" change.
BIG_STATEMENT = 2000
# Change rows kept for readers that fall behind; older ones are pruned.
KEEP_CHANGES = 20_000

SCOPE_CASE = "case"
SCOPE_LABELS = "labels"
SCOPE_ALL = "all"

# Tables whose rows carry a case id, with the column that holds it.
CASE_TABLES = {
    "cases_case": "id",
    "cases_case_keywords": "case_id",
    "cases_case_countries": "case_id",
    "cases_case_languages": "case_id",
    "cases_appearance": "case_id",
}
# Tables whose changes alter names, slugs or issue numbers, not which case has what.
LABEL_TABLES = ["cases_keyword", "cases_country", "cases_language", "cases_outlet", "cases_issue"]


def _case_table_triggers(table, column):
    function = f"{table}_log_change"
    return f"""
CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint;
BEGIN
    IF current_setting('disinfo.bulk_write', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        SELECT count(DISTINCT {column}) INTO touched FROM old_rows;
    ELSE
        SELECT count(DISTINCT {column}) INTO touched FROM new_rows;
    END IF;
    IF touched > {BIG_STATEMENT} THEN
        INSERT INTO cases_datachange (scope) VALUES ('{SCOPE_ALL}');
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO cases_datachange (scope, case_id)
            SELECT DISTINCT '{SCOPE_CASE}', {column} FROM old_rows;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO cases_datachange (scope, case_id)
            SELECT DISTINCT '{SCOPE_CASE}', {column} FROM new_rows;
    ELSE
        -- An update can move a row from one case to another: log both.
        INSERT INTO cases_datachange (scope, case_id)
            SELECT '{SCOPE_CASE}', {column} FROM new_rows
            UNION SELECT '{SCOPE_CASE}', {column} FROM old_rows;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER {table}_log_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {table}_log_update AFTER UPDATE ON {table}
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {table}_log_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {table}_log_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_all();
"""


def _label_table_triggers(table):
    return f"""
CREATE TRIGGER {table}_log_change AFTER INSERT OR UPDATE OR DELETE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_labels();
CREATE TRIGGER {table}_log_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_all();
"""


INSTALL_SQL = (
    f"""
CREATE TABLE cases_dataversion (
    id smallint PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL,
    -- Change rows numbered up to this one have been deleted.
    pruned_through bigint NOT NULL DEFAULT 0
);
CREATE SEQUENCE cases_dataversion_seq;
CREATE TABLE cases_datachange (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Set at commit; NULL while the writing transaction is open.
    version bigint,
    scope varchar(8) NOT NULL,
    case_id bigint,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Readers ask for the changes after the version they have (and for unstamped rows).
CREATE INDEX cases_datachange_version_idx ON cases_datachange (version);

CREATE FUNCTION datachange_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    stamped bigint;
BEGIN
    INSERT INTO cases_dataversion (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
    -- Lock before numbering, so that numbers follow the commit order.
    PERFORM 1 FROM cases_dataversion WHERE id = 1 FOR UPDATE;
    stamped := nextval('cases_dataversion_seq');
    UPDATE cases_datachange SET version = stamped WHERE id = NEW.id;
    UPDATE cases_dataversion SET version = stamped WHERE id = 1;
    IF stamped % 1000 = 0 THEN
        DELETE FROM cases_datachange WHERE version <= stamped - {KEEP_CHANGES};
        UPDATE cases_dataversion SET pruned_through = greatest(0, stamped - {KEEP_CHANGES})
            WHERE id = 1;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER cases_datachange_stamp AFTER INSERT ON cases_datachange
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION datachange_stamp();

CREATE FUNCTION datachange_log_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cases_datachange (scope) VALUES ('{SCOPE_ALL}');
    RETURN NULL;
END $$;
CREATE FUNCTION datachange_log_labels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('disinfo.bulk_write', true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO cases_datachange (scope) VALUES ('{SCOPE_LABELS}');
    RETURN NULL;
END $$;
"""
    + "".join(_case_table_triggers(t, c) for t, c in CASE_TABLES.items())
    + "".join(_label_table_triggers(t) for t in LABEL_TABLES)
)

UNINSTALL_SQL = (
    "".join(
        f"DROP TRIGGER {t}_log_insert ON {t}; DROP TRIGGER {t}_log_update ON {t}; "
        f"DROP TRIGGER {t}_log_delete ON {t}; DROP TRIGGER {t}_log_truncate ON {t}; "
        f"DROP FUNCTION {t}_log_change();"
        for t in CASE_TABLES
    )
    + "".join(
        f"DROP TRIGGER {t}_log_change ON {t}; DROP TRIGGER {t}_log_truncate ON {t};"
        for t in LABEL_TABLES
    )
    + """
DROP FUNCTION datachange_log_all(); DROP FUNCTION datachange_log_labels();
DROP TABLE cases_datachange; DROP FUNCTION datachange_stamp();
DROP SEQUENCE cases_dataversion_seq; DROP TABLE cases_dataversion;
"""
)


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
                self.state = _read(connection)
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
            with connection.execute_wrapper(_reading_first(holder)):
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
    Every request asks it, so on the default connection it is a prepared statement.
    """
    holder = getattr(_request, "holder", None) if using is None else None
    if holder is not None:
        return holder.read()
    return _read(using or connection, prepare=using is None)


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
    conn = using or connection
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
    writes consistent rows and calls record_full_change() in the same transaction.
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
    """Log that anything may have changed: readers rebuild from scratch."""
    if cursor is not None:
        _triggers_on(cursor)  # the change row's own trigger stamps the version
    if cursor is None:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO cases_datachange (scope) VALUES (%s)", [SCOPE_ALL])
    else:
        cursor.execute("INSERT INTO cases_datachange (scope) VALUES (%s)", [SCOPE_ALL])
