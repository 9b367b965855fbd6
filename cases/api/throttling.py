from django.conf import settings
from rest_framework.throttling import AnonRateThrottle


class AnonymousRateThrottle(AnonRateThrottle):
    """Anonymous clients get settings.DISINFO_API_ANON_RATE requests ("1000/hour") per IP.

    The rate is read on each request rather than when DRF loads, so it follows the settings.
    An empty rate switches the limit off. Exceeding it answers 429 with Retry-After.
    """

    def get_rate(self):
        return settings.DISINFO_API_ANON_RATE or None
