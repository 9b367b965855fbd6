import datetime

import pytest

from cases.models import Case
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
    nato, mi6 = KeywordFactory(name="NATO"), KeywordFactory(name="MI6")
    kz, lt = CountryFactory(name="Kazakhstan"), CountryFactory(name="Lithuania")
    ru = LanguageFactory(code="ru", name="Russian")
    rt = OutletFactory(name="RT")
    for n in range(45):
        case = CaseFactory(
            title=f"Claim {n:02}: unrest in Kazakhstan" if n % 3 == 0 else f"Claim {n:02}",
            summary="The outlet said the protests in Kazakhstan were staged by the West.",
            date=datetime.date(2021, 1, 1) + datetime.timedelta(days=n * 10),
            keywords=[nato] if n % 2 else [mi6],
            countries=[kz] if n % 3 == 0 else [lt],
            languages=[ru],
        )
        AppearanceFactory(case=case, outlet=rt)
    CaseFactory(title="Draft about Kazakhstan", status=Case.Status.DRAFT, keywords=[nato])


def titles(page):
    return page.locator("article.case-card h3").all_inner_texts()


def test_a_search_from_the_header_ranks_and_marks_matches(live_browser_page, live_server, cases):
    page = live_browser_page
    page.goto(live_server.url + "/cases/")
    page.get_by_role("searchbox", name="Search cases").fill("unrest")
    page.get_by_role("button", name="Search", exact=True).click()

    page.wait_for_url("**/cases/?q=unrest")
    assert page.locator("#results-heading").inner_text() == "15 cases match these filters"
    assert all("unrest" in title for title in titles(page))
    assert page.locator("article.case-card mark").first.inner_text().lower() == "unrest"
    save_screenshot(page, "list-search")


def test_a_misspelt_search_shows_approximate_matches(live_browser_page, live_server, cases):
    page = live_browser_page
    page.goto(live_server.url + "/cases/?q=Kazakstan")
    assert "Showing approximate matches for" in page.locator(".notice").inner_text()
    assert "Draft about Kazakhstan" not in page.content()
    assert len(titles(page)) == 20
    save_screenshot(page, "list-approximate-search")


def test_clicking_a_facet_adds_it_and_clicking_again_removes_it(
    live_browser_page, live_server, cases
):
    page = live_browser_page
    page.goto(live_server.url + "/cases/")
    assert page.locator("#results-heading").inner_text() == "45 cases"

    keywords = page.locator("#facet-keyword")
    keywords.get_by_role("link", name="NATO").click()
    page.wait_for_url("**/cases/?keyword=nato")
    assert page.locator("#results-heading").inner_text() == "22 cases match these filters"
    assert page.locator(".chips").get_by_role("link").first.inner_text().startswith("Keyword: NATO")
    # The other facets now count only NATO cases; the keyword facet still offers MI6 (23).
    assert "23" in keywords.get_by_role("link", name="MI6").inner_text()
    save_screenshot(page, "list-facet-selected")

    keywords.get_by_role("link", name="Remove filter: NATO").click()
    page.wait_for_url("**/cases/?")
    assert page.locator("#results-heading").inner_text() == "45 cases"
    assert page.locator(".chips").count() == 0

    page.go_back()
    page.wait_for_url("**/cases/?keyword=nato")
    assert page.locator("#results-heading").inner_text() == "22 cases match these filters"


def test_paging_deep_and_coming_back_with_the_browser(live_browser_page, live_server, cases):
    page = live_browser_page
    page.goto(live_server.url + "/cases/")
    first_page = titles(page)

    page.get_by_role("link", name="Next →").click()
    second_page = titles(page)
    page.get_by_role("link", name="Next →").click()
    third_page = titles(page)

    assert [len(first_page), len(second_page), len(third_page)] == [20, 20, 5]
    assert len(set(first_page + second_page + third_page)) == 45
    assert page.get_by_role("link", name="Next →").count() == 0
    save_screenshot(page, "list-third-page")

    page.go_back()
    assert titles(page) == second_page
    page.get_by_role("link", name="← Previous").click()
    assert titles(page) == first_page


def test_the_list_page_has_no_serious_accessibility_violation(
    live_browser_page, live_server, cases
):
    page = live_browser_page
    page.goto(live_server.url + "/cases/?q=kazakhstan&keyword=nato")
    assert_no_serious_axe_violations(page)
    page.goto(live_server.url + "/keywords/")
    assert_no_serious_axe_violations(page)


def test_the_list_page_reads_well_on_a_phone(chromium, live_server, cases):
    # bypass_csp: axe-core goes in as an inline script.
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, bypass_csp=True
    )
    page = context.new_page()
    page.goto(live_server.url + "/cases/?keyword=nato")
    # Nothing wider than the screen: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_no_serious_axe_violations(page)
    save_screenshot(page, "list-phone")
    context.close()


def test_the_matches_show_while_the_count_and_the_facets_are_made(
    live_browser_page, live_server, cases, monkeypatch
):
    """The page is streamed: Chromium paints the matches before the rest has come."""
    import threading

    from cases.site import views

    counted = threading.Event()
    facet_counts = views.facet_counts

    def slow_facet_counts(*args, **kwargs):
        counted.wait(timeout=30)
        return facet_counts(*args, **kwargs)

    monkeypatch.setattr(views, "facet_counts", slow_facet_counts)
    page = live_browser_page
    page.goto(live_server.url + "/cases/?keyword=nato", wait_until="commit")

    page.locator("article.case-card").first.wait_for(state="visible")
    assert len(titles(page)) == 20
    assert page.locator("#results-heading").count() == 0
    assert page.locator("#facet-keyword").count() == 0
    save_screenshot(page, "list-matches-first")

    counted.set()
    page.locator("#facet-keyword").wait_for(state="visible")
    assert page.locator("#results-heading").inner_text() == "22 cases match these filters"
    # The count shows above the matches, the filters on their left.
    heading, first_case = page.locator("#results-heading"), page.locator("article.case-card").first
    assert heading.bounding_box()["y"] < first_case.bounding_box()["y"]
    assert page.locator("#filters").bounding_box()["x"] < first_case.bounding_box()["x"]
    save_screenshot(page, "list-then-the-rest")
