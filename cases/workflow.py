"""The editorial workflow: who may move a case from which status to which.

    draft ──submit──▶ in review ──publish──▶ published ──withdraw (reason)──▶ withdrawn
      ▲                  │                                                    │
      └────send back─────┘                       publishers may republish ◀───┘

This is the one place the rule lives. The admin offers the moves as buttons
(actions_for()) and checks every move and bulk action with check_transition(); the API
calls check_transition() before it writes. An edit of a published case by someone
without PUBLISH waits for review as a revision (cases.services.revisions).
"""

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Action:
    """A workflow move as the admin offers it: a button, a confirmation, a message."""

    name: str  # in the URL: submit, publish, request_changes, withdraw, to_draft
    old: str
    new: str
    label: str
    question: str  # the confirmation, with {title}
    done: str  # the message once done, with {title}
    note: str = ""  # the label of the text the move asks for ("" for none)
    note_required: bool = False

    def format(self, text, case):
        return text.format(title=case.title)


ACTIONS = [
    Action(
        "submit",
        Status.DRAFT,
        Status.IN_REVIEW,
        "Submit for review",
        "Submit “{title}” for review? Publishers will find it in the review queue.",
        "Submitted “{title}” for review: it waits in the review queue for a publisher.",
    ),
    Action(
        "publish",
        Status.IN_REVIEW,
        Status.PUBLISHED,
        "Approve and publish",
        "Approve and publish “{title}”? It appears at once on the public site, in the API "
        "and in the changes feed.",
        "Approved and published “{title}”: it is live on the public site.",
    ),
    Action(
        "request_changes",
        Status.IN_REVIEW,
        Status.DRAFT,
        "Request changes",
        "Send “{title}” back to its editor as a draft? Your comment is shown on the case.",
        "Sent “{title}” back as a draft with your comment.",
        note="What should change",
        note_required=True,
    ),
    Action(
        "publish",
        Status.DRAFT,
        Status.PUBLISHED,
        "Publish without review",
        "Publish “{title}” without review? It appears at once on the public site, in the "
        "API and in the changes feed.",
        "Published “{title}”: it is live on the public site.",
    ),
    Action(
        "withdraw",
        Status.PUBLISHED,
        Status.WITHDRAWN,
        "Withdraw",
        "Withdraw “{title}”? It leaves the lists, search, API and feeds; its URL answers "
        "410 Gone with your reason, and the corrections log lists it.",
        "Withdrew “{title}”: its URL now says when and why.",
        note="Withdrawal reason (public)",
        note_required=True,
    ),
    Action(
        "publish",
        Status.WITHDRAWN,
        Status.PUBLISHED,
        "Republish",
        "Republish “{title}”? It returns to the public site, the API and the feeds.",
        "Republished “{title}”: it is live on the public site again.",
    ),
    Action(
        "to_draft",
        Status.WITHDRAWN,
        Status.DRAFT,
        "Back to draft",
        "Make “{title}” a draft again? Its URL stops answering with the withdrawal.",
        "“{title}” is a draft again.",
    ),
]


def actions_for(user, case):
    """The moves `user` may make on the stored `case`, in workflow order."""
    old = current_status(case)
    return [
        action
        for action in ACTIONS
        if action.old == old and _may(user, TRANSITIONS[(action.old, action.new)])
    ]


def find_action(case, name):
    """The move called `name` from the stored case's status, or None."""
    old = current_status(case)
    return next((a for a in ACTIONS if a.old == old and a.name == name), None)
