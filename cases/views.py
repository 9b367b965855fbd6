from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Prefetch
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, redirect, render

from cases.filters import ORDERINGS, CaseFilter
from cases.models import Case
from cases.taxonomy import redirected_query

PAGE_SIZE = 20


def case_list(request):
    # A merged or renamed keyword, country or outlet keeps its old links working.
    redirected = redirected_query(request.GET)
    if redirected is not None:
        return HttpResponsePermanentRedirect(f"{request.path}?{redirected.urlencode()}")
    case_filter = CaseFilter(request.GET, queryset=Case.objects.published().with_related_data())
    page = None
    status = 200
    if case_filter.is_valid():
        paginator = Paginator(case_filter.qs, PAGE_SIZE)
        try:
            page = paginator.page(request.GET.get("page") or 1)
        except PageNotAnInteger:
            case_filter.form.add_error(None, "page: must be a whole number.")
            status = 400
        except EmptyPage:
            page = paginator.page(paginator.num_pages)
    else:
        status = 400

    query_without_page = request.GET.copy()
    query_without_page.pop("page", None)
    context = {
        "filter": case_filter,
        "form": case_filter.form,
        "page": page,
        "cases": page.object_list if page else [],
        "orderings": ORDERINGS,
        "query_without_page": query_without_page.urlencode(),
        "is_filtered": any(v for k, v in request.GET.items() if k not in ("page", "ordering")),
    }
    return render(request, "cases/case_list.html", context, status=status)


def case_detail(request, pk, slug=None):
    published_related = Prefetch(
        "related", queryset=Case.objects.published().only("id", "title", "slug", "date")
    )
    queryset = Case.objects.published().with_related_data().prefetch_related(published_related)
    case = get_object_or_404(queryset, pk=pk)
    if slug != case.slug:
        return redirect(case, permanent=True)
    context = {"case": case}
    return render(request, "cases/case_detail.html", context)


def home(request):
    return redirect("cases:list")
