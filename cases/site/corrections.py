"""The corrections log: every public correction and every withdrawal, newest first.

/corrections/ lists them fifty to a page and /corrections/feed/ is their Atom feed, so that
readers who cite the database can see what changed under them. An entry is one of:

- a correction: a CorrectionNote of a case published now, as its case page shows it
  (templates/cases/_corrections.html), dated when the note was written;
- a withdrawal: a case withdrawn now, dated and explained as its 410 page does
  (Case.objects.withdrawn(): withdrawn_on and withdrawal_reason), so the two always agree.

The notes of a withdrawn case are left out: its 410 page no longer shows them, and its
withdrawal entry, with the reason, stands for the case. Notes of drafts and cases in review
never show. Both tables are in the change log, so the page cache serves a new note or a
withdrawal as soon as it is committed.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.db.models import CharField, F, PositiveIntegerField, Q, Value
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import linebreaks
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cases.filters import unknown_parameter_message, unknown_parameters, whole_number
from cases.models import Case, CorrectionNote
from cases.site.feeds import tag_uri
from cases.site.filtered import bad_request
from disinfo_db.i18n import data_reverse

# When a case was withdrawn, as Case.withdrawn_on reads it.
WITHDRAWN_AT = Coalesce("withdrawn_at", "updated_at")

PAGE_SIZE = 50
FEED_LENGTH = 50

CORRECTION, WITHDRAWAL = "correction", "withdrawal"

# The columns of an entry, in the order both halves of the UNION select them.
COLUMNS = ("kind", "entry_id", "at", "case_pk", "case_title", "case_slug", "body", "note_version")
# Newest first; at the same moment corrections before withdrawals, then the newest row.
ORDER = ("-at", "kind", "-entry_id")


@dataclass
class Entry:
    kind: str
    entry_id: int
    at: datetime
    case_pk: int
    case_title: str
    case_slug: str
    body: str
    note_version: int | None

    @property
    def anchor(self):
        """The entry's fragment on the log, e.g. "correction-12"."""
        return f"{self.kind}-{self.entry_id}"

    @property
    def case_url(self):
        # A withdrawn case keeps this URL; it answers 410 with the reason.
        return reverse("cases:detail", args=[self.case_pk, self.case_slug])


def _public_notes():
    return CorrectionNote.objects.filter(case__status=Case.Status.PUBLISHED)


def _withdrawn_cases():
    return Case.objects.filter(status=Case.Status.WITHDRAWN)


def entries():
    """Every entry as one UNION ALL query of rows (COLUMNS), newest first; slice it to read."""
    notes = _public_notes().annotate(
        kind=Value(CORRECTION, output_field=CharField()),
        entry_id=F("id"),
        at=F("created_at"),
        case_pk=F("case_id"),
        case_title=F("case__title"),
        case_slug=F("case__slug"),
        body=F("text"),
        note_version=F("case_version"),
    )
    withdrawals = _withdrawn_cases().annotate(
        kind=Value(WITHDRAWAL, output_field=CharField()),
        entry_id=F("id"),
        at=WITHDRAWN_AT,
        case_pk=F("id"),
        case_title=F("title"),
        case_slug=F("slug"),
        body=F("withdrawal_reason"),
        note_version=Value(None, output_field=PositiveIntegerField()),
    )
    return (
        notes.values_list(*COLUMNS)
        .union(withdrawals.values_list(*COLUMNS), all=True)
        .order_by(*ORDER)
    )


def _as_entries(rows):
    return [Entry(*row) for row in rows]


def withdrawal_url(case):
    """The withdrawn case's entry on the log: its page and its anchor.

    Two counts of the entries before it, in ORDER: notes at its moment or later (at the same
    moment corrections come first), and withdrawals after it.
    """
    at = case.withdrawn_on
    before = _public_notes().filter(created_at__gte=at).count()
    before += (
        _withdrawn_cases()
        .annotate(at=WITHDRAWN_AT)
        .filter(Q(at__gt=at) | Q(at=at, id__gt=case.pk))
        .count()
    )
    page = before // PAGE_SIZE + 1
    query = f"?page={page}" if page > 1 else ""
    return f"{reverse('cases:corrections')}{query}#{WITHDRAWAL}-{case.pk}"


def _page_number(request, paginator):
    """(number, error): the `page` parameter checked against the log's pages."""
    unknown = unknown_parameters(request.GET, {"page"})
    if unknown:
        return 1, f"{unknown[0]}: {unknown_parameter_message(unknown[0], {'page'})}"
    value = request.GET.get("page", "").strip()
    if not value:
        return 1, None
    number = whole_number(value, 1, 10**40)
    if number is None:
        return 1, "page: " + _("give a page number, 1 or more.")
    if number > paginator.num_pages:
        pages = paginator.num_pages
        message = ngettext(
            "there is no page %(number)s; the log has %(pages)s page.",
            "there is no page %(number)s; the log has %(pages)s pages.",
            pages,
        )
        return 1, "page: " + message % {"number": number, "pages": pages}
    return number, None


def corrections_log(request):
    # 1. the number of entries; 2. the entries of the page.
    paginator = Paginator(entries(), PAGE_SIZE)
    number, error = _page_number(request, paginator)
    context = {
        "error": error,
        "entries": [],
        "page": None,
        "feed_url": data_reverse("cases:corrections-feed"),
    }
    if error:
        return TemplateResponse(request, "cases/corrections.html", context, status=400)
    page = paginator.page(number)
    context.update(
        {
            "page": page,
            "entries": _as_entries(page.object_list),
            "total": paginator.count,
            "previous_url": f"?page={page.previous_page_number()}" if page.has_previous() else None,
            "next_url": f"?page={page.next_page_number()}" if page.has_next() else None,
        }
    )
    return TemplateResponse(request, "cases/corrections.html", context)


class CorrectionsAtom1Feed(Atom1Feed):
    """Atom, with each entry's note or reason as its <content>."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content"], {"type": "html"})


class CorrectionsFeed(Feed):
    feed_type = CorrectionsAtom1Feed

    def __call__(self, request, *args, **kwargs):
        unknown = unknown_parameters(request.GET, ())
        if unknown:
            return bad_request([(name, unknown_parameter_message(name, ())) for name in unknown])
        return super().__call__(request, *args, **kwargs)

    def items(self):
        return _as_entries(entries()[:FEED_LENGTH])

    def title(self):
        return f"{settings.SITE_NAME}: corrections and withdrawals"

    def subtitle(self):
        return (
            f"Every correction to a published case on {settings.SITE_NAME}, and every case "
            "its editors withdrew, newest first."
        )

    description = subtitle

    def link(self):
        return reverse("cases:corrections")

    def feed_url(self):
        return reverse("cases:corrections-feed")

    def author_name(self):
        return settings.SITE_ORGANISATION

    def item_title(self, entry):
        label = "Correction" if entry.kind == CORRECTION else "Withdrawn"
        return f"{label}: {entry.case_title}"

    def item_link(self, entry):
        return entry.case_url

    def item_guid(self, entry):
        # By the note's id, or the withdrawn case's: it never changes as entries are added.
        return tag_uri(entry.kind, entry.entry_id)

    item_guid_is_permalink = False

    def item_description(self, entry):
        return None  # the note or the reason is the entry's content (item_extra_kwargs)

    def item_extra_kwargs(self, entry):
        content = linebreaks(entry.body, autoescape=True)
        if entry.note_version:
            content += f"<p>With version {entry.note_version} of the case.</p>"
        return {"content": content}

    def item_pubdate(self, entry):
        return entry.at

    def item_updateddate(self, entry):
        return entry.at
