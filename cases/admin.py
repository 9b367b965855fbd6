import hashlib

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from cases import history, taxonomy, workflow
from cases.importers import paste
from cases.importers.text import CaseImportError
from cases.models import (
    Appearance,
    Case,
    CorrectionNote,
    Country,
    Issue,
    Keyword,
    Language,
    LinkStatus,
    Outlet,
    OutletAlias,
    PendingReference,
    TaxonomyRedirect,
)
from cases.readmodels.case_page import MAX_ID
from cases.search import prefix_query
from cases.search.similar import similar_cases
from cases.services import editing, revisions
from cases.services import taxonomy as services_taxonomy
from cases.services.imports import save_cases
from cases.site.page_filters import render_markdown

Status = Case.Status


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


class CorrectionNoteInline(admin.TabularInline):
    model = CorrectionNote
    extra = 0
    fields = ["created_at", "text", "author", "case_version"]
    readonly_fields = ["created_at", "author", "case_version"]
    verbose_name_plural = "public correction notes (add one under “This change” above)"

    # Notes come with an edit, through CaseAdminForm.correction_note, and a published
    # correction stays as it was published.
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseAdminForm(forms.ModelForm):
    """The case form, with optimistic locking, workflow checks and duplicate warnings.

    `user` is set on the class by CaseAdmin.get_form.
    """

    user = None

    # The version the editor loaded; a save is refused if the case has moved on since.
    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
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
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.conflict = None
        self.similar = []
        if self.instance.pk:
            self.fields["loaded_version"].initial = self.instance.version
            self.fields.pop("not_a_duplicate", None)
        if "status" in self.fields and self.user is not None:
            allowed = workflow.allowed_statuses(self.user, self.instance)
            self.fields["status"].choices = [
                (value, label) for value, label in Status.choices if value in allowed
            ]

    def clean(self):
        cleaned = super().clean()
        # Browsers post textareas with CRLF line ends; stored text uses LF, so an untouched
        # field doesn't show up as changed in the history.
        for name in ("summary", "disproof", "withdrawal_reason"):
            if isinstance(cleaned.get(name), str):
                cleaned[name] = cleaned[name].replace("\r\n", "\n")
        if self.instance.pk:
            self._check_version(cleaned)
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

    def _check_version(self, cleaned):
        # The row stays locked until the admin's transaction ends, so two saves can't race.
        stored = Case.objects.select_for_update().only("version").get(pk=self.instance.pk)
        submitted = cleaned.get("loaded_version")
        if submitted == stored.version:
            return
        self.conflict = history.changes_since(self.instance, submitted) or []
        # The form keeps everything this editor typed; saving again, after reading the
        # other editor's changes, is a deliberate overwrite.
        self.data = self.data.copy()
        self.data[self.add_prefix("loaded_version")] = stored.version
        raise ValidationError(
            "Another editor saved this case since you opened it (your version %(mine)s, "
            "now %(theirs)s). Nothing was saved. Their changes are listed below; your "
            "edits are still in the form. Merge them, then save again.",
            code="stale",
            params={"mine": submitted, "theirs": stored.version},
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


class IncompleteDataFilter(admin.SimpleListFilter):
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


class RecentIssueFilter(admin.SimpleListFilter):
    """The newest review issues that have cases; any other by its number in the URL
    (?issue=270). Listing every issue made a sidebar thousands of pixels tall."""

    title = "issue"
    parameter_name = "issue"
    SHOWN = 10

    def lookups(self, request, model_admin):
        numbers = (
            Issue.objects.filter(Exists(Case.objects.filter(issue=OuterRef("pk"))))
            .order_by("-number")
            .values_list("number", flat=True)[: self.SHOWN]
        )
        shown = [(str(number), f"Issue {number}") for number in numbers]
        value = self.value()
        if value and value.isdigit() and value not in dict(shown):
            shown.append((value, f"Issue {value}"))
        return shown

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(issue__number=int(value))


class DeadLinksFilter(admin.SimpleListFilter):
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


@admin.register(Case)
class CaseAdmin(SimpleHistoryAdmin):
    form = CaseAdminForm
    change_form_template = "admin/cases/case/change_form.html"
    change_list_template = "admin/cases/case/change_list.html"
    list_display = ["title", "date", "issue", "status", "updated_at"]
    list_filter = ["status", IncompleteDataFilter, DeadLinksFilter, RecentIssueFilter, "languages"]
    list_select_related = ["issue"]
    # Searched through the full-text index (get_search_results), not field by field.
    search_fields = ["title", "summary", "=id"]
    search_help_text = "Words, or their start, of the title, keywords, summary or disproof; an id."
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
    ]
    inlines = [AppearanceInline, PendingReferenceInline, CorrectionNoteInline]
    actions = ["submit_for_review", "publish", "add_keyword"]
    history_list_display = ["version"]
    object_history_template = "admin/cases/case/object_history.html"

    def get_search_results(self, request, queryset, search_term):
        """Cases with every word of the term, or the start of one, in their search vector;
        a number also finds the case with that id. The related-cases autocomplete asks the
        same. A substring search (icontains) read every title and summary: seconds per
        keystroke at a million cases."""
        term = search_term.strip()
        if not term:
            return queryset, False
        matches = Q(search_vector=query) if (query := prefix_query(term)) else Q(pk__in=[])
        if term.isascii() and term.isdigit() and int(term) <= MAX_ID:
            matches |= Q(pk=int(term))
        return queryset.filter(matches), False

    fieldsets = [
        (None, {"fields": ["title", "summary", "disproof", "disproof_preview", "loaded_version"]}),
        ("Publication", {"fields": ["status", "withdrawal_reason", "date", "issue"]}),
        ("Classification", {"fields": ["languages", "countries", "keywords", "related"]}),
        ("This change", {"fields": ["correction_note"]}),
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
        css = {"all": ["cases/admin/case_form.css"]}

    # Form and saving

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            fieldsets = [
                (name, {**options, "fields": list(options["fields"])})
                for name, options in fieldsets
                if name != "This change"
            ]
            fieldsets[0][1]["fields"].append("not_a_duplicate")
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

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
        editing.save_case(
            form.instance,
            user=request.user,
            expected_version=data.get("loaded_version") if change else None,
            appearances=wanted_rows(by_model.get(Appearance), appearance_row),
            pending_titles=wanted_rows(by_model.get(PendingReference), lambda row: row["title"]),
            correction_note=data.get("correction_note", ""),
            **{name: data[name] for name in [*editing.FIELDS, *editing.LINKS] if name in data},
        )

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
        context["similar"] = form.similar
        if obj is not None and not form.is_bound:
            context["similar"] = similar_cases(obj.title, obj.summary, exclude_pk=obj.pk)
        context["similar_url"] = reverse("admin:cases_case_similar")
        return super().render_change_form(request, context, add, change, form_url, obj)

    # Case list

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context["waiting_for_review"] = Case.objects.filter(status=Status.IN_REVIEW).count()
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
            added = editing.add_keyword(queryset.order_by("id"), keyword, request.user)
            self.message_user(request, f"Keyword “{keyword}” added to {added} case(s).")
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
                "preview-markdown/",
                view(self.preview_markdown_view),
                name="cases_case_preview_markdown",
            ),
            path("paste-import/", view(self.paste_import_view), name="cases_case_paste_import"),
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
            exclude_pk=int(exclude) if exclude.isdigit() else None,
        )
        return JsonResponse({"results": [similar_as_json(case) for case in found]})

    def preview_markdown_view(self, request):
        """JSON: the disproof as the public page will render it (POST text=)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return JsonResponse({"error": "POST the text to preview."}, status=405)
        return JsonResponse({"html": render_markdown(request.POST.get("text", "")[:100_000])})

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
                    summary = save_cases(parsed, Status.DRAFT, user=request.user)
                except CaseImportError as error:
                    errors = [error]
                else:
                    self.message_user(
                        request,
                        f"Imported {summary.created} new draft case(s), updated "
                        f"{summary.updated}, {summary.unchanged} unchanged.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:cases_case_changelist") + "?status__exact=draft"
                    )
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


class CaseCountAdmin(admin.ModelAdmin):
    """Taxonomy admin showing how many cases use each value."""

    count_relation = "cases"

    def save_model(self, request, obj, form, change):
        # A renamed value changes every case that shows it (cases.services.taxonomy).
        services_taxonomy.save_value(obj)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # Aggregation drops Meta.ordering, which the admin's paginated lists need.
        return queryset.annotate(case_count=Count(self.count_relation)).order_by(
            *self.model._meta.ordering
        )

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
        queryset = self.model.objects.filter(pk__in=queryset.values("pk")).order_by("name")
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


@admin.register(Keyword)
class KeywordAdmin(MergeableAdmin):
    list_display = ["name", "slug", "case_count"]
    search_fields = ["name", "slug"]
    readonly_fields = ["slug"]


@admin.register(Country)
class CountryAdmin(MergeableAdmin):
    list_display = ["name", "iso_code", "kind", "case_count"]
    list_filter = ["kind"]
    search_fields = ["name", "slug", "iso_code"]
    readonly_fields = ["slug"]


@admin.register(Language)
class LanguageAdmin(CaseCountAdmin):
    list_display = ["name", "code", "case_count"]
    search_fields = ["name", "code"]


class OutletAliasInline(admin.TabularInline):
    model = OutletAlias
    extra = 1
    fields = ["name"]


@admin.register(Outlet)
class OutletAdmin(MergeableAdmin):
    count_relation = "appearances"
    list_display = ["name", "domain", "alias_names", "case_count"]
    search_fields = ["name", "domain", "slug", "aliases__name"]
    readonly_fields = ["slug"]
    inlines = [OutletAliasInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("aliases")

    @admin.display(description="aliases")
    def alias_names(self, obj):
        return ", ".join(alias.name for alias in obj.aliases.all())


@admin.register(Issue)
class IssueAdmin(CaseCountAdmin):
    list_display = ["number", "date", "case_count"]
    search_fields = ["=number"]


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
