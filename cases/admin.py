from django.contrib import admin
from django.db.models import Count

from cases.models import (
    Appearance,
    Case,
    Country,
    Issue,
    Keyword,
    Language,
    Outlet,
    PendingReference,
)


class AppearanceInline(admin.TabularInline):
    model = Appearance
    extra = 1
    autocomplete_fields = ["outlet"]
    fields = ["outlet", "url", "archive_url"]


class PendingReferenceInline(admin.TabularInline):
    model = PendingReference
    extra = 0
    fields = ["title"]
    verbose_name = "related case not in the database yet"
    verbose_name_plural = "related cases not in the database yet (linked when they arrive)"


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["title", "date", "issue", "status", "updated_at"]
    list_filter = ["status", "date", "issue", "languages"]
    list_select_related = ["issue"]
    search_fields = ["title", "summary", "=id"]
    date_hierarchy = "date"
    autocomplete_fields = ["issue", "languages", "countries", "keywords", "related"]
    readonly_fields = ["id", "slug", "version", "created_at", "updated_at", "published_at"]
    inlines = [AppearanceInline, PendingReferenceInline]
    fieldsets = [
        (None, {"fields": ["title", "summary", "disproof"]}),
        ("Publication", {"fields": ["status", "withdrawal_reason", "date", "issue"]}),
        ("Classification", {"fields": ["languages", "countries", "keywords", "related"]}),
        (
            "Record",
            {
                "classes": ["collapse"],
                "fields": ["id", "slug", "version", "created_at", "updated_at", "published_at"],
            },
        ),
    ]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Links and appearances are part of the case: a partner syncing by updated_at sees them.
        form.instance.touch()
        from cases.search import update_search_vectors

        update_search_vectors([form.instance.pk])


class CaseCountAdmin(admin.ModelAdmin):
    """Taxonomy admin showing how many cases use each value."""

    count_relation = "cases"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # Aggregation drops Meta.ordering, which the admin's paginated lists need.
        return queryset.annotate(case_count=Count(self.count_relation)).order_by(
            *self.model._meta.ordering
        )

    @admin.display(description="cases", ordering="case_count")
    def case_count(self, obj):
        return obj.case_count


@admin.register(Keyword)
class KeywordAdmin(CaseCountAdmin):
    list_display = ["name", "slug", "case_count"]
    search_fields = ["name", "slug"]
    readonly_fields = ["slug"]


@admin.register(Country)
class CountryAdmin(CaseCountAdmin):
    list_display = ["name", "iso_code", "kind", "case_count"]
    list_filter = ["kind"]
    search_fields = ["name", "slug", "iso_code"]
    readonly_fields = ["slug"]


@admin.register(Language)
class LanguageAdmin(CaseCountAdmin):
    list_display = ["name", "code", "case_count"]
    search_fields = ["name", "code"]


@admin.register(Outlet)
class OutletAdmin(CaseCountAdmin):
    count_relation = "appearances"
    list_display = ["name", "domain", "case_count"]
    search_fields = ["name", "domain", "slug"]
    readonly_fields = ["slug"]


@admin.register(Issue)
class IssueAdmin(CaseCountAdmin):
    list_display = ["number", "date", "case_count"]
    search_fields = ["=number"]
