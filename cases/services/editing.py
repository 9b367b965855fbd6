"""The one write path for cases: create, change, publish, withdraw and delete.

The admin, the API, every importer, paste import, revert, taxonomy merges and bulk actions
call save_case() or delete_case(); nothing else writes a case, its links, its appearances,
its pending references or its correction notes. Once per change, in one transaction,
save_case():

- refuses a stale edit (expected_version) under a row lock;
- writes only what differs from the stored case, and does nothing when nothing does;
- bumps `version` (optimistic locking) and `updated_at`, and stamps `published_at`;
- recomputes the search vector once;
- links pending references in both directions;
- writes one history entry for the case, its links and its appearances together.

The change log needs nothing from here: PostgreSQL triggers number every committed change
(cases.freshness.dataversion), whoever writes.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cases import history, workflow
from cases.models import (
    Appearance,
    Case,
    CorrectionNote,
    PendingReference,
    normalize_title,
)
from cases.search import update_search_vectors

# The case's own columns an edit may set, by field name.
FIELDS = ["title", "summary", "disproof", "date", "issue", "status", "withdrawal_reason"]
# Many-to-many links an edit may replace, each given as model instances or ids.
LINKS = ["languages", "countries", "keywords", "related"]
# What the cases related to a case show of it: a change to one of them changes them too.
SHOWN_TO_RELATED = ["title", "slug", "status"]


class EditConflict(Exception):
    """The case moved on since the editor read it: nothing was written."""

    def __init__(self, case, expected, current):
        self.case = case
        self.expected = expected
        self.current = current
        super().__init__(
            f"Case {case.pk} is at version {current}, not {expected}: "
            "another change was saved since it was read."
        )


@dataclass(frozen=True)
class Saved:
    case: Case
    created: bool
    changed: bool

    @property
    def outcome(self):
        if self.created:
            return "created"
        return "updated" if self.changed else "unchanged"


def save_case(
    case,
    *,
    user=None,
    reason="",
    expected_version=None,
    appearances=None,
    pending_titles=None,
    related_titles=(),
    correction_note="",
    **values,
):
    """Create `case` (unsaved) or change it; returns Saved(case, created, changed).

    values: any of FIELDS (issue as an Issue or None) and LINKS (a complete list, which
    replaces the current one). Fields already set on an unsaved case are kept too.
    appearances: the complete list of (outlet_id, url, archive_url), or None to leave them.
    pending_titles: the complete list of related titles not in the database yet (None to
    leave them); related_titles: titles to add, linked at once where the case exists.
    correction_note: a public note shown on the case page with this version.
    """
    unknown = set(values) - set(FIELDS) - set(LINKS)
    if unknown:
        raise TypeError(f"save_case() cannot set {', '.join(sorted(unknown))}")
    # One history entry for the whole edit, written last (history.record_now).
    case.skip_history_when_saving = True
    correction_note = correction_note.strip()
    try:
        with transaction.atomic():
            created = case.pk is None
            stored = None if created else _locked(case, expected_version)
            for name in FIELDS:
                if name in values:
                    setattr(case, name, values[name])
            case.title = case.title.strip()
            changed = created or _differs(case, stored)
            if created:
                case.version = 1
                case.save()
            changed |= _set_links(case, values)
            if appearances is not None:
                changed |= _set_appearances(case, appearances)
            if pending_titles is not None:
                changed |= _set_pending_titles(case, pending_titles)
            for title in related_titles:
                changed |= _add_related_title(case, title)
            if correction_note:
                changed = True
            if not changed:
                return Saved(case, created=False, changed=False)
            if not created:
                case.version = stored["version"] + 1
                case.updated_at = timezone.now()
                case.save()
            update_search_vectors([case.pk])
            if created or stored["title"] != case.title:
                _link_pending_references_to(case)
            if stored is not None and any(
                stored[name] != getattr(case, name) for name in SHOWN_TO_RELATED
            ):
                _related_changed(case)
            if correction_note:
                CorrectionNote.objects.create(
                    case=case, text=correction_note, author=user, case_version=case.version
                )
            history.record_now(case, user, reason or correction_note, "+" if created else "~")
            return Saved(case, created=created, changed=True)
    finally:
        del case.skip_history_when_saving


def move_cases(cases, new_status, user):
    """Give each case `new_status` where the workflow lets `user`; returns (moved, refused).

    refused is [(case, TransitionError)], saying why. Each move is its own version.
    """
    moved, refused = 0, []
    for case in cases:
        try:
            workflow.check_transition(user, case, new_status)
        except workflow.TransitionError as error:
            refused.append((case, error))
            continue
        if save_case(case, user=user, status=new_status).changed:
            moved += 1
    return moved, refused


def add_keyword(cases, keyword, user):
    """Add `keyword` to every case that lacks it, one version each; returns how many."""
    added = 0
    for case in cases:
        keywords = list(case.keywords.all())
        if keyword in keywords:
            continue
        save_case(case, user=user, reason=f"Added keyword {keyword}", keywords=[*keywords, keyword])
        added += 1
    return added


def delete_case(case, user=None):
    """Delete a case; a case the public had seen leaves a tombstone for syncing partners."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        related = list(case.related.values_list("pk", flat=True))
        # The tombstone (DeletedCase) is written by a post_delete signal, so that a delete
        # from a shell leaves one too.
        case.delete()
        touch(related)


def cases_changed(case_ids, user=None, reason="", search=False):
    """Record a change made to many cases' links at once (a taxonomy merge).

    Each case gets a fresh updated_at, one history entry, and, with search, a new search
    vector (keyword names are part of it). Its own fields did not change, so its version
    stays: an editor's open form on it still saves (a merged-away value in that form is
    refused as an invalid choice).
    """
    case_ids = sorted(set(case_ids))
    if not case_ids:
        return
    touch(case_ids)
    if search:
        update_search_vectors(case_ids)
    for case in Case.objects.filter(pk__in=case_ids).order_by("id"):
        history.record_now(case, user, reason)


def labels_changed(case_ids):
    """A taxonomy value the cases show was renamed: their search vectors and updated_at.

    Not a new version of any case: an editor's open form on one is not made stale.
    """
    case_ids = list(case_ids)
    if case_ids:
        update_search_vectors(case_ids)
        touch(case_ids)


def touch(case_ids):
    """Cases whose public representation changed without an edit of their own."""
    if case_ids:
        Case.objects.filter(pk__in=list(case_ids)).update(updated_at=timezone.now())


# Internals


def _locked(case, expected_version):
    """The stored case, locked until the transaction ends; refuses a stale edit."""
    stored = (
        Case.objects.select_for_update()
        .filter(pk=case.pk)
        .values("version", "slug", "issue_id", *[name for name in FIELDS if name != "issue"])
        .get()
    )
    if expected_version is not None and stored["version"] != expected_version:
        raise EditConflict(case, expected_version, stored["version"])
    return stored


def _differs(case, stored):
    return any(
        stored["issue_id" if name == "issue" else name]
        != getattr(case, "issue_id" if name == "issue" else name)
        for name in FIELDS
    )


def _pk(value):
    return value if isinstance(value, int) else value.pk


def _set_links(case, values):
    changed = False
    for name in LINKS:
        if name not in values:
            continue
        wanted = {_pk(value) for value in values[name] or []}
        if name == "related":
            wanted.discard(case.pk)
        manager = getattr(case, name)
        current = set(manager.values_list("pk", flat=True))
        if current != wanted:
            manager.set(wanted)
            changed = True
            if name == "related":
                # Each side shows the other: the cases added or dropped change too.
                touch(current ^ wanted)
    return changed


def _set_appearances(case, wanted):
    """Make the case's appearances `wanted`, keeping the rows (and their link checks) of
    the longest unchanged start of the list."""
    wanted = [(outlet_id, url or "", archive or "") for outlet_id, url, archive in wanted]
    rows = list(case.appearances.order_by("id"))
    current = [(row.outlet_id, row.url, row.archive_url) for row in rows]
    if current == wanted:
        return False
    kept = 0
    while kept < min(len(current), len(wanted)) and current[kept] == wanted[kept]:
        kept += 1
    # One by one rather than in bulk, so each appearance's history is recorded.
    for row in rows[kept:]:
        row.delete()
    for outlet_id, url, archive_url in wanted[kept:]:
        Appearance.objects.create(case=case, outlet_id=outlet_id, url=url, archive_url=archive_url)
    return True


def _set_pending_titles(case, titles):
    wanted = {normalize_title(title): title for title in titles if title.strip()}
    changed = False
    for reference in case.pending_references.all():
        if reference.normalized_title in wanted:
            del wanted[reference.normalized_title]
        else:
            reference.delete()
            changed = True
    for title in wanted.values():
        changed |= _add_related_title(case, title)
    return changed


def _add_related_title(case, title):
    """Relate `case` to the case titled `title`, or remember the title until it exists."""
    key = normalize_title(title)
    others = Case.objects.exclude(pk=case.pk).order_by("id")
    target = others.filter(title__iexact=title.strip().rstrip(".")).first()
    if target is None:
        candidates = others.filter(title__istartswith=title.strip()[:20])
        target = next((c for c in candidates if normalize_title(c.title) == key), None)
    if target is not None:
        if case.related.filter(pk=target.pk).exists():
            return False
        case.related.add(target)
        touch([target.pk])
        return True
    _, created = PendingReference.objects.get_or_create(
        case=case, normalized_title=key, defaults={"title": title}
    )
    return created


def _link_pending_references_to(case):
    """Turn every pending reference to `case`'s title into a related link."""
    pending = PendingReference.objects.filter(normalized_title=normalize_title(case.title))
    waiting = list(pending.exclude(case=case).values_list("pk", "case_id"))
    if not waiting:
        return
    for _, case_id in waiting:
        case.related.add(case_id)
    PendingReference.objects.filter(pk__in=[pk for pk, _ in waiting]).delete()
    touch(case_id for _, case_id in waiting)


def _related_changed(case):
    touch(case.related.values_list("pk", flat=True))
