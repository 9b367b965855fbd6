from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from cases.api.views import OfflineRedocView, OfflineSwaggerView
from cases.site.guide import api_guide, favicon
from disinfo_db.health import healthz
from disinfo_db.i18n import switch_language

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("cases.api.urls")),
    path("api/docs/", OfflineSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", OfflineRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("language/<str:code>/", switch_language, name="switch-language"),
    path("api/guide/", api_guide, name="api-guide"),
    path("favicon.ico", favicon, name="favicon"),
]
# The public pages in English at their own URLs, and under /ru/, /uk/, /de/, /fr/
# (disinfo_db/i18n.py; exports, feeds and sitemaps are sent to their unprefixed URLs).
urlpatterns += i18n_patterns(path("", include("cases.urls")), prefix_default_language=False)

# Errors: JSON under /api/, the site's pages elsewhere; 503 while the database is unreachable.
handler500 = "cases.api.errors.server_error"
handler400 = "cases.api.errors.bad_request"
handler403 = "cases.api.errors.permission_denied"
handler404 = "cases.api.errors.page_not_found"
