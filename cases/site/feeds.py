"""Atom and RSS feeds of the latest published cases of any view.

/cases/feed/atom/?keyword=nato is what a researcher subscribes to for new NATO cases: the
parameters are those of the case list (CaseFilter), and a bad one is a 400 naming it.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import linebreaks

from cases import facets
from cases.models import Case
from cases.search import with_ids
from cases.site.filtered import (
    bad_request,
    describe_filters,
    filter_query,
    parameter_errors,
    published_case_filter,
    spelling_fallback,
)

FEED_LENGTH = 50
# A feed whose filter matches at most this many cases (as the facet index tells) is read
# among their ids (newest_published()); a commoner filter finds its newest cases soon
# enough walking the published_at index and checking each case it meets.
FEED_READ_BY_ID = 20_000


def tag_uri(kind, pk):
    """A feed entry's id, for good: tag:<site host>,<year>:<kind>/<id> (RFC 4151).

    Made of a permanent id alone, not of a URL: a case's URL has a slug that follows its
    title, and a request's host name depends on how the site was reached. So a retitled
    case stays one entry in a feed reader.
    """
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"tag:{host},{settings.FEED_TAG_YEAR}:{kind}/{pk}"


def newest_published(ids, limit):
    """The ids of the `limit` most recently published of these published cases.

    PostgreSQL finds them walking the published_at index alone (an index-only scan, each
    entry's id checked against the array): 2 ms at a million cases for a filter matching
    3,700 of them, where reading those cases to check the filter's conditions took 30.
    """
    newest = with_ids(Case.objects.published(), ids).order_by("-published_at", "-id")
    return list(newest.values_list("id", flat=True)[:limit])


class BadParameters(Exception):
    def __init__(self, errors):
        self.errors = errors
        super().__init__(errors)


class LatestCasesFeed(Feed):
    feed_type = Rss201rev2Feed
    kind = "rss"

    def __call__(self, request, *args, **kwargs):
        try:
            return super().__call__(request, *args, **kwargs)
        except BadParameters as error:
            return bad_request(error.errors)

    def get_object(self, request):
        case_filter = published_case_filter(request)
        if not case_filter.is_valid():
            raise BadParameters(parameter_errors(case_filter))
        return spelling_fallback(case_filter)

    def items(self, case_filter):
        cases = case_filter.qs
        ids = facets.matching_ids(case_filter, FEED_READ_BY_ID)
        if ids is not None:
            cases = with_ids(cases, newest_published(ids, FEED_LENGTH))
        # Newest on the database first, whatever the ordering parameter says.
        return (
            cases.defer("search_vector")
            .prefetch_related("keywords")
            .order_by("-published_at", "-id")[:FEED_LENGTH]
        )

    def title(self, case_filter):
        description = describe_filters(case_filter)
        title = f"{settings.SITE_NAME}: latest disinformation cases"
        return f"{title} ({description})" if description else title

    def description(self, case_filter):
        return (
            f"The {FEED_LENGTH} disinformation cases most recently published on "
            f"{settings.SITE_NAME} that match this view."
        )

    subtitle = description

    def link(self, case_filter):
        query = filter_query(case_filter)
        return reverse("cases:list") + (f"?{query}" if query else "")

    def feed_url(self, case_filter):
        query = filter_query(case_filter)
        return reverse(f"cases:feed-{self.kind}") + (f"?{query}" if query else "")

    def author_name(self):
        return settings.SITE_ORGANISATION

    def item_description(self, case):
        return linebreaks(case.summary, autoescape=True)

    def item_pubdate(self, case):
        return case.published_at

    def item_updateddate(self, case):
        return case.updated_at

    def item_categories(self, case):
        return [keyword.name for keyword in case.keywords.all()]

    def item_guid(self, case):
        return tag_uri("case", case.pk)

    # A tag URI names the case, it is no address: RSS says so with isPermaLink="false".
    item_guid_is_permalink = False


class LatestCasesAtomFeed(LatestCasesFeed):
    feed_type = Atom1Feed
    kind = "atom"
