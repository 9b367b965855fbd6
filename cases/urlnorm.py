"""The form under which appearance URLs are looked up ("has this URL been debunked?").

No Django here: the same functions compute the keys stored on each appearance (by the write
path, cases.models.Appearance.lookup_keys) and the key of the URL a partner asks about.

    lookup_url("HTTPS://www.RT.com/news/123/?utm_source=x#top")  -> "rt.com/news/123"
    lookup_url("https://web.archive.org/web/2022/https://rt.com/news/123")  -> "rt.com/news/123"
    host_key("de.rt.com")  -> "com.rt.de."

A lookup key is the URL without what does not change the page it names: the scheme, a
leading `www.`, the default port, the trailing slash, the fragment and the tracking
parameters that shared links pick up; the host is lower-cased. Archived copies at
web.archive.org and archive.today (archive.ph, archive.is, ...) are unwrapped to the URL
they archive. The path and the other query parameters are kept as given: they may matter.

A host key is the host's labels in reverse order, each followed by a dot, so that a domain
and all its subdomains share a prefix: `com.rt.` starts both `com.rt.` (rt.com) and
`com.rt.de.` (de.rt.com), and not `com.rtl.` (rtl.com).
"""

import contextlib
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

# Query parameters that only say where a link was shared or clicked.
TRACKING_PARAMETERS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid"})
TRACKING_PREFIXES = ("utm_",)

WAYBACK_HOSTS = frozenset({"web.archive.org", "wayback.archive.org"})
# /web/<timestamp, maybe with a modifier like id_ or *>/<the archived URL>
WAYBACK_PATH = re.compile(r"/web/[^/]*/(?P<url>.+)", re.DOTALL)
ARCHIVE_TODAY_HOSTS = frozenset(
    {
        "archive.today",
        "archive.ph",
        "archive.is",
        "archive.li",
        "archive.vn",
        "archive.fo",
        "archive.md",
    }
)
# /<2022.01.31-101010 | newest | oldest>/<the archived URL>, or /<the archived URL>. A short
# id (/AbCdE) names one snapshot and cannot be unwrapped: it is kept as it is.
ARCHIVE_TODAY_PATH = re.compile(
    r"/(?:(?:\d{4}\.\d\d\.\d\d-\d{6}|\d{14}|newest|oldest)/)?(?P<url>(?:https?:/|[^/]+\.[^/]+/).*)",
    re.DOTALL | re.IGNORECASE,
)
DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters a path keeps as they are; every other one is percent-encoded.
PATH_SAFE = "/:@!$&'()*+,;=-._~"
# A host name: labels of letters (any script), digits and hyphens, with at least one dot.
HOST = re.compile(r"(?:[^\W_](?:[^\W_]|-)*\.)+[^\W_](?:[^\W_]|-)*", re.UNICODE)
# Wrappers inside wrappers are unwrapped at most this many times.
MAX_UNWRAP = 3


class NotAURL(ValueError):
    """The text is not a web address with a host name."""


def lookup_url(url):
    """The lookup key of `url`; NotAURL if it has no host name."""
    parts = _split(url)
    for _ in range(MAX_UNWRAP):
        inner = _unwrapped(parts)
        if inner is None:
            break
        try:
            parts = _split(inner)
        except NotAURL:
            break
    host, path, query = parts
    return host + path + (f"?{query}" if query else "")


def lookup_url_or_blank(url):
    """The lookup key of `url`, or "" when there is none (no URL, or not a web address)."""
    if not url or not url.strip():
        return ""
    try:
        return lookup_url(url)
    except NotAURL:
        return ""


def host_of_key(key):
    """The host of a lookup key (lookup_url's answer)."""
    return key.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0]


def host_key(host):
    """`de.rt.com` -> `com.rt.de.`: a domain's key is a prefix of its subdomains' keys."""
    labels = [label for label in host.lower().strip(".").split(".") if label]
    return "".join(f"{label}." for label in reversed(labels))


def lookup_domain(text):
    """The host key of a domain (`rt.com`) or of the host of a URL given instead."""
    text = text.strip()
    in_url = "/" in text or ":" in text
    host = _split(text)[0] if in_url else _bare_host(text.lower().rstrip("."))
    if not HOST.fullmatch(host):
        raise NotAURL(text)
    return host_key(host)


# The common shape of a URL: http(s), an ASCII host name, a path of characters that
# quote(unquote()) leaves as they are, no port, query or fragment. _split() reads it
# without urlsplit(); tests/test_url_lookup.py holds both ways to one answer.
PLAIN_URL = re.compile(r"(?i:https?)://([A-Za-z0-9.-]+)(/[A-Za-z0-9/_.~-]*)?")


def _split(url):
    """(host, path, query) of `url`, normalised; NotAURL without a host name."""
    text = url.strip()
    plain = PLAIN_URL.fullmatch(text)
    if plain:
        host = plain[1].lower().rstrip(".")
        host = host[4:] if host.startswith("www.") else host
        if HOST.fullmatch(host):
            return host, (plain[2] or "").rstrip("/"), ""
    return _split_any(text, url)


def _split_any(text, url):
    """_split() of any URL: `text` is `url` stripped."""
    if "://" not in text[:12]:
        # A URL given without its scheme, as people copy them: rt.com/news/1
        text = "http://" + text.lstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise NotAURL(url) from None
    if parts.scheme.lower() not in DEFAULT_PORTS:
        raise NotAURL(url)
    host = _bare_host((parts.hostname or "").rstrip("."))
    if not HOST.fullmatch(host):
        raise NotAURL(url)
    if port is not None and port != DEFAULT_PORTS[parts.scheme.lower()]:
        host = f"{host}:{port}"
    # One spelling of the path: /новости and /%D0%BD%D0%BE... name the same page.
    path = quote(unquote(parts.path), safe=PATH_SAFE).rstrip("/")
    query = urlencode(
        [
            (name, value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
            if not _is_tracking(name)
        ],
        doseq=True,
    )
    return host, path, query


def _bare_host(host):
    host = host.lower()
    # One spelling of international names: their ASCII (punycode) form.
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii")
    return host[4:] if host.startswith("www.") else host


def _is_tracking(name):
    name = name.lower()
    return name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES)


def _unwrapped(parts):
    """The URL an archive's URL archives, or None if `parts` is not such a URL."""
    host, path, query = parts
    if host in WAYBACK_HOSTS:
        match = WAYBACK_PATH.fullmatch(path)
    elif host in ARCHIVE_TODAY_HOSTS:
        match = ARCHIVE_TODAY_PATH.fullmatch(path)
    else:
        return None
    if match is None:
        return None
    inner = match["url"]
    # Archives collapse the scheme's double slash: https:/rt.com/...
    inner = re.sub(r"^(https?):/+", r"\1://", inner, flags=re.IGNORECASE)
    return inner + (f"?{query}" if query else "")


def lookup_keys(url, archive_url):
    """(lookup url, lookup archive url, host key, archive host key) stored on an
    appearance; "" for each one that does not apply."""
    url_key = lookup_url_or_blank(url)
    archive_key = lookup_url_or_blank(archive_url)
    return (
        url_key,
        archive_key,
        host_key(host_of_key(url_key)) if url_key else "",
        host_key(host_of_key(archive_key)) if archive_key else "",
    )
