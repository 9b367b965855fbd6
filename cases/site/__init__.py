"""The public site: pages, feeds, exports and statistics of the published cases.

views.py               the list, a case, the browse pages and the home page
feeds.py               Atom and RSS feeds of any view
exports.py             every case of a view as CSV, JSON or NDJSON, streamed
stats.py, charts.py    the statistics page and its SVG charts
sitemaps.py            sitemap.xml and robots.txt
claimreview.py         a case's schema.org ClaimReview and citation
filtered.py            the filter parameters of exports, feeds and statistics
page_filters.py        the templates' filters (disinfo_db/jinja2.py)
context_processors.py  what every page's template gets
"""
