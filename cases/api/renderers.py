"""The case resource in other formats: CSV (the site export's columns) and ClaimReview JSON-LD.

The view prepares the data for each format (rows for CSV, ClaimReview dicts for JSON-LD),
so the renderers only write it out. Errors are always rendered as JSON.
"""

import csv
import io

from rest_framework.renderers import BaseRenderer, JSONRenderer


class CSVRenderer(BaseRenderer):
    """Rows (lists of cells, header first) as CSV."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        out = io.StringIO()
        csv.writer(out).writerows(data or [])
        return out.getvalue().encode(self.charset)


class JSONLDRenderer(JSONRenderer):
    """schema.org JSON-LD: the view hands over ClaimReview dicts."""

    media_type = "application/ld+json"
    format = "jsonld"
