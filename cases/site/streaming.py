"""Pages sent in two parts: what is known first, then what takes longer.

A list page's matches are known before its exact count and its facets: the page query reads
twenty rows, while counting and faceting look at every match. A progressive page sends the
document up to a flush point as soon as it is rendered, and the rest of it when the template
gets there. It stays one HTML document, so it works without JavaScript: the browser shows
the matches while the count and the facets are made, and CSS puts every part in its place.

The template marks the point with `{{ flush() }}`. What is slow is computed after it, by a
function of the view's that the template calls (`{% set counts = counted() %}`): Jinja2
renders lazily, so that function runs only once the first part is on its way.

Status and headers are decided before the first byte: the view validates its parameters and
answers a 400 or a redirect as a whole page, as before. An error after the first part can no
longer change the status. The reader is shown a notice in its place, the error is reported
as any request's error is (the `got_request_exception` signal, the `django.request` log),
and it is raised again, so that the server ends the response without its last chunk: an
HTTP client, a proxy or a CDN sees a broken transfer, not a whole 200 page, and the page
cache never keeps it (cases.freshness.cache keeps a progressive page once it is complete).
"""

import logging
import sys

from django.core.signals import got_request_exception
from django.http import StreamingHttpResponse
from django.template.backends.utils import csrf_input_lazy, csrf_token_lazy
from django.template.loader import get_template
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

logger = logging.getLogger("django.request")

STREAM_ERROR = gettext_lazy(
    "The rest of this page could not be made: the count, the other pages and the filters "
    "are missing. Reload the page to try again."
)


class FlushPoint:
    """`{{ flush() }}` in a template: the part rendered so far is sent now."""

    def __init__(self):
        self.reached = False

    def __call__(self):
        self.reached = True
        return ""


class ProgressivePage(StreamingHttpResponse):
    """A page streamed in parts (progressive_page()).

    It is still one page: `content` is the whole document (the rest of the stream is read,
    once), as tests and tools that read whole pages expect.
    """

    progressive = True
    # nginx and other proxies that buffer a response pass this one on as it comes.
    buffering_header = ("X-Accel-Buffering", "no")

    def __init__(self, chunks, *args, context=None, **kwargs):
        super().__init__(chunks, *args, **kwargs)
        self[self.buffering_header[0]] = self.buffering_header[1]
        self._context = context

    @property
    def context_data(self):
        """The view's context, with what the later parts added: the page is made first."""
        self.content  # noqa: B018 (reads the rest of the stream)
        return self._context

    @property
    def content(self):
        if not hasattr(self, "_whole"):
            self._whole = b"".join(self.streaming_content)
            self.streaming_content = [self._whole]
        return self._whole

    @property
    def text(self):
        return self.content.decode(self.charset)


def progressive_page(request, template_name, context):
    """A ProgressivePage of a Jinja2 template, sent in a part per `{{ flush() }}`.

    `context` is the view's dict: a function it holds that the template calls after the
    flush point (counted()) may add to it; the response's `context_data` is that dict.
    """
    template = get_template(template_name)
    values = dict(context)
    # What Django's Jinja2 backend gives every template it renders with a request.
    values.update(
        request=request,
        csrf_input=csrf_input_lazy(request),
        csrf_token=csrf_token_lazy(request),
        flush=FlushPoint(),
    )
    for context_processor in template.backend.template_context_processors:
        values.update(context_processor(request))
    language = translation.get_language()
    chunks = _parts(request, template.template.generate(values), values["flush"], language)
    return ProgressivePage(chunks, context=context)


def _parts(request, pieces, flush, language):
    """The rendered pieces, joined into one chunk per flush point."""
    sent = False
    while True:
        try:
            # Each part renders in the page's language, whatever ran on the thread between.
            with translation.override(language):
                part, finished = _next_part(pieces, flush)
        except Exception:
            if not sent:
                raise  # nothing sent yet: the error answers as any view's would
            got_request_exception.send(sender=None, request=request)
            logger.error(
                "Error after the first part of %s was sent",
                request.path,
                exc_info=sys.exc_info(),
                extra={"status_code": 500, "request": request},
            )
            yield format_html('<p class="notice stream-error" role="alert">{}</p>', STREAM_ERROR)
            raise
        yield part
        sent = True
        if finished:
            return


def _next_part(pieces, flush):
    """(the pieces up to the next flush point or the end, joined; whether it is the end)."""
    buffer = []
    for piece in pieces:
        buffer.append(piece)
        if flush.reached:
            flush.reached = False
            return "".join(buffer), False
    return "".join(buffer), True
