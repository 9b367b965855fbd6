"""In a real browser: a page on another origin reads the API, fresh, kept and revalidated."""

import pytest

from cases.freshness import cache
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Runs in a page of one origin (localhost), reading the API on another (127.0.0.1).
READ_THREE_TIMES = """async (url) => {
  const first = await fetch(url, {mode: "cors"});
  const etag = first.headers.get("ETag");
  const firstBody = await first.json();
  const kept = await fetch(url, {mode: "cors", cache: "no-store"});
  const keptBody = await kept.json();
  const revalidated = await fetch(url, {
    mode: "cors", cache: "no-store", headers: {"If-None-Match": etag},
  });
  return {
    statuses: [first.status, kept.status, revalidated.status],
    etag: etag,
    lastModified: first.headers.get("Last-Modified"),
    titles: [firstBody.results.map(c => c.title), keptBody.results.map(c => c.title)],
  };
}"""


def test_a_page_on_another_origin_reads_fresh_kept_and_revalidated_answers(
    page, live_server, settings
):
    settings.PAGE_CACHE = True
    cache.clear()
    CaseFactory(title="NATO is at the border")
    assert live_server.url.startswith("http://localhost:")
    api_url = live_server.url.replace("localhost", "127.0.0.1") + "/api/v1/cases/"

    page.goto(f"{live_server.url}/cases/")
    result = page.evaluate(READ_THREE_TIMES, api_url)

    assert result["statuses"] == [200, 200, 304]
    assert result["etag"] and result["lastModified"]
    assert result["titles"] == [["NATO is at the border"], ["NATO is at the border"]]
