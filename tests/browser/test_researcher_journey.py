"""A researcher's whole way through the site, in Chromium, as a new user would go.

Find the biolab cases about Ukraine by typing in the filters, switch to the table, sort by
date, compare two keywords over time, and read all of it in Russian.
"""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import assert_no_serious_axe_violations, overflows_horizontally
from tests.factories import CaseFactory, CountryFactory, KeywordFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def archive():
    biolabs, nato = KeywordFactory(name="Biolabs"), KeywordFactory(name="NATO")
    weapons = KeywordFactory(name="Biological weapons")
    ukraine, georgia = CountryFactory(name="Ukraine"), CountryFactory(name="Georgia")
    for n in range(9):
        CaseFactory(
            title=f"Ukraine biolab claim {n}",
            date=datetime.date(2022, 1 + n, 10),
            keywords=[biolabs, nato] if n % 2 else [biolabs],
            countries=[ukraine],
        )
    CaseFactory(title="Georgia biolab claim", keywords=[biolabs], countries=[georgia])
    CaseFactory(title="Weapons claim", keywords=[weapons], countries=[ukraine])


def query_of(page):
    return parse_qs(urlsplit(page.url).query)


def pick(page, field, typed):
    """Type into a facet's type-ahead and take its first suggestion with the keyboard."""
    combobox = page.locator(f"[data-field={field}] [role=combobox]")
    combobox.press_sequentially(typed)
    page.locator(f"#typeahead-{field}-options [role=option]").first.wait_for()
    url = page.url
    combobox.press("ArrowDown")
    combobox.press("Enter")
    page.wait_for_url(lambda new: new != url)


def test_find_tabulate_sort_compare_and_read_it_in_russian(live_browser_page, live_server, archive):
    page = live_browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(live_server.url + "/cases/")

    pick(page, "keyword", "biolab")
    pick(page, "country", "ukr")
    assert query_of(page) == {"keyword": ["biolabs"], "country": ["ukraine"]}
    assert page.locator("#results-heading").inner_text() == "9 cases match these filters"

    page.get_by_role("link", name="Table", exact=True).click()
    page.wait_for_url(lambda url: "view=table" in url)
    page.locator("th.col-date a").click()  # newest first, then oldest first
    page.wait_for_url(lambda url: "ordering=date" in url)
    titles = page.locator(".case-table td.col-title").all_inner_texts()
    assert titles == [f"Ukraine biolab claim {n}" for n in range(9)]
    assert page.locator("th.col-date").get_attribute("aria-sort") == "ascending"

    page.get_by_role("link", name="Statistics of this view").click()
    page.wait_for_url(lambda url: "/stats/" in url)
    for keyword in ("Biolabs", "NATO"):
        compared = len(query_of(page).get("compare", []))
        page.get_by_label("Add to the comparison").select_option(label=keyword)
        page.get_by_role("button", name="Compare", exact=True).click()
        page.wait_for_url(
            lambda url, before=compared: (
                len(parse_qs(urlsplit(url).query).get("compare", [])) > before
            )
        )
    assert query_of(page)["compare"] == ["keyword:biolabs", "keyword:nato"]
    legend = page.locator(".comparison .chart-legend li").all_inner_texts()
    assert legend == ["Biolabs", "NATO"]

    page.locator(".language-switcher a[hreflang=ru]").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/ru/stats/")
    assert query_of(page)["compare"] == ["keyword:biolabs", "keyword:nato"]
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.locator("h1").inner_text() == "Статистика"
    # Case texts and taxonomy names stay as written; the interface around them is Russian.
    assert page.locator(".comparison .chart-legend li").all_inner_texts() == legend
    assert not overflows_horizontally(page)
    assert_no_serious_axe_violations(page)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(
        live_server.url + "/ru/cases/?keyword=biolabs&country=ukraine&view=table&ordering=date"
    )
    assert page.locator("#results-heading").inner_text().startswith("9 ")
    assert page.get_by_role("link", name="Список", exact=True).is_visible()
    assert not overflows_horizontally(page)
