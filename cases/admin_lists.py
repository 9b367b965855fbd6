"""The admin's lists at a million cases: page counts, the date drill-down, and how many
cases use each taxonomy value, each read without going through every case.

Measured at 1,000,000 cases (bench/admin_speed.py): counting every case a list or a search
matches, listing the years that have cases with DISTINCT, and counting the cases of every
keyword with GROUP BY each took from half a second to seconds a page.
"""

import datetime
import json
from collections import Counter

from django.contrib import admin
from django.contrib.postgres.expressions import ArraySubquery
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import BooleanField, Count, F, Func, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from cases import facets


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to EXACT_UP_TO matches, and past that says about how many there
    are (PostgreSQL's estimate, `estimated` set): a search for a common word matches most
    cases, and counting them all took seconds.

    When the estimate is far past the limit, not even the limit is counted: reading the
    first 10,000 search vectors of a common word takes a tenth of a second. The unfiltered
    list of cases is counted exactly, from the facet index's count of the published cases
    and an index of the others.
    """

    EXACT_UP_TO = 10_000
    # Estimates are rough: below this many times the limit, count up to the limit.
    SURELY_PAST = 10

    estimated = False

    @cached_property
    def count(self):
        queryset = self.object_list
        if not queryset.query.where and queryset.model._meta.model_name == "case":
            return every_case_count(queryset)
        planned = planned_rows(queryset)
        if planned <= self.EXACT_UP_TO * self.SURELY_PAST:
            capped = queryset.order_by()[: self.EXACT_UP_TO + 1].count()
            if capped <= self.EXACT_UP_TO:
                return capped
        self.estimated = True
        return max(two_figures(planned), self.EXACT_UP_TO + 1)


def every_case_count(queryset):
    from cases.models import Case

    return facets.published_count() + queryset.exclude(status=Case.Status.PUBLISHED).count()


def text_matches(queryset, condition):
    """`condition` (a full-text match) on the cases of `queryset`, written so that
    PostgreSQL finds the newest matches fast however many there are.

    The lists show the newest cases first. For a word in many cases, reading the date index
    backwards meets a page of matches at once. The planner's statistics know only the
    commonest words, though, and guess 0.5% of the cases for any other: reading the date
    index backwards for a word in 219 cases took 12 s at a million. So when the planner
    expects at most FEW_MATCHES, the ids of the matches are collected from the search index
    first, in one array, and only those cases are sorted.
    """
    if planned_rows(queryset.filter(condition)) > FEW_MATCHES:
        return condition
    ids = ArraySubquery(queryset.filter(condition).order_by().values("pk"))
    return Q(
        Func(
            F("pk"),
            ids,
            template="(%(expressions)s))",
            arg_joiner=" = ANY(",
            output_field=BooleanField(),
        )
    )


FEW_MATCHES = 10_000


def two_figures(number):
    """An estimate rounded to what it can tell: 123,456 -> 120,000."""
    return round(number, 2 - len(str(number))) if number >= 100 else number


def planned_rows(queryset):
    """How many rows PostgreSQL's planner expects `queryset` to return."""
    plan = queryset.order_by().explain(format="json")
    if not plan:  # Django knows it matches nothing (QuerySet.none()) and asks nothing
        return 0
    return round(json.loads(plan)[0]["Plan"]["Plan Rows"])


class PlainActionCheckbox:
    """A ModelAdmin mixin: the list's checkboxes as Django renders them, written out.
    Rendering a hundred CheckboxInput widgets through the template engine took longer
    than all of the case list's queries."""

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, obj):
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            admin.helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )


# The date drill-down (ModelAdmin.date_hierarchy)


def without_distinct(queryset):
    """`queryset` without its DISTINCT, which the admin adds when a filter follows a
    many-to-many link (a language, say). A minimum or maximum is the same either way, and
    without it PostgreSQL does not make every matching case distinct, all its columns
    compared, before each one (0.4 s a query for 29,000 cases)."""
    plain = queryset.order_by()
    plain.query.distinct = False
    plain.query.distinct_fields = ()
    return plain


def dates_with_cases(queryset, field, kind, first=None, last=None):
    """The years, months or days (`kind`) in which `queryset` has a `field` date, as
    QuerySet.dates() gives them, found by asking for the first date after each one found:
    one cheap query a period along an index on the date, where DISTINCT read every row.
    `first` and `last`, the earliest and latest dates when known, spare the probes for them.
    The reference of dates_in_one_query(), which the drill-down uses (tests hold them equal).

    Each probe is an ORDER BY ... LIMIT 1, not a MIN(): PostgreSQL answers a minimum from
    the index only for a table on its own, and a filter on a link (EXISTS) made each
    MIN() read every matching case (0.1 s a year for a language at a million cases)."""
    queryset = without_distinct(queryset).filter(**{f"{field}__isnull": False})
    found = []
    if first is None:
        first = first_date(queryset, field)
    while first is not None:
        period = truncate(first, kind)
        found.append(period)
        following = next_period(period, kind)
        if last is not None and following > last:
            break
        first = first_date(queryset.filter(**{f"{field}__gte": following}), field)
    return found


PERIOD_STEPS = {"year": "1 year", "month": "1 month", "day": "1 day"}


def dates_in_one_query(queryset, field, kind):
    """dates_with_cases() in one statement: the same probes of the date index, chained by
    PostgreSQL in a recursive query, where each was a round trip of its own. On a busy
    machine the round trips of a dozen probes took longer than the probes."""
    dated, params = dated_sql(queryset, field)
    step = PERIOD_STEPS[kind]
    sql = f"""
        WITH RECURSIVE periods(first) AS (
            (SELECT day FROM ({dated}) AS listed ORDER BY 1 LIMIT 1)
            UNION ALL
            SELECT (
                SELECT day FROM ({dated}) AS listed
                WHERE day >= (date_trunc('{kind}', periods.first) + interval '{step}')::date
                ORDER BY 1 LIMIT 1
            )
            FROM periods
            WHERE periods.first IS NOT NULL
        )
        SELECT date_trunc('{kind}', first)::date FROM periods WHERE first IS NOT NULL"""
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, [*params, *params])
        return [row[0] for row in cursor.fetchall()]


def first_and_last_dates(queryset, field):
    """(earliest, latest) `field` date of `queryset`, each one probe of the date index, in
    one statement."""
    dated, params = dated_sql(queryset, field)
    sql = f"SELECT ({dated} ORDER BY 1 LIMIT 1), ({dated} ORDER BY 1 DESC LIMIT 1)"
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, [*params, *params])
        return cursor.fetchone()


def dated_sql(queryset, field):
    """(SQL, params) of the `field` dates of `queryset`, as a column named day, unsorted."""
    dated = without_distinct(queryset).filter(**{f"{field}__isnull": False})
    return dated.values(day=F(field)).query.sql_with_params()


def first_date(queryset, field, newest=False):
    ordered = queryset.order_by(f"-{field}" if newest else field)
    return ordered.values_list(field, flat=True).first()


def truncate(day, kind):
    if kind == "year":
        return datetime.date(day.year, 1, 1)
    if kind == "month":
        return datetime.date(day.year, day.month, 1)
    return day


def next_period(start, kind):
    if kind == "year":
        return datetime.date(start.year + 1, 1, 1)
    if kind == "month":
        return (start + datetime.timedelta(days=31)).replace(day=1)
    return start + datetime.timedelta(days=1)


class DateDrillDown:
    """The change list as Django's date_hierarchy tag reads it, with its queryset's dates()
    answered by dates_in_one_query() when the list is long. A short list (counted exactly,
    at most FEW_MATCHES cases) has its distinct days read once, in one query. Used by the
    case list's template (the case_admin template tags)."""

    def __init__(self, changelist):
        self._changelist = changelist
        short = not changelist.paginator.estimated and changelist.result_count <= FEW_MATCHES
        wrapper = _DatesOfFewCases if short else _DatesFromIndex
        self.queryset = wrapper(changelist.queryset)

    def __getattr__(self, name):
        return getattr(self._changelist, name)


class _DatesOfFewCases:
    """A short list's dates, read once: its first and last dates and its periods, which
    Django asked in two passes over the list's cases (70-80 ms each for a language of
    1,700 cases on a busy machine)."""

    def __init__(self, queryset):
        self._queryset = queryset
        self._days = None

    def _days_of(self, field):
        if self._days is None:
            dated = without_distinct(self._queryset).filter(**{f"{field}__isnull": False})
            days = dated.order_by(field).values_list(field, flat=True).distinct()
            self._days = list(days)
        return self._days

    def aggregate(self, first, last):
        days = self._days_of(first.source_expressions[0].name)
        return {"first": days[0] if days else None, "last": days[-1] if days else None}

    def dates(self, field, kind):
        return sorted({truncate(day, kind) for day in self._days_of(field)})


class _DatesFromIndex:
    def __init__(self, queryset):
        self._queryset = queryset

    def aggregate(self, first, last):
        # Only the date drill-down's first and last dates are asked of it, as Min and Max
        # of its field: each is one probe of the date index.
        field = first.source_expressions[0].name
        earliest, latest = first_and_last_dates(self._queryset, field)
        return {"first": earliest, "last": latest}

    def dates(self, field, kind):
        return dates_in_one_query(self._queryset, field, kind)


# The filters' counts ("Show counts")

# A filtered list of up to this many cases (PostgreSQL's estimate) has its filters' values
# counted with SQL; past it, a value's count shows as "(-)".
COUNTED_UP_TO = 10_000


def linked_value_counts(cases, relation_name):
    """{value id: how many cases of `cases` it tags}, through the many-to-many field
    `relation_name` of Case; None when counting would read too much.

    The whole list: the facet index's counts of the published cases, plus a GROUP BY over
    the links of the others, kept until the next write (reading the others' links takes
    half a second at a million cases). A list of up to COUNTED_UP_TO cases: a GROUP BY
    over its links. Django's own counts, one COUNT(... FILTER) per value over the whole
    list, read the 3,000,000 keyword links 600 times over."""
    from cases.models import TAXONOMY_LINK_FIELDS, Case

    relation = Case._meta.get_field(relation_name)
    links = relation.remote_field.through.objects.order_by()
    column = f"{relation.m2m_reverse_field_name()}_id"

    def counted(links):
        return Counter(dict(links.values_list(column).annotate(cases=Count("*"))))

    if not cases.query.where:
        facet = {field: name for name, field in TAXONOMY_LINK_FIELDS.items()}[relation_name]
        others = links.exclude(case__status=Case.Status.PUBLISHED)
        return facets.per_data_version(
            ("admin: every case's links", relation_name),
            lambda: counted(others) + Counter(facets.published_counts_by_id(facet)),
        )
    if planned_rows(cases) <= COUNTED_UP_TO:
        return counted(links.filter(case_id__in=without_distinct(cases).values("pk")))
    return None


def status_counts(cases):
    """{status: how many cases of `cases` have it}, None when counting would read too much:
    the whole list's published cases from the facet index, the others along their partial
    index; a list of up to COUNTED_UP_TO cases with one GROUP BY."""
    from cases.models import Case

    def counted(cases):
        return Counter(dict(cases.values_list("status").annotate(cases=Count("*"))))

    if not cases.query.where:
        others = cases.order_by().exclude(status=Case.Status.PUBLISHED)
        return counted(others) + Counter({Case.Status.PUBLISHED: facets.published_count()})
    if planned_rows(cases) <= COUNTED_UP_TO:
        return counted(without_distinct(cases))
    return None


def counted_when_short(cases):
    """Whether Django may count a filter's values over `cases` its own way: one COUNT with
    a FILTER per value, reading every case of the list."""
    return planned_rows(cases) <= COUNTED_UP_TO


# Taxonomy lists


def link_count(model, field):
    """How many rows of `model` point at the outer row through `field`: computed for the
    rows of the page shown, along the index on `field`, instead of GROUP BY over them all."""
    counted = (
        model.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(count=Count("*"))
        .values("count")
    )
    return Coalesce(Subquery(counted), 0)
