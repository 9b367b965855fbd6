from django.contrib.sitemaps import views as sitemap_views
from django.urls import path

from cases.site import corrections, data, exports, feeds, match, sitemaps, stats, suggest, views

app_name = "cases"

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="list"),
    path("cases/suggest/", suggest.suggest_values, name="suggest"),
    path("cases/export/", exports.export_view, name="export"),
    path("cases/feed/atom/", feeds.LatestCasesAtomFeed(), name="feed-atom"),
    path("cases/feed/rss/", feeds.LatestCasesFeed(), name="feed-rss"),
    path("stats/", stats.stats_view, name="stats"),
    path("match/", match.match_page, name="match"),
    path("corrections/", corrections.corrections_log, name="corrections"),
    path("corrections/feed/", corrections.CorrectionsFeed(), name="corrections-feed"),
    path(
        "sitemap.xml",
        sitemap_views.index,
        {"sitemaps": sitemaps.SITEMAPS, "sitemap_url_name": "cases:sitemap-section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        sitemap_views.sitemap,
        {"sitemaps": sitemaps.SITEMAPS},
        name="sitemap-section",
    ),
    path("data/", data.data_index, name="data"),
    path("data/index.json", data.data_index_json, name="data-index"),
    path("data/<str:name>", data.data_file, name="data-file"),
    path("robots.txt", sitemaps.robots_txt, name="robots"),
    path("cases/<int:pk>/", views.case_detail, name="detail-short"),
    path("cases/<int:pk>/<slug:slug>/", views.case_detail, name="detail"),
    path("cases/<int:pk>/<slug:slug>/similar/", views.case_similar, name="similar"),
    path("keywords/", views.keyword_browse, name="keywords"),
    path("countries/", views.country_browse, name="countries"),
    path("languages/", views.language_browse, name="languages"),
    path("outlets/", views.outlet_browse, name="outlets"),
    path("issues/", views.issue_browse, name="issues"),
]
