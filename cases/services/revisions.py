"""Reverting a case to an earlier version of its history."""

from django.db import transaction

from cases import history
from cases.models import Case, Issue, Outlet
from cases.services import editing


def revert(case, record, user=None):
    """Make case what it was at history `record`: fields, links and appearances.

    The revert is itself a new version, so nothing in the history is lost. The status is
    not reverted: publishing and withdrawing go through the workflow only. Values deleted
    since (a merged keyword, a removed outlet) are left out.
    """
    old = history.snapshot(record)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        values = {name: old[name] for name in ("title", "summary", "disproof", "date")}
        values["issue"] = Issue.objects.filter(pk=old["issue_id"]).first()
        for name, model in history.LINK_MODELS.items():
            values[name] = list(model.objects.filter(pk__in=old[name]).values_list("pk", flat=True))
        outlets = set(
            Outlet.objects.filter(pk__in=[o for o, _, _ in old["appearances"]]).values_list(
                "pk", flat=True
            )
        )
        appearances = [
            (outlet_id if outlet_id in outlets else None, url, archive)
            for outlet_id, url, archive in old["appearances"]
        ]
        appearances = [(o, url, archive) for o, url, archive in appearances if o or url]
        editing.save_case(
            case,
            user=user,
            reason=f"Reverted to version {record.version}",
            appearances=appearances,
            **values,
        )
    return case
