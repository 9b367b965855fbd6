from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR_PERMISSIONS = [
    "add_case",
    "change_case",
    "view_case",
    "submit_case",
    "add_appearance",
    "change_appearance",
    "delete_appearance",
    "view_appearance",
    "add_pendingreference",
    "change_pendingreference",
    "delete_pendingreference",
    "view_pendingreference",
    "add_correctionnote",
    "view_correctionnote",
    "add_keyword",
    "change_keyword",
    "view_keyword",
    "add_country",
    "change_country",
    "view_country",
    "add_language",
    "change_language",
    "view_language",
    "add_outlet",
    "change_outlet",
    "view_outlet",
    "add_outletalias",
    "change_outletalias",
    "delete_outletalias",
    "view_outletalias",
    "add_issue",
    "change_issue",
    "view_issue",
    "view_taxonomyredirect",
]
# Publishing and withdrawing, and merging taxonomy values (a merge deletes the merged ones).
PUBLISHER_PERMISSIONS = EDITOR_PERMISSIONS + [
    "publish_case",
    "delete_keyword",
    "delete_country",
    "delete_outlet",
    "change_correctionnote",
    "delete_correctionnote",
]


def create_groups(apps, schema_editor):
    # Permissions are normally created after migrations; the groups need them now.
    app_config = apps.get_app_config("cases")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in (("Editors", EDITOR_PERMISSIONS), ("Publishers", PUBLISHER_PERMISSIONS)):
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="cases", codename__in=codenames
        )
        assert permissions.count() == len(codenames), "a permission is missing"
        group.permissions.add(*permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Editors", "Publishers"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("cases", "0005_editors_workflow"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
