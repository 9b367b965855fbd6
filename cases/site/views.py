from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponsePermanentRedirect, QueryDict
from django.shortcuts import redirect
from django.template.defaultfilters import truncatewords
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.facets import FACETS, browse_counts, facet_counts
from cases.filters import (
    ORDERINGS,
    CaseFilter,
    order_cases,
    unknown_parameter_message,
    unknown_parameters,
)
from cases.models import Case, Country
from cases.readmodels.case_page import published_case_for_page
from cases.readmodels.keyset import Cursor, CursorError, paginate
from cases.search import (
    highlighted,
    ranked_matches,
    with_headlines,
)
from cases.search.match import similar_published_cases
from cases.site.claimreview import citation, claim_review, permalink
from cases.site.corrections import withdrawal_url

PAGE_SIZE = 20
FACET_TOP = 10  # values shown per facet before its "more" link

# (title, its "more" link, its "less" link) per facet.
FACET_TITLES = {
    "keyword": (
        gettext_lazy("Keywords"),
        gettext_lazy("All keywords"),
        gettext_lazy("Top keywords only"),
    ),
    "country": (
        gettext_lazy("Countries and regions"),
        gettext_lazy("All countries and regions"),
        gettext_lazy("Top countries and regions only"),
    ),
    "language": (
        gettext_lazy("Languages"),
        gettext_lazy("All languages"),
        gettext_lazy("Top languages only"),
    ),
    "outlet": (
        gettext_lazy("Outlets"),
        gettext_lazy("All outlets"),
        gettext_lazy("Top outlets only"),
    ),
    "year": (gettext_lazy("Years"), gettext_lazy("All years"), gettext_lazy("Top years only")),
}
# The form edits these; facets and chips edit the others.
FORM_FIELDS = ("q", "date_after", "date_before", "issue", "ordering")
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
        chips.append((_("Search: “%(text)s”") % {"text": data["q"]}, _link(params, q=None)))
    for name in FACETS:
        title = case_filter.filters[name].label
        for item in data.get(name) or []:
            value = str(getattr(item, "code", None) or getattr(item, "slug", item))
            chips.append((f"{title}: {item}", _toggled(params, name, value)))
    if data.get("issue"):
        chips.append((_("Issue %(number)s") % {"number": data["issue"]}, _link(params, issue=None)))
    if data.get("date_after"):
        day = date_format(data["date_after"], "SHORT_DATE_FORMAT")
        chips.append((_("From %(date)s") % {"date": day}, _link(params, date_after=None)))
    if data.get("date_before"):
        day = date_format(data["date_before"], "SHORT_DATE_FORMAT")
        chips.append((_("Until %(date)s") % {"date": day}, _link(params, date_before=None)))
    if data.get("appearance_url"):
        url = params.get("appearance_url", "").strip()
        chips.append((_("Appeared at %(url)s") % {"url": url}, _link(params, appearance_url=None)))
    if data.get("appearance_domain"):
        domain = params.get("appearance_domain", "").strip()
        chips.append(
            (
                _("Appeared on %(domain)s") % {"domain": domain},
                _link(params, appearance_domain=None),
            )
        )
    if data.get("updated_since"):
        since = _("Updated since %(time)s") % {"time": data["updated_since"]}
        chips.append((since, _link(params, updated_since=None)))
    return [{"label": label, "remove_url": url} for label, url in chips]


def _facet_panels(params, result, expanded):
    panels = []
    for name in FACETS:
        values = result.facets.get(name, [])
        show_all = name == expanded
        shown = [v for i, v in enumerate(values) if show_all or i < FACET_TOP or v.selected]
        title, all_label, top_label = FACET_TITLES[name]
        panels.append(
            {
                "name": name,
                "title": title,
                "all_label": all_label,
                "top_label": top_label,
                "values": [
                    {
                        "value": v.value,
                        "label": v.label,
                        "count": v.count,
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


def case_list(request):
    params = request.GET
    listing = Case.objects.published().with_related_data()
    case_filter = CaseFilter(params, queryset=listing, extras=VIEW_PARAMS)
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
        choices = ", ".join(FACETS)
        case_filter.form.add_error(
            None, "more: " + _("choose one of %(choices)s.") % {"choices": choices}
        )
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
    # Nothing matched as typed: each unknown word replaced by the closest one, as everywhere.
    corrected = case_filter.spelling_corrected(total=result.total)
    if corrected is not None:
        case_filter, query = corrected, corrected.corrected_query
        result = facet_counts(corrected, limit=facet_limit)
        context["approximate"] = {
            "typed": params.get("q"),
            "corrected": query,
            "url": _link(params, q=[query]),
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
            "last_item": page.first_item + len(page.object_list) - 1 if page.first_item else None,
            # Filters set by links, carried when the form is submitted.
            "hidden_values": [
                (name, value)
                for name in (*FACETS, "updated_since", "appearance_url", "appearance_domain")
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
        # The page in its own language: each language's page is canonical for itself.
        "canonical_url": request.build_absolute_uri(case.get_absolute_url()),
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


# As the sort links read after "Sort by:".
BROWSE_SORTS = {"name": gettext_lazy("name"), "count": gettext_lazy("number of cases")}
BROWSE_PARAMETERS = {"sort"}


def _browse(request, *, title, intro, param, values, notes=None):
    """A browse page: every value with published cases, linking to the filtered list.

    `values` yields (url value, label, published case count), ordered by name as people
    sort names (cases.collation); `notes`, {url value: note}, marks some ("region").
    """
    notes = notes or {}
    sort = request.GET.get("sort", "name")
    error = None
    if sort not in BROWSE_SORTS:
        error = "sort: " + _("choose one of %(choices)s.") % {"choices": ", ".join(BROWSE_SORTS)}
        sort = "name"
    unknown = unknown_parameters(request.GET, BROWSE_PARAMETERS)
    if unknown:
        error = f"{unknown[0]}: {unknown_parameter_message(unknown[0], BROWSE_PARAMETERS)}"
    list_url = reverse("cases:list")
    rows = [
        {
            "label": label,
            "count": count,
            "url": f"{list_url}?{QueryDict.fromkeys([param], value).urlencode()}",
        }
        for value, label, count in values
    ]
    for row, (value, _label, _count) in zip(rows, values, strict=True):
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
        title=_("Keywords"),
        intro=_("The themes cases are tagged with."),
        param="keyword",
        values=browse_counts("keyword"),
    )


# How a value that is not a country is marked on the countries page.
COUNTRY_KIND_NOTES = {
    Country.Kind.REGION: gettext_lazy("region"),
    Country.Kind.HISTORICAL: gettext_lazy("historical state"),
    Country.Kind.ALLIANCE: gettext_lazy("alliance"),
}


def country_browse(request):
    return _browse(
        request,
        title=_("Countries and regions"),
        intro=_(
            "The countries and regions the claims are about. Regions, alliances and "
            "historical states (EU, NATO, USSR), which have no ISO country code, are marked."
        ),
        param="country",
        values=browse_counts("country"),
        notes={
            slug: COUNTRY_KIND_NOTES[kind]
            for slug, kind in Country.objects.exclude(kind=Country.Kind.COUNTRY).values_list(
                "slug", "kind"
            )
        },
    )


def language_browse(request):
    return _browse(
        request,
        title=_("Languages"),
        intro=_("The languages the claims were published in."),
        param="language",
        values=browse_counts("language"),
    )


def outlet_browse(request):
    return _browse(
        request,
        title=_("Outlets"),
        intro=_("The media outlets where the claims appeared."),
        param="outlet",
        values=browse_counts("outlet"),
    )


def issue_browse(request):
    values = [
        (number, _issue_label(number, date), count)
        for number, date, count in browse_counts("issue")
    ]
    return _browse(
        request,
        title=_("Review issues"),
        intro=_("The weekly reviews the cases were reported in, newest first."),
        param="issue",
        values=values,
    )


def _issue_label(number, date):
    if date is None:
        return _("Issue %(number)s") % {"number": number}
    day = date_format(date, "DATE_FORMAT")
    return _("Issue %(number)s, %(date)s") % {"number": number, "date": day}
