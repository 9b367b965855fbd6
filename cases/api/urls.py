from django.http import JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from cases.api import changes, match, views

router = DefaultRouter()
router.register("cases", views.CaseViewSet, basename="case")
router.register("keywords", views.KeywordViewSet, basename="keyword")
router.register("countries", views.CountryViewSet, basename="country")
router.register("languages", views.LanguageViewSet, basename="language")
router.register("outlets", views.OutletViewSet, basename="outlet")
router.register("issues", views.IssueViewSet, basename="issue")


@csrf_exempt
def not_found(request):
    """Any other URL under /api/v1/ answers in the API's error shape, not an HTML page."""
    body = {"status": 404, "errors": [{"field": None, "message": "Not found."}]}
    return JsonResponse(body, status=404)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("changes/", changes.ChangesView.as_view(), name="changes"),
    path("match/", match.MatchView.as_view(), name="match"),
    *router.urls,
    # Any character, line breaks (%0A) included: "." does not match them.
    re_path(r"^[\s\S]*/$", not_found),
]
