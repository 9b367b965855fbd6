from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="list"),
    path("cases/<int:pk>/", views.case_detail, name="detail-short"),
    path("cases/<int:pk>/<slug:slug>/", views.case_detail, name="detail"),
    path("keywords/", views.keyword_browse, name="keywords"),
    path("countries/", views.country_browse, name="countries"),
    path("languages/", views.language_browse, name="languages"),
    path("outlets/", views.outlet_browse, name="outlets"),
    path("issues/", views.issue_browse, name="issues"),
]
