"""The one query contract: every public surface filters cases through CaseFilter.

See DESIGN.md, "One filter contract, everywhere". The same URL query means the same
thing on the HTML list, the API, exports, feeds and statistics.
"""

import copy
import difflib
import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import QueryDict
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Country, Keyword, Language, Outlet
from cases.urlnorm import NotAURL, lookup_domain, lookup_url

ORDERINGS = {
    "-date": _("Newest first"),
    "date": _("Oldest first"),
    "relevance": _("Best match"),
    "-updated_at": _("Recently updated"),
}
DEFAULT_ORDERING = "-date"
# The largest number PostgreSQL's integer holds (issue numbers).
MAX_INTEGER = 2**31 - 1
# As long as an appearance's URL may be (Appearance.url), with room for a scheme added.
MAX_LOOKUP_URL_LENGTH = 2100

# What shared links pick up on the way (campaign tags, click ids). They never select
# anything: the site redirects to the URL without them (cases.site.tracking), the API and
# every other check ignore them.
TRACKING_PARAMETERS = frozenset(
    {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
     "li_fat_id", "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok",
     "oly_anon_id", "oly_enc_id", "vero_id", "rb_clickid", "s_cid"}
)  # fmt: skip
TRACKING_PREFIXES = ("utm_",)


def is_tracking_parameter(name):
    return name.lower() in TRACKING_PARAMETERS or name.lower().startswith(TRACKING_PREFIXES)


def unknown_parameters(names, known):
    """The names, in order, that are neither `known` nor tracking parameters."""
    return sorted({name for name in names if name not in known and not is_tracking_parameter(name)})


def unknown_parameter_message(name, known):
    """'Unknown parameter. Did you mean keyword? This takes: …' for the parameter `name`."""
    close = difflib.get_close_matches(name.lower(), sorted(known), n=1, cutoff=0.75)
    if not known:
        return str(_("Unknown parameter: this takes none."))
    names = ", ".join(sorted(known))
    if close:
        message = _("Unknown parameter. Did you mean %(close)s? This takes: %(names)s.")
        return message % {"close": close[0], "names": names}
    return _("Unknown parameter. This takes: %(names)s.") % {"names": names}


class CaseFilterForm(forms.Form):
    """The filter's form. A parameter that is no filter and none of the surface's own
    (`extra_parameters`, set by CaseFilter) is an error naming it, not ignored."""

    extra_parameters = frozenset()

    def clean(self):
        cleaned_data = super().clean()
        known = {*self.fields, *self.extra_parameters}
        for name in unknown_parameters(self.data, known):
            self._errors[name] = self.error_class([unknown_parameter_message(name, known)])
        return cleaned_data

    def unknown_parameter_errors(self):
        """[(parameter, message)] of the parameters no filter and no surface takes."""
        return [
            (name, message)
            for name, messages in self.errors.items()
            if name != forms.forms.NON_FIELD_ERRORS and name not in self.fields
            for message in messages
        ]


# Numbers and dates in a query are written in ASCII digits only: int() and strptime() also
# read "２０２４", "+5", "2_024" and "2024-1-1", which no link of ours ever holds.
ASCII_DIGITS = re.compile(r"[0-9]+")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def whole_number(text, low, high):
    """The number `text` writes in ASCII digits, if it is from `low` to `high`; else None."""
    # int() refuses more than 4,300 digits (ValueError): no number of ours has 40.
    if len(text) > 40 or not ASCII_DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if low <= number <= high else None


class WholeNumberField(forms.IntegerField):
    """A whole number in ASCII digits from min_value to max_value; nothing else."""

    def __init__(self, *, min_value, max_value, **kwargs):
        message = format_lazy(
            _("Enter a whole number from {low} to {high}, in digits 0-9."),
            low=min_value,
            high=max_value,
        )
        kwargs.setdefault("error_messages", {}).setdefault("invalid", message)
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = whole_number(str(value).strip(), self.min_value, self.max_value)
        if number is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class WholeNumberFilter(django_filters.NumberFilter):
    field_class = WholeNumberField


class IsoDateField(forms.DateField):
    """A date written YYYY-MM-DD, as a date input sends it; "2024-1-1" is refused."""

    default_error_messages = {"invalid": _("Enter a date as YYYY-MM-DD, like 2024-01-31.")}

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not ISO_DATE.fullmatch(value.strip()):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class IsoDateFilter(django_filters.DateFilter):
    field_class = IsoDateField


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
            if whole_number(str(item).strip(), 0, 10**40) is None:
                # The value goes in params, never into the message: it may hold a "%".
                raise ValidationError(
                    _("Enter a year as a number, like 2022 (got “%(value)s”)."),
                    code="invalid",
                    params={"value": item},
                )
            year = int(str(item).strip())
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
    format allows up to 24), and whose year is at least 1 once in UTC. Its date is written
    YYYY-MM-DD, in ASCII digits."""

    def to_python(self, value):
        text = value.strip() if isinstance(value, str) else ""
        if text and not (text.isascii() and ISO_DATE.match(text)):
            raise ValidationError(
                _("Enter a time as ISO 8601, like 2024-01-31T12:00:00Z."), code="invalid"
            )
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


class LookupKeyField(forms.CharField):
    """A web address or domain, cleaned to its lookup key by `to_key` (cases.urlnorm)."""

    to_key = None
    invalid_message = None

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", MAX_LOOKUP_URL_LENGTH)
        super().__init__(*args, **kwargs)

    def clean(self, value):
        text = super().clean(value).strip()
        if not text:
            return ""
        try:
            return self.to_key(text)
        except NotAURL:
            raise ValidationError(self.invalid_message, code="invalid") from None


class AppearanceURLField(LookupKeyField):
    """A web address, cleaned to its lookup key (cases.urlnorm.lookup_url)."""

    to_key = staticmethod(lookup_url)
    invalid_message = _("Give a web address, like https://example.com/article.")


class AppearanceDomainField(LookupKeyField):
    """A domain name (or a URL, of which the host counts), cleaned to its host key."""

    to_key = staticmethod(lookup_domain)
    invalid_message = _("Give a domain name, like example.com.")


class AppearanceURLFilter(django_filters.CharFilter):
    """Cases that appeared at this URL, or whose archived copy is of it (lookup keys)."""

    field_class = AppearanceURLField

    def filter(self, qs, value):
        if not value:
            return qs
        from cases.models import Appearance

        at_url = Appearance.objects.filter(case_id=OuterRef("pk")).filter(
            Q(lookup_url=value) | Q(lookup_archive_url=value)
        )
        return qs.filter(Exists(at_url))


class AppearanceDomainFilter(django_filters.CharFilter):
    """Cases that appeared on this domain or one of its subdomains (host keys' prefix)."""

    field_class = AppearanceDomainField

    def filter(self, qs, value):
        if not value:
            return qs
        from cases.models import Appearance

        on_domain = Appearance.objects.filter(case_id=OuterRef("pk")).filter(
            Q(lookup_host__startswith=value) | Q(lookup_archive_host__startswith=value)
        )
        return qs.filter(Exists(on_domain))


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
    issue = WholeNumberFilter(
        field_name="issue__number", label=_("Review issue"), min_value=1, max_value=MAX_INTEGER
    )
    date_after = IsoDateFilter(
        field_name="date",
        lookup_expr="gte",
        label=_("Published on or after"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_before = IsoDateFilter(
        field_name="date",
        lookup_expr="lte",
        label=_("Published on or before"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    updated_since = UpdatedSinceFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Updated since (ISO 8601)")
    )
    appearance_url = AppearanceURLFilter(
        label=_("Appeared at URL"),
        help_text=_("A web address; its archived copies and tracking parameters count as it."),
    )
    appearance_domain = AppearanceDomainFilter(
        label=_("Appeared on domain"),
        help_text=_("A domain name; its subdomains count too."),
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
        form = CaseFilterForm

    def __init__(
        self,
        data=None,
        queryset=None,
        *,
        request=None,
        prefix=None,
        extras=(),
        statuses_as_tombstones=False,
    ):
        """As django-filter's own, but each filter is copied, not deep-copied.

        `extras` names the parameters the surface takes beside the filters (`cursor`,
        `format`, ...): any other parameter is an error naming it (CaseFilterForm).
        `statuses_as_tombstones`: see EditorCaseFilter.

        A deep copy copies every filter's querysets, choices and labels: a third of a
        millisecond on every list, API page, export and feed. What a filter holds for one
        FilterSet is its parent, its model and, with `method`, the FilterMethod bound to it.
        """
        self.extras = frozenset(extras)
        self.statuses_as_tombstones = statuses_as_tombstones
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

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            form.extra_parameters = self.extras
        return self._form

    @classmethod
    def parameters(cls):
        """Every parameter the filter reads."""
        return frozenset(cls.base_filters)

    def spelling_corrected(self, total=None):
        """This filter with its search's unknown words corrected, when it matches nothing.

        None when there is no search, when it matches something as typed (`total`, if the
        surface counted already), or when no correction matches anything. The one rule
        every surface follows: the page, the API, feeds, exports and statistics.
        """
        if not self.is_bound or not self.is_valid():
            return None
        query = self.form.cleaned_data.get("q", "").strip()
        if not query:
            return None
        if total is None:
            total = 1 if self.qs.exists() else 0
        if total:
            return None
        from cases.search import approximate_query

        correction = approximate_query(query)
        if not correction:
            return None
        data = self.data.copy()
        data["q"] = correction
        corrected = type(self)(
            data,
            queryset=self.queryset,
            request=self.request,
            extras=self.extras,
            statuses_as_tombstones=self.statuses_as_tombstones,
        )
        if not corrected.is_valid() or not corrected.qs.exists():
            return None
        corrected.typed_query = query
        corrected.corrected_query = corrected.form.cleaned_data["q"].strip()
        return corrected

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
    """CaseFilter for editors, who see drafts in the API: every taxonomy value is known, and
    cases may be chosen by status."""

    keyword = keyword_filter(Keyword.objects.all())
    country = country_filter(Country.objects.all())
    language = language_filter(Language.objects.all())
    outlet = outlet_filter(Outlet.objects.all())
    status = django_filters.MultipleChoiceFilter(
        choices=Case.Status.choices,
        method="filter_status",
        label=_("Status"),
        help_text=_("Editors only; repeatable. In a sync, cases of other statuses are tombstones."),
    )

    def filter_status(self, queryset, name, value):
        # In a sync (statuses_as_tombstones) cases of other statuses stay, to be shown as
        # tombstones rather than be left out.
        if not value or self.statuses_as_tombstones:
            return queryset
        return queryset.filter(status__in=value)
