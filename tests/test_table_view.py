"""The table view of the case list (view=table): chosen columns, headings that sort within
the ordering whitelist, and the choice kept in every link."""

import datetime
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.collation import uses_icu
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    CountryFactory,
    IssueFactory,
    KeywordFactory,
    LanguageFactory,
    OutletFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tagged_cases():
    nato, ukraine = KeywordFactory(name="NATO"), CountryFactory(name="Ukraine")
    russian, truth = LanguageFactory(code="ru", name="Russian"), OutletFactory(name="Daily Truth")
    issue = IssueFactory(number=301)
    cases = []
    for n in range(25):
        case = CaseFactory(
            title=f"Claim {n:02} about biolabs",
            date=datetime.date(2021, 1, 1) + datetime.timedelta(days=n),
            keywords=[nato],
            countries=[ukraine],
            languages=[russian],
            issue=issue,
        )
        AppearanceFactory(case=case, outlet=truth)
        cases.append(case)
    return cases


def headings(html):
    head = html[html.index("<thead>") : html.index("</thead>")]
    return [
        " ".join(re.sub(r"<[^>]+>", " ", th).split())
        for th in re.findall(r"<th .*?</th>", head, re.S)
    ]


def sort_links(html):
    head = html[html.index("<thead>") : html.index("</thead>")]
    return dict(
        (" ".join(re.sub(r"<[^>]+>", " ", text).split()), href.replace("&amp;", "&"))
        for href, text in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', head, re.S)
    )


def test_the_table_shows_the_default_columns_one_case_a_row(client, tagged_cases):
    response = client.get("/cases/?view=table")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<table class="case-table">' in html
    assert [h.rstrip(" ▼▲") for h in headings(html)] == [
        "Title",
        "Published",
        "Keywords",
        "Countries and regions",
        "Outlets",
    ]
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    assert body.count("<tr>") == 20
    assert "Claim 24 about biolabs" in body and "24 Jan 2021" in body
    assert "NATO" in body and "Ukraine" in body and "Daily Truth" in body
    assert '<article class="case-card">' not in html


def test_the_columns_are_chosen_in_the_url_in_their_order(client, tagged_cases):
    html = client.get("/cases/?view=table&cols=issue,languages,updated_at").content.decode()
    # The title always leads: it links to the case.
    assert [h.rstrip(" ▼▲") for h in headings(html)] == ["Title", "Issue", "Languages", "Updated"]
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    assert 'data-label="Issue">301</td>' in body
    assert "Russian" in body and "NATO" not in body


@pytest.mark.parametrize("cols", ["title,summary", "bogus", "date,,Keywords"])
def test_an_unknown_column_is_a_400_naming_cols(client, tagged_cases, cols):
    response = client.get(f"/cases/?view=table&cols={cols}")
    assert response.status_code == 400
    assert "cols: unknown column" in response.content.decode()


def test_an_unknown_view_is_a_400_naming_view(client, tagged_cases):
    response = client.get("/cases/?view=grid")
    assert response.status_code == 400
    assert "view: choose one of list, table." in response.content.decode()


def test_only_sortable_columns_link_and_each_link_stays_in_the_ordering_whitelist(
    client, tagged_cases
):
    html = client.get("/cases/?view=table&cols=title,date,keywords,updated_at").content.decode()
    links = sort_links(html)
    assert set(links) == {"Published ▼", "Updated"}
    assert parse_qs(urlsplit(links["Published ▼"]).query)["ordering"] == ["date"]
    assert parse_qs(urlsplit(links["Updated"]).query)["ordering"] == ["-updated_at"]
    assert 'aria-sort="descending"' in html


def test_sorting_by_date_in_the_table_puts_the_oldest_first_and_can_turn_back(client, tagged_cases):
    response = client.get("/cases/?view=table&ordering=date")
    titles = [case.title for case in response.context_data["cases"]]
    assert titles[:2] == ["Claim 00 about biolabs", "Claim 01 about biolabs"]
    html = response.content.decode()
    assert 'aria-sort="ascending"' in html
    links = sort_links(html)
    assert parse_qs(urlsplit(links["Published ▲"]).query) == {
        "view": ["table"],
        "ordering": ["-date"],
    }


def test_with_a_search_the_title_heading_sorts_by_relevance(client, tagged_cases):
    html = client.get("/cases/?view=table&q=biolabs&ordering=-date").content.decode()
    links = sort_links(html)
    assert parse_qs(urlsplit(links["Title"]).query)["ordering"] == ["relevance"]
    html = client.get("/cases/?view=table").content.decode()
    assert "Title" not in sort_links(html)


def test_the_view_and_columns_survive_paging_filtering_sorting_and_the_form(client, tagged_cases):
    response = client.get("/cases/?view=table&cols=date,issue&page_size=20")
    context = response.context_data
    keyword_link = next(
        v["url"] for f in context["facets"] if f["name"] == "keyword" for v in f["values"]
    )
    html = response.content.decode()
    for link in (
        context["next_url"],
        context["last_url"],
        context["oldest_first_url"],
        keyword_link,
        *sort_links(html).values(),
    ):
        query = parse_qs(urlsplit(link).query)
        assert query["view"] == ["table"] and query["cols"] == ["date,issue"], link
    assert ("view", "table") in context["hidden_values"]
    assert ("cols", "date,issue") in context["hidden_values"]
    following = client.get(f"/cases/{context['next_url']}")
    assert '<table class="case-table">' in following.content.decode()
    # Exports keep the order of the list.
    html = client.get("/cases/?view=table&ordering=date").content.decode()
    assert "?format=csv&amp;ordering=date" in html


def test_the_list_and_table_switch_keeps_the_query(client, tagged_cases):
    response = client.get("/cases/?keyword=nato&ordering=date")
    urls = response.context_data["view_urls"]
    assert parse_qs(urlsplit(urls["table"]).query) == {
        "keyword": ["nato"],
        "ordering": ["date"],
        "view": ["table"],
    }
    html = response.content.decode()
    assert 'aria-current="page">List</span>' in html
    table = client.get(f"/cases/{urls['table']}")
    back = table.context_data["view_urls"]["list"]
    assert parse_qs(urlsplit(back).query) == {"keyword": ["nato"], "ordering": ["date"]}
    assert 'aria-current="page">Table</span>' in table.content.decode()


def test_the_table_reads_as_many_queries_as_the_list_whatever_it_holds(client):
    def queries(url):
        with CaptureQueriesContext(connection) as context:
            response = client.get(url)
            assert response.status_code == 200 and response.content
        return len(context.captured_queries)

    every_column = (
        "/cases/?view=table&cols=title,date,keywords,countries,languages,outlets,issue,updated_at"
    )
    case = CaseFactory(keywords=[KeywordFactory()], countries=[CountryFactory()])
    AppearanceFactory(case=case, outlet=OutletFactory())
    uses_icu()  # asked once per process: asked here, whichever test ran first
    few = queries(every_column)
    for n in range(30):
        case = CaseFactory(
            keywords=[KeywordFactory()],
            countries=[CountryFactory()],
            languages=[LanguageFactory()],
            issue=IssueFactory(number=400 + n),
        )
        AppearanceFactory(case=case, outlet=OutletFactory())
    # As the list: the data version, the total, five facets, the page, its cases' relations
    # in one statement (the issue comes with the page), and the data version once more for
    # the first page's ids from the index (facets.newest_ids), which cannot answer with the
    # writes uncommitted.
    assert queries(every_column) == few == queries("/cases/") == 10
