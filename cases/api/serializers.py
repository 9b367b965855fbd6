"""The API's read representation of cases and taxonomy values.

JSON exports use the same CaseSerializer, and import_cases reads it back.
"""

import functools
import json

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Prefetch
from django.urls import get_script_prefix
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from cases import workflow
from cases.freshness.dataversion import execute_with_version, with_version
from cases.models import Appearance, Case, Country, Issue, Keyword, Language, Outlet
from cases.readmodels import prepared
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
    """The path every case URL starts with, under this script prefix: "/cases/"."""
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


def _utc_timestamp(column):
    """A timestamptz as DRF writes it with TIME_ZONE = "UTC": ISO 8601, microseconds only
    when there are any, and Z for the zone."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN extract(microseconds FROM "
        f"{column})::bigint %% 1000000 = 0 THEN '' ELSE to_char({utc}, '.US') END || 'Z'"
    )


def _case_url(alias):
    """A case's absolute URL, as absolute_case_url() writes it, from case_url_prefix()."""
    return f"%(url_prefix)s::text || {alias}.id || '/' || {alias}.slug || '/'"


def _case_field_sql(include_drafts):
    """What each CaseSerializer field is made of, in SQL; `c` is the case."""
    visible = "true" if include_drafts else "r.status = 'published'"
    related = ", ".join(
        f"'{name}', {_case_url('r') if name == 'url' else f'r.{name}'}"
        for name in RelatedCaseSerializer().fields
    )
    return {
        "id": "c.id",
        "url": _case_url("c"),
        "status": "c.status",
        "title": "c.title",
        "summary": "c.summary",
        "disproof": "c.disproof",
        "date": "c.date",
        "issue": "(SELECT i.number FROM cases_issue i WHERE i.id = c.issue_id)",
        # Labels are looked up by id (= ANY(ARRAY(...))): joined, the planner hashed the
        # whole keyword table for every case.
        "languages": f"""(SELECT json_agg({_json_object(LanguageSerializer, "l")} ORDER BY l.name)
            FROM cases_language l WHERE l.id = ANY(ARRAY(
                SELECT x.language_id FROM cases_case_languages x WHERE x.case_id = c.id)))""",
        "countries": f"""(SELECT json_agg({_json_object(CountrySerializer, "n")} ORDER BY n.name)
            FROM cases_country n WHERE n.id = ANY(ARRAY(
                SELECT x.country_id FROM cases_case_countries x WHERE x.case_id = c.id)))""",
        "keywords": f"""(SELECT json_agg({_json_object(KeywordSerializer, "k")} ORDER BY k.name)
            FROM cases_keyword k WHERE k.id = ANY(ARRAY(
                SELECT x.keyword_id FROM cases_case_keywords x WHERE x.case_id = c.id)))""",
        "appearances": f"""(SELECT json_agg({_appearance_json_object()} ORDER BY a.id)
            FROM cases_appearance a LEFT JOIN cases_outlet o ON o.id = a.outlet_id
            WHERE a.case_id = c.id)""",
        "related": f"""(SELECT json_agg(json_build_object({related}) ORDER BY r.id)
            FROM cases_case_related x JOIN cases_case r ON r.id = x.to_case_id
            WHERE x.from_case_id = c.id AND {visible})""",
        "created_at": _utc_timestamp("c.created_at"),
        "updated_at": _utc_timestamp("c.updated_at"),
    }


LIST_FIELDS = ("languages", "countries", "keywords", "appearances", "related")


def _case_json_sql(include_drafts):
    """The JSON object CaseSerializer makes of the case `c`, as SQL. The public sees
    published cases only, without status."""
    field_sql = _case_field_sql(include_drafts)
    names = [n for n in CaseSerializer.Meta.fields if include_drafts or n != "status"]
    pairs = ", ".join(
        f"'{name}', "
        + (f"coalesce({field_sql[name]}, '[]')" if name in LIST_FIELDS else field_sql[name])
        for name in names
    )
    return f"json_build_object({pairs})::text"


def _cases_json_sql(include_drafts):
    """Many cases as CaseSerializer represents them, in the order of their ids, each a JSON
    object written by PostgreSQL."""
    return f"""
SELECT c.id, c.version, c.updated_at, {_case_json_sql(include_drafts)}
FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS page(id, position)
JOIN cases_case c ON c.id = page.id
WHERE {"true" if include_drafts else "c.status = 'published'"}
ORDER BY page.position
"""


CASES_JSON_SQL = {False: _cases_json_sql(False), True: _cases_json_sql(True)}
# One published case, with the data version (cases.freshness.dataversion.with_version()).
PUBLIC_CASE_JSON_SQL = with_version(CASES_JSON_SQL[False])


def _newest_page_sql(after_key):
    """A page of the public list in its default order (newest first), with each case's
    JSON: `size` cases and the date and id of one more, which says there is a next page.

    From the start, or after the dated case (%(date)s, %(id)s), going on through dated
    cases only; the page served by case_published_date_idx as the list's own is.
    """
    after = "AND date <= %(date)s AND (date < %(date)s OR id < %(id)s)" if after_key else ""
    order = "date DESC NULLS LAST, id DESC"
    # The page's rows are the case rows themselves, not ids joined back to cases_case: a
    # prepared statement's plan does not know the page's size and would hash the table.
    return f"""
SELECT c.id, c.date, CASE WHEN c.position <= %(size)s THEN {_case_json_sql(False)} END
FROM (
    SELECT *, row_number() OVER (ORDER BY {order}) AS position
    FROM (
        SELECT * FROM cases_case WHERE status = 'published' {after}
        ORDER BY {order} LIMIT %(size)s + 1
    ) AS newest
) AS c
ORDER BY c.position
"""


NEWEST_PAGE_SQL = {False: _newest_page_sql(False), True: _newest_page_sql(True)}


def newest_cases_page(size, after=None, request=None):
    """[(id, date, JSON text)] of the public list's page in its default order, as
    case_representations() writes each case; one more row (with no JSON) when a next page
    follows. `after` is the (date, id) of a dated case the page starts after.

    One prepared statement reads the page and writes its cases: what a partner walking
    the whole list asks for, page after page.
    """
    params = {"size": size, "url_prefix": case_url_prefix(request)}
    if after is not None:
        params["date"], params["id"] = after
    name = "newest_page_after" if after is not None else "newest_page"
    with connection.cursor() as cursor:
        prepared.execute(cursor, name, NEWEST_PAGE_SQL[after is not None], params)
        return cursor.fetchall()


def represent_cases(cases, context):
    """[CaseSerializer(case, context=context).data for case in cases], in one query.

    `cases` are cases or their ids. Without include_drafts in the context, drafts are
    left out.
    """
    return [json.loads(text) for _, _, _, text in case_representations(cases, context)]


def case_representations(cases, context):
    """[(id, version, updated_at, JSON text)] of the cases, as represent_cases() but as text.

    PostgreSQL writes each case's representation, URLs and all (CASES_JSON_SQL, a prepared
    statement). Reading the cases as model instances and passing them through the
    serializer and its nested serializers took most of the time of an API list page, and
    of an API case; so did reading its JSON back into Python to add the URLs and writing
    it out again.
    """
    ids = [getattr(case, "pk", case) for case in cases]
    if not ids:
        return []
    include_drafts = bool(context.get("include_drafts", False))
    params = {"ids": ids, "url_prefix": case_url_prefix(context.get("request"))}
    name = "cases_json_editor" if include_drafts else "cases_json"
    with connection.cursor() as cursor:
        prepared.execute(cursor, name, CASES_JSON_SQL[include_drafts], params)
        return cursor.fetchall()


def public_case_representation(pk, request):
    """(id, version, updated_at, JSON text) of a published case, or None.

    As case_representations() for the public, in the same statement as the data version:
    a case the page cache has not kept yet costs one round trip.
    """
    if pk is None:
        return None
    params = {"ids": [pk], "url_prefix": case_url_prefix(request)}
    with connection.cursor() as cursor:
        rows = execute_with_version(cursor, "case_json", PUBLIC_CASE_JSON_SQL, params)
    return rows[0] if rows else None


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

    def save_case(self, case, user, reason):
        """Write the case and everything linked to it through the write path."""
        data = dict(self.validated_data)
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
        return editing.save_case(case, user=user, reason=reason, appearances=appearances, **data)

    LINKS = ["languages", "countries", "keywords", "related"]
