"""The facet index answers exactly what plain SQL answers, after every kind of write.

Most tests here commit their writes (transaction=True): the index is only used for data
that every connection can see, and the point is to prove it notices each write.
"""

import datetime
import io

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from bench import synthetic
from cases import facets
from cases.facets import (
    BROWSE_FACETS,
    FACETS,
    SUGGEST_FACETS,
    browse_counts,
    count,
    exact_browse_counts,
    exact_facet_counts,
    exact_suggest,
    facet_counts,
    suggest,
)
from cases.facets import index as facet_index
from cases.filters import CaseFilter
from cases.models import Appearance, Case, Issue, Keyword
from tests.contracts import (
    QUERIES,
    SEARCHES,
    estimated_searches,
    newest_from_window,
    newest_since_window_day,
)
from tests.factories import (
    AppearanceFactory,
    CaseFactory,
    CountryFactory,
    IssueFactory,
    KeywordFactory,
    LanguageFactory,
    OutletFactory,
    edit,
)

committed = pytest.mark.django_db(transaction=True)


def case_filter(query=""):
    bound = CaseFilter(QueryDict(query), queryset=Case.objects.published())
    assert bound.is_valid(), bound.errors
    return bound


def assert_index_agrees_with_sql():
    assert facet_index.current_index() is not None, "the index should serve committed data"
    # Suggestions first, counted by the index's own bounded counting, which takes values
    # in the order of their sizes: after a write, the new sizes' order.
    for query in QUERIES[:6]:
        for facet in SUGGEST_FACETS:
            for typed in ("", "e"):
                from_index = suggest(case_filter(query), facet, typed, 2)
                from_sql = exact_suggest(case_filter(query), facet, typed, 2)
                assert from_index == from_sql, (query, facet, typed)
    for query in QUERIES:
        from_index = facet_counts(case_filter(query))
        from_sql = exact_facet_counts(case_filter(query))
        assert from_index == from_sql, query
        assert count(case_filter(query)) == from_sql.total, query
    for facet in BROWSE_FACETS:
        assert browse_counts(facet) == exact_browse_counts(facet), facet
    # The newest matches of searches counted on the sample, from their windows.
    with estimated_searches():
        for query in SEARCHES:
            for limit in (1, 3):
                window = newest_from_window(query, limit)
                assert window == newest_since_window_day(query, limit), (query, limit)


@pytest.fixture
def world():
    """A dozen cases over three years, with drafts, an undated case and shared values."""
    facets.reset()
    nato, biolabs, elections = (
        KeywordFactory(name="NATO"),
        KeywordFactory(name="Biolabs"),
        KeywordFactory(name="Elections"),
    )
    ukraine, russia = CountryFactory(name="Ukraine"), CountryFactory(name="Russia")
    eu = CountryFactory(name="EU", kind="region")
    ru, en = LanguageFactory(code="ru", name="Russian"), LanguageFactory(code="en", name="English")
    truth, review = OutletFactory(name="Daily Truth"), OutletFactory(name="Eurasia Review")
    issue_101, issue_102 = IssueFactory(number=101), IssueFactory(number=102)
    rows = [
        ("NATO is preparing biolabs", "2020-05-01", [nato, biolabs], [ukraine], [ru], [truth]),
        ("Secret laboratories in Ukraine", "2021-02-03", [biolabs], [ukraine, russia], [ru], []),
        ("Elections were rigged", "2020-11-11", [elections], [eu], [en], [review, review]),
        ("NATO wants war", "2021-06-30", [nato], [russia], [ru, en], [truth, review]),
        ("The EU is collapsing", "2022-02-10", [elections, nato], [eu], [en], [review]),
        ("Biolabs again", "2022-03-01", [biolabs], [ukraine], [ru], [truth]),
        ("An undated claim about NATO", None, [nato], [], [ru], []),
        ("Kyiv staged everything", "2021-01-15", [], [ukraine], [], [truth]),
        ("Draft about biolabs", "2021-03-03", [biolabs], [ukraine], [ru], [truth]),
    ]
    cases = {}
    for n, (title, date, keywords, countries, languages, outlets) in enumerate(rows):
        draft = title.startswith("Draft")
        case = CaseFactory(
            title=title,
            summary=f"{title}. The outlet repeated it.",
            date=datetime.date.fromisoformat(date) if date else None,
            issue=issue_101 if n % 2 else issue_102,
            status=Case.Status.DRAFT if draft else Case.Status.PUBLISHED,
            keywords=keywords,
            countries=countries,
            languages=languages,
        )
        for outlet in outlets:
            AppearanceFactory(case=case, outlet=outlet)
        cases[title] = case
    return cases


@committed
def test_counts_are_disjunctive_within_a_facet_and_conjunctive_across(world):
    result = facet_counts(case_filter("keyword=nato&country=ukraine"))

    keywords = {v.value: (v.count, v.selected) for v in result.facets["keyword"]}
    countries = {v.value: v.count for v in result.facets["country"]}
    assert result.total == 1  # only "NATO is preparing biolabs" is NATO and Ukraine
    # Keyword counts ignore the keyword filter but keep the country one.
    assert keywords == {"biolabs": (3, False), "nato": (1, True)}
    # Country counts ignore the country filter but keep the keyword one.
    assert countries == {"ukraine": 1, "russia": 1, "eu": 1}


@committed
def test_drafts_never_count(world):
    result = facet_counts(case_filter("q=draft"))
    assert result.total == 0
    assert all(values == [] for values in result.facets.values())


@committed
def test_values_come_sorted_by_count_then_label_and_limit_keeps_selected_ones(world):
    result = facet_counts(case_filter("keyword=elections"), limit=1)

    assert [(v.value, v.count) for v in result.facets["keyword"]] == [
        ("nato", 4),
        ("elections", 2),
    ]
    years = facet_counts(case_filter("")).facets["year"]
    assert [(v.value, v.count) for v in years] == [("2021", 3), ("2020", 2), ("2022", 2)]


@committed
def test_a_selected_value_that_matches_nothing_still_shows_with_zero(world):
    result = facet_counts(case_filter("year=2021&language=en&keyword=biolabs"))
    biolabs = next(v for v in result.facets["keyword"] if v.value == "biolabs")
    assert (biolabs.count, biolabs.selected) == (0, True)
    assert result == exact_facet_counts(case_filter("year=2021&language=en&keyword=biolabs"))


@committed
def test_an_edit_is_patched_into_the_index_without_a_rebuild(world):
    assert_index_agrees_with_sql()
    built = facets.index_status()

    case = world["Kyiv staged everything"]
    edit(
        case,
        date=datetime.date(2019, 12, 31),
        issue=Issue.objects.get(number=101),
        title="Kyiv staged biolabs",
    )
    case.keywords.set([Keyword.objects.get(slug="biolabs")])
    case.languages.set([])

    assert_index_agrees_with_sql()
    status = facets.index_status()
    assert status["build_seconds"] == built["build_seconds"]  # the same build, patched
    assert status["patches"] > built["patches"]
    assert "2019" in [v.value for v in facet_counts(case_filter("")).facets["year"]]


@committed
def test_a_patch_shares_the_bitmaps_it_leaves_alone_and_changes_none_in_place(world):
    # Readers of the index before the write go on reading it; a worker forked from a
    # preloaded master keeps sharing the untouched bitmaps' memory with it.
    before = facet_index.current_index()
    nato, elections = (Keyword.objects.get(slug=slug).pk for slug in ("nato", "elections"))
    nato_ids = list(before.values["keyword"][nato])
    elections_ids = list(before.values["keyword"][elections])

    world["Biolabs again"].keywords.add(nato)
    after = facet_index.current_index()

    assert after is not before
    assert len(after.values["keyword"][nato]) == len(nato_ids) + 1
    assert list(before.values["keyword"][nato]) == nato_ids  # not changed in place
    # Not on the case written: the very same bitmap.
    assert after.values["keyword"][elections] is before.values["keyword"][elections]
    assert list(after.values["keyword"][elections]) == elections_ids
    assert_index_agrees_with_sql()


@committed
def test_publishing_withdrawing_and_deleting_are_noticed(world):
    assert_index_agrees_with_sql()

    draft = world["Draft about biolabs"]
    edit(draft, status=Case.Status.PUBLISHED)
    assert_index_agrees_with_sql()
    assert facet_counts(case_filter("q=draft")).total == 1

    withdrawn = world["NATO wants war"]
    edit(withdrawn, status=Case.Status.WITHDRAWN, withdrawal_reason="Duplicate.")
    assert_index_agrees_with_sql()

    world["Biolabs again"].delete()
    assert_index_agrees_with_sql()
    assert facet_counts(case_filter("")).total == 8 + 1 - 1 - 1


@committed
def test_appearances_and_taxonomy_changes_are_noticed(world):
    assert_index_agrees_with_sql()

    AppearanceFactory(case=world["Biolabs again"], outlet=OutletFactory(name="New Outlet"))
    Appearance.objects.filter(
        outlet__slug="eurasia-review", case__title__startswith="NATO"
    ).delete()
    assert_index_agrees_with_sql()

    # A rename changes labels (and the slug the URL uses).
    Keyword.objects.filter(slug="elections").update(name="Manipulated elections")
    Issue.objects.filter(number=102).update(number=103)
    result = facet_counts(case_filter(""))
    assert "Manipulated elections" in [v.label for v in result.facets["keyword"]]
    assert (
        facet_counts(case_filter("issue=103")).total
        == exact_facet_counts(case_filter("issue=103")).total
    )
    assert_index_agrees_with_sql()


@committed
def test_merging_two_keywords_is_noticed(world):
    assert_index_agrees_with_sql()
    nato, biolabs = Keyword.objects.get(slug="nato"), Keyword.objects.get(slug="biolabs")
    links = Case.keywords.through.objects
    with transaction.atomic():
        already = links.filter(keyword=nato).values("case_id")
        links.filter(keyword=biolabs).exclude(case_id__in=already).update(keyword=nato)
        biolabs.delete()  # takes the remaining (duplicate) links with it
    assert facet_index.current_index() is not None
    for query in ("", "keyword=nato", "country=ukraine", "q=biolabs"):
        assert facet_counts(case_filter(query)) == exact_facet_counts(case_filter(query))


@committed
def test_an_import_is_noticed(world, seed_file):
    assert_index_agrees_with_sql()
    call_command("import_cases", str(seed_file), "--status", "published", verbosity=0)
    assert facet_counts(case_filter("")).total == 8 + 4
    assert_index_agrees_with_sql()


@committed
def test_a_bulk_update_is_noticed(world):
    assert_index_agrees_with_sql()
    Case.objects.filter(title__icontains="nato").update(status=Case.Status.DRAFT)
    assert_index_agrees_with_sql()


@committed
def test_a_write_from_another_process_is_noticed(world, settings):
    assert_index_agrees_with_sql()
    params = connection.get_connection_params()
    other = psycopg2.connect(**params)
    try:
        with other, other.cursor() as cursor:
            cursor.execute(
                "UPDATE cases_case SET status = 'draft' WHERE title = %s", ["Biolabs again"]
            )
            cursor.execute(
                "DELETE FROM cases_case_countries WHERE case_id = %s",
                [world["Secret laboratories in Ukraine"].pk],
            )
    finally:
        other.close()
    assert_index_agrees_with_sql()
    assert facet_counts(case_filter("keyword=biolabs")).total == 2


@committed
def test_a_rolled_back_write_leaves_the_index_as_it_was(world):
    before = facet_counts(case_filter(""))
    with pytest.raises(RuntimeError), transaction.atomic():
        Case.objects.filter(title="Biolabs again").update(status=Case.Status.DRAFT)
        # Uncommitted writes of our own: the answer comes from SQL and sees them.
        assert facet_counts(case_filter("")).total == before.total - 1
        raise RuntimeError
    assert facet_counts(case_filter("")) == before
    assert_index_agrees_with_sql()


@pytest.mark.django_db
def test_uncommitted_writes_of_this_connection_are_counted_exactly():
    facets.reset()
    CaseFactory(title="A claim about NATO", keywords=[KeywordFactory(name="NATO")])

    result = facet_counts(case_filter("keyword=nato"))

    assert result == exact_facet_counts(case_filter("keyword=nato"))
    assert result.total == 1


@committed
def test_a_search_matching_most_cases_is_estimated_and_flagged(world, monkeypatch):
    # Any search counts as common here, and every case is in the sample.
    monkeypatch.setattr(facet_index, "COMMON_MIN_ROWS", 0)
    monkeypatch.setattr(facet_index, "COMMON_SHARE", 0)
    monkeypatch.setattr(facet_index, "SAMPLE_MIN", 0)
    monkeypatch.setattr(facet_index, "WINDOW_SAMPLE_MIN", 0)
    monkeypatch.setattr(facet_index, "ESTIMATE_MIN_HITS", 0)
    monkeypatch.setattr(facet_index, "SAMPLE_RATE", 1)
    facets.reset()
    result = facet_counts(case_filter("q=claim+OR+nato+OR+biolabs+OR+elections+OR+eu+OR+kyiv"))
    exact = exact_facet_counts(case_filter("q=claim+OR+nato+OR+biolabs+OR+elections+OR+eu+OR+kyiv"))

    assert result.approximate and not exact.approximate
    # With every case in the sample, the estimate is exact.
    assert (result.total, result.facets) == (exact.total, exact.facets)


def _estimating_with_sample(monkeypatch, sample_ids, **limits):
    """Every search counted on the sample, which holds just `sample_ids`."""
    from pyroaring import BitMap

    for name, value in {"COMMON_MIN_ROWS": 0, "COMMON_SHARE": 0, "SAMPLE_MIN": 0, **limits}.items():
        monkeypatch.setattr(facet_index, name, value)
    facets.reset()
    index = facet_index.current_index()
    monkeypatch.setattr(index, "sample", BitMap(sample_ids))
    return index


IN_2021 = "date_after=2021-01-01&date_before=2021-12-31"
IN_2021_DATES = (datetime.date(2021, 1, 1), datetime.date(2021, 12, 31))


@committed
def test_an_estimate_in_a_date_window_scales_by_the_samples_share_of_that_window(
    world, monkeypatch
):
    # Ids follow dates, so the sample's share of a window is not its share of all cases:
    # here it holds every case of 2021 and none other. Scaled by its share of all (3 of
    # 8), the 3 matches of 2021 would read as 8.
    in_2021 = [case.pk for case in Case.objects.published().filter(date__year=2021)]
    _estimating_with_sample(monkeypatch, in_2021, WINDOW_SAMPLE_MIN=0, ESTIMATE_MIN_HITS=0)
    result = facet_counts(case_filter(f"q=outlet&{IN_2021}"))
    exact = exact_facet_counts(case_filter(f"q=outlet&{IN_2021}"))

    assert result.approximate and not exact.approximate
    assert (result.total, result.facets) == (exact.total, exact.facets)
    assert result.total == 3


@committed
def test_a_common_word_in_a_window_the_sample_misses_is_counted_exactly_in_the_window(
    world, monkeypatch
):
    # No case is in the sample: an estimate would say "about 0" beside the matches listed.
    index = _estimating_with_sample(monkeypatch, [0], ESTIMATE_MIN_HITS=0)
    with CaptureQueriesContext(connection) as queries:
        result = facet_counts(case_filter(f"q=outlet&{IN_2021}"))
    exact = exact_facet_counts(case_filter(f"q=outlet&{IN_2021}"))

    assert not result.approximate
    assert (result.total, result.facets) == (exact.total, exact.facets)
    assert result.total == 3
    # Only the window's matches were fetched, by the date index, not every match of the word.
    assert any(key[2:3] == ("dated",) for key in index.id_sets)
    # In one statement: the sample, which misses the window, was not searched first.
    fetch = [q["sql"] for q in queries.captured_queries if "@@" in q["sql"]]
    assert len(fetch) == 1
    assert '"date" >=' in fetch[0] and '"date" <=' in fetch[0]


@committed
def test_a_search_within_a_wide_window_is_fetched_within_its_dates(world, monkeypatch):
    # Not a common search (a share of 100% would be needed): its exact ids are fetched,
    # and only those of the window's days, however wide the window (the sample holds it).
    published = [case.pk for case in Case.objects.published()]
    index = _estimating_with_sample(
        monkeypatch, published, COMMON_SHARE=1, COMMON_MAX_ROWS=10**6, COMMON_MIN_ROWS=10**6
    )
    monkeypatch.setattr(facet_index, "WINDOW_SAMPLE_MIN", 0)
    with CaptureQueriesContext(connection) as queries:
        result = facet_counts(case_filter(f"q=outlet&{IN_2021}"))
    exact = exact_facet_counts(case_filter(f"q=outlet&{IN_2021}"))

    assert not result.approximate
    assert (result.total, result.facets) == (exact.total, exact.facets) and result.total == 3
    fetch = [q["sql"] for q in queries.captured_queries if "string_agg" in q["sql"]]
    assert len(fetch) == 1 and '"date" >=' in fetch[0] and '"date" <=' in fetch[0]
    assert list(index.id_sets) == [("q", "outlet", "dated", *IN_2021_DATES)]


@committed
def test_a_search_matching_more_than_the_most_rows_an_exact_fetch_reads_is_estimated(
    world, monkeypatch
):
    # However small its share of the cases, past COMMON_MAX_ROWS rows it is sampled.
    published = [case.pk for case in Case.objects.published()]
    _estimating_with_sample(monkeypatch, published, COMMON_SHARE=1, COMMON_MAX_ROWS=0)
    monkeypatch.setattr(facet_index, "ESTIMATE_MIN_HITS", 0)
    result = facet_counts(case_filter("q=outlet"))
    assert result.approximate
    # Every case in the sample: the estimate is the exact count.
    assert result.total == exact_facet_counts(case_filter("q=outlet")).total == 8


@committed
def test_a_common_word_with_too_few_sample_matches_is_counted_exactly(world, monkeypatch):
    # A rare keyword and a common word: no sample case matches both.
    _estimating_with_sample(monkeypatch, [0], WINDOW_SAMPLE_MIN=0)
    result = facet_counts(case_filter("q=outlet&keyword=elections"))
    exact = exact_facet_counts(case_filter("q=outlet&keyword=elections"))

    assert not result.approximate
    assert (result.total, result.facets) == (exact.total, exact.facets)
    assert result.total == 2
    assert count(case_filter("q=outlet&keyword=elections")) == 2


@committed
def test_a_phrase_with_too_few_sample_matches_is_estimated_at_least_at_its_known_matches(
    world, monkeypatch
):
    # Checking a phrase on every candidate costs seconds at a million cases: it stays an
    # estimate, but never below the matches of its newest months, fetched with the sample.
    index = _estimating_with_sample(monkeypatch, [0])
    monkeypatch.setattr(
        facet_index.FacetIndex, "_window_start", lambda self, rows: datetime.date(2021, 6, 1)
    )
    result = facet_counts(case_filter("q=%22outlet+repeated%22"))
    bound = case_filter("q=%22outlet+repeated%22")

    assert result.approximate
    since_june_2021 = bound.qs.filter(date__gte=datetime.date(2021, 6, 1)).count()
    assert since_june_2021 == 3
    assert result.total == since_june_2021
    assert facets.estimated_count(bound) == (since_june_2021, True)
    assert not any("exact" in key for key in index.id_sets)


@committed
def test_a_phrase_with_many_candidates_is_estimated_where_its_words_alone_are_not(
    world, monkeypatch
):
    # Checking a phrase reads each candidate's search vector: past PHRASE_COMMON_ROWS
    # candidates it is counted on the sample, which here holds every case.
    monkeypatch.setattr(facet_index, "PHRASE_COMMON_ROWS", 0)
    monkeypatch.setattr(facet_index, "SAMPLE_MIN", 0)
    monkeypatch.setattr(facet_index, "WINDOW_SAMPLE_MIN", 0)
    monkeypatch.setattr(facet_index, "ESTIMATE_MIN_HITS", 0)
    monkeypatch.setattr(facet_index, "SAMPLE_RATE", 1)
    facets.reset()
    phrase = facet_counts(case_filter("q=%22outlet+repeated%22"))
    words = facet_counts(case_filter("q=outlet+repeated"))
    exact = exact_facet_counts(case_filter("q=%22outlet+repeated%22"))

    assert phrase.approximate and not words.approximate and not exact.approximate
    assert (phrase.total, phrase.facets) == (exact.total, exact.facets) == (8, words.facets)


@committed
def test_answering_from_a_warm_index_takes_the_same_queries_whatever_the_limit(world):
    facet_counts(case_filter("keyword=nato"))

    def queries(query, limit):
        bound = case_filter(query)
        with CaptureQueriesContext(connection) as context:
            facet_counts(bound, limit=limit)
        return len(context.captured_queries)

    # Only the data version is read: counts come from the index.
    assert queries("keyword=nato", 2) == queries("keyword=nato", None) == 1
    assert queries("country=russia&year=2021", 1) == queries("country=russia&year=2021", 50) == 1


@committed
def test_browse_lists_come_from_the_index_in_name_order(world):
    facet_index.current_index()
    with CaptureQueriesContext(connection) as context:
        keywords = browse_counts("keyword")
        outlets = browse_counts("outlet")
        issues = browse_counts("issue")
    # The data version, and the issues' numbers and dates: no counting in SQL.
    assert len(context.captured_queries) == 4
    assert not any("COUNT(" in query["sql"].upper() for query in context.captured_queries)
    # The draft's biolabs tag is not counted; names sort as PostgreSQL sorts them.
    assert keywords == [
        ("biolabs", "Biolabs", 3),
        ("elections", "Elections", 2),
        ("nato", "NATO", 4),
    ]
    # A case that appears twice in one outlet counts once.
    assert outlets == [("daily-truth", "Daily Truth", 4), ("eurasia-review", "Eurasia Review", 3)]
    assert [(number, n) for number, _, n in issues] == [(102, 4), (101, 4)]


def test_every_facet_has_a_filter_parameter():
    assert set(FACETS) <= set(CaseFilter.base_filters)


@committed
def test_synthetic_cases_are_indexed_like_any_other(world):
    synthetic.generate(300, seed=3, stream=io.StringIO())
    assert_index_agrees_with_sql()
    synthetic.remove_synthetic(stream=io.StringIO())
    assert_index_agrees_with_sql()


@committed
def test_id_queries_skip_sequential_scans_outside_a_transaction_too():
    # Requests run in autocommit mode: the settings must reach the query they are for.
    assert connection.get_autocommit()
    settings_sql = "SELECT current_setting('enable_seqscan'), current_setting('jit')"
    with connection.cursor() as cursor:
        cursor.execute(settings_sql)
        before = cursor.fetchone()
        with facet_index._index_scans(cursor):
            cursor.execute(settings_sql)
            assert cursor.fetchone() == ("off", "off")
        cursor.execute(settings_sql)
        assert cursor.fetchone() == before


@committed
def test_id_queries_inside_a_transaction_leave_its_settings_as_they_were():
    settings_sql = "SELECT current_setting('enable_seqscan'), current_setting('jit')"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(settings_sql)
        before = cursor.fetchone()
        with facet_index._index_scans(cursor):
            pass
        cursor.execute(settings_sql)
        assert cursor.fetchone() == before


@pytest.mark.django_db
def test_the_sample_sql_states_the_sample_index_predicate():
    # The planner takes a partial index only for a query it can prove lies within the
    # index's predicate: the sample's SQL must state it as migration 0024 does. An index
    # made here on the same condition (rolled back with the test) deparses the same.
    predicate = (
        "SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = %s::regclass"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX sample_sql_check ON cases_case (id)"
            f" WHERE status = 'published' AND {facet_index.sample_sql()}"
        )
        cursor.execute(predicate, ["sample_sql_check"])
        stated = cursor.fetchone()[0]
        cursor.execute(predicate, ["case_sample_search_idx"])
        assert cursor.fetchone()[0] == stated
    assert "8192" in stated and "256" in stated


@pytest.mark.django_db
def test_the_full_text_index_holds_the_dates_beside_the_words():
    # A search within dates (a window, the newest matches) reads that window's postings
    # only when the date is a column of the same GIN index (btree_gin).
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'case_search_date_idx'")
        (definition,) = cursor.fetchone()
    assert definition.endswith("USING gin (search_vector, date)")
