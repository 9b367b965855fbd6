"""The editorial workflow: who may move a case from which status to which.

    draft ──submit──▶ in review ──publish──▶ published ──withdraw (reason)──▶ withdrawn
      ▲                  │                                                    │
      └────send back─────┘                       publishers may republish ◀───┘

This is the one place the rule lives. The admin limits the status choices with
allowed_statuses() and checks every save and bulk action with check_transition();
the API calls check_transition() before it writes.
"""

from cases.models import Case

Status = Case.Status

SUBMIT = "cases.submit_case"
PUBLISH = "cases.publish_case"

# (from, to) -> the permission it needs. A status a case already has needs nothing more
# than the permission to change the case.
TRANSITIONS = {
    (None, Status.DRAFT): None,
    (None, Status.IN_REVIEW): SUBMIT,
    (None, Status.PUBLISHED): PUBLISH,
    (Status.DRAFT, Status.IN_REVIEW): SUBMIT,
    (Status.DRAFT, Status.PUBLISHED): PUBLISH,
    (Status.IN_REVIEW, Status.DRAFT): SUBMIT,
    (Status.IN_REVIEW, Status.PUBLISHED): PUBLISH,
    (Status.PUBLISHED, Status.WITHDRAWN): PUBLISH,
    (Status.WITHDRAWN, Status.PUBLISHED): PUBLISH,
    (Status.WITHDRAWN, Status.DRAFT): PUBLISH,
}


class TransitionError(Exception):
    """A status change the user may not make; the message says why."""


def _may(user, permission):
    return permission is None or user.has_perm(permission)


def current_status(case):
    """The status stored in the database, None for a case not saved yet."""
    if case is None or case.pk is None:
        return None
    return Case.objects.filter(pk=case.pk).values_list("status", flat=True).first()


def allowed_statuses(user, case):
    """The statuses `user` may give `case` (None or unsaved: a new case), in workflow order."""
    old = current_status(case)
    allowed = []
    for status in Status.values:
        if status == old or (
            (old, status) in TRANSITIONS and _may(user, TRANSITIONS[(old, status)])
        ):
            allowed.append(status)
    return allowed


def check_transition(user, case, new_status, withdrawal_reason=None):
    """Raise TransitionError unless `user` may give `case` the status `new_status`.

    `case` is the case as stored (None for a new one). A withdrawal needs a reason:
    `withdrawal_reason`, or the one already on the case.
    """
    old = current_status(case)
    if new_status not in Status.values:
        raise TransitionError(f"Unknown status {new_status!r}.")
    if new_status != old:
        if (old, new_status) not in TRANSITIONS:
            raise TransitionError(
                f"A case cannot go from {label(old)} to {label(new_status)} directly."
            )
        permission = TRANSITIONS[(old, new_status)]
        if not _may(user, permission):
            action = "publish or withdraw" if permission == PUBLISH else "submit for review"
            raise TransitionError(
                f"You may not {action}: moving a case from {label(old)} to "
                f"{label(new_status)} needs the permission “{permission}”."
            )
    if new_status == Status.WITHDRAWN:
        reason = withdrawal_reason if withdrawal_reason is not None else case.withdrawal_reason
        if not (reason or "").strip():
            raise TransitionError("A withdrawn case needs a withdrawal reason.")


def label(status):
    return "a new case" if status is None else Status(status).label.lower()
