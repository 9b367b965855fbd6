"""Facet counts: how many published cases carry each keyword, country, language, outlet
and year, under the current filters.

    result = facet_counts(case_filter)
    result.total                     # cases matching the filters
    result.facets["keyword"][0]  # FacetValue(value="nato", label="NATO", count=3, selected=True)

This is the plain-SQL implementation: one GROUP BY per facet over the filtered cases.
exact_facet_counts() is the same computation; facet_counts() is the entry point that a
faster index may answer instead, and `approximate` says when it did not count exactly.
"""

from dataclasses import dataclass, field

from django.db.models import Count
from django.db.models.functions import ExtractYear

from cases.models import Appearance, Case, Country, Keyword, Language

FACETS = ["keyword", "country", "language", "outlet", "year"]


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass
class FacetResult:
    total: int
    approximate: bool = False
    facets: dict = field(default_factory=dict)


def _selected(case_filter, name, attribute):
    data = case_filter.form.cleaned_data if case_filter.is_bound else {}
    return {getattr(item, attribute) for item in data.get(name) or []}


def _count_values(cases, name, limit):
    """(value, label, count) rows for one facet over the ids of `cases`, most common first."""
    if name == "keyword":
        rows = (
            Keyword.objects.filter(cases__in=cases)
            .annotate(count=Count("cases"))
            .values_list("slug", "name", "count")
        )
    elif name == "country":
        rows = (
            Country.objects.filter(cases__in=cases)
            .annotate(count=Count("cases"))
            .values_list("slug", "name", "count")
        )
    elif name == "language":
        rows = (
            Language.objects.filter(cases__in=cases)
            .annotate(count=Count("cases"))
            .values_list("code", "name", "count")
        )
    elif name == "outlet":
        rows = (
            Appearance.objects.filter(case__in=cases, outlet__isnull=False)
            .values("outlet__slug", "outlet__name")
            .annotate(count=Count("case", distinct=True))
            .values_list("outlet__slug", "outlet__name", "count")
        )
    else:
        rows = (
            Case.objects.filter(pk__in=cases, date__isnull=False)
            .annotate(year=ExtractYear("date"))
            .values("year")
            .annotate(count=Count("pk"))
            .values_list("year", "year", "count")
        )
    rows = sorted(rows, key=lambda row: (-row[2], str(row[1]).casefold()))
    return rows[:limit] if limit else rows


def exact_facet_counts(case_filter, limit=None):
    """Counts straight from SQL. case_filter must be valid."""
    cases = case_filter.qs.order_by().values("pk")
    selected = {
        "keyword": _selected(case_filter, "keyword", "slug"),
        "country": _selected(case_filter, "country", "slug"),
        "language": _selected(case_filter, "language", "code"),
        "outlet": _selected(case_filter, "outlet", "slug"),
        "year": set(),
    }
    facets = {}
    for name in FACETS:
        facets[name] = [
            FacetValue(str(value), str(label), count, str(value) in selected[name])
            for value, label, count in _count_values(cases, name, limit)
        ]
    return FacetResult(total=case_filter.qs.count(), approximate=False, facets=facets)


def facet_counts(case_filter, limit=None):
    """Facet counts for a valid CaseFilter over published cases."""
    return exact_facet_counts(case_filter, limit)
