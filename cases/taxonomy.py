"""Taxonomy hygiene: merging keywords, countries and outlets, and old slugs that redirect.

A merged-away or renamed value leaves a TaxonomyRedirect behind, so every URL that named
it keeps working: the shared CaseFilter reads an old slug as the value it became (through
current_slugs()), so the API, exports, feeds and statistics accept it, and the HTML list
answers a 301 to the URL with the current slug. resolve_slug() does it for a single slug.
Merges and renames write cases, so they live in the write path (cases.services.taxonomy).
"""

from cases.models import Country, Keyword, Outlet, TaxonomyRedirect

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
