"""A case's history in a real browser, at a 1,366 px window: word diffs are marked, the
page fits, and axe finds nothing serious. Screenshot: test-artifacts/case-history.png."""

import pytest

from cases.models import Case
from cases.services.editing import save_case
from tests.browser.conftest import assert_no_serious_axe_violations, save_screenshot
from tests.browser.test_editors_workflow import ensure_groups, new_user
from tests.factories import CaseFactory, CountryFactory, KeywordFactory, OutletFactory

pytestmark = pytest.mark.django_db(transaction=True)

SUMMARY = (
    "The outlet claimed that the governments of the Baltic states had secretly agreed to "
    "hand their countries over to a foreign administration before the end of the year. "
    "It quoted an unnamed official who said that the agreement had been signed in Brussels "
    "and that the parliaments would not be asked.\n\nThe article repeated a recurring "
    "narrative about the sovereignty of the Baltic states and their membership of NATO."
)


def make_case_with_edits(editor):
    nato, sovereignty = KeywordFactory(name="NATO"), KeywordFactory(name="Sovereignty")
    latvia, estonia = CountryFactory(name="Latvia"), CountryFactory(name="Estonia")
    case = CaseFactory(
        status=Case.Status.DRAFT,
        title="The Baltic states will be handed over to a foreign administration",
        summary=SUMMARY,
        keywords=[nato],
        countries=[latvia],
    )
    outlet = OutletFactory(name="Baltic Outlet")
    save_case(
        case,
        user=editor,
        reason="Fixed the summary's quote",
        appearances=[(outlet.pk, "https://outlet.example/baltic", "")],
        summary=SUMMARY.replace("signed in Brussels", "signed in Riga"),
        keywords=[nato, sovereignty],
        countries=[latvia, estonia],
    )
    save_case(
        case,
        user=editor,
        correction_note="The title overstated the claim; it now says what the outlet wrote.",
        title="The Baltic states will be <sold> to a foreign administration, says outlet",
        status=Case.Status.PUBLISHED,
    )
    return case


def test_the_history_page_marks_changed_words_and_fits_a_laptop_window(
    live_browser_page, live_server
):
    ensure_groups()
    editor = new_user("erin", "Publishers")
    editor.first_name, editor.last_name = "Erin", "Example"
    editor.save()
    case = make_case_with_edits(editor)

    page = live_browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "erin")
    page.fill("#id_password", "a long passphrase")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    page.goto(f"{live_server.url}/admin/cases/case/{case.pk}/history/")

    rows = page.locator("#change-history tbody tr")
    assert rows.count() == 3
    newest = rows.nth(0)
    assert newest.locator(".word-diff del").inner_text() == "handed over"
    assert newest.locator(".word-diff ins").all_inner_texts() == ["<sold>", ", says outlet"]
    assert "Erin Example" in newest.inner_text()
    assert "The title overstated the claim" in newest.inner_text()
    middle = rows.nth(1).inner_text()
    assert "+ Sovereignty" in middle and "+ Estonia" in middle
    assert "+ Baltic Outlet https://outlet.example/baltic" in middle
    assert rows.nth(1).locator(".word-diff del").inner_text() == "Brussels"
    # The struck word is drawn struck and on red; the added one on green.
    style = (
        rows.nth(1)
        .locator(".word-diff del")
        .evaluate(
            "e => [getComputedStyle(e).textDecorationLine, getComputedStyle(e).backgroundColor]"
        )
    )
    assert style == ["line-through", "rgb(251, 213, 213)"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert_no_serious_axe_violations(page)
    save_screenshot(page, "case-history")

    # The revert page of version 1 shows what reverting changes, the same way.
    page.click("#change-history tbody tr:last-child .history-revert a")
    page.wait_for_selector(".revert-diff")
    title = page.locator(".revert-diff tr", has_text="Title")
    assert title.locator("del").all_inner_texts() == ["<sold>", ", says outlet"]
    assert title.locator("ins").inner_text() == "handed over"
    assert "− Estonia" in page.locator(".revert-diff").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert_no_serious_axe_violations(page)
    save_screenshot(page, "case-history-revert")
