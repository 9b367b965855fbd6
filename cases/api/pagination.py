from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination

from cases import facets


class KnownCountPaginator(Paginator):
    """A Paginator told its count instead of running COUNT(*) over the filtered cases."""

    def __init__(self, *args, count, **kwargs):
        super().__init__(*args, **kwargs)
        self.count = count


class CasePagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None:
            # The facet index counts the filtered cases without reading them.
            bound = filterset_class(request.query_params, queryset=queryset, request=request)
            if bound.is_valid():
                known = facets.count(bound)
                self.django_paginator_class = lambda *a, **k: KnownCountPaginator(
                    *a, count=known, **k
                )
        return super().paginate_queryset(queryset, request, view)
