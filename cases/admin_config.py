from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin, with cases.admin_site.DisinfoAdminSite as `admin.site`."""

    default_site = "cases.admin_site.DisinfoAdminSite"
