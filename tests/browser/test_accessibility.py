"""Every public page, in Chromium at a laptop's and a phone's width: no serious or critical
axe-core violation, and nothing wider than the window.

PAGES is the list of public pages; LANGUAGE_PREFIXES the URL prefixes of the interface's
languages (each page is checked under each one). Screenshots go to test-artifacts/.
"""

import datetime

import pytest

from tests.browser.conftest import (
    assert_no_serious_axe_violations,
    overflows_horizontally,
    save_screenshot,
)
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    CountryFactory,
    IssueFactory,
    KeywordFactory,
    LanguageFactory,
    OutletFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
# "" is English, the default language, at unprefixed URLs.
LANGUAGE_PREFIXES = ["", "/ru", "/uk", "/de", "/fr"]
# (name, path); "{case}" stands for the case page's path.
PAGES = [
    ("home", "/"),
    ("cases", "/cases/"),
    ("cases-filtered", "/cases/?keyword=nato&country=ukraine&keyword=biolabs"),
    ("cases-search", "/cases/?q=biolabs&country=ukraine"),
    ("case", "{case}"),
    ("stats", "/stats/"),
    ("match", "/match/"),
    ("keywords", "/keywords/"),
    ("countries", "/countries/"),
    ("languages", "/languages/"),
    ("outlets", "/outlets/"),
    ("issues", "/issues/"),
    ("corrections", "/corrections/"),
    ("data", "/data/"),
]


@pytest.fixture
def cases():
    nato, biolabs = KeywordFactory(name="NATO"), KeywordFactory(name="Biolabs")
    ukraine = CountryFactory(name="Ukraine", iso_code="UA")
    russia = CountryFactory(name="Russia", iso_code="RU")
    russian = LanguageFactory(code="ru", name="Russian")
    outlet = OutletFactory(name="A very long outlet name that could push a narrow page wide")
    issue = IssueFactory(number=300)
    made = []
    for n in range(24):
        case = CaseFactory(
            title=f"Claim {n:02}: secret biolabs in Ukraine are run by NATO, the outlet said",
            summary="The outlet claimed that biolabs in Ukraine made weapons. " * 4,
            date=datetime.date(2021, 1, 1) + datetime.timedelta(days=n * 40),
            issue=issue,
            keywords=[nato, biolabs] if n % 2 else [biolabs],
            countries=[ukraine] if n % 3 else [ukraine, russia],
            languages=[russian],
        )
        AppearanceFactory(
            case=case,
            outlet=outlet,
            url=f"https://outlet.example/a/very/long/path/that/does/not/break/{n:04}",
        )
        made.append(case)
    made[0].related.add(made[1])
    return made


@pytest.fixture(params=list(WIDTHS))
def sized_page(request, chromium, live_server):
    width, height = WIDTHS[request.param]
    # axe is injected as an inline script, which the site's policy refuses (as it should);
    # tests/browser/test_content_security_policy.py checks the policy itself.
    context = chromium.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield request.param, page
    context.close()


@pytest.mark.parametrize("prefix", LANGUAGE_PREFIXES)
def test_every_public_page_is_accessible_and_fits_the_window(
    sized_page, live_server, cases, prefix
):
    width_name, page = sized_page
    problems = []
    for name, path in PAGES:
        path = path.format(case=cases[0].get_absolute_url())
        response = page.goto(live_server.url + prefix + path)
        assert response.status < 400, (path, response.status)
        try:
            assert_no_serious_axe_violations(page)
        except AssertionError as error:
            problems.append(f"{path}: {error}")
        if overflows_horizontally(page):
            wide = page.evaluate(
                "[...document.querySelectorAll('body *')]"
                ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
                ".slice(0, 5).map(e => e.tagName + '.' + e.className)"
            )
            problems.append(f"{path}: wider than the window ({wide})")
        save_screenshot(page, f"a11y-{(prefix or '/en').strip('/')}-{name}-{width_name}")
    assert not problems, "\n".join(problems)
