"""Facet counts and browse counts with plain SQL: the references the index is held to.

exact_facet_counts() and exact_browse_counts() answer what facet_counts() and
browse_counts() answer from the index (cases.facets), through the FilterSet's own filters;
the public interface falls back on them while a connection has uncommitted writes of its
own, and tests/contracts/ holds the two equal on committed data.
"""

from django.apps import apps
from django.db.models import Count, Q
from django.db.models.functions import ExtractYear

from cases.collation import human_order
from cases.facets.common import (
    ALIAS_MODELS,
    FACET_PARAMS,
    FACETS,
    LABEL_FIELDS,
    LINK_FIELDS,
    NON_FILTERS,
    FacetResult,
    cleaned_data,
    folded,
    is_empty,
    name_rank,
    selected_keys,
    sorted_facet_values,
)


def exact_facet_counts(case_filter, limit=None):
    """facet_counts() computed with plain SQL, through the FilterSet's own filters.

    One query for the total and one per facet, whatever the number of values, and one more
    per facet with a selection (what each other value would add).
    """
    from cases.models import Appearance, Case

    cleaned = cleaned_data(case_filter)
    total = filtered_cases(case_filter, cleaned, exclude=()).count()
    facets = {}
    for facet in FACETS:
        ids = filtered_cases(case_filter, cleaned, exclude=FACET_PARAMS[facet]).values("id")
        if facet == "year":
            rows = (
                Case.objects.filter(id__in=ids, date__isnull=False)
                .annotate(year=ExtractYear("date"))
                .values_list("year", "year", "year")
                .annotate(n=Count("id"))
                .order_by()
            )
        elif facet == "outlet":
            rows = (
                Appearance.objects.filter(case_id__in=ids, outlet__isnull=False)
                .values_list("outlet_id", "outlet__slug", "outlet__name")
                .annotate(n=Count("case_id", distinct=True))
                .order_by(*human_order("outlet__name", pk="outlet_id"))
            )
        else:
            key = "code" if facet == "language" else "slug"
            rows = (
                getattr(Case, LINK_FIELDS[facet])
                .through.objects.filter(case_id__in=ids)
                .values_list(f"{facet}_id", f"{facet}__{key}", f"{facet}__name")
                .annotate(n=Count("case_id"))
                .order_by(*human_order(f"{facet}__name", pk=f"{facet}_id"))
            )
        counts, labels = {}, _selected_labels(cleaned, facet)
        # Values come in name order as people sort names (cases.collation): ties in count
        # sort that way, as in the index.
        order = None if facet == "year" else {}
        for pk, value, label, n in rows:
            counts[pk] = n
            labels[pk] = (str(value), str(label))
            if order is not None:
                order[pk] = len(order)
        selected = selected_keys(cleaned, facet)
        in_result = _in_result(case_filter, cleaned, facet) if selected else None
        if order is not None and selected - set(order):
            # Selected values without cases sort after the others: among themselves, by name.
            order.update(
                {pk: len(order) + n for pk, n in _name_order(facet, selected - set(order)).items()}
            )
        facets[facet] = sorted_facet_values(counts, labels, selected, limit, order, in_result)
    return FacetResult(total=total, approximate=False, facets=facets)


def exact_suggest(case_filter, facet, typed, limit):
    """suggest() with plain SQL: exact_facet_counts()'s values of the facet whose name or
    an alias matches, best matches first (by count, then name, within a match kind)."""
    model_name, key = LABEL_FIELDS[facet]
    alias_model, target = ALIAS_MODELS[facet]
    model = apps.get_model("cases", model_name)
    names = {pk: [folded(name)] for pk, name in model.objects.values_list("pk", "name")}
    for pk, alias in apps.get_model("cases", alias_model).objects.values_list(target, "name"):
        names[pk].append(folded(alias))
    by_value = {value: names[pk] for pk, value in model.objects.values_list("pk", key)}
    typed = folded(typed)
    ranked = []
    for value in exact_facet_counts(case_filter).facets[facet]:
        if value.selected or not value.count:
            continue
        rank = name_rank(typed, by_value[value.value]) if typed else 0
        if rank is not None:
            ranked.append((rank, value))
    ranked.sort(key=lambda pair: pair[0])  # stable: by count, then name, within a rank
    return [value for _, value in ranked[:limit]]


def _in_result(case_filter, cleaned, facet):
    """{pk: cases of the value among the cases every filter selects}: one more query for a
    facet with a selection, so that a value's "adds" is its count less these."""
    from cases.models import Appearance, Case

    ids = filtered_cases(case_filter, cleaned, exclude=()).values("id")
    if facet == "year":
        rows = (
            Case.objects.filter(id__in=ids, date__isnull=False)
            .annotate(year=ExtractYear("date"))
            .values_list("year")
            .annotate(n=Count("id"))
        )
    elif facet == "outlet":
        rows = (
            Appearance.objects.filter(case_id__in=ids, outlet__isnull=False)
            .values_list("outlet_id")
            .annotate(n=Count("case_id", distinct=True))
        )
    else:
        rows = (
            getattr(Case, LINK_FIELDS[facet])
            .through.objects.filter(case_id__in=ids)
            .values_list(f"{facet}_id")
            .annotate(n=Count("case_id"))
        )
    return dict(rows.order_by())


def exact_published_counts_by_id(facet):
    """published_counts_by_id() with plain SQL: a GROUP BY over the facet's links."""
    from cases import models

    relation = models.Case._meta.get_field(models.TAXONOMY_LINK_FIELDS[facet])
    links = relation.remote_field.through.objects.filter(case__status=models.Case.Status.PUBLISHED)
    column = f"{relation.m2m_reverse_field_name()}_id"
    return dict(links.order_by().values_list(column).annotate(cases=Count("*")))


def exact_browse_counts(facet):
    """browse_counts() with plain SQL."""
    from cases import models

    published = models.Case.Status.PUBLISHED
    if facet == "issue":
        return list(
            models.Issue.objects.annotate(
                case_count=Count("cases", filter=Q(cases__status=published))
            )
            .filter(case_count__gt=0)
            .order_by("-number")
            .values_list("number", "date", "case_count")
        )
    if facet == "outlet":
        cases = Q(appearances__case__status=published)
        counted = Count("appearances__case", filter=cases, distinct=True)
    else:
        counted = Count("cases", filter=Q(cases__status=published))
    model_name, value = LABEL_FIELDS[facet]
    model = apps.get_model("cases", model_name)
    return list(
        model.objects.annotate(case_count=counted)
        .filter(case_count__gt=0)
        .order_by(*human_order("name"))
        .values_list(value, "name", "case_count")
    )


def _name_order(facet, pks):
    """{pk: position} of the facet's values `pks`, names sorted as people sort them."""
    model = apps.get_model("cases", LABEL_FIELDS[facet][0])
    ids = model.objects.filter(pk__in=list(pks)).order_by(*human_order("name"))
    return {pk: position for position, pk in enumerate(ids.values_list("pk", flat=True))}


def filtered_cases(case_filter, cleaned, exclude):
    """Published cases under every active filter except the `exclude` parameters."""
    from cases.models import Case

    queryset = Case.objects.published()
    for name, value in cleaned.items():
        if name in exclude or name in NON_FILTERS:
            continue
        queryset = case_filter.filters[name].filter(queryset, value)
    return queryset.order_by()


def _selected_labels(cleaned, facet):
    """{key: (value, label)} of the facet's selected values, from the validated form."""
    value = cleaned.get(facet)
    if is_empty(value):
        return {}
    if facet == "year":
        return {int(year): (str(year), str(year)) for year in value}
    if facet == "language":
        return {obj.pk: (obj.code, str(obj)) for obj in value}
    return {obj.pk: (obj.slug, str(obj)) for obj in value}
