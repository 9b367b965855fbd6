"""Writing parsed import files (cases.importers) through the write path.

The whole file is one transaction: a database error names the line of the case that
caused it, and a bad file leaves nothing behind.
"""

from contextlib import contextmanager

from django.db import DatabaseError, connection, transaction

from cases.importers.base import OPTIONAL_FIELDS, ExistingCases, ImportSummary, TaxonomyResolver
from cases.models import Case
from cases.services import editing

# save_cases(status=STATUS_FROM_FILE): new cases take the status the file gives.
STATUS_FROM_FILE = "from-file"


def save_cases(parsed_cases, status=Case.Status.DRAFT, user=None, propose=None, keep_ids=False):
    """Create or update every parsed case in one transaction; new cases get `status`
    (STATUS_FROM_FILE: the parsed case's own status, draft when the file gives none).

    keep_ids=True: a parsed case with a case_id (from the site's own export) updates the
    case with that id, or is created with it; the id sequence is moved past the largest id.

    propose=True (paste import): a change to a published case becomes a pending revision,
    never a live change, whoever imports it.

    A related title names a case already in the database, or becomes a pending reference
    that links up when its case arrives, later in the same file or in another import.
    Each created or changed case gets one history entry, attributed to `user`.
    """
    summary = ImportSummary()
    with transaction.atomic():
        existing = ExistingCases(parsed_cases, keep_ids=keep_ids)
        resolver = TaxonomyResolver()
        for parsed in parsed_cases:
            with database_errors_reported_at(parsed):
                saved = save_case(parsed, existing, resolver, status, user, propose, keep_ids)
            summary.count(saved.outcome)
            summary.saved.append((saved.case, saved.outcome, saved.revision))
        if keep_ids and any(parsed.case_id for parsed in parsed_cases):
            reset_case_id_sequence()
    return summary


def reset_case_id_sequence():
    """Move the case id sequence past the largest id, after cases were created with ids."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('cases_case', 'id'),"
            " coalesce((SELECT max(id) FROM cases_case), 1),"
            " (SELECT count(*) > 0 FROM cases_case))"
        )


@contextmanager
def database_errors_reported_at(parsed):
    """A database error names the line of the case that caused it."""
    try:
        yield
    except DatabaseError as error:
        raise parsed.error(f"could not be saved: {error}") from error


def save_case(parsed, existing, resolver, status, user=None, propose=None, keep_ids=False):
    """Write one case; returns the write path's Saved."""
    pk = existing.find_parsed(parsed)
    if pk is None:
        if status == STATUS_FROM_FILE:
            status = parsed.status or Case.Status.DRAFT
        case = Case(status=status)
        if keep_ids and parsed.case_id is not None and parsed.case_id not in existing.ids:
            case.pk = parsed.case_id
        given = {"title", *OPTIONAL_FIELDS}
    else:
        case = Case.objects.select_related("issue").get(pk=pk)
        given = {"title", *parsed.given}
    values = {name: getattr(parsed, name) for name in ("title", "summary", "disproof", "date")}
    values = {name: value for name, value in values.items() if name in given}
    # A source key the file gives is set; one it leaves out is kept.
    for name in ("source_id", "source_url"):
        if getattr(parsed, name):
            values[name] = getattr(parsed, name)
    if "issue" in given:
        values["issue"] = resolver.issue(parsed.issue)
    if "languages" in given:
        values["languages"] = [resolver.language(ref) for ref in parsed.languages]
    if "countries" in given:
        values["countries"] = [resolver.country(ref) for ref in parsed.countries]
    if "keywords" in given:
        values["keywords"] = [resolver.keyword(name) for name in parsed.keywords]
    appearances = None
    if "appearances" in given:
        appearances = [
            (
                resolver.outlet(ref.outlet, ref.outlet_domain).pk if ref.outlet else None,
                ref.url,
                ref.archive_url,
            )
            for ref in parsed.appearances
        ]
    return editing.save_case(
        case,
        user=user,
        reason="Imported",
        propose=propose,
        appearances=appearances,
        related_titles=parsed.related_titles,
        **values,
    )
