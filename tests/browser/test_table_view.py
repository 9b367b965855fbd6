"""The table view in Chromium: switch to it, sort by date, and read it without sideways
scrolling on a laptop and on a phone."""

import datetime

import pytest

from tests.browser.conftest import assert_no_serious_axe_violations, save_screenshot
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    CountryFactory,
    KeywordFactory,
    LanguageFactory,
    OutletFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cases():
    biolabs, nato = KeywordFactory(name="Biolabs"), KeywordFactory(name="NATO")
    ukraine = CountryFactory(name="Ukraine")
    ru = LanguageFactory(code="ru", name="Russian")
    outlet = OutletFactory(name="A very long outlet name that should wrap inside its cell")
    for n in range(30):
        case = CaseFactory(
            title=f"Claim {n:02}: secret biolabs in Ukraine are run by the Pentagon and NATO",
            date=datetime.date(2021, 1, 1) + datetime.timedelta(days=n * 10),
            keywords=[biolabs, nato] if n % 2 else [biolabs],
            countries=[ukraine],
            languages=[ru],
        )
        AppearanceFactory(case=case, outlet=outlet)


def overflows(page):
    return page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")


def first_titles(page, count=2):
    return page.locator("table.case-table td.col-title").all_inner_texts()[:count]


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_switching_to_the_table_and_sorting_by_date_without_scrolling_sideways(
    live_browser_page, live_server, cases, width, height
):
    page = live_browser_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto(live_server.url + "/cases/?keyword=biolabs")
    page.get_by_role("navigation", name="Show results as").get_by_role("link", name="Table").click()
    page.wait_for_url("**view=table**")
    assert page.locator("table.case-table tbody tr").count() == 20
    assert first_titles(page)[0].startswith("Claim 29")
    assert not overflows(page)

    page.locator("table.case-table th.col-date a").click()
    page.wait_for_url("**ordering=date**")
    assert first_titles(page) == [
        "Claim 00: secret biolabs in Ukraine are run by the Pentagon and NATO",
        "Claim 01: secret biolabs in Ukraine are run by the Pentagon and NATO",
    ]
    assert page.locator("th.col-date").get_attribute("aria-sort") == "ascending"
    assert "keyword=biolabs" in page.url and "view=table" in page.url
    assert not overflows(page)
    assert_no_serious_axe_violations(page)
    save_screenshot(page, f"table-view-{width}")

    # Paging keeps the table and its order.
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url("**cursor=**")
    assert page.locator("table.case-table tbody tr").count() == 10
    assert first_titles(page, 1)[0].startswith("Claim 20")
    assert not overflows(page)


def test_table_headings_stay_in_sight_on_a_laptop(live_browser_page, live_server, cases):
    page = live_browser_page
    page.set_viewport_size({"width": 1366, "height": 600})
    page.goto(live_server.url + "/cases/?view=table")
    assert (
        page.locator("table.case-table th").first.evaluate("th => getComputedStyle(th).position")
        == "sticky"
    )


def test_on_a_phone_each_row_reads_as_a_labelled_card(live_browser_page, live_server, cases):
    page = live_browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/cases/?view=table")
    row = page.locator("table.case-table tbody tr").first
    assert row.evaluate("tr => getComputedStyle(tr).display") == "block"
    keywords = row.locator("td.col-keywords")
    label = keywords.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Keywords: "'
