from django.contrib import admin
from django.urls import include, path

from cases.api.views import OfflineRedocView, OfflineSwaggerView
from cases.site.guide import api_guide, favicon
from disinfo_db.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("cases.api.urls")),
    path("api/docs/", OfflineSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", OfflineRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/guide/", api_guide, name="api-guide"),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("cases.urls")),
]

# Errors: JSON under /api/, the site's pages elsewhere; 503 while the database is unreachable.
handler500 = "cases.api.errors.server_error"
handler400 = "cases.api.errors.bad_request"
handler403 = "cases.api.errors.permission_denied"
handler404 = "cases.api.errors.page_not_found"
