import io

import pytest
from django.core.management import call_command

from tests.browser.conftest import assert_no_serious_axe_violations, save_screenshot
from tests.conftest import SEED_FILE

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_pasted_claim_lists_the_mi6_case_first_with_why(page, live_server):
    call_command("import_cases", str(SEED_FILE), "--status", "published", stdout=io.StringIO())
    page.goto(live_server.url + "/match/")
    page.fill("#match-text", "MI6 is behind the riots in Kazakhstan")
    page.click("text=Find matching cases")
    page.wait_for_selector("ol.matches")
    first = page.locator("li.match").first
    assert "The ears of MI6" in first.locator(".match-title").inner_text()
    assert "MI6" in first.locator(".why-entities").inner_text()
    assert "not set up on this server" in page.locator(".tier-note").inner_text()
    assert_no_serious_axe_violations(page)
    save_screenshot(page, "match-page")

    first.locator(".match-title").click()
    page.wait_for_selector("#similar-heading")
    # The similar cases load after the page shows (static/js/similar.js).
    page.wait_for_selector(".similar-cases.loaded .match-title")
    titles = page.locator(".similar-cases .match-title").all_inner_texts()
    assert titles and all("Kazakhstan" in t for t in titles[:2])
    save_screenshot(page, "case-page-similar")
