"""Checking that appearance and archive URLs still answer.

A URL is working when a HEAD (or, if the server refuses HEAD, a GET) ends in a status below
400 after redirects; anything else, a timeout or a connection error included, is dead.
Requests run in a bounded thread pool, each with a timeout.
"""

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from django.utils import timezone

from cases.models import Appearance, LinkStatus

USER_AGENT = "DisinfoDB-linkcheck/1.0"
DEFAULT_WORKERS = 8
DEFAULT_TIMEOUT = 10.0


def is_alive(url, timeout=DEFAULT_TIMEOUT):
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status < 400
        except urllib.error.HTTPError as error:
            if method == "HEAD" and error.code in (403, 405, 501):
                continue  # Some servers refuse HEAD but answer GET.
            return False
        except (urllib.error.URLError, OSError, ValueError):
            return False
    return False


def check_appearances(appearances, workers=DEFAULT_WORKERS, timeout=DEFAULT_TIMEOUT):
    """Check every URL of the appearances and save the results; returns (checked, dead)."""
    appearances = list(appearances)
    urls = sorted({u for a in appearances for u in (a.url, a.archive_url) if u})
    with ThreadPoolExecutor(max_workers=workers) as pool:
        alive = dict(zip(urls, pool.map(lambda url: is_alive(url, timeout), urls), strict=True))

    def status(url):
        if not url:
            return LinkStatus.UNCHECKED
        return LinkStatus.OK if alive[url] else LinkStatus.DEAD

    now = timezone.now()
    for appearance in appearances:
        appearance.url_status = status(appearance.url)
        appearance.archive_status = status(appearance.archive_url)
        appearance.last_checked_at = now
    # bulk_update: link status is not an editorial change, so it makes no history entry.
    Appearance.objects.bulk_update(
        appearances, ["url_status", "archive_status", "last_checked_at"], batch_size=500
    )
    dead = sum(1 for url in urls if not alive[url])
    return len(urls), dead
