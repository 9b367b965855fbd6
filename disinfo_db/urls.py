from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerView

from cases.api.views import OfflineRedocView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("cases.api.urls")),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", OfflineRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include("cases.urls")),
]

# Unexpected errors: JSON under /api/, Django's page elsewhere.
handler500 = "cases.api.errors.server_error"
