"""Indexes on the case links by value, then case: the cases of one language, country or
keyword read from the index alone. The admin's filters and their counts asked the links of
one value with Django's index on the value only, then read each link's row for its case:
6,600 table pages for the 29,000 cases of one language at a million cases."""

from django.db import migrations

LINKS = [
    ("cases_case_languages", "language_id", "case_language_value_case_idx"),
    ("cases_case_countries", "country_id", "case_country_value_case_idx"),
    ("cases_case_keywords", "keyword_id", "case_keyword_value_case_idx"),
]


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY: writes go on while a big table is indexed

    dependencies = [("cases", "0021_admin_list_indexes")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} ({column}, case_id)",
            f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
        )
        for table, column, name in LINKS
    ]
