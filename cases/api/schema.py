"""OpenAPI documentation of the API's parameters and answers (drf-spectacular).

Every parameter of the filter contract (cases.filters.CaseFilter) is described here once,
with its type and an example, for the case list, its CSV and JSON-LD forms, and the facets.
Each example is valid against the seed data (fixtures/seed_cases.txt): a partner trying one
gets cases back.

AutoSchema adds what every operation shares: reads that need no credentials, the caching
headers, conditional requests and their 304, If-Match on writes, Retry-After on a 429.
Generated clients pick one media type per answer, so the case list and a case have one
operation per format: /cases/{id}/ (JSON), /cases/{id}.jsonld and /cases/{id}.csv
(add_format_operations()); DRF's format suffixes answer them.
"""

import copy

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissionsOrAnonReadOnly

from cases.api.permissions import TokenScopeAllows
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
        examples=[] if example is None else [OpenApiExample(f"{name} example", value=example)],
        **kwargs,
    )


def slug_list(name, what, example, where):
    return query(
        name,
        OpenApiTypes.STR,
        f"{what}: repeat the parameter for several ({where}). Several values of one "
        "parameter match cases with any of them; different parameters must all match. "
        "An unknown value is a 400 naming the parameter.",
        None if example is None else [example],
        many=True,
    )


CASE_FILTER_PARAMETERS = [
    query(
        "q",
        OpenApiTypes.STR,
        'Full-text search in websearch syntax: "exact phrase", -exclude, or.',
        "Kazakhstan -Lithuania",
    ),
    slug_list("keyword", "Keyword slug", "mi6", "slugs as in /api/v1/keywords/"),
    slug_list("country", "Country or region slug", "kazakhstan", "slugs as in /api/v1/countries/"),
    slug_list("language", "Language code", "ru", "codes as in /api/v1/languages/"),
    # No example: the seed data has no outlet, and any slug not in the database is a 400.
    slug_list("outlet", "Outlet slug", None, "slugs as in /api/v1/outlets/"),
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
    "json, the default and this operation's format. The same URL also answers "
    "`?format=csv` (the site export's columns; a list streams every matching case, "
    "unpaginated) and `?format=jsonld` (schema.org ClaimReview; also chosen by "
    "`Accept: application/ld+json`): each has its own operation, at the URL with the "
    "suffix `.csv` or `.jsonld`, whose answer a client can type.",
    "json",
    enum=["json"],
)

CASE_ID_PARAMETER = OpenApiParameter(
    "id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description="The case's id."
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


# --- schema.org ClaimReview, the JSON-LD format ------------------------------------------

ORGANIZATION_SCHEMA = {
    "type": "object",
    "properties": {
        "@type": {"type": "string", "enum": ["Organization"]},
        "name": {"type": "string"},
        "url": {"type": "string"},
    },
    "required": ["@type", "name"],
}
CREATIVE_WORK_SCHEMA = {
    "type": "object",
    "description": "Where the claim appeared.",
    "properties": {
        "@type": {"type": "string", "enum": ["CreativeWork"]},
        "url": {"type": "string"},
        "archivedAt": {"type": "string", "description": "An archived copy."},
        "publisher": {"$ref": "#/components/schemas/Organization"},
    },
    "required": ["@type"],
}


def one_or_many(schema):
    return {"oneOf": [schema, {"type": "array", "items": schema, "minItems": 2}]}


CLAIM_SCHEMA = {
    "type": "object",
    "description": "The claim reviewed. A member without a value is left out.",
    "properties": {
        "@type": {"type": "string", "enum": ["Claim"]},
        "name": {"type": "string"},
        "author": {
            **one_or_many({"$ref": "#/components/schemas/Organization"}),
            "description": "The outlets it appeared in.",
        },
        "datePublished": {"type": "string", "format": "date"},
        "inLanguage": {
            **one_or_many({"type": "string"}),
            "description": "The language codes of its articles.",
        },
        "appearance": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/CreativeWork"},
            "minItems": 1,
        },
        "firstAppearance": {"$ref": "#/components/schemas/CreativeWork"},
    },
    "required": ["@type", "name"],
}
CLAIM_REVIEW_SCHEMA = {
    "type": "object",
    "description": (
        "A case as schema.org ClaimReview, with the fields of Google's fact-check guidelines. "
        "A list's items carry no @context: the list's applies."
    ),
    "properties": {
        "@context": {"type": "string", "enum": ["https://schema.org"]},
        "@type": {"type": "string", "enum": ["ClaimReview"]},
        "@id": {"type": "string", "description": "The case's page."},
        "url": {"type": "string", "description": "The case's page."},
        "claimReviewed": {"type": "string"},
        "itemReviewed": {"$ref": "#/components/schemas/Claim"},
        "author": {"$ref": "#/components/schemas/Organization"},
        "reviewRating": {
            "type": "object",
            "properties": {
                "@type": {"type": "string", "enum": ["Rating"]},
                "ratingValue": {"type": "integer"},
                "bestRating": {"type": "integer"},
                "worstRating": {"type": "integer"},
                "alternateName": {"type": "string", "enum": ["Disinformation"]},
            },
            "required": ["@type", "ratingValue", "bestRating", "worstRating", "alternateName"],
        },
        "inLanguage": {"type": "string"},
        "datePublished": {"type": "string", "format": "date"},
        "dateModified": {"type": "string", "format": "date-time"},
        "keywords": {"type": "string"},
    },
    "required": [
        "@type",
        "@id",
        "url",
        "claimReviewed",
        "itemReviewed",
        "author",
        "reviewRating",
        "datePublished",
        "dateModified",
    ],
}
CLAIM_REVIEW_LIST_SCHEMA = {
    "type": "object",
    "description": (
        "A page of cases as a JSON-LD document: its @graph holds one ClaimReview per case. "
        "The page's own members are mapped to null in the inlined @context, so JSON-LD "
        "processors leave them out; next and previous are also in the Link header."
    ),
    "properties": {
        "@context": {"type": "object", "additionalProperties": True},
        "@graph": {
            "type": "array",
            "items": {
                "anyOf": [
                    {"$ref": "#/components/schemas/ClaimReview"},
                    {"$ref": "#/components/schemas/Tombstone"},
                ]
            },
        },
        "count": {"type": "integer"},
        "approximate": {"type": "boolean"},
        "next": {"type": "string", "nullable": True},
        "previous": {"type": "string", "nullable": True},
    },
    "required": ["@context", "@graph", "count", "approximate", "next", "previous"],
}
CLAIM_REVIEW_COMPONENTS = {
    "Organization": ORGANIZATION_SCHEMA,
    "CreativeWork": CREATIVE_WORK_SCHEMA,
    "Claim": CLAIM_SCHEMA,
    "ClaimReview": CLAIM_REVIEW_SCHEMA,
    "ClaimReviewList": CLAIM_REVIEW_LIST_SCHEMA,
}
CLAIM_REVIEW = {"$ref": "#/components/schemas/ClaimReview"}
CLAIM_REVIEW_LIST = {"$ref": "#/components/schemas/ClaimReviewList"}


# --- HTTP: credentials, caching headers, conditional requests ----------------------------

# Reads need no credentials; a token or a session shows an editor's view (drafts too).
OPTIONAL_CREDENTIALS = [{}, {"tokenAuth": []}, {"cookieAuth": []}]


def header(description, type_="string", **schema):
    return {"description": description, "schema": {"type": type_, **schema}}


ETAG = header(
    "The answer's version: send it back in If-None-Match (a read) or If-Match (a write). "
    'On a case it starts with its version, `"v<version>-`.'
)
LAST_MODIFIED = header(
    "When what the answer shows last changed (HTTP date), where known: send it back in "
    "If-Modified-Since."
)
RETRY_AFTER = header("Seconds to wait before asking again.", "integer", minimum=0)
LOCATION = header("The new case's URL.", format="uri")
LINK = header('The next and previous pages: `<url>; rel="next"`, `<url>; rel="prev"`.')


def header_parameter(name, description):
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


CONDITIONAL_READ_PARAMETERS = [
    header_parameter(
        "If-None-Match",
        "ETags of copies you hold: if the answer's ETag is one of them, 304 with no body.",
    ),
    header_parameter(
        "If-Modified-Since",
        "The Last-Modified of your copy: 304 with no body if nothing changed since "
        "(If-None-Match wins when both are sent).",
    ),
]
IF_MATCH_PARAMETER = header_parameter(
    "If-Match",
    "The ETag of the case as you read it: if the case changed since, 412 and nothing is written.",
)
NOT_MODIFIED = {
    "description": "Your copy is current (If-None-Match or If-Modified-Since): no body.",
    "headers": {"ETag": ETAG, "Last-Modified": LAST_MODIFIED},
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, with what every operation of this API shares."""

    def reads_anonymously(self):
        permissions = self.view.get_permissions()
        # A token's scope only ever limits writes.
        readable = (DjangoModelPermissionsOrAnonReadOnly, TokenScopeAllows)
        return self.method in SAFE_METHODS and all(isinstance(p, readable) for p in permissions)

    def get_auth(self):
        auths = super().get_auth()
        # Answered without credentials: the operation takes the document's optional
        # security (OPTIONAL_CREDENTIALS). Written on the operation instead, `{}` makes
        # generated clients (openapi-python-client) demand an authenticated client.
        if {} in auths or self.reads_anonymously():
            return []
        return auths

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        from cases.api.views import ConditionalGetMixin  # views.py imports this module

        conditional = isinstance(self.view, ConditionalGetMixin)
        responses = operation["responses"]
        for code, response in responses.items():
            headers = response.setdefault("headers", {})
            if code == "429":
                headers["Retry-After"] = RETRY_AFTER
            if code == "201":
                headers["Location"] = LOCATION
            if conditional and code in ("200", "201"):
                headers["ETag"] = ETAG
                headers["Last-Modified"] = LAST_MODIFIED
            if not headers:
                del response["headers"]
        if conditional and self.method == "GET":
            operation.setdefault("parameters", []).extend(
                copy.deepcopy(CONDITIONAL_READ_PARAMETERS)
            )
            responses["304"] = copy.deepcopy(NOT_MODIFIED)
        if "412" in responses:
            operation.setdefault("parameters", []).append(dict(IF_MATCH_PARAMETER))
        return operation


# The operations with one operation per format: {JSON path: {suffix: (media type, schema)}}.
FORMAT_OPERATIONS = {
    "/api/v1/cases/": {
        "jsonld": ("application/ld+json", CLAIM_REVIEW_LIST),
        "csv": ("text/csv", {"type": "string"}),
    },
    "/api/v1/cases/{id}/": {
        "jsonld": ("application/ld+json", CLAIM_REVIEW),
        "csv": ("text/csv", {"type": "string"}),
    },
}
FORMAT_NAMES = {"jsonld": "as JSON-LD (schema.org ClaimReview)", "csv": "as CSV"}
# The CSV list is one file, not pages.
PAGE_PARAMETERS = {"cursor", "page_size"}


def add_format_operations(result, generator, request, public):
    """Postprocessing hook: the JSON-LD and CSV operations, and the document's security."""
    result["security"] = OPTIONAL_CREDENTIALS
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(copy.deepcopy(CLAIM_REVIEW_COMPONENTS))
    paths = result["paths"]
    for path, formats in FORMAT_OPERATIONS.items():
        if path not in paths:
            continue
        json_operation = paths[path]["get"]
        for suffix, (media_type, schema) in formats.items():
            operation = copy.deepcopy(json_operation)
            operation["operationId"] = f"{json_operation['operationId']}_{suffix}"
            operation["summary"] = f"{json_operation['summary']}, {FORMAT_NAMES[suffix]}"
            operation["parameters"] = [
                parameter
                for parameter in operation.get("parameters", [])
                if parameter["name"] != "format"
                and not (suffix == "csv" and parameter["name"] in PAGE_PARAMETERS)
            ]
            ok = operation["responses"]["200"]
            ok["content"] = {media_type: {"schema": schema}}
            if suffix == "jsonld" and path.endswith("/cases/"):
                ok.setdefault("headers", {})["Link"] = LINK
            paths[path.rstrip("/") + "." + suffix] = {"get": operation}
    return result
