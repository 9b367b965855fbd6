"""Reading the site in another language, as a reader whose browser asks for it would."""

import datetime

import pytest

from cases.models import Case
from tests.browser.conftest import assert_no_serious_axe_violations, save_screenshot
from tests.factories import CaseFactory, KeywordFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cases():
    biolabs = KeywordFactory(name="Biolabs", slug="biolabs")
    for n in range(3):
        CaseFactory(
            title=f"Secret biolabs in Ukraine {n}",
            date=datetime.date(2022, 3, 1 + n),
            keywords=[biolabs],
        )


def browser_page(chromium, locale, javascript=True, width=1280):
    context = chromium.new_context(
        viewport={"width": width, "height": 900},
        locale=locale,
        java_script_enabled=javascript,
        bypass_csp=True,  # axe-core is injected inline, as the other browser tests do
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def test_a_russian_browser_reads_the_site_in_russian_and_can_switch_to_english(
    chromium, live_server, cases
):
    context, page = browser_page(chromium, "ru-RU")
    try:
        page.goto(f"{live_server.url}/cases/?keyword=biolabs")
        assert page.url == f"{live_server.url}/ru/cases/?keyword=biolabs"
        assert page.locator("html").get_attribute("lang") == "ru"
        assert page.locator("h1").inner_text() == "Случаи дезинформации"
        assert "3 случая" in page.locator("#results-heading").inner_text()
        assert "3 марта 2022 г." in page.locator("article.case-card").first.inner_text()
        # Case texts are not translated, and say which language they are in.
        first_title = page.locator("article.case-card h3").first
        assert first_title.inner_text() == "Secret biolabs in Ukraine 2"
        assert first_title.get_attribute("lang") == "en"
        assert_no_serious_axe_violations(page)
        save_screenshot(page, "language-ru-list")

        page.locator(".language-switcher a[hreflang=en]").click()
        assert page.url == f"{live_server.url}/cases/?keyword=biolabs"
        assert page.locator("h1").inner_text() == "Disinformation cases"
        # The choice is remembered: the browser still asks for Russian, the site stays English.
        page.goto(f"{live_server.url}/stats/")
        assert page.url == f"{live_server.url}/stats/"
        assert page.locator("html").get_attribute("lang") == "en"
    finally:
        context.close()


def test_the_switcher_works_without_javascript_and_keeps_the_query(chromium, live_server, cases):
    context, page = browser_page(chromium, "en-GB", javascript=False)
    try:
        page.goto(f"{live_server.url}/stats/?keyword=biolabs")
        page.locator(".language-switcher a[hreflang=de]").click()
        assert page.url == f"{live_server.url}/de/stats/?keyword=biolabs"
        assert page.locator("h1").inner_text() == "Statistik"
        page.locator(".language-switcher a[hreflang=uk]").click()
        assert page.url == f"{live_server.url}/uk/stats/?keyword=biolabs"
        assert page.locator("h1").inner_text() == "Статистика"
    finally:
        context.close()


@pytest.mark.parametrize("code", ["ru", "uk", "de", "fr"])
def test_every_language_fits_a_phone_and_passes_axe(chromium, live_server, cases, code):
    case_path = Case.objects.published().first().get_absolute_url()
    context, page = browser_page(chromium, "en-GB", width=390)
    try:
        for path in ("/cases/", "/stats/", "/keywords/", "/match/?text=biolabs", case_path):
            page.goto(f"{live_server.url}/{code}{path}")
            assert page.locator("html").get_attribute("lang") == code
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (path, overflow)
            assert_no_serious_axe_violations(page)
        save_screenshot(page, f"language-{code}-stats-390")
    finally:
        context.close()
