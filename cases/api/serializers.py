"""The API's read representation of cases and taxonomy values.

JSON exports use the same CaseSerializer, and import_cases reads it back.
"""

from django.conf import settings
from django.db.models import Prefetch
from rest_framework import serializers

from cases.models import Appearance, Case, Country, Issue, Keyword, Language, Outlet


def prefetch_for_case_serializer(queryset):
    """Everything CaseSerializer renders, in a fixed number of queries."""
    related = Case.objects.only("id", "title", "slug", "status").order_by("id")
    return queryset.with_related_data().prefetch_related(Prefetch("related", queryset=related))


def absolute_case_url(case, request=None):
    path = case.get_absolute_url()
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.SITE_URL.rstrip("/") + path


class CaseCountMixin:
    """Adds `case_count` when the queryset annotated it (the taxonomy lists do)."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if hasattr(instance, "case_count"):
            data["case_count"] = instance.case_count
        return data


class KeywordSerializer(CaseCountMixin, serializers.ModelSerializer):
    class Meta:
        model = Keyword
        fields = ["slug", "name"]


class CountrySerializer(CaseCountMixin, serializers.ModelSerializer):
    class Meta:
        model = Country
        fields = ["slug", "name", "iso_code", "kind"]


class LanguageSerializer(CaseCountMixin, serializers.ModelSerializer):
    class Meta:
        model = Language
        fields = ["code", "name"]


class OutletSerializer(CaseCountMixin, serializers.ModelSerializer):
    class Meta:
        model = Outlet
        fields = ["slug", "name", "domain"]


class IssueSerializer(CaseCountMixin, serializers.ModelSerializer):
    class Meta:
        model = Issue
        fields = ["number", "date"]


class AppearanceSerializer(serializers.ModelSerializer):
    outlet = OutletSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Appearance
        fields = ["outlet", "url", "archive_url"]


class CaseSerializer(serializers.ModelSerializer):
    """One case. Related drafts are left out unless the context says include_drafts=True.

    Use prefetch_for_case_serializer() on the queryset.
    """

    url = serializers.SerializerMethodField()
    issue = serializers.SlugRelatedField(slug_field="number", read_only=True)
    languages = LanguageSerializer(many=True, read_only=True)
    countries = CountrySerializer(many=True, read_only=True)
    keywords = KeywordSerializer(many=True, read_only=True)
    appearances = AppearanceSerializer(many=True, read_only=True)
    related = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "url",
            "title",
            "summary",
            "disproof",
            "date",
            "issue",
            "languages",
            "countries",
            "keywords",
            "appearances",
            "related",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_url(self, case):
        return absolute_case_url(case, self.context.get("request"))

    def get_related(self, case):
        request = self.context.get("request")
        return [
            {"id": other.pk, "title": other.title, "url": absolute_case_url(other, request)}
            for other in visible_related_cases(case, self.context.get("include_drafts", False))
        ]


def visible_related_cases(case, include_drafts=False):
    """The case's related cases that may be shown beside it, oldest first.

    A prefetch that leaves out `status` has already chosen which cases to show (the views
    prefetch published ones only); reading the deferred field would cost a query per case.
    """
    others = sorted(case.related.all(), key=lambda other: other.pk)
    if include_drafts:
        return others
    return [
        other
        for other in others
        if "status" in other.get_deferred_fields() or other.status == Case.Status.PUBLISHED
    ]
