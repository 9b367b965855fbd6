"""The one query contract: every public surface filters cases through CaseFilter.

See DESIGN.md, "One filter contract, everywhere". The same URL query means the same
thing on the HTML list, the API, exports, feeds and statistics.
"""

import copy

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Country, Keyword, Language, Outlet

ORDERINGS = {
    "-date": _("Newest first"),
    "date": _("Oldest first"),
    "relevance": _("Most relevant (with a search)"),
    "-updated_at": _("Recently updated"),
}
DEFAULT_ORDERING = "-date"
# The largest number PostgreSQL's integer holds (issue numbers).
MAX_INTEGER = 2**31 - 1


def order_cases(queryset, ordering, searching):
    """Apply a whitelisted ordering; each one ends with id as the unique tie-breaker."""
    if ordering == "relevance" and searching:
        return queryset.order_by(F("rank").desc(), F("date").desc(nulls_last=True), "-id")
    if ordering == "date":
        return queryset.order_by(F("date").asc(nulls_last=True), "id")
    if ordering == "-updated_at":
        return queryset.order_by("-updated_at", "-id")
    return queryset.order_by(F("date").desc(nulls_last=True), "-id")


def no_values(value):
    """Is a slug filter's cleaned value empty? (Its parameter was not given.)

    An absent parameter cleans to queryset.none(): `not value` would compile its SQL (to
    find it empty) on every request, for every slug filter.
    """
    if isinstance(value, QuerySet):
        return value.query.is_empty() or not value
    return not value


class RedirectingSlugsField(django_filters.fields.ModelMultipleChoiceField):
    """Slugs of keywords, countries or outlets; an old slug counts as the value it became.

    Merged-away and renamed values leave a TaxonomyRedirect behind. It is looked up only
    when a slug is unknown, so valid queries pay nothing for it.
    """

    def __init__(self, *args, redirect_kind=None, **kwargs):
        self.redirect_kind = redirect_kind
        super().__init__(*args, **kwargs)

    def _check_values(self, value):
        try:
            return super()._check_values(value)
        except ValidationError as error:
            if self.redirect_kind is None or error.code != "invalid_choice":
                raise
            unknown = error
        from cases.taxonomy import current_slugs

        try:
            return super()._check_values(current_slugs(self.redirect_kind, [str(v) for v in value]))
        except ValidationError:
            # The message names what was typed, never the slug a redirect leads to.
            raise unknown from None


class RedirectingSlugsFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = RedirectingSlugsField


class SlugMultipleChoiceFilter(RedirectingSlugsFilter):
    """A repeatable slug parameter: OR within the facet, AND across facets.

    An unknown slug is a validation error naming the parameter, not an empty result. To the
    public, a value that tags no published case is unknown (`objects.public()`).
    Filtering uses EXISTS on the link table rather than a join, so no DISTINCT is needed.
    """

    def __init__(self, *args, through_field, **kwargs):
        self.through_field = through_field
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if no_values(value):
            return qs
        through = getattr(Case, self.field_name).through
        links = through.objects.filter(
            case_id=OuterRef("pk"), **{f"{self.through_field}__in": value}
        )
        return qs.filter(Exists(links))


class YearsField(forms.Field):
    """Repeatable year parameter: `?year=2021&year=2022`."""

    widget = forms.MultipleHiddenInput
    MIN_YEAR, MAX_YEAR = 1900, 2100

    def to_python(self, value):
        if not value:
            return []
        years = set()
        for item in value:
            try:
                year = int(str(item).strip())
            except ValueError:
                # The value goes in params, never into the message: it may hold a "%".
                raise ValidationError(
                    _("Enter a year as a number, like 2022 (got “%(value)s”)."),
                    code="invalid",
                    params={"value": item},
                ) from None
            if not self.MIN_YEAR <= year <= self.MAX_YEAR:
                raise ValidationError(
                    _("Enter a year between %(min)s and %(max)s (got %(year)s)."),
                    code="invalid",
                    params={"min": self.MIN_YEAR, "max": self.MAX_YEAR, "year": year},
                )
            years.add(year)
        return sorted(years)


class YearFilter(django_filters.Filter):
    """Cases published in any of the given years (OR within the facet)."""

    field_class = YearsField

    def filter(self, qs, value):
        if not value:
            return qs
        # date__year=… compiles to a date range, which the date index can serve.
        in_any_year = Q()
        for year in value:
            in_any_year |= Q(date__year=year)
        return qs.filter(in_any_year)


def keyword_filter(values):
    return SlugMultipleChoiceFilter(
        field_name="keywords",
        through_field="keyword",
        redirect_kind="keyword",
        to_field_name="slug",
        queryset=values,
        label=_("Keyword"),
    )


def country_filter(values):
    return SlugMultipleChoiceFilter(
        field_name="countries",
        through_field="country",
        redirect_kind="country",
        to_field_name="slug",
        queryset=values,
        label=_("Country or region"),
    )


def language_filter(values):
    return SlugMultipleChoiceFilter(
        field_name="languages",
        through_field="language",
        to_field_name="code",
        queryset=values,
        label=_("Language"),
    )


def outlet_filter(values):
    return RedirectingSlugsFilter(
        redirect_kind="outlet",
        method="filter_outlet",
        to_field_name="slug",
        queryset=values,
        label=_("Outlet"),
    )


class UpdatedSinceField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 time whose UTC offset PostgreSQL accepts (less than 16 hours; the ISO
    format allows up to 24), and whose year is at least 1 once in UTC."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        offset = moment.utcoffset()
        if offset is not None and abs(offset.total_seconds()) >= 16 * 3600:
            raise ValidationError(_("Give a UTC offset between -15:59 and +15:59."), code="invalid")
        return moment


class UpdatedSinceFilter(django_filters.IsoDateTimeFilter):
    field_class = UpdatedSinceField


class SearchField(forms.CharField):
    """Search text in websearch syntax, cleaned to what PostgreSQL parses (clean_query)."""

    def __init__(self, *args, **kwargs):
        from cases.search import MAX_QUERY_LENGTH

        kwargs.setdefault("max_length", MAX_QUERY_LENGTH)
        kwargs.setdefault("error_messages", {}).setdefault(
            "max_length",
            _("Search with at most %(limit_value)d characters (this search has %(show_value)d)."),
        )
        super().__init__(*args, **kwargs)

    def clean(self, value):
        from cases.search import clean_query

        return clean_query(super().clean(value))


class SearchFilter(django_filters.CharFilter):
    field_class = SearchField


class CaseFilter(django_filters.FilterSet):
    q = SearchFilter(
        method="filter_search",
        label=_("Search"),
        help_text=_('Full-text search: "exact phrase", -exclude, or.'),
    )
    # Only values of published cases: any other is unknown, as a slug that never existed.
    keyword = keyword_filter(Keyword.objects.public())
    country = country_filter(Country.objects.public())
    language = language_filter(Language.objects.public())
    outlet = outlet_filter(Outlet.objects.public())
    year = YearFilter(label=_("Year"), help_text=_("Year the claim was published; repeatable."))
    issue = django_filters.NumberFilter(
        field_name="issue__number", label=_("Review issue"), min_value=1, max_value=MAX_INTEGER
    )
    date_after = django_filters.DateFilter(
        field_name="date",
        lookup_expr="gte",
        label=_("Published on or after"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_before = django_filters.DateFilter(
        field_name="date",
        lookup_expr="lte",
        label=_("Published on or before"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    updated_since = UpdatedSinceFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Updated since (ISO 8601)")
    )
    ordering = django_filters.ChoiceFilter(
        method="filter_ordering",
        choices=list(ORDERINGS.items()),
        label=_("Order by"),
        empty_label=None,
    )

    class Meta:
        model = Case
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        """As django-filter's own, but each filter is copied, not deep-copied.

        A deep copy copies every filter's querysets, choices and labels: a third of a
        millisecond on every list, API page, export and feed. What a filter holds for one
        FilterSet is its parent, its model and, with `method`, the FilterMethod bound to it.
        """
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {}
        for name, declared in self.base_filters.items():
            filter_ = copy.copy(declared)
            if filter_.method is not None:
                filter_.method = filter_.method  # a FilterMethod bound to this copy
            filter_.model = queryset.model
            filter_.parent = self
            self.filters[name] = filter_

    def get_form_class(self):
        """The form class, built once: it is the same for every request."""
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.search(value) if value else queryset

    def filter_outlet(self, queryset, name, value):
        if no_values(value):
            return queryset
        from cases.models import Appearance

        appearances = Appearance.objects.filter(case_id=OuterRef("pk"), outlet__in=value)
        return queryset.filter(Exists(appearances))

    def filter_ordering(self, queryset, name, value):
        # Ordering is applied in filter_queryset, after every filter, so relevance can see q.
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        searching = bool(self.form.cleaned_data.get("q", "").strip())
        ordering = self.form.cleaned_data.get("ordering") or (
            "relevance" if searching else DEFAULT_ORDERING
        )
        return order_cases(queryset, ordering, searching)

    @property
    def active_ordering(self):
        if self.is_bound and self.form.is_valid():
            searching = bool(self.form.cleaned_data.get("q", "").strip())
            return self.form.cleaned_data.get("ordering") or (
                "relevance" if searching else DEFAULT_ORDERING
            )
        return DEFAULT_ORDERING


class EditorCaseFilter(CaseFilter):
    """CaseFilter for editors, who see drafts in the API: every taxonomy value is known."""

    keyword = keyword_filter(Keyword.objects.all())
    country = country_filter(Country.objects.all())
    language = language_filter(Language.objects.all())
    outlet = outlet_filter(Outlet.objects.all())
