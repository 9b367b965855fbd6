"""Shared links pick up tracking parameters (utm_source, fbclid, gclid, ...) on the way.

They select nothing, and the site refuses parameters it does not know (cases.filters). So a
page's GET with any of them is redirected to the same URL without them: the link works, the
page cache keeps one copy of the page, and the address bar shows the URL to share.

The API is left alone: a partner's client follows no such redirect, and its filters simply
ignore these parameters (cases.filters.unknown_parameters).
"""

from django.http import HttpResponsePermanentRedirect

from cases.filters import is_tracking_parameter

# Not pages of the site: the API ignores tracking parameters, the admin has its own.
UNTOUCHED_PREFIXES = ("/api/", "/admin/", "/static/")


class TrackingParametersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method in ("GET", "HEAD")
            and request.GET
            and not request.path.startswith(UNTOUCHED_PREFIXES)
            and any(is_tracking_parameter(name) for name in request.GET)
        ):
            return self.without_tracking(request)
        return self.get_response(request)

    @staticmethod
    def without_tracking(request):
        kept = request.GET.copy()
        for name in list(kept):
            if is_tracking_parameter(name):
                del kept[name]
        query = kept.urlencode()
        # Permanent: the URL without them always shows the same page.
        return HttpResponsePermanentRedirect(request.path + (f"?{query}" if query else ""))
