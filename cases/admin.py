import hashlib
import operator
from collections import defaultdict
from functools import reduce

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxLengthValidator
from django.db.models import Exists, F, Func, OuterRef, Q
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from simple_history.admin import SimpleHistoryAdmin

from cases import history, taxonomy, webhooks, workflow
from cases.admin_lists import (
    EstimatedCountPaginator,
    PlainActionCheckbox,
    counted_when_short,
    link_count,
    linked_value_counts,
    status_counts,
    text_matches,
)
from cases.api.tokens import set_new_key
from cases.collation import human_order
from cases.filters import MAX_INTEGER, whole_number
from cases.importers import paste
from cases.importers.base import CaseImportError
from cases.models import (
    ApiToken,
    ApiTokenUse,
    Appearance,
    Case,
    CaseRevision,
    CorrectionNote,
    Country,
    CountryAlias,
    ImportBatch,
    Issue,
    Keyword,
    KeywordAlias,
    Language,
    LanguageAlias,
    LinkStatus,
    Outlet,
    OutletAlias,
    PendingReference,
    TaxonomyRedirect,
    WebhookDelivery,
    WebhookSubscription,
)
from cases.readmodels.case_page import MAX_ID
from cases.search import prefix_query
from cases.search.similar import similar_cases
from cases.services import editing, merge, revisions
from cases.services import taxonomy as services_taxonomy
from cases.services.imports import save_cases
from cases.site.page_filters import render_markdown
from cases.urlnorm import lookup_url_or_blank

Status = Case.Status


class ReadOnlyMixin:
    """Nothing added, changed or deleted here: a record kept by the application itself."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AppearanceInline(admin.TabularInline):
    model = Appearance
    extra = 1
    autocomplete_fields = ["outlet"]
    fields = ["outlet", "url", "archive_url", "link_status"]
    readonly_fields = ["link_status"]

    @admin.display(description="links checked")
    def link_status(self, obj):
        if obj is None or obj.last_checked_at is None:
            return "not yet"
        return format_html(
            "URL: {} · archive: {} <small>({})</small>",
            obj.get_url_status_display() if obj.url else "–",
            obj.get_archive_status_display() if obj.archive_url else "–",
            obj.last_checked_at.strftime("%Y-%m-%d"),
        )


class PendingReferenceInline(admin.TabularInline):
    model = PendingReference
    extra = 0
    fields = ["title"]
    verbose_name = "related case not in the database yet"
    verbose_name_plural = "related cases not in the database yet (linked when they arrive)"


class CorrectionNoteInline(ReadOnlyMixin, admin.TabularInline):
    """Notes come with an edit, through CaseAdminForm.correction_note, and a published
    correction stays as it was published: hence read-only here."""

    model = CorrectionNote
    extra = 0
    fields = ["created_at", "text", "author", "case_version"]
    readonly_fields = ["created_at", "author", "case_version"]
    verbose_name_plural = "public correction notes (add one under “This change” above)"


class CaseAdminForm(forms.ModelForm):
    """The case form, with the three-way merge of stale saves and duplicate warnings.

    `user` is set on the class by CaseAdmin.get_form, and `conflict` (an EditConflict)
    when the write path refused the previous attempt to save this very POST.
    The status is set here on new cases only; later it moves with the workflow buttons.
    """

    user = None
    conflict_error = None

    # The version the editor loaded: the base of the three-way merge if the case moved on.
    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # The version whose conflicting fields the editor decided (resolve-<field> radios).
    conflict_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    not_a_duplicate = forms.BooleanField(
        required=False,
        label="Not a duplicate",
        help_text="Tick after checking the similar cases listed above: this is a new case.",
    )
    correction_note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Public correction note",
        help_text="Optional. Shown on the public case page with today's date. "
        "Say what was corrected and why.",
    )
    change_reason = forms.CharField(
        required=False,
        max_length=500,
        label="Reason for this change",
        help_text="Optional, for the history and the reviewer: what you changed and why.",
    )

    class Meta:
        model = Case
        fields = [
            "title",
            "summary",
            "disproof",
            "status",
            "withdrawal_reason",
            "date",
            "issue",
            "languages",
            "countries",
            "keywords",
            "related",
            "source_id",
            "source_url",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 6}),
            "disproof": forms.Textarea(attrs={"rows": 10}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.conflict = None
        self.similar = []
        self.revision = None
        for name, limit in editing.TEXT_LIMITS.items():
            if name in self.fields:
                self.fields[name].max_length = limit
                self.fields[name].validators.append(MaxLengthValidator(limit))
                self.fields[name].widget.attrs["maxlength"] = str(limit)
        if self.instance.pk:
            self.fields["loaded_version"].initial = self.instance.version
            # Without it an old form could not be merged: it would overwrite blindly.
            self.fields["loaded_version"].required = True
            self.fields["loaded_version"].error_messages["required"] = (
                "This form does not say which version of the case it was opened on: "
                "open the case again."
            )
            self.fields.pop("not_a_duplicate", None)
            self._show_open_revision()
        if "status" in self.fields and self.user is not None:
            allowed = workflow.allowed_statuses(self.user, self.instance)
            self.fields["status"].choices = [
                (value, label)
                for value, label in Status.choices
                if value in allowed and value != Status.WITHDRAWN
            ]

    def _show_open_revision(self):
        """An editor's open revision of a published case fills the form: they continue it."""
        if self.instance.status != Status.PUBLISHED:
            return
        self.revision = revisions.open_revision(self.instance, self.user)
        if self.revision is None:
            return
        values, _, _ = merge.arguments(self.revision.changes)
        for name, value in values.items():
            if name in self.fields:
                self.initial[name] = value.pk if hasattr(value, "pk") else value

    def clean(self):
        cleaned = super().clean()
        # Browsers post textareas with CRLF line ends; stored text uses LF, so an untouched
        # field doesn't show up as changed in the history.
        for name in ("summary", "disproof", "withdrawal_reason"):
            if isinstance(cleaned.get(name), str):
                cleaned[name] = cleaned[name].replace("\r\n", "\n")
        cleaned["resolved"] = {
            key.removeprefix("resolve-"): value
            for key, value in self.data.items()
            if key.startswith("resolve-") and value in ("mine", "theirs")
        }
        if self.conflict_error is not None:
            self._show_conflict(self.conflict_error)
        self._check_status(cleaned)
        if not self.instance.pk and not cleaned.get("not_a_duplicate"):
            self.similar = similar_cases(cleaned.get("title"), cleaned.get("summary"))
            if self.similar:
                self.add_error(
                    "not_a_duplicate",
                    f"{len(self.similar)} existing case(s) look similar (listed at the top). "
                    "Check them, then tick this box to save anyway.",
                )
        return cleaned

    def _show_conflict(self, error):
        """Refuse this POST, listing the fields both editors changed, side by side."""
        self.conflict = error
        self.data = self.data.copy()
        self.data[self.add_prefix("conflict_version")] = error.current
        editor = display_name(error.editor) if error.editor else "Another editor"
        raise ValidationError(
            "%(editor)s saved version %(theirs)s of this case while you were editing "
            "version %(mine)s. Their other changes are kept; the fields you both changed "
            "are listed below. Pick a side for each, then save again.",
            code="conflict",
            params={"editor": editor, "mine": error.expected, "theirs": error.current},
        )

    def _check_status(self, cleaned):
        status = cleaned.get("status")
        if status is None or self.user is None:
            return
        try:
            workflow.check_transition(
                self.user, self.instance, status, cleaned.get("withdrawal_reason", "")
            )
        except workflow.TransitionError as error:
            self.add_error("status", str(error))


def once_per_request(request, key, compute):
    """compute(), once per request: with the counts shown, Django makes the list's filters
    again for each filter it counts, and each asked its values again."""
    asked = request.__dict__.setdefault("_admin_filter_values", {})
    if key not in asked:
        asked[key] = compute()
    return asked[key]


class CountedWhenShort:
    """A list filter's counts ("Show counts") as Django makes them, one COUNT(... FILTER)
    per value over every case of the list, for a list of up to COUNTED_UP_TO cases; past
    that each value shows "(-)" (a second or more each at a million cases)."""

    def get_facet_queryset(self, changelist):
        cases = changelist.get_queryset(self.request, exclude_parameters=self.expected_parameters())
        if not counted_when_short(cases):
            return {}
        return cases.aggregate(**self.get_facet_counts(changelist.pk_attname, cases))


class StatusFilter(admin.ChoicesFieldListFilter):
    """The status filter, with its counts from status_counts(): the facet index's count
    of the published cases and a partial index of the others for the whole list."""

    def get_facet_queryset(self, changelist):
        cases = changelist.get_queryset(self.request, exclude_parameters=self.expected_parameters())
        counts = status_counts(cases)
        if counts is None:
            return defaultdict(lambda: "-")
        return {
            f"{i}__c": counts.get(value, 0) for i, (value, _) in enumerate(self.field.flatchoices)
        }


class IncompleteDataFilter(CountedWhenShort, admin.SimpleListFilter):
    title = "incomplete data"
    parameter_name = "incomplete"

    def lookups(self, request, model_admin):
        return [
            ("no_date", "No date"),
            ("no_keyword", "No keyword"),
            ("no_language", "No language"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "no_date":
            return queryset.filter(date__isnull=True)
        if value == "no_keyword":
            links = Case.keywords.through.objects.filter(case_id=OuterRef("pk"))
            return queryset.filter(~Exists(links))
        if value == "no_language":
            links = Case.languages.through.objects.filter(case_id=OuterRef("pk"))
            return queryset.filter(~Exists(links))
        return queryset


class RecentIssueFilter(CountedWhenShort, admin.SimpleListFilter):
    """A review issue by its number, typed in a box in the sidebar (?issue=270), with the
    newest issues that have cases under it. Listing every issue made a sidebar thousands
    of pixels tall; a list of the newest alone left older issues to hand-made URLs."""

    title = "issue"
    parameter_name = "issue"
    template = "admin/cases/filters/issue_search.html"
    SHOWN = 5
    LARGEST = 2**31 - 1  # Issue.number is a PostgreSQL integer

    def lookups(self, request, model_admin):
        numbers = (
            Issue.objects.filter(Exists(Case.objects.filter(issue=OuterRef("pk"))))
            .order_by("-number")
            .values_list("number", flat=True)[: self.SHOWN]
        )
        return once_per_request(
            request, "issues", lambda: [(str(number), f"Issue {number}") for number in numbers]
        )

    def has_output(self):
        return True  # the search box, even before any issue has cases

    def number(self):
        """The issue number asked for; None when none is, or when the value is no number."""
        value = (self.value() or "").strip()
        if value.isascii() and value.isdigit() and int(value) <= self.LARGEST:
            return int(value)
        return None

    def queryset(self, request, queryset):
        if not (self.value() or "").strip():
            return queryset  # the box sent empty: every issue
        number = self.number()
        if number is not None:
            return queryset.filter(issue__number=number)
        # With the counts shown, the changelist filters again for each other filter while
        # the page renders: a second message would show up on the next page.
        if not getattr(request, "_issue_filter_reported", False):
            request._issue_filter_reported = True
            messages.error(
                request,
                f"“{self.value()[:40]}” is not an issue number, so no case is shown. "
                "Type the issue's number in the box, or choose All issues.",
            )
        return queryset.none()

    def choices(self, changelist):
        self.kept_params = kept_params(changelist, self.parameter_name)
        choices = super().choices(changelist)
        every_issue = next(choices)
        every_issue["display"] = "All issues"
        yield every_issue
        yield from choices


def kept_params(changelist, parameter_name):
    """[(name, value)] of the list's other filters, its search and its ordering: what a
    filter's own form sends again with its value."""
    return [
        (name, value)
        for name, values in sorted(changelist.filter_params.items())
        if name != parameter_name
        for value in values
    ]


class DeadLinksFilter(CountedWhenShort, admin.SimpleListFilter):
    title = "links"
    parameter_name = "links"

    def lookups(self, request, model_admin):
        return [("dead", "Has dead links"), ("unchecked", "Has unchecked links")]

    def queryset(self, request, queryset):
        if self.value() == "dead":
            dead = Appearance.objects.filter(case_id=OuterRef("pk")).filter(
                Q(url_status=LinkStatus.DEAD) | Q(archive_status=LinkStatus.DEAD)
            )
            return queryset.filter(Exists(dead))
        if self.value() == "unchecked":
            unchecked = Appearance.objects.filter(case_id=OuterRef("pk"), last_checked_at=None)
            return queryset.filter(Exists(unchecked))
        return queryset


class ImportBatchFilter(CountedWhenShort, admin.SimpleListFilter):
    """The cases an import created or changed: those whose history names the batch."""

    title = "import"
    parameter_name = "import_batch"

    def lookups(self, request, model_admin):
        batches = ImportBatch.objects.order_by("-id")[:10]
        return once_per_request(
            request,
            "import batches",
            lambda: [(str(batch.pk), f"#{batch.pk} {batch.source[-40:]}") for batch in batches],
        )

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit():
            return queryset.none()
        records = Case.history.filter(
            id=OuterRef("pk"), history_change_reason=f"Import #{int(value)}"
        )
        # The cases it created are listed on the batch itself.
        created = (
            ImportBatch.objects.filter(pk=int(value))
            .annotate(case_id=Func(F("case_ids"), function="unnest"))
            .values("case_id")
        )
        return queryset.filter(Q(Exists(records)) | Q(pk__in=created))


class LinkedValueFilter(admin.SimpleListFilter):
    """The cases tagged with one language, country or keyword, at the URL Django's own
    filter of a many-to-many field takes (?languages__id__exact=3).

    Asked as EXISTS on the link table. Django's own filter joins it, and a join makes the
    admin's list DISTINCT: every column of every matching case compared, for the count,
    the page and each date of the drill-down (seconds for a language at a million cases).
    """

    field = None  # the many-to-many field of Case
    template = "admin/cases/filters/linked_values.html"

    def __init__(self, request, params, model, model_admin):
        relation = Case._meta.get_field(self.field)
        self.link_model = relation.remote_field.through
        self.link_column = f"{relation.m2m_reverse_field_name()}_id"
        self.value_model = relation.related_model
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        values = self.value_model.objects.order_by(*human_order("name"))
        return once_per_request(request, self.field, lambda: list(values.values_list("pk", "name")))

    def value_id(self):
        value = self.value()
        if not value:  # the select box's "All" sends the parameter empty
            return None
        number = whole_number(value, 1, MAX_INTEGER)
        if number is None:
            raise IncorrectLookupParameters(f"{self.parameter_name}: not an id")
        return number

    def queryset(self, request, queryset):
        value = self.value_id()
        if value is None:
            return queryset
        links = self.link_model.objects.filter(case_id=OuterRef("pk"), **{self.link_column: value})
        return queryset.filter(Exists(links))

    def get_facet_queryset(self, changelist):
        cases = changelist.get_queryset(self.request, exclude_parameters=self.expected_parameters())
        counts = linked_value_counts(cases, self.field)
        if counts is None:
            return {}  # shown as "(-)"
        return {f"{i}__c": counts.get(pk, 0) for i, (pk, _) in enumerate(self.lookup_choices)}

    def choices(self, changelist):
        """The values as the options of one select box, with a button: a link for each of
        600 keywords made a sidebar metres long, and each link's query string took longer
        to build than the list's queries."""
        self.kept_params = kept_params(changelist, self.parameter_name)
        counts = self.get_facet_queryset(changelist) if changelist.add_facets else None
        selected = self.value()
        options = []
        for i, (pk, name) in enumerate(self.lookup_choices):
            if counts is not None:
                name = f"{name} ({counts.get(f'{i}__c', '-')})"
            options.append((pk, mark_safe(" selected") if str(pk) == selected else "", name))
        self.options = format_html_join("", '<option value="{}"{}>{}</option>', options)
        yield from ()


class LanguageFilter(LinkedValueFilter):
    title = "languages"
    parameter_name = "languages__id__exact"
    field = "languages"
    template = "admin/filter.html"  # 35 values: listed as links

    def choices(self, changelist):
        return admin.SimpleListFilter.choices(self, changelist)


class CountryFilter(LinkedValueFilter):
    title = "countries and regions"
    parameter_name = "countries__id__exact"
    field = "countries"


class KeywordFilter(LinkedValueFilter):
    title = "keywords"
    parameter_name = "keywords__id__exact"
    field = "keywords"


class AddKeywordForm(forms.Form):
    keyword = forms.ModelChoiceField(queryset=Keyword.objects.all())


class PasteImportForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "cols": 100, "spellcheck": "false"}),
        label="Cases in the text layout",
        help_text="One or more cases, each starting with a “Disinfo:” title line.",
    )
    previewed = forms.CharField(widget=forms.HiddenInput, required=False)


def text_fingerprint(text):
    return hashlib.sha256(text.replace("\r\n", "\n").encode()).hexdigest()


class CaseChangeList(ChangeList):
    def get_results(self, request):
        # The list shows titles, dates and statuses: each case's summary, disproof and
        # search vector (5.6 KB a case, 560 KB a page) are left unread.
        self.queryset = self.queryset.defer("summary", "disproof", "search_vector")
        super().get_results(request)


@admin.register(Case)
class CaseAdmin(PlainActionCheckbox, SimpleHistoryAdmin):
    form = CaseAdminForm
    change_form_template = "admin/cases/case/change_form.html"
    change_list_template = "admin/cases/case/change_list.html"
    list_display = ["title", "date", "issue", "status", "updated_at"]
    list_filter = [
        ("status", StatusFilter),
        IncompleteDataFilter,
        DeadLinksFilter,
        RecentIssueFilter,
        LanguageFilter,
        CountryFilter,
        KeywordFilter,
        ImportBatchFilter,
    ]
    list_select_related = ["issue"]
    # Columns with an index to sort by: sorting a million titles took seconds.
    sortable_by = ["date", "updated_at"]
    # Searched through the full-text index (get_search_results), not field by field.
    search_fields = ["title", "summary", "=id"]
    search_help_text = "Words, or their start, of the title, keywords, summary or disproof; an id."
    # Past 10,000 matches a count is PostgreSQL's estimate, shown as "about".
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    date_hierarchy = "date"
    autocomplete_fields = ["issue", "languages", "countries", "keywords", "related"]
    readonly_fields = [
        "id",
        "slug",
        "current_version",
        "created_at",
        "updated_at",
        "published_at",
        "disproof_preview",
        "workflow_record",
    ]
    inlines = [AppearanceInline, PendingReferenceInline, CorrectionNoteInline]
    actions = ["submit_for_review", "publish", "add_keyword"]
    history_list_display = ["version"]
    object_history_template = "admin/cases/case/object_history.html"

    def get_changelist(self, request, **kwargs):
        return CaseChangeList

    def lookup_allowed(self, lookup, value, request=None):
        # Django checks the link filters' parameters as lookups across a many-to-many
        # field, which it allows only to its own filter of that field.
        linked = (LanguageFilter, CountryFilter, KeywordFilter)
        if lookup in {spec.parameter_name for spec in linked}:
            return True
        return super().lookup_allowed(lookup, value, request)

    def get_search_results(self, request, queryset, search_term):
        """Cases with every word of the term, or the start of one, in their search vector;
        a number also finds the case with that id, and a web address the cases that
        appeared there or were imported from it. The related-cases autocomplete asks the
        same. A substring search (icontains) read every title and summary: seconds per
        keystroke at a million cases."""
        term = search_term.strip()
        if not term:
            return queryset, False
        found = []
        if (query := prefix_query(term)) is not None:
            found.append(text_matches(queryset, Q(search_vector=query)))
        if term.isascii() and term.isdigit() and int(term) <= MAX_ID:
            found.append(Q(pk=int(term)))
        key = lookup_url_or_blank(term) if "://" in term else ""
        if key:
            at_url = Appearance.objects.filter(Q(lookup_url=key) | Q(lookup_archive_url=key))
            found.append(Q(pk__in=list(at_url.values_list("case_id", flat=True))))
            found.append(Q(source_url=term))
        if not found:
            return queryset.none(), False
        return queryset.filter(reduce(operator.or_, found)), False

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "summary",
                    "disproof",
                    "disproof_preview",
                    "loaded_version",
                    "conflict_version",
                ]
            },
        ),
        ("Publication", {"fields": ["workflow_record", "date", "issue"]}),
        ("Classification", {"fields": ["languages", "countries", "keywords", "related"]}),
        ("Source", {"classes": ["collapse"], "fields": ["source_url", "source_id"]}),
        ("This change", {"fields": ["change_reason", "correction_note"]}),
        (
            "Record",
            {
                "classes": ["collapse"],
                "fields": [
                    "id",
                    "slug",
                    "current_version",
                    "created_at",
                    "updated_at",
                    "published_at",
                ],
            },
        ),
    ]

    class Media:
        js = ["cases/admin/case_form.js"]
        css = {"all": ["cases/admin/case_form.css", "cases/admin/history.css"]}

    # Form and saving

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            # A new case gets its first status here; later it moves with the workflow
            # buttons (cases.workflow.ACTIONS).
            fieldsets = [
                (name, {**options, "fields": list(options["fields"])})
                for name, options in fieldsets
                if name != "This change"
            ]
            fieldsets[0][1]["fields"].append("not_a_duplicate")
            fieldsets[1][1]["fields"][0] = "status"
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        form.conflict_error = getattr(request, "case_conflict", None)
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except editing.EditConflict as conflict:
            # Nothing was written (the admin's transaction rolled back). The same POST is
            # shown again, with the conflicting fields side by side (CaseAdminForm).
            request.case_conflict = conflict
            return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description="status")
    def workflow_record(self, obj):
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in workflow_lines(obj)))

    @admin.display(description="version")
    def current_version(self, obj):
        return obj.version

    @admin.display(description="disproof as published")
    def disproof_preview(self, obj):
        rendered = render_markdown(obj.disproof) if obj and obj.disproof else ""
        return format_html(
            '<div class="disproof-preview" id="disproof-preview">{}</div>'
            '<button type="button" class="button" id="disproof-preview-button" '
            'data-url="{}">Preview the text as typed</button>',
            rendered or "(empty)",
            reverse("admin:cases_case_preview_markdown"),
        )

    def save_model(self, request, obj, form, change):
        """Nothing yet: save_related() writes the case, its links and its appearances in
        one call of the write path, once the inline formsets are known to be valid."""

    def save_related(self, request, form, formsets, change):
        data = form.cleaned_data
        by_model = {formset.model: formset for formset in formsets}
        request.case_saved = editing.save_case(
            form.instance,
            user=request.user,
            reason=data.get("change_reason", ""),
            base_version=data.get("loaded_version") if change else None,
            resolved=data.get("resolved"),
            resolved_at=data.get("conflict_version"),
            appearances=wanted_rows(by_model.get(Appearance), appearance_row),
            pending_titles=wanted_rows(by_model.get(PendingReference), lambda row: row["title"]),
            correction_note=data.get("correction_note", ""),
            **{name: data[name] for name in [*editing.FIELDS, *editing.LINKS] if name in data},
        )

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        """After a save, say what happened to the edit rather than the generic message."""
        saved = getattr(request, "case_saved", None)
        if saved is not None and level == messages.SUCCESS:
            request.case_saved = None
            message, level = saved_message(saved, request.user)
        super().message_user(request, message, level, *args, **kwargs)

    def construct_change_message(self, request, form, formsets, add=False):
        # The inlines are saved by the write path, not by formset.save(): the admin log
        # names the fields changed, and the case history has the whole diff.
        return super().construct_change_message(request, form, None, add)

    def delete_model(self, request, obj):
        editing.delete_case(obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for case in queryset.order_by("id"):
            editing.delete_case(case, user=request.user)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        context["conflict"] = form.conflict
        if form.conflict is not None:
            context["conflict_editor"] = (
                display_name(form.conflict.editor) if form.conflict.editor else "another editor"
            )
            context["conflict_rows"] = [
                {
                    "name": item.name,
                    "label": item.label,
                    "theirs": merge.display(item.name, item.theirs),
                    "mine": merge.display(item.name, item.mine),
                }
                for item in form.conflict.conflicts
            ]
        context["similar"] = form.similar
        # A case's look-alikes cost the match (a few hundred ms at a million cases): the
        # form shows a link to them, which its script follows to fill the section.
        context["duplicates_url"] = None
        if obj is not None and not form.is_bound:
            context["duplicates_url"] = reverse("admin:cases_case_duplicates", args=[obj.pk])
        context["similar_url"] = reverse("admin:cases_case_similar")
        context["revision"] = form.revision
        if obj is not None:
            context["workflow_actions"] = [
                (action, reverse("admin:cases_case_workflow", args=[obj.pk, action.name]))
                for action in workflow.actions_for(request.user, obj)
            ]
            context["open_revisions"] = [
                (revision, revisions.changes(revision))
                for revision in revisions.open_revisions()
                .filter(case=obj)
                .select_related("author", "reviewer")
            ]
            context["can_review"] = request.user.has_perm(workflow.PUBLISH)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # Case list

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context["waiting_for_review"] = Case.objects.filter(status=Status.IN_REVIEW).count()
        extra_context["revisions_waiting"] = (
            revisions.open_revisions().filter(status=CaseRevision.Status.PENDING).count()
        )
        extra_context["can_paste_import"] = self.has_add_permission(request)
        return super().changelist_view(request, extra_context)

    def has_submit_permission(self, request):
        return request.user.has_perm(workflow.SUBMIT)

    def has_publish_permission(self, request):
        return request.user.has_perm(workflow.PUBLISH)

    def _move_cases(self, request, queryset, new_status):
        moved, refused = editing.move_cases(queryset.order_by("id"), new_status, request.user)
        label = Status(new_status).label.lower()
        self.message_user(request, f"{moved} case(s) moved to {label}.", messages.SUCCESS)
        for case, error in refused:
            self.message_user(
                request, f"Not moved: #{case.pk} {case.title[:60]}: {error}", messages.WARNING
            )

    @admin.action(description="Submit selected cases for review", permissions=["submit"])
    def submit_for_review(self, request, queryset):
        self._move_cases(request, queryset, Status.IN_REVIEW)

    @admin.action(description="Publish selected cases", permissions=["publish"])
    def publish(self, request, queryset):
        self._move_cases(request, queryset, Status.PUBLISHED)

    @admin.action(description="Add a keyword to selected cases", permissions=["change"])
    def add_keyword(self, request, queryset):
        form = AddKeywordForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            keyword = form.cleaned_data["keyword"]
            added, proposed = editing.add_keyword(queryset.order_by("id"), keyword, request.user)
            message = f"Keyword “{keyword}” added to {added} case(s)."
            if proposed:
                message += (
                    f" For {proposed} published case(s) the addition waits for review in "
                    "the review queue."
                )
            self.message_user(request, message)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Add a keyword",
            "opts": self.model._meta,
            "cases": queryset,
            "form": form,
            "action": "add_keyword",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/cases/case/add_keyword.html", context)

    # Extra views

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("similar/", view(self.similar_view), name="cases_case_similar"),
            path(
                "<path:object_id>/duplicates/",
                view(self.duplicates_view),
                name="cases_case_duplicates",
            ),
            path(
                "preview-markdown/",
                view(self.preview_markdown_view),
                name="cases_case_preview_markdown",
            ),
            path("paste-import/", view(self.paste_import_view), name="cases_case_paste_import"),
            path("review/", view(self.review_queue_view), name="cases_case_review"),
            path(
                "revisions/<int:revision_id>/<str:decision>/",
                view(self.revision_decision_view),
                name="cases_case_revision_decision",
            ),
            path(
                "<path:object_id>/workflow/<str:action>/",
                view(self.workflow_view),
                name="cases_case_workflow",
            ),
            *super().get_urls(),
        ]

    def similar_view(self, request):
        """JSON: existing cases similar to ?title= and ?summary=, for the case form."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        exclude = request.GET.get("exclude", "")
        found = similar_cases(
            request.GET.get("title", "")[:500],
            request.GET.get("summary", "")[:5000],
            exclude_pk=whole_number(exclude, 1, MAX_ID),
        )
        return JsonResponse({"results": [similar_as_json(case) for case in found]})

    def duplicates_view(self, request, object_id):
        """The existing cases that look like a case, drafts included: a page of the admin,
        or with ?fragment=1 only its list, which the change form's script puts in the form
        (static/cases/admin/case_form.js). Those who may open the case's form may see it."""
        pk = whole_number(unquote(object_id), 1, MAX_ID)
        case = Case.objects.filter(pk=pk).first() if pk else None
        if case is None:
            raise Http404("No case has this id.")
        if not self.has_view_or_change_permission(request, case):
            raise PermissionDenied
        context = {
            "similar": similar_cases(case.title, case.summary, exclude_pk=case.pk),
            "original": case,
        }
        if request.GET.get("fragment"):
            return TemplateResponse(request, "admin/cases/case/_similar_list.html", context)
        context.update(
            self.admin_site.each_context(request),
            title=f"Possible duplicates of #{case.pk}",
            opts=self.model._meta,
        )
        return TemplateResponse(request, "admin/cases/case/duplicates.html", context)

    def preview_markdown_view(self, request):
        """JSON: the disproof as the public page will render it (POST text=)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return JsonResponse({"error": "POST the text to preview."}, status=405)
        return JsonResponse({"html": render_markdown(request.POST.get("text", "")[:100_000])})

    def workflow_view(self, request, object_id, action):
        """A workflow move: a confirmation saying what it does, then the move on POST."""
        case = get_object_or_404(Case, pk=unquote(object_id))
        if not self.has_change_permission(request, case):
            raise PermissionDenied
        move = workflow.find_action(case, action)
        if move is None or move not in workflow.actions_for(request.user, case):
            self.message_user(
                request,
                f"“{action}” is not a move you can make on this {case.get_status_display()} case.",
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))
        error = None
        if request.method == "POST":
            version = request.POST.get("version", "")
            try:
                editing.move_case(
                    case,
                    move,
                    request.user,
                    note=request.POST.get("note", ""),
                    expected_version=whole_number(version, 1, MAX_INTEGER),
                )
            except workflow.TransitionError as refused:
                error = str(refused)
            except editing.EditConflict:
                error = "The case changed since this page was opened: check it again, then confirm."
                case.refresh_from_db()
            else:
                case.refresh_from_db()
                self.message_user(request, move.format(move.done, case), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": move.label,
            "opts": self.model._meta,
            "original": case,
            "action": move,
            "question": move.format(move.question, case),
            "error": error,
            "note": request.POST.get("note", ""),
        }
        return TemplateResponse(request, "admin/cases/case/workflow_confirm.html", context)

    def review_queue_view(self, request):
        """What waits for whom: cases and revisions for publishers, send-backs for editors."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        in_review = (
            Case.objects.filter(status=Status.IN_REVIEW)
            .select_related("submitted_by")
            .order_by("submitted_at", "id")
        )
        pending = (
            revisions.open_revisions()
            .filter(status=CaseRevision.Status.PENDING)
            .select_related("case", "author")
            .order_by("updated_at", "id")
        )
        sent_back_cases = (
            Case.objects.filter(status=Status.DRAFT)
            .exclude(review_comment="")
            .select_related("reviewed_by", "submitted_by")
            .order_by("-reviewed_at", "-id")
        )
        sent_back_revisions = (
            revisions.open_revisions()
            .filter(status=CaseRevision.Status.CHANGES_REQUESTED)
            .select_related("case", "author", "reviewer")
            .order_by("-reviewed_at", "-id")
        )
        sent_back_revisions = [
            (revision, revisions.changes(revision)) for revision in sent_back_revisions
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Review queue",
            "opts": self.model._meta,
            "in_review": in_review,
            "pending": [(revision, revisions.changes(revision)) for revision in pending],
            "sent_back_cases": sent_back_cases,
            "sent_back_revisions": sent_back_revisions,
            "sent_back_count": len(sent_back_cases) + len(sent_back_revisions),
            "can_review": request.user.has_perm(workflow.PUBLISH),
        }
        return TemplateResponse(request, "admin/cases/case/review_queue.html", context)

    def revision_decision_view(self, request, revision_id, decision):
        """Approve, request changes to, or reject a revision (POST, publishers)."""
        revision = get_object_or_404(CaseRevision.objects.select_related("case"), pk=revision_id)
        back = request.POST.get("next") or reverse("admin:cases_case_review")
        if not back.startswith("/"):
            back = reverse("admin:cases_case_review")
        if request.method != "POST":
            return HttpResponseRedirect(back)
        decide = {
            "approve": revisions.approve,
            "request_changes": revisions.request_changes,
            "reject": revisions.reject,
        }.get(decision)
        if decide is None:
            raise Http404
        if not request.user.has_perm(workflow.PUBLISH):
            raise PermissionDenied
        title = revision.case.title
        try:
            decide(revision, request.user, request.POST.get("comment", ""))
        except revisions.ReviewError as error:
            self.message_user(request, str(error), messages.ERROR)
        except editing.EditConflict as conflict:
            fields = ", ".join(item.label for item in conflict.conflicts)
            self.message_user(
                request,
                f"Revision #{revision.pk} was not applied: the live case changed {fields} "
                "since it was made. Request changes, or edit the case yourself.",
                messages.ERROR,
            )
        else:
            author = display_name(revision.author)
            done = {
                "approve": f"Approved revision #{revision.pk} by {author}: “{title}” is "
                "live with the changes.",
                "request_changes": f"Sent revision #{revision.pk} back to {author} with "
                "your comment.",
                "reject": f"Rejected revision #{revision.pk} by {author}; the live case "
                "stays as it is.",
            }[decision]
            self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(back)

    def paste_import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PasteImportForm(request.POST or None)
        context = {
            **self.admin_site.each_context(request),
            "title": "Paste import",
            "opts": self.model._meta,
            "form": form,
        }
        if request.method == "POST" and form.is_valid():
            text = form.cleaned_data["text"]
            parsed, errors = paste.parse(text)
            fingerprint = text_fingerprint(text)
            confirmed = "confirm" in request.POST and form.cleaned_data["previewed"] == fingerprint
            if confirmed and not errors and parsed:
                try:
                    summary = save_cases(parsed, Status.DRAFT, user=request.user, propose=True)
                except CaseImportError as error:
                    errors = error.problems
                else:
                    self.message_user(request, pasted_message(summary), messages.SUCCESS)
                    return HttpResponseRedirect(pasted_destination(summary))
            if "confirm" in request.POST and not confirmed:
                messages.warning(request, "The text changed since the preview: check it again.")
            data = form.data.copy()
            data["previewed"] = fingerprint if not errors else ""
            context["form"] = PasteImportForm(data)
            context["errors"] = errors
            context["previews"] = paste.preview(parsed) if not errors else []
            context["can_confirm"] = not errors and bool(parsed)
        return TemplateResponse(request, "admin/cases/case/paste_import.html", context)

    # History

    def history_view(self, request, object_id, extra_context=None):
        """The case's versions; a case as its import batch created it shows the batch."""
        case = self.get_object(request, unquote(object_id))
        if case is None:
            try:
                Case._meta.pk.to_python(unquote(object_id))
            except ValidationError:
                # Not a case id at all ("5/change"): Django's answer for a case not there.
                return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        extra_context = {
            **(extra_context or {}),
            "import_batch": history.batch_entry(case) if case is not None else None,
        }
        return super().history_view(request, object_id, extra_context=extra_context)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        history.describe_records(historical_records)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """Revert: show what reverting to this version changes, and do it on POST."""
        case = get_object_or_404(Case, pk=unquote(object_id))
        record = case.history.filter(history_id=version_id).first()
        if record is None:
            raise Http404
        if not self.has_view_or_change_permission(request, case):
            raise PermissionDenied
        can_revert = self.has_change_permission(request, case)
        if request.method == "POST":
            if not can_revert:
                raise PermissionDenied
            revisions.revert(case, record, request.user)
            self.message_user(request, f"Reverted to version {record.version}.")
            return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))
        now, then = history.current_snapshot(case), history.snapshot(record)
        then["status"] = now["status"]  # a revert leaves the status (revisions.revert)
        changes = history.readable_diff(now, then)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Revert to version {record.version}",
            "opts": self.model._meta,
            "original": case,
            "record": record,
            "editor": history.editor_name(record),
            "changes": changes,
            "can_revert": can_revert,
        }
        return TemplateResponse(request, "admin/cases/case/revert.html", context)


def pasted_message(summary):
    """What a confirmed paste import did, each case or revision linked."""
    parts = []
    for case, outcome, revision in summary.saved:
        link = format_html(
            '<a href="{}">#{} {}</a>',
            reverse("admin:cases_case_change", args=[case.pk]),
            case.pk,
            case.title[:80],
        )
        if outcome == "created":
            parts.append(format_html("new draft {}", link))
        elif outcome == "proposed":
            parts.append(
                format_html(
                    '<a href="{}#revision-{}">revision #{}</a> of {}, waiting for review',
                    reverse("admin:cases_case_review"),
                    revision.pk,
                    revision.pk,
                    link,
                )
            )
        elif outcome == "updated":
            parts.append(format_html("updated {} ({})", link, case.get_status_display().lower()))
        else:
            parts.append(format_html("{} unchanged", link))
    return format_html(
        "Paste import saved: {}. No published case changed.",
        format_html_join("; ", "{}", ((part,) for part in parts)),
    )


def pasted_destination(summary):
    """Where to go after a paste import: what it made, when that is one thing."""
    if summary.proposed:
        return reverse("admin:cases_case_review")
    if len(summary.saved) == 1:
        return reverse("admin:cases_case_change", args=[summary.saved[0][0].pk])
    return reverse("admin:cases_case_changelist") + "?status__exact=draft"


def display_name(user):
    return (user.get_full_name() or user.get_username()) if user else "the system"


def workflow_lines(case):
    """Who moved the case through the workflow and when, as lines to show."""

    def when(moment):
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")

    lines = [case.get_status_display()]
    if case.submitted_at:
        lines.append(f"Submitted by {display_name(case.submitted_by)} on {when(case.submitted_at)}")
    if case.reviewed_at:
        lines.append(f"Reviewed by {display_name(case.reviewed_by)} on {when(case.reviewed_at)}")
    if case.review_comment:
        lines.append(f"Changes requested: {case.review_comment}")
    if case.published_at:
        by = f" by {display_name(case.published_by)}" if case.published_by else ""
        lines.append(f"Published{by} on {when(case.published_at)}")
    if case.status == Status.WITHDRAWN:
        lines.append(f"Withdrawn on {when(case.updated_at)}: {case.withdrawal_reason}")
    return lines


def saved_message(saved, user):
    """(message, level) telling an editor what became of their save."""
    case = saved.case
    if saved.revision is not None:
        url = reverse("admin:cases_case_review")
        return (
            format_html(
                "Your changes to “{}” wait for review as revision #{}: the public page "
                'still shows the published text until a publisher approves them. <a href="{}">'
                "Review queue</a>",
                case.title,
                saved.revision.pk,
                url,
            ),
            messages.SUCCESS,
        )
    if saved.created:
        return f"Created “{case.title}” as {case.get_status_display().lower()}.", messages.SUCCESS
    if not saved.changed:
        return f"Nothing changed in “{case.title}”: nothing was saved.", messages.INFO
    text = f"Saved “{case.title}” (version {case.version})."
    if saved.kept_newer:
        text += (
            " It was merged with the newer version another editor saved; their changes to "
            f"{', '.join(saved.kept_newer)} were kept."
        )
    if case.is_published:
        text += " The public page shows it now."
    return text, messages.SUCCESS


def appearance_row(data):
    return (data["outlet"].pk if data["outlet"] else None, data["url"], data["archive_url"])


def wanted_rows(formset, row):
    """What an inline formset asks for, in order: `row(cleaned_data)` of each form that is
    kept and not an untouched empty extra. None without the formset (nothing to change)."""
    if formset is None:
        return None
    deleted = set(map(id, formset.deleted_forms))
    return [
        row(form.cleaned_data)
        for form in formset.forms
        if id(form) not in deleted
        and form.cleaned_data
        and (form.instance.pk is not None or form.has_changed())
    ]


def similar_as_json(case):
    return {
        "id": case.pk,
        "title": case.title,
        "status": case.get_status_display(),
        "date": case.date.isoformat() if case.date else None,
        "similarity": round(case.similarity, 2),
        "matched_on": case.matched_on,
        "admin_url": reverse("admin:cases_case_change", args=[case.pk]),
        "public_url": case.get_absolute_url() if case.is_published else None,
    }


# Taxonomy


class MergeForm(forms.Form):
    keep = forms.ModelChoiceField(queryset=None, widget=forms.RadioSelect, label="Keep")

    def __init__(self, *args, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].queryset = queryset


class CaseCountAdmin(PlainActionCheckbox, admin.ModelAdmin):
    """Taxonomy admin showing how many cases use each value: the rows of `count_model`
    whose `count_field` is the value, counted for the values of the page shown."""

    count_model = None
    count_field = None

    def save_model(self, request, obj, form, change):
        # A renamed value changes every case that shows it (cases.services.taxonomy).
        services_taxonomy.save_value(obj)

    def get_ordering(self, request):
        # Names as people sort them (cases.collation), in lists and autocompletes alike.
        return human_order("name") if "name" in self.model._meta.ordering else []

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.annotate(case_count=link_count(self.count_model, self.count_field))

    @admin.display(description="cases", ordering="case_count")
    def case_count(self, obj):
        return obj.case_count


class MergeableAdmin(CaseCountAdmin):
    """Keywords, countries and outlets can be merged; old slugs keep redirecting."""

    actions = ["merge"]

    def has_merge_permission(self, request):
        return self.has_change_permission(request) and self.has_delete_permission(request)

    @admin.action(description="Merge selected values into one", permissions=["merge"])
    def merge(self, request, queryset):
        queryset = self.model.objects.filter(pk__in=queryset.values("pk"))
        queryset = queryset.order_by(*human_order("name"))
        if queryset.count() < 2:
            self.message_user(request, "Select at least two values to merge.", messages.WARNING)
            return None
        form = MergeForm(request.POST if "apply" in request.POST else None, queryset=queryset)
        if form.is_bound and form.is_valid():
            keep = form.cleaned_data["keep"]
            others = [value for value in queryset if value.pk != keep.pk]
            moved = services_taxonomy.merge(keep, others, user=request.user)
            names = ", ".join(value.name for value in others)
            self.message_user(
                request,
                f"Merged {names} into {keep.name}: {moved} case(s) moved; old links redirect.",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Merge {self.model._meta.verbose_name_plural}",
            "opts": self.model._meta,
            "values": queryset,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/cases/merge.html", context)


class AliasInline(admin.TabularInline):
    """Other names of the value, which imports read as it (cases.importers.taxonomy)."""

    extra = 1
    fields = ["name"]
    verbose_name = "other name"
    verbose_name_plural = "other names (aliases): imports read them as this value"


class KeywordAliasInline(AliasInline):
    model = KeywordAlias


class CountryAliasInline(AliasInline):
    model = CountryAlias


class LanguageAliasInline(AliasInline):
    model = LanguageAlias


class OutletAliasInline(AliasInline):
    model = OutletAlias
    verbose_name_plural = "other names and domains (aliases): imports read them as this outlet"


class AliasNamesMixin:
    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("aliases")

    @admin.display(description="aliases")
    def alias_names(self, obj):
        return ", ".join(alias.name for alias in obj.aliases.all())


@admin.register(Keyword)
class KeywordAdmin(AliasNamesMixin, MergeableAdmin):
    count_model = Case.keywords.through
    count_field = "keyword"
    list_display = ["name", "slug", "alias_names", "case_count"]
    search_fields = ["name", "slug", "aliases__name"]
    readonly_fields = ["slug"]
    inlines = [KeywordAliasInline]


@admin.register(Country)
class CountryAdmin(AliasNamesMixin, MergeableAdmin):
    count_model = Case.countries.through
    count_field = "country"
    list_display = ["name", "iso_code", "kind", "alias_names", "case_count"]
    list_filter = ["kind"]
    search_fields = ["name", "slug", "iso_code", "aliases__name"]
    readonly_fields = ["slug"]
    inlines = [CountryAliasInline]


@admin.register(Language)
class LanguageAdmin(AliasNamesMixin, CaseCountAdmin):
    count_model = Case.languages.through
    count_field = "language"
    list_display = ["name", "code", "alias_names", "case_count"]
    search_fields = ["name", "code", "aliases__name"]
    inlines = [LanguageAliasInline]


@admin.register(Outlet)
class OutletAdmin(AliasNamesMixin, MergeableAdmin):
    count_model = Appearance
    count_field = "outlet"
    list_display = ["name", "domain", "alias_names", "case_count"]
    search_fields = ["name", "domain", "slug", "aliases__name"]
    readonly_fields = ["slug"]
    inlines = [OutletAliasInline]


class AliasAdmin(admin.ModelAdmin):
    """All the other names of one kind of value: list, search, add, with the value they
    stand for chosen by autocomplete."""

    target_field = None

    def get_list_display(self, request):
        return ["name", self.target_field]

    def get_search_fields(self, request):
        return ["name", f"{self.target_field}__name"]

    def get_autocomplete_fields(self, request):
        return [self.target_field]

    def get_fields(self, request, obj=None):
        return ["name", self.target_field]

    def get_ordering(self, request):
        return human_order("name")


@admin.register(KeywordAlias)
class KeywordAliasAdmin(AliasAdmin):
    target_field = "keyword"


@admin.register(CountryAlias)
class CountryAliasAdmin(AliasAdmin):
    target_field = "country"


@admin.register(LanguageAlias)
class LanguageAliasAdmin(AliasAdmin):
    target_field = "language"


@admin.register(OutletAlias)
class OutletAliasAdmin(AliasAdmin):
    target_field = "outlet"


@admin.register(Issue)
class IssueAdmin(CaseCountAdmin):
    count_model = Case
    count_field = "issue"
    list_display = ["number", "date", "case_count"]
    search_fields = ["=number"]


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """What each import did; its cases are listed in the case list's import filter."""

    list_display = [
        "__str__",
        "created_at",
        "user",
        "source",
        "created",
        "updated",
        "skipped",
        "cases",
    ]
    search_fields = ["source"]
    readonly_fields = [
        "created_at",
        "user",
        "source",
        "created",
        "updated",
        "unchanged",
        "skipped",
        "cases",
    ]
    # The ids of the cases it created (up to the whole archive): the "cases" link lists them.
    exclude = ["case_ids"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("case_ids")

    @admin.display(description="cases")
    def cases(self, obj):
        url = reverse("admin:cases_case_changelist") + f"?import_batch={obj.pk}"
        return format_html('<a href="{}">{} cases written</a>', url, obj.created + obj.updated)


@admin.register(TaxonomyRedirect)
class TaxonomyRedirectAdmin(admin.ModelAdmin):
    list_display = ["kind", "old_slug", "target", "created_at"]
    list_filter = ["kind"]
    search_fields = ["old_slug"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="redirects to")
    def target(self, obj):
        model = taxonomy.MODELS_BY_KIND[obj.kind]
        value = model.objects.filter(pk=obj.target_id).first()
        return value.slug if value else "(missing)"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens for the API. The key is shown once, in the message after the token is
    made: only its digest is kept."""

    list_display = ["prefix", "user", "name", "scope", "created_at", "expires_at", "last_used_at"]
    list_filter = ["scope"]
    search_fields = ["user__username", "name", "prefix"]
    raw_id_fields = ["user"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "recent_uses"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "name", "scope", "expires_at"]
        return ["prefix", "user", "name", "scope", "expires_at", "created_at", "last_used_at",
                "recent_uses"]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "user"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        key = None if change else set_new_key(obj)
        super().save_model(request, obj, form, change)
        if key:
            messages.warning(
                request,
                format_html(
                    "The key of this token is <code>{}</code>. Copy it now: it is stored "
                    "only as a hash and cannot be shown again. Send it as "
                    "<code>Authorization: Token {}</code>.",
                    key,
                    key,
                ),
            )

    @admin.display(description="recent uses")
    def recent_uses(self, obj):
        uses = obj.uses.all()[:20]
        if not uses:
            return "none recorded"
        url = reverse("admin:cases_apitokenuse_changelist") + f"?token__id__exact={obj.pk}"
        rows = format_html_join(
            "", "<li>{} {} {} from {}</li>",
            ((f"{u.at:%Y-%m-%d %H:%M:%S}", u.method, u.path, u.ip_address) for u in uses),
        )  # fmt: skip
        return format_html('<ul>{}</ul><a href="{}">All uses</a>', rows, url)


@admin.register(ApiTokenUse)
class ApiTokenUseAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The record of token use: every write, and reads at most once a minute per token."""

    list_display = ["at", "token", "method", "path", "ip_address"]
    list_filter = ["method", "token"]
    search_fields = ["path", "ip_address", "token__prefix", "token__user__username"]
    list_select_related = ["token__user"]
    date_hierarchy = "at"


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """Partners' endpoints (cases.webhooks). The secret is shown once, on creation."""

    list_display = ["__str__", "url", "active", "consecutive_failures", "disabled_at"]
    list_filter = ["active"]
    search_fields = ["url", "description"]
    filter_horizontal = ["keywords", "countries"]
    readonly_fields = [
        "consecutive_failures",
        "paused_until",
        "disabled_at",
        "disabled_reason",
        "created_at",
        "deliveries",
    ]
    fieldsets = [
        (None, {"fields": ["url", "description", "active"]}),
        ("Events", {"fields": ["on_published", "on_updated", "on_withdrawn"]}),
        ("Only cases with", {"fields": ["keywords", "countries"]}),
        (
            "Delivery",
            {
                "fields": [
                    "consecutive_failures",
                    "paused_until",
                    "disabled_at",
                    "disabled_reason",
                    "created_at",
                    "deliveries",
                ]
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        if obj.active and obj.disabled_at is not None:
            # Activated again by an editor: its kept queue is sent from the start.
            obj.disabled_at, obj.disabled_reason = None, ""
            obj.consecutive_failures, obj.paused_until = 0, None
        super().save_model(request, obj, form, change)
        if not change:
            messages.warning(
                request,
                format_html(
                    "The endpoint's signing secret, shown only this once: <code>{}</code>",
                    obj.secret,
                ),
            )

    @admin.display(description="delivery log")
    def deliveries(self, obj):
        if obj.pk is None:
            return "-"
        url = reverse("admin:cases_webhookdelivery_changelist")
        url += f"?subscription__id__exact={obj.pk}"
        waiting = obj.deliveries.filter(delivered_at__isnull=True).count()
        return format_html('<a href="{}">Deliveries</a> ({} waiting)', url, waiting)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The delivery log: read-only, with a replay action."""

    list_display = [
        "event_id",
        "event_type",
        "subscription",
        "case_id",
        "seq",
        "attempts",
        "last_status",
        "delivered_at",
        "next_attempt_at",
    ]
    list_filter = ["event_type", ("delivered_at", admin.EmptyFieldListFilter), "subscription"]
    search_fields = ["event_id", "=case_id"]
    list_select_related = ["subscription"]
    actions = ["replay"]

    def has_replay_permission(self, request):
        return request.user.has_perm("cases.change_webhooksubscription")

    @admin.action(description="Replay: send again", permissions=["replay"])
    def replay(self, request, queryset):
        count = webhooks.replay(queryset)
        self.message_user(request, f"{count} deliveries queued to be sent again.")
