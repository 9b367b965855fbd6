"""Browser tests: Python Playwright driving Debian's Chromium against pytest-django's
live_server. Screenshots go to test-artifacts/ (git-ignored).

    def test_something(live_browser_page, live_server):
        page = live_browser_page
        page.goto(live_server.url + "/cases/")
        assert_no_serious_axe_violations(page)
        save_screenshot(page, "something")

Data made in a browser test must be committed for the server thread to see it, so
browser tests use `@pytest.mark.django_db(transaction=True)`.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# there (creating their data) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_browser_page(chromium, live_server):
    """A fresh page in a desktop-sized window; the live server is at live_server.url.

    It lets the vendored axe-core in as an inline script, past the Content-Security-Policy
    (test_content_security_policy.py holds the pages to the policy).
    """
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def save_screenshot(page, name):
    """Save a full-page PNG to test-artifacts/<name>.png and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page, impacts=("serious", "critical")):
    """Run the vendored axe-core in the page; the violations of the given impacts."""
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("async () => await axe.run(document)")
    return [v for v in result["violations"] if v["impact"] in impacts]


def assert_no_serious_axe_violations(page):
    violations = axe_violations(page)
    details = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in violations
    ]
    assert not violations, "axe found:\n" + "\n".join(details)


@pytest.fixture
def axe():
    """axe_violations: run axe-core in a page, get its serious and critical violations."""
    return axe_violations


def overflows_horizontally(page):
    """Whether the page is wider than the window (a sideways scroll on a phone)."""
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


@pytest.fixture
def page(live_browser_page):
    """The same page under its short name."""
    return live_browser_page
