"""Three-way merge of an edit made on an older version of a case.

Two editors open version 3. One saves a new summary (version 4). The other then saves a
form that still holds the old summary, a field they never touched, and a new date. Their
edit is merged against version 3, the base both started from:

- a field the saver left as it was in the base keeps the newer value (the summary);
- a field only the saver changed takes the saver's value (the date);
- a field both changed, to different values, is a conflict: nothing is written, and the
  saver picks a side for each such field (`resolved`), then saves again.

Values are compared in the JSON form of cases.history's snapshots (dates as ISO strings,
link ids sorted, appearances as [outlet_id, url, archive_url] rows), which is also how
cases.models.CaseRevision stores them.
"""

from dataclasses import dataclass
from datetime import date

from cases import history
from cases.models import Issue, Outlet

# The snapshot name of each save_case() argument that has one.
SNAPSHOT_NAMES = {"issue": "issue_id"}
ARGUMENT_NAMES = {"issue_id": "issue"}
# Compared and merged, but not in history snapshots: the base of a merge never has them.
UNTRACKED = ["pending_titles"]


@dataclass(frozen=True)
class Conflict:
    name: str  # the snapshot name, e.g. "summary", "issue_id", "keywords"
    base: object
    theirs: object
    mine: object

    @property
    def label(self):
        return label(self.name)

    @property
    def argument(self):
        return ARGUMENT_NAMES.get(self.name, self.name)


def label(name):
    if name == "pending_titles":
        return "Related cases not in the database yet"
    return history.FIELD_LABELS[name.removesuffix("_id")]


def jsonable(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [jsonable(item) for item in value]
    return value


def snapshot_json(snapshot):
    return {name: jsonable(value) for name, value in snapshot.items()}


def current(case):
    """The stored case in snapshot JSON form, pending related titles included."""
    data = snapshot_json(history.current_snapshot(case))
    data["pending_titles"] = sorted(case.pending_references.values_list("title", flat=True))
    return data


def at_version(case, version):
    """The case as it was at `version`, in snapshot JSON form; None if not in the history."""
    record = history.record_for_version(case, version)
    if record is None:
        # A case as its import batch created it is at its first version still.
        if version == case.version and history.batch_entry(case) is not None:
            return snapshot_json(history.current_snapshot(case))
        return None
    return snapshot_json(history.snapshot(record))


def given(case, values, appearances=None, pending_titles=None):
    """What a save_case() call asks for, in snapshot JSON form (only what it names)."""
    mine = {}
    for name, value in values.items():
        if name == "issue":
            value = value.pk if isinstance(value, Issue) else value
        elif name in history.LINK_MODELS:
            ids = {item if isinstance(item, int) else item.pk for item in value or []}
            if name == "related":
                ids.discard(case.pk)
            value = sorted(ids)
        elif name == "title":
            value = value.strip()
        mine[SNAPSHOT_NAMES.get(name, name)] = jsonable(value)
    if appearances is not None:
        mine["appearances"] = [
            [outlet_id, url or "", archive or ""] for outlet_id, url, archive in appearances
        ]
    if pending_titles is not None:
        mine["pending_titles"] = sorted(title.strip() for title in pending_titles if title.strip())
    return mine


def three_way(base, theirs, mine, resolved=None):
    """(names to take from `mine`, conflicts) for an edit `mine` made on `base`.

    base may be None (the version is not in the history): then every field `mine` changes
    from `theirs` is a conflict. resolved: {name: "mine" | "theirs"} for conflicts the
    saver has already seen and decided.
    """
    resolved = resolved or {}
    take, conflicts = set(), []
    for name, value in mine.items():
        if value == theirs.get(name):
            continue
        if base is not None and name in base:
            if value == base[name]:
                continue  # untouched by the saver: the newer value stays
            if theirs.get(name) == base[name]:
                take.add(name)  # only the saver changed it
                continue
        elif base is not None and name in UNTRACKED:
            take.add(name)
            continue
        choice = resolved.get(name)
        if choice == "mine":
            take.add(name)
        elif choice != "theirs":
            conflicts.append(
                Conflict(name, None if base is None else base.get(name), theirs.get(name), value)
            )
    return take, conflicts


def display(name, value):
    """A snapshot JSON value as an editor reads it."""
    if value is None:
        return ""
    if name == "date":
        return value
    if name == "appearances":
        value = [tuple(row) for row in value]
    if name == "pending_titles":
        return ", ".join(value)
    return history._display(name, value)


def arguments(changes):
    """save_case() arguments for snapshot JSON `changes`; values deleted since (a merged
    keyword, a removed outlet or issue) are left out."""
    values, appearances, pending_titles = {}, None, None
    for name, value in changes.items():
        if name == "issue_id":
            values["issue"] = Issue.objects.filter(pk=value).first() if value else None
        elif name == "date":
            values["date"] = date.fromisoformat(value) if value else None
        elif name in history.LINK_MODELS:
            model = history.LINK_MODELS[name]
            values[name] = list(model.objects.filter(pk__in=value).values_list("pk", flat=True))
        elif name == "appearances":
            outlets = set(
                Outlet.objects.filter(pk__in=[row[0] for row in value if row[0]]).values_list(
                    "pk", flat=True
                )
            )
            appearances = [
                (outlet_id if outlet_id in outlets else None, url, archive)
                for outlet_id, url, archive in value
            ]
            appearances = [row for row in appearances if row[0] or row[1]]
        elif name == "pending_titles":
            pending_titles = list(value)
        elif name in ("title", "summary", "disproof", "status", "withdrawal_reason"):
            values[name] = value
    return values, appearances, pending_titles


def last_editor(case, version):
    """Who saved `version` of the case, for the conflict message (None if unknown)."""
    record = history.record_for_version(case, version)
    if record is None and version == case.version:
        batch = history.batch_entry(case)
        return batch.user if batch is not None else None
    return getattr(record, "history_user", None) if record else None
