"""The API's read representation of cases and taxonomy values.

JSON exports use the same CaseSerializer, and import_cases reads it back.
"""

import json
import threading

from django.conf import settings
from django.db import connection
from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.fields import SkipField

from cases import prepared, workflow
from cases.models import Appearance, Case, Country, Issue, Keyword, Language, Outlet
from cases.search import update_search_vectors


def prefetch_for_case_serializer(queryset):
    """Everything CaseSerializer renders, in a fixed number of queries."""
    related = Case.objects.only("id", "title", "slug", "status").order_by("id")
    return queryset.with_related_data().prefetch_related(Prefetch("related", queryset=related))


def absolute_case_url(case, request=None):
    path = case.get_absolute_url()
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.SITE_URL.rstrip("/") + path


def case_url_maker(request=None):
    """A function (pk, slug) -> absolute_case_url(case, request), for a page of cases.

    reverse() and build_absolute_uri() once, then string formatting: together they were a
    tenth of the time of an API list page.
    """
    example = absolute_case_url(Case(pk=1, slug="s"), request)
    if not example.endswith("/1/s/"):  # a URLconf that spells case URLs otherwise
        return lambda pk, slug: absolute_case_url(Case(pk=pk, slug=slug), request)
    prefix = example[: -len("1/s/")]
    return lambda pk, slug: f"{prefix}{pk}/{slug}/"


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
    # Use prefetch_for_case_serializer() on the queryset, or represent_cases() for a list.

    url = serializers.SerializerMethodField()
    issue = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    languages = LanguageSerializer(many=True, read_only=True)
    countries = CountrySerializer(many=True, read_only=True)
    keywords = KeywordSerializer(many=True, read_only=True)
    appearances = AppearanceSerializer(many=True, read_only=True)
    related = serializers.SerializerMethodField()
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
        ]
        read_only_fields = fields

    def to_representation(self, instance, nested=None):
        """The case; `nested`, from represent_cases(), holds its related values ready made."""
        if nested is None:
            data = super().to_representation(instance)
        else:
            data = self.with_nested_values(instance, nested)
        if not self.context.get("include_drafts", False):
            del data["status"]
        return data

    def with_nested_values(self, case, nested):
        """What super().to_representation() returns, with the nested fields from `nested`."""
        languages, countries, keywords, appearances, related = nested
        url = self.context.get("case_url") or case_url_maker(self.context.get("request"))
        values = {
            "url": url(case.pk, case.slug),
            "languages": languages or [],
            "countries": countries or [],
            "keywords": keywords or [],
            "appearances": appearances or [],
            "related": [
                {"id": pk, "title": title, "url": url(pk, slug)}
                for pk, title, slug in related or []
            ],
        }
        data = {}
        for field, column in self._own_fields():
            if field.field_name in values:
                data[field.field_name] = values[field.field_name]
            elif column is not None:
                data[field.field_name] = getattr(case, column)
            else:
                try:
                    attribute = field.get_attribute(case)
                except SkipField:
                    continue
                data[field.field_name] = (
                    None if attribute is None else field.to_representation(attribute)
                )
        return data

    # Fields whose representation is the model attribute itself: a string, a whole number,
    # a choice's value.
    VERBATIM_FIELDS = (serializers.CharField, serializers.IntegerField, serializers.ChoiceField)

    def _own_fields(self):
        """[(field, the attribute to copy as it is, or None)] of the readable fields, kept."""
        own = getattr(self, "_own_fields_cache", None)
        if own is None:
            attributes = {field.attname for field in Case._meta.concrete_fields}
            own = self._own_fields_cache = [
                (
                    field,
                    field.source
                    if type(field) in self.VERBATIM_FIELDS and field.source in attributes
                    else None,
                )
                for field in self._readable_fields
            ]
        return own

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


# Building a CaseSerializer's fields (ModelSerializer.get_fields(), for it and its nested
# serializers) took a third of the time of an API case: each thread keeps one serializer.
_serializers = threading.local()


def case_serializer(context):
    """A CaseSerializer with the given context, to call to_representation(case) on.

    Its fields are built once per thread; only the context changes from call to call.
    """
    serializer = getattr(_serializers, "case", None)
    if serializer is None:
        serializer = _serializers.case = CaseSerializer(context=context)
    serializer._context = context
    return serializer


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


def _json_object(serializer_class, alias):
    """json_build_object() of the serializer's fields, from the columns of the same names."""
    pairs = ", ".join(f"'{name}', {alias}.{name}" for name in serializer_class.Meta.fields)
    return f"json_build_object({pairs})"


def _appearance_json_object():
    outlet = f"CASE WHEN o.id IS NULL THEN NULL ELSE {_json_object(OutletSerializer, 'o')} END"
    pairs = ", ".join(
        f"'{name}', {outlet if name == 'outlet' else f'a.{name}'}"
        for name in AppearanceSerializer.Meta.fields
    )
    return f"json_build_object({pairs})"


# The nested fields of many cases, one row per case: their languages, countries, keywords
# and appearances as JSON shaped like their serializers' output, in the order prefetching
# gives them, and their related cases as [id, title, slug] (URLs are built in Python).
NESTED_VALUES_SQL = f"""
WITH page AS MATERIALIZED (
    SELECT id FROM unnest(%(ids)s::bigint[]) AS page(id)
), languages AS (
    SELECT cl.case_id, json_agg({_json_object(LanguageSerializer, "l")} ORDER BY l.name) AS list
    FROM cases_case_languages cl JOIN cases_language l ON l.id = cl.language_id
    WHERE cl.case_id IN (SELECT id FROM page) GROUP BY cl.case_id
), countries AS (
    SELECT cc.case_id, json_agg({_json_object(CountrySerializer, "x")} ORDER BY x.name) AS list
    FROM cases_case_countries cc JOIN cases_country x ON x.id = cc.country_id
    WHERE cc.case_id IN (SELECT id FROM page) GROUP BY cc.case_id
), keywords AS (
    SELECT ck.case_id, json_agg({_json_object(KeywordSerializer, "k")} ORDER BY k.name) AS list
    FROM cases_case_keywords ck JOIN cases_keyword k ON k.id = ck.keyword_id
    WHERE ck.case_id IN (SELECT id FROM page) GROUP BY ck.case_id
), appearances AS (
    SELECT a.case_id, json_agg({_appearance_json_object()} ORDER BY a.id) AS list
    FROM cases_appearance a LEFT JOIN cases_outlet o ON o.id = a.outlet_id
    WHERE a.case_id IN (SELECT id FROM page) GROUP BY a.case_id
), related AS (
    SELECT cr.from_case_id AS case_id,
        json_agg(json_build_array(r.id, r.title, r.slug) ORDER BY r.id) AS list
    FROM cases_case_related cr JOIN cases_case r ON r.id = cr.to_case_id
    WHERE cr.from_case_id IN (SELECT id FROM page)
        AND (%(include_drafts)s OR r.status = 'published')
    GROUP BY cr.from_case_id
)
SELECT page.id, json_build_array(
    languages.list, countries.list, keywords.list, appearances.list, related.list
)::text
FROM page
LEFT JOIN languages ON languages.case_id = page.id
LEFT JOIN countries ON countries.case_id = page.id
LEFT JOIN keywords ON keywords.case_id = page.id
LEFT JOIN appearances ON appearances.case_id = page.id
LEFT JOIN related ON related.case_id = page.id
"""


def represent_cases(cases, context):
    """[CaseSerializer(case, context=context).data for case in cases], in one query.

    The cases need their own columns and their issue (select_related). Their languages,
    countries, keywords, appearances and related cases come from NESTED_VALUES_SQL for all
    of them at once: prefetching them as model instances and passing those through nested
    serializers took most of the time of a page of the API list.
    """
    if not cases:
        return []
    params = {
        "ids": [case.pk for case in cases],
        "include_drafts": context.get("include_drafts", False),
    }
    with connection.cursor() as cursor:
        # Prepared: planning this statement took longer than running it.
        prepared.execute(cursor, "nested_case_values", NESTED_VALUES_SQL, params)
        nested = {pk: json.loads(values) for pk, values in cursor.fetchall()}
    serializer = case_serializer({**context, "case_url": case_url_maker(context.get("request"))})
    return [serializer.to_representation(case, nested[case.pk]) for case in cases]


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

    class Meta:
        model = Case
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
        ]

    def validate_title(self, value):
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
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

    def save_case(self, case):
        """Write the case and everything linked to it; the caller holds a transaction."""
        data = dict(self.validated_data)
        links = {name: data.pop(name) for name in self.LINKS if name in data}
        appearances = data.pop("appearances", None)
        for name, value in data.items():
            setattr(case, name, value)
        case.save()
        for name, values in links.items():
            getattr(case, name).set(values)
        if appearances is not None:
            case.appearances.all().delete()
            Appearance.objects.bulk_create(
                Appearance(case=case, **appearance) for appearance in appearances
            )
        # Links and appearances are part of the case: a syncing partner must see them change.
        case.touch()
        update_search_vectors([case.pk])
        return case

    LINKS = ["languages", "countries", "keywords", "related"]
