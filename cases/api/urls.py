from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from cases.api import views

router = DefaultRouter()
router.register("cases", views.CaseViewSet, basename="case")
router.register("keywords", views.KeywordViewSet, basename="keyword")
router.register("countries", views.CountryViewSet, basename="country")
router.register("languages", views.LanguageViewSet, basename="language")
router.register("outlets", views.OutletViewSet, basename="outlet")
router.register("issues", views.IssueViewSet, basename="issue")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    *router.urls,
]
