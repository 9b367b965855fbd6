from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponsePermanentRedirect, QueryDict
from django.shortcuts import redirect
from django.template.defaultfilters import truncatewords
from django.template.response import TemplateResponse
from django.urls import reverse

from cases.facets import FACETS, SUGGEST_FACETS, browse_counts, facet_counts
from cases.filters import ORDERINGS, CaseFilter, order_cases
from cases.models import Case, Country
from cases.readmodels.case_page import published_case_for_page
from cases.readmodels.keyset import Cursor, CursorError, paginate
from cases.search import (
    approximate_query,
    highlighted,
    ranked_matches,
    with_headlines,
)
from cases.search.match import similar_published_cases
from cases.site.claimreview import citation, claim_review, permalink
from cases.site.corrections import withdrawal_url

PAGE_SIZE = 20
FACET_TOP = 10  # values shown per facet before its "more" link

FACET_TITLES = {
    "keyword": "Keywords",
    "country": "Countries and regions",
    "language": "Languages",
    "outlet": "Outlets",
    "year": "Years",
}
# The form edits these; the search box (in the header), facets and chips edit the others.
FORM_FIELDS = ("date_after", "date_before", "issue", "ordering")
# Parameters that only move through the current view; a new filter starts at page one.
VIEW_PARAMS = ("cursor", "more")


def _link(params, **changes):
    """`?query` for `params` without the paging parameters, with `changes` applied.

    A change is a list of values (replacing the parameter) or None (removing it).
    """
    params = params.copy()
    for name in VIEW_PARAMS:
        params.pop(name, None)
    for name, values in changes.items():
        params.setlist(name, values or [])
    query = params.urlencode()
    return f"?{query}" if query else "?"


def _toggled(params, name, value):
    values = params.getlist(name)
    if value in values:
        return _link(params, **{name: [v for v in values if v != value]})
    return _link(params, **{name: values + [value]})


def _active_filter_chips(params, case_filter):
    """The filters in force, each with a link that removes it."""
    data = case_filter.form.cleaned_data
    chips = []
    if data.get("q"):
        chips.append((f"Search: “{data['q']}”", _link(params, q=None)))
    for name in FACETS:
        title = case_filter.filters[name].label
        for item in data.get(name) or []:
            value = str(getattr(item, "code", None) or getattr(item, "slug", item))
            chips.append((f"{title}: {item}", _toggled(params, name, value)))
    if data.get("issue"):
        chips.append((f"Issue {data['issue']}", _link(params, issue=None)))
    if data.get("date_after"):
        chips.append((f"From {data['date_after']:%-d %b %Y}", _link(params, date_after=None)))
    if data.get("date_before"):
        chips.append((f"Until {data['date_before']:%-d %b %Y}", _link(params, date_before=None)))
    if data.get("updated_since"):
        chips.append((f"Updated since {data['updated_since']}", _link(params, updated_since=None)))
    return [{"label": label, "remove_url": url} for label, url in chips]


def _facet_panels(params, result, expanded):
    panels = []
    for name in FACETS:
        values = result.facets.get(name, [])
        show_all = name == expanded
        shown = [v for i, v in enumerate(values) if show_all or i < FACET_TOP or v.selected]
        panels.append(
            {
                "name": name,
                "title": FACET_TITLES[name],
                "label": CaseFilter.base_filters[name].label,
                "typeahead": name in SUGGEST_FACETS,
                "has_selection": any(v.selected for v in values),
                "selected": [
                    {"label": v.label, "url": _toggled(params, name, v.value)}
                    for v in values
                    if v.selected
                ],
                "values": [
                    {
                        "value": v.value,
                        "label": v.label,
                        "count": v.count,
                        "adds": v.adds,
                        "selected": v.selected,
                        "url": _toggled(params, name, v.value),
                    }
                    for v in shown
                ],
                "more_url": (
                    _link(params, more=[name]) if not show_all and len(values) > FACET_TOP else None
                ),
                "less_url": _link(params) if show_all else None,
            }
        )
    return panels


def _canonical_slugs(params, case_filter):
    """`params` with old taxonomy slugs replaced by current ones, or None if all are current."""
    canonical = params.copy()
    for name in ("keyword", "country", "outlet"):
        slugs = [item.slug for item in case_filter.form.cleaned_data.get(name) or []]
        if slugs and sorted(slugs) != sorted(set(params.getlist(name))):
            canonical.setlist(name, slugs)
    return canonical if canonical != params else None


def _without_empty_values(params):
    """`params` without blank values, or None if it has none (a submitted form sends its
    empty fields: `?q=&issue=`)."""
    clean = QueryDict(mutable=True)
    for name in params:
        values = [value for value in params.getlist(name) if value.strip()]
        if values:
            clean.setlist(name, values)
    return None if clean == params else clean


def case_list(request):
    params = request.GET
    clean = _without_empty_values(params)
    if clean is not None:
        query = clean.urlencode()
        return redirect(f"{request.path}?{query}" if query else request.path)
    listing = Case.objects.published().with_related_data()
    case_filter = CaseFilter(params, queryset=listing)
    context = {
        "filter": case_filter,
        "form": case_filter.form,
        "form_fields": [case_filter.form[name] for name in FORM_FIELDS],
        "cases": [],
        "page": None,
        "approximate": None,
    }
    if not case_filter.is_valid():
        return TemplateResponse(request, "cases/case_list.html", context, status=400)
    canonical = _canonical_slugs(params, case_filter)
    if canonical is not None:
        # The URL named a merged or renamed value by its old slug: point it at the new one.
        return HttpResponsePermanentRedirect(f"{request.path}?{canonical.urlencode()}")

    ordering = case_filter.active_ordering
    expanded = params.get("more")
    if expanded and expanded not in FACETS:
        case_filter.form.add_error(None, f"more: choose one of {', '.join(FACETS)}.")
    cursor = None
    if params.get("cursor"):
        try:
            cursor = Cursor.decode(params["cursor"], ordering)
        except CursorError as error:
            case_filter.form.add_error(None, f"cursor: {error}")
    if case_filter.form.errors:
        return TemplateResponse(request, "cases/case_list.html", context, status=400)

    typed_filter = case_filter
    facet_limit = None if expanded else FACET_TOP + 1
    result = facet_counts(case_filter, limit=facet_limit)
    query = case_filter.form.cleaned_data.get("q", "").strip()
    if query and result.total == 0:
        # Nothing matched as typed: retry with each unknown word replaced by the closest one.
        corrected = approximate_query(query)
        if corrected:
            corrected_params = params.copy()
            corrected_params["q"] = corrected
            corrected_filter = CaseFilter(corrected_params, queryset=listing)
            if corrected_filter.is_valid():
                corrected_result = facet_counts(corrected_filter, limit=facet_limit)
                if corrected_result.total:
                    case_filter, result, query = corrected_filter, corrected_result, corrected
                    context["approximate"] = {
                        "typed": params.get("q"),
                        "corrected": corrected,
                        "url": _link(params, q=[corrected]),
                    }

    # The page query reads plain rows; their related data is fetched once for the page.
    page_queryset = case_filter.qs.prefetch_related(None)
    ranked_newest = None
    if ordering == "relevance" and query:
        page_queryset, ranked_newest = ranked_matches(
            case_filter, page_queryset, listing.prefetch_related(None), query, result.total
        )
        page_queryset = order_cases(page_queryset, ordering, searching=True)
    if query:
        page_queryset = with_headlines(page_queryset, query)
    page = paginate(page_queryset, ordering, cursor, PAGE_SIZE)
    prefetch_related_objects(page.object_list, *listing._prefetch_related_lookups)
    for case in page.object_list:
        if query:
            case.title_html = highlighted(case.title_headline)
            case.summary_html = highlighted(case.summary_headline)

    context.update(
        {
            # The form and the chips keep showing what was typed, as the URL does.
            "page": page,
            "cases": page.object_list,
            "total": result.total,
            "total_is_approximate": result.approximate,
            "ranked_newest": ranked_newest,
            "date_order_url": _link(params, ordering=["-date"]),
            "ordering": ordering,
            "facets": _facet_panels(params, result, expanded),
            "chips": _active_filter_chips(params, typed_filter),
            "ordering_label": ORDERINGS[ordering],
            "orderings": ORDERINGS,
            "filter_params": " ".join(
                name for name in CaseFilter.base_filters if name != "ordering"
            ),
            "last_item": page.first_item + len(page.object_list) - 1 if page.first_item else None,
            # Filters set by links and the search box, carried when the form is submitted.
            "hidden_values": [
                (name, value)
                for name in ("q", *FACETS, "updated_since")
                for value in params.getlist(name)
            ],
            # ... and the filters the search box keeps when a new search is made.
            "search_hidden_values": [
                (name, value)
                for name in (*FACETS, *FORM_FIELDS, "updated_since")
                for value in params.getlist(name)
            ],
            "next_url": _link(params, cursor=[page.next_cursor]) if page.next_cursor else None,
            "previous_url": (
                _link(params, cursor=[page.previous_cursor]) if page.previous_cursor else None
            ),
            "first_url": _link(params) if cursor else None,
            "clear_url": "?",
        }
    )
    return TemplateResponse(request, "cases/case_list.html", context)


def case_detail(request, pk, slug=None):
    case = published_case_for_page(pk)
    if case is None:
        withdrawn = Case.objects.withdrawn(pk)
        if withdrawn is None:
            raise Http404("No published case has this id.")
        # Citations of a withdrawn case keep working: they say what happened and why.
        context = {"case": withdrawn, "log_url": withdrawal_url(withdrawn)}
        return TemplateResponse(request, "cases/case_withdrawn.html", context, status=410)
    if slug != case.slug:
        return redirect(case, permanent=True)
    context = {
        "case": case,
        "description": truncatewords(case.summary, 40),  # shown three times in <head>
        "claim_review": claim_review(case, request),
        "citation": citation(case, request),
        "permalink": permalink(case, request),
    }
    return TemplateResponse(request, "cases/case_detail.html", context)


def case_similar(request, pk, slug):
    """The cases most like a published case (cases.search.match), other than its related
    ones. The case page loads this page's list after it shows (static/js/similar.js), so a
    case page costs no ranking; without JavaScript its link leads here. Kept by the page
    cache like any page."""
    case = published_case_for_page(pk)
    if case is None:
        raise Http404("No published case has this id.")
    if slug != case.slug:
        return redirect("cases:similar", pk=case.pk, slug=case.slug, permanent=True)
    context = {
        "case": case,
        # Its related cases are listed on its page: here only the others.
        "similar": [m for m in similar_published_cases(case) if not m.related],
    }
    return TemplateResponse(request, "cases/case_similar.html", context)


def home(request):
    return redirect("cases:list")


BROWSE_SORTS = {"name": "Name", "count": "Number of cases"}


def _browse(request, *, title, intro, param, values, notes=None):
    """A browse page: every value with published cases, linking to the filtered list.

    `values` yields (url value, label, published case count), ordered by name as people
    sort names (cases.collation); `notes`, {url value: note}, marks some ("region").
    """
    notes = notes or {}
    sort = request.GET.get("sort", "name")
    error = None
    if sort not in BROWSE_SORTS:
        error = f"sort: choose one of {', '.join(BROWSE_SORTS)}."
        sort = "name"
    list_url = reverse("cases:list")
    rows = [
        {
            "label": label,
            "count": count,
            "url": f"{list_url}?{QueryDict.fromkeys([param], value).urlencode()}",
        }
        for value, label, count in values
    ]
    for row, (value, _, _) in zip(rows, values, strict=True):
        if value in notes:
            row["note"] = notes[value]
    if sort == "count":
        rows.sort(key=lambda row: -row["count"])  # stable: ties stay in name order
    context = {
        "title": title,
        "intro": intro,
        "rows": rows,
        "total_cases": sum(row["count"] for row in rows),
        "sort": sort,
        "sorts": BROWSE_SORTS,
        "error": error,
    }
    return TemplateResponse(request, "cases/browse.html", context, status=400 if error else 200)


def keyword_browse(request):
    return _browse(
        request,
        title="Keywords",
        intro="The themes cases are tagged with.",
        param="keyword",
        values=browse_counts("keyword"),
    )


def country_browse(request):
    return _browse(
        request,
        title="Countries and regions",
        intro=(
            "The countries and regions the claims are about. Regions, alliances and "
            "historical states (EU, NATO, USSR), which have no ISO country code, are marked."
        ),
        param="country",
        values=browse_counts("country"),
        notes={
            slug: Country.Kind(kind).label.lower()
            for slug, kind in Country.objects.exclude(kind=Country.Kind.COUNTRY).values_list(
                "slug", "kind"
            )
        },
    )


def language_browse(request):
    return _browse(
        request,
        title="Languages",
        intro="The languages the claims were published in.",
        param="language",
        values=browse_counts("language"),
    )


def outlet_browse(request):
    return _browse(
        request,
        title="Outlets",
        intro="The media outlets where the claims appeared.",
        param="outlet",
        values=browse_counts("outlet"),
    )


def issue_browse(request):
    values = [
        (number, f"Issue {number}" + (f", {date:%-d %B %Y}" if date else ""), count)
        for number, date, count in browse_counts("issue")
    ]
    return _browse(
        request,
        title="Review issues",
        intro="The weekly reviews the cases were reported in, newest first.",
        param="issue",
        values=values,
    )
