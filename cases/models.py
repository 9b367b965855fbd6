import functools
import hashlib
import re
import unicodedata

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex, HashIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.db.models.lookups import IsNull
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from simple_history.models import HistoricalRecords

from cases.urlnorm import lookup_keys

SLUG_MAX_LENGTH = 100


_NOT_ASCII_ALNUM = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=65536)
def name_key(name):
    """The form under which taxonomy names match: accents, case, spaces and punctuation
    left out ("Café" = "cafe", "COVID-19" = "Covid 19"); letters of other scripts kept."""
    if name.isascii():
        return _NOT_ASCII_ALNUM.sub("", name.lower())
    text = unicodedata.normalize("NFKD", name)
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    return "".join(char for char in text if char.isalnum())


def _hex(text, digits=6):
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:digits]


def stable_slug(name, taken=(), max_length=SLUG_MAX_LENGTH):
    """The slug of a new taxonomy value called `name`, whatever the order values arrive in.

    The plain slug (slugify(name)) when the name is Latin letters, digits and punctuation
    only: then two names with one plain slug have one name_key(), so they are one value.
    A name with letters slugify() drops (Cyrillic, Georgian, "ß") gets the plain slug plus
    "-" and the first 6 hex digits of the SHA-1 of its name_key(). Only when that slug is
    `taken` (a value from before this rule, or one an editor named with the same key) does
    the hash of the exact name come in, with 6, then 8, 10... digits until it is free.
    """
    plain = slugify(name, allow_unicode=False)[:max_length].strip("-")
    ascii_name = unicodedata.normalize("NFKD", name)
    ascii_name = "".join(char for char in ascii_name if not unicodedata.combining(char))
    candidates = []
    if plain and ascii_name.isascii():
        candidates.append(plain)
    key = name_key(name) or name

    def with_suffix(suffix):
        base = plain[: max_length - len(suffix) - 1].strip("-")
        return f"{base}-{suffix}" if base else suffix

    for slug in candidates:
        if slug not in taken:
            return slug
    slug = with_suffix(_hex(key))
    digits = 6
    while slug in taken:
        if digits > 40:
            raise ValueError(f"no free slug for {name!r}")
        slug = with_suffix(_hex(name, digits))
        digits += 2
    return slug


def unique_slug(model, text, max_length=SLUG_MAX_LENGTH, exclude_pk=None):
    """stable_slug() for a value of `model` saved one at a time (the admin)."""
    others = model.objects.all()
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    plain = slugify(text, allow_unicode=False)[:max_length].strip("-")
    taken = set(others.filter(slug__startswith=plain).values_list("slug", flat=True))
    return stable_slug(text, taken, max_length)


def normalize_title(title):
    """The form under which titles are compared: pending related references match on it."""
    text = unicodedata.normalize("NFKC", title).replace("\u2019", "'").replace("\u2018", "'")
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    text = re.sub(r"\s+", " ", text).strip().rstrip(".").strip()
    return text.casefold()


class TaxonomyQuerySet(models.QuerySet):
    def public(self):
        """The one definition of which taxonomy values the public may see: those of at
        least one published case. A value used only by drafts, cases in review or withdrawn
        cases is unknown to the public, everywhere (editors see it in the admin)."""
        published = Case.Status.PUBLISHED
        if self.model is Outlet:
            link, uses = "outlet", Appearance.objects.filter(case__status=published)
        elif self.model is Issue:
            link, uses = "issue", Case.objects.filter(status=published)
        else:
            name = self.model.__name__.lower()
            through = Case._meta.get_field(TAXONOMY_LINK_FIELDS[name]).remote_field.through
            link, uses = name, through.objects.filter(case__status=published)
        # The value's first published use, read along the index on the link column. Written
        # as EXISTS, PostgreSQL reads every use of a value through a bitmap before the first
        # match (15-45 ms for a popular keyword at a million cases, for each slug a filter
        # checks); as "= pk ... LIMIT 1", it scans the whole link table for a value without
        # uses (370 ms). A range of one value ordered by the link column is what only that
        # index gives in order: the scan stops at the first use, or at once (0.1 ms).
        first_use = (
            uses.filter(**{f"{link}__gte": OuterRef("pk"), f"{link}__lte": OuterRef("pk")})
            .order_by(f"{link}_id")
            .values("pk")[:1]
        )
        return self.filter(IsNull(Subquery(first_use), False))


TAXONOMY_LINK_FIELDS = {"keyword": "keywords", "country": "countries", "language": "languages"}


class SluggedModel(models.Model):
    """A taxonomy value with a name and a URL slug made from it once."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    objects = TaxonomyQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        old_slug = None
        if self.pk is not None and self.slug:
            old = type(self).objects.filter(pk=self.pk).values_list("name", "slug").first()
            if old is not None and old[0] != self.name:
                # A rename gets a new slug; the old one keeps redirecting (TaxonomyRedirect).
                old_slug = old[1]
                self.slug = unique_slug(type(self), self.name, exclude_pk=self.pk)
        if not self.slug:
            self.slug = unique_slug(type(self), self.name, exclude_pk=self.pk)
        super().save(*args, **kwargs)
        if old_slug and old_slug != self.slug:
            TaxonomyRedirect.remember(self, old_slug)


class Keyword(SluggedModel):
    class Meta(SluggedModel.Meta):
        pass


class Outlet(SluggedModel):
    domain = models.CharField(max_length=255, blank=True, help_text="e.g. sputniknews.com")

    class Meta(SluggedModel.Meta):
        pass


class OutletAlias(models.Model):
    """Another name or domain under which an outlet appears ("pl.sputniknews.com")."""

    outlet = models.ForeignKey(Outlet, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(
        max_length=255, unique=True, help_text="Another name, or a domain such as pl.example.com"
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "outlet aliases"

    def __str__(self):
        return self.name


class TaxonomyAlias(models.Model):
    """Another name of a keyword, country or language, which imports read as that value.

    Editors add them in the admin ("Kirgizstan" → Kyrgyzstan, "Castilian" → Spanish);
    outlets have theirs in OutletAlias, which also holds domains. A name is matched the way
    cases.models.name_key() reads it: case, accents, spaces and punctuation left out.
    """

    name = models.CharField(max_length=200, unique=True, help_text="The other name.")

    target_field = None  # the foreign key to the value

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        """An alias must not be the name of a value: the value would win."""
        from django.core.exceptions import ValidationError

        self.name = " ".join(self.name.split())
        model = self._meta.get_field(self.target_field).related_model
        same = model.objects.filter(name__iexact=self.name)
        if self.target_field and getattr(self, f"{self.target_field}_id", None):
            same = same.exclude(pk=getattr(self, f"{self.target_field}_id"))
        if same.exists():
            label = model._meta.verbose_name
            raise ValidationError({"name": f"There is already a {label} called {self.name!r}."})


class KeywordAlias(TaxonomyAlias):
    keyword = models.ForeignKey("Keyword", on_delete=models.CASCADE, related_name="aliases")
    target_field = "keyword"

    class Meta(TaxonomyAlias.Meta):
        verbose_name_plural = "keyword aliases"


class CountryAlias(TaxonomyAlias):
    country = models.ForeignKey("Country", on_delete=models.CASCADE, related_name="aliases")
    target_field = "country"

    class Meta(TaxonomyAlias.Meta):
        verbose_name_plural = "country aliases"


class LanguageAlias(TaxonomyAlias):
    language = models.ForeignKey("Language", on_delete=models.CASCADE, related_name="aliases")
    target_field = "language"

    class Meta(TaxonomyAlias.Meta):
        verbose_name_plural = "language aliases"


class Country(SluggedModel):
    class Kind(models.TextChoices):
        COUNTRY = "country", "Country"
        REGION = "region", "Region"
        HISTORICAL = "historical", "Historical state"
        ALLIANCE = "alliance", "Alliance"

    iso_code = models.CharField(
        "ISO 3166-1 alpha-2 code",
        max_length=2,
        blank=True,
        help_text="Empty for regions, historical states and alliances.",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COUNTRY)

    class Meta(SluggedModel.Meta):
        verbose_name_plural = "countries and regions"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="country") | Q(iso_code=""),
                name="only_countries_have_iso_codes",
            ),
        ]


class Language(models.Model):
    code = models.CharField(
        "BCP 47 code",
        max_length=12,
        unique=True,
        help_text="ISO 639-1 where one exists, with a region when it matters: en, pt-BR, ro-MD.",
    )
    name = models.CharField(max_length=100, unique=True)

    objects = TaxonomyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Issue(models.Model):
    """The weekly review a case was reported in."""

    number = models.PositiveIntegerField(unique=True)
    date = models.DateField(null=True, blank=True)

    objects = TaxonomyQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]

    def __str__(self):
        return f"Issue {self.number}"


class CaseQuerySet(models.QuerySet):
    def published(self):
        """The one definition of what the public may see."""
        return self.filter(status=Case.Status.PUBLISHED)

    def withdrawn(self, pk):
        """The withdrawn case with this id, or None: its URL answers 410 with the reason.

        Only what that answer shows is read: the claim's title and the reason, not its text.
        """
        if pk is None or not 0 < pk < 2**63:
            return None
        return (
            self.filter(pk=pk, status=Case.Status.WITHDRAWN)
            .only("id", "title", "slug", "withdrawal_reason", "withdrawn_at", "updated_at")
            .first()
        )

    def with_related_data(self):
        """Everything a list of cases renders, in a fixed number of queries."""
        return (
            self.defer("search_vector")
            .select_related("issue")
            .prefetch_related(
                "languages",
                "countries",
                "keywords",
                models.Prefetch(
                    "appearances",
                    queryset=Appearance.objects.select_related("outlet").order_by("id"),
                ),
            )
        )

    def search(self, query):
        from cases.search import search_cases

        return search_cases(self, query)


# Kept at module level so cases.history can write one consolidated record per edit.
CASE_HISTORY = HistoricalRecords(
    m2m_fields=["languages", "countries", "keywords", "related"],
    excluded_fields=[
        "search_vector",
        "updated_at",
        "submitted_by",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
        "review_comment",
        "published_by",
        "withdrawn_at",
    ],
)


class Case(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        PUBLISHED = "published", "Published"
        WITHDRAWN = "withdrawn", "Withdrawn"

    title = models.CharField(max_length=500, help_text='The claim\'s headline, without "Disinfo:".')
    slug = models.SlugField(max_length=120, editable=False)
    summary = models.TextField(blank=True, help_text="What the outlet claimed.")
    disproof = models.TextField(blank=True, help_text="The debunk. Markdown; links allowed.")
    date = models.DateField(
        "date of publication", null=True, blank=True, help_text="When the claim was published."
    )
    issue = models.ForeignKey(
        Issue, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    languages = models.ManyToManyField(Language, blank=True, related_name="cases")
    countries = models.ManyToManyField(Country, blank=True, related_name="cases")
    keywords = models.ManyToManyField(Keyword, blank=True, related_name="cases")
    related = models.ManyToManyField("self", blank=True, symmetrical=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    withdrawal_reason = models.TextField(blank=True)
    # Bumped on every save; optimistic locking in the admin and If-Match in the API use it.
    version = models.PositiveIntegerField(default=1, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Who moved the case through the workflow, and when (cases.services.editing).
    submitted_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    reviewed_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    review_comment = models.TextField(
        blank=True,
        default="",
        db_default="",
        editable=False,
        help_text="The reviewer's comment when sending it back.",
    )
    published_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When it was withdrawn: its URL, the API and the corrections log say so. (updated_at
    # moves with changes to related cases and labels.)
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Where the case came from, when it was imported: the source's own id and the URL of its
    # report there (for EUvsDisinfo, the report URL). Unique when present; importers find the
    # case by them before trying its title and date (cases.importers.base.ExistingCases).
    source_id = models.CharField(
        "source id",
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text="The case's id in the archive it was imported from.",
    )
    source_url = models.URLField(
        "source URL",
        max_length=2000,
        blank=True,
        default="",
        db_default="",
        help_text="The address of the case's report in the archive it was imported from.",
    )

    objects = CaseQuerySet.as_manager()
    history = CASE_HISTORY

    class Meta:
        ordering = ["-date", "-id"]
        permissions = [
            ("submit_case", "Can submit a case for review"),
            ("publish_case", "Can publish and withdraw cases"),
        ]
        indexes = [
            # The default list order: newest claims first, published only.
            models.Index(
                models.F("date").desc(nulls_last=True),
                models.F("id").desc(),
                name="case_published_date_idx",
                condition=Q(status="published"),
            ),
            # Feeds: the latest cases published on the database first.
            models.Index(
                models.F("published_at").desc(),
                models.F("id").desc(),
                name="case_published_at_idx",
                condition=Q(status="published"),
            ),
            # updated_since for partner sync.
            models.Index(fields=["updated_at", "id"], name="case_updated_idx"),
            # The admin's case list, every status: newest claims first (read backwards),
            # its pages and its date drill-down (cases.admin_lists).
            models.Index(fields=["date", "id"], name="case_date_idx"),
            # The admin's status filter and the count waiting for review: the few cases
            # not published.
            models.Index(
                fields=["status"],
                name="case_unpublished_status_idx",
                condition=~Q(status="published"),
            ),
            # Full-text search (q), with the date beside the words (btree_gin): a search
            # within dates (the newest matches of a common word, a date window) reads the
            # postings of those days' cases only, not every case holding its words.
            GinIndex(fields=["search_vector", "date"], name="case_search_date_idx"),
            # Duplicate warnings in the admin: the titles nearest 'typed title', nearest
            # first (title <-> 'typed title', cases.search.similar). GiST walks them in that
            # order and stops; GIN found every title sharing trigrams, then sorted them.
            GistIndex(fields=["title"], name="case_title_trgm_idx", opclasses=["gist_trgm_ops"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="published_case_has_published_at",
            ),
            models.UniqueConstraint(
                fields=["source_id"], condition=~Q(source_id=""), name="case_source_id_unique"
            ),
            models.UniqueConstraint(
                fields=["source_url"], condition=~Q(source_url=""), name="case_source_url_unique"
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        """Store the row. Edits go through cases.services.editing.save_case(), which keeps
        the version, updated_at, the search vector and the history in step."""
        self.title = self.title.strip()
        self.slug = slugify(self.title)[:120].strip("-") or "case"
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("cases:detail", kwargs={"pk": self.pk, "slug": self.slug})

    @property
    def withdrawn_on(self):
        """When the case was withdrawn (a case withdrawn outside the write path: its last
        change)."""
        return self.withdrawn_at or self.updated_at

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED


class LinkStatus(models.TextChoices):
    UNCHECKED = "", "Not checked"
    OK = "ok", "Working"
    DEAD = "dead", "Dead"


class Appearance(models.Model):
    """Where the claim appeared, with an archived copy."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="appearances")
    outlet = models.ForeignKey(
        Outlet, null=True, blank=True, on_delete=models.PROTECT, related_name="appearances"
    )
    url = models.URLField(max_length=2000, blank=True)
    archive_url = models.URLField("archived copy", max_length=2000, blank=True)
    # Written by `manage.py check_links`.
    url_status = models.CharField(
        max_length=4, choices=LinkStatus.choices, blank=True, default="", editable=False
    )
    archive_status = models.CharField(
        max_length=4, choices=LinkStatus.choices, blank=True, default="", editable=False
    )
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Lookup keys of url and archive_url (cases.urlnorm), for "has this URL been
    # debunked?": kept by save() and by the bulk import (cases.services.imports).
    lookup_url = models.TextField(blank=True, default="", editable=False)
    lookup_archive_url = models.TextField(blank=True, default="", editable=False)
    lookup_host = models.TextField(blank=True, default="", editable=False)
    lookup_archive_host = models.TextField(blank=True, default="", editable=False)

    LOOKUP_FIELDS = ("lookup_url", "lookup_archive_url", "lookup_host", "lookup_archive_host")

    history = HistoricalRecords(
        excluded_fields=["url_status", "archive_status", "last_checked_at", *LOOKUP_FIELDS]
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            # ?appearance_url=: equality on a key of any length (a btree entry must stay
            # under 2.7 kB, and a URL of 2,000 letters of another script is longer).
            HashIndex(fields=["lookup_url"], name="appearance_lookup_url_idx"),
            HashIndex(fields=["lookup_archive_url"], name="appearance_lookup_archive_idx"),
            # ?appearance_domain=: a prefix of reversed host labels (LIKE 'com.rt.%').
            models.Index(
                OpClass("lookup_host", name="text_pattern_ops"), name="appearance_lookup_host_idx"
            ),
            models.Index(
                OpClass("lookup_archive_host", name="text_pattern_ops"),
                name="appearance_lookup_ahost_idx",
            ),
            # The admin's "has dead links" filter.
            models.Index(
                fields=["case"],
                name="appearance_dead_link_idx",
                condition=Q(url_status="dead") | Q(archive_status="dead"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outlet__isnull=False) | ~Q(url=""),
                name="appearance_has_outlet_or_url",
            ),
        ]

    def __str__(self):
        return self.url or str(self.outlet)

    def save(self, *args, update_fields=None, **kwargs):
        keys = lookup_keys(self.url, self.archive_url)
        for name, key in zip(self.LOOKUP_FIELDS, keys, strict=True):
            setattr(self, name, key)
        if update_fields is not None and {"url", "archive_url"} & set(update_fields):
            update_fields = {*update_fields, *self.LOOKUP_FIELDS}
        super().save(*args, update_fields=update_fields, **kwargs)


class CorrectionNote(models.Model):
    """A public note about a correction to a published case, listed on its page."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="correction_notes")
    text = models.TextField()
    author = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    case_version = models.PositiveIntegerField(
        null=True, blank=True, editable=False, help_text="The case version the note came with."
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.text[:80]


class CaseRevision(models.Model):
    """A change to a published case: waiting for a publisher, or how it went.

    An edit of a published case by someone without publish rights is stored here while
    the live case stays as it was (cases.services.revisions). A publisher's own edit goes
    live at once and is recorded here too, approved by its author.
    `changes` holds the proposed value of each changed field and `base` its value in the
    live case the edit started from, both in cases.history's snapshot form (as JSON): on
    approval, a field the live case changed since in another way is a conflict.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="revisions")
    author = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    base_version = models.PositiveIntegerField(help_text="The live version the edit started from.")
    changes = models.JSONField(default=dict)
    base = models.JSONField(default=dict)
    reason = models.TextField(blank=True)
    correction_note = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    reviewer = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    applied_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The live version its approval made."
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["status", "updated_at"], name="revision_status_idx")]
        constraints = [
            # One open revision per editor and case: a new edit extends it.
            models.UniqueConstraint(
                fields=["case", "author"],
                condition=Q(status__in=["pending", "changes_requested"]),
                name="one_open_revision_per_author",
            ),
        ]

    def __str__(self):
        return f"Revision #{self.pk} of case {self.case_id}"

    @property
    def is_open(self):
        return self.status in (self.Status.PENDING, self.Status.CHANGES_REQUESTED)


class ImportBatch(models.Model):
    """One run of an import: the history entry of every case it created or changed.

    The cases it created are listed in `case_ids`, and that is their first version's entry:
    no history record is written for each of them. The first change of such a case writes
    its first record, as of the batch, before the change's own (cases.history
    .record_imported()). The cases a batch changed carry "Import #<id>" as the reason of
    their history record (cases.services.imports).
    """

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    user = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=500, blank=True, help_text="The file imported.")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Invalid rows left out.")
    case_ids = ArrayField(
        models.BigIntegerField(), default=list, blank=True, help_text="The cases it created."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "import batches"
        indexes = [
            # The batch that created a case (cases.history.record_imported(), the case
            # list's import filter).
            GinIndex(fields=["case_ids"], name="importbatch_case_ids_idx"),
        ]

    def __str__(self):
        return f"Import #{self.pk}"

    @property
    def reason(self):
        """The history reason of the cases it wrote."""
        return f"Import #{self.pk}"


class TaxonomyRedirect(models.Model):
    """An old keyword, country or outlet slug (renamed or merged away) and where it went.

    /cases/?keyword=old-slug answers 301 to ?keyword=new-slug; see cases.taxonomy.
    """

    class Kind(models.TextChoices):
        KEYWORD = "keyword", "Keyword"
        COUNTRY = "country", "Country or region"
        OUTLET = "outlet", "Outlet"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    old_slug = models.SlugField(max_length=100)
    target_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["kind", "old_slug"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "old_slug"], name="taxonomy_redirect_once"),
        ]

    def __str__(self):
        return f"{self.kind} {self.old_slug} → {self.target_id}"

    @classmethod
    def remember(cls, target, old_slug):
        kind = type(target).__name__.lower()
        cls.objects.update_or_create(
            kind=kind, old_slug=old_slug, defaults={"target_id": target.pk}
        )


class PendingReference(models.Model):
    """A related case named by title that the database does not hold yet.

    It turns into a `related` link as soon as a case with that title is saved
    (cases.services.editing).
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="pending_references")
    title = models.CharField(max_length=500)
    normalized_title = models.CharField(max_length=500, db_index=True, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "normalized_title"], name="pending_reference_once_per_case"
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.normalized_title = normalize_title(self.title)
        super().save(*args, **kwargs)


class SearchWord(models.Model):
    """A word of a published case (unaccented, lower case), for typo-tolerant search.

    The write path adds the words of every published case it indexes (cases.search);
    `manage.py rebuild_search_words` starts the table over.
    """

    word = models.CharField(max_length=100, primary_key=True)

    class Meta:
        indexes = [
            # The trigram fallback of search: `word % 'kazakstan'` ordered by similarity.
            GinIndex(OpClass("word", name="gin_trgm_ops"), name="search_word_trigram_idx"),
        ]

    def __str__(self):
        return self.word


class CaseChange(models.Model):
    """The per-case change log: the number of the last committed change to each case.

    Written only by PostgreSQL triggers and numbered at commit (migration 0011, see
    cases.freshness.dataversion); the changes feed (/api/v1/changes/) reads it. A model so
    that Django knows the table: a flush empties it with the cases.
    """

    case_id = models.BigIntegerField(primary_key=True)
    # NULL until the writing transaction commits; indexed by migration 0011's SQL.
    seq = models.BigIntegerField(null=True, editable=False)
    # Whether the public has seen the case: only then does its removal leave a tombstone.
    was_public = models.BooleanField(default=False, editable=False)

    class Meta:
        db_table = "cases_casechange"

    def __str__(self):
        return f"Case {self.case_id} at {self.seq}"


class DeletedCase(models.Model):
    """A case that was deleted, kept as a tombstone for partners syncing with updated_since.

    Recorded by a post_delete signal, so admin deletes, queryset deletes and API deletes
    all leave one.
    """

    case_id = models.BigIntegerField(primary_key=True)
    deleted_at = models.DateTimeField(default=timezone.now)
    # Only cases the public had seen are announced to anonymous partners.
    was_published = models.BooleanField(default=False)

    class Meta:
        ordering = ["deleted_at", "case_id"]
        indexes = [
            # Tombstones for updated_since in the API, in keyset order.
            models.Index(fields=["deleted_at", "case_id"], name="deletedcase_deleted_idx"),
        ]

    def __str__(self):
        return f"Case {self.case_id} deleted {self.deleted_at:%Y-%m-%d %H:%M}"


@receiver(post_delete, sender=Case)
def record_deleted_case(sender, instance, **kwargs):
    DeletedCase.objects.update_or_create(
        case_id=instance.pk,
        defaults={
            "deleted_at": timezone.now(),
            "was_published": instance.published_at is not None,
        },
    )


class ApiToken(models.Model):
    """A partner's or editor's key to the API, stored only as its SHA-256 digest.

    Keys are 256 random bits, so a fast unsalted hash is enough to make a stolen table
    useless, and lets a request find its token by one indexed lookup. The key itself is
    shown once, when the token is made (cases.api.tokens.issue_token).
    """

    class Scope(models.TextChoices):
        READ = "read", "read (no writes)"
        WRITE = "write", "write (whatever the user may do)"

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, help_text="Who or what uses it.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The key's first characters, to tell tokens apart in lists and logs.
    prefix = models.CharField(max_length=8, editable=False)
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.prefix}… ({self.user}, {self.scope})"

    def has_expired(self, now=None):
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())


class ApiTokenUse(models.Model):
    """One use of a token: every write, and reads at most once a minute per token."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="uses")
    at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["token", "-at"], name="apitokenuse_token_at_idx")]
        verbose_name = "API token use"

    def __str__(self):
        return f"{self.token.prefix}… {self.method} {self.path} at {self.at:%Y-%m-%d %H:%M:%S}"


def new_webhook_secret():
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    import base64
    import secrets

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class WebhookSubscription(models.Model):
    """A partner's endpoint, told of changes to the published cases (cases.webhooks)."""

    url = models.URLField("endpoint URL", max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Shown once, when the subscription is created; the endpoint verifies signatures with it.
    secret = models.CharField(max_length=100, default=new_webhook_secret, editable=False)
    on_published = models.BooleanField("published", default=True, help_text="A case is published.")
    on_updated = models.BooleanField("updated", default=True, help_text="A published case changed.")
    on_withdrawn = models.BooleanField(
        "withdrawn or deleted",
        default=True,
        help_text="A case the public saw was withdrawn, deleted or taken back to draft.",
    )
    keywords = models.ManyToManyField(
        Keyword, blank=True, help_text="Only cases with any of these keywords (none: all)."
    )
    countries = models.ManyToManyField(
        Country, blank=True, help_text="Only cases about any of these countries (none: all)."
    )
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    # While set, nothing is sent (the endpoint failed and is waited for; cases.webhooks).
    paused_until = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.description or self.url


class WebhookDelivery(models.Model):
    """One event for one subscription, and how sending it went."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The webhook-id header: the same for every attempt, and for every subscription.
    event_id = models.CharField(max_length=60)
    event_type = models.CharField(max_length=30)
    case_id = models.BigIntegerField()
    seq = models.BigIntegerField(help_text="The change log's number of the change.")
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(
        null=True, blank=True, help_text="HTTP status of the last attempt; empty if none came."
    )
    last_response = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["subscription", "seq", "id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_id"], name="webhookdelivery_one_per_event"
            ),
        ]
        indexes = [
            # The sender's queue: a subscription's undelivered events, in log order.
            models.Index(
                fields=["subscription", "seq", "id"],
                name="webhookdelivery_pending_idx",
                condition=Q(delivered_at__isnull=True),
            ),
            # Was a subscription told of this case (to send it the case's deletion)?
            models.Index(fields=["case_id", "subscription"], name="webhookdelivery_case_idx"),
        ]

    def __str__(self):
        return f"{self.event_type} {self.event_id} to {self.subscription_id}"


class WebhookCursor(models.Model):
    """The single row of where the webhook worker is in the change log."""

    seq = models.BigIntegerField(help_text="Every change up to this number became deliveries.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Webhooks at change {self.seq}"


class WebhookAnnouncedCase(models.Model):
    """A case the webhooks have announced as published (its next change is an update)."""

    case_id = models.BigIntegerField(primary_key=True)

    def __str__(self):
        return f"Case {self.case_id} announced"
