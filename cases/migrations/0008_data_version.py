from django.db import migrations

from cases.dataversion import INSTALL_SQL, UNINSTALL_SQL


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
