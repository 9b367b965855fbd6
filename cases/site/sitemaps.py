"""sitemap.xml (an index of paginated sitemaps, 10,000 case URLs a page) and robots.txt."""

from django.contrib.sitemaps import Sitemap
from django.db.models import Max
from django.http import HttpResponse
from django.urls import reverse

from cases.models import Case


class CaseSitemap(Sitemap):
    """Every published case page, oldest id first so pages stay stable as cases arrive."""

    changefreq = "monthly"
    # Below the protocol's 50,000 so each page renders in well under a second.
    limit = 10_000

    def items(self):
        return Case.objects.published().only("id", "slug", "updated_at").order_by("id")

    def lastmod(self, case):
        return case.updated_at

    def get_latest_lastmod(self):
        # One aggregate, where the default would read every case to find the latest.
        return Case.objects.published().aggregate(latest=Max("updated_at"))["latest"]


class PageSitemap(Sitemap):
    """The site's own pages besides the cases."""

    changefreq = "daily"

    def items(self):
        return ["cases:list", "cases:stats", "cases:corrections"]

    def location(self, name):
        return reverse(name)


SITEMAPS = {"cases": CaseSitemap, "pages": PageSitemap}

ROBOTS = """User-agent: *
Disallow: /admin/
Disallow: /cases/export/
Disallow: /data/cases.

Sitemap: {sitemap_url}
"""


def robots_txt(request):
    sitemap_url = request.build_absolute_uri(reverse("cases:sitemap"))
    return HttpResponse(ROBOTS.format(sitemap_url=sitemap_url), content_type="text/plain")
