"""Paste import: cases pasted in the seed text layout, parsed and previewed.

It reuses the import command's parser (cases.importers.text). It writes nothing: the
preview looks taxonomy values up without creating them, and on confirmation the admin
saves the parsed cases through the write path (cases.services.imports.save_cases()).
"""

from dataclasses import dataclass, field

from django.db.models import Q

from cases.importers.base import ExistingCases, TaxonomyResolver, check_no_duplicates
from cases.importers.text import CaseImportError, parse_text_collecting_errors
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


def parse(text):
    """(parsed cases, errors) for pasted text; errors are CaseImportError with a line."""
    parsed_cases, errors = parse_text_collecting_errors(text, SOURCE)
    if not errors:
        try:
            check_no_duplicates(parsed_cases)
        except CaseImportError as error:
            errors.append(error)
    return parsed_cases, errors


def preview(parsed_cases):
    """What saving would do, case by case, without writing anything."""
    resolver = TaxonomyResolver()
    existing = ExistingCases(parsed_cases)
    titles_in_text = {normalize_title(parsed.title) for parsed in parsed_cases}
    previews = []
    for parsed in parsed_cases:
        pk = existing.find(parsed.title, parsed.date)
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
        previews.append(item)
    return previews
