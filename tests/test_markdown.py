"""The disproof is Markdown written by editors, rendered on public pages: it must never
carry script, event handlers or unsafe URLs, whatever is typed into it."""

import pytest

from cases.site.page_filters import render_markdown
from tests.editors import make_user
from tests.factories import CaseFactory

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<svg onload="alert(1)"><circle/></svg>',
    "<scr<script>ipt>alert(1)</script>",
    '<form action="https://evil.example"><input name="q"></form>',
    "[x](vbscript:msgbox(1))",
]
FORBIDDEN = [
    "<script",
    "onerror",
    "onclick",
    "onload",
    "javascript:",
    "vbscript:",
    "data:",
    "<iframe",
    "<svg",
    "<img",
    "style=",
    "<form",
    "<input",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_and_html_is_rendered_harmless(text):
    html = render_markdown(text).lower()
    for needle in FORBIDDEN:
        assert needle not in html, (needle, html)


def test_safe_links_and_emphasis_survive_with_rel_nofollow():
    html = render_markdown("See [the report](https://example.org/report) and **this**.")
    assert '<a href="https://example.org/report" rel="nofollow noopener noreferrer">' in html
    assert "<strong>this</strong>" in html


@pytest.mark.django_db
def test_the_public_case_page_renders_a_hostile_disproof_harmlessly(client):
    case = CaseFactory(disproof='Fine text <script>alert("x")</script> [a](javascript:alert(1))')
    html = client.get(case.get_absolute_url()).content.decode()
    disproof = html.split('id="disproof-heading"')[1].split("</section>")[0]
    assert "Fine text" in disproof
    assert "<script" not in disproof and "javascript:" not in disproof


@pytest.mark.django_db
def test_the_admin_previews_the_disproof_sanitised(client):
    client.force_login(make_user("editor", "Editors"))
    response = client.post(
        "/admin/cases/case/preview-markdown/",
        {"text": "**Bold** <img src=x onerror=alert(1)> [ok](https://example.org)"},
    )
    html = response.json()["html"]
    assert "<strong>Bold</strong>" in html and 'href="https://example.org"' in html
    assert "onerror" not in html and "<img" not in html
    assert client.get("/admin/cases/case/preview-markdown/").status_code == 405


@pytest.mark.django_db
def test_the_change_page_shows_the_rendered_disproof(client):
    case = CaseFactory(disproof="A [source](https://example.org) <script>x()</script>")
    client.force_login(make_user("editor", "Editors"))
    html = client.get(f"/admin/cases/case/{case.pk}/change/").content.decode()
    preview = html.split('id="disproof-preview"')[1].split("</div>")[0]
    assert '<a href="https://example.org"' in preview and "<script" not in preview


def test_one_disproof_never_carries_over_into_the_next():
    # Link definitions are document state; each disproof starts from none.
    first = render_markdown("See [the report][r].\n\n[r]: https://example.org/first")
    second = render_markdown("See [the report][r].")

    assert 'href="https://example.org/first"' in first
    assert "example.org" not in second


def test_lists_are_rendered_as_commonmark_has_them():
    html = render_markdown("The claims:\n- one\n- two\n\n1. first\n2. second")
    assert "<p>The claims:</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert "<ol>\n<li>first</li>\n<li>second</li>\n</ol>" in html


def test_an_unsafe_link_keeps_its_text_and_loses_its_url():
    html = render_markdown("[click](javascript:alert(1)) or [read](https://example.org/r)")
    assert ">click</a>" in html and "javascript" not in html
    assert '<a href="https://example.org/r" rel="nofollow noopener noreferrer">read</a>' in html
