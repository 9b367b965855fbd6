"""Facet counts: how many published cases each keyword, country, language, outlet and year
would match if it were added to the current filters.

Counting is disjunctive: a facet's own selected values are left out of its own counts
(values within a facet are ORed), while every other filter applies.

This module counts in plain SQL, one GROUP BY per facet. It answers the same interface
that a precomputed facet index answers at scale:

    facet_counts(case_filter, limit=None) -> FacetResult
    exact_facet_counts(case_filter, limit=None) -> FacetResult

`case_filter` is a bound, valid cases.filters.CaseFilter. Values come sorted by count
(descending) then label; with `limit`, each facet keeps its top `limit` values plus any
selected value beyond them.
"""

from dataclasses import dataclass, field

from django.db.models import Count
from django.db.models.functions import ExtractYear

from cases.models import Appearance, Case

FACETS = ("keyword", "country", "language", "outlet", "year")


@dataclass(frozen=True)
class FacetValue:
    value: str  # slug, language code or year: what goes in the URL
    label: str
    count: int
    selected: bool = False


@dataclass
class FacetResult:
    total: int
    approximate: bool = False
    facets: dict = field(default_factory=dict)  # facet name -> [FacetValue]


def facet_counts(case_filter, limit=None):
    return exact_facet_counts(case_filter, limit=limit)


def exact_facet_counts(case_filter, limit=None):
    if not case_filter.is_valid():
        raise ValueError(f"facet counts need a valid filter: {case_filter.errors.as_text()}")
    total = case_filter.cases_without().count()
    facets = {}
    for name in FACETS:
        cases = case_filter.cases_without(name).values("pk")
        rows = COUNTERS[name](cases)
        selected = _selected_values(case_filter, name)
        values = [
            FacetValue(value=str(value), label=label, count=count, selected=str(value) in selected)
            for value, label, count in rows
        ]
        # A selected value that no case matches any more still shows, so it can be removed.
        present = {v.value for v in values}
        values += [
            FacetValue(value=value, label=label, count=0, selected=True)
            for value, label in selected.items()
            if value not in present
        ]
        values.sort(key=lambda v: (-v.count, v.label))
        if limit is not None:
            values = [v for i, v in enumerate(values) if i < limit or v.selected]
        facets[name] = values
    return FacetResult(total=total, approximate=False, facets=facets)


def _selected_values(case_filter, name):
    """{value: label} of the facet's active values, from the already validated form."""
    cleaned = case_filter.form.cleaned_data.get(name) or []
    if name == "year":
        return {str(year): str(year) for year in cleaned}
    if name == "language":
        return {language.code: language.name for language in cleaned}
    return {item.slug: item.name for item in cleaned}


def _link_counts(relation, target, value_field):
    """Counter for a many-to-many facet: the link table holds one row per case and value."""
    through = getattr(Case, relation).through
    value, label = f"{target}__{value_field}", f"{target}__name"

    def count(cases):
        return (
            through.objects.filter(case_id__in=cases)
            .values(value, label)
            .annotate(count=Count("*"))
            .values_list(value, label, "count")
            .order_by()
        )

    return count


def _outlet_counts(cases):
    return (
        Appearance.objects.filter(case_id__in=cases, outlet__isnull=False)
        .values("outlet__slug", "outlet__name")
        .annotate(count=Count("case_id", distinct=True))
        .values_list("outlet__slug", "outlet__name", "count")
        .order_by()
    )


def _year_counts(cases):
    rows = (
        Case.objects.filter(pk__in=cases, date__isnull=False)
        .annotate(year=ExtractYear("date"))
        .values("year")
        .annotate(count=Count("*"))
        .values_list("year", "count")
        .order_by()
    )
    return [(year, str(year), count) for year, count in rows]


COUNTERS = {
    "keyword": _link_counts("keywords", "keyword", "slug"),
    "country": _link_counts("countries", "country", "slug"),
    "language": _link_counts("languages", "language", "code"),
    "outlet": _outlet_counts,
    "year": _year_counts,
}
