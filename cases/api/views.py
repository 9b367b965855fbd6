import hashlib
import re

from csp.decorators import csp_update
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, parse_etags
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response

from cases import facets
from cases.api.edits import conflict_body, proposed_body
from cases.api.match import SIMILAR_LIMIT_PARAMETER, matches_body
from cases.api.pagination import CursorPagination
from cases.api.parsers import JSONParser
from cases.api.renderers import CSVRenderer, JSONLDRenderer, JSONRenderer, RawJSON
from cases.api.schema import (
    CASE_FILTER_PARAMETERS,
    CASE_ID_PARAMETER,
    CASE_LIST_ITEM,
    CLAIM_REVIEW,
    CLAIM_REVIEW_LIST,
    DETAIL_ERRORS,
    EDIT_CONFLICT,
    FACET_LIMIT_PARAMETER,
    FORMAT_PARAMETER,
    PROPOSED,
    READ_ERRORS,
    STALE_WRITE,
    WRITE_ERRORS,
    error,
)
from cases.api.serializers import (
    CaseSerializer,
    CaseWriteSerializer,
    CountedCountrySerializer,
    CountedIssueSerializer,
    CountedKeywordSerializer,
    CountedLanguageSerializer,
    CountedOutletSerializer,
    MatchesSerializer,
    TombstoneSerializer,
)
from cases.collation import human_order
from cases.facets import facet_counts
from cases.filters import (
    DEFAULT_ORDERING,
    MAX_INTEGER,
    CaseFilter,
    EditorCaseFilter,
    order_cases,
    unknown_parameter_message,
    unknown_parameters,
    whole_number,
)
from cases.freshness.dataversion import request_state
from cases.models import Case, Country, DeletedCase, Issue, Keyword, Language, Outlet
from cases.readmodels import prepared
from cases.readmodels.api_json import (
    case_representations,
    newest_cases_page,
    public_case_representation,
)
from cases.readmodels.case_page import MAX_ID, published_case_for_page
from cases.readmodels.csv import CSV_COLUMNS, sql_csv_lines
from cases.readmodels.keyset import Cursor, CursorError
from cases.search import ranked_matches, with_ids
from cases.search.match import MAX_LIMIT, SIMILAR_LIMIT, similar_published_cases
from cases.services import editing
from cases.site.claimreview import claim_review
from cases.site.corrections import withdrawal_url
from cases.site.exports import csv_row, started
from cases.site.filtered import spelling_fallback
from disinfo_db.routers import read_connection

# Either lets a user see drafts and the status field in the API.
EDITOR_PERMISSIONS = ("cases.view_case", "cases.change_case")
VERSION_IN_ETAG = re.compile(r'^(?:W/)?"v(\d+)-')
# The data version read in the same statement, so that the two agree.
LAST_CHANGE_SQL = """
SELECT (SELECT version FROM cases_dataversion WHERE id = 1), GREATEST(
    (SELECT max(updated_at) FROM cases_case),
    (SELECT max(deleted_at) FROM cases_deletedcase)
)
"""
_last_change = (None, None)  # (data version, last change), kept by each process
# The case list's parameters beside the filters; also the only ones newest_page() answers.
LIST_PARAMETERS = NEWEST_PAGE_PARAMETERS = frozenset({"page_size", "cursor", "format"})
# The facet counts' and similar cases' parameters beside the filters.
LIMIT_PARAMETERS = frozenset({"limit", "format"})


def shows_drafts(user):
    return user.is_authenticated and any(user.has_perm(p) for p in EDITOR_PERMISSIONS)


def last_change():
    """When any case last changed or was deleted: the Last-Modified of every case list.

    It can only move with the data version, so each process asks once per version, for
    the requests the page cache has read the version for.
    """
    global _last_change
    state = request_state()
    # Version 0 is an empty database's, before any write: not a version to key on.
    trusted = state is not None and not state.own_pending and state.version > 0
    kept_version, kept = _last_change
    if trusted and kept_version == state.version:
        return kept
    with read_connection().cursor() as cursor:
        prepared.execute(cursor, "last_change", LAST_CHANGE_SQL, {})
        version, when = cursor.fetchone()
    if trusted:
        _last_change = (version, when)
    return when


class Gone(APIException):
    status_code = status.HTTP_410_GONE
    default_code = "gone"


def not_public(pk):
    """The answer for a case id the public may not read: 410 with the reason for a
    withdrawn case, whose citations keep working; 404 for anything else."""
    withdrawn = Case.objects.withdrawn(pk)
    if withdrawn is None:
        return Http404()
    when = withdrawn.withdrawn_on.date().isoformat()
    return Gone(
        f"Case {pk} was withdrawn on {when}: {withdrawn.withdrawal_reason} "
        f"Corrections log: {withdrawal_url(withdrawn)}"
    )


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource changed since you read it."
    default_code = "precondition_failed"


class KnownParametersMixin:
    """A query parameter the view does not take is a 400 naming it, not ignored.

    `taken_parameters()` says what the current action takes; None when its CaseFilter checks
    them (a list's filters and its own extras). Tracking parameters (utm_*, fbclid, ...) are
    ignored (cases.filters.unknown_parameters).
    """

    query_parameters = frozenset({"format"})

    def taken_parameters(self):
        return self.query_parameters

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        taken = self.taken_parameters()
        if taken is None or request.method == "OPTIONS":
            return
        unknown = unknown_parameters(request.query_params, taken)
        if unknown:
            raise ValidationError(
                {name: [unknown_parameter_message(name, taken)] for name in unknown}
            )


class ConditionalGetMixin(KnownParametersMixin):
    """ETag and Last-Modified on every successful answer; If-None-Match gets a 304.

    The ETag is a digest of the rendered body, so it changes with anything shown,
    including other formats and what an editor sees. A view may set `self.last_modified`
    (a datetime) and `self.etag_prefix` (the case version on a case, for If-Match).
    """

    last_modified = None
    etag_prefix = ""

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force)
        except Http404 as error:
            formats = ", ".join(renderer.format for renderer in self.get_renderers())
            raise ValidationError({"format": [f"Must be one of: {formats}."]}) from error

    def finalize_response(self, request, response, *args, **kwargs):
        renderer = getattr(request, "accepted_renderer", None)
        if getattr(response, "exception", False) and getattr(renderer, "format", "") in (
            "csv",
            "jsonld",
        ):
            # One error shape for every format.
            request.accepted_renderer, request.accepted_media_type = (
                JSONRenderer(),
                "application/json",
            )
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.user.is_authenticated:
            patch_cache_control(response, private=True, no_cache=True)
        else:
            patch_cache_control(response, public=True, max_age=60)
        patch_vary_headers(response, ["Accept", "Authorization", "Cookie"])
        if not isinstance(response, Response) or not 200 <= response.status_code < 300:
            return response
        if response.status_code in (status.HTTP_202_ACCEPTED, status.HTTP_204_NO_CONTENT):
            # A 202 describes a pending revision, not the case: no ETag to send back.
            return response
        response.render()
        digest = hashlib.md5(response.content, usedforsecurity=False).hexdigest()[:20]
        response["ETag"] = f'"{self.etag_prefix}{digest}"'
        timestamp = None
        if self.last_modified is not None:
            timestamp = int(self.last_modified.timestamp())
            response["Last-Modified"] = http_date(timestamp)
        if request.method not in ("GET", "HEAD"):
            return response
        return get_conditional_response(
            request, etag=response["ETag"], last_modified=timestamp, response=response
        )


UPDATE_DESCRIPTION = (
    "Two ways not to overwrite someone else's change. `If-Match` with the ETag you read: if "
    "the case changed since, 412 and nothing is written. Or `base_version` in the body: "
    "your change is merged with what changed since, and only fields both changed "
    "differently are a 409. If-Match wins when both are sent; with neither, the last write "
    "wins. A change of a published case by a user who may not publish waits for review: "
    "202, and the live case is unchanged."
)
UPDATE_RESPONSES = {
    (200, "application/json"): OpenApiResponse(
        CaseSerializer, description="The change is live: the case as it is now."
    ),
    **PROPOSED,
    **EDIT_CONFLICT,
    **STALE_WRITE,
    **WRITE_ERRORS,
}


@extend_schema_view(
    list=extend_schema(
        summary="List cases",
        description=(
            "Published cases (editors also see drafts, with `status`), filtered like the "
            "site's list, one page at a time: follow `next` until it is null. With "
            "`updated_since`, deleted and unpublished cases come as tombstones."
        ),
        parameters=[*CASE_FILTER_PARAMETERS, FORMAT_PARAMETER],
        responses={
            (200, "application/json"): CASE_LIST_ITEM,
            (200, "application/ld+json"): CLAIM_REVIEW_LIST,
            (200, "text/csv"): OpenApiTypes.STR,
            **READ_ERRORS,
        },
    ),
    retrieve=extend_schema(
        summary="One case",
        description="The ETag carries the case version: send it back in If-Match to update.",
        parameters=[CASE_ID_PARAMETER, FORMAT_PARAMETER],
        responses={
            (200, "application/json"): CaseSerializer,
            (200, "application/ld+json"): CLAIM_REVIEW,
            (200, "text/csv"): OpenApiTypes.STR,
            **DETAIL_ERRORS,
        },
    ),
    create=extend_schema(
        summary="Create a case",
        request=CaseWriteSerializer,
        responses={(201, "application/json"): CaseSerializer, **WRITE_ERRORS},
    ),
    update=extend_schema(
        summary="Replace a case's fields",
        description=UPDATE_DESCRIPTION,
        parameters=[CASE_ID_PARAMETER],
        request=CaseWriteSerializer,
        responses=UPDATE_RESPONSES,
    ),
    partial_update=extend_schema(
        summary="Change some of a case's fields",
        description=UPDATE_DESCRIPTION,
        parameters=[CASE_ID_PARAMETER],
        request=CaseWriteSerializer,
        responses=UPDATE_RESPONSES,
    ),
    destroy=extend_schema(
        summary="Delete a case",
        description="Partners syncing with updated_since see a tombstone for it.",
        parameters=[CASE_ID_PARAMETER],
        responses={
            204: None,
            **STALE_WRITE,
            **WRITE_ERRORS,
        },
    ),
)
class CaseViewSet(ConditionalGetMixin, viewsets.ModelViewSet):
    """Disinformation cases. The filters are the site's own: the same parameters select the
    same cases on every page, feed, export and API answer."""

    # The browsable API shows the docstring above to readers; the contract is cases.filters.

    serializer_class = CaseSerializer
    # list() runs CaseFilter itself (it needs the cleaned values); schema.py documents it.
    filter_backends = []
    pagination_class = CursorPagination
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, JSONLDRenderer, CSVRenderer]
    parser_classes = [JSONParser]
    lookup_value_regex = "[0-9]+"

    @property
    def editor(self):
        return shows_drafts(self.request.user)

    def taken_parameters(self):
        if self.action in ("list", "facets"):
            return None  # the CaseFilter checks them (case_filter())
        if self.action == "similar":
            return LIMIT_PARAMETERS
        return self.query_parameters

    def perform_content_negotiation(self, request, force=False):
        # CSV and JSON-LD are read formats; a write always answers with the case as JSON.
        if request.method not in SAFE_METHODS:
            return JSONRenderer(), JSONRenderer.media_type
        return super().perform_content_negotiation(request, force)

    # The statuses a list shows as cases; in a sync, other cases are tombstones. None: all
    # (an editor's list that is not a sync).
    shown_statuses = None

    def visible_cases(self, with_tombstones=False):
        """Cases this user may read; for a sync, plus the tombstones it may see.

        A sync follows one rule for everybody: the cases of the statuses asked for
        (`status`, editors only; published by default) come as cases, and the cases that
        were ever public as tombstones. An editor who asks for statuses sees every other
        case as a tombstone.
        """
        asked_statuses = self.editor and bool(self.request.query_params.getlist("status"))
        if self.editor and (not with_tombstones or asked_statuses):
            return Case.objects.all()
        if with_tombstones:
            return Case.objects.filter(
                Q(status=Case.Status.PUBLISHED) | Q(published_at__isnull=False)
            )
        return Case.objects.published()

    def with_prefetch(self, queryset):
        related = Case.objects.all() if self.editor else Case.objects.published()
        related = related.only("id", "title", "slug", "status").order_by("id")
        return queryset.with_related_data().prefetch_related(Prefetch("related", queryset=related))

    def get_queryset(self):
        return self.with_prefetch(self.visible_cases())

    def filter_queryset(self, queryset):
        # Filters apply to the list (see list()); a case's URL answers whatever the query.
        return queryset

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "include_drafts": self.editor}

    @property
    def output_format(self):
        return getattr(self.request.accepted_renderer, "format", "json")

    def case_filter(self, queryset, extras=LIST_PARAMETERS, syncing=False):
        # Editors may filter drafts by values that no published case has yet.
        filter_class = EditorCaseFilter if self.editor else CaseFilter
        params = self.request.query_params
        case_filter = filter_class(
            params,
            queryset=queryset,
            request=self.request,
            extras=extras,
            statuses_as_tombstones=syncing,
        )
        if not case_filter.is_valid():
            raise translate_validation(case_filter.errors)
        return case_filter

    def count_cases(self, case_filter):
        """(how many cases match, whether that is an estimate): the list envelope's count."""
        if not self.editor and not case_filter.form.cleaned_data.get("updated_since"):
            # Published cases only: the facet index counts them without reading them.
            return facets.estimated_count(case_filter)
        return case_filter.qs.count(), False

    def deleted_since(self, since, statuses_asked=False):
        deleted = DeletedCase.objects.filter(deleted_at__gte=since)
        if not (self.editor and statuses_asked):
            deleted = deleted.filter(was_published=True)
        return deleted.order_by("deleted_at", "case_id")

    def tombstone(self, case_id, when):
        return TombstoneSerializer(
            {"id": case_id, "status": Case.Status.WITHDRAWN, "updated_at": when}
        ).data

    def shown_as_case(self, row):
        return isinstance(row, Case) and (
            self.shown_statuses is None or row.status in self.shown_statuses
        )

    def represent(self, rows):
        """A page's rows: cases, and tombstones of those the user may no longer see."""
        cases = [row for row in rows if self.shown_as_case(row)]
        if self.output_format == "jsonld":
            shown = {
                case.pk: claim_review(case, self.request, with_context=False) for case in cases
            }
        else:
            # Each case's JSON as PostgreSQL wrote it (case_representations).
            found = case_representations(cases, self.get_serializer_context())
            shown = {pk: RawJSON(text) for pk, _, _, text in found}
        results = []
        for row in rows:
            if self.shown_as_case(row):
                # A case deleted or withdrawn between the page's two reads is left out.
                if row.pk in shown:
                    results.append(shown[row.pk])
            elif isinstance(row, DeletedCase):
                results.append(self.tombstone(row.case_id, row.deleted_at))
            else:
                results.append(self.tombstone(row.pk, row.updated_at))
        return results

    def page_queryset(self, cases):
        """What a page reads of its cases: JSON-LD reads their relations as instances; JSON
        only what paging and tombstones need, case_representations() reads the rest."""
        if self.output_format == "jsonld":
            return self.with_prefetch(cases)
        return cases.only("id", "status", "date", "updated_at")

    def list(self, request, *args, **kwargs):
        newest = self.newest_page(request)
        if newest is not None:
            return newest
        csv = self.output_format == "csv"
        syncing = bool(request.query_params.get("updated_since")) and not csv
        case_filter = self.case_filter(self.visible_cases(with_tombstones=syncing), syncing=syncing)
        self.last_modified = last_change()
        if csv:
            return self.csv_list(spelling_fallback(case_filter).qs)
        statuses = case_filter.form.cleaned_data.get("status")
        if syncing:
            self.shown_statuses = set(statuses or [Case.Status.PUBLISHED])
        elif not self.editor:
            self.shown_statuses = {Case.Status.PUBLISHED}
        count, approximate = self.count_cases(case_filter)
        corrected = case_filter.spelling_corrected(total=count)
        if corrected is not None:
            case_filter = corrected
            count, approximate = self.count_cases(case_filter)
        since = case_filter.form.cleaned_data.get("updated_since")
        deleted = self.deleted_since(since, bool(statuses)) if since is not None else None
        if deleted is not None:
            count += deleted.count()
        ordering = case_filter.active_ordering
        cases = self.page_queryset(case_filter.qs)
        query = case_filter.form.cleaned_data.get("q", "").strip()
        if ordering == "relevance" and query and not syncing:
            # Ranked as on the site: the newest matches only, when there are many.
            everyone = self.page_queryset(self.visible_cases())
            cases, _ = ranked_matches(
                case_filter, cases, everyone, query, count, index=not self.editor
            )
            cases = order_cases(cases, ordering, searching=True)
        elif self.reads_newest_by_id(request, ordering, syncing or statuses):
            # The first page, newest first: its ids from the facet index when it knows them.
            ids = facets.newest_ids(case_filter, self.paginator.get_page_size(request) + 1)
            if ids is not None:
                cases = with_ids(cases, ids)
        rows = self.paginator.paginate_cases(cases, ordering, request, deleted)
        corrected_query = corrected.corrected_query if corrected is not None else None
        if self.output_format == "jsonld":
            return self.paginator.get_graph_response(self.represent(rows), count, approximate)
        return self.paginator.get_paginated_response(
            self.represent(rows), count, approximate, corrected_query=corrected_query
        )

    def reads_newest_by_id(self, request, ordering, other_statuses):
        """Is this the public list's first page in the default order? The facet index
        knows the published cases only, and a page after a cursor starts past its newest."""
        return (
            not self.editor
            and not other_statuses
            and ordering == DEFAULT_ORDERING
            and not request.query_params.get(self.paginator.cursor_query_param)
        )

    def newest_page(self, request):
        """The public JSON list, unfiltered and in its default order, from one statement.

        What a partner walking the whole list asks for, page after page. None when the
        request asks for anything else (a filter, another order or format, an editor's
        view, a cursor this path does not read), or when the page runs out of dated cases:
        the general path answers those, and checks their parameters.
        """
        if self.editor or self.output_format != "json":
            return None
        if not set(request.query_params) <= NEWEST_PAGE_PARAMETERS:
            return None
        size = self.paginator.get_page_size(request)
        raw = request.query_params.get(self.paginator.cursor_query_param) or None
        after = None
        if raw is not None:
            try:
                cursor = Cursor.decode(raw, DEFAULT_ORDERING)
            except CursorError:
                return None
            if cursor.direction != "next" or cursor.key[0] is None:
                return None
            after = cursor.key
        self.last_modified = last_change()
        rows = newest_cases_page(size, after, request)
        if after is not None and len(rows) <= size:
            return None  # undated cases may follow the last dated one
        shown, more = rows[:size], rows[size:]

        def cursor_at(direction, row):
            pk, date, _ = row
            return Cursor(DEFAULT_ORDERING, direction, (date, pk)).encode()

        paginator = self.paginator
        paginator.request = request
        paginator.next_cursor = cursor_at("next", shown[-1]) if more else None
        paginator.previous_cursor = cursor_at("prev", shown[0]) if after and shown else None
        results = [RawJSON(text) for _, _, text in shown]
        return paginator.get_paginated_response(results, facets.published_count(), False)

    def csv_list(self, queryset):
        """Every matching case as CSV, streamed in chunks: exports are not paginated."""
        variant = f"{self.request.get_full_path()}|{self.editor}|{self.last_modified}"
        etag = f'W/"{hashlib.md5(variant.encode(), usedforsecurity=False).hexdigest()}"'
        timestamp = int(self.last_modified.timestamp()) if self.last_modified else None
        not_modified = get_conditional_response(self.request, etag=etag, last_modified=timestamp)
        if not_modified is not None:
            return not_modified
        response = StreamingHttpResponse(
            started(sql_csv_lines(queryset, include_drafts=self.editor, request=self.request)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="cases.csv"'
        response["ETag"] = etag
        if timestamp is not None:
            response["Last-Modified"] = http_date(timestamp)
        return response

    def retrieve(self, request, *args, **kwargs):
        if self.editor:
            case = self.get_object()
        elif self.output_format == "json":
            return self.public_json(request)
        else:
            # The public sees published cases only: the case page's one-query read.
            case = published_case_for_page(self.requested_pk())
            if case is None:
                raise not_public(self.requested_pk())
            self.check_object_permissions(request, case)
        self.last_modified = case.updated_at
        self.etag_prefix = f"v{case.version}-"
        if self.output_format == "csv":
            row = csv_row(case, include_drafts=self.editor, request=request)
            return Response([CSV_COLUMNS, row])
        if self.output_format == "jsonld":
            return Response(claim_review(case, request))
        return Response(self.get_serializer(case).data)

    def requested_pk(self):
        """The case id in the URL, or None when it cannot name a case."""
        return whole_number(str(self.kwargs[self.lookup_url_kwarg or self.lookup_field]), 1, MAX_ID)

    def public_json(self, request):
        """A published case as JSON, written by PostgreSQL (case_representations)."""
        pk = self.requested_pk()
        found = public_case_representation(pk, request)
        if found is None:
            raise not_public(pk)
        _, version, updated_at, text = found
        self.check_object_permissions(request, Case(pk=pk))
        self.last_modified = updated_at
        self.etag_prefix = f"v{version}-"
        return Response(RawJSON(text))

    def written(self, case, status_code=status.HTTP_200_OK):
        case = self.with_prefetch(Case.objects.all()).get(pk=case.pk)
        self.last_modified = case.updated_at
        self.etag_prefix = f"v{case.version}-"
        context = {**self.get_serializer_context(), "include_drafts": True}
        headers = {}
        if status_code == status.HTTP_201_CREATED:
            headers["Location"] = self.request.build_absolute_uri(f"{case.pk}/")
        return Response(CaseSerializer(case, context=context).data, status_code, headers=headers)

    def check_if_match(self, case):
        """An If-Match naming another version than the case's current one is refused.

        Returns whether it named a version: then the write is checked strictly against it,
        and a base_version in the body is not merged from.
        """
        header = self.request.headers.get("If-Match")
        if not header:
            return False
        tags = parse_etags(header)
        if "*" in tags:
            return False
        versions = {match[1] for match in map(VERSION_IN_ETAG.match, tags) if match}
        if str(case.version) not in versions:
            raise PreconditionFailed(
                {
                    "If-Match": [
                        f"The case changed since you read it (it is now at version "
                        f"{case.version}). Fetch it again, then reapply your change."
                    ]
                }
            )
        return True

    def locked_case(self, pk):
        """The case, locked until the transaction ends; (case, whether If-Match named its
        version)."""
        case = get_object_or_404(Case.objects.select_for_update(), pk=pk)
        self.check_object_permissions(self.request, case)
        return case, self.check_if_match(case)

    def create(self, request, *args, **kwargs):
        serializer = CaseWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        case = serializer.save_case(Case(), request.user, "Created through the API").case
        return self.written(case, status.HTTP_201_CREATED)

    def update(self, request, *args, partial=False, **kwargs):
        """200 with the case when the change went live; 202 when it waits for review
        (edits.proposed_body()); 409 when a merge from base_version found fields both
        changed (edits.conflict_body()), and nothing is written."""
        with transaction.atomic():
            case, if_matched = self.locked_case(kwargs["pk"])
            serializer = CaseWriteSerializer(
                case, data=request.data, partial=partial, context=self.get_serializer_context()
            )
            serializer.is_valid(raise_exception=True)
            try:
                saved = serializer.save_case(
                    case, request.user, "Changed through the API", merge=not if_matched
                )
            except editing.EditConflict as conflict:
                return Response(conflict_body(conflict), status.HTTP_409_CONFLICT)
        if saved.revision is not None:
            return Response(proposed_body(saved.revision), status.HTTP_202_ACCEPTED)
        return self.written(case)

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            case, _ = self.locked_case(kwargs["pk"])
            editing.delete_case(case, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Similar cases",
        description=(
            "The published cases most like this one, ranked as claim matching ranks them "
            "(/api/v1/match/), after the related cases editors linked to it "
            "(`related: true`), which come first."
        ),
        parameters=[CASE_ID_PARAMETER, SIMILAR_LIMIT_PARAMETER],
        responses={(200, "application/json"): MatchesSerializer, **DETAIL_ERRORS},
    )
    @action(
        detail=True,
        renderer_classes=[JSONRenderer, BrowsableAPIRenderer],
        pagination_class=None,
        permission_classes=[AllowAny],
    )
    def similar(self, request, pk=None):
        limit = whole_number(request.query_params.get("limit") or str(SIMILAR_LIMIT), 1, MAX_LIMIT)
        if limit is None:
            raise ValidationError({"limit": [f"Must be a whole number from 1 to {MAX_LIMIT}."]})
        pk = self.requested_pk()
        case = published_case_for_page(pk) if pk is not None else None
        if case is None:
            raise not_public(pk)
        matches = similar_published_cases(case, limit)
        tier = matches[-1].tier if matches and not matches[-1].related else "lexical"
        return Response(matches_body(request, matches, tier))

    @extend_schema(
        summary="Facet counts",
        description=(
            "How many published cases match the filters, and how many of them carry each "
            "keyword, country, language, outlet and year: the site's facet counts. Within a "
            "facet values are ORed: in a facet with a selection, `adds` says how many cases "
            "selecting a value not yet selected would add to the result."
        ),
        parameters=[*CASE_FILTER_PARAMETERS, FACET_LIMIT_PARAMETER],
        responses={
            200: inline_serializer(
                "Facets",
                {
                    "count": serializers.IntegerField(),
                    "approximate": serializers.BooleanField(),
                    "corrected_query": serializers.CharField(
                        allow_null=True,
                        help_text="The corrected search, when `q` matched nothing as typed.",
                    ),
                    "facets": serializers.DictField(
                        child=inline_serializer(
                            "FacetValue",
                            {
                                "value": serializers.CharField(),
                                "label": serializers.CharField(),
                                "count": serializers.IntegerField(),
                                "selected": serializers.BooleanField(),
                                "adds": serializers.IntegerField(
                                    allow_null=True,
                                    help_text=(
                                        "In a facet with a selection, for a value not "
                                        "selected: how many cases selecting it would add "
                                        "(values within a facet are ORed). Else null."
                                    ),
                                ),
                            },
                            many=True,
                        ),
                        help_text="keyword, country, language, outlet and year.",
                    ),
                },
            ),
            **READ_ERRORS,
        },
    )
    @action(
        detail=False,
        renderer_classes=[JSONRenderer, BrowsableAPIRenderer],
        pagination_class=None,
        permission_classes=[AllowAny],
    )
    def facets(self, request):
        case_filter = self.case_filter(Case.objects.published(), extras=LIMIT_PARAMETERS)
        limit = request.query_params.get("limit") or None
        if limit is not None:
            limit = whole_number(limit, 1, MAX_INTEGER)
            if limit is None:
                message = f"Must be a whole number from 1 to {MAX_INTEGER}."
                raise ValidationError({"limit": [message]})
        result = facet_counts(case_filter, limit=limit)
        corrected = case_filter.spelling_corrected(total=result.total)
        if corrected is not None:
            result = facet_counts(corrected, limit=limit)
        self.last_modified = last_change()
        return Response(
            {
                "count": result.total,
                "approximate": result.approximate,
                "corrected_query": corrected.corrected_query if corrected is not None else None,
                "facets": {
                    name: [value.as_dict() for value in values]
                    for name, values in result.facets.items()
                },
            }
        )


PUBLISHED_CASES = Q(cases__status=Case.Status.PUBLISHED)


def taxonomy_schema(serializer_class, what):
    return extend_schema_view(
        list=extend_schema(
            summary=f"List {what}",
            responses={200: serializer_class(many=True), **READ_ERRORS},
        ),
        retrieve=extend_schema(
            summary=f"One of the {what}",
            responses={200: serializer_class, **error(404, "No such value."), **READ_ERRORS},
        ),
    )


class TaxonomyViewSet(ConditionalGetMixin, viewsets.ReadOnlyModelViewSet):
    """The values of published cases; each carries the number of published cases it tags."""

    pagination_class = None
    # Read-only for everybody (editors change taxonomy in the admin): writes get a 405.
    permission_classes = [AllowAny]

    def get_queryset(self):
        # Only values of published cases: any other answers 404, as an unknown one does.
        public = self.model.objects.public()
        counted = public.annotate(case_count=Count("cases", filter=PUBLISHED_CASES))
        # Aggregation drops Meta.ordering; a stable order keeps ETags and diffs stable.
        # Names sort as people sort them (cases.collation).
        if "name" in self.model._meta.ordering:
            return counted.order_by(*human_order("name"))
        return counted.order_by(*self.model._meta.ordering, "pk")


@taxonomy_schema(CountedKeywordSerializer, "keywords")
class KeywordViewSet(TaxonomyViewSet):
    model = Keyword
    serializer_class = CountedKeywordSerializer
    lookup_field = "slug"


@taxonomy_schema(CountedCountrySerializer, "countries and regions")
class CountryViewSet(TaxonomyViewSet):
    model = Country
    serializer_class = CountedCountrySerializer
    lookup_field = "slug"


@taxonomy_schema(CountedLanguageSerializer, "languages")
class LanguageViewSet(TaxonomyViewSet):
    model = Language
    serializer_class = CountedLanguageSerializer
    lookup_field = "code"


@taxonomy_schema(CountedIssueSerializer, "review issues")
class IssueViewSet(TaxonomyViewSet):
    model = Issue
    serializer_class = CountedIssueSerializer
    lookup_field = "number"
    lookup_value_regex = "[0-9]+"


@taxonomy_schema(CountedOutletSerializer, "outlets")
class OutletViewSet(TaxonomyViewSet):
    model = Outlet
    serializer_class = CountedOutletSerializer
    lookup_field = "slug"

    def get_queryset(self):
        published = Q(appearances__case__status=Case.Status.PUBLISHED)
        return (
            Outlet.objects.public()
            .annotate(case_count=Count("appearances__case", filter=published, distinct=True))
            .order_by(*human_order("name"))
        )


class OfflineRedocView(SpectacularRedocView):
    """Redoc from the vendored bundle, with no web fonts and nothing fetched elsewhere.

    The bundle shows a logo from the Redocly CDN; the Content-Security-Policy stops that
    request (Redoc then leaves the logo out). Redoc draws its diagrams from blob: images.
    The styles Redoc renders carry the page's nonce (static/cases/api/redoc_init.js); the
    two its bundle adds as it loads, before it knows the nonce, are allowed by their hashes
    (the second is of the empty element it first inserts).
    """

    template_name = "api/redoc.html"
    BUNDLE_STYLE_HASHES = [
        "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    ]

    @extend_schema(exclude=True)
    @csp_update({"img-src": ["blob:"], "style-src": BUNDLE_STYLE_HASHES})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class OfflineSwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script served as a file (?script), so that the page
    needs no inline script; its inline style carries the request's CSP nonce."""

    template_name = "api/swagger_ui.html"
