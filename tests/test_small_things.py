"""The small things a reader notices: labels cut off, snippets, the icon, the API's pages."""

import pytest

from cases.filters import ORDERINGS
from cases.search import highlighted
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_every_ordering_label_fits_the_sidebar_select():
    # The sidebar select shows about 24 characters before it cuts the label.
    assert all(len(label) <= 20 for label in ORDERINGS.values())


def test_a_snippet_cut_from_the_middle_of_the_text_says_so_at_both_ends():
    text = "First words here. The pipeline was blown up by divers. Then more words follow."
    html = highlighted("The \x02pipeline\x03 was blown up by divers.", text)
    assert html == "… The <mark>pipeline</mark> was blown up by divers. …"


def test_a_snippet_that_is_the_whole_text_has_no_ellipsis():
    text = "The pipeline was blown up."
    assert highlighted("The \x02pipeline\x03 was blown up.", text) == (
        "The <mark>pipeline</mark> was blown up."
    )


def test_a_snippet_from_the_start_of_a_long_text_ends_with_an_ellipsis(client):
    words = " ".join(f"word{n}" for n in range(200))
    CaseFactory(title="Pipeline claim", summary=f"Pipeline story begins. {words}")
    html = client.get("/cases/?q=pipeline").content.decode()
    assert '<p class="summary snippet"><mark>Pipeline</mark> story begins. word0' in html
    snippet = html[html.index("story begins.") :]
    assert snippet[: snippet.index("<")].rstrip().endswith("word36 …")


def test_every_page_links_the_site_icon_and_favicon_ico_leads_to_it(client):
    html = client.get("/cases/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.svg"


def test_the_browsable_api_fits_a_phone_and_names_no_module(client):
    html = client.get("/api/v1/cases/", HTTP_ACCEPT="text/html").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "(cases.filters)" not in html


def test_the_api_guide_is_a_page_of_the_site_and_the_api_docs_link_it(client):
    response = client.get("/api/guide/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>The Disinfo DB API</h1>" in html
    assert "<table>" in html
    assert "<script>" not in html.split('<article class="prose api-guide">')[1]
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert "[Guide to the API](/api/guide/)" in schema.content.decode()
    assert "docs/api.md" not in schema.content.decode()


def test_the_api_guide_refuses_unknown_parameters(client):
    response = client.get("/api/guide/?page=2")
    assert response.status_code == 400
    assert "page: unknown parameter" in response.content.decode()
