"""The case page's machine-readable and citable parts: JSON-LD, meta tags, citation, dates."""

import datetime
import json
import re

import pytest
from django.utils import timezone

from cases.models import Case, CorrectionNote
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    KeywordFactory,
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

    # Members without a value are left out, not empty.
    assert data["itemReviewed"] == {"@type": "Claim", "name": "Bare claim"}
    published = case.published_at or case.created_at
    assert data["datePublished"] == timezone.localdate(published).isoformat()
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
    assert "Debunk published on the database:" in html
    assert '<time datetime="2022-01-10T09:30:00+00:00">10 January 2022</time>' in html
    assert "Last updated:" in html
    assert '<time datetime="2023-05-02T14:00:00+00:00">2 May 2023</time>' in html


def test_the_case_page_query_count_does_not_grow_with_appearances(
    client, case, django_assert_num_queries
):
    # 1. the case with its issue, languages, countries, keywords, appearances with
    #    outlets, published related cases and correction notes (its similar cases come
    #    after the page shows, from their own page)
    with django_assert_num_queries(1):
        client.get(case.get_absolute_url())
    for _ in range(3):
        AppearanceFactory(case=case)
    case.keywords.add(KeywordFactory(name="NATO"))
    case.related.add(CaseFactory(), CaseFactory(status=Case.Status.DRAFT))
    CorrectionNote.objects.create(case=case, text="Fixed a date.")
    with django_assert_num_queries(1):
        client.get(case.get_absolute_url())


def test_the_citation_date_is_the_publication_on_the_database_not_the_claim_date(client):
    case = CaseFactory(title="Dated claim", date=datetime.date(2019, 6, 1))
    published = timezone.localdate(Case.objects.get(pk=case.pk).published_at)
    html = page_html(client, case)
    assert f"published {published.day} {published:%B %Y}" in html


@pytest.mark.django_db
def test_an_id_too_long_for_a_case_is_a_404(client):
    assert client.get(f"/cases/{'9' * 25}/").status_code == 404
    assert client.get(f"/cases/{'9' * 25}/some-slug/").status_code == 404


def test_a_case_url_is_its_path_made_absolute(rf, settings, case):
    from cases.api.serializers import absolute_case_url

    settings.ALLOWED_HOSTS = ["cases.example.org"]
    path = case.get_absolute_url()
    request = rf.get("/", HTTP_HOST="cases.example.org", secure=True)
    assert absolute_case_url(case, request) == request.build_absolute_uri(path)
    assert absolute_case_url(case, request).startswith("https://cases.example.org/cases/")
    settings.SITE_URL = "https://disinfo.example.net/"
    assert absolute_case_url(case) == f"https://disinfo.example.net{path}"


def test_the_claim_date_and_the_debunk_date_are_labelled_apart(client, case):
    html = page_html(client, case)
    assert (
        '<dt>Claim published</dt><dd><time datetime="2022-01-03">3 January 2022</time></dd>'
    ) in html
    assert "<dt>Debunk published on the database:</dt>" in html
    assert "<dt>Published</dt>" not in html


def test_the_cite_block_gives_the_case_in_apa_style(client, case, settings):
    settings.SITE_ORGANISATION = "Disinfo Watch"
    html = page_html(client, case)
    assert (
        f"Disinfo Watch. (2022, January 10). The ears of MI6 [Disinformation case {case.pk}]. "
        f"Disinfo DB. http://testserver/cases/{case.pk}/"
    ) in html


def test_the_cite_block_gives_a_bibtex_entry_with_markup_escaped(client, settings):
    settings.SITE_ORGANISATION = "R&D Lab"
    case = CaseFactory(title="50% of {all} claims_x")
    Case.objects.filter(pk=case.pk).update(
        published_at=datetime.datetime(2022, 1, 10, 9, 30, tzinfo=datetime.UTC)
    )
    html = page_html(client, case)
    entry = re.search(r'<pre class="citation citation-bibtex"[^>]*><code>(.*?)</code>', html, re.S)
    assert entry.group(1) == (
        f"@misc{{disinfo_case_{case.pk},\n"
        "  author = {{R\\&amp;D Lab}},\n"
        "  title = {50\\% of \\{all\\} claims\\_x},\n"
        "  howpublished = {Disinfo DB},\n"
        f"  note = {{Disinformation case {case.pk}}},\n"
        "  year = {2022},\n"
        "  month = {1},\n"
        f"  url = {{http://testserver/cases/{case.pk}/}}\n"
        "}"
    )


def test_the_back_to_results_link_is_left_to_the_script_so_the_cached_page_is_the_same_for_all(
    client, case
):
    plain = page_html(client, case)
    from_list = client.get(
        case.get_absolute_url(), HTTP_REFERER="http://testserver/cases/?q=secret-query"
    ).content.decode()
    assert '<p class="back-to-results" hidden><a href="/cases/" data-list-path="/cases/">' in plain
    assert "secret-query" not in from_list
    assert "js/back-to-results.js" in plain


def test_related_cases_are_listed_with_their_dates(client, case):
    case.related.add(CaseFactory(title="An older twin", date=datetime.date(2021, 3, 4)))
    html = page_html(client, case)
    assert "An older twin</a> <small>(4 Mar 2021)</small>" in html


def test_every_page_footer_names_the_data_licence(client, case, settings):
    settings.DATA_LICENCE_TITLE = "Open Data Licence"
    settings.DATA_LICENCE_URL = "https://licences.example/odl"
    for path in (case.get_absolute_url(), "/cases/", "/keywords/"):
        html = client.get(path).content.decode()
        assert '<a href="https://licences.example/odl" rel="license">Open Data Licence</a>' in html


def test_the_data_page_gives_a_dataset_citation_even_before_the_first_build(client, settings):
    settings.SITE_ORGANISATION = "Disinfo Watch"
    html = client.get("/data/").content.decode()
    assert (
        "Disinfo Watch. (n.d.). Disinfo DB: published disinformation cases [Data set]. "
        "http://testserver/data/"
    ) in html
    assert "@misc{disinfo_dataset," in html
    assert "note = {Data set, licence CC-BY-4.0}" in html
