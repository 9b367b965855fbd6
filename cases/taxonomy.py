"""Taxonomy hygiene: merging keywords, countries and outlets, and old slugs that redirect.

A merged-away or renamed value leaves a TaxonomyRedirect behind, so every URL that named
it keeps working: the shared CaseFilter reads an old slug as the value it became (through
current_slugs()), so the API, exports, feeds and statistics accept it, and the HTML list
answers a 301 to the URL with the current slug. resolve_slug() does it for a single slug.
"""

from django.db import transaction
from django.utils import timezone

from cases.models import (
    Appearance,
    Case,
    Country,
    Keyword,
    Outlet,
    OutletAlias,
    TaxonomyRedirect,
)
from cases.search import update_search_vectors

MODELS_BY_KIND = {"keyword": Keyword, "country": Country, "outlet": Outlet}
LINK_FIELDS = {"keyword": "keywords", "country": "countries"}


def kind_of(model):
    return model.__name__.lower()


def resolve_slug(kind, slug):
    """The current slug for `slug` of `kind`: itself if live, its redirect target, or None."""
    model = MODELS_BY_KIND[kind]
    if model.objects.filter(slug=slug).exists():
        return slug
    target_id = (
        TaxonomyRedirect.objects.filter(kind=kind, old_slug=slug)
        .values_list("target_id", flat=True)
        .first()
    )
    if target_id is None:
        return None
    return model.objects.filter(pk=target_id).values_list("slug", flat=True).first()


def current_slugs(kind, slugs):
    """`slugs` with each merged-away or renamed slug replaced by the slug it became.

    Unknown slugs without a redirect stay as they are (and fail validation later).
    """
    model = MODELS_BY_KIND[kind]
    live = set(model.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    unknown = [slug for slug in slugs if slug not in live]
    if not unknown:
        return list(slugs)
    targets = dict(
        TaxonomyRedirect.objects.filter(kind=kind, old_slug__in=unknown).values_list(
            "old_slug", "target_id"
        )
    )
    new_slugs = dict(model.objects.filter(pk__in=targets.values()).values_list("pk", "slug"))
    result = []
    for slug in slugs:
        current = new_slugs.get(targets.get(slug), slug)
        if current not in result:
            result.append(current)
    return result


def merge(keep, others, user=None):
    """Move every case from `others` to `keep`, then delete `others`; returns cases moved.

    The merged values' slugs redirect to `keep`; merged outlets' names and domains become
    aliases of `keep`. Each moved case gets a history entry and a fresh updated_at.
    """
    from cases.history import record_now

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
            already = set(
                through.objects.filter(**{column: keep.pk, "case_id__in": moved}).values_list(
                    "case_id", flat=True
                )
            )
            through.objects.bulk_create(
                [through(case_id=case_id, **{column: keep.pk}) for case_id in moved - already]
            )
            through.objects.filter(**{f"{column}__in": other_ids}).delete()
        else:
            moved = set(
                Appearance.objects.filter(outlet_id__in=other_ids).values_list("case_id", flat=True)
            )
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

        if moved:
            if kind == "keyword":
                update_search_vectors(moved)
            Case.objects.filter(pk__in=moved).update(updated_at=timezone.now())
            names = ", ".join(other.name for other in others)
            for case in Case.objects.filter(pk__in=moved):
                record_now(case, user, f"Merged {kind} {names} into {keep.name}")
    return len(moved)
