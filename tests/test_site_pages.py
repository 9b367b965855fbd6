"""sitemap.xml, robots.txt and the friendly error pages."""

import xml.etree.ElementTree as ET

import pytest
from django.template.loader import get_template
from django.test import RequestFactory
from django.views.defaults import server_error

from cases.models import Case
from disinfo_db.i18n import path_in_language
from tests.factories import CaseFactory

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def locations(response):
    root = ET.fromstring(response.content)
    return [element.text for element in root.iter(f"{SITEMAP}loc")]


def in_every_language(path):
    """The absolute URLs of a page in English, Russian, Ukrainian, German and French."""
    return [f"http://testserver{path_in_language(path, code)}" for code in LANGUAGE_CODES]


LANGUAGE_CODES = ["en", "ru", "uk", "de", "fr"]


@pytest.mark.django_db
class TestSitemap:
    def test_the_index_lists_the_case_and_page_sitemaps(self, client):
        CaseFactory()
        response = client.get("/sitemap.xml")
        assert response.status_code == 200
        assert locations(response) == [
            "http://testserver/sitemap-cases.xml",
            "http://testserver/sitemap-pages.xml",
        ]

    def test_the_case_sitemap_lists_published_cases_only(self, client):
        first = CaseFactory(title="First claim")
        second = CaseFactory(title="Second claim")
        for status in (Case.Status.DRAFT, Case.Status.IN_REVIEW, Case.Status.WITHDRAWN):
            CaseFactory(title=f"Hidden {status}", status=status)

        response = client.get("/sitemap-cases.xml")

        assert locations(response) == [
            *in_every_language(first.get_absolute_url()),
            *in_every_language(second.get_absolute_url()),
        ]
        root = ET.fromstring(response.content)
        lastmod = root.find(f"{SITEMAP}url/{SITEMAP}lastmod").text
        assert lastmod == Case.objects.get(pk=first.pk).updated_at.date().isoformat()

    def test_the_case_sitemap_is_paginated_by_the_framework(self, client, monkeypatch):
        from cases.site.sitemaps import CaseSitemap

        # Two cases a page, each in five languages.
        monkeypatch.setattr(CaseSitemap, "limit", 10)
        cases = [CaseFactory() for _ in range(3)]

        index = locations(client.get("/sitemap.xml"))
        assert "http://testserver/sitemap-cases.xml?p=2" in index
        assert locations(client.get("/sitemap-cases.xml?p=2")) == in_every_language(
            cases[2].get_absolute_url()
        )
        assert client.get("/sitemap-cases.xml?p=3").status_code == 404

    def test_the_pages_sitemap_lists_the_list_the_statistics_and_the_corrections(self, client):
        assert locations(client.get("/sitemap-pages.xml")) == [
            *in_every_language("/cases/"),
            *in_every_language("/stats/"),
            *in_every_language("/corrections/"),
        ]

    def test_a_sitemap_page_takes_two_queries_whatever_it_holds(
        self, client, django_assert_num_queries
    ):
        CaseFactory()
        # The count for the paginator, then the page of cases.
        with django_assert_num_queries(2):
            client.get("/sitemap-cases.xml")
        for _ in range(5):
            CaseFactory()
        with django_assert_num_queries(2):
            client.get("/sitemap-cases.xml")


def test_robots_txt_points_at_the_sitemap_and_keeps_crawlers_off_admin_and_exports(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines
    assert "Disallow: /cases/export/" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines


@pytest.mark.django_db
class TestNotFound:
    def test_an_unknown_address_gets_a_friendly_page_with_a_way_on(self, client):
        response = client.get("/no/such/page/")
        html = response.content.decode()
        assert response.status_code == 404
        assert "<h1>Page not found</h1>" in html
        assert 'action="/cases/"' in html
        assert 'href="/cases/"' in html

    def test_an_unpublished_case_is_the_same_friendly_404(self, client):
        draft = CaseFactory(title="Secret draft", status=Case.Status.DRAFT)
        response = client.get(f"/cases/{draft.pk}/")
        html = response.content.decode()
        assert response.status_code == 404
        assert "<h1>Page not found</h1>" in html
        assert "Secret draft" not in html


def test_the_500_page_renders_without_a_database_or_a_request_context():
    # No django_db mark: any database query here would fail the test.
    assert "Something went wrong" in get_template("500.html").render()

    response = server_error(RequestFactory().get("/cases/"))

    assert response.status_code == 500
    assert "<h1>Something went wrong on our side</h1>" in response.content.decode()
