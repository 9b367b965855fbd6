from django import template
from django.http import QueryDict

from cases.filters import CaseFilter

register = template.Library()


@register.simple_tag(takes_context=True)
def view_query(context, ordering=False):
    """The request's filter parameters as a query string, for links to the same view elsewhere.

    Paging parameters are left out; so is `ordering`, unless ordering=True (exports keep the
    order of the list, feeds and statistics have their own).
    """
    request = context.get("request")
    if request is None:
        return ""
    query = QueryDict(mutable=True)
    for name in CaseFilter.base_filters:
        if name == "ordering" and not ordering:
            continue
        values = [value for value in request.GET.getlist(name) if value.strip()]
        if values:
            query.setlist(name, values)
    return query.urlencode()
