"""A per-case change log in commit order, for the partners' changes feed.

cases_casechange holds one row per case ever changed, with the number of the last
committed change that altered the case's public representation (its seq). Seqs come from
the data version's sequence at commit, under the version row's lock, as the data version
does: they follow the commit order, each case gets a number of its own, and the version a
transaction leaves is above all of them. Rows are never pruned; a deleted case keeps its
row as a tombstone.

Every trigger of migration 0008 that logs a change to a case now also logs the case here,
however big the statement; a rename of a keyword, country, language, outlet or issue logs
every case that shows it; and a change to a case's title, slug or status logs the cases
related to it, which show them. cases_case_related and cases_correctionnote, which the
case page, the API's JSON and the page cache read, get the triggers they lacked.

The SQL is written out by the functions below, which also write the functions as 0008
left them, for the way back.
"""

from django.db import migrations

BIG_STATEMENT = 2000
BULK_WRITE_OFF = """
    IF current_setting('disinfo.bulk_write', true) = 'on' THEN
        RETURN NULL;
    END IF;"""

# Tables whose rows carry a case, with the columns that hold it (0008 had the first five).
OLD_CASE_TABLES = {
    "cases_case": ["id"],
    "cases_case_keywords": ["case_id"],
    "cases_case_countries": ["case_id"],
    "cases_case_languages": ["case_id"],
    "cases_appearance": ["case_id"],
}
NEW_CASE_TABLES = {
    "cases_case_related": ["from_case_id", "to_case_id"],
    "cases_correctionnote": ["case_id"],
}
# Label tables, with the statement listing the ids of the cases that show label ids
# `changed`.
LABEL_USERS = {
    "cases_keyword": "SELECT x.case_id FROM cases_case_keywords x WHERE x.keyword_id IN",
    "cases_country": "SELECT x.case_id FROM cases_case_countries x WHERE x.country_id IN",
    "cases_language": "SELECT x.case_id FROM cases_case_languages x WHERE x.language_id IN",
    "cases_outlet": "SELECT x.case_id FROM cases_appearance x WHERE x.outlet_id IN",
    "cases_issue": "SELECT x.id FROM cases_case x WHERE x.issue_id IN",
}
# What the cases related to a case show of it (the API's related: id, title and URL;
# only while it is published).
SHOWN_TO_RELATED = ["title", "slug", "status"]

CREATE_TABLE = """
CREATE TABLE cases_casechange (
    case_id bigint PRIMARY KEY,
    -- The number of the last committed change to the case; NULL until its writer commits.
    seq bigint,
    -- Whether the public has seen the case: only then does its removal leave a tombstone.
    was_public boolean NOT NULL DEFAULT false
);
-- The changes feed reads rows by seq.
CREATE INDEX cases_casechange_seq_idx ON cases_casechange (seq);
-- The stamp at commit finds its transaction's rows here.
CREATE INDEX cases_casechange_unstamped_idx ON cases_casechange (case_id) WHERE seq IS NULL;
"""


def _ids(columns, op):
    """The distinct case ids in the transition tables of an `op` statement."""
    tables = {"INSERT": ["new_rows"], "DELETE": ["old_rows"], "UPDATE": ["new_rows", "old_rows"]}
    return " UNION ".join(
        f"SELECT DISTINCT {column} FROM {table}" for table in tables[op] for column in columns
    )


def _upsert(select):
    """Log the cases `select` lists (distinct ids) as changed by this transaction.

    In id order, so that transactions logging the same cases lock their rows in one order.
    """
    return f"""
        INSERT INTO cases_casechange (case_id) SELECT case_id FROM ({select}) AS touched (case_id)
            WHERE case_id IS NOT NULL ORDER BY case_id
            ON CONFLICT (case_id) DO UPDATE SET seq = NULL;"""


def _case_upsert(op):
    """As _upsert(), for cases_case itself: it also remembers which cases the public saw."""
    tables = {"INSERT": ["new_rows"], "DELETE": ["old_rows"], "UPDATE": ["new_rows", "old_rows"]}
    rows = " UNION ALL ".join(f"SELECT id, status, published_at FROM {t}" for t in tables[op])
    return f"""
        INSERT INTO cases_casechange AS l (case_id, was_public)
            SELECT id, bool_or(status = 'published' OR published_at IS NOT NULL)
            FROM ({rows}) AS touched GROUP BY id ORDER BY id
            ON CONFLICT (case_id) DO UPDATE
                SET seq = NULL, was_public = l.was_public OR excluded.was_public;"""


def _related_upsert():
    """Log the cases related to cases whose title, slug or status an UPDATE changed."""
    new = ", ".join(f"n.{column}" for column in SHOWN_TO_RELATED)
    old = ", ".join(f"o.{column}" for column in SHOWN_TO_RELATED)
    return _upsert(
        "SELECT DISTINCT x.from_case_id FROM cases_case_related x WHERE x.to_case_id IN ("
        " SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id"
        f" WHERE ({new}) IS DISTINCT FROM ({old}))"
    )


def case_table_function(table, columns, with_casechange=True):
    """The statement trigger function logging the cases a write to `table` touched."""
    branches = []
    for op in ("DELETE", "INSERT", "UPDATE"):
        ids = _ids(columns, op)
        if not with_casechange:
            # As 0008 wrote it (its tables have one case column each).
            (column,) = columns
            source = "old_rows" if op == "DELETE" else "new_rows"
            count = f"SELECT count(DISTINCT {column}) INTO touched FROM {source};"
        elif table == "cases_case":
            count = _case_upsert(op) + "\n        GET DIAGNOSTICS touched = ROW_COUNT;"
        else:
            count = _upsert(ids) + "\n        GET DIAGNOSTICS touched = ROW_COUNT;"
        if with_casechange and table == "cases_case" and op == "UPDATE":
            count += _related_upsert()
        branches.append(
            f"""
    {"IF" if op == "DELETE" else "ELSIF"} TG_OP = '{op}' THEN
        {count}
        IF touched > {BIG_STATEMENT} THEN
            INSERT INTO cases_datachange (scope) VALUES ('all');
        ELSE
            INSERT INTO cases_datachange (scope, case_id)
                SELECT 'case', case_id FROM ({ids}) AS t (case_id);
        END IF;"""
        )
    return f"""
CREATE OR REPLACE FUNCTION {table}_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint;
BEGIN{BULK_WRITE_OFF}{"".join(branches)}
    END IF;
    RETURN NULL;
END $$;
"""


def case_table_triggers(table):
    function = f"{table}_log_change"
    return f"""
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


def drop_case_table_triggers(table):
    return (
        "".join(
            f"DROP TRIGGER {table}_log_{event} ON {table};\n"
            for event in ("insert", "update", "delete", "truncate")
        )
        + f"DROP FUNCTION {table}_log_change();\n"
    )


def label_table_cases(table, users):
    """Log every case that shows a label row an UPDATE really changed."""
    changed = (
        "SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id"
        " WHERE (n.*) IS DISTINCT FROM (o.*)"
    )
    return f"""
CREATE FUNCTION {table}_log_cases() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN{BULK_WRITE_OFF}{_upsert(f"SELECT DISTINCT case_id FROM ({users} ({changed})) AS u (case_id)")}
    RETURN NULL;
END $$;
CREATE TRIGGER {table}_log_cases AFTER UPDATE ON {table}
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_log_cases();
"""


def stamp_function(with_casechange=True):
    if not with_casechange:  # as 0008 wrote it
        return """
CREATE OR REPLACE FUNCTION datachange_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
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
        DELETE FROM cases_datachange WHERE version <= stamped - 20000;
        UPDATE cases_dataversion SET pruned_through = greatest(0, stamped - 20000)
            WHERE id = 1;
    END IF;
    RETURN NULL;
END $$;
"""
    return """
CREATE OR REPLACE FUNCTION datachange_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    stamped bigint;
    previous bigint;
BEGIN
    INSERT INTO cases_dataversion (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
    -- Lock before numbering, so that numbers follow the commit order.
    SELECT version INTO previous FROM cases_dataversion WHERE id = 1 FOR UPDATE;
    -- The first stamp of a transaction gives each case it logged a number of its own,
    -- below the one the change row and the version get: the version always names a
    -- change row (the facet index relies on that), and every case numbered up to it.
    -- The only unstamped rows this transaction sees are its own: others' are uncommitted.
    IF current_setting('disinfo.casechange_stamped', true) IS DISTINCT FROM 'on' THEN
        UPDATE cases_casechange SET seq = nextval('cases_dataversion_seq') WHERE seq IS NULL;
        PERFORM set_config('disinfo.casechange_stamped', 'on', true);
    END IF;
    stamped := nextval('cases_dataversion_seq');
    UPDATE cases_datachange SET version = stamped WHERE id = NEW.id;
    UPDATE cases_dataversion SET version = stamped WHERE id = 1;
    -- Numbers now move by more than one at a time: prune whenever a thousand is passed.
    IF stamped / 1000 > previous / 1000 THEN
        DELETE FROM cases_datachange WHERE version <= stamped - 20000;
        UPDATE cases_dataversion SET pruned_through = greatest(0, stamped - 20000)
            WHERE id = 1;
    END IF;
    RETURN NULL;
END $$;
"""


def log_all_function(with_casechange=True):
    casechange = """
    -- A truncate has no transition tables: every case may have changed.
    UPDATE cases_casechange SET seq = NULL;"""
    return f"""
CREATE OR REPLACE FUNCTION datachange_log_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cases_datachange (scope) VALUES ('all');{casechange if with_casechange else ""}
    RETURN NULL;
END $$;
"""


# Every existing case, and every deleted case the public saw, enters the log; the change
# row's stamp numbers them at this migration's commit.
BACKFILL = """
INSERT INTO cases_casechange (case_id, was_public)
    SELECT id, status = 'published' OR published_at IS NOT NULL FROM cases_case
    UNION ALL
    SELECT d.case_id, d.was_published FROM cases_deletedcase d
    WHERE NOT EXISTS (SELECT 1 FROM cases_case c WHERE c.id = d.case_id);
INSERT INTO cases_datachange (scope) VALUES ('all');
"""

INSTALL_SQL = (
    CREATE_TABLE
    + stamp_function()
    + log_all_function()
    + "".join(case_table_function(t, c) for t, c in {**OLD_CASE_TABLES, **NEW_CASE_TABLES}.items())
    + "".join(case_table_triggers(t) for t in NEW_CASE_TABLES)
    + "".join(label_table_cases(t, users) for t, users in LABEL_USERS.items())
    + BACKFILL
)

UNINSTALL_SQL = (
    "".join(
        f"DROP TRIGGER {t}_log_cases ON {t}; DROP FUNCTION {t}_log_cases();\n" for t in LABEL_USERS
    )
    + "".join(drop_case_table_triggers(t) for t in NEW_CASE_TABLES)
    + "".join(case_table_function(t, c, with_casechange=False) for t, c in OLD_CASE_TABLES.items())
    + log_all_function(with_casechange=False)
    + stamp_function(with_casechange=False)
    + "DROP TABLE cases_casechange;\n"
)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_title_trigram_gist"),
    ]

    operations = [
        migrations.RunSQL(sql=INSTALL_SQL, reverse_sql=UNINSTALL_SQL),
    ]
