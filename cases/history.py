"""A case's change history: one record per edit, readable diffs, conflicts and reverts.

django-simple-history writes a HistoricalCase row on every save and another on every
many-to-many change. An edit touches the case, its links and its appearances in one go, so
the write path (cases.services.editing) switches the automatic records off and writes a
single record with record_now() once everything is saved.
Appearances have their own history (HistoricalAppearance); a case record's appearances
are those that existed at its history_date.
"""

from django.utils.text import Truncator

from cases.models import CASE_HISTORY, Appearance, Case, Country, Keyword, Language

FIELD_LABELS = {
    "title": "Title",
    "summary": "Summary",
    "disproof": "Disproof",
    "date": "Date of publication",
    "issue": "Issue",
    "status": "Status",
    "withdrawal_reason": "Withdrawal reason",
    "languages": "Languages",
    "countries": "Countries and regions",
    "keywords": "Keywords",
    "related": "Related cases",
    "appearances": "Appearances",
}
PLAIN_FIELDS = ["title", "summary", "disproof", "date", "issue_id", "status", "withdrawal_reason"]
LINK_MODELS = {"languages": Language, "countries": Country, "keywords": Keyword, "related": Case}
# The linked id's column in the historical link tables; a case's related cases are "to" links.
HISTORY_COLUMNS = {"related": "to_case_id"}
REASON_LENGTH = 100  # HistoricalCase.history_change_reason's max_length


def record_now(case, user=None, reason="", history_type="~"):
    """Write one history record of case as it is in the database now."""
    case._history_user = user
    # The reason column is short; a correction note used as the reason may be long (the
    # note itself is kept whole in CorrectionNote).
    case._change_reason = _fitting_reason(reason) or None
    try:
        CASE_HISTORY.create_historical_record(case, history_type)
    finally:
        del case._history_user
        del case._change_reason


def _fitting_reason(reason):
    return Truncator(reason or "").chars(REASON_LENGTH)


def appearances_at(case_id, moment):
    """The appearances a case had at `moment`, from HistoricalAppearance, oldest first."""
    latest = {}
    rows = Appearance.history.filter(case_id=case_id, history_date__lte=moment).order_by(
        "history_date", "history_id"
    )
    for row in rows.select_related("outlet"):
        latest[row.id] = row
    return [row for pk, row in sorted(latest.items()) if row.history_type != "-"]


def _link_names(model, ids):
    label = "title" if model is Case else "name"
    names = dict(model.objects.filter(pk__in=ids).values_list("pk", label))
    return sorted(names.get(pk, f"(removed #{pk})") for pk in ids)


def snapshot(record):
    """A historical record as {field: value}; links as id lists, appearances as tuples."""
    data = {name: getattr(record, name) for name in PLAIN_FIELDS}
    for name, model in LINK_MODELS.items():
        column = HISTORY_COLUMNS.get(name, f"{model._meta.model_name}_id")
        data[name] = sorted(getattr(record, name).values_list(column, flat=True))
    data["appearances"] = [
        (a.outlet_id, a.url, a.archive_url) for a in appearances_at(record.id, record.history_date)
    ]
    return data


def current_snapshot(case):
    case = Case.objects.get(pk=case.pk)
    data = {name: getattr(case, name) for name in PLAIN_FIELDS}
    for name in LINK_MODELS:
        data[name] = sorted(getattr(case, name).values_list("pk", flat=True))
    data["appearances"] = list(
        case.appearances.order_by("id").values_list("outlet_id", "url", "archive_url")
    )
    return data


def _display(name, value):
    from cases.models import Issue, Outlet

    if name == "issue_id":
        return str(Issue.objects.filter(pk=value).first() or "") if value else ""
    if name == "status":
        return Case.Status(value).label
    if name in LINK_MODELS:
        return ", ".join(_link_names(LINK_MODELS[name], value))
    if name == "appearances":
        outlet_ids = {outlet_id for outlet_id, _, _ in value}
        outlets = dict(Outlet.objects.filter(pk__in=outlet_ids).values_list("pk", "name"))
        lines = []
        for outlet_id, url, archive_url in value:
            parts = [outlets.get(outlet_id, ""), url, archive_url and f"(archive: {archive_url})"]
            lines.append(" ".join(part for part in parts if part))
        return "\n".join(lines)
    return "" if value is None else str(value)


def diff(old, new):
    """[(label, old text, new text)] for every field that differs between two snapshots."""
    changes = []
    for name in [*PLAIN_FIELDS, *LINK_MODELS, "appearances"]:
        if old[name] != new[name]:
            label = FIELD_LABELS[name.removesuffix("_id")]
            changes.append((label, _display(name, old[name]), _display(name, new[name])))
    return changes


def record_for_version(case, version):
    """The last history record of case at `version`, or None."""
    return (
        case.history.filter(version=version).order_by("-history_date", "-history_id").first()
        if version is not None
        else None
    )


def changes_since(case, version):
    """What changed since `version` of case: a diff, or None when that version is unknown.

    Used to explain a refused stale save (admin) or If-Match failure (API).
    """
    record = record_for_version(case, version)
    if record is None:
        return None
    return diff(snapshot(record), current_snapshot(case))


def changes_in(record):
    """What a history record changed compared with the record before it."""
    previous = record.prev_record
    new = snapshot(record)
    if previous is None:
        return [
            (FIELD_LABELS[name.removesuffix("_id")], "", _display(name, new[name]))
            for name in [*PLAIN_FIELDS, *LINK_MODELS, "appearances"]
            if new[name]
        ]
    return diff(snapshot(previous), new)
