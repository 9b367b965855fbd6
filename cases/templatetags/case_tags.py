import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import mark_safe

register = template.Library()

ALLOWED_TAGS = {"p", "a", "em", "strong", "ul", "ol", "li", "blockquote", "code", "br", "h3", "h4"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


@register.filter
def render_markdown(text):
    """Markdown to HTML, then sanitised: no scripts, no event handlers, only safe URLs."""
    html = markdown_lib.markdown(text or "", output_format="html")
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
