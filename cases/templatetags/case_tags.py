import threading

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import mark_safe

from cases.claimreview import json_ld_script

register = template.Library()

# Building a Markdown converter costs a third of converting a disproof; each thread keeps one.
_converters = threading.local()

ALLOWED_TAGS = {"p", "a", "em", "strong", "ul", "ol", "li", "blockquote", "code", "br", "h3", "h4"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


@register.filter
def render_markdown(text):
    """Markdown to HTML, then sanitised: no scripts, no event handlers, only safe URLs."""
    converter = getattr(_converters, "markdown", None)
    if converter is None:
        converter = _converters.markdown = markdown_lib.Markdown(output_format="html")
    html = converter.reset().convert(text or "")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )
    return mark_safe(clean)


@register.filter
def thousands(number):
    """12345 -> "12,345"."""
    return f"{number:,}"


@register.filter
def json_ld(data):
    """A dict as a <script type="application/ld+json"> element (see cases.claimreview)."""
    return json_ld_script(data)
