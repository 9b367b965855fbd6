"""The API's JSON parser: DRF's, refusing what would otherwise be a 500 or be stored wrong.

- A body nested too deeply is a 400. Python's json module recurses once per nested array
  or object, so a body of 100,000 `[` raises RecursionError, which DRF's parser lets
  through (a 500). No body of ours nests more than a few levels.
- A number too large for a float (`1e999999`, which json reads as infinity) is a 400.
  DRF refuses NaN and Infinity written out, not a number that overflows.
- A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is a 413. Django checks that limit for
  the forms it parses itself; DRF reads the body on its own and would take any size. (Only
  views that take writes parse a body, and they all take JSON only.)
"""

import io
import math

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.utils import json

from cases.filters import whole_number

TOO_DEEP = "JSON parse error - arrays and objects nested too deeply."


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        super().__init__(f"Request body too large: send at most {limit:,} bytes.")


def bounded(stream, parser_context):
    """The body, read whole if it is within DATA_UPLOAD_MAX_MEMORY_SIZE; else PayloadTooLarge."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return stream
    request = (parser_context or {}).get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    if declared and (whole_number(declared, 0, limit) is None):
        raise PayloadTooLarge()
    body = stream.read(limit + 1)  # a chunked body says no length: read one byte past
    if len(body) > limit:
        raise PayloadTooLarge()
    return io.BytesIO(body)


def finite_float(text):
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:20]} is too large")
    return number


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = bounded(stream, parser_context)
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = body.read().decode(encoding)
            return json.loads(text, parse_constant=json.strict_constant, parse_float=finite_float)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        except ValueError as error:  # UnicodeDecodeError is one
            raise ParseError(f"JSON parse error - {error}") from None
