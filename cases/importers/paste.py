"""Paste import: cases pasted in the seed text layout, parsed and previewed.

It reuses the import command's parser (cases.importers.text). It writes nothing: the
preview looks taxonomy values up without creating them, and shows what a pasted case
changes in the case it matches. On confirmation the admin saves the parsed cases through
the write path (cases.services.imports.save_cases(propose=True)): new cases become drafts,
and a change to a published case becomes a revision waiting for review, never a live
change.
"""

from dataclasses import dataclass, field

from django.db.models import Q

from cases.importers.base import ExistingCases, TaxonomyResolver, duplicate_problems
from cases.importers.taxonomy import taxonomy_errors
from cases.importers.text import parse_text_collecting_errors
from cases.models import Case, normalize_title
from cases.search.similar import similar_cases

SOURCE = "pasted text"


@dataclass
class TaxonomyValue:
    name: str
    existing: object = None  # the value in the database, or None: it would be created

    @property
    def is_new(self):
        return self.existing is None


@dataclass
class RelatedTitle:
    title: str
    case: Case | None = None  # linked at once, or None: kept as a pending reference


@dataclass
class CasePreview:
    parsed: object
    updates: Case | None = None
    languages: list = field(default_factory=list)
    countries: list = field(default_factory=list)
    keywords: list = field(default_factory=list)
    appearances: list = field(default_factory=list)  # (TaxonomyValue or None, url, archive)
    related: list = field(default_factory=list)
    similar: list = field(default_factory=list)
    # [(label, live text, pasted text)] of each field the paste changes in `updates`.
    changes: list = field(default_factory=list)


def parse(text):
    """(parsed cases, errors) for pasted text; errors are CaseImportError with a line."""
    parsed_cases, errors = parse_text_collecting_errors(text, SOURCE)
    if not errors:
        errors.extend(duplicate_problems(parsed_cases))
    if not errors:
        errors += taxonomy_errors(parsed_cases)
    return parsed_cases, errors


def preview(parsed_cases):
    """What saving would do, case by case, without writing anything."""
    resolver = TaxonomyResolver()
    existing = ExistingCases(parsed_cases)
    titles_in_text = {normalize_title(parsed.title) for parsed in parsed_cases}
    previews = []
    for parsed in parsed_cases:
        pk = existing.find_parsed(parsed)
        item = CasePreview(parsed=parsed, updates=Case.objects.filter(pk=pk).first())
        item.languages = [
            TaxonomyValue(ref.name, resolver.find_language(ref)) for ref in parsed.languages
        ]
        item.countries = [
            TaxonomyValue(ref.name, resolver.find_country(ref)) for ref in parsed.countries
        ]
        item.keywords = [
            TaxonomyValue(name, resolver.find_keyword(name)) for name in parsed.keywords
        ]
        item.appearances = [
            (
                TaxonomyValue(ref.outlet, resolver.find_outlet(ref.outlet, ref.outlet_domain))
                if ref.outlet
                else None,
                ref.url,
                ref.archive_url,
            )
            for ref in parsed.appearances
        ]
        for title in parsed.related_titles:
            key = normalize_title(title)
            match = (
                Case.objects.filter(Q(title__iexact=title.strip().rstrip(".")))
                .only("id", "title", "status")
                .order_by("id")
                .first()
            )
            if match is None and key in titles_in_text:
                match = Case(title=title)  # arrives with this very import
            item.related.append(RelatedTitle(title, match))
        if item.updates is None:
            item.similar = similar_cases(parsed.title, parsed.summary)
        else:
            item.changes = changes(item.updates, item)
        previews.append(item)
    return previews


def changes(case, item):
    """[(label, live text, pasted text)] for each field the pasted case would change.

    Only the fields the text gives are compared (an absent section leaves its field);
    taxonomy values are compared by name, new ones included.
    """
    parsed = item.parsed
    given = {"title", *parsed.given}
    rows = []

    def compare(name, label, live, pasted):
        if name in given and live != pasted:
            rows.append((label, live, pasted))

    compare("title", "Title", case.title, parsed.title.strip())
    compare("summary", "Summary", case.summary, parsed.summary)
    compare("disproof", "Disproof", case.disproof, parsed.disproof)
    compare("date", "Date of publication", _iso(case.date), _iso(parsed.date))
    compare(
        "issue",
        "Issue",
        str(case.issue.number) if case.issue_id else "",
        str(parsed.issue) if parsed.issue else "",
    )
    for name, label in (
        ("languages", "Languages"),
        ("countries", "Countries and regions"),
        ("keywords", "Keywords"),
    ):
        live = ", ".join(sorted(value.name for value in getattr(case, name).all()))
        pasted = ", ".join(
            sorted(
                {
                    value.existing.name if value.existing else value.name
                    for value in getattr(item, name)
                }
            )
        )
        compare(name, label, live, pasted)
    live = [
        _appearance(row.outlet.name if row.outlet_id else "", row.url, row.archive_url)
        for row in case.appearances.select_related("outlet").order_by("id")
    ]
    pasted = [
        _appearance(
            (outlet.existing.name if outlet.existing else outlet.name) if outlet else "",
            url,
            archive,
        )
        for outlet, url, archive in item.appearances
    ]
    compare("appearances", "Appearances", "\n".join(live), "\n".join(pasted))
    return rows


def _iso(day):
    return day.isoformat() if day else ""


def _appearance(outlet, url, archive):
    parts = [outlet, url, f"(archive: {archive})" if archive else ""]
    return " ".join(part for part in parts if part)
