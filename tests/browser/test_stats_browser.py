"""In a real browser: downloading an export, the statistics charts, and axe-core checks."""

import csv
import datetime
import io

import pytest

from cases.models import Case
from tests.browser.conftest import assert_no_serious_axe_violations, save_screenshot
from tests.factories import AppearanceFactory, CaseFactory, CountryFactory, KeywordFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cases():
    nato, other = KeywordFactory(name="NATO"), KeywordFactory(name="Elections")
    countries = [CountryFactory(name=name) for name in ("Kazakhstan", "Ukraine", "Georgia")]
    nato_titles = []
    for n in range(24):
        keyword = nato if n % 2 == 0 else other
        case = CaseFactory(
            title=f"Claim {n} about {keyword.name}",
            date=datetime.date(2021, 1 + n % 12, 1 + n),
            keywords=[keyword],
            countries=countries[: 1 + n % 3],
        )
        AppearanceFactory(case=case)
        if keyword == nato:
            nato_titles.append(case.title)
    CaseFactory(title="Draft about NATO", keywords=[nato], status=Case.Status.DRAFT)
    return {"nato_titles": nato_titles}


def test_downloading_the_csv_export_of_a_view_gives_its_rows(page, live_server, cases, tmp_path):
    page.goto(f"{live_server.url}/cases/?keyword=nato")
    save_screenshot(page, "list-with-view-links")

    with page.expect_download() as download_info:
        page.locator("nav.view-links").get_by_role("link", name="CSV").click()
    download = download_info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    assert sorted(row["title"] for row in rows) == sorted(cases["nato_titles"])
    assert all(row["keywords"] == "NATO" for row in rows)


def test_the_statistics_charts_render_as_svg_with_bars(page, live_server, cases):
    page.goto(f"{live_server.url}/stats/?keyword=nato")

    # Timeline, countries, keywords and outlets; the cases record no language.
    assert page.locator("svg.chart-svg").count() == 4
    assert page.get_by_text("None recorded for these cases.").is_visible()
    timeline_bars = page.locator("figure.timeline rect.bar")
    # NATO cases fall in odd months of 2021: January to November, empty months included.
    assert timeline_bars.count() == 11
    heights = [timeline_bars.nth(i).bounding_box()["height"] for i in range(11)]
    assert min(heights[0::2]) > 50
    assert max(heights[1::2]) == 0
    country_bars = page.locator("#countries-heading ~ figure rect.bar")
    assert country_bars.count() == 3
    assert country_bars.first.bounding_box()["width"] > country_bars.last.bounding_box()["width"]
    save_screenshot(page, "stats-nato")

    page.get_by_text("Top 15 countries and regions as a table").click()
    table = page.get_by_role("table", name="Top 15 countries and regions")
    assert table.get_by_role("row").count() == 4
    assert table.get_by_role("link", name="Kazakhstan", exact=True).is_visible()


def test_the_statistics_page_reads_on_a_phone(chromium, live_server, cases):
    # bypass_csp: axe-core goes in as an inline script.
    context = chromium.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/stats/")
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    # The timeline fits the screen, its axis text at about 11 px or more.
    timeline = page.locator("figure.timeline svg.chart-svg").bounding_box()
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('svg.chart-svg text')]
                 .map(t => t.getBoundingClientRect().height)"""
    )
    save_screenshot(page, "stats-phone")
    context.close()
    assert overflow <= 390
    assert timeline["x"] >= 0 and timeline["x"] + timeline["width"] <= 390
    assert min(sizes) >= 10


def test_the_case_page_has_no_serious_accessibility_violation(page, live_server, cases):
    case = Case.objects.published().order_by("id").first()
    page.goto(f"{live_server.url}{case.get_absolute_url()}")
    assert page.locator('script[type="application/ld+json"]').count() == 1
    save_screenshot(page, "case-page")
    assert_no_serious_axe_violations(page)


def test_the_statistics_page_has_no_serious_accessibility_violation(page, live_server, cases):
    page.goto(f"{live_server.url}/stats/")
    assert_no_serious_axe_violations(page)


def test_an_empty_statistics_view_has_no_serious_accessibility_violation(page, live_server):
    page.goto(f"{live_server.url}/stats/")
    assert page.get_by_text("No published case matches these filters").is_visible()
    save_screenshot(page, "stats-empty")
    assert_no_serious_axe_violations(page)


def test_the_not_found_page_has_no_serious_accessibility_violation(page, live_server):
    page.goto(f"{live_server.url}/no/such/page/")
    assert page.get_by_role("heading", name="Page not found").is_visible()
    save_screenshot(page, "not-found")
    assert_no_serious_axe_violations(page)


def test_comparing_two_keywords_over_time_reads_on_a_phone(chromium, live_server, cases):
    # bypass_csp: axe-core goes in as an inline script.
    context = chromium.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/stats/")

    # Without JavaScript's help: the "compare" links of the keywords table, then the form.
    page.get_by_text("Top 15 keywords as a table").click()
    page.get_by_role("link", name="Compare NATO over time").click()
    page.get_by_label("Add to the comparison").select_option("keyword:elections")
    page.get_by_role("button", name="Compare").click()

    assert "compare=keyword%3Anato" in page.url and "compare=keyword%3Aelections" in page.url
    lines = page.locator("figure.comparison polyline.line")
    assert lines.count() == 2
    assert page.locator("figure.comparison .chart-legend li").all_inner_texts() == [
        "NATO",
        "Elections",
    ]
    # Labels stay readable and the page does not scroll sideways.
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('figure.comparison .axis text')]
                 .map(t => t.getBoundingClientRect().height)"""
    )
    assert sizes and min(sizes) >= 10
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    save_screenshot(page, "stats-compare-phone")
    assert_no_serious_axe_violations(page)

    # A point leads to the cases it counts: NATO's January 2021 case.
    page.locator("figure.comparison .chart-links a.series-0").first.click()
    assert "keyword=nato" in page.url and "date_before=2021-01-31" in page.url
    assert page.get_by_role("link", name="Claim 0 about NATO").is_visible()
    context.close()


def test_a_quarter_reads_as_one_and_links_to_its_cases(page, live_server, cases):
    page.goto(f"{live_server.url}/stats/?keyword=nato")
    page.get_by_role("link", name="Quarter").click()

    assert page.get_by_role("heading", name="Cases per quarter").is_visible()
    assert page.locator("figure.timeline rect.bar").count() == 4
    assert "Q1 2021" in page.locator("figure.timeline .axis").text_content()
    page.locator("figure.timeline a").first.click()
    assert "date_after=2021-01-01" in page.url and "date_before=2021-03-31" in page.url
