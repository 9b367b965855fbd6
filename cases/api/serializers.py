"""The API's read representation of cases and taxonomy values, and what editors write.

CaseSerializer is the reference of the case JSON PostgreSQL writes for API lists, API
cases, the changes feed and JSON exports (cases.readmodels.api_json); import_cases reads
it back. Nothing here sends SQL of its own.
"""

import functools

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Prefetch
from django.urls import get_script_prefix
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from cases import workflow
from cases.models import Appearance, Case, Country, Issue, Keyword, Language, Outlet
from cases.services import editing


def prefetch_for_case_serializer(queryset):
    """Everything CaseSerializer renders, in a fixed number of queries."""
    related = Case.objects.only("id", "title", "slug", "status").order_by("id")
    return queryset.with_related_data().prefetch_related(Prefetch("related", queryset=related))


def absolute_case_url(case, request=None):
    """The case's URL (get_absolute_url()) made absolute, for this request or SITE_URL."""
    return f"{case_url_prefix(request)}{case.pk}/{case.slug}/"


@functools.lru_cache
def _case_path_prefix(script_prefix):
    """The path every case URL starts with, under this script prefix: "/cases/".

    Data (the API, exports) names a case by its one English URL, whichever language the
    process's first page was in (disinfo_db/i18n.py)."""
    with translation.override(settings.LANGUAGE_CODE):
        path = Case(pk=1, slug="s").get_absolute_url()
    if not path.endswith("/1/s/"):
        raise ImproperlyConfigured(f"Case URLs must end with /<id>/<slug>/, not {path}.")
    return path[: -len("1/s/")]


def case_url_prefix(request=None):
    """What every absolute case URL starts with: a case's is f"{prefix}{id}/{slug}/".

    reverse() once per script prefix, not once per case: for a page of cases it was a tenth
    of the time of an API list page."""
    path = _case_path_prefix(get_script_prefix())
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.SITE_URL.rstrip("/") + path


class KeywordSerializer(serializers.ModelSerializer):
    class Meta:
        model = Keyword
        fields = ["slug", "name"]


class CountrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Country
        fields = ["slug", "name", "iso_code", "kind"]


class LanguageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Language
        fields = ["code", "name"]


class OutletSerializer(serializers.ModelSerializer):
    class Meta:
        model = Outlet
        fields = ["slug", "name", "domain"]


class IssueSerializer(serializers.ModelSerializer):
    class Meta:
        model = Issue
        fields = ["number", "date"]


class CaseCountField(serializers.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, help_text="How many published cases it tags.", **kwargs)


class CountedKeywordSerializer(KeywordSerializer):
    case_count = CaseCountField()

    class Meta(KeywordSerializer.Meta):
        fields = [*KeywordSerializer.Meta.fields, "case_count"]


class CountedCountrySerializer(CountrySerializer):
    case_count = CaseCountField()

    class Meta(CountrySerializer.Meta):
        fields = [*CountrySerializer.Meta.fields, "case_count"]


class CountedLanguageSerializer(LanguageSerializer):
    case_count = CaseCountField()

    class Meta(LanguageSerializer.Meta):
        fields = [*LanguageSerializer.Meta.fields, "case_count"]


class CountedOutletSerializer(OutletSerializer):
    case_count = CaseCountField()

    class Meta(OutletSerializer.Meta):
        fields = [*OutletSerializer.Meta.fields, "case_count"]


class CountedIssueSerializer(IssueSerializer):
    case_count = CaseCountField()

    class Meta(IssueSerializer.Meta):
        fields = [*IssueSerializer.Meta.fields, "case_count"]


class AppearanceSerializer(serializers.ModelSerializer):
    outlet = OutletSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Appearance
        fields = ["outlet", "url", "archive_url"]


class RelatedCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.URLField()


class CaseSerializer(serializers.ModelSerializer):
    """One disinformation case: the claim, where it appeared, and its debunk."""

    # Related drafts are left out unless the context says include_drafts=True.
    # Use prefetch_for_case_serializer() on the queryset, or, for a list,
    # cases.readmodels.api_json.represent_cases().

    url = serializers.SerializerMethodField()
    issue = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    languages = LanguageSerializer(many=True, read_only=True)
    countries = CountrySerializer(many=True, read_only=True)
    keywords = KeywordSerializer(many=True, read_only=True)
    appearances = AppearanceSerializer(many=True, read_only=True)
    related = serializers.SerializerMethodField()
    source_id = serializers.CharField(
        read_only=True,
        help_text="The case's id in the archive it was imported from; empty when none.",
    )
    source_url = serializers.CharField(
        read_only=True,
        help_text=(
            "The address of the case's report in the archive it was imported from (for "
            "EUvsDisinfo cases, https://euvsdisinfo.eu/report/...); empty when none."
        ),
    )
    published_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When the case was first published; null for a case never published.",
    )
    # Not read_only, so that the schema does not call it required: only editors get it.
    status = serializers.ChoiceField(
        choices=Case.Status.choices,
        required=False,
        help_text="Only shown to editors; the public sees published cases only.",
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "url",
            "source_id",
            "source_url",
            "status",
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
            "published_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("include_drafts", False):
            del data["status"]
        return data

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, case):
        return absolute_case_url(case, self.context.get("request"))

    @extend_schema_field(RelatedCaseSerializer(many=True))
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


class TombstoneSerializer(serializers.Serializer):
    """A case the public may no longer see: deleted, or unpublished since `updated_since`."""

    id = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=[Case.Status.WITHDRAWN], read_only=True)
    updated_at = serializers.DateTimeField(read_only=True, help_text="When it went away.")


class AppearanceWriteSerializer(serializers.ModelSerializer):
    outlet = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Outlet.objects.all(),
        allow_null=True,
        required=False,
        help_text="Outlet slug, as in /api/v1/outlets/.",
    )

    class Meta:
        model = Appearance
        fields = ["outlet", "url", "archive_url"]

    def validate(self, attrs):
        if attrs.get("outlet") is None and not attrs.get("url"):
            raise serializers.ValidationError("Give an outlet, a url, or both.")
        return attrs


class StrictCharField(serializers.CharField):
    """Text sent as a JSON string: DRF's CharField also takes 1 or 1.5 and stores "1"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# The largest version a client may name: PostgreSQL's integer.
MAX_VERSION = 2**31 - 1


class CaseWriteSerializer(serializers.ModelSerializer):
    """What editors send to create or change a case.

    Taxonomy values are referred to by slug (languages by code) and must exist already;
    `issue` is the number of an existing issue. `appearances` and the many-valued fields
    replace what the case had. The response is the case as CaseSerializer shows it.
    """

    issue = serializers.SlugRelatedField(
        slug_field="number",
        queryset=Issue.objects.all(),
        allow_null=True,
        required=False,
        help_text="The number of an existing review issue (see /api/v1/issues/).",
    )
    languages = serializers.SlugRelatedField(
        slug_field="code", queryset=Language.objects.all(), many=True, required=False
    )
    countries = serializers.SlugRelatedField(
        slug_field="slug", queryset=Country.objects.all(), many=True, required=False
    )
    keywords = serializers.SlugRelatedField(
        slug_field="slug", queryset=Keyword.objects.all(), many=True, required=False
    )
    related = serializers.PrimaryKeyRelatedField(
        queryset=Case.objects.all(), many=True, required=False, help_text="Case ids."
    )
    appearances = AppearanceWriteSerializer(many=True, required=False)
    status = serializers.ChoiceField(
        choices=Case.Status.choices,
        required=False,
        help_text=(
            "New cases start as drafts. Submitting for review (in_review) needs the submit "
            "permission; publishing and withdrawing need the publish permission. A published "
            "case is withdrawn (with a withdrawal_reason) before it can become a draft again."
        ),
    )

    base_version = serializers.IntegerField(
        write_only=True,
        required=False,
        min_value=1,
        max_value=MAX_VERSION,
        help_text=(
            "When changing a case: the version your change was made on (the `v<N>` of the "
            "ETag you read). If the case moved on since, your change is merged with the "
            "newer version: fields you left as they were keep the newer value, fields only "
            "you changed take yours, and fields both changed differently are a 409 Conflict "
            "(nothing written). Ignored when If-Match names a version."
        ),
    )

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }

    class Meta:
        model = Case
        extra_kwargs = {name: {"max_length": limit} for name, limit in editing.TEXT_LIMITS.items()}
        fields = [
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
            "status",
            "withdrawal_reason",
            "base_version",
        ]

    def validate_title(self, value):
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value

    def validate_base_version(self, value):
        if self.instance is None:
            raise serializers.ValidationError(
                "Only for changing a case: a new case has no earlier version."
            )
        if value > self.instance.version:
            raise serializers.ValidationError(
                f"The case is at version {self.instance.version}: there is no version {value} yet."
            )
        return value

    def validate_related(self, value):
        if self.instance is not None and any(other.pk == self.instance.pk for other in value):
            raise serializers.ValidationError("A case cannot be related to itself.")
        return value

    def validate(self, attrs):
        """The editorial workflow (cases.workflow) decides which status changes are allowed.

        A change the user lacks the permission for is a 403; one the workflow does not
        allow at all, or a withdrawal without a reason, is a 400 naming the field.
        """
        status = attrs.get("status")
        if status is None and self.instance is not None:
            return attrs
        status = status or Case.Status.DRAFT
        user = self.context["request"].user
        try:
            workflow.check_transition(user, self.instance, status, attrs.get("withdrawal_reason"))
        except workflow.TransitionError as error:
            old = workflow.current_status(self.instance)
            permission = workflow.TRANSITIONS.get((old, status))
            if status != old and permission and not user.has_perm(permission):
                raise PermissionDenied({"status": [str(error)]}) from error
            allowed = status == old or (old, status) in workflow.TRANSITIONS
            field = "withdrawal_reason" if allowed and status == Case.Status.WITHDRAWN else "status"
            raise serializers.ValidationError({field: [str(error)]}) from error
        return attrs

    def save_case(self, case, user, reason, merge=True):
        """Write the case and everything linked to it through the write path.

        With `merge`, a base_version older than the case's is passed on, and the write is
        merged three-way (raising editing.EditConflict for fields both changed); without
        it, base_version is ignored. Returns editing.Saved: an edit of a published case by
        a user without publish rights is a pending revision (saved.revision).
        """
        data = dict(self.validated_data)
        base_version = data.pop("base_version", None) if merge else None
        data.pop("base_version", None)
        appearances = data.pop("appearances", None)
        if appearances is not None:
            appearances = [
                (
                    a["outlet"].pk if a.get("outlet") else None,
                    a.get("url", ""),
                    a.get("archive_url", ""),
                )
                for a in appearances
            ]
        return editing.save_case(
            case,
            user=user,
            reason=reason,
            base_version=base_version,
            appearances=appearances,
            **data,
        )

    LINKS = ["languages", "countries", "keywords", "related"]


class MatchEntitySerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="country or keyword: a taxonomy value the case is tagged with; person, "
        "organisation or place: a name from the gazetteer that the case mentions.",
    )
    name = serializers.CharField()


class MatchWhySerializer(serializers.Serializer):
    terms = serializers.ListField(
        child=serializers.CharField(),
        help_text="Words of the text that the case shares (by stem), rarest first.",
    )
    entities = MatchEntitySerializer(many=True)


class MatchSerializer(serializers.Serializer):
    """A case matching a text, with its score and why it matched."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.URLField(help_text="The case's page.")
    api_url = serializers.URLField(help_text="The case in the API.")
    date = serializers.DateField(allow_null=True)
    score = serializers.FloatField(
        help_text="0 to 1, higher is more similar: comparable within one answer."
    )
    related = serializers.BooleanField(
        help_text="Similar cases only: an editor linked this case to the one asked about."
    )
    why = MatchWhySerializer()


class MatchesSerializer(serializers.Serializer):
    tier = serializers.ChoiceField(
        choices=["lexical", "semantic+lexical"],
        help_text="lexical: shared terms, names and taxonomy. semantic+lexical: fused with "
        "multilingual sentence embeddings (only where the server has a model).",
    )
    semantic_tier = serializers.BooleanField(help_text="Whether the server has a model.")
    count = serializers.IntegerField()
    results = MatchSerializer(many=True)


def match_representation(match, request):
    from django.urls import reverse

    api_url = reverse("case-detail", kwargs={"pk": match.id})
    return {
        "id": match.id,
        "title": match.title,
        "url": request.build_absolute_uri(match.get_absolute_url()),
        "api_url": request.build_absolute_uri(api_url),
        "date": match.date.isoformat() if match.date else None,
        "score": round(match.score, 4),
        "related": match.related,
        "why": {
            "terms": match.terms,
            "entities": [entity.as_json() for entity in match.entities],
        },
    }
