"""sitemap.xml (an index of paginated sitemaps, 10,000 URLs a page) and robots.txt.

Each page is listed in every language of the site (disinfo_db/i18n.py), with the others as
its hreflang alternates and the English, unprefixed URL as x-default.
"""

from collections.abc import Sequence

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, QuerySet
from django.http import HttpResponse
from django.urls import reverse

from cases.models import Case


class _InEveryLanguage(Sequence):
    """(item, language) for every item of a queryset and every language, read a slice at a
    time: Django's i18n sitemaps would read every case to make one page of them."""

    def __init__(self, queryset, languages):
        self.queryset = queryset
        self.languages = languages
        self._count = None

    def count(self):
        if self._count is None:
            items = self.queryset
            count = items.count() if isinstance(items, QuerySet) else len(items)
            self._count = count * len(self.languages)
        return self._count

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop, _ = index.indices(len(self))
        per_item = len(self.languages)
        first, last = start // per_item, -(-stop // per_item)
        pairs = [
            (item, language) for item in self.queryset[first:last] for language in self.languages
        ]
        offset = first * per_item
        return pairs[start - offset : stop - offset]


class InEveryLanguage(Sitemap):
    i18n = True
    alternates = True
    x_default = True

    def _items(self):
        return _InEveryLanguage(self.items(), [code for code, _ in settings.LANGUAGES])


class CaseSitemap(InEveryLanguage):
    """Every published case page, oldest id first so pages stay stable as cases arrive."""

    changefreq = "monthly"
    # Below the protocol's 50,000 so each page renders in well under a second: 2,000 cases
    # in five languages.
    limit = 10_000

    def items(self):
        return Case.objects.published().only("id", "slug", "updated_at").order_by("id")

    def lastmod(self, case):
        return case.updated_at

    def get_latest_lastmod(self):
        # One aggregate, where the default would read every case to find the latest.
        return Case.objects.published().aggregate(latest=Max("updated_at"))["latest"]


class PageSitemap(InEveryLanguage):
    """The site's own pages besides the cases."""

    changefreq = "daily"

    def items(self):
        return PAGE_NAMES

    def location(self, name):
        return reverse(name)


PAGE_NAMES = ["cases:list", "cases:stats", "cases:corrections"]

SITEMAPS = {"cases": CaseSitemap, "pages": PageSitemap}

ROBOTS = """User-agent: *
Disallow: /admin/
Disallow: /cases/export/
Disallow: /data/cases.
Disallow: /language/

Sitemap: {sitemap_url}
"""


def robots_txt(request):
    sitemap_url = request.build_absolute_uri(reverse("cases:sitemap"))
    return HttpResponse(ROBOTS.format(sitemap_url=sitemap_url), content_type="text/plain")
