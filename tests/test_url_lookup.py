""" "Has this URL been debunked?": ?appearance_url= and ?appearance_domain= on every surface.

The keys are computed by cases.urlnorm (tested here without a database), stored on each
appearance by the write path, and looked up through indexes.
"""

import io
import json

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from bench import synthetic
from cases import facets, urlnorm
from cases.filters import CaseFilter
from cases.importers.base import AppearanceRef
from cases.models import Appearance, Case
from cases.services.imports import save_cases
from cases.urlnorm import NotAURL, host_key, lookup_domain, lookup_keys, lookup_url
from tests.factories import AppearanceFactory, CaseFactory, OutletFactory, edit
from tests.test_bulk_import import parsed as parsed_case

ARTICLE = "rt.com/news/552000-nato-biolabs"


@pytest.mark.parametrize(
    "spelling",
    [
        "https://rt.com/news/552000-nato-biolabs",
        "http://www.rt.com/news/552000-nato-biolabs/",
        "HTTPS://WWW.RT.COM/news/552000-nato-biolabs",
        "rt.com/news/552000-nato-biolabs",
        "https://rt.com:443/news/552000-nato-biolabs#comments",
        "https://rt.com/news/552000-nato-biolabs?utm_source=twitter&utm_medium=social",
        "https://rt.com/news/552000-nato-biolabs?fbclid=IwAR0abc&gclid=xyz",
        "https://web.archive.org/web/20220310101010/https://www.rt.com/news/552000-nato-biolabs/",
        "http://web.archive.org/web/2022id_/http:/rt.com/news/552000-nato-biolabs",
        "web.archive.org/web/*/rt.com/news/552000-nato-biolabs",
        "https://archive.ph/2022.03.10-101010/https://rt.com/news/552000-nato-biolabs",
        "https://archive.today/newest/https://www.rt.com/news/552000-nato-biolabs",
        "https://archive.is/20220310101010/rt.com/news/552000-nato-biolabs",
    ],
)
def test_spellings_of_one_article_share_a_lookup_key(spelling):
    assert lookup_url(spelling) == ARTICLE


@pytest.mark.parametrize(
    "other",
    [
        "https://rt.com/news/552000-nato-biolabs-2",
        "https://de.rt.com/news/552000-nato-biolabs",
        "https://rt.com/news/552000-NATO-biolabs",  # paths are case-sensitive
        "https://rt.com/news/552000-nato-biolabs?page=2",
        "https://rt.com:8443/news/552000-nato-biolabs",
        "https://archive.ph/AbCdE",  # a short archive id cannot be unwrapped
    ],
)
def test_other_pages_keep_other_keys(other):
    assert lookup_url(other) != ARTICLE


def test_the_parameters_that_matter_are_kept_in_order_and_the_path_in_one_encoding():
    assert lookup_url("https://x.org/a?id=3&utm_campaign=z&lang=ru") == "x.org/a?id=3&lang=ru"
    assert lookup_url("https://пример.рф/новости/") == lookup_url(
        "https://xn--e1afmkfd.xn--p1ai/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8"
    )


@pytest.mark.parametrize(
    "text", ["", "nato", "javascript:alert(1)", "ftp://rt.com/file", "http://", "https://x"]
)
def test_text_that_is_no_web_address_has_no_key(text):
    with pytest.raises(NotAURL):
        lookup_url(text)


def test_a_domain_key_is_a_prefix_of_its_subdomains_keys_only():
    assert lookup_domain("www.RT.com") == host_key("rt.com") == "com.rt."
    assert lookup_domain("https://de.rt.com/news/1") == "com.rt.de."
    assert lookup_domain("de.rt.com").startswith(lookup_domain("rt.com"))
    assert not lookup_domain("rtl.com").startswith(lookup_domain("rt.com"))
    assert not lookup_domain("rt.com.evil.example").startswith(lookup_domain("rt.com"))


def test_an_appearance_stores_the_keys_of_both_its_urls():
    assert lookup_keys(
        "https://www.rt.com/news/1/", "https://web.archive.org/web/2022/https://rt.com/news/1"
    ) == ("rt.com/news/1", "rt.com/news/1", "com.rt.", "com.rt.")
    assert lookup_keys("", "https://archive.ph/AbCdE") == (
        "",
        "archive.ph/AbCdE",
        "",
        "ph.archive.",
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://rt.com/news/552000-nato-biolabs",
        "HTTP://WWW.RT.com./news/1/",
        "https://rt.com//",
        "https://rt.com",
        "https://rt.com/a~b_c.d-e/",
        "https://archive.ph/AbCdE",
        "http://1.2.3.4/x",
        "https://www.com/x",
        "https://a..b/x",
        "https://-a.com/x",
        "https://rt-.com/x",
        "https://www./x",
        "http://" + "a" * 70 + ".com/p",
        "https://xn--e1afmkfd.xn--p1ai/",
        " https://rt.com/x ",
    ],
)
def test_the_quick_reading_of_a_plain_url_agrees_with_the_full_one(url):
    # urlnorm reads the common shape of a URL without urlsplit() (a big import has
    # hundreds of thousands); both readings give one answer.
    def read(split):
        try:
            return split()
        except NotAURL:
            return "not a URL"

    assert urlnorm.PLAIN_URL.fullmatch(url.strip())
    assert read(lambda: urlnorm._split(url)) == read(lambda: urlnorm._split_any(url.strip(), url))


# The filters, on every surface.


@pytest.fixture
def debunked(db):
    """A published case that appeared on RT (with an archived copy), and others."""
    rt = OutletFactory(name="RT", domain="rt.com")
    case = CaseFactory(title="NATO runs biolabs")
    AppearanceFactory(
        case=case,
        outlet=rt,
        url="https://www.rt.com/news/552000-nato-biolabs/",
        archive_url="https://web.archive.org/web/20220310101010/https://www.rt.com/news/552000-nato-biolabs/",
    )
    archived_only = CaseFactory(title="Known from its archived copy")
    AppearanceFactory(
        case=archived_only,
        outlet=None,
        url="https://t.me/channel/123",
        archive_url="https://archive.ph/2022.03.10-101010/https://de.rt.com/europa/1",
    )
    elsewhere = CaseFactory(title="Elsewhere")
    AppearanceFactory(
        case=elsewhere, outlet=None, url="https://rtl.com/news/552000", archive_url=""
    )
    draft = CaseFactory(title="A draft on the same page", status=Case.Status.DRAFT)
    AppearanceFactory(case=draft, outlet=rt, url="https://rt.com/news/552000-nato-biolabs")
    return {"case": case, "archived_only": archived_only, "elsewhere": elsewhere}


def api_ids(client, query):
    response = client.get(f"/api/v1/cases/?{query}")
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


@pytest.mark.parametrize(
    "url",
    [
        "https://rt.com/news/552000-nato-biolabs?utm_source=telegram",
        "http://web.archive.org/web/2023/https://rt.com/news/552000-nato-biolabs",
        "rt.com/news/552000-nato-biolabs/",
    ],
)
def test_the_api_finds_the_published_case_that_appeared_at_a_url(api_client, debunked, url):
    assert api_ids(api_client, f"appearance_url={url}") == [debunked["case"].pk]


def test_an_appearances_archived_copy_matches_the_url_it_archives(api_client, debunked):
    query = "appearance_url=https://de.rt.com/europa/1/"
    assert api_ids(api_client, query) == [debunked["archived_only"].pk]


def test_a_url_nobody_debunked_finds_nothing(api_client, debunked):
    assert api_ids(api_client, "appearance_url=https://rt.com/news/552001") == []


def test_a_domain_matches_its_subdomains_and_not_lookalikes(api_client, debunked):
    found = api_ids(api_client, "appearance_domain=rt.com")
    assert sorted(found) == sorted([debunked["case"].pk, debunked["archived_only"].pk])
    assert api_ids(api_client, "appearance_domain=de.rt.com") == [debunked["archived_only"].pk]
    assert api_ids(api_client, "appearance_domain=https://www.rtl.com/") == [
        debunked["elsewhere"].pk
    ]
    assert api_ids(api_client, "appearance_domain=t.co") == []


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("appearance_url=not a url", "appearance_url"),
        ("appearance_url=javascript:alert(1)", "appearance_url"),
        ("appearance_url=https://x.org/" + "a" * 2100, "appearance_url"),
        ("appearance_domain=localhost", "appearance_domain"),
        ("appearance_domain=rt..com", "appearance_domain"),
    ],
)
def test_a_bad_url_or_domain_is_a_400_naming_the_parameter(api_client, db, query, parameter):
    response = api_client.get(f"/api/v1/cases/?{query}")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [parameter]


def test_the_site_list_export_and_feed_take_the_same_lookup(client, debunked):
    query = "appearance_url=https://www.rt.com/news/552000-nato-biolabs?fbclid=1"
    page = client.get(f"/cases/?{query}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "NATO runs biolabs" in text
    assert "Elsewhere" not in text and "A draft" not in text
    assert "Appeared at https://www.rt.com/news/552000-nato-biolabs" in text
    # The search form keeps the lookup when it is submitted.
    assert 'type="hidden" name="appearance_url"' in text
    export = client.get(f"/cases/export/?{query}")
    exported = b"".join(export.streaming_content).decode()
    assert "NATO runs biolabs" in exported and "Elsewhere" not in exported
    assert client.get("/cases/?appearance_domain=nodot").status_code == 400


def test_facet_counts_follow_the_lookup(debunked):
    bound = CaseFilter(QueryDict("appearance_domain=rt.com"), queryset=Case.objects.published())
    assert bound.is_valid(), bound.errors
    assert facets.exact_facet_counts(bound).total == 2


@pytest.mark.django_db(transaction=True)
def test_the_facet_index_answers_lookups_as_sql_does(debunked):
    for query in ["appearance_domain=rt.com", "appearance_url=rt.com/news/552000-nato-biolabs"]:
        bound = CaseFilter(QueryDict(query), queryset=Case.objects.published())
        assert bound.is_valid()
        assert facets.index.current_index() is not None
        assert facets.facet_counts(bound) == facets.exact_facet_counts(bound), query


def test_a_lookup_costs_as_many_queries_as_any_filtered_list(api_client, debunked):
    query = "appearance_url=https://rt.com/news/552000-nato-biolabs"
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(f"/api/v1/cases/?{query}").status_code == 200
    # last change (Last-Modified), data version, count (exact SQL: the test's writes are
    # uncommitted), the data version again for the first page's ids from the index
    # (facets.newest_ids, which cannot answer with the writes uncommitted), the page's
    # cases, and their JSON
    assert len(queries) == 6
    for _ in range(5):
        AppearanceFactory(case=CaseFactory(), url="https://rt.com/news/552000-nato-biolabs")
    with CaptureQueriesContext(connection) as more:
        body = api_client.get(f"/api/v1/cases/?{query}").json()
    assert len(body["results"]) == 6
    assert len(more) == 6


def plan(sql, params):
    with connection.cursor() as cursor:
        # On tables this small the planner's choice depends on their statistics: a scan, a
        # loop over the few cases, or a walk along the case id index filtering each row.
        # With scans, plain index scans and loops priced out, only a bitmap scan is left for
        # the appearances, and it can only use an index whose condition the query gives:
        # the plan then shows which indexes the lookup can use, whatever the statistics.
        priced_out = (
            "enable_seqscan",
            "enable_indexscan",
            "enable_indexonlyscan",
            "enable_nestloop",
        )
        for setting in priced_out:
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        found = cursor.fetchone()[0]
        for setting in priced_out:
            cursor.execute(f"SET LOCAL {setting} = on")
    return json.dumps(found if not isinstance(found, str) else json.loads(found))


@pytest.mark.parametrize(
    ("query", "indexes"),
    [
        (
            "appearance_url=https://rt.com/news/552000-nato-biolabs",
            ["appearance_lookup_url_idx", "appearance_lookup_archive_idx"],
        ),
        (
            "appearance_domain=rt.com",
            ["appearance_lookup_host_idx", "appearance_lookup_ahost_idx"],
        ),
    ],
)
def test_a_lookup_reads_the_appearance_indexes_not_every_case(debunked, query, indexes):
    bound = CaseFilter(QueryDict(query), queryset=Case.objects.published())
    assert bound.is_valid()
    sql, params = bound.qs.values("id").query.sql_with_params()
    shown = plan(sql, params)
    for index in indexes:
        assert index in shown, shown


def test_every_write_path_stores_the_keys(db):
    outlet = OutletFactory(name="RT", domain="rt.com")
    edited = edit(CaseFactory(), appearances=[(outlet.pk, "https://www.rt.com/a/?utm_id=1", "")])
    imported = parsed_case(
        "An imported claim",
        appearances=[
            AppearanceRef("RT", "https://WWW.rt.com/b/", "https://archive.ph/newest/rt.com/b")
        ],
    )
    save_cases([imported], Case.Status.PUBLISHED)

    assert list(edited.appearances.values_list(*Appearance.LOOKUP_FIELDS)) == [
        ("rt.com/a", "", "com.rt.", "")
    ]
    bulk = Appearance.objects.get(case__title="An imported claim")
    assert [getattr(bulk, name) for name in Appearance.LOOKUP_FIELDS] == [
        "rt.com/b",
        "rt.com/b",
        "com.rt.",
        "com.rt.",
    ]


@pytest.mark.django_db(transaction=True)
def test_generated_appearances_carry_the_keys_lookup_keys_gives():
    synthetic.generate(20, seed=5, stream=io.StringIO())
    rows = Appearance.objects.values_list("url", "archive_url", *Appearance.LOOKUP_FIELDS)
    assert len(rows) > 20
    for url, archive_url, *keys in rows:
        assert tuple(keys) == lookup_keys(url, archive_url)
