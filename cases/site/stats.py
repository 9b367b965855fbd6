"""Statistics of a view at /stats/: cases per month, top countries, keywords, outlets, languages.

Every number counts the published cases the filter parameters select (the one CaseFilter).
They come from the facet index (cases.facets), which holds a bitmap of cases per month and
per value: no query beyond the data version, plus one per slug parameter to check it, and
one to fetch the cases a text search matches. While the connection has uncommitted writes
of its own, exact_case_statistics() counts the same with five aggregate queries; the tests
hold the two equal.
"""

import functools
from urllib.parse import urlencode

from django.db.models import Count, F
from django.db.models.functions import TruncMonth
from django.http import QueryDict
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from cases.collation import human_order
from cases.facets import tally
from cases.filters import CaseFilter
from cases.models import Appearance, Case
from cases.site.charts import (
    GRANULARITIES,
    bar_chart,
    comparison_chart,
    fill_months,
    timeline_chart,
)
from cases.site.filtered import (
    describe_filters,
    filter_query,
    parameter_errors,
    published_case_filter,
)

TOP = 15


def cases_per_month(cases):
    """({first of month: count}, number of undated cases) in one query."""
    rows = (
        cases.annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(count=Count("id"))
        .order_by("month")
    )
    per_month, undated = {}, 0
    for row in rows:
        if row["month"] is None:
            undated = row["count"]
        else:
            per_month[row["month"]] = row["count"]
    return per_month, undated


def top_linked(through, field, case_ids, limit=TOP, key="slug"):
    """The most frequent values of a many-to-many field among the cases, with their counts."""
    rows = (
        through.objects.filter(case_id__in=case_ids)
        .values(name=F(f"{field}__name"), key=F(f"{field}__{key}"))
        .annotate(count=Count("case_id"))
        .order_by("-count", *human_order(f"{field}__name", pk=f"{field}_id"))
    )
    return list(rows[:limit] if limit else rows)


def top_outlets(case_ids, limit=TOP):
    rows = (
        Appearance.objects.filter(case_id__in=case_ids, outlet__isnull=False)
        .values(name=F("outlet__name"), key=F("outlet__slug"))
        .annotate(count=Count("case_id", distinct=True))
        .order_by("-count", *human_order("outlet__name", pk="outlet_id"))
    )
    return list(rows[:limit])


def case_statistics(case_filter):
    """Every number on the statistics page, for a bound, valid CaseFilter of published cases."""
    counted = tally(case_filter)
    if counted is None:
        return exact_case_statistics(case_filter.qs)
    dated = sum(counted.months.values())

    def rows(facet, limit=TOP):
        values = counted.values[facet]
        return [
            {"name": name, "key": key, "count": count}
            for key, name, count in (values[:limit] if limit else values)
        ]

    return {
        "total": counted.total,
        "dated": dated,
        "undated": counted.total - dated,
        "months": fill_months(counted.months),
        "countries": rows("country"),
        "keywords": rows("keyword"),
        "outlets": rows("outlet"),
        "languages": rows("language", None),
    }


def exact_case_statistics(cases):
    """case_statistics() computed with aggregate queries, for a queryset of published cases."""
    cases = cases.order_by()
    case_ids = cases.values("pk")
    per_month, undated = cases_per_month(cases)
    return {
        "total": sum(per_month.values()) + undated,
        "dated": sum(per_month.values()),
        "undated": undated,
        "months": fill_months(per_month),
        "countries": top_linked(Case.countries.through, "country", case_ids),
        "keywords": top_linked(Case.keywords.through, "keyword", case_ids),
        "outlets": top_outlets(case_ids),
        "languages": top_linked(Case.languages.through, "language", case_ids, None, "code"),
    }


# (section id, statistics key, filter parameter)
BREAKDOWNS = [
    ("countries", "countries", "country"),
    ("keywords", "keywords", "keyword"),
    ("outlets", "outlets", "outlet"),
    ("languages", "languages", "language"),
]

# The page's own parameters beside the filters.
STATS_PARAMETERS = ("compare", "granularity")
COMPARE_KINDS = ("keyword", "country", "language", "outlet")
MAX_COMPARED = 5


def with_parameters(query, **values):
    """The query string `query` with each parameter set to the given values (a list): a
    parameter keeps its place, a new one comes last, as QueryDict.setlist() does."""
    params = dict(_parsed(query))
    params.update(values)
    return urlencode([(name, value) for name, given in params.items() for value in given])


@functools.lru_cache(maxsize=64)
def _parsed(query):
    """`query` as ((name, values), ...), parsed once: a page makes hundreds of links from
    the same few queries."""
    params = QueryDict(query)
    return tuple((name, tuple(params.getlist(name))) for name in params)


def adding_value(query, parameter, value):
    """`query` also selecting `value` of `parameter`, which it may already hold."""
    values = list(dict(_parsed(query)).get(parameter, ()))
    return with_parameters(query, **{parameter: values if value in values else [*values, value]})


def period_query(query, cleaned, start, end):
    """The list's query for the cases of `query` dated from start to end (the page's own
    date range still applies, so a partial first or last period counts what it shows)."""
    after = max(start, cleaned.get("date_after") or start)
    before = min(end, cleaned.get("date_before") or end)
    return with_parameters(query, date_after=[after.isoformat()], date_before=[before.isoformat()])


def shown(value, limit=60):
    """A value as an error message quotes it: a long one is cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def parse_compare(request, case_filter):
    """([compared value filters], errors): each compare=kind:value as the page's filters with
    that value in place of the page's own on its facet."""
    wanted = list(dict.fromkeys(v.strip() for v in request.GET.getlist("compare") if v.strip()))
    if len(wanted) > MAX_COMPARED:
        message = gettext("Compare at most %(count)s values (got %(got)s).")
        return [], [("compare", message % {"count": MAX_COMPARED, "got": len(wanted)})]
    compared, errors = [], []
    for item in wanted:
        kind, _, key = item.partition(":")
        if kind not in COMPARE_KINDS or not key:
            message = gettext(
                "Write kind:value, the kind one of %(kinds)s, like keyword:nato (got “%(value)s”)."
            )
            values = {"kinds": ", ".join(COMPARE_KINDS), "value": shown(item)}
            errors.append(("compare", message % values))
            continue
        data = case_filter.data.copy()
        data.setlist(kind, [key])
        bound = CaseFilter(data, queryset=Case.objects.published(), extras=STATS_PARAMETERS)
        if not bound.is_valid():
            message = gettext("No published case has the %(kind)s “%(value)s”.")
            errors.append(("compare", message % {"kind": kind, "value": shown(key)}))
            continue
        value = bound.form.cleaned_data[kind][0]
        compared.append(
            {"parameter": item, "kind": kind, "key": key, "name": str(value), "filter": bound}
        )
    return compared, errors


def monthly_counts(case_filter):
    """{first of month: cases dated in it} for a bound, valid filter: from the index when it
    can answer, else one aggregate query."""
    counted = tally(case_filter)
    if counted is None:
        return cases_per_month(case_filter.qs.order_by())[0]
    return counted.months


def breakdown_headings():
    """{section id: heading} in the active language."""
    return {
        "countries": _("Top %(number)s countries and regions") % {"number": TOP},
        "keywords": _("Top %(number)s keywords") % {"number": TOP},
        "outlets": _("Top %(number)s outlets") % {"number": TOP},
        "languages": _("Languages"),
    }


def stats_view(request):
    case_filter = published_case_filter(request, extras=STATS_PARAMETERS)
    query = filter_query(case_filter) if case_filter.is_valid() else ""
    context = {
        "filter": case_filter,
        "errors": [],
        "query": query,
        "description": "",
        "stats": None,
        "approximate": None,
    }
    granularity = request.GET.get("granularity") or "month"
    errors = (
        []
        if granularity in GRANULARITIES
        else [
            (
                "granularity",
                gettext("Choose month, quarter or year (got “%(value)s”).")
                % {"value": shown(granularity)},
            )
        ]
    )
    if not case_filter.is_valid() or errors:
        context["errors"] = (
            parameter_errors(case_filter) if not case_filter.is_valid() else []
        ) + errors
        return TemplateResponse(request, "cases/stats.html", context, status=400)

    stats = case_statistics(case_filter)
    corrected = case_filter.spelling_corrected(total=stats["total"])
    if corrected is not None:
        case_filter, query = corrected, filter_query(corrected)
        stats = case_statistics(corrected)
        context.update(
            query=query,
            approximate={"typed": corrected.typed_query, "corrected": corrected.corrected_query},
        )
    compared, errors = parse_compare(request, case_filter)
    if errors:
        context["errors"] = errors
        return TemplateResponse(request, "cases/stats.html", context, status=400)

    cleaned = case_filter.form.cleaned_data
    compare_parameters = [value["parameter"] for value in compared]
    # This page's own address with other compare and granularity parameters.
    page_state = with_parameters(query, compare=compare_parameters, granularity=[granularity])
    breakdowns = []
    headings = breakdown_headings()
    for section, key, parameter in BREAKDOWNS:
        heading = headings[section]
        rows = [
            {
                **row,
                "list_query": adding_value(query, parameter, row["key"]),
                "compare": f"{parameter}:{row['key']}",
                "compare_query": adding_value(page_state, "compare", f"{parameter}:{row['key']}")
                if f"{parameter}:{row['key']}" not in compare_parameters
                and len(compared) < MAX_COMPARED
                else None,
            }
            for row in stats[key]
        ]
        breakdowns.append(
            {
                "id": section,
                "parameter": parameter,
                "heading": heading,
                "rows": rows,
                "chart": bar_chart(rows),
            }
        )

    timeline = timeline_chart(stats["months"], granularity)
    for column in timeline["columns"]:
        column["list_query"] = period_query(query, cleaned, column["start"], column["end"])

    comparison = None
    if compared:
        for value in compared:
            value["months"] = monthly_counts(value["filter"])
            value["list_query"] = filter_query(value["filter"])
            value["remove_query"] = with_parameters(
                page_state, compare=[p for p in compare_parameters if p != value["parameter"]]
            )
        comparison = comparison_chart(compared, granularity)
        if comparison is not None:
            for line in comparison["lines"]:
                for point in line["points"]:
                    point["list_query"] = period_query(
                        line["list_query"], cleaned, point["start"], point["end"]
                    )
    context.update(
        {
            "stats": stats,
            "description": describe_filters(case_filter),
            "timeline": timeline,
            "granularity": granularity,
            "granularities": [
                (name, with_parameters(page_state, granularity=[name])) for name in GRANULARITIES
            ],
            "compared": compared,
            "comparison": comparison,
            "can_compare": len(compared) < MAX_COMPARED,
            "hidden_parameters": [
                (name, value) for name, values in QueryDict(query).lists() for value in values
            ]
            + [("compare", p) for p in compare_parameters],
            "breakdowns": breakdowns,
        }
    )
    return TemplateResponse(request, "cases/stats.html", context)
