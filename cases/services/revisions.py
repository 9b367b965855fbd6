"""Revisions of published cases, and reverting a case to an earlier version.

A published debunk never changes by accident. An edit of a published case by an editor
without publish rights is not applied: save_case() hands it to propose(), which stores it
as a pending CaseRevision while the live case stays as it was. A publisher approves it
(it goes live through save_case(), as one new version), requests changes with a comment,
or rejects it. A publisher's own edit goes live at once and is recorded by
record_direct() as a revision its author approved.

An editor has at most one open revision per case: a later edit extends it.
"""

from django.db import transaction
from django.utils import timezone

from cases import history, workflow
from cases.models import Case, CaseRevision
from cases.services import editing, merge

Status = CaseRevision.Status
# Workflow fields are never part of a revision: they change through the workflow only.
NOT_REVISED = {"status", "withdrawal_reason"}


class ReviewError(Exception):
    """A review action that cannot be taken; the message says why."""


def propose(case, version, user, mine, reason="", correction_note=""):
    """Store `mine` (snapshot JSON of the edited fields) as `user`'s revision of `case`.

    Returns the open revision, or None when the edit changes nothing and there is none.
    """
    live = merge.current(case)
    changes = {
        name: value
        for name, value in mine.items()
        if name not in NOT_REVISED and value != live.get(name)
    }
    revision = (
        CaseRevision.objects.select_for_update()
        .filter(case=case, author=user, status__in=[Status.PENDING, Status.CHANGES_REQUESTED])
        .first()
    )
    if revision is not None:
        # The form showed this revision: a field it names again as the live value was put
        # back; a field it does not name keeps what the revision proposed.
        for name, value in revision.changes.items():
            if name not in mine and value != live.get(name):
                changes.setdefault(name, value)
    if not changes and not correction_note:
        if revision is not None:
            revision.delete()
        return None
    if revision is None:
        revision = CaseRevision(case=case, author=user, base_version=version)
    revision.changes = changes
    revision.base = {name: live.get(name) for name in changes}
    revision.base_version = version
    revision.reason = reason or revision.reason
    revision.correction_note = correction_note or revision.correction_note
    revision.status = Status.PENDING
    revision.updated_at = timezone.now()
    revision.save()
    return revision


def record_direct(case, user, live_before, reason="", correction_note=""):
    """Record a publisher's edit of a published case, which went live, as approved."""
    live = merge.current(case)
    changes = {
        name: value
        for name, value in live.items()
        if name not in NOT_REVISED and value != live_before.get(name)
    }
    if not changes and not correction_note:
        return None
    now = timezone.now()
    return CaseRevision.objects.create(
        case=case,
        author=user,
        base_version=case.version - 1,
        changes=changes,
        base={name: live_before.get(name) for name in changes},
        reason=reason,
        correction_note=correction_note,
        status=Status.APPROVED,
        reviewer=user,
        reviewed_at=now,
        created_at=now,
        updated_at=now,
        applied_version=case.version,
    )


def approve(revision, user, comment=""):
    """Apply a pending revision to the live case, as one new version; returns it.

    The revision is merged onto the live case as the three-way merge merges a stale
    save: a field the live case changed since in another way is a conflict, and the
    revision is not applied (EditConflict). The history records the revision's author.
    """
    _check_reviewer(user)
    with transaction.atomic():
        revision = _locked_open(revision)
        case = Case.objects.select_for_update().get(pk=revision.case_id)
        live = merge.current(case)
        take, conflicts = merge.three_way(revision.base, live, revision.changes)
        if conflicts:
            raise editing.EditConflict(
                case, revision.base_version, case.version, conflicts, revision.author
            )
        values, appearances, pending_titles = merge.arguments(
            {name: value for name, value in revision.changes.items() if name in take}
        )
        author = revision.author
        reviewer = _name(user)
        reason = revision.reason or "Revision"
        if author != user:
            reason = f"{reason} (revision #{revision.pk}, approved by {reviewer})"
        saved = editing.save_case(
            case,
            user=author,
            reason=reason,
            propose=False,
            appearances=appearances,
            pending_titles=pending_titles,
            correction_note=revision.correction_note,
            **values,
        )
        revision.status = Status.APPROVED
        revision.reviewer = user
        revision.reviewed_at = timezone.now()
        revision.review_comment = comment
        revision.applied_version = saved.case.version
        revision.save()
    return revision


def request_changes(revision, user, comment):
    """Send a revision back to its author with a comment; the live case stays."""
    return _close(revision, user, comment, Status.CHANGES_REQUESTED, needs_comment=True)


def reject(revision, user, comment=""):
    """Refuse a revision for good; the live case stays."""
    return _close(revision, user, comment, Status.REJECTED)


def open_revisions():
    return CaseRevision.objects.filter(status__in=[Status.PENDING, Status.CHANGES_REQUESTED])


def open_revision(case, user):
    """`user`'s open revision of `case`, or None."""
    if case.pk is None or user is None:
        return None
    return open_revisions().filter(case=case, author=user).first()


def changes(revision, live=None):
    """What the revision changes, field by field: dicts with the label, the live and the
    proposed text, and for the texts a word diff (safe HTML; None for other fields)."""
    live = merge.current(revision.case) if live is None else live
    return [
        {
            "label": merge.label(name),
            "live": merge.display(name, live.get(name)),
            "proposed": merge.display(name, value),
            "words": (
                history.word_diff(live.get(name) or "", value or "")
                if name in history.TEXT_FIELDS
                else None
            ),
        }
        for name, value in revision.changes.items()
    ]


def _check_reviewer(user):
    if user is None or not user.has_perm(workflow.PUBLISH):
        raise ReviewError("Only publishers review revisions of published cases.")


def _locked_open(revision):
    revision = CaseRevision.objects.select_for_update().get(pk=revision.pk)
    if revision.status == Status.APPROVED:
        raise ReviewError(f"Revision #{revision.pk} was already approved.")
    if revision.status == Status.REJECTED:
        raise ReviewError(f"Revision #{revision.pk} was rejected.")
    return revision


def _close(revision, user, comment, status, needs_comment=False):
    _check_reviewer(user)
    comment = (comment or "").strip()
    if needs_comment and not comment:
        raise ReviewError("Say what should change: the comment is sent to the editor.")
    with transaction.atomic():
        revision = _locked_open(revision)
        revision.status = status
        revision.reviewer = user
        revision.reviewed_at = timezone.now()
        revision.review_comment = comment
        revision.save()
    return revision


def _name(user):
    return (user.get_full_name() or user.get_username()) if user else "the system"


def revert(case, record, user=None):
    """Make case what it was at history `record`: fields, links and appearances.

    The revert is itself a new version, so nothing in the history is lost. The status is
    not reverted: publishing and withdrawing go through the workflow only. Values deleted
    since (a merged keyword, a removed outlet) are left out. Reverting a published case
    is an edit like any other: without publish rights it becomes a pending revision.
    """
    old = merge.snapshot_json(history.snapshot(record))
    values, appearances, _ = merge.arguments(
        {name: value for name, value in old.items() if name not in NOT_REVISED}
    )
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        return editing.save_case(
            case,
            user=user,
            reason=f"Reverted to version {record.version}",
            appearances=appearances,
            **values,
        )
