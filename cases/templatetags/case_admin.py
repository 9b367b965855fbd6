"""Template filters of the case list (cases/templates/admin/cases/case/change_list.html)."""

from django import template

from cases.admin_lists import DateDrillDown

register = template.Library()


@register.filter
def dates_from_index(changelist):
    """The change list for Django's {% date_hierarchy %}, finding its periods cheaply."""
    return DateDrillDown(changelist)
