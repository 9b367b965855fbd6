"""/api/guide/: docs/api.md, the API's guide, as a page of the site; and /favicon.ico.

The guide is read and rendered once per process: it changes only with a release.
"""

import functools

import cmarkgfm
import nh3
from django.conf import settings
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.views.decorators.http import require_safe

from cases.site.filtered import bad_request

GUIDE_FILE = settings.BASE_DIR / "docs" / "api.md"
# The guide's own markup: headings, tables and code blocks besides a disproof's tags.
GUIDE_TAGS = {
    "h1", "h2", "h3", "h4", "p", "a", "em", "strong", "ul", "ol", "li", "blockquote", "code",
    "pre", "br", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


@functools.cache
def guide_html():
    text = GUIDE_FILE.read_text(encoding="utf-8")
    html = cmarkgfm.github_flavored_markdown_to_html(text)
    return nh3.clean(html, tags=GUIDE_TAGS, attributes={"a": {"href", "title"}})


@require_safe
def api_guide(request):
    unknown = sorted(request.GET)
    if unknown:
        return bad_request(
            [(name, "unknown parameter: /api/guide/ takes none.") for name in unknown]
        )
    return TemplateResponse(request, "cases/api_guide.html", {"guide": guide_html()})


@require_safe
def favicon(request):
    """Browsers and tools that ask /favicon.ico get the site's icon (an SVG) where it is."""
    return redirect(static("favicon.svg"))
