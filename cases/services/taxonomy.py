"""Taxonomy changes that change cases: merging values, and renaming one.

Each case that shows a merged or renamed value changes with it: its search vector (keyword
names are part of it) and its updated_at; a merge is also a new version of each moved case,
with a history entry, since its links changed. The change log follows by itself
(cases.freshness.dataversion).
"""

from django.db import transaction

from cases import history
from cases.models import (
    Appearance,
    Case,
    CountryAlias,
    KeywordAlias,
    LanguageAlias,
    OutletAlias,
    TaxonomyRedirect,
)
from cases.services import editing
from cases.taxonomy import LINK_FIELDS, kind_of


def cases_showing(value):
    """The ids of the cases whose public representation shows the taxonomy value."""
    kind = kind_of(type(value))
    if kind == "outlet":
        return set(Appearance.objects.filter(outlet=value).values_list("case_id", flat=True))
    if kind == "issue":
        return set(Case.objects.filter(issue=value).values_list("id", flat=True))
    return set(value.cases.values_list("id", flat=True))


# The alias table of each kind and its foreign key to the value (cases.importers.taxonomy).
ALIASES = {
    "keyword": (KeywordAlias, "keyword"),
    "country": (CountryAlias, "country"),
    "language": (LanguageAlias, "language"),
    "outlet": (OutletAlias, "outlet"),
}


def keep_as_alias(value, names):
    """Make `names` aliases of `value`, so that imports keep reading them as it: the
    former names of a renamed value, the names of values merged into it."""
    kind = kind_of(type(value))
    if kind not in ALIASES:
        return
    model, field = ALIASES[kind]
    taken = {name.casefold() for name in model.objects.values_list("name", flat=True)}
    taken |= {
        name.casefold()
        for name in type(value).objects.exclude(pk=value.pk).values_list("name", flat=True)
    }
    taken.add(value.name.casefold())
    for name in names:
        if name and name.casefold() not in taken:
            model.objects.create(name=name, **{field: value})
            taken.add(name.casefold())


def save_value(value):
    """Save a keyword, country, language, outlet or issue; a rename changes its cases.

    A renamed keyword, country, language or outlet keeps its former name as an alias.
    """
    with transaction.atomic():
        model = type(value)
        old = model.objects.filter(pk=value.pk).first() if value.pk else None
        value.save()
        if old is not None and getattr(old, "name", None) != getattr(value, "name", None):
            keep_as_alias(value, [old.name])
        if old is not None and any(
            getattr(old, field.attname) != getattr(value, field.attname)
            for field in model._meta.concrete_fields
        ):
            editing.labels_changed(cases_showing(value))


def merge(keep, others, user=None):
    """Move every case from `others` to `keep`, then delete `others`; returns cases moved.

    The merged values' slugs redirect to `keep`; merged outlets' names and domains become
    aliases of `keep`. Each moved case gets a new version with a history entry.
    """
    model = type(keep)
    kind = kind_of(model)
    others = [other for other in others if other.pk != keep.pk]
    if not others:
        return 0
    other_ids = [other.pk for other in others]
    with transaction.atomic():
        if kind in LINK_FIELDS:
            through = getattr(Case, LINK_FIELDS[kind]).through
            column = f"{kind}_id"
            moved = set(
                through.objects.filter(**{f"{column}__in": other_ids}).values_list(
                    "case_id", flat=True
                )
            )
            history.record_imported(moved)
            already = set(
                through.objects.filter(**{column: keep.pk, "case_id__in": moved}).values_list(
                    "case_id", flat=True
                )
            )
            through.objects.bulk_create(
                [through(case_id=case_id, **{column: keep.pk}) for case_id in moved - already]
            )
            through.objects.filter(**{f"{column}__in": other_ids}).delete()
            # Their aliases and names stay theirs for imports (cases.importers.taxonomy).
            alias_model, field = ALIASES[kind]
            alias_model.objects.filter(**{f"{field}_id__in": other_ids}).update(**{field: keep})
        else:
            moved = set(
                Appearance.objects.filter(outlet_id__in=other_ids).values_list("case_id", flat=True)
            )
            history.record_imported(moved)
            for appearance in Appearance.objects.filter(outlet_id__in=other_ids):
                appearance.outlet = keep
                appearance.save(update_fields=["outlet"])
            OutletAlias.objects.filter(outlet_id__in=other_ids).update(outlet=keep)
            taken = {keep.name.casefold(), keep.domain.casefold()}
            aliases = OutletAlias.objects.values_list("name", flat=True)
            taken |= {name.casefold() for name in aliases}
            for other in others:
                for name in (other.name, other.domain):
                    if name and name.casefold() not in taken:
                        OutletAlias.objects.create(outlet=keep, name=name)
                        taken.add(name.casefold())

        TaxonomyRedirect.objects.filter(kind=kind, target_id__in=other_ids).update(
            target_id=keep.pk
        )
        for other in others:
            TaxonomyRedirect.remember(keep, other.slug)
        model.objects.filter(pk__in=other_ids).delete()
        if kind in LINK_FIELDS:
            keep_as_alias(keep, [other.name for other in others])

        names = ", ".join(other.name for other in others)
        editing.cases_changed(
            moved,
            user,
            f"Merged {kind} {names} into {keep.name}",
            search=kind == "keyword",
        )
    return len(moved)
