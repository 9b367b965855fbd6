from django.db import migrations

from cases.dataversion import INSTALL_SQL, UNINSTALL_SQL


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_case_permissions"),
    ]

    operations = [
        # The data version and its change log; see cases/dataversion.py.
        migrations.RunSQL(sql=INSTALL_SQL, reverse_sql=UNINSTALL_SQL),
    ]
