"""Every kind of page, public or the editors', loads under the Content-Security-Policy
with no inline script or style refused: the browser reports no violation at all."""

import pytest
from django.contrib.auth.models import User

from cases.models import Case
from tests.factories import AppearanceFactory, CaseFactory, CountryFactory, KeywordFactory

pytestmark = pytest.mark.django_db(transaction=True)

PUBLIC_PAGES = [
    "/",
    "/cases/",
    "/cases/?q=biolabs&keyword=nato",
    "{case}",
    "{case}similar/",
    "/keywords/",
    "/countries/",
    "/languages/",
    "/outlets/",
    "/issues/",
    "/stats/",
    "/match/",
    "/corrections/",
    "/cases/404-no-such-page/",
    "/api/v1/cases/",
    "/api/v1/keywords/",
    "/api/docs/",
    "/api/redoc/",
]
ADMIN_PAGES = [
    "/admin/",
    "/admin/cases/case/",
    "/admin/cases/case/add/",
    "/admin/cases/case/{pk}/change/",
    "/admin/cases/case/{pk}/duplicates/",
    "/admin/cases/case/{pk}/history/",
    "/admin/cases/keyword/",
    "/admin/auth/user/",
]


# What the policy is there to refuse: Redoc's bundle shows a logo from the Redocly CDN, and
# the site makes no request elsewhere (cases.api.views.OfflineRedocView).
REFUSED_ON_PURPOSE = ("https://cdn.redoc.ly/",)


def is_violation(text):
    return "Content Security Policy" in text and not any(url in text for url in REFUSED_ON_PURPOSE)


@pytest.fixture
def strict_page(chromium):
    """A page that records every CSP violation: the browser's console messages about the
    policy and the securitypolicyviolation events the document fires."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.violations = []
    page.on(
        "console",
        lambda message: (
            is_violation(message.text) and page.violations.append(f"{page.url}: {message.text}")
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy event: ' + e.violatedDirective + ' '"
        " + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber))"
    )
    yield page
    context.close()


def visit(page, url):
    response = page.goto(url)
    page.wait_for_load_state("networkidle")
    return response


def published_case():
    case = CaseFactory(
        title="NATO hides biolabs",
        keywords=[KeywordFactory(name="NATO"), KeywordFactory(name="Biolabs")],
        countries=[CountryFactory(name="Ukraine")],
    )
    AppearanceFactory(case=case)
    CaseFactory(title="Biolabs again", keywords=case.keywords.all())
    return case


def test_public_pages_and_the_api_docs_raise_no_csp_violation(strict_page, live_server):
    case = published_case()
    for path in PUBLIC_PAGES:
        url = live_server.url + path.format(case=case.get_absolute_url())
        response = visit(strict_page, url)
        assert response.status in (200, 404), url
        assert "'unsafe-inline'" not in (response.header_value("content-security-policy") or "")
        if path.startswith(("/api/docs/", "/api/redoc/")):  # the docs' scripts did run
            assert strict_page.get_by_text("Disinfo DB API").first.is_visible(), path
    assert not strict_page.violations, "\n".join(strict_page.violations)


def test_the_admin_raises_no_csp_violation(strict_page, live_server):
    case = published_case()
    User.objects.create_superuser("csp-admin", password="a long passphrase")
    visit(strict_page, live_server.url + "/admin/login/")
    strict_page.fill("#id_username", "csp-admin")
    strict_page.fill("#id_password", "a long passphrase")
    strict_page.click("input[type=submit]")
    strict_page.wait_for_url(live_server.url + "/admin/")

    for path in ADMIN_PAGES:
        response = visit(strict_page, live_server.url + path.format(pk=case.pk))
        assert response.status == 200, path
    assert Case.objects.count() == 2
    assert not strict_page.violations, "\n".join(strict_page.violations)
