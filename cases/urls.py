from django.urls import path

from cases import exports, feeds, stats, views

app_name = "cases"

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="list"),
    path("cases/export/", exports.export_view, name="export"),
    path("cases/feed/atom/", feeds.LatestCasesAtomFeed(), name="feed-atom"),
    path("cases/feed/rss/", feeds.LatestCasesFeed(), name="feed-rss"),
    path("stats/", stats.stats_view, name="stats"),
    path("cases/<int:pk>/", views.case_detail, name="detail-short"),
    path("cases/<int:pk>/<slug:slug>/", views.case_detail, name="detail"),
]
