import pytest

from cases import taxonomy
from cases.importers.base import AppearanceRef, ParsedCase
from cases.models import Appearance, Case, Outlet, OutletAlias, TaxonomyRedirect
from cases.services import taxonomy as services_taxonomy
from cases.services.imports import save_cases
from tests.editors import make_user
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    CountryFactory,
    KeywordFactory,
    OutletFactory,
)

pytestmark = pytest.mark.django_db


def test_merging_keywords_moves_every_case_and_the_old_slug_redirects(client, api_client):
    keep = KeywordFactory(name="Ukraine war")
    old = KeywordFactory(name="War in Ukraine")
    both = CaseFactory(keywords=[keep, old])
    only_old = CaseFactory(keywords=[old])
    version = only_old.version

    assert services_taxonomy.merge(keep, [old]) == 2

    assert list(both.keywords.all()) == [keep]
    assert list(only_old.keywords.all()) == [keep]
    assert not type(old).objects.filter(pk=old.pk).exists()
    response = client.get("/cases/", {"keyword": "war-in-ukraine", "year": "2022"})
    assert response.status_code == 301
    assert response["Location"] == "/cases/?keyword=ukraine-war&year=2022"
    assert client.get("/cases/?keyword=ukraine-war").status_code == 200
    # Every other surface reads the old slug as the new one.
    api = api_client.get("/api/v1/cases/", {"keyword": "war-in-ukraine"})
    assert {case["id"] for case in api.json()["results"]} == {both.pk, only_old.pk}
    export = client.get("/cases/export/", {"format": "csv", "keyword": "war-in-ukraine"})
    assert export.status_code == 200
    only_old.refresh_from_db()
    assert only_old.version == version  # no edit to the case's own fields
    assert only_old.history.first().history_change_reason.startswith("Merged keyword")
    assert set(Case.objects.search('"ukraine war"')) == {both, only_old}


def test_an_unknown_slug_is_not_redirected_and_stays_an_error(client):
    KeywordFactory(name="Live")
    assert taxonomy.current_slugs("keyword", ["never-existed"]) == ["never-existed"]
    assert client.get("/cases/", {"keyword": "never-existed"}).status_code == 400


def test_a_merge_into_a_value_that_was_itself_merged_follows_the_chain(client):
    first, second, third = (KeywordFactory(name=n) for n in ("First", "Second", "Third"))
    services_taxonomy.merge(second, [first])
    services_taxonomy.merge(third, [second])
    assert taxonomy.resolve_slug("keyword", "first") == "third"
    assert taxonomy.resolve_slug("keyword", "second") == "third"
    assert taxonomy.resolve_slug("keyword", "third") == "third"
    assert taxonomy.resolve_slug("keyword", "fourth") is None


def test_merging_countries_moves_cases():
    keep, old = CountryFactory(name="Belarus"), CountryFactory(name="Byelorussia")
    case = CaseFactory(countries=[old])
    services_taxonomy.merge(keep, [old])
    assert list(case.countries.all()) == [keep]
    assert TaxonomyRedirect.objects.get(kind="country").old_slug == "byelorussia"


def test_merging_outlets_moves_appearances_and_keeps_names_and_domains_as_aliases():
    keep = OutletFactory(name="Sputnik", domain="sputniknews.com")
    old = OutletFactory(name="Sputnik Poland", domain="pl.sputniknews.com")
    appearance = AppearanceFactory(outlet=old)
    services_taxonomy.merge(keep, [old])
    appearance.refresh_from_db()
    assert appearance.outlet == keep
    assert set(keep.aliases.values_list("name", flat=True)) == {
        "Sputnik Poland",
        "pl.sputniknews.com",
    }


def test_the_importer_finds_an_outlet_by_alias_or_domain():
    outlet = OutletFactory(name="Sputnik", domain="sputniknews.com")
    OutletAlias.objects.create(outlet=outlet, name="Sputnik Poland")
    parsed = [
        ParsedCase(
            path="t", line=1, title="One", appearances=[AppearanceRef(outlet="Sputnik Poland")]
        ),
        ParsedCase(
            path="t",
            line=2,
            title="Two",
            appearances=[AppearanceRef(outlet="Sputnik PL", outlet_domain="sputniknews.com")],
        ),
    ]
    save_cases(parsed)
    assert Outlet.objects.count() == 1
    assert set(Appearance.objects.values_list("outlet_id", flat=True)) == {outlet.pk}


def test_renaming_a_keyword_changes_its_slug_and_the_old_one_redirects(client):
    keyword = KeywordFactory(name="Colour revolution")
    CaseFactory(keywords=[keyword])
    keyword.name = "Colour revolutions"
    services_taxonomy.save_value(keyword)
    assert keyword.slug == "colour-revolutions"
    response = client.get("/cases/?keyword=colour-revolution")
    assert response.status_code == 301
    assert response["Location"] == "/cases/?keyword=colour-revolutions"


def test_a_publisher_merges_keywords_in_the_admin_choosing_the_one_to_keep(client):
    keep, old = KeywordFactory(name="Keep me"), KeywordFactory(name="Merge me")
    case = CaseFactory(keywords=[old])
    client.force_login(make_user("publisher", "Publishers"))
    selected = {"action": "merge", "_selected_action": [keep.pk, old.pk]}
    page = client.post("/admin/cases/keyword/", selected).content.decode()
    assert "Choose the value to keep" in page
    client.post("/admin/cases/keyword/", {**selected, "apply": "1", "keep": keep.pk})
    assert list(case.keywords.all()) == [keep]


def test_an_editor_may_not_merge_keywords(client):
    keep, old = KeywordFactory(name="Keep me"), KeywordFactory(name="Merge me")
    client.force_login(make_user("editor", "Editors"))
    assert 'value="merge"' not in client.get("/admin/cases/keyword/").content.decode()
    selected = {"action": "merge", "_selected_action": [keep.pk, old.pk]}
    client.post("/admin/cases/keyword/", {**selected, "apply": "1", "keep": keep.pk})
    assert type(old).objects.filter(pk=old.pk).exists()
