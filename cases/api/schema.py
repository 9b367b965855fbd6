"""OpenAPI documentation of the API's parameters and answers (drf-spectacular).

Every parameter of the filter contract (cases.filters.CaseFilter) is described here once,
with its type and an example, for the case list, its CSV and JSON-LD forms, and the facets.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from cases.filters import ORDERINGS


def query(name, type_, description, example, many=False, minimum=None, **kwargs):
    if minimum is not None:
        type_ = {"type": "integer", "minimum": minimum}
    return OpenApiParameter(
        name,
        type_,
        OpenApiParameter.QUERY,
        description=description,
        many=many,
        explode=True if many else None,
        examples=[OpenApiExample(f"{name} example", value=example)],
        **kwargs,
    )


def slug_list(name, what, example, where):
    return query(
        name,
        OpenApiTypes.STR,
        f"{what}: repeat the parameter for several ({where}). Several values of one "
        "parameter match cases with any of them; different parameters must all match. "
        "An unknown value is a 400 naming the parameter.",
        [example],
        many=True,
    )


CASE_FILTER_PARAMETERS = [
    query(
        "q",
        OpenApiTypes.STR,
        'Full-text search in websearch syntax: "exact phrase", -exclude, or.',
        "NATO -Ukraine",
    ),
    slug_list("keyword", "Keyword slug", "nato", "slugs as in /api/v1/keywords/"),
    slug_list("country", "Country or region slug", "ukraine", "slugs as in /api/v1/countries/"),
    slug_list("language", "Language code", "ru", "codes as in /api/v1/languages/"),
    slug_list("outlet", "Outlet slug", "sputnik", "slugs as in /api/v1/outlets/"),
    query(
        "year",
        OpenApiTypes.INT,
        "Year the claim was published (1900–2100); repeat for several (any of them).",
        [2022],
        many=True,
    ),
    query("issue", OpenApiTypes.INT, "Number of the weekly review issue.", 270, minimum=1),
    query(
        "date_after",
        OpenApiTypes.DATE,
        "Claims published on or after this date (YYYY-MM-DD).",
        "2022-01-01",
    ),
    query(
        "date_before",
        OpenApiTypes.DATE,
        "Claims published on or before this date (YYYY-MM-DD).",
        "2022-12-31",
    ),
    query(
        "updated_since",
        OpenApiTypes.DATETIME,
        "Cases changed at or after this time (ISO 8601), for incremental sync. The answer "
        "then also holds tombstones, {id, status: withdrawn, updated_at}, for cases deleted "
        "or unpublished since then.",
        "2024-05-01T00:00:00Z",
    ),
    query(
        "appearance_url",
        OpenApiTypes.STR,
        "Cases whose claim appeared at this URL: has it been debunked? Compared without "
        "scheme, `www.`, trailing slash, fragment or tracking parameters (utm_*, fbclid, "
        "gclid); an archived copy (web.archive.org, archive.ph) counts as the URL it "
        "archives, and an appearance's archived copy counts too.",
        "https://www.example.com/news/2022/03/nato-claim/?utm_source=x",
    ),
    query(
        "appearance_domain",
        OpenApiTypes.STR,
        "Cases whose claim appeared on this domain or one of its subdomains "
        "(`example.com` matches `news.example.com`, not `notexample.com`).",
        "example.com",
    ),
    query(
        "ordering",
        OpenApiTypes.STR,
        "Sort order: "
        + "; ".join(f"`{key}` {label.lower()}" for key, label in ORDERINGS.items())
        + ". Default `-date`, or `relevance` with `q`. Ties are broken by id.",
        "-date",
        enum=list(ORDERINGS),
    ),
]

FORMAT_PARAMETER = query(
    "format",
    OpenApiTypes.STR,
    "json (default), csv (the site export's columns; a list streams every matching case, "
    "unpaginated), or jsonld (schema.org ClaimReview; also chosen by "
    "`Accept: application/ld+json`).",
    "csv",
    enum=["json", "csv", "jsonld"],
)

FACET_LIMIT_PARAMETER = query(
    "limit",
    OpenApiTypes.INT,
    "Most common values to return per facet (default: all).",
    10,
    minimum=1,
)


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True, help_text="The parameter or field at fault; null for the whole request."
    )
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status code again.")
    errors = FieldErrorSerializer(many=True)


def error(status, description):
    """An error answer: always JSON, whatever format was asked for."""
    return {(status, "application/json"): OpenApiResponse(ErrorSerializer, description=description)}


READ_ERRORS = {
    **error(400, "A parameter is invalid; `field` names it."),
    **error(429, "Too many anonymous requests; retry after the Retry-After header's seconds."),
}
DETAIL_ERRORS = {
    **error(404, "No such case, or not visible to you."),
    **error(410, "The case was withdrawn; the message says when and why."),
    **READ_ERRORS,
}
WRITE_ERRORS = {
    **error(400, "A field is invalid; `field` names it. Nothing was written."),
    **error(401, "No credentials: send `Authorization: Token <key>`."),
    **error(403, "Not allowed (model permissions, or the status change needs more)."),
    **error(404, "No such case."),
    **error(429, "Too many requests."),
}
STALE_WRITE = error(412, "If-Match names an older version of the case. Nothing was written.")


class ConflictingFieldSerializer(serializers.Serializer):
    """One field both you and a newer version changed, each value as you would write it
    (issue number, slugs, language codes, case ids, appearances with outlet slugs)."""

    base = serializers.JSONField(
        allow_null=True,
        help_text="Its value in the version you started from (base_version); null if unknown.",
    )
    current = serializers.JSONField(allow_null=True, help_text="Its value in the case now.")
    yours = serializers.JSONField(allow_null=True, help_text="The value you sent.")


class EditConflictSerializer(ErrorSerializer):
    detail = serializers.CharField()
    current_version = serializers.IntegerField(
        help_text="The case's version now: send it as base_version once you have decided."
    )
    conflicts = serializers.DictField(
        child=ConflictingFieldSerializer(), help_text="By field name, as the API names it."
    )


EDIT_CONFLICT = {
    (409, "application/json"): OpenApiResponse(
        EditConflictSerializer,
        description=(
            "The case changed since `base_version`, and the newer version changed some of "
            "the fields you changed, differently: `conflicts` lists them. Nothing was written."
        ),
    )
}


class PendingRevisionSerializer(serializers.Serializer):
    """A change of a published case that waits for a publisher."""

    id = serializers.IntegerField()
    case = serializers.IntegerField(help_text="The case's id.")
    status = serializers.CharField(
        help_text="`pending`: a publisher has yet to approve or reject it."
    )
    base_version = serializers.IntegerField(help_text="The live version it was made on.")
    fields = serializers.ListField(
        child=serializers.CharField(), help_text="The fields it changes."
    )
    changes = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        help_text="The proposed value of each field, as you would write it.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class RevisionProposedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    revision = PendingRevisionSerializer()


PROPOSED = {
    (202, "application/json"): OpenApiResponse(
        RevisionProposedSerializer,
        description=(
            "The case is published and you may not publish: your change is a revision "
            "waiting for a publisher's review, and the live case is unchanged. Your later "
            "changes to the case extend the same revision."
        ),
    )
}


# A list item is a Case or a Tombstone. The tombstone's schema is closed (no other
# properties), so that a full case never passes for one.
TOMBSTONE_SCHEMA = {
    "type": "object",
    "description": "A case deleted or unpublished since `updated_since`: delete your copy.",
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": ["withdrawn"]},
        "updated_at": {
            "type": "string",
            "format": "date-time",
            "description": "When it was deleted or unpublished.",
        },
    },
    "required": ["id", "status", "updated_at"],
    "additionalProperties": False,
}
CASE_LIST_ITEM = {
    "anyOf": [
        {"$ref": "#/components/schemas/Case"},
        {"$ref": "#/components/schemas/Tombstone"},
    ]
}


def add_tombstone_component(result, generator, request, public):
    """Postprocessing hook: the Tombstone schema that CASE_LIST_ITEM refers to."""
    result.setdefault("components", {}).setdefault("schemas", {})["Tombstone"] = TOMBSTONE_SCHEMA
    return result
