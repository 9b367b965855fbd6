"""The client's address behind reverse proxies, for django-axes and the token log.

Behind a proxy, REMOTE_ADDR is the proxy's: every visitor would share one address, and one
attacker could lock every editor out. Each proxy appends the address it saw to
X-Forwarded-For, so with DISINFO_PROXY_COUNT proxies the client is the entry that many from
the right; entries further left were written by the client and are never believed.
"""

import ipaddress

from django.conf import settings


def forwarded_client_ip(request):
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    count = settings.DISINFO_PROXY_COUNT
    if count >= 1 and len(forwarded) >= count:
        try:
            return str(ipaddress.ip_address(forwarded[-count]))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR")
