"""The public pages' languages: English at the site's own URLs, the others under a prefix.

/cases/ is English and /ru/cases/ Russian (i18n_patterns, prefix_default_language=False),
so a page's language is in its URL and the page cache (cases.freshness.cache), which keys
kept pages by URL, never serves one language's page for another's.

A reader's preference reaches the pages this way: an unprefixed page asked for with a
language cookie, or else an Accept-Language, preferring another of LANGUAGES is redirected
(302, Vary: Accept-Language, Cookie) to its prefixed URL. That happens before the page
cache, so a redirect is never kept, and a kept English page is only ever answered to a
reader who prefers English. The language switcher's links go through /language/<code>/,
which sets the cookie, so choosing English sticks whatever the browser asks for.

The API, the admin, exports, feeds, sitemaps and robots.txt have no language prefix.
"""

from urllib.parse import quote

from django.conf import settings
from django.http import Http404, HttpResponseRedirect
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

PREFIXED_LANGUAGES = tuple(code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE)

# Paths that are data or machinery rather than pages: never prefixed, never redirected.
UNPREFIXED_PATHS = ("/api/", "/admin/", "/static/", "/language/", "/cases/export/",
                    "/cases/feed/", "/corrections/feed/", "/sitemap", "/robots.txt",
                    "/favicon", "/healthz", "/data/")  # fmt: skip
# Pages under those paths: the bulk data page, beside the files it lists.
PAGES_AMONG_UNPREFIXED = ("/data/",)
# URL names (namespace cases) of such paths: reversed without a prefix in any language.
UNPREFIXED_URL_NAMES = frozenset(
    {
        "export",
        "feed-atom",
        "feed-rss",
        "corrections-feed",
        "sitemap",
        "sitemap-section",
        "robots",
        "data-index",
        "data-file",
    }  # fmt: skip
)


def split_language_prefix(path):
    """("ru", "/cases/") for "/ru/cases/"; (None, path) for a path without a prefix."""
    for code in PREFIXED_LANGUAGES:
        prefix = f"/{code}/"
        if path.startswith(prefix):
            return code, path[len(prefix) - 1 :]
    return None, path


def unprefixed_path(path):
    return split_language_prefix(path)[1]


def path_in_language(path, language):
    """The same page's path in `language`: "/cases/" -> "/de/cases/"."""
    path = unprefixed_path(path)
    return path if language == settings.LANGUAGE_CODE else f"/{language}{path}"


def data_reverse(name, *args, **kwargs):
    """reverse() of a URL that has no language prefix, whatever the active language."""
    with translation.override(settings.LANGUAGE_CODE):
        return reverse(name, *args, **kwargs)


def _is_page(path):
    return path in PAGES_AMONG_UNPREFIXED or not path.startswith(UNPREFIXED_PATHS)


class PreferredLanguageRedirectMiddleware:
    """Sends a reader who prefers another language from an English page to its prefixed URL.

    Also sends a prefixed data path (/ru/cases/export/) to the one unprefixed URL.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        prefix_language, rest = split_language_prefix(path)
        if prefix_language is not None:
            if not _is_page(rest):
                return HttpResponseRedirect(_with_query(request, rest), status=301)
            return self.get_response(request)
        if request.method not in ("GET", "HEAD") or not _is_page(path):
            return self.get_response(request)
        preferred = translation.get_language_from_request(request)
        if preferred != settings.LANGUAGE_CODE and preferred in PREFIXED_LANGUAGES:
            response = HttpResponseRedirect(_with_query(request, path_in_language(path, preferred)))
        else:
            response = self.get_response(request)
        # The answer at an unprefixed page's URL depends on both.
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response


def _with_query(request, path):
    script_prefix = get_script_prefix().rstrip("/")
    query = request.META.get("QUERY_STRING", "")
    return f"{script_prefix}{path}" + (f"?{query}" if query else "")


def switch_language(request, code):
    """GET /language/<code>/?next=/de/cases/: remember the choice in the cookie, go to next.

    A GET, so the switcher is plain links that work without JavaScript; the cookie only
    chooses where unprefixed pages send a reader.
    """
    if code not in dict(settings.LANGUAGES):
        raise Http404("No such language.")
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = path_in_language("/", code)
    response = HttpResponseRedirect(next_url)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=365 * 24 * 60 * 60,
        samesite="Lax",
        secure=request.is_secure(),
    )
    response["Cache-Control"] = "no-store"
    return response


def language_links(request):
    """The switcher's and <head>'s links: this page with its query in every language."""
    current = translation.get_language()
    path = request.path_info if request is not None else "/"
    query = request.META.get("QUERY_STRING", "") if request is not None else ""
    script_prefix = get_script_prefix().rstrip("/")
    links = []
    for code, name in settings.LANGUAGES:
        page = f"{script_prefix}{path_in_language(path, code)}" + (f"?{query}" if query else "")
        links.append(
            {
                "code": code,
                "name": name,
                "current": code == current,
                "url": page,
                "switch_url": f"{script_prefix}/language/{code}/?next={quote(page, safe='/')}",
                "absolute_url": request.build_absolute_uri(page) if request is not None else page,
            }
        )
    return links
