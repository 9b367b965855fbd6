"""The cases as linked data: schema.org ClaimReview, read as a JSON-LD processor reads it.

pyld expands the API's JSON-LD with a document loader that fetches nothing: the list
inlines its context, and the one-case form names schema.org's, served here from memory with
the vocabulary schema.org's context declares (http://schema.org/).
"""

import datetime
import json
import re

import pytest
from pyld import jsonld

from cases.models import Case
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    LanguageFactory,
    OutletFactory,
)

pytestmark = pytest.mark.django_db

SCHEMA = "http://schema.org/"
JSON_LD_SCRIPT = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.DOTALL)


def offline_loader(url, options=None):
    """schema.org's context, reduced to its vocabulary; any other URL is refused."""
    if url.rstrip("/") in ("https://schema.org", "http://schema.org"):
        document = {"@context": {"@vocab": SCHEMA}}
        return {"contextUrl": None, "documentUrl": url, "document": document}
    raise AssertionError(f"JSON-LD processing tried to fetch {url}")


def expand(document):
    return jsonld.expand(document, {"documentLoader": offline_loader})


def value(node, name):
    return node[SCHEMA + name][0]


@pytest.fixture
def cases():
    russian, german = LanguageFactory(code="ru"), LanguageFactory(code="de")
    sputnik = OutletFactory(name="Sputnik", domain="sputniknews.com")
    rt = OutletFactory(name="RT", domain="rt.com")
    full = CaseFactory(title="Two outlets", date=datetime.date(2022, 1, 3))
    full.languages.set([russian, german])
    AppearanceFactory(case=full, outlet=sputnik, url="https://sputniknews.com/a")
    AppearanceFactory(case=full, outlet=rt, url="https://rt.com/b", archive_url="")
    AppearanceFactory(case=full, outlet=sputnik, url="https://sputniknews.com/c")
    one = CaseFactory(title="One outlet", date=datetime.date(2021, 5, 1))
    one.languages.set([russian])
    AppearanceFactory(case=one, outlet=rt, url="https://rt.com/d")
    bare = CaseFactory(title="Undated, nowhere", date=None)
    CaseFactory(title="A draft", status=Case.Status.DRAFT)
    return {"full": full, "one": one, "bare": bare}


def test_the_json_ld_list_expands_to_one_claim_review_per_case(api_client, cases):
    response = api_client.get("/api/v1/cases/?format=jsonld&page_size=2")
    body = response.json()

    assert set(body) == {"@context", "@graph", "count", "approximate", "next", "previous"}
    nodes = expand(body)
    assert [node["@type"] for node in nodes] == [[SCHEMA + "ClaimReview"]] * 2
    assert response["Link"] == f'<{body["next"]}>; rel="next"'

    everything = expand(api_client.get("/api/v1/cases.jsonld?page_size=500").json())
    reviewed = sorted(value(node, "claimReviewed")["@value"] for node in everything)
    assert reviewed == ["One outlet", "Two outlets", "Undated, nowhere"]
    # The page's own members are not data.
    assert not any(key.endswith(("count", "next", "previous")) for n in everything for key in n)


def test_a_case_s_json_ld_expands_with_schema_org_s_context(api_client, cases):
    body = api_client.get(f"/api/v1/cases/{cases['one'].pk}.jsonld").json()

    (node,) = expand(body)

    listed = expand(api_client.get("/api/v1/cases.jsonld?page_size=500").json())
    assert node in listed  # the same data in both forms

    assert node["@type"] == [SCHEMA + "ClaimReview"]
    claim = value(node, "itemReviewed")
    assert claim["@type"] == [SCHEMA + "Claim"]
    assert value(claim, "author")["@type"] == [SCHEMA + "Organization"]


def test_the_claim_names_its_outlets_languages_date_and_appearances(api_client, cases):
    full = cases["full"]
    review = api_client.get(f"/api/v1/cases/{full.pk}.jsonld").json()

    claim = review["itemReviewed"]
    assert claim["author"] == [
        {"@type": "Organization", "name": "Sputnik", "url": "https://sputniknews.com/"},
        {"@type": "Organization", "name": "RT", "url": "https://rt.com/"},
    ]
    assert sorted(claim["inLanguage"]) == ["de", "ru"]
    assert claim["datePublished"] == "2022-01-03"
    assert [work["url"] for work in claim["appearance"]] == [
        "https://sputniknews.com/a",
        "https://rt.com/b",
        "https://sputniknews.com/c",
    ]
    assert all(work["@type"] == "CreativeWork" for work in claim["appearance"])
    assert claim["firstAppearance"] == claim["appearance"][0]
    for name in ("claimReviewed", "url", "datePublished"):
        assert review[name]
    assert review["author"]["@type"] == "Organization"
    assert review["reviewRating"]["alternateName"] == "Disinformation"


def test_one_outlet_and_one_language_are_single_values(api_client, cases):
    claim = api_client.get(f"/api/v1/cases/{cases['one'].pk}.jsonld").json()["itemReviewed"]
    assert claim["author"] == {"@type": "Organization", "name": "RT", "url": "https://rt.com/"}
    assert claim["inLanguage"] == "ru"


def test_an_undated_case_without_appearances_leaves_those_members_out(api_client, cases):
    review = api_client.get(f"/api/v1/cases/{cases['bare'].pk}.jsonld").json()

    assert review["itemReviewed"] == {"@type": "Claim", "name": "Undated, nowhere"}
    assert review["datePublished"]  # the review's date: when the case was published here
    assert "[]" not in json.dumps(review)


def test_the_case_page_and_the_api_give_the_same_markup(client, api_client, cases):
    case = cases["full"]
    page = client.get(case.get_absolute_url()).content.decode()
    (script,) = JSON_LD_SCRIPT.findall(page)

    assert json.loads(script) == api_client.get(f"/api/v1/cases/{case.pk}.jsonld").json()
