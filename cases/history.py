"""A case's change history: one record per edit, readable diffs, conflicts and reverts.

django-simple-history writes a HistoricalCase row on every save and another on every
many-to-many change. An edit touches the case, its links and its appearances in one go, so
the write path (cases.services.editing) switches the automatic records off and writes a
single record with record_now() once everything is saved.
Appearances have their own history (HistoricalAppearance); a case record's appearances
are those that existed at its history_date.
"""

import re
from collections import Counter
from difflib import SequenceMatcher

from django.db import connection
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from cases.models import (
    CASE_HISTORY,
    Appearance,
    Case,
    CorrectionNote,
    Country,
    Keyword,
    Language,
)

FIELD_LABELS = {
    "title": "Title",
    "summary": "Summary",
    "disproof": "Disproof",
    "date": "Date of publication",
    "issue": "Issue",
    "status": "Status",
    "withdrawal_reason": "Withdrawal reason",
    "source_id": "Source id",
    "source_url": "Source URL",
    "languages": "Languages",
    "countries": "Countries and regions",
    "keywords": "Keywords",
    "related": "Related cases",
    "appearances": "Appearances",
}
PLAIN_FIELDS = [
    "title",
    "summary",
    "disproof",
    "date",
    "issue_id",
    "status",
    "withdrawal_reason",
    "source_id",
    "source_url",
]
LINK_MODELS = {"languages": Language, "countries": Country, "keywords": Keyword, "related": Case}
# The linked id's column in the historical link tables; a case's related cases are "to" links.
HISTORY_COLUMNS = {"related": "to_case_id"}
ALL_FIELDS = [*PLAIN_FIELDS, *LINK_MODELS, "appearances"]
# Shown as a word diff; the other plain fields as "old → new".
TEXT_FIELDS = ["title", "summary", "disproof", "withdrawal_reason"]
REASON_LENGTH = 100  # HistoricalCase.history_change_reason's max_length
# Unchanged words kept either side of a change in a word diff; longer stretches are elided.
CONTEXT_WORDS = 8


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


HISTORY_CASE_COLUMNS = (
    "id, title, slug, summary, disproof, date, status, withdrawal_reason, version, created_at,"
    " published_at, issue_id, source_id, source_url"
)
# The first record of each case of %(ids)s that an import batch created (ImportBatch
# .case_ids) and that has none yet: the case as it is, with its links and appearances,
# dated and attributed as the batch. What record_now() writes for a case save_case()
# creates, in one statement for many cases.
IMPORTED_RECORDS_SQL = f"""
WITH firsts AS (
    SELECT c.id, b.id AS batch_id, b.created_at, b.user_id
    FROM cases_case c
    CROSS JOIN LATERAL (
        SELECT b.id, b.created_at, b.user_id FROM cases_importbatch b
        WHERE b.case_ids @> ARRAY[c.id] ORDER BY b.id LIMIT 1
    ) b
    WHERE c.id = ANY(%(ids)s)
    AND NOT EXISTS (SELECT FROM cases_historicalcase h WHERE h.id = c.id)
), records AS (
    INSERT INTO cases_historicalcase
        ({HISTORY_CASE_COLUMNS}, history_date, history_change_reason, history_type,
         history_user_id)
    SELECT {", ".join("c." + column.strip() for column in HISTORY_CASE_COLUMNS.split(","))},
        f.created_at, 'Import #' || f.batch_id, '+', f.user_id
    FROM firsts f JOIN cases_case c ON c.id = f.id
    RETURNING history_id, id
), languages AS (
    INSERT INTO cases_historicalcase_languages (id, case_id, history_id, language_id)
    SELECT x.id, x.case_id, r.history_id, x.language_id
    FROM records r JOIN cases_case_languages x ON x.case_id = r.id
), countries AS (
    INSERT INTO cases_historicalcase_countries (id, case_id, history_id, country_id)
    SELECT x.id, x.case_id, r.history_id, x.country_id
    FROM records r JOIN cases_case_countries x ON x.case_id = r.id
), keywords AS (
    INSERT INTO cases_historicalcase_keywords (id, case_id, history_id, keyword_id)
    SELECT x.id, x.case_id, r.history_id, x.keyword_id
    FROM records r JOIN cases_case_keywords x ON x.case_id = r.id
), related AS (
    INSERT INTO cases_historicalcase_related (id, from_case_id, history_id, to_case_id)
    SELECT x.id, x.from_case_id, r.history_id, x.to_case_id
    FROM records r JOIN cases_case_related x ON x.from_case_id = r.id
), appearances AS (
    INSERT INTO cases_historicalappearance
        (id, case_id, outlet_id, url, archive_url, history_date, history_change_reason,
         history_type, history_user_id)
    SELECT a.id, a.case_id, a.outlet_id, a.url, a.archive_url, f.created_at,
        'Import #' || f.batch_id, '+', f.user_id
    FROM firsts f JOIN cases_appearance a ON a.case_id = f.id
    WHERE NOT EXISTS (SELECT FROM cases_historicalappearance h WHERE h.id = a.id)
)
SELECT count(*) FROM records
"""


def record_imported(case_ids):
    """Write the first history record of each of these cases that an import batch created
    and that has no record yet, as of the batch (ImportBatch.case_ids: a batch lists the
    cases it created rather than writing a record for each). Call it before anything
    changes such a case, its links or its appearances; returns how many were written."""
    case_ids = sorted(set(case_ids))
    if not case_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(IMPORTED_RECORDS_SQL, {"ids": case_ids})
        return cursor.fetchone()[0]


def batch_entry(case):
    """The ImportBatch that created `case` when that is still its only history entry (no
    record of its own was written since: it is as the batch left it), else None."""
    from cases.models import ImportBatch

    if case.pk is None or case.history.exists():
        return None
    batches = ImportBatch.objects.filter(case_ids__contains=[case.pk]).defer("case_ids")
    return batches.order_by("id").first()


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
    from cases.models import Issue

    if name == "issue_id":
        return str(Issue.objects.filter(pk=value).first() or "") if value else ""
    if name == "status":
        return Case.Status(value).label
    if name in LINK_MODELS:
        return ", ".join(_link_names(LINK_MODELS[name], value))
    if name == "appearances":
        return "\n".join(_appearance_lines(value))
    return "" if value is None else str(value)


def _appearance_lines(rows):
    """Each appearance (outlet_id, url, archive_url) as one line of text."""
    from cases.models import Outlet

    outlet_ids = {outlet_id for outlet_id, _, _ in rows}
    outlets = dict(Outlet.objects.filter(pk__in=outlet_ids).values_list("pk", "name"))
    lines = []
    for outlet_id, url, archive_url in rows:
        parts = [outlets.get(outlet_id, ""), url, archive_url and f"(archive: {archive_url})"]
        lines.append(" ".join(part for part in parts if part))
    return lines


def diff(old, new):
    """[(label, old text, new text)] for every field that differs between two snapshots."""
    changes = []
    for name in ALL_FIELDS:
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
            for name in ALL_FIELDS
            if new[name]
        ]
    return diff(snapshot(previous), new)


# Readable diffs (HTML) for the admin's history and revert pages


def _tokens(text):
    """Words, runs of punctuation and the whitespace between them, in order: joined, they
    are the text. Punctuation is its own token so that "Riga." → "Riga, Latvia." marks
    only the added words, not the whole word with its full stop."""
    return [token for token in re.split(r"(\s+|[^\w\s]+)", text or "") if token]


def _segments(old_tokens, new_tokens):
    """The two token lists as [("equal", tokens)] and [("change", removed, added)].

    Whitespace or punctuation alone between two changes joins them: "<del>a b</del><ins>c
    d</ins>" reads better than "<del>a</del><ins>c</ins> <del>b</del><ins>d</ins>".
    """
    matcher = SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    segments = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            segments.append(("equal", old_tokens[i1:i2]))
        else:
            segments.append(("change", old_tokens[i1:i2], new_tokens[j1:j2]))
    merged = []
    for index, segment in enumerate(segments):
        joins = (
            segment[0] == "equal"
            and not re.search(r"\w", "".join(segment[1]))
            and 0 < index < len(segments) - 1
        )
        if segment[0] == "change" or joins:
            removed, added = (segment[1], segment[1]) if joins else segment[1:]
            if merged and merged[-1][0] == "change":
                _, before_removed, before_added = merged.pop()
                removed, added = before_removed + removed, before_added + added
            merged.append(("change", removed, added))
        else:
            merged.append(segment)
    return merged


def _shortened(tokens, context, keep_start, keep_end):
    """Unchanged tokens as safe HTML, with the middle elided when it is long: `context`
    words are kept at the start (before a change) and at the end (after a change)."""
    words = [i for i, token in enumerate(tokens) if re.search(r"\w", token)]
    if not context or len(words) <= context * (keep_start + keep_end) + 3:
        return escape("".join(tokens))
    gap = mark_safe('<span class="diff-gap" title="unchanged text">…</span>')
    # Punctuation next to a kept word stays with it ("asked." rather than "asked …").
    end, start = words[context - 1] + 1, words[-context]
    if end < len(tokens) and not tokens[end].isspace():
        end += 1
    if start > 0 and not tokens[start - 1].isspace():
        start -= 1
    head = escape("".join(tokens[:end])) if keep_start else ""
    tail = escape("".join(tokens[start:])) if keep_end else ""
    return format_html("{}{}{}{}{}", head, " " if head else "", gap, " " if tail else "", tail)


def word_diff(old, new, context=CONTEXT_WORDS):
    """The text once, as safe HTML: words removed from `old` in <del>, words added in
    `new` in <ins>. Unchanged stretches keep `context` words either side of a change and
    are elided between (context=None keeps everything)."""
    segments = _segments(_tokens(old), _tokens(new))
    parts = []
    for index, segment in enumerate(segments):
        if segment[0] == "equal":
            after_change, before_change = index > 0, index < len(segments) - 1
            parts.append(_shortened(segment[1], context, after_change, before_change))
            continue
        _, removed, added = segment
        if removed:
            parts.append(format_html("<del>{}</del>", "".join(removed)))
        if added:
            parts.append(format_html("<ins>{}</ins>", "".join(added)))
    return format_html_join("", "{}", ((part,) for part in parts))


def _added_and_removed(added, removed):
    """A list of values added (+) and removed (−), as safe HTML."""
    items = [format_html("<li><ins>+ {}</ins></li>", value) for value in added]
    items += [format_html("<li><del>− {}</del></li>", value) for value in removed]
    return format_html(
        '<ul class="diff-values">{}</ul>', format_html_join("", "{}", ((i,) for i in items))
    )


def _rendered(name, old, new, created=False):
    """How one field changed from value `old` to `new` (created: the case was created)."""
    if name in TEXT_FIELDS:
        return format_html('<div class="word-diff">{}</div>', word_diff(old or "", new or ""))
    if name in LINK_MODELS:
        model = LINK_MODELS[name]
        old = set(old or [])
        return _added_and_removed(
            _link_names(model, set(new) - old), _link_names(model, old - set(new))
        )
    if name == "appearances":
        old_rows, new_rows = Counter(old or []), Counter(new)
        added = [row for row in new if row in new_rows - old_rows]
        removed = [row for row in old or [] if row in old_rows - new_rows]
        return _added_and_removed(_appearance_lines(added), _appearance_lines(removed))
    if created:
        return format_html("{}", _display(name, new))
    return format_html(
        '{} <span class="diff-arrow">→</span> {}',
        _display(name, old) or "(none)",
        _display(name, new) or "(none)",
    )


def readable_diff(old, new):
    """[(label, safe HTML)] for every field that differs between two snapshots: a word
    diff of the texts, the values added and removed of links and appearances, "old → new"
    of the others. old=None: the case was created with `new` (its empty fields left out)."""
    return [
        (
            FIELD_LABELS[name.removesuffix("_id")],
            _rendered(name, old and old[name], new[name], created=old is None),
        )
        for name in ALL_FIELDS
        if (old[name] != new[name] if old is not None else new[name])
    ]


def readable_changes_in(record):
    """What a history record changed compared with the record before it, readably."""
    previous = record.prev_record
    return readable_diff(snapshot(previous) if previous else None, snapshot(record))


def editor_name(record):
    """Who saved a history record: the user's full name or username; without a user,
    "import" for an import and "system" for anything else."""
    user = record.history_user
    if user is not None:
        return user.get_full_name() or user.get_username()
    return "import" if record.history_change_reason == "Imported" else "system"


def describe_records(records):
    """Set on each history record of a page what the admin's history page shows:
    history_delta_changes (readable_diff rows), editor, correction_note (the public note
    that came with that version, or None) and reason (the change reason, "" when there is
    none or it only repeats the correction note)."""
    records = list(records)
    snapshots = {}

    def snapshot_of(record):
        if record.history_id not in snapshots:
            snapshots[record.history_id] = snapshot(record)
        return snapshots[record.history_id]

    notes = {}
    for note in CorrectionNote.objects.filter(
        case_id__in={record.id for record in records},
        case_version__in={record.version for record in records},
    ):
        notes.setdefault((note.case_id, note.case_version), note)
    for record in records:
        previous = record.prev_record
        old = snapshot_of(previous) if previous is not None else None
        record.history_delta_changes = readable_diff(old, snapshot_of(record))
        record.editor = editor_name(record)
        record.correction_note = notes.get((record.id, record.version))
        reason = record.history_change_reason or ""
        note_text = record.correction_note.text if record.correction_note else ""
        if note_text and (reason == note_text or reason == _fitting_reason(note_text)):
            reason = ""
        record.reason = reason
