"""Cases as CSV rows and JSON text, one chunk of cases at a time.

The export_cases command, the site's streaming export (/cases/export/, export_view below)
and the dumps send the same text, so a file exported anywhere can be read back by
import_cases. PostgreSQL writes it (cases.readmodels.csv and cases.readmodels.json_export);
csv_rows(), csv_lines(), json_lines() and ndjson_lines() here write the same text from
model instances, through Python's csv module and CaseSerializer: its reference.

    rows = csv_rows(Case.objects.published().order_by("id"))
    lines = json_lines(Case.objects.published().order_by("id"), request=request)
"""

import csv
import itertools
import json

from django.conf import settings
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

from cases.api.serializers import (
    CaseSerializer,
    prefetch_for_case_serializer,
    visible_related_cases,
)
from cases.readmodels.csv import (
    CSV_COLUMNS,
    DEFAULT_SEPARATOR,
    Echo,
    case_url_prefix,
    joined,
    neutralised,
    sql_csv_lines,
    utc_timestamp,
)
from cases.readmodels.json_export import sql_json_lines, sql_ndjson_lines
from cases.site.filtered import (
    bad_request,
    parameter_errors,
    published_case_filter,
    spelling_fallback,
)

CHUNK_SIZE = 500


def iterate_cases(queryset, chunk_size=CHUNK_SIZE):
    """The queryset's cases with their related data, prefetched chunk by chunk."""
    return prefetch_for_case_serializer(queryset).iterator(chunk_size=chunk_size)


def csv_row(case, sep=DEFAULT_SEPARATOR, include_drafts=False, url_prefix=None, request=None):
    """One case as cells in CSV_COLUMNS order; multi-value cells joined with `sep`, a
    separator or backslash inside an item escaped (cases.readmodels.csv.joined()).

    A cell a spreadsheet would take for a formula gets a quote in front (neutralised()).
    """
    url_prefix = case_url_prefix(request) if url_prefix is None else url_prefix
    appearances = list(case.appearances.all())
    languages = list(case.languages.all())
    countries = list(case.countries.all())
    keywords = list(case.keywords.all())
    cells = [
        str(case.pk),
        f"{url_prefix}{case.pk}/{case.slug}/",
        case.source_id,
        case.source_url,
        case.status,
        case.title,
        case.date.isoformat() if case.date else "",
        case.summary,
        case.disproof,
        str(case.issue.number) if case.issue else "",
        joined((language.name for language in languages), sep),
        joined((language.code for language in languages), sep),
        joined((country.name for country in countries), sep),
        joined((country.slug for country in countries), sep),
        joined((keyword.name for keyword in keywords), sep),
        joined((keyword.slug for keyword in keywords), sep),
        # Outlets, their slugs, URLs and archive URLs pair up by position: empty items stay.
        joined((a.outlet.name if a.outlet else "" for a in appearances), sep),
        joined((a.outlet.slug if a.outlet else "" for a in appearances), sep),
        joined((a.url for a in appearances), sep),
        joined((a.archive_url for a in appearances), sep),
        joined((other.title for other in visible_related_cases(case, include_drafts)), sep),
        utc_timestamp(case.created_at),
        utc_timestamp(case.updated_at),
        utc_timestamp(case.published_at),
    ]
    return [neutralised(cell) for cell in cells]


def csv_rows(
    queryset, sep=DEFAULT_SEPARATOR, include_drafts=False, chunk_size=CHUNK_SIZE, request=None
):
    """The header, then one row per case."""
    yield list(CSV_COLUMNS)
    url_prefix = case_url_prefix(request)
    for case in iterate_cases(queryset, chunk_size):
        yield csv_row(case, sep, include_drafts, url_prefix)


def csv_lines(
    queryset, sep=DEFAULT_SEPARATOR, include_drafts=False, chunk_size=CHUNK_SIZE, request=None
):
    """CSV text, one row per item (a row's quoted cells may hold newlines)."""
    writer = csv.writer(Echo())
    for row in csv_rows(queryset, sep, include_drafts, chunk_size, request):
        yield writer.writerow(row)


def represented_cases(queryset, request=None, include_drafts=False, chunk_size=CHUNK_SIZE):
    """The cases of the queryset as CaseSerializer represents them, in its order, read a
    chunk at a time."""
    context = {"request": request, "include_drafts": include_drafts}
    for case in iterate_cases(queryset, chunk_size):
        yield CaseSerializer(case, context=context).data


def json_lines(queryset, request=None, include_drafts=False, chunk_size=CHUNK_SIZE):
    """A JSON list of cases, written a case at a time."""
    yield "["
    separator = "\n"
    for data in represented_cases(queryset, request, include_drafts, chunk_size):
        yield separator + json.dumps(data, ensure_ascii=False, indent=2)
        separator = ",\n"
    yield "\n]\n"


def ndjson_lines(queryset, request=None, include_drafts=False, chunk_size=CHUNK_SIZE):
    """Newline-delimited JSON: one case per line, in the API representation."""
    for data in represented_cases(queryset, request, include_drafts, chunk_size):
        yield json.dumps(data, ensure_ascii=False) + "\n"


def started(chunks):
    """The chunks of a streamed export, the first two already made.

    The header and the first cases come from the first queries: a query that fails, fails
    here, before the 200 and its headers are sent, rather than cutting a file short.
    """
    chunks = iter(chunks)
    return itertools.chain(list(itertools.islice(chunks, 2)), chunks)


# format parameter -> (content type, file extension)
EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json; charset=utf-8", "json"),
    "ndjson": ("application/x-ndjson; charset=utf-8", "ndjson"),
}


def export_filename(extension):
    site = slugify(settings.SITE_NAME) or "cases"
    return f"{site}-cases-{timezone.localdate().isoformat()}.{extension}"


def export_view(request):
    """Every published case the filter parameters select, streamed as CSV, JSON or NDJSON.

    The cases come in the view's ordering, a chunk at a time, so a large export starts at
    once and holds one chunk in memory.
    """
    export_format = request.GET.get("format") or "csv"
    case_filter = published_case_filter(request, extras={"format"})
    errors = [] if case_filter.is_valid() else parameter_errors(case_filter)
    if export_format not in EXPORT_FORMATS:
        errors.insert(0, ("format", f"must be one of {', '.join(EXPORT_FORMATS)}."))
    if errors:
        return bad_request(errors)

    cases = spelling_fallback(case_filter).qs
    if export_format == "csv":
        chunks = sql_csv_lines(cases, request=request)
    elif export_format == "json":
        chunks = sql_json_lines(cases, request=request)
    else:
        chunks = sql_ndjson_lines(cases, request=request)
    content_type, extension = EXPORT_FORMATS[export_format]
    response = StreamingHttpResponse(started(chunks), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{export_filename(extension)}"'
    return response
