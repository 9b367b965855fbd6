from django.db import migrations

# The SQL of cases/dataversion.py as it was when this migration was written.
INSTALL_SQL = """
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
        DELETE FROM cases_datachange WHERE version <= stamped - 20000;
        UPDATE cases_dataversion SET pruned_through = greatest(0, stamped - 20000)
            WHERE id = 1;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER cases_datachange_stamp AFTER INSERT ON cases_datachange
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION datachange_stamp();

CREATE FUNCTION datachange_log_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cases_datachange (scope) VALUES ('all');
    RETURN NULL;
END $$;
CREATE FUNCTION datachange_log_labels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('disinfo.bulk_write', true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO cases_datachange (scope) VALUES ('labels');
    RETURN NULL;
END $$;

CREATE FUNCTION cases_case_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint;
BEGIN
    IF current_setting('disinfo.bulk_write', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        SELECT count(DISTINCT id) INTO touched FROM old_rows;
    ELSE
        SELECT count(DISTINCT id) INTO touched FROM new_rows;
    END IF;
    IF touched > 2000 THEN
        INSERT INTO cases_datachange (scope) VALUES ('all');
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO cases_datachange (scope, case_id)
            SELECT DISTINCT 'case', id FROM old_rows;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO cases_datachange (scope, case_id)
            SELECT DISTINCT 'case', id FROM new_rows;
    ELSE
        -- An update can move a row from one case to another: log both.
        INSERT INTO cases_datachange (scope, case_id)
            SELECT 'case', id FROM new_rows
            UNION SELECT 'case', id FROM old_rows;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER cases_case_log_insert AFTER INSERT ON cases_case
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cases_case_log_change();
CREATE TRIGGER cases_case_log_update AFTER UPDATE ON cases_case
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cases_case_log_change();
CREATE TRIGGER cases_case_log_delete AFTER DELETE ON cases_case
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cases_case_log_change();
CREATE TRIGGER cases_case_log_truncate AFTER TRUNCATE ON cases_case
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_all();

CREATE FUNCTION cases_case_keywords_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint;
BEGIN
    IF current_setting('disinfo.bulk_write', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        SELECT count(DISTINCT case_id) INTO touched FROM old_rows;
    ELSE
        SELECT count(DISTINCT case_id) INTO touched FROM new_rows;
    END IF;
    IF touched > 2000 THEN
        INSERT INTO cases_datachange (scope) VALUES ('all');
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO cases_datachange (scope, case_id)
            SELECT DISTINCT 'case', case_id FROM old_rows;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO cases_datachange (scope, case_id)
            SELECT DISTINCT 'case', case_id FROM new_rows;
    ELSE
        -- An update can move a row from one case to another: log both.
        INSERT INTO cases_datachange (scope, case_id)
            SELECT 'case', case_id FROM new_rows
            UNION SELECT 'case', case_id FROM old_rows;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER cases_case_keywords_log_insert AFTER INSERT ON cases_case_keywords
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cases_case_keywords_log_change();
CREATE TRIGGER cases_case_keywords_log_update AFTER UPDATE ON cases_case_keywords
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cases_case_keywords_log_change();
CREATE TRIGGER cases_case_keywords_log_delete AFTER DELETE ON cases_case_keywords
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cases_case_keywords_log_change();
CREATE TRIGGER cases_case_keywords_log_truncate AFTER TRUNCATE ON cases_case_keywords
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_all();

CREATE FUNCTION cases_case_countries_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint;
BEGIN
    IF current_setting('disinfo.bulk_write', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        SELECT count(DISTINCT case_id) INTO touched FROM old_rows;
    ELSE
        SELECT count(DISTINCT case_id) INTO touched FROM new_rows;
    END IF;
    IF touched > 2000 THEN
        INSERT INTO cases_datachange (scope) VALUES ('all');
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO cases_datachange (scope, case_id)
            SELECT DISTINCT 'case', case_id FROM old_rows;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO cases_datachange (scope, case_id)
            SELECT DISTINCT 'case', case_id FROM new_rows;
    ELSE
        -- An update can move a row from one case to another: log both.
        INSERT INTO cases_datachange (scope, case_id)
            SELECT 'case', case_id FROM new_rows
            UNION SELECT 'case', case_id FROM old_rows;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER cases_case_countries_log_insert AFTER INSERT ON cases_case_countries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cases_case_countries_log_change();
CREATE TRIGGER cases_case_countries_log_update AFTER UPDATE ON cases_case_countries
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cases_case_countries_log_change();
CREATE TRIGGER cases_case_countries_log_delete AFTER DELETE ON cases_case_countries
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cases_case_countries_log_change();
CREATE TRIGGER cases_case_countries_log_truncate AFTER TRUNCATE ON cases_case_countries
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_all();

CREATE FUNCTION cases_case_languages_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint;
BEGIN
    IF current_setting('disinfo.bulk_write', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        SELECT count(DISTINCT case_id) INTO touched FROM old_rows;
    ELSE
        SELECT count(DISTINCT case_id) INTO touched FROM new_rows;
    END IF;
    IF touched > 2000 THEN
        INSERT INTO cases_datachange (scope) VALUES ('all');
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO cases_datachange (scope, case_id)
            SELECT DISTINCT 'case', case_id FROM old_rows;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO cases_datachange (scope, case_id)
            SELECT DISTINCT 'case', case_id FROM new_rows;
    ELSE
        -- An update can move a row from one case to another: log both.
        INSERT INTO cases_datachange (scope, case_id)
            SELECT 'case', case_id FROM new_rows
            UNION SELECT 'case', case_id FROM old_rows;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER cases_case_languages_log_insert AFTER INSERT ON cases_case_languages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cases_case_languages_log_change();
CREATE TRIGGER cases_case_languages_log_update AFTER UPDATE ON cases_case_languages
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cases_case_languages_log_change();
CREATE TRIGGER cases_case_languages_log_delete AFTER DELETE ON cases_case_languages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cases_case_languages_log_change();
CREATE TRIGGER cases_case_languages_log_truncate AFTER TRUNCATE ON cases_case_languages
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_all();

CREATE FUNCTION cases_appearance_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint;
BEGIN
    IF current_setting('disinfo.bulk_write', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        SELECT count(DISTINCT case_id) INTO touched FROM old_rows;
    ELSE
        SELECT count(DISTINCT case_id) INTO touched FROM new_rows;
    END IF;
    IF touched > 2000 THEN
        INSERT INTO cases_datachange (scope) VALUES ('all');
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO cases_datachange (scope, case_id)
            SELECT DISTINCT 'case', case_id FROM old_rows;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO cases_datachange (scope, case_id)
            SELECT DISTINCT 'case', case_id FROM new_rows;
    ELSE
        -- An update can move a row from one case to another: log both.
        INSERT INTO cases_datachange (scope, case_id)
            SELECT 'case', case_id FROM new_rows
            UNION SELECT 'case', case_id FROM old_rows;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER cases_appearance_log_insert AFTER INSERT ON cases_appearance
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cases_appearance_log_change();
CREATE TRIGGER cases_appearance_log_update AFTER UPDATE ON cases_appearance
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cases_appearance_log_change();
CREATE TRIGGER cases_appearance_log_delete AFTER DELETE ON cases_appearance
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cases_appearance_log_change();
CREATE TRIGGER cases_appearance_log_truncate AFTER TRUNCATE ON cases_appearance
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_all();

CREATE TRIGGER cases_keyword_log_change AFTER INSERT OR UPDATE OR DELETE ON cases_keyword
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_labels();
CREATE TRIGGER cases_keyword_log_truncate AFTER TRUNCATE ON cases_keyword
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_all();

CREATE TRIGGER cases_country_log_change AFTER INSERT OR UPDATE OR DELETE ON cases_country
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_labels();
CREATE TRIGGER cases_country_log_truncate AFTER TRUNCATE ON cases_country
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_all();

CREATE TRIGGER cases_language_log_change AFTER INSERT OR UPDATE OR DELETE ON cases_language
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_labels();
CREATE TRIGGER cases_language_log_truncate AFTER TRUNCATE ON cases_language
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_all();

CREATE TRIGGER cases_outlet_log_change AFTER INSERT OR UPDATE OR DELETE ON cases_outlet
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_labels();
CREATE TRIGGER cases_outlet_log_truncate AFTER TRUNCATE ON cases_outlet
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_all();

CREATE TRIGGER cases_issue_log_change AFTER INSERT OR UPDATE OR DELETE ON cases_issue
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_labels();
CREATE TRIGGER cases_issue_log_truncate AFTER TRUNCATE ON cases_issue
    FOR EACH STATEMENT EXECUTE FUNCTION datachange_log_all();
"""

UNINSTALL_SQL = """DROP TRIGGER cases_case_log_insert ON cases_case; DROP TRIGGER cases_case_log_update ON cases_case; DROP TRIGGER cases_case_log_delete ON cases_case; DROP TRIGGER cases_case_log_truncate ON cases_case; DROP FUNCTION cases_case_log_change();DROP TRIGGER cases_case_keywords_log_insert ON cases_case_keywords; DROP TRIGGER cases_case_keywords_log_update ON cases_case_keywords; DROP TRIGGER cases_case_keywords_log_delete ON cases_case_keywords; DROP TRIGGER cases_case_keywords_log_truncate ON cases_case_keywords; DROP FUNCTION cases_case_keywords_log_change();DROP TRIGGER cases_case_countries_log_insert ON cases_case_countries; DROP TRIGGER cases_case_countries_log_update ON cases_case_countries; DROP TRIGGER cases_case_countries_log_delete ON cases_case_countries; DROP TRIGGER cases_case_countries_log_truncate ON cases_case_countries; DROP FUNCTION cases_case_countries_log_change();DROP TRIGGER cases_case_languages_log_insert ON cases_case_languages; DROP TRIGGER cases_case_languages_log_update ON cases_case_languages; DROP TRIGGER cases_case_languages_log_delete ON cases_case_languages; DROP TRIGGER cases_case_languages_log_truncate ON cases_case_languages; DROP FUNCTION cases_case_languages_log_change();DROP TRIGGER cases_appearance_log_insert ON cases_appearance; DROP TRIGGER cases_appearance_log_update ON cases_appearance; DROP TRIGGER cases_appearance_log_delete ON cases_appearance; DROP TRIGGER cases_appearance_log_truncate ON cases_appearance; DROP FUNCTION cases_appearance_log_change();DROP TRIGGER cases_keyword_log_change ON cases_keyword; DROP TRIGGER cases_keyword_log_truncate ON cases_keyword;DROP TRIGGER cases_country_log_change ON cases_country; DROP TRIGGER cases_country_log_truncate ON cases_country;DROP TRIGGER cases_language_log_change ON cases_language; DROP TRIGGER cases_language_log_truncate ON cases_language;DROP TRIGGER cases_outlet_log_change ON cases_outlet; DROP TRIGGER cases_outlet_log_truncate ON cases_outlet;DROP TRIGGER cases_issue_log_change ON cases_issue; DROP TRIGGER cases_issue_log_truncate ON cases_issue;
DROP FUNCTION datachange_log_all(); DROP FUNCTION datachange_log_labels();
DROP TABLE cases_datachange; DROP FUNCTION datachange_stamp();
DROP SEQUENCE cases_dataversion_seq; DROP TABLE cases_dataversion;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_deletedcase"),
    ]

    operations = [
        # The data version and its change log; see cases/dataversion.py.
        migrations.RunSQL(sql=INSTALL_SQL, reverse_sql=UNINSTALL_SQL),
        # The facet index build (cases/facets.py) reads published case ids by issue from
        # this index alone, without touching the table's wide rows.
        migrations.RunSQL(
            sql="CREATE INDEX case_published_issue_idx ON cases_case (issue_id) INCLUDE (id)"
            " WHERE status = 'published'",
            reverse_sql="DROP INDEX case_published_issue_idx",
        ),
        # Keep the table's rows narrow: summaries and disproofs go to TOAST storage (as the
        # search vector already does), so scans that only need ids, dates and statuses,
        # such as a full-text match of a common word, read a few hundred MB instead of
        # gigabytes at a million cases. Rows written from now on are stored this way.
        migrations.RunSQL(
            sql="ALTER TABLE cases_case SET (toast_tuple_target = 512)",
            reverse_sql="ALTER TABLE cases_case RESET (toast_tuple_target)",
        ),
    ]
