"""How a case describes itself to machines and to people who cite it.

    claim_review(case, request)  schema.org ClaimReview as a dict (the case page's JSON-LD)
    json_ld_script(data)         that dict as a <script type="application/ld+json"> element
    citation(case, request)      'Disinfo DB, "Title", case 123, published 10 January 2022, URL'

The case must come from a queryset with with_related_data(), so nothing here queries.
"""

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from cases.api.serializers import absolute_case_url
from disinfo_db.i18n import data_reverse

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
    """The short URL that never changes: /cases/<id>/, in every language of the pages."""
    return site_root(request).rstrip("/") + data_reverse("cases:detail-short", args=[case.pk])


# The JSON-LD context of one case: schema.org's, as search engines expect it.
SCHEMA_ORG_CONTEXT = "https://schema.org"
# The context of a list of cases, inlined so that a JSON-LD processor needs nothing from the
# network: schema.org's vocabulary, as the context served at https://schema.org names it
# (http://), so that both forms give the same IRIs; and the page's own members (count,
# next, …) mapped to null, which JSON-LD leaves out of the data. The Link header carries
# next and previous too.
CLAIM_REVIEW_LIST_CONTEXT = {
    "@vocab": "http://schema.org/",
    "count": None,
    "approximate": None,
    "next": None,
    "previous": None,
}


def organisation(outlet):
    publisher = {"@type": "Organization", "name": outlet.name}
    if outlet.domain:
        publisher["url"] = f"https://{outlet.domain}/"
    return publisher


def appearance_json(appearance):
    work = {"@type": "CreativeWork"}
    if appearance.url:
        work["url"] = appearance.url
    if appearance.archive_url:
        work["archivedAt"] = appearance.archive_url
    if appearance.outlet:
        work["publisher"] = organisation(appearance.outlet)
    return work


def one_or_many(values):
    """schema.org's way with repeated values: one value alone, several as a list."""
    return values[0] if len(values) == 1 else values


def claim_json(case):
    """The claim reviewed: who made it (the outlets), when, in which languages, and where."""
    appearances = list(case.appearances.all())
    claim = {"@type": "Claim", "name": case.title}
    outlets = {a.outlet.pk: a.outlet for a in appearances if a.outlet is not None}
    if outlets:
        claim["author"] = one_or_many([organisation(outlet) for outlet in outlets.values()])
    if case.date:
        claim["datePublished"] = case.date.isoformat()
    languages = [language.code for language in case.languages.all()]
    if languages:
        claim["inLanguage"] = one_or_many(languages)
    works = [appearance_json(a) for a in appearances]
    if works:
        claim["appearance"] = works
        claim["firstAppearance"] = works[0]
    return claim


def claim_review(case, request=None, with_context=True):
    """schema.org ClaimReview for a published case, as a JSON-serialisable dict.

    The case page's JSON-LD and the API's (one case, or each item of a list's @graph,
    without its own @context) are this markup, with the fields Google's fact-check
    guidelines ask for. A field without a value is left out rather than empty.
    """
    url = absolute_case_url(case, request)
    review = {"@context": SCHEMA_ORG_CONTEXT} if with_context else {}
    review.update(
        {
            "@type": "ClaimReview",
            "@id": url,
            "url": url,
            "claimReviewed": case.title,
            "itemReviewed": claim_json(case),
            "author": {
                "@type": "Organization",
                "name": settings.SITE_ORGANISATION,
                "url": site_root(request),
            },
            "reviewRating": dict(DISINFORMATION_RATING),
            "inLanguage": "en",
        }
    )
    # When the review was published: a case imported without that time was published no
    # later than it was created here.
    published = case.published_at or case.created_at
    if published:
        review["datePublished"] = timezone.localdate(published).isoformat()
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
    parts = [settings.SITE_NAME, f'"{case.title}"', _("case %(number)s") % {"number": case.pk}]
    if case.published_at:
        published = date_format(timezone.localdate(case.published_at), "DATE_FORMAT")
        parts.append(_("published %(date)s") % {"date": published})
    parts.append(permalink(case, request))
    return ", ".join(parts)
