import unicodedata
from urllib.parse import urlencode

from django.http import Http404, HttpResponsePermanentRedirect, QueryDict
from django.shortcuts import redirect
from django.template.defaultfilters import truncatewords
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cases.facets import (
    FACETS,
    SUGGEST_FACETS,
    browse_counts,
    estimated_count,
    facet_counts,
    newest_ids,
    position_before,
)
from cases.filters import (
    DEFAULT_ORDERING,
    ORDERINGS,
    CaseFilter,
    order_cases,
    unknown_parameter_message,
    unknown_parameters,
)
from cases.models import Case, Country
from cases.readmodels.case_page import prefetch_list_relations, published_case_for_page
from cases.readmodels.keyset import (
    KEY_ORDERINGS,
    MAX_RELEVANCE_OFFSET,
    Cursor,
    CursorError,
    paginate,
    rows_before,
)
from cases.search import (
    highlighted,
    ranked_matches,
    with_headlines,
    with_ids,
)
from cases.search.match import similar_published_cases
from cases.site.claimreview import apa_citation, bibtex_entry, citation, claim_review, permalink
from cases.site.corrections import withdrawal_url
from cases.site.streaming import progressive_page

PAGE_SIZE = 20
PAGE_SIZES = (20, 50, 100)
# Without the index, a page's position is counted with SQL only when the list is this short.
EXACT_POSITION_LIMIT = 10_000
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
# The form edits these; the search box (in the header), facets and chips edit the others.
FORM_FIELDS = ("date_after", "date_before", "issue", "ordering")
# Parameters that only move through the current view; a new filter starts at page one.
VIEW_PARAMS = ("cursor", "more")
# How the list is shown: kept across paging, filtering and sorting.
DISPLAY_PARAMS = ("view", "cols", "page_size")
# Kept by the list's forms as hidden fields: filters no field of theirs shows, and the view.
LOOKUP_AND_DISPLAY = ("updated_since", "appearance_url", "appearance_domain", *DISPLAY_PARAMS)
# The list page's own parameters beside the filters.
LIST_PARAMS = (*VIEW_PARAMS, *DISPLAY_PARAMS)

VIEWS = ("list", "table")
# The table's columns: (heading, orderings its heading sorts by, first one first).
TABLE_COLUMNS = {
    "title": (gettext_lazy("Title"), ()),
    "date": (gettext_lazy("Published"), ("-date", "date")),
    "keywords": (gettext_lazy("Keywords"), ()),
    "countries": (gettext_lazy("Countries and regions"), ()),
    "languages": (gettext_lazy("Languages"), ()),
    "outlets": (gettext_lazy("Outlets"), ()),
    "issue": (gettext_lazy("Issue"), ()),
    "updated_at": (gettext_lazy("Updated"), ("-updated_at",)),
}
DEFAULT_COLUMNS = ("title", "date", "keywords", "countries", "outlets")


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


def _display_choices(params, add_error):
    """(view, columns, page size) from the URL; each bad value is an error naming it."""
    view = params.get("view") or "list"
    if view not in VIEWS:
        add_error("view: " + _("choose one of %(choices)s.") % {"choices": ", ".join(VIEWS)})
        view = "list"
    page_size = PAGE_SIZE
    if params.get("page_size"):
        if params["page_size"] not in [str(size) for size in PAGE_SIZES]:
            choices = ", ".join(map(str, PAGE_SIZES))
            add_error("page_size: " + _("choose one of %(choices)s.") % {"choices": choices})
        else:
            page_size = int(params["page_size"])
    names = [name.strip() for value in params.getlist("cols") for name in value.split(",")]
    names = [name for name in names if name]
    unknown = [name for name in names if name not in TABLE_COLUMNS]
    if unknown:
        add_error(
            "cols: "
            + _("unknown column %(unknown)s; choose from %(choices)s.")
            % {"unknown": ", ".join(unknown), "choices": ", ".join(TABLE_COLUMNS)}
        )
    columns = list(dict.fromkeys(name for name in names if name in TABLE_COLUMNS))
    columns = columns or list(DEFAULT_COLUMNS)
    if "title" not in columns:
        columns.insert(0, "title")  # the title links to the case
    return view, columns, page_size


def _position(page, case_filter, ordering, cursor, total, total_is_approximate):
    """The 1-based position of the page's first case, or None when it is not cheap to know.

    From the cursor alone on the first page, from the total on the last, else counted with
    the facet index, or with SQL when the list is short.
    """
    if not page.object_list:
        return None
    if page.first_item:
        return page.first_item
    if cursor is None:
        return 1
    if page.is_last and not total_is_approximate:
        return total - len(page.object_list) + 1
    before = position_before(case_filter, ordering, page.first_key)
    if before is None and not total_is_approximate and total <= EXACT_POSITION_LIMIT:
        queryset = case_filter.qs.prefetch_related(None).order_by()
        before = rows_before(queryset, ordering, page.first_key).count()
    return None if before is None else before + 1


def _last_cursor(ordering, page_size, total, total_is_approximate, ranked_newest):
    if ordering in KEY_ORDERINGS:
        return Cursor(ordering, "last", ()).encode()
    # Relevance pages by offset: its last page is known when the count is exact and short.
    if total_is_approximate or ranked_newest or not total or total > MAX_RELEVANCE_OFFSET:
        return None
    return Cursor("relevance", "next", ((total - 1) // page_size * page_size,)).encode()


def _sort_link(params, orderings, ordering):
    """The link a sortable column heading carries: its first ordering, or the next one when
    it is in force already (newest first, then oldest first)."""
    if ordering in orderings:
        following = orderings[(orderings.index(ordering) + 1) % len(orderings)]
    else:
        following = orderings[0]
    return _link(params, ordering=[following])


def _table_columns(params, columns, ordering, searching):
    headings = []
    for name in columns:
        label, orderings = TABLE_COLUMNS[name]
        if name == "title" and searching:
            orderings = ("relevance",)
        sort = None
        if orderings:
            direction = None
            if ordering in orderings:
                direction = "ascending" if ordering == "date" else "descending"
            sort = {
                "url": _sort_link(params, orderings, ordering),
                "direction": direction,
                "active": ordering in orderings,
            }
        headings.append({"name": name, "label": label, "sort": sort})
    return headings


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
    case_filter = CaseFilter(params, queryset=listing, extras=LIST_PARAMS)
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
    view, columns, page_size = _display_choices(
        params, lambda message: case_filter.form.add_error(None, message)
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
    query = case_filter.form.cleaned_data.get("q", "").strip()
    # How many cases a search matches, or about, from the facet index: whether it matched
    # anything decides the spelling correction, and a ranked search ranks only the newest
    # matches when there are many (cases.search.ranked_matches). It costs the matches'
    # bitmap, which the count and the facets use after; paging by date through a search
    # that matches nothing, or asking whether it does (EXISTS), read every case instead.
    matching = estimated_count(case_filter) if query else None
    # Nothing matched as typed: each unknown word replaced by the closest one, as everywhere.
    corrected = case_filter.spelling_corrected(total=matching[0] if query else None)
    if corrected is not None:
        case_filter, query = corrected, corrected.corrected_query
        context["approximate"] = {
            "typed": params.get("q"),
            "corrected": query,
            "url": _link(params, q=[query]),
        }
        matching = estimated_count(case_filter)
    page, ranked_newest = _matches_page(
        case_filter, listing, query, ordering, cursor, page_size, matching
    )

    context.update(
        {
            # The form and the chips keep showing what was typed, as the URL does.
            "page": page,
            "cases": page.object_list,
            "ranked_newest": ranked_newest,
            "date_order_url": _link(params, ordering=["-date"]),
            "ordering": ordering,
            "chips": _active_filter_chips(params, typed_filter),
            "ordering_label": ORDERINGS[ordering],
            "orderings": ORDERINGS,
            "filter_params": " ".join(
                name for name in CaseFilter.base_filters if name != "ordering"
            ),
            # Filters set by links and the search box, and how the list is shown, carried
            # when the form is submitted.
            "hidden_values": [
                (name, value)
                for name in ("q", *FACETS, *LOOKUP_AND_DISPLAY)
                for value in params.getlist(name)
            ],
            # ... and what the search box keeps when a new search is made.
            "search_hidden_values": [
                (name, value)
                for name in (*FACETS, *FORM_FIELDS, *LOOKUP_AND_DISPLAY)
                for value in params.getlist(name)
            ],
            "next_url": _link(params, cursor=[page.next_cursor]) if page.next_cursor else None,
            "previous_url": (
                _link(params, cursor=[page.previous_cursor]) if page.previous_cursor else None
            ),
            "first_url": _link(params) if cursor else None,
            "clear_url": "?",
            "oldest_first_url": _link(params, ordering=["date"]) if ordering != "date" else None,
            "page_size": page_size,
            "page_sizes": [
                {
                    "size": size,
                    "url": _link(params, page_size=[str(size)] if size != PAGE_SIZE else None),
                    "current": size == page_size,
                }
                for size in PAGE_SIZES
            ],
            "view": view,
            "view_urls": {
                "list": _link(params, view=None),
                "table": _link(params, view=["table"]),
            },
            "columns": columns,
            "table_columns": _table_columns(params, columns, ordering, bool(query)),
        }
    )

    def counted():
        """The exact count, the position, the last page's link and the facets: what the
        page shows after its matches (the template calls this past its flush point)."""
        facet_limit = None if expanded else FACET_TOP + 1
        result = facet_counts(case_filter, limit=facet_limit)
        first_item = _position(
            page, case_filter, ordering, cursor, result.total, result.approximate
        )
        last_cursor = None
        if not page.is_last:
            last_cursor = _last_cursor(
                ordering, page_size, result.total, result.approximate, ranked_newest
            )
        counts = {
            "total": result.total,
            "total_is_approximate": result.approximate,
            "facets": _facet_panels(params, result, expanded),
            "first_item": first_item,
            "last_item": first_item + len(page.object_list) - 1 if first_item else None,
            "page_number": (
                (first_item - 1) // page_size + 1
                if first_item and (first_item - 1) % page_size == 0
                else None
            ),
            "last_url": _link(params, cursor=[last_cursor]) if last_cursor else None,
        }
        context.update(counts)
        return counts

    context["counted"] = counted
    # The matches are sent as soon as they are rendered; the count and the facets follow.
    return progressive_page(request, "cases/case_list.html", context)


def _matches_page(case_filter, listing, query, ordering, cursor, page_size, matching):
    """(the page of matches, how many newest matches were ranked or None for all).

    `matching` is a search's (how many cases match, whether that is an estimate).
    """
    # The page query reads plain rows; their related data is fetched once for the page.
    page_queryset = case_filter.qs.prefetch_related(None)
    ranked_newest = None
    if matching == (0, False):
        # Nothing matches, exactly: paging by date through nothing would read every case.
        page_queryset = page_queryset.none()
    elif ordering == "relevance" and query:
        page_queryset, ranked_newest = ranked_matches(
            case_filter, page_queryset, listing.prefetch_related(None), query, matching[0]
        )
        page_queryset = order_cases(page_queryset, ordering, searching=True)
    elif ordering == DEFAULT_ORDERING and cursor is None:
        # The first page, newest first: its ids from the facet index when it knows them.
        ids = newest_ids(case_filter, page_size + 1)
        if ids is not None:
            page_queryset = with_ids(page_queryset, ids)
    if query:
        page_queryset = with_headlines(page_queryset, query)
    page = paginate(page_queryset, ordering, cursor, page_size)
    # What each card shows of its relations (listing's prefetches), in one statement.
    prefetch_list_relations(page.object_list)
    for case in page.object_list:
        if query:
            case.title_html = highlighted(case.title_headline)
            case.summary_html = highlighted(case.summary_headline, case.summary)
    return page, ranked_newest


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
        "apa_citation": apa_citation(case, request),
        "bibtex_entry": bibtex_entry(case, request),
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
BROWSE_PARAMETERS = {"sort", "q", "page"}
# Values on one browse page: 2,718 outlets on one page made 476 kB; 200 make about 40 kB.
BROWSE_PAGE_SIZE = 200


def _folded(text):
    """Text as a reader types it to find it: no case, no accents ("Ceska" finds "Česká")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _browse_link(**params):
    return "?" + urlencode({name: value for name, value in params.items() if value})


def _browse(request, *, title, intro, param, values, notes=None):
    """A browse page: every value with published cases, linking to the filtered list.

    `values` yields (url value, label, published case count), ordered by name as people
    sort names (cases.collation); `notes`, {url value: note}, marks some ("region").
    """
    notes = notes or {}
    sort = request.GET.get("sort", "name")
    query = request.GET.get("q", "").strip()
    error = None
    if sort not in BROWSE_SORTS:
        error = "sort: " + _("choose one of %(choices)s.") % {"choices": ", ".join(BROWSE_SORTS)}
        sort = "name"
    page_number = request.GET.get("page", "1")
    if not (page_number.isascii() and page_number.isdigit() and 0 < int(page_number) < 10**6):
        error = "page: " + _("a whole number from 1.")
        page_number = "1"
    page_number = int(page_number)
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
    all_values = len(rows)
    if query:
        needle = _folded(query)
        rows = [row for row in rows if needle in _folded(row["label"])]
    if sort == "count":
        rows.sort(key=lambda row: -row["count"])  # stable: ties stay in name order
    pages = max(1, -(-len(rows) // BROWSE_PAGE_SIZE))
    if page_number > pages:
        error = error or "page: " + ngettext(
            "there is only %(pages)s here.", "there are only %(pages)s here.", pages
        ) % {"pages": pages}
        page_number = 1
    start = (page_number - 1) * BROWSE_PAGE_SIZE
    shown = rows[start : start + BROWSE_PAGE_SIZE]
    sort_param = sort if sort != "name" else None

    def page_link(number):
        return _browse_link(sort=sort_param, q=query, page=number if number > 1 else None)

    context = {
        "title": title,
        "intro": intro,
        "rows": shown,
        "all_values": all_values,
        "matching": len(rows),
        "first_shown": start + 1 if shown else 0,
        "last_shown": start + len(shown),
        "query": query,
        "sort": sort,
        "sorts": BROWSE_SORTS,
        "sort_links": {
            key: _browse_link(sort=key if key != "name" else None, q=query) for key in BROWSE_SORTS
        },  # fmt: skip
        "page_number": page_number,
        "pages": pages,
        "previous_url": page_link(page_number - 1) if page_number > 1 else None,
        "next_url": page_link(page_number + 1) if page_number < pages else None,
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
