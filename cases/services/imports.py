"""Writing parsed import files (cases.importers) through the write path.

The whole file is one transaction: a database error names the line of the case that
caused it, and a bad file leaves nothing behind.
"""

from contextlib import contextmanager

from django.db import DatabaseError, transaction

from cases.importers.base import OPTIONAL_FIELDS, ExistingCases, ImportSummary, TaxonomyResolver
from cases.models import Case
from cases.services import editing


def save_cases(parsed_cases, status=Case.Status.DRAFT, user=None, propose=None):
    """Create or update every parsed case in one transaction; new cases get `status`.

    propose=True (paste import): a change to a published case becomes a pending revision,
    never a live change, whoever imports it.

    A related title names a case already in the database, or becomes a pending reference
    that links up when its case arrives, later in the same file or in another import.
    Each created or changed case gets one history entry, attributed to `user`.
    """
    summary = ImportSummary()
    with transaction.atomic():
        existing = ExistingCases(parsed_cases)
        resolver = TaxonomyResolver()
        for parsed in parsed_cases:
            with database_errors_reported_at(parsed):
                saved = save_case(parsed, existing, resolver, status, user, propose)
            summary.count(saved.outcome)
            summary.saved.append((saved.case, saved.outcome, saved.revision))
    return summary


@contextmanager
def database_errors_reported_at(parsed):
    """A database error names the line of the case that caused it."""
    try:
        yield
    except DatabaseError as error:
        raise parsed.error(f"could not be saved: {error}") from error


def save_case(parsed, existing, resolver, status, user=None, propose=None):
    """Write one case; returns the write path's Saved."""
    pk = existing.find(parsed.title, parsed.date)
    if pk is None:
        case = Case(status=status)
        given = {"title", *OPTIONAL_FIELDS}
    else:
        case = Case.objects.select_related("issue").get(pk=pk)
        given = {"title", *parsed.given}
    values = {name: getattr(parsed, name) for name in ("title", "summary", "disproof", "date")}
    values = {name: value for name, value in values.items() if name in given}
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
