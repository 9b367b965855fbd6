"""Claim matching: POST/GET /api/v1/match/, the match page, similar cases."""

import io

import pytest
from django.core.management import call_command

from cases.models import Case
from cases.search.gazetteer import GAZETTEER
from cases.search.match import MAX_TEXT_LENGTH, analyse, gazetteer_names
from tests.conftest import SEED_FILE
from tests.factories import CaseFactory, CountryFactory, KeywordFactory

pytestmark = pytest.mark.django_db

MI6_CLAIM = "MI6 is behind the riots in Kazakhstan"


@pytest.fixture
def seed():
    call_command("import_cases", str(SEED_FILE), "--status", "published", stdout=io.StringIO())
    cases = {case.title: case for case in Case.objects.all()}
    return {
        "mi6": cases["The ears of MI6 stick out from everything that happens in Kazakhstan"],
        "lithuania": cases["Lithuania has nothing to boast about compared to Soviet times"],
        "terror": cases[
            "The West ordered terrorist attack in Kazakhstan to create hotbed at Russia’s border"
        ],
    }


def api_ids(response):
    assert response.status_code == 200, response.content
    return [match["id"] for match in response.json()["results"]]


def page_ids(response):
    assert response.status_code == 200
    return [match.id for match in response.context_data["matches"]]


class TestTheSeed:
    def test_the_mi6_claim_finds_the_mi6_case_first_through_the_api(self, api_client, seed):
        response = api_client.get("/api/v1/match/", {"text": MI6_CLAIM})
        assert api_ids(response)[0] == seed["mi6"].pk
        first = response.json()["results"][0]
        assert {"MI6", "Kazakhstan"} <= set(first["why"]["terms"])
        assert {"kind": "keyword", "name": "MI6"} in first["why"]["entities"]
        assert {"kind": "country", "name": "Kazakhstan"} in first["why"]["entities"]
        assert 0 < first["score"] <= 1
        assert response.json()["tier"] == "lexical"

    def test_the_same_claim_posted_as_json(self, api_client, seed):
        body = {"text": MI6_CLAIM, "limit": 2}
        response = api_client.post("/api/v1/match/", body, format="json")
        ids = api_ids(response)
        assert ids[0] == seed["mi6"].pk and len(ids) == 2

    def test_the_mi6_claim_finds_the_mi6_case_first_on_the_site(self, client, seed):
        response = client.get("/match/", {"text": MI6_CLAIM})
        assert page_ids(response)[0] == seed["mi6"].pk
        html = response.content.decode()
        # The first result shown is the MI6 case; which others follow depends on statistics.
        assert html.index(seed["mi6"].title) < html.index('class="match-why"')
        assert "Shared names" in html and "not set up on this server" in html

    @pytest.mark.parametrize(
        "text",
        [
            # Reworded, words reordered, inflected.
            "In Kazakhstan, the riots are the work of British MI-6",
            "Kazakh unrest: British intelligence sticks its ears out",
            # Cyrillic, names transliterated and inflected.
            "Британская МИ-6 стоит за беспорядками в Казахстане",
        ],
    )
    def test_a_reworded_claim_finds_its_case_first(self, api_client, seed, text):
        assert api_ids(api_client.get("/api/v1/match/", {"text": text}))[0] == seed["mi6"].pk

    def test_a_reworded_lithuania_claim_finds_its_case_first(self, api_client, seed):
        text = "Compared with Soviet times, Lithuanians have nothing to boast of now"
        ids = api_ids(api_client.get("/api/v1/match/", {"text": text}))
        assert ids[0] == seed["lithuania"].pk


class TestDrafts:
    def test_drafts_never_match_anonymously(self, api_client, client, seed):
        draft = CaseFactory(title=MI6_CLAIM, summary=MI6_CLAIM, status=Case.Status.DRAFT)
        in_review = CaseFactory(title=MI6_CLAIM, status=Case.Status.IN_REVIEW)
        hidden = {draft.pk, in_review.pk}
        assert not hidden & set(api_ids(api_client.get("/api/v1/match/", {"text": MI6_CLAIM})))
        assert not hidden & set(page_ids(client.get("/match/", {"text": MI6_CLAIM})))
        similar = api_client.get(f"/api/v1/cases/{seed['mi6'].pk}/similar/")
        assert not hidden & set(api_ids(similar))
        # ... and a draft's own similar cases are not public either.
        assert api_client.get(f"/api/v1/cases/{draft.pk}/similar/").status_code == 404

    def test_editors_duplicate_warning_sees_drafts(self, seed):
        from cases.search.similar import similar_cases

        draft = CaseFactory(title=MI6_CLAIM, status=Case.Status.DRAFT)
        found = similar_cases(MI6_CLAIM, "")
        assert draft.pk in [case.pk for case in found]


class TestFilters:
    def test_filters_narrow_the_matches(self, api_client, seed):
        lithuania = CountryFactory(name="Lithuania")
        CaseFactory(title="MI6 is behind protests in Lithuania", countries=[lithuania])
        everywhere = api_ids(api_client.get("/api/v1/match/", {"text": MI6_CLAIM}))
        narrowed = api_ids(
            api_client.get("/api/v1/match/", {"text": MI6_CLAIM, "country": "lithuania"})
        )
        assert seed["mi6"].pk in everywhere and seed["mi6"].pk not in narrowed
        cases = Case.objects.filter(pk__in=narrowed)
        assert narrowed and all(c.countries.filter(slug="lithuania").exists() for c in cases)

    def test_date_filters_narrow_the_matches_on_the_page_too(self, client, seed):
        later = CaseFactory(title="MI6 stirred the Kazakhstan riots", date="2024-05-01")
        ids = page_ids(client.get("/match/", {"text": MI6_CLAIM, "date_after": "2023-01-01"}))
        assert ids == [later.pk]

    def test_a_filter_in_the_query_string_narrows_a_post(self, api_client, seed):
        lithuania = CountryFactory(name="Lithuania")
        other = CaseFactory(title="MI6 organised riots in Lithuania", countries=[lithuania])
        response = api_client.post(
            "/api/v1/match/?country=lithuania", {"text": MI6_CLAIM}, format="json"
        )
        assert api_ids(response) == [other.pk]


class TestBadInput:
    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"text": ""}, "text"),
            ({"text": "   "}, "text"),
            ({}, "text"),
            ({"text": "x" * (MAX_TEXT_LENGTH + 1)}, "text"),
            ({"text": MI6_CLAIM, "colour": "red"}, "colour"),
            ({"text": MI6_CLAIM, "ordering": "-date"}, "ordering"),
            ({"text": MI6_CLAIM, "limit": "0"}, "limit"),
            ({"text": MI6_CLAIM, "limit": "many"}, "limit"),
            ({"text": MI6_CLAIM, "country": "atlantis"}, "country"),
            ({"text": MI6_CLAIM, "date_after": "yesterday"}, "date_after"),
            # PostgreSQL refuses an offset of 16 hours or more: a 400, not a 500.
            ({"text": MI6_CLAIM, "updated_since": "0498-05-04T08:54:40+22:56"}, "updated_since"),
        ],
    )
    def test_a_400_names_the_field(self, api_client, client, seed, params, field):
        response = api_client.get("/api/v1/match/", params)
        assert response.status_code == 400
        assert field in [error["field"] for error in response.json()["errors"]]
        page = client.get("/match/", params or {"text": ""})
        assert page.status_code == 400
        assert f"<strong>{field}</strong>" in page.content.decode()

    def test_a_post_with_bad_fields_gets_a_400_naming_them(self, api_client, seed):
        response = api_client.post("/api/v1/match/", {"text": "", "tone": 1}, format="json")
        assert response.status_code == 400
        assert {e["field"] for e in response.json()["errors"]} == {"text", "tone"}
        response = api_client.post("/api/v1/match/", ["not", "an", "object"], format="json")
        assert response.status_code == 400

    def test_similar_refuses_unknown_parameters_and_bad_limits(self, api_client, seed):
        url = f"/api/v1/cases/{seed['mi6'].pk}/similar/"
        assert api_client.get(url, {"text": "x"}).json()["errors"][0]["field"] == "text"
        assert api_client.get(url, {"limit": "0"}).json()["errors"][0]["field"] == "limit"
        assert api_client.get("/api/v1/cases/999999/similar/").status_code == 404


class TestSimilarCases:
    def test_related_cases_come_first_then_the_most_similar(self, api_client, seed):
        unrelated_looking = CaseFactory(title="Vaccines contain microchips")
        mi6 = seed["mi6"]
        from cases.services import editing

        editing.save_case(mi6, related=[unrelated_looking])
        response = api_client.get(f"/api/v1/cases/{mi6.pk}/similar/")
        results = response.json()["results"]
        assert results[0]["id"] == unrelated_looking.pk and results[0]["related"] is True
        others = results[1:]
        assert others and all(not r["related"] for r in others)
        assert mi6.pk not in [r["id"] for r in results]
        # The other Kazakhstan cases are the most similar.
        assert others[0]["id"] == seed["terror"].pk or "Kazakhstan" in others[0]["title"]

    def test_the_case_page_links_its_similar_cases_which_load_after_it(self, client, seed):
        case = seed["terror"]
        html = client.get(case.get_absolute_url()).content.decode()
        section = html[html.index('id="similar-heading"') :]
        similar_url = f"{case.get_absolute_url()}similar/"
        assert f'data-similar="{similar_url}"' in html and f'href="{similar_url}"' in section
        assert "js/similar.js" in html

        page = client.get(similar_url)
        listed = page.content.decode()
        listed = listed[listed.index('id="similar-list"') :]
        assert seed["mi6"].title in listed
        assert seed["lithuania"].title not in listed
        assert case.title not in listed[: listed.index("Match this claim yourself")]

    def test_the_similar_page_of_a_draft_is_not_found_and_an_old_slug_redirects(self, client, seed):
        draft = CaseFactory(title="MI6 draft about Kazakhstan", status=Case.Status.DRAFT)
        assert client.get(f"/cases/{draft.pk}/{draft.slug}/similar/").status_code == 404
        mi6 = seed["mi6"]
        response = client.get(f"/cases/{mi6.pk}/old-slug/similar/")
        assert response.status_code == 301
        assert response["Location"] == f"{mi6.get_absolute_url()}similar/"

    def test_the_similar_page_of_a_case_like_no_other_says_so(self, client, db):
        case = CaseFactory(title="Zyxwvut qponmlk", summary="Nothing like anything else.")
        html = client.get(f"{case.get_absolute_url()}similar/").content.decode()
        assert "No other case is much like this one." in html


class TestQueryCounts:
    def test_the_similar_page_takes_three_queries(self, client, seed, django_assert_num_queries):
        # 1. the case; 2. the terms and names of its text; 3. the ranked matches
        with django_assert_num_queries(3):
            client.get(f"{seed['mi6'].get_absolute_url()}similar/")

    def test_a_match_takes_two_queries(self, api_client, seed, django_assert_num_queries):
        # 1. the text's terms with their statistics, and the countries and keywords it names
        # 2. the candidates through the GIN index, ranked, with what they share
        with django_assert_num_queries(2):
            api_client.get("/api/v1/match/", {"text": MI6_CLAIM})

    def test_a_filtered_match_takes_three(self, api_client, seed, django_assert_num_queries):
        # 1. the country the filter names, by its slug
        # 2-3. as above
        with django_assert_num_queries(3):
            api_client.get("/api/v1/match/", {"text": MI6_CLAIM, "country": "kazakhstan"})

    def test_similar_cases_take_three_queries(self, api_client, seed, django_assert_num_queries):
        # 1. the case as its page reads it, with its related cases
        # 2-3. the match of its title and summary
        with django_assert_num_queries(3):
            api_client.get(f"/api/v1/cases/{seed['mi6'].pk}/similar/")


class TestAnalysis:
    def test_every_gazetteer_variant_is_recognised_in_a_sentence(self):
        for canonical, (_, variants) in GAZETTEER.items():
            for variant in (canonical, *variants):
                found = [name for name, _ in gazetteer_names(f"They say {variant} did it.")]
                assert canonical in found, variant

    def test_cyrillic_names_are_transliterated_and_inflections_recognised(self):
        assert [n for n, _ in gazetteer_names("Зеленского и Путина")] == ["Zelensky", "Putin"]

    def test_taxonomy_names_in_the_text_are_entities(self):
        KeywordFactory(name="Colour revolutions")
        CountryFactory(name="UK")
        CountryFactory(name="US")
        found = analyse("A colour revolution staged by the UK; it worries us.")
        names = {(e.kind, e.name) for e in found.entities}
        assert ("keyword", "Colour revolutions") in names and ("country", "UK") in names
        # "us" in lower case is a pronoun, not the country.
        assert ("country", "US") not in names

    def test_word_order_and_inflection_do_not_change_the_terms(self):
        one = {t[0] for t in analyse("The riots in Kazakhstan were organised by MI6").terms}
        two = {t[0] for t in analyse("MI6 organises riot in Kazakhstan").terms}
        assert one == two
