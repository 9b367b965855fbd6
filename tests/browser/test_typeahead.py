"""The type-ahead filters in Chromium, with JavaScript and without."""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from cases.models import Case
from tests.browser.conftest import assert_no_serious_axe_violations, save_screenshot
from tests.factories import CaseFactory, CountryFactory, KeywordFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cases():
    biolabs, weapons = KeywordFactory(name="Biolabs"), KeywordFactory(name="Biological weapons")
    nato = KeywordFactory(name="NATO")
    ukraine, georgia = CountryFactory(name="Ukraine"), CountryFactory(name="Georgia")
    for n in range(12):
        CaseFactory(
            title=f"Claim {n:02}",
            date=datetime.date(2022, 1, 1) + datetime.timedelta(days=n),
            keywords=[(biolabs, weapons, nato)[n % 3]],
            countries=[ukraine] if n % 2 else [georgia],
        )
    CaseFactory(title="Draft", status=Case.Status.DRAFT, keywords=[KeywordFactory(name="Biozz")])


def wait_for_query(page, **expected):
    """Wait until the page's URL is /cases/ with exactly these parameters, in any order."""
    wanted = {
        name: value if isinstance(value, list) else [value] for name, value in expected.items()
    }

    def matches(url):
        parts = urlsplit(url)
        return parts.path == "/cases/" and parse_qs(parts.query) == wanted

    page.wait_for_url(matches)


def result_heading(page):
    return page.locator("#results-heading").inner_text()


def test_typing_and_picking_with_the_keyboard_adds_the_filter(
    live_browser_page, live_server, cases
):
    page = live_browser_page
    page.goto(live_server.url + "/cases/?country=ukraine")
    assert result_heading(page) == "6 cases match these filters"
    combobox = page.get_by_role("combobox", name="Find: keyword")

    combobox.press_sequentially("bio")
    options = page.locator("#typeahead-keyword-options [role=option]")
    options.first.wait_for()
    assert combobox.get_attribute("aria-expanded") == "true"
    # Both names start with "bio"; under country=ukraine each tags 2 cases. No draft value.
    assert options.all_text_contents() == ["Biolabs2 cases", "Biological weapons2 cases"]
    assert_no_serious_axe_violations(page)
    save_screenshot(page, "typeahead-open")

    combobox.press("ArrowDown")
    combobox.press("ArrowDown")
    assert combobox.get_attribute("aria-activedescendant") == "typeahead-keyword-option-1"
    assert options.nth(1).get_attribute("aria-selected") == "true"
    combobox.press("ArrowUp")
    combobox.press("Enter")

    wait_for_query(page, country="ukraine", keyword="biolabs")
    assert result_heading(page) == "2 cases match these filters"
    chip = page.locator("[data-field=keyword] .typeahead-chips .chip")
    assert chip.inner_text().startswith("Biolabs")
    # With a keyword selected, another keyword shows what it would add.
    combobox = page.get_by_role("combobox", name="Find: keyword")
    combobox.press_sequentially("weap")
    options.first.wait_for()
    assert options.all_text_contents() == ["Biological weapons+2 more cases"]
    combobox.press("Escape")
    assert combobox.get_attribute("aria-expanded") == "false"
    assert options.first.is_hidden()

    chip.click()
    wait_for_query(page, country="ukraine")


def test_accents_and_capitals_find_a_value(live_browser_page, live_server, cases):
    page = live_browser_page
    page.goto(live_server.url + "/cases/")
    combobox = page.get_by_role("combobox", name="Find: country or region")
    combobox.press_sequentially("UKRAÏ")
    option = page.locator("#typeahead-country-options [role=option]")
    option.first.wait_for()
    assert option.all_text_contents() == ["Ukraine6 cases"]
    option.first.click()
    wait_for_query(page, country="ukraine")


def test_the_search_box_keeps_the_filters_and_empty_fields_stay_out_of_urls(
    live_browser_page, live_server, cases
):
    page = live_browser_page
    page.goto(live_server.url + "/cases/?keyword=biolabs")
    page.get_by_role("searchbox", name="Search cases").fill("claim")
    page.get_by_role("button", name="Search", exact=True).click()
    wait_for_query(page, keyword="biolabs", q="claim")

    page.get_by_role("button", name="Apply").click()
    wait_for_query(page, keyword="biolabs", q="claim", ordering="relevance")


@pytest.fixture
def page_without_javascript(chromium, live_server):
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_without_javascript_the_links_and_forms_do_the_same(
    page_without_javascript, live_server, cases
):
    page = page_without_javascript
    page.goto(live_server.url + "/cases/?country=ukraine")
    assert page.locator("[data-typeahead]").first.is_hidden()  # no dead controls

    page.locator("#facet-keyword").get_by_role("link", name="Biolabs").click()
    wait_for_query(page, country="ukraine", keyword="biolabs")
    assert result_heading(page) == "2 cases match these filters"
    assert "+2" in page.locator("#facet-keyword").inner_text()

    page.get_by_role("searchbox", name="Search cases").fill("claim")
    page.get_by_role("button", name="Search", exact=True).click()
    wait_for_query(page, country="ukraine", keyword="biolabs", q="claim")

    # The filter form sends its empty fields; the server redirects them away.
    page.get_by_role("button", name="Apply").click()
    wait_for_query(page, country="ukraine", keyword="biolabs", q="claim", ordering="relevance")
