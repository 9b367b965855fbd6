"""How a case describes itself to machines and to people who cite it.

    claim_review(case, request)  schema.org ClaimReview as a dict (the case page's JSON-LD)
    json_ld_script(data)         that dict as a <script type="application/ld+json"> element
    citation(case, request)      'Disinfo DB, "Title", case 123, published 10 January 2022, URL'
    apa_citation(case, request)  the same reference in APA style
    bibtex_entry(case, request)  and as a BibTeX @misc entry
    dataset_citations(request, built_on)  the whole dataset (/data/), in APA and BibTeX

The case must come from a queryset with with_related_data(), so nothing here queries.
"""

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone, translation
from django.utils.dateformat import format as format_date
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


def _published_on_database(case):
    return timezone.localdate(case.published_at) if case.published_at else None


def _apa_date(day):
    """(2022, January 10) as APA writes it: references stay in English, as the data does."""
    if day is None:
        return "n.d."
    with translation.override(settings.LANGUAGE_CODE):
        return format_date(day, "Y, F j")


def apa_citation(case, request=None):
    """Organisation. (2022, January 10). Title [Disinformation case 123]. Site. URL"""
    published = _published_on_database(case)
    when = _apa_date(published)
    return (
        f"{settings.SITE_ORGANISATION}. ({when}). {case.title} "
        f"[Disinformation case {case.pk}]. {settings.SITE_NAME}. {permalink(case, request)}"
    )


# The characters BibTeX (and the LaTeX it feeds) would read as markup.
BIBTEX_ESCAPES = {ord(c): "\\" + c for c in "&%$#_{}"} | {
    ord("~"): "\\textasciitilde{}",
    ord("^"): "\\textasciicircum{}",
    ord("\\"): "\\textbackslash{}",
}


def bibtex_entry(case, request=None):
    """A BibTeX @misc entry; the organisation in double braces so it is not read as a
    person's name."""
    published = _published_on_database(case)
    fields = [
        ("author", "{" + settings.SITE_ORGANISATION.translate(BIBTEX_ESCAPES) + "}"),
        ("title", case.title.translate(BIBTEX_ESCAPES)),
        ("howpublished", settings.SITE_NAME.translate(BIBTEX_ESCAPES)),
        ("note", f"Disinformation case {case.pk}"),
    ]
    if published:
        fields += [("year", str(published.year)), ("month", str(published.month))]
    fields.append(("url", permalink(case, request)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{disinfo_case_{case.pk},\n{body}\n}}"


DATASET_BIBTEX_KEY = "disinfo_dataset"


def dataset_citations(request=None, built_on=None):
    """{"apa": ..., "bibtex": ...} for the dataset as /data/ serves it, dated by the
    build (the version a reader downloaded)."""
    url = site_root(request) + "data/"
    title = f"{settings.SITE_NAME}: published disinformation cases"
    when = _apa_date(built_on)
    apa = f"{settings.SITE_ORGANISATION}. ({when}). {title} [Data set]. {url}"
    fields = [
        ("author", "{" + settings.SITE_ORGANISATION.translate(BIBTEX_ESCAPES) + "}"),
        ("title", title.translate(BIBTEX_ESCAPES)),
        ("note", f"Data set, licence {settings.DATA_LICENCE}".translate(BIBTEX_ESCAPES)),
    ]
    if built_on:
        fields += [("year", str(built_on.year)), ("month", str(built_on.month))]
    fields.append(("url", url))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return {"apa": apa, "bibtex": f"@misc{{{DATASET_BIBTEX_KEY},\n{body}\n}}"}
