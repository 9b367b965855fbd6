"""The type-ahead filters' suggestions (/cases/suggest/), the "+N" a value adds to a facet's
selection, and the one search box of the case list.

Most tests read the committed cases (tests.conftest.make_committed_cases), so that the
facet index answers as in production.
"""

import datetime
import re

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from lxml import html

from cases.facets import count, facet_counts
from cases.facets.common import name_rank
from cases.facets.index import current_index
from cases.filters import CaseFilter
from cases.models import Case, LanguageAlias
from tests.conftest import UNPUBLISHED_WORDS
from tests.factories import CaseFactory, LanguageFactory


def case_filter(query=""):
    bound = CaseFilter(QueryDict(query), queryset=Case.objects.published())
    assert bound.is_valid(), bound.errors
    return bound


def suggestions(client, query):
    response = client.get(f"/cases/suggest/?{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_typing_the_start_of_a_name_suggests_the_matching_values(committed, client):
    found = suggestions(client, "field=keyword&prefix=bio")

    biolabs = facet_counts(case_filter()).facets["keyword"]
    expected = next(value.count for value in biolabs if value.value == "biolabs")
    assert found == [
        {"value": "biolabs", "label": "Biolabs", "count": expected, "selected": False, "adds": None}
    ]


def test_accents_and_capitals_typed_do_not_matter(committed, client):
    found = suggestions(client, "field=country&prefix=UKRA%C3%8F")

    assert [value["value"] for value in found] == ["ukraine"]


def test_names_starting_with_the_text_come_before_names_containing_it(committed, client):
    found = [value["label"] for value in suggestions(client, "field=keyword&prefix=a")]

    assert found[0] == "ammunition"  # the only name starting with "a"
    assert set(found[1:]) >= {"Biolabs", "Zapad"}  # "a" inside the name


def test_suggestions_are_counted_under_the_current_filters(committed, client):
    found = suggestions(client, "field=keyword&prefix=&country=russia&limit=50")

    facet = facet_counts(case_filter("country=russia")).facets["keyword"]
    assert found
    assert {value["value"]: value["count"] for value in found} == {
        value.value: value.count for value in facet
    }


def test_in_a_facet_with_a_selection_each_value_says_how_many_cases_it_would_add(committed, client):
    found = suggestions(client, "field=keyword&prefix=&keyword=nato&limit=50")

    assert "nato" not in [value["value"] for value in found]  # already selected: a chip
    assert any(value["adds"] < value["count"] for value in found)  # some overlap nato
    now = count(case_filter("keyword=nato"))
    for value in found:
        with_it = count(case_filter(f"keyword=nato&keyword={value['value']}"))
        assert value["adds"] == with_it - now, value


def test_drafts_never_show_in_suggestions(committed, client):
    for field in ("keyword", "country", "language", "outlet"):
        response = client.get(f"/cases/suggest/?field={field}&prefix=&limit=50")
        text = response.content.decode().lower()
        assert not [word for word in UNPUBLISHED_WORDS if word in text], field
        assert not suggestions(client, f"field={field}&prefix=quok")


def test_a_suggestion_costs_one_query_the_data_version(committed, client):
    client.get("/cases/suggest/?field=outlet&prefix=e")  # the index is built once
    with CaptureQueriesContext(connection) as queries:
        found = suggestions(client, "field=outlet&prefix=e&language=ru")
    # The data version, and the language code's check by the filter.
    assert len(queries.captured_queries) == 2, [q["sql"] for q in queries.captured_queries]
    assert found


def forget_answers():
    """Empty the index's caches of answers and counts, as in a process that has not been
    asked yet (the index itself stays built)."""
    current_index().results.clear()


# Each filter's values are checked by the FilterSet, one query per parameter; the counts and
# the names come from the index whatever the field, the prefix, the limit or the filters.
SUGGEST_QUERIES = [
    ("", 1),
    ("keyword=nato", 2),
    ("keyword=nato&keyword=biolabs&country=ukraine", 3),
    ("keyword=nato&country=ukraine&language=ru", 4),
    ("year=2021&date_after=2021-03-01&issue=101", 1),
    ("q=biolabs", 1),  # the search's ids are fetched once per data version (below)
]


@pytest.mark.parametrize("field", ["keyword", "country", "language", "outlet"])
@pytest.mark.parametrize(("query", "expected"), SUGGEST_QUERIES)
def test_a_suggestion_costs_the_data_version_and_the_filters_checks_only(
    committed, client, field, query, expected
):
    client.get(f"/cases/suggest/?field={field}&{query}")  # a search's ids, fetched once
    for prefix, limit in (("", 50), ("e", 10), ("ru", 1), ("trut", 5), ("zzzz", 10)):
        forget_answers()  # nothing counted yet: cold
        path = f"/cases/suggest/?field={field}&prefix={prefix}&limit={limit}&{query}"
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, response.content
        sql = [q["sql"] for q in queries.captured_queries]
        assert len(sql) == expected, (prefix, sql)
        assert sql.count("EXECUTE read_version") == 1  # cases.freshness.dataversion


def test_a_search_s_ids_are_fetched_once_for_every_field_and_prefix(committed, client):
    forget_answers()
    current_index().id_sets.clear()
    with CaptureQueriesContext(connection) as queries:
        suggestions(client, "field=keyword&prefix=b&q=biolabs")
    # The data version, then the search's matching ids in a transaction of their own that
    # prefers the GIN index (cases.facets.index._index_scans): BEGIN, its settings, the
    # ids, COMMIT.
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) == 5, sql
    assert "websearch_to_tsquery" in sql[3]
    for field, prefix in (("keyword", "bi"), ("country", "u"), ("outlet", "d")):
        forget_answers()
        with CaptureQueriesContext(connection) as queries:
            suggestions(client, f"field={field}&prefix={prefix}&q=biolabs")
        assert len(queries.captured_queries) == 1, field


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("field=keyword&prefix=bio&page=2", "page"),
        ("prefix=bio", "field"),
        ("field=year&prefix=20", "field"),
        ("field=keyword&limit=0", "limit"),
        ("field=keyword&limit=x", "limit"),
        ("field=keyword&prefix=" + "a" * 101, "prefix"),
        ("field=keyword&keyword=no-such-keyword", "keyword"),
        ("field=keyword&date_after=yesterday", "date_after"),
    ],
)
def test_bad_parameters_are_400s_naming_them(committed, client, query, parameter):
    response = client.get(f"/cases/suggest/?{query}")

    assert response.status_code == 400
    assert parameter in [error["field"] for error in response.json()["errors"]]


@pytest.mark.django_db(transaction=True)
def test_other_names_of_a_value_find_it(client):
    spanish = LanguageFactory(code="es", name="Spanish")
    LanguageAlias.objects.create(language=spanish, name="Castellano")
    CaseFactory(date=datetime.date(2022, 1, 1), languages=[spanish])

    found = suggestions(client, "field=language&prefix=castel")

    assert [(value["value"], value["count"]) for value in found] == [("es", 1)]


# --- The list page -----------------------------------------------------------------------


def page(client, query):
    response = client.get(f"/cases/?{query}")
    assert response.status_code == 200, response.content[:500]
    return html.fromstring(response.content.decode())


def test_values_not_selected_in_a_facet_with_a_selection_show_what_they_would_add(
    committed, client
):
    tree = page(client, "keyword=nato")

    facet = tree.get_element_by_id("facet-keyword")
    assert "Cases with any of the selected values" in facet.text_content()
    biolabs = facet.xpath(".//a[contains(@href, 'keyword=biolabs')]")[0]
    adds = count(case_filter("keyword=nato&keyword=biolabs")) - count(case_filter("keyword=nato"))
    shown = biolabs.xpath(".//span[contains(@class, 'adds')]")[0].text_content()
    assert re.match(rf"\+{adds}\b", shown)
    # A facet without a selection shows plain counts.
    assert not tree.get_element_by_id("facet-country").xpath(".//span[contains(@class, 'adds')]")


def test_each_type_ahead_is_a_combobox_shown_only_with_javascript(committed, client):
    tree = page(client, "keyword=nato")

    for field in ("keyword", "country", "language", "outlet"):
        box = tree.xpath(f"//div[@data-typeahead][@data-field='{field}']")[0]
        assert box.get("hidden") is not None  # static/js/typeahead.js shows it
        combobox = box.xpath(".//input[@role='combobox']")[0]
        listbox = tree.get_element_by_id(combobox.get("aria-controls"))
        assert listbox.get("role") == "listbox"
        assert combobox.get("aria-expanded") == "false"
        assert box.xpath(f".//label[@for='{combobox.get('id')}']")
    chips = tree.xpath("//div[@data-field='keyword']//a[contains(@class, 'chip')]")
    assert [chip.get("href") for chip in chips] == ["?"]  # removing NATO leaves no filter


def test_a_submitted_form_s_empty_fields_are_dropped_by_a_redirect(committed, client):
    response = client.get("/cases/?q=&date_after=&issue=&keyword=nato&keyword=&ordering=date")
    assert response.status_code == 302
    assert response["Location"] == "/cases/?keyword=nato&ordering=date"

    response = client.get("/cases/?q=+&issue=")
    assert response.status_code == 302
    assert response["Location"] == "/cases/"


def test_the_one_search_box_keeps_the_active_filters(committed, client):
    tree = page(client, "keyword=nato&country=ukraine&date_after=2020-01-01&q=biolabs")

    assert len(tree.xpath("//input[@name='q' and not(@type='hidden')]")) == 1
    search = tree.xpath("//form[@role='search']")[0]
    kept = {(field.get("name"), field.get("value")) for field in search.xpath(".//input")}
    assert {
        ("keyword", "nato"),
        ("country", "ukraine"),
        ("date_after", "2020-01-01"),
        ("q", "biolabs"),
    } <= kept
    # ... and the filter form keeps the search.
    form = tree.xpath("//form[contains(@class, 'filter-form')]")[0]
    assert ("q", "biolabs") in {(f.get("name"), f.get("value")) for f in form.xpath(".//input")}


def test_search_box_outside_the_list_starts_a_new_search(committed, client):
    response = client.get("/stats/?keyword=nato")
    tree = html.fromstring(response.content.decode())

    search = tree.xpath("//form[@role='search']")[0]
    assert [field.get("name") for field in search.xpath(".//input")] == ["q"]


def test_a_word_starting_with_the_text_counts_even_after_a_word_containing_it():
    assert name_rank("an", ["canada and"]) == 1  # "and", although "an" is first in "canada"
    assert name_rank("an", ["canada"]) == 2
    assert name_rank("ca", ["canada and"]) == 0
    assert name_rank("x", ["canada"]) is None
