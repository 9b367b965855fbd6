from django.db import migrations, models


class Migration(migrations.Migration):
    """The table 0011 created, made known to Django (state only): a flush empties it."""

    dependencies = [
        ("cases", "0012_remove_case_is_synthetic"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CaseChange",
                    fields=[
                        ("case_id", models.BigIntegerField(primary_key=True, serialize=False)),
                        ("seq", models.BigIntegerField(editable=False, null=True)),
                        ("was_public", models.BooleanField(default=False, editable=False)),
                    ],
                    options={
                        "db_table": "cases_casechange",
                    },
                ),
            ],
        ),
    ]
