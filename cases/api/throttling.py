import logging

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.throttling import AnonRateThrottle

logger = logging.getLogger(__name__)


class AnonymousRateThrottle(AnonRateThrottle):
    """Anonymous clients get settings.DISINFO_API_ANON_RATE requests ("1000/hour") per IP.

    The rate is read on each request rather than when DRF loads, so it follows the settings.
    An empty rate switches the limit off. Exceeding it answers 429 with Retry-After.
    The counts are in the cache (Redis with CACHE_URL): while it is unreachable, requests
    are let through uncounted rather than failed.
    """

    def get_rate(self):
        return settings.DISINFO_API_ANON_RATE or None

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as error:
            logger.warning("The API throttle's cache failed (%s): request let through.", error)
            return True
