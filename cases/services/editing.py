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

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
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
from cases.services import merge, revisions

# The case's own columns an edit may set, by field name.
FIELDS = [
    "title",
    "summary",
    "disproof",
    "date",
    "issue",
    "status",
    "withdrawal_reason",
    "source_id",
    "source_url",
]
# The longest summary and disproof, in characters: several times the longest of the real
# archive, and small enough that no one request or row grows without bound.
MAX_TEXT_LENGTH = 20_000
TEXT_LIMITS = {"summary": MAX_TEXT_LENGTH, "disproof": MAX_TEXT_LENGTH}
# Many-to-many links an edit may replace, each given as model instances or ids.
LINKS = ["languages", "countries", "keywords", "related"]
# What the cases related to a case show of it: a change to one of them changes them too.
SHOWN_TO_RELATED = ["title", "slug", "status"]


class EditConflict(Exception):
    """The case moved on since the editor read it: nothing was written.

    conflicts: the fields both the saver and the newer version changed, each a
    cases.services.merge.Conflict; empty for a strict version check (expected_version).
    editor: who saved the current version, when the history knows.
    """

    def __init__(self, case, expected, current, conflicts=(), editor=None):
        self.case = case
        self.expected = expected
        self.current = current
        self.conflicts = list(conflicts)
        self.editor = editor
        if self.conflicts:
            fields = ", ".join(conflict.label for conflict in self.conflicts)
            message = (
                f"Case {case.pk} is at version {current}, not {expected}, and the newer "
                f"version changed the same fields differently: {fields}."
            )
        else:
            message = (
                f"Case {case.pk} is at version {current}, not {expected}: "
                "another change was saved since it was read."
            )
        super().__init__(message)


@dataclass(frozen=True)
class Saved:
    case: Case
    created: bool
    changed: bool
    # The pending revision the edit went to, when it did not go live.
    revision: object = None
    # What a merge with a newer version kept of it: labels of the fields not taken.
    kept_newer: tuple = ()

    @property
    def outcome(self):
        if self.created:
            return "created"
        if self.revision is not None:
            return "proposed"
        return "updated" if self.changed else "unchanged"


def save_case(
    case,
    *,
    user=None,
    reason="",
    expected_version=None,
    base_version=None,
    resolved=None,
    resolved_at=None,
    propose=None,
    appearances=None,
    pending_titles=None,
    related_titles=(),
    correction_note="",
    **values,
):
    """Create `case` (unsaved) or change it; returns Saved.

    values: any of FIELDS (issue as an Issue or None) and LINKS (a complete list, which
    replaces the current one). Fields already set on an unsaved case are kept too.
    appearances: the complete list of (outlet_id, url, archive_url), or None to leave them.
    pending_titles: the complete list of related titles not in the database yet (None to
    leave them); related_titles: titles to add, linked at once where the case exists.
    correction_note: a public note shown on the case page with this version.

    expected_version refuses any edit of another version (HTTP's If-Match). base_version
    says which version the edit was made on instead: a newer one is merged
    (cases.services.merge); fields both changed raise EditConflict unless `resolved`
    ({field: "mine" | "theirs"}) decides them, for the version `resolved_at` the editor saw.
    An edit of a published case by a user without publish rights, or with propose=True,
    becomes a pending revision (cases.services.revisions) and the live case stays as it
    is; propose=False applies it (an approval). A publisher's edit of a published case
    goes live and is recorded as a revision they approved.
    """
    unknown = set(values) - set(FIELDS) - set(LINKS)
    if unknown:
        raise TypeError(f"save_case() cannot set {', '.join(sorted(unknown))}")
    # One history entry for the whole edit, written last (history.record_now).
    case.skip_history_when_saving = True
    correction_note = correction_note.strip()
    try:
        with transaction.atomic():
            # An unsaved case may come with its id (an import keeping the ids it exports).
            created = case.pk is None or case._state.adding
            stored = None if created else _locked(case, expected_version)
            kept_newer, live_before = (), None
            if not created and base_version is not None and base_version != stored["version"]:
                # Choices made on another version's conflicts don't apply to this one.
                decided = resolved if resolved_at == stored["version"] else None
                values, appearances, pending_titles, kept_newer = _merged(
                    case, stored["version"], base_version, decided, values, appearances,
                    pending_titles,
                )  # fmt: skip
            if not created and stored["status"] == Case.Status.PUBLISHED:
                if propose or (propose is None and _needs_review(user)):
                    mine = merge.given(case, values, appearances, pending_titles)
                    _propose_related_titles(case, mine, related_titles)
                    revision = revisions.propose(
                        case, stored["version"], user, mine, reason, correction_note
                    )
                    case.refresh_from_db()
                    return Saved(case, False, revision is not None, revision, kept_newer)
                if propose is None and user is not None:
                    live_before = merge.current(case)
            if stored is not None:
                # Only what `values` names changes: a field a form already set on the
                # instance but that the merge left out keeps its stored value.
                for name in FIELDS:
                    attname = "issue_id" if name == "issue" else name
                    if getattr(case, attname) != stored[attname]:
                        setattr(case, attname, stored[attname])
            for name in FIELDS:
                if name in values:
                    setattr(case, name, values[name])
            case.title = case.title.strip()
            too_long = text_length_errors({name: getattr(case, name) for name in TEXT_LIMITS})
            if too_long:
                # The API, the admin and the importers refuse these first, naming the field.
                raise ValidationError(too_long)
            changed = created or _differs(case, stored)
            if created:
                case.version = 1
                _record_workflow(case, None, user, reason)
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
                _record_workflow(case, stored["status"], user, reason)
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
            if live_before is not None:
                revisions.record_direct(case, user, live_before, reason, correction_note)
            return Saved(case, created=created, changed=True, kept_newer=kept_newer)
    finally:
        del case.skip_history_when_saving


def text_length_errors(texts):
    """{field: message} for each of `texts` ({field: text}) longer than TEXT_LIMITS allow."""
    return {
        name: f"Ensure this field has no more than {limit} characters (it has {len(text)})."
        for name, limit in TEXT_LIMITS.items()
        if len(text := texts.get(name) or "") > limit
    }


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


def move_case(case, action, user, note="", expected_version=None):
    """Make the workflow move `action` (a workflow.Action) on `case`; returns Saved.

    note: the reviewer's comment when requesting changes (kept on the case), or the public
    withdrawal reason. Raises workflow.TransitionError when the move is not allowed or its
    note is missing, and EditConflict when the case changed since expected_version.
    """
    note = (note or "").strip()
    if action.note_required and not note:
        raise workflow.TransitionError(f"{action.label}: {action.note.lower()} is required.")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if workflow.current_status(case) != action.old:
            raise workflow.TransitionError(
                f"The case is {workflow.label(case.status)} now: "
                f"“{action.label}” no longer applies."
            )
        reason = note if action.new != Case.Status.WITHDRAWN else ""
        values = {"status": action.new}
        if action.new == Case.Status.WITHDRAWN:
            values["withdrawal_reason"] = note
            reason = f"Withdrawn: {note}"
        workflow.check_transition(user, case, action.new, values.get("withdrawal_reason"))
        return save_case(
            case,
            user=user,
            reason=reason or action.label,
            expected_version=expected_version,
            **values,
        )


def add_keyword(cases, keyword, user):
    """Add `keyword` to every case that lacks it, one version each; returns (added,
    proposed): live additions, and additions to published cases that wait for review
    because `user` may not publish."""
    added = proposed = 0
    for case in cases:
        keywords = list(case.keywords.all())
        if keyword in keywords:
            continue
        saved = save_case(
            case, user=user, reason=f"Added keyword {keyword}", keywords=[*keywords, keyword]
        )
        if saved.revision is not None:
            proposed += 1
        else:
            added += 1
    return added, proposed


def delete_case(case, user=None):
    """Delete a case; a case the public had seen leaves a tombstone for syncing partners."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        history.record_imported([case.pk])
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


def _needs_review(user):
    """Whether `user`'s edits of a published case wait for a publisher. Code that runs
    without a user (importers, management commands) writes directly."""
    return user is not None and not user.has_perm(workflow.PUBLISH)


def _merged(case, version, base_version, resolved, values, appearances, pending_titles):
    """The save_case() arguments of an edit made on `base_version`, merged onto `version`.

    Returns (values, appearances, pending_titles, labels of the fields that kept the newer
    value); raises EditConflict listing the fields both changed.
    """
    mine = merge.given(case, values, appearances, pending_titles)
    theirs = merge.current(case)
    take, conflicts = merge.three_way(merge.at_version(case, base_version), theirs, mine, resolved)
    if conflicts:
        raise EditConflict(case, base_version, version, conflicts, merge.last_editor(case, version))
    kept = tuple(
        merge.label(name) for name in mine if name not in take and mine[name] != theirs[name]
    )
    values = {
        name: value
        for name, value in values.items()
        if merge.SNAPSHOT_NAMES.get(name, name) in take
    }
    return (
        values,
        appearances if "appearances" in take else None,
        pending_titles if "pending_titles" in take else None,
        kept,
    )


def _propose_related_titles(case, mine, titles):
    """Related titles an import names that the case neither links nor waits for yet
    become part of a revision's related cases not in the database yet."""
    known = {normalize_title(title) for title in case.related.values_list("title", flat=True)}
    known |= set(case.pending_references.values_list("normalized_title", flat=True))
    new = [title.strip() for title in titles if normalize_title(title) not in known]
    if new:
        waiting = mine.get("pending_titles") or list(
            case.pending_references.values_list("title", flat=True)
        )
        mine["pending_titles"] = sorted({*waiting, *new})


def _record_workflow(case, old_status, user, reason):
    """Who submitted, reviewed and published the case, and when."""
    if case.status == old_status:
        return
    now = timezone.now()
    if case.status == Case.Status.IN_REVIEW:
        case.submitted_by, case.submitted_at = user, now
        case.review_comment = ""
    elif old_status == Case.Status.IN_REVIEW:
        # Sent back with a comment, or approved and published.
        case.reviewed_by, case.reviewed_at = user, now
        case.review_comment = reason if case.status == Case.Status.DRAFT else ""
    case.withdrawn_at = now if case.status == Case.Status.WITHDRAWN else None
    if case.status == Case.Status.PUBLISHED:
        case.published_by = user
        if old_status != Case.Status.IN_REVIEW:
            case.review_comment = ""


def _locked(case, expected_version):
    """The stored case, locked until the transaction ends; refuses a stale edit."""
    stored = (
        Case.objects.select_for_update()
        .filter(pk=case.pk)
        .annotate(recorded=Exists(Case.history.filter(id=OuterRef("pk"))))
        .values(
            "version", "slug", "issue_id", "recorded", *[name for name in FIELDS if name != "issue"]
        )
        .get()
    )
    if expected_version is not None and stored["version"] != expected_version:
        raise EditConflict(case, expected_version, stored["version"])
    if not stored["recorded"]:
        # Created by an import batch: its first record, before anything changes it.
        history.record_imported([case.pk])
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
