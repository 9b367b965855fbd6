"""The API's JSON parser: DRF's, with a body nested too deeply refused as a 400.

Python's json module recurses once per nested array or object, so a body of 100,000 `[`
raises RecursionError, which DRF's parser lets through (a 500). No body of ours nests more
than a few levels.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

TOO_DEEP = "JSON parse error - arrays and objects nested too deeply."


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
