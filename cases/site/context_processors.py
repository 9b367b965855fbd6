import functools

from django.conf import settings
from django.urls import get_script_prefix, reverse
from django.utils.translation import get_language

from disinfo_db.i18n import UNPREFIXED_URL_NAMES, data_reverse, language_links

# The site-wide pages every page links to (header, footer, case metadata), by URL name.
NAV_PAGES = ("list", "match", "keywords", "countries", "outlets", "languages", "issues", "stats",
             "corrections", "corrections-feed", "data")  # fmt: skip


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "urls": _nav_urls(get_script_prefix(), get_language()),
        "LANGUAGE_CODE": get_language(),
        # Case texts are written in the database's own language, whatever the page's.
        "CASE_TEXT_LANGUAGE": settings.LANGUAGE_CODE,
        "language_links": language_links(request),
        "data_licence": {
            "name": settings.DATA_LICENCE,
            "title": settings.DATA_LICENCE_TITLE,
            "url": settings.DATA_LICENCE_URL,
        },
    }


@functools.cache
def _nav_urls(script_prefix, language):
    """{name: path} of NAV_PAGES in a language: reverse() once per process and language."""
    return {
        name: (data_reverse if name in UNPREFIXED_URL_NAMES else reverse)(f"cases:{name}")
        for name in NAV_PAGES
    }
