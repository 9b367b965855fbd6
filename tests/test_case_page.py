"""The case page's machine-readable and citable parts: JSON-LD, meta tags, citation, dates."""

import datetime
import json
import re

import pytest
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from cases.case_page import published_case_for_page
from cases.claimreview import citation, claim_review, permalink
from cases.models import Case, CorrectionNote
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

JSON_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.DOTALL)


@pytest.fixture
def case():
    case = CaseFactory(
        title="The ears of MI6",
        summary="What the outlet said.",
        date=datetime.date(2022, 1, 3),
        keywords=[KeywordFactory(name="MI6")],
    )
    Case.objects.filter(pk=case.pk).update(
        published_at=datetime.datetime(2022, 1, 10, 9, 30, tzinfo=datetime.UTC),
        updated_at=datetime.datetime(2023, 5, 2, 14, 0, tzinfo=datetime.UTC),
    )
    AppearanceFactory(
        case=case,
        outlet=OutletFactory(name="Sputnik", domain="sputniknews.com"),
        url="https://sputnik.example/a",
        archive_url="https://archive.example/a",
    )
    AppearanceFactory(case=case, outlet=None, url="https://blog.example/b", archive_url="")
    return Case.objects.get(pk=case.pk)


def page_html(client, case):
    response = client.get(case.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def json_ld(html):
    blocks = JSON_LD.findall(html)
    assert len(blocks) == 1
    return json.loads(blocks[0])


def test_the_claim_review_json_ld_parses_and_has_every_field(client, case, settings):
    settings.SITE_ORGANISATION = "East StratCom Task Force"

    data = json_ld(page_html(client, case))

    url = f"http://testserver/cases/{case.pk}/the-ears-of-mi6/"
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "ClaimReview"
    assert data["url"] == url
    assert data["claimReviewed"] == "The ears of MI6"
    assert data["datePublished"] == "2022-01-10"
    assert data["dateModified"] == "2023-05-02T14:00:00+00:00"
    assert data["author"] == {
        "@type": "Organization",
        "name": "East StratCom Task Force",
        "url": "http://testserver/",
    }
    assert data["reviewRating"]["@type"] == "Rating"
    assert data["reviewRating"]["alternateName"] == "Disinformation"
    assert data["keywords"] == "MI6"
    claim = data["itemReviewed"]
    assert claim["@type"] == "Claim"
    assert claim["datePublished"] == "2022-01-03"
    assert claim["appearance"] == [
        {
            "@type": "CreativeWork",
            "url": "https://sputnik.example/a",
            "archivedAt": "https://archive.example/a",
            "publisher": {
                "@type": "Organization",
                "name": "Sputnik",
                "url": "https://sputniknews.com/",
            },
        },
        {"@type": "CreativeWork", "url": "https://blog.example/b"},
    ]
    assert claim["firstAppearance"] == claim["appearance"][0]


def test_the_canonical_link_and_the_json_ld_url_agree(client, case):
    html = page_html(client, case)
    url = f"http://testserver/cases/{case.pk}/the-ears-of-mi6/"
    assert f'<link rel="canonical" href="{url}">' in html
    assert json_ld(html)["url"] == url


def test_a_case_without_date_or_appearances_still_has_valid_json_ld(client):
    case = CaseFactory(title="Bare claim", date=None)

    data = json_ld(page_html(client, case))

    assert data["itemReviewed"] == {"@type": "Claim", "name": "Bare claim", "appearance": []}
    assert "keywords" not in data


def test_markup_in_a_title_cannot_break_out_of_the_json_ld_script(client):
    case = CaseFactory(title='Claim </script><script>alert("x")</script> & more')

    html = page_html(client, case)

    assert '</script><script>alert("x")' not in html
    assert json_ld(html)["claimReviewed"] == case.title


def test_open_graph_and_twitter_tags_describe_the_case(client, case):
    html = page_html(client, case)
    url = f"http://testserver/cases/{case.pk}/the-ears-of-mi6/"
    for tag in (
        '<meta property="og:type" content="article">',
        '<meta property="og:title" content="Disinformation: The ears of MI6">',
        '<meta property="og:description" content="What the outlet said.">',
        f'<meta property="og:url" content="{url}">',
        '<meta property="og:site_name" content="Disinfo DB">',
        '<meta property="article:published_time" content="2022-01-10T09:30:00+00:00">',
        '<meta property="article:tag" content="MI6">',
        '<meta name="twitter:card" content="summary">',
        '<meta name="twitter:title" content="Disinformation: The ears of MI6">',
        '<meta name="twitter:description" content="What the outlet said.">',
    ):
        assert tag in html, tag


def test_the_cite_block_gives_the_permalink_and_a_formatted_citation(client, case):
    html = page_html(client, case)
    permalink = f"http://testserver/cases/{case.pk}/"
    assert f'Permanent link: <a href="{permalink}">{permalink}</a>' in html
    assert (
        f"<cite>Disinfo DB, &#34;The ears of MI6&#34;, case {case.pk}, "
        f"published 10 January 2022, {permalink}</cite>"
    ) in html


def test_the_permalink_leads_to_the_case(client, case):
    response = client.get(f"/cases/{case.pk}/", follow=True)
    assert response.redirect_chain == [(case.get_absolute_url(), 301)]


def test_the_page_shows_when_the_case_was_published_and_last_updated(client, case):
    html = page_html(client, case)
    assert "Published on the database:" in html
    assert '<time datetime="2022-01-10T09:30:00+00:00">10 January 2022</time>' in html
    assert "Last updated:" in html
    assert '<time datetime="2023-05-02T14:00:00+00:00">2 May 2023</time>' in html


def test_the_case_page_query_count_does_not_grow_with_appearances(
    client, case, django_assert_num_queries
):
    # One query: the case with its issue, languages, countries, keywords, appearances with
    # outlets, published related cases and correction notes.
    with django_assert_num_queries(1):
        client.get(case.get_absolute_url())
    for _ in range(3):
        AppearanceFactory(case=case)
    case.keywords.add(KeywordFactory(name="NATO"))
    case.related.add(CaseFactory(), CaseFactory(status=Case.Status.DRAFT))
    CorrectionNote.objects.create(case=case, text="Fixed a date.")
    with django_assert_num_queries(1):
        client.get(case.get_absolute_url())


@pytest.fixture
def full_case():
    """A case with some of everything a page shows, in orders a mistake would upset."""
    case = CaseFactory(
        title="Everything at once",
        disproof="See [the report](https://example.org/r) and *this*.",
        issue=IssueFactory(number=401),
        keywords=[KeywordFactory(name="Zapad"), KeywordFactory(name="ammunition")],
        countries=[CountryFactory(name="Ukraine"), CountryFactory(name="EU", kind="region")],
        languages=[LanguageFactory(code="ru", name="Russian"), LanguageFactory(code="en")],
    )
    AppearanceFactory(case=case, outlet=OutletFactory(name="RT", domain=""), archive_url="")
    AppearanceFactory(case=case, outlet=None, url="https://blog.example/b")
    AppearanceFactory(case=case, outlet=OutletFactory(name="Sputnik"), url="")
    case.related.add(
        CaseFactory(title="Older", date=datetime.date(2019, 5, 1)),
        CaseFactory(title="Undated", date=None),
        CaseFactory(title="Newer", date=datetime.date(2023, 2, 1)),
        CaseFactory(title="A draft", status=Case.Status.DRAFT),
    )
    CorrectionNote.objects.create(case=case, text="Second <b>note</b>.")
    CorrectionNote.objects.create(
        case=case, text="First note.", created_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )
    return case


def from_the_orm(pk):
    """The case as prefetch_related() would load it for the page."""
    published_related = Prefetch(
        "related", queryset=Case.objects.published().only("id", "title", "slug", "date")
    )
    return (
        Case.objects.published()
        .with_related_data()
        .prefetch_related(published_related, "correction_notes")
        .get(pk=pk)
    )


def fields(obj):
    return {name: value for name, value in vars(obj).items() if not name.startswith("_")}


def test_the_one_query_reads_what_the_orm_prefetches_in_the_same_order(
    full_case, django_assert_num_queries
):
    expected = from_the_orm(full_case.pk)

    with django_assert_num_queries(1):
        case = published_case_for_page(full_case.pk)
        related = {
            name: list(getattr(case, name).all())
            for name in (
                "languages",
                "countries",
                "keywords",
                "appearances",
                "related",
                "correction_notes",
            )
        }
        outlets = [appearance.outlet for appearance in related["appearances"]]
        issue = case.issue

    assert fields(case) == fields(expected)
    assert fields(issue) == fields(expected.issue)
    for name, objects in related.items():
        assert [fields(o) for o in objects] == [fields(o) for o in getattr(expected, name).all()]
    assert [o and fields(o) for o in outlets] == [
        a.outlet and fields(a.outlet) for a in expected.appearances.all()
    ]
    assert [r.title for r in related["related"]] == ["Undated", "Newer", "Older"]
    assert [n.text for n in related["correction_notes"]] == ["First note.", "Second <b>note</b>."]


def test_the_page_renders_the_same_as_from_the_orm(rf, full_case):
    request = rf.get(full_case.get_absolute_url())

    def page(case):
        context = {
            "case": case,
            "claim_review": claim_review(case, request),
            "citation": citation(case, request),
            "permalink": permalink(case, request),
        }
        return render_to_string("cases/case_detail.html", context, request)

    html = page(published_case_for_page(full_case.pk))

    assert html == page(from_the_orm(full_case.pk))
    assert "Undated" in html and "A draft" not in html


def test_only_published_cases_are_read_for_a_page():
    draft = CaseFactory(status=Case.Status.DRAFT)
    assert published_case_for_page(draft.pk) is None
    assert published_case_for_page(draft.pk + 1000) is None


def test_the_citation_date_is_the_publication_on_the_database_not_the_claim_date(client):
    case = CaseFactory(title="Dated claim", date=datetime.date(2019, 6, 1))
    published = timezone.localdate(Case.objects.get(pk=case.pk).published_at)
    html = page_html(client, case)
    assert f"published {published.day} {published:%B %Y}" in html


@pytest.mark.django_db
def test_an_id_too_long_for_a_case_is_a_404(client):
    assert client.get(f"/cases/{'9' * 25}/").status_code == 404
    assert client.get(f"/cases/{'9' * 25}/some-slug/").status_code == 404


def test_a_case_url_is_its_path_made_absolute(rf, settings, full_case):
    from cases.api.serializers import absolute_case_url

    settings.ALLOWED_HOSTS = ["cases.example.org"]
    path = full_case.get_absolute_url()
    request = rf.get("/", HTTP_HOST="cases.example.org", secure=True)
    assert absolute_case_url(full_case, request) == request.build_absolute_uri(path)
    assert absolute_case_url(full_case, request).startswith("https://cases.example.org/cases/")
    settings.SITE_URL = "https://disinfo.example.net/"
    assert absolute_case_url(full_case) == f"https://disinfo.example.net{path}"
