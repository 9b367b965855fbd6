"""How a case describes itself to machines and to people who cite it.

    claim_review(case, request)  schema.org ClaimReview as a dict (the case page's JSON-LD)
    json_ld_script(data)         that dict as a <script type="application/ld+json"> element
    citation(case, request)      'Disinfo DB, "Title", case 123, published 10 January 2022, URL'

The case must come from a queryset with with_related_data(), so nothing here queries.
"""

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from cases.api.serializers import absolute_case_url

# The rating every case gets: the database only holds claims it found to be disinformation.
DISINFORMATION_RATING = {
    "@type": "Rating",
    "ratingValue": 1,
    "bestRating": 5,
    "worstRating": 1,
    "alternateName": "Disinformation",
}

# What json_script escapes, so the JSON cannot close the <script> element or open a comment.
JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def site_root(request=None):
    if request is not None:
        return request.build_absolute_uri("/")
    return settings.SITE_URL.rstrip("/") + "/"


def permalink(case, request=None):
    """The short URL that never changes: /cases/<id>/."""
    return site_root(request).rstrip("/") + reverse("cases:detail-short", args=[case.pk])


def appearance_json(appearance):
    work = {"@type": "CreativeWork"}
    if appearance.url:
        work["url"] = appearance.url
    if appearance.archive_url:
        work["archivedAt"] = appearance.archive_url
    if appearance.outlet:
        publisher = {"@type": "Organization", "name": appearance.outlet.name}
        if appearance.outlet.domain:
            publisher["url"] = f"https://{appearance.outlet.domain}/"
        work["publisher"] = publisher
    return work


def claim_review(case, request=None):
    """schema.org ClaimReview for a published case, as a JSON-serialisable dict."""
    appearances = [appearance_json(a) for a in case.appearances.all()]
    claim = {"@type": "Claim", "name": case.title, "appearance": appearances}
    if case.date:
        claim["datePublished"] = case.date.isoformat()
    if appearances:
        claim["firstAppearance"] = appearances[0]
    review = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": absolute_case_url(case, request),
        "claimReviewed": case.title,
        "itemReviewed": claim,
        "author": {
            "@type": "Organization",
            "name": settings.SITE_ORGANISATION,
            "url": site_root(request),
        },
        "reviewRating": dict(DISINFORMATION_RATING),
        "inLanguage": "en",
    }
    if case.published_at:
        review["datePublished"] = timezone.localdate(case.published_at).isoformat()
    review["dateModified"] = case.updated_at.isoformat()
    keywords = [keyword.name for keyword in case.keywords.all()]
    if keywords:
        review["keywords"] = ", ".join(keywords)
    return review


def json_ld_script(data):
    """A <script type="application/ld+json"> element that is safe anywhere in a page."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    return format_html(
        '<script type="application/ld+json">{}</script>',
        mark_safe(text.translate(JSON_SCRIPT_ESCAPES)),
    )


def citation(case, request=None):
    """A plain-text reference to the case for papers and reports."""
    parts = [settings.SITE_NAME, f'"{case.title}"', f"case {case.pk}"]
    if case.published_at:
        published = timezone.localdate(case.published_at)
        parts.append(f"published {format_date(published, 'j F Y')}")
    parts.append(permalink(case, request))
    return ", ".join(parts)
