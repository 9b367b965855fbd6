import pytest

from cases.models import Case, SearchWord
from cases.search import approximate_query, highlighted, rebuild_search_words
from tests.factories import CaseFactory, KeywordFactory, edit

pytestmark = pytest.mark.django_db


def listed_titles(response):
    return [case.title for case in response.context_data["cases"]]


def test_a_title_match_ranks_above_a_disproof_only_match(client):
    CaseFactory(title="Claim about elections", disproof="Nothing about gas here.")
    CaseFactory(title="Unrelated claim", disproof="The pipeline was never sabotaged.")
    CaseFactory(title="The pipeline was sabotaged by the West", disproof="No evidence.")

    response = client.get("/cases/?q=pipeline")

    assert listed_titles(response) == [
        "The pipeline was sabotaged by the West",
        "Unrelated claim",
    ]


def test_a_summary_match_ranks_between_a_title_and_a_disproof_match(client):
    CaseFactory(title="Disproof only", summary="x", disproof="A word about sanctions.")
    CaseFactory(title="Summary only", summary="A word about sanctions.", disproof="x")
    CaseFactory(title="Sanctions in the title", summary="x", disproof="x")

    assert listed_titles(client.get("/cases/?q=sanctions")) == [
        "Sanctions in the title",
        "Summary only",
        "Disproof only",
    ]


def test_keyword_names_are_searchable(client):
    CaseFactory(title="Tagged", keywords=[KeywordFactory(name="Hybrid warfare")])
    CaseFactory(title="Untagged")
    assert listed_titles(client.get("/cases/?q=hybrid")) == ["Tagged"]


class TestWebsearchSyntax:
    def test_a_quoted_phrase_matches_only_the_words_in_that_order(self, client):
        CaseFactory(title="The colour revolution in Kazakhstan")
        CaseFactory(title="A revolution in colour television")
        assert listed_titles(client.get('/cases/?q="colour revolution"')) == [
            "The colour revolution in Kazakhstan"
        ]

    def test_a_minus_excludes_a_word(self, client):
        CaseFactory(title="NATO troops in Lithuania")
        CaseFactory(title="NATO troops in Poland")
        assert listed_titles(client.get("/cases/?q=nato -poland")) == ["NATO troops in Lithuania"]

    def test_or_matches_either_word(self, client):
        CaseFactory(title="Claim about Lithuania")
        CaseFactory(title="Claim about Poland")
        CaseFactory(title="Claim about Spain")
        assert sorted(listed_titles(client.get("/cases/?q=lithuania or poland"))) == [
            "Claim about Lithuania",
            "Claim about Poland",
        ]


def test_relevance_is_the_default_order_with_a_search_and_date_can_override_it(client):
    import datetime

    CaseFactory(title="Old pipeline pipeline claim", date=datetime.date(2020, 1, 1))
    CaseFactory(title="New claim", summary="pipeline", date=datetime.date(2023, 1, 1))

    by_relevance = client.get("/cases/?q=pipeline")
    by_date = client.get("/cases/?q=pipeline&ordering=-date")

    assert listed_titles(by_relevance) == ["Old pipeline pipeline claim", "New claim"]
    assert 'value="relevance" selected' in by_relevance.content.decode()
    assert listed_titles(by_date) == ["New claim", "Old pipeline pipeline claim"]


class TestAccents:
    def test_an_accented_query_finds_unaccented_text(self, client):
        CaseFactory(title="Protests in Kazakhstan")
        CaseFactory(title="Protests in Lithuania")
        assert listed_titles(client.get("/cases/?q=Kazakhstán")) == ["Protests in Kazakhstan"]

    def test_an_unaccented_query_finds_accented_text(self, client):
        CaseFactory(title="Élections à Bogotá")
        CaseFactory(title="Elections in Lima")
        assert listed_titles(client.get("/cases/?q=bogota")) == ["Élections à Bogotá"]


class TestTypos:
    def test_a_misspelt_word_finds_the_cases_of_the_closest_word_and_says_so(self, client):
        CaseFactory(title="MI6 behind the protests in Kazakhstan")
        CaseFactory(title="Riots in Kazakhstan were staged")
        CaseFactory(title="Lithuania under Soviet rule")

        response = client.get("/cases/?q=Kazakstan")

        assert response.status_code == 200
        assert sorted(listed_titles(response)) == [
            "MI6 behind the protests in Kazakhstan",
            "Riots in Kazakhstan were staged",
        ]
        html = response.content.decode()
        assert "No case contains “Kazakstan”" in html
        assert "approximate matches for" in html
        assert 'href="?q=kazakhstan"' in html
        # The search box still shows what was typed.
        assert 'value="Kazakstan"' in html

    def test_an_exact_match_shows_no_approximate_notice(self, client):
        CaseFactory(title="Protests in Kazakhstan")
        html = client.get("/cases/?q=kazakhstan").content.decode()
        assert "approximate matches" not in html

    def test_a_word_unlike_any_other_finds_nothing_and_says_no_case_matches(self, client):
        CaseFactory(title="Protests in Kazakhstan")
        response = client.get("/cases/?q=zzyzx")
        assert listed_titles(response) == []
        assert "No published case matches these filters." in response.content.decode()

    def test_operators_survive_the_correction(self):
        CaseFactory(title="Protests in Kazakhstan", summary="Lithuania is mentioned too.")
        assert approximate_query('"kazakstan protests" -lituania') == (
            '"kazakhstan protests" -lithuania'
        )

    def test_words_of_drafts_are_never_suggested(self, client):
        CaseFactory(title="Secret draft about Turkmenistan", status=Case.Status.DRAFT)
        assert not SearchWord.objects.filter(word="turkmenistan").exists()
        assert approximate_query("turkmenistn") is None
        assert "turkmenistan" not in client.get("/cases/?q=turkmenistn").content.decode().lower()

    def test_publishing_a_case_makes_its_words_known(self):
        case = CaseFactory(title="Claim about Turkmenistan", status=Case.Status.DRAFT)
        edit(case, status=Case.Status.PUBLISHED)
        assert approximate_query("turkmenistn") == "turkmenistan"

    def test_rebuilding_forgets_the_words_of_withdrawn_cases(self):
        case = CaseFactory(title="Claim about Turkmenistan")
        edit(case, status=Case.Status.WITHDRAWN)
        rebuild_search_words()
        assert not SearchWord.objects.filter(word="turkmenistan").exists()


class TestSnippets:
    def test_matches_are_marked_in_the_title_and_summary(self, client):
        CaseFactory(
            title="Pipeline sabotage claim",
            summary="The outlet said the pipeline was blown up by divers.",
        )
        html = client.get("/cases/?q=pipeline").content.decode()
        assert "<mark>Pipeline</mark> sabotage claim" in html
        assert "the <mark>pipeline</mark> was blown up" in html

    def test_markup_in_the_text_is_escaped_and_only_marks_are_html(self, client):
        CaseFactory(
            title="<b>Bold</b> pipeline claim",
            summary='The pipeline <script>alert(1)</script> <img src=x onerror="y">',
        )
        html = client.get("/cases/?q=pipeline").content.decode()
        results = html[html.index('class="results-frame"') :]
        assert "<script>alert" not in results
        assert "<img" not in results
        assert "<b>" not in results
        assert "<mark>pipeline</mark> claim" in results

    def test_a_headline_is_escaped_except_for_its_marks(self):
        html = highlighted('a < b & "c" \x02match\x03 <i>')
        assert html == "a &lt; b &amp; &quot;c&quot; <mark>match</mark> &lt;i&gt;"

    def test_without_a_search_the_summary_shows_unmarked(self, client):
        CaseFactory(title="Pipeline claim", summary="About the pipeline.")
        html = client.get("/cases/").content.decode()
        assert "<mark>" not in html
        assert "About the pipeline." in html


def _many_matches():
    """Five matches of "grain": the oldest two rank highest, one match is in Ukraine."""
    import datetime

    from tests.factories import CountryFactory

    ukraine = CountryFactory(name="Ukraine")
    day = datetime.date(2022, 1, 1)
    for n, (title, disproof) in enumerate(
        [
            ("Grain deal was a Western trick", "x"),  # oldest, title match
            ("Grain exports are a lie", "x"),
            ("Claim three", "Grain was shipped."),
            ("Claim four", "Grain was shipped."),
            ("Claim five", "Grain was shipped."),  # newest
        ]
    ):
        CaseFactory(
            title=title,
            disproof=disproof,
            date=day + datetime.timedelta(days=40 * n),
            countries=[ukraine] if n == 1 else [],
        )
    CaseFactory(title="Unrelated", disproof="Nothing.", date=day)


# Committed data (a transactional test) is what the facet index answers for; "estimated"
# makes every search count as common: the index knows the matches of the sample and of the
# newest months (its window), and "estimated, no window" forgets the window, so the index
# only knows the other filters' cases.
committed_db = pytest.mark.django_db(transaction=True)
BOTH_PATHS = pytest.mark.parametrize(
    "path",
    [
        pytest.param("sql"),
        pytest.param("facet-index", marks=committed_db),
        pytest.param("estimated", marks=committed_db),
        pytest.param("estimated, no window", marks=committed_db),
    ],
)


def _take(path, monkeypatch):
    from cases import facets
    from cases.facets import index

    if path.startswith("estimated"):
        monkeypatch.setattr(index, "COMMON_MIN_ROWS", 0)
        monkeypatch.setattr(index, "COMMON_SHARE", 0)
        monkeypatch.setattr(index, "SAMPLE_MIN", 0)
        monkeypatch.setattr(index, "WINDOW_SAMPLE_MIN", 0)
        monkeypatch.setattr(index, "ESTIMATE_MIN_HITS", 0)
        monkeypatch.setattr(index, "SAMPLE_RATE", 1)
        # The planner's guess of the matches sets the window; what it guesses depends on the
        # statistics earlier tests left behind: the true count instead.
        monkeypatch.setattr(
            index.FacetIndex, "_expected_rows", staticmethod(lambda queryset: queryset.count())
        )
    if path == "estimated, no window":
        monkeypatch.setattr(index, "WINDOW_CACHE_SIZE", 0)
    facets.reset()


@BOTH_PATHS
def test_a_search_with_many_matches_ranks_its_newest_ones_and_says_so(path, client, monkeypatch):
    from cases import facets, search

    _take(path, monkeypatch)
    monkeypatch.setattr(search, "RANKED_MATCHES", 3)
    found = []
    newest_matching = facets.newest_matching
    monkeypatch.setattr(
        facets, "newest_matching", lambda *args: found.append(newest_matching(*args)) or found[-1]
    )
    _many_matches()

    response = client.get("/cases/?q=grain")

    # Through the index: the three newest matches, for an estimated search from the
    # matches of its newest months; without those, the months of the other filters' cases
    # still to be searched; else from SQL.
    assert (found[0] is None) == (path == "sql")
    if path != "sql":
        assert found[0].searched == (path != "estimated, no window")
        assert len(found[0].ids) >= 3
    if path == "estimated, no window":
        # The newest months of candidates, searched in SQL as the cases dated since then.
        assert not found[0].complete and found[0].since is not None

    assert response.status_code == 200
    assert response.context_data["total"] == 5
    # Only the three newest matches are ranked (all disproof matches: newest first).
    assert listed_titles(response) == ["Claim five", "Claim four", "Claim three"]
    page = response.content.decode()
    assert "among the 3 newest matches" in page
    assert "?q=grain&amp;ordering=-date" in page
    # Sorted by date, every match is there.
    by_date = listed_titles(client.get("/cases/?q=grain&ordering=-date"))
    assert len(by_date) == 5
    # A filter narrows the matches first: the one Ukrainian match ranks alone.
    narrowed = client.get("/cases/?q=grain&country=ukraine")
    assert listed_titles(narrowed) == ["Grain exports are a lie"]
    assert "newest matches" not in narrowed.content.decode()


@committed_db
def test_an_estimated_search_ranks_the_matches_of_its_newest_months_and_says_how_many(
    client, monkeypatch
):
    import datetime

    from cases import search
    from cases.facets import index

    _take("estimated", monkeypatch)
    monkeypatch.setattr(search, "RANKED_MATCHES", 4)
    monkeypatch.setattr(index, "NEWEST_MIN_MATCHES", 2)
    # The window: the matches dated since March 2022, the three newest (Claim three to five).
    monkeypatch.setattr(
        index.FacetIndex, "_window_start", lambda self, rows: datetime.date(2022, 3, 1)
    )
    _many_matches()

    response = client.get("/cases/?q=grain")

    assert response.context_data["total"] == 5
    assert response.context_data["total_is_approximate"]
    # Fewer than RANKED_MATCHES, but all the matches since then: the newest three, ranked.
    assert listed_titles(response) == ["Claim five", "Claim four", "Claim three"]
    assert "among the 3 newest matches" in response.content.decode()
    assert len(listed_titles(client.get("/cases/?q=grain&ordering=-date"))) == 5


@committed_db
def test_an_estimated_search_whose_newest_months_are_every_case_knows_every_match(monkeypatch):
    from django.db.models import F
    from django.http import QueryDict

    from cases import facets
    from cases.facets import index
    from cases.filters import CaseFilter

    _take("estimated", monkeypatch)
    # One case in 32 in the sample: most matches are not in it, but all are in the window.
    monkeypatch.setattr(index, "SAMPLE_RATE", 32)
    monkeypatch.setattr(index, "SAMPLE_BLOCK", 1)
    _many_matches()
    bound = CaseFilter(QueryDict("q=grain"), queryset=Case.objects.published())
    assert bound.is_valid()

    assert facets.facet_counts(bound).approximate
    newest = facets.newest_matching(bound, 3)

    by_date = bound.qs.order_by(F("date").desc(nulls_last=True), "-id")
    assert newest.searched
    assert sorted(newest.ids) == sorted(by_date.values_list("id", flat=True)[:3])


@committed_db
def test_a_phrase_whose_words_stand_together_is_counted_on_the_sample(monkeypatch):
    from django.http import QueryDict

    from cases import facets
    from cases.facets import index
    from cases.filters import CaseFilter

    # The planner expects the phrase's words in few cases together, but each word alone
    # in more than PHRASE_COMMON_ROWS: the phrase may have that many candidates to check.
    monkeypatch.setattr(index, "PHRASE_COMMON_ROWS", 0)
    monkeypatch.setattr(index, "SAMPLE_MIN", 0)
    monkeypatch.setattr(index, "WINDOW_SAMPLE_MIN", 0)
    monkeypatch.setattr(index, "ESTIMATE_MIN_HITS", 0)
    monkeypatch.setattr(index, "SAMPLE_RATE", 1)
    facets.reset()
    _many_matches()

    def counted(query):
        bound = CaseFilter(QueryDict(query), queryset=Case.objects.published())
        assert bound.is_valid()
        return facets.facet_counts(bound)

    phrase = counted("q=%22grain+was+shipped%22")
    assert (phrase.total, phrase.approximate) == (3, True)
    # A phrase of stop words leaves no word to check: it is not counted on the sample.
    assert index._phrase_candidates('"the of"') == 0
    assert not counted("q=grain").approximate


@committed_db
def test_the_index_lists_the_newest_matches_of_a_search_it_knows_without_sql(monkeypatch):
    from django.db import connection
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext

    from cases import facets, search
    from cases.filters import CaseFilter

    _take("facet-index", monkeypatch)
    monkeypatch.setattr(search, "RANKED_MATCHES", 3)
    _many_matches()
    bound = CaseFilter(QueryDict("q=grain"), queryset=Case.objects.published())
    assert bound.is_valid()
    facets.facet_counts(bound)  # the search's matches, fetched once for the count

    with CaptureQueriesContext(connection) as queries:
        newest = search._newest_match_ids(bound, "grain")

    # The data version only: the three newest matches come from the index's day bitmaps.
    assert len(queries.captured_queries) == 1
    claims = Case.objects.filter(title__startswith="Claim")  # the three newest matches
    assert sorted(newest) == sorted(claims.values_list("id", flat=True))


@BOTH_PATHS
def test_a_search_with_few_matches_ranks_them_all(path, client, monkeypatch):
    _take(path, monkeypatch)
    _many_matches()

    response = client.get("/cases/?q=grain")

    # Title matches first (equal ranks: newest first), then the disproof matches.
    assert listed_titles(response)[:2] == [
        "Grain exports are a lie",
        "Grain deal was a Western trick",
    ]
    assert len(listed_titles(response)) == 5
    assert "newest matches" not in response.content.decode()


@BOTH_PATHS
def test_the_api_ranks_a_search_like_the_site_and_flags_an_estimated_count(
    path, api_client, client, monkeypatch
):
    from cases import search

    _take(path, monkeypatch)
    monkeypatch.setattr(search, "RANKED_MATCHES", 3)
    _many_matches()

    body = api_client.get("/api/v1/cases/?q=grain").json()

    assert [case["title"] for case in body["results"]] == listed_titles(
        client.get("/cases/?q=grain")
    )
    assert [case["title"] for case in body["results"]] == [
        "Claim five",
        "Claim four",
        "Claim three",
    ]
    # Every case is in the sample here, so the estimate is exact; it is still flagged.
    assert (body["count"], body["approximate"]) == (5, path.startswith("estimated"))
