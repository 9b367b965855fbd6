"""Statistics of a view at /stats/: cases per month, top countries, keywords, outlets, languages.

Every number counts the published cases the filter parameters select (the one CaseFilter).
They come from the facet index (cases.facets), which holds a bitmap of cases per month and
per value: no query beyond the data version, plus one per slug parameter to check it, and
one to fetch the cases a text search matches. While the connection has uncommitted writes
of its own, exact_case_statistics() counts the same with five aggregate queries; the tests
hold the two equal.
"""

from django.db.models import Count, F
from django.db.models.functions import TruncMonth
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from cases.collation import human_order
from cases.facets import tally
from cases.models import Appearance, Case
from cases.site.charts import bar_chart, fill_months, timeline_chart
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


def breakdown_headings():
    """{section id: heading} in the active language."""
    return {
        "countries": _("Top %(number)s countries and regions") % {"number": TOP},
        "keywords": _("Top %(number)s keywords") % {"number": TOP},
        "outlets": _("Top %(number)s outlets") % {"number": TOP},
        "languages": _("Languages"),
    }


def stats_view(request):
    case_filter = published_case_filter(request)
    query = filter_query(case_filter) if case_filter.is_valid() else ""
    context = {
        "filter": case_filter,
        "errors": [],
        "query": query,
        "description": "",
        "stats": None,
        "approximate": None,
    }
    if not case_filter.is_valid():
        context["errors"] = parameter_errors(case_filter)
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
    prefix = f"{query}&" if query else ""
    breakdowns = []
    headings = breakdown_headings()
    for section, key, parameter in BREAKDOWNS:
        heading = headings[section]
        rows = [{**row, "list_query": f"{prefix}{parameter}={row['key']}"} for row in stats[key]]
        breakdowns.append(
            {"id": section, "heading": heading, "rows": rows, "chart": bar_chart(rows)}
        )
    context.update(
        {
            "stats": stats,
            "description": describe_filters(case_filter),
            "timeline": timeline_chart(stats["months"]),
            "breakdowns": breakdowns,
        }
    )
    return TemplateResponse(request, "cases/stats.html", context)
