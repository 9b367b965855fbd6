"""Synthetic cases are the bench's business: it records the id ranges it loaded in a table
of its own (bench/synthetic.py), so the production schema carries no flag for them."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0011_change_log"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="case",
            name="is_synthetic",
        ),
        migrations.RemoveField(
            model_name="historicalcase",
            name="is_synthetic",
        ),
    ]
