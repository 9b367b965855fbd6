import functools

from django.conf import settings
from django.urls import get_script_prefix, reverse

# The site-wide pages every page links to (header, footer, case metadata), by URL name.
NAV_PAGES = ("list", "match", "keywords", "countries", "outlets", "languages", "issues", "stats",
             "corrections", "corrections-feed")  # fmt: skip


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "urls": _nav_urls(get_script_prefix()),
        "data_licence": {
            "name": settings.DATA_LICENCE,
            "title": settings.DATA_LICENCE_TITLE,
            "url": settings.DATA_LICENCE_URL,
        },
    }


@functools.cache
def _nav_urls(script_prefix):
    """{name: path} of NAV_PAGES: reverse() once per process, not nine times per page."""
    return {name: reverse(f"cases:{name}") for name in NAV_PAGES}
