from django.db.models import Count, Prefetch, Q
from rest_framework import viewsets

from cases.api.serializers import (
    CaseSerializer,
    CountrySerializer,
    IssueSerializer,
    KeywordSerializer,
    LanguageSerializer,
    OutletSerializer,
)
from cases.filters import CaseFilter
from cases.models import Case, Country, Issue, Keyword, Language, Outlet


class CaseViewSet(viewsets.ReadOnlyModelViewSet):
    """Published disinformation cases. Filters follow the site's query contract."""

    serializer_class = CaseSerializer
    filterset_class = CaseFilter

    def get_queryset(self):
        published_related = Prefetch(
            "related", queryset=Case.objects.published().only("id", "title", "slug").order_by("id")
        )
        return Case.objects.published().with_related_data().prefetch_related(published_related)


PUBLISHED_CASES = Q(cases__status=Case.Status.PUBLISHED)


class TaxonomyViewSet(viewsets.ReadOnlyModelViewSet):
    """A taxonomy list; each value carries the number of published cases it tags."""

    pagination_class = None

    def get_queryset(self):
        return self.model.objects.annotate(case_count=Count("cases", filter=PUBLISHED_CASES))


class KeywordViewSet(TaxonomyViewSet):
    model = Keyword
    serializer_class = KeywordSerializer
    lookup_field = "slug"


class CountryViewSet(TaxonomyViewSet):
    model = Country
    serializer_class = CountrySerializer
    lookup_field = "slug"


class LanguageViewSet(TaxonomyViewSet):
    model = Language
    serializer_class = LanguageSerializer
    lookup_field = "code"


class IssueViewSet(TaxonomyViewSet):
    model = Issue
    serializer_class = IssueSerializer
    lookup_field = "number"


class OutletViewSet(TaxonomyViewSet):
    model = Outlet
    serializer_class = OutletSerializer
    lookup_field = "slug"

    def get_queryset(self):
        published = Q(appearances__case__status=Case.Status.PUBLISHED)
        return Outlet.objects.annotate(
            case_count=Count("appearances__case", filter=published, distinct=True)
        )
