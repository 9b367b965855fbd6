import pytest

from tests.browser.conftest import assert_no_serious_axe_violations, save_screenshot
from tests.factories import CaseFactory, KeywordFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_reader_from_the_results_goes_back_to_them_query_and_all(page, live_server):
    case = CaseFactory(title="Pipeline sabotage claim", summary="The pipeline was blown up.")
    page.goto(live_server.url + "/cases/?q=pipeline")
    page.click("text=Pipeline sabotage claim")
    page.wait_for_selector(".back-to-results:not([hidden])")
    back = page.locator(".back-to-results a")
    assert back.get_attribute("href") == "/cases/?q=pipeline"
    assert_no_serious_axe_violations(page)
    save_screenshot(page, "case-page-back-to-results")
    back.click()
    page.wait_for_url("**/cases/?q=pipeline")

    # Straight to the case (no list before it): no link to results that are not there.
    page.goto(live_server.url + case.get_absolute_url())
    page.wait_for_load_state("load")
    assert page.locator(".back-to-results").is_hidden()


def test_a_short_browse_list_filters_as_you_type(page, live_server):
    CaseFactory(keywords=[KeywordFactory(name="NATO"), KeywordFactory(name="Biolabs")])
    page.goto(live_server.url + "/keywords/")
    page.fill("#browse-filter", "bio")
    assert page.locator("#browse-list li:not([hidden]) .label").all_inner_texts() == ["Biolabs"]
    assert_no_serious_axe_violations(page)
