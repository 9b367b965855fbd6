"""The case resource in other formats: CSV (the site export's columns) and ClaimReview JSON-LD.

The view prepares the data for each format (rows for CSV, ClaimReview dicts for JSON-LD),
so the renderers only write it out. Errors are always rendered as JSON.
"""

import csv
import io
import re

from rest_framework import renderers
from rest_framework.renderers import BaseRenderer


class CSVRenderer(BaseRenderer):
    """Rows (lists of cells, header first) as CSV.

    The rows come from cases.site.exports.csv_row(), which already puts a quote before any
    cell a spreadsheet would take for a formula.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        out = io.StringIO()
        csv.writer(out).writerows(data or [])
        return out.getvalue().encode(self.charset)


class RawJSON:
    """JSON text written elsewhere (a case's, by PostgreSQL), put into a response as it is."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text


# A RawJSON's stand-in while the rest is written: a string no data of ours holds.
_STAND_IN = re.compile(rb'"\\u0000raw(\d+)\\u0000"')


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON, with RawJSON values written as they are rather than parsed and written
    again. The rest of the data (a page's links and count) is written as DRF writes it.

    The encoder meets each RawJSON as a value it cannot write (default()) and writes a
    stand-in there; the texts replace their stand-ins afterwards. No walk of the data is
    made beforehand: a facets answer holds thousands of values and no RawJSON."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        texts = []

        class Encoder(self.encoder_class):
            def default(self, obj):
                if isinstance(obj, RawJSON):
                    texts.append(obj.text)
                    return f"\0raw{len(texts) - 1}\0"
                return super().default(obj)

        self.encoder_class = Encoder
        try:
            rendered = super().render(data, accepted_media_type, renderer_context)
        finally:
            del self.encoder_class  # the class's own again
        if not texts:
            return rendered
        # As DRF does for the rest: U+2028 and U+2029 escaped, for JavaScript's sake.
        raw = [
            text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
            for text in texts
        ]
        return _STAND_IN.sub(lambda match: raw[int(match[1])], rendered)


class JSONLDRenderer(renderers.JSONRenderer):
    """schema.org JSON-LD: the view hands over ClaimReview dicts."""

    media_type = "application/ld+json"
    format = "jsonld"
