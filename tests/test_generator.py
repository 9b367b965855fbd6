"""bench/generate.py: realistic, deterministic synthetic cases that go away on request.

The generator commits and computes search vectors on other connections, so these tests
commit too (transaction=True).
"""

import io
import statistics

import pytest
from django.db import connection
from django.db.models import Count

from bench import synthetic
from bench.generate import main
from cases.models import (
    Appearance,
    Case,
    Country,
    Issue,
    Keyword,
    Language,
    Outlet,
    TaxonomyRedirect,
)
from tests.factories import (
    CaseFactory,
    CountryFactory,
    IssueFactory,
    KeywordFactory,
    LanguageFactory,
    OutletFactory,
    edit,
)

pytestmark = pytest.mark.django_db(transaction=True)


def run_generator(*args):
    main([str(arg) for arg in args], stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture(autouse=True)
def _no_record_left():
    """The bench's record is no model: emptying the tables between tests leaves it."""
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {synthetic.BATCH_TABLE}")


def fingerprint():
    """Everything about the synthetic cases except their ids, oldest id first."""
    cases = (
        synthetic.synthetic_cases()
        .order_by("id")
        .prefetch_related("keywords", "countries", "languages", "appearances__outlet")
    )
    return [
        (
            case.title,
            case.summary,
            case.disproof,
            case.date,
            case.status,
            case.issue.number,
            sorted(k.name for k in case.keywords.all()),
            sorted(c.name for c in case.countries.all()),
            sorted(lang.code for lang in case.languages.all()),
            [(a.outlet.name, a.url.rsplit("/", 1)[0]) for a in case.appearances.all()],
        )
        for case in cases
    ]


def test_the_same_seed_gives_the_same_cases_and_another_seed_others():
    run_generator("--count", 120, "--seed", 7)
    first = fingerprint()
    run_generator("--remove")
    run_generator("--count", 120, "--seed", 7)
    again = fingerprint()
    run_generator("--remove")
    run_generator("--count", 120, "--seed", 8)
    other = fingerprint()

    assert len(first) == 120
    assert again == first
    assert other != first


def test_removing_takes_every_synthetic_case_and_nothing_else():
    before = CaseFactory(title="A real case")
    run_generator("--count", 50, "--seed", 1)
    between = CaseFactory(title="A real case written between two loads")
    run_generator("--count", 30, "--seed", 2)
    after = CaseFactory(title="A real case written after them")
    assert Case.objects.count() == 83
    assert [(last - first + 1, seed) for first, last, seed in synthetic.batches()] == [
        (50, 1),
        (30, 2),
    ]
    assert synthetic.synthetic_cases().count() == 80

    run_generator("--remove")

    real = [before, between, after]
    assert list(Case.objects.order_by("id")) == real
    assert not Appearance.objects.exclude(case__in=real).exists()
    assert not Case.keywords.through.objects.exclude(case__in=real).exists()
    assert synthetic.batches() == []


def test_removing_with_nothing_loaded_removes_nothing():
    real = CaseFactory(title="A real case")

    run_generator("--remove")

    assert list(Case.objects.all()) == [real]


def test_cases_have_the_shape_of_the_real_data():
    run_generator("--count", 2000, "--seed", 2)
    cases = synthetic.synthetic_cases()

    def mean(relation):
        return statistics.mean(
            cases.annotate(n=Count(relation, distinct=True)).values_list("n", flat=True)
        )

    assert 2.7 < mean("keywords") < 3.3
    assert 1.7 < mean("countries") < 2.1
    assert 1.0 <= mean("languages") < 1.1
    assert 1.6 < mean("appearances") < 2.0
    drafts = cases.filter(status=Case.Status.DRAFT).count()
    assert 40 < drafts < 160  # about 5%
    words = [len(c.summary.split()) for c in cases[:200]]
    assert 90 < statistics.mean(words) < 150
    # Issue numbers rise with the date.
    dated = list(cases.exclude(date=None).order_by("date", "id").values_list("issue__number"))
    assert dated == sorted(dated)


def test_search_finds_common_rare_and_very_rare_terms():
    run_generator("--count", 2000, "--seed", 4)
    published = Case.objects.published()

    def share(term):
        return published.search(term).count() / published.count()

    assert share(synthetic.COMMON_TERM) > 0.5
    assert 0.001 < share(synthetic.RARE_TERM) < 0.02
    assert share(synthetic.VERY_RARE_TERM) < 0.005


def test_search_vectors_are_the_ones_every_other_write_path_computes():
    from cases.search import vector_sql

    run_generator("--count", 300, "--seed", 5)
    ((first_id, last_id, _),) = synthetic.batches()
    # What cases.search computes for the same case: its keyword names joined in the order
    # the generator drew them (the order their link rows were written in).
    keyword_names = (
        "(SELECT string_agg(k.name, ' ' ORDER BY ck.ctid) FROM cases_case_keywords ck"
        " JOIN cases_keyword k ON k.id = ck.keyword_id WHERE ck.case_id = c.id)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, c.search_vector::text, (" + vector_sql("c", keyword_names) + ")::text"
            " FROM cases_case c WHERE c.id BETWEEN %s AND %s ORDER BY c.id",
            [first_id, last_id],
        )
        rows = cursor.fetchall()

    assert len(rows) == 300
    assert all(loaded for _, loaded, _ in rows)
    assert [(pk, loaded) for pk, loaded, _ in rows] == [(pk, computed) for pk, _, computed in rows]


def test_a_failed_load_leaves_nothing_behind(monkeypatch):
    from psycopg2.errors import UndefinedColumn

    KeywordFactory(name="NATO")
    before = taxonomy_ids()

    bad_links = (*synthetic.LINK_COPIES[:3], ("cases_appearance", "case_id, no_such_column"))
    monkeypatch.setattr(synthetic, "LINK_COPIES", bad_links)

    with pytest.raises(UndefinedColumn, match="no_such_column"):
        run_generator("--count", CHUNKS_OF_TWO_LOADERS, "--seed", 3)

    assert not Case.objects.exists()
    assert not Case.keywords.through.objects.exists()
    assert synthetic.batches() == []
    assert taxonomy_ids() == before  # the values it created went with it


# Enough cases for several chunks, so that both loaders have work when one fails.
CHUNKS_OF_TWO_LOADERS = 3 * synthetic.CHUNK


def test_every_title_and_keyword_name_gets_the_vector_postgresql_makes():
    places = [name for name, _ in synthetic.COUNTRIES] + synthetic.REGIONS
    titles = [
        (subject, verb, thing.format(c=place))
        for subject, verb in zip(synthetic._TITLE_SUBJECTS, synthetic._TITLE_VERBS, strict=False)
        for thing in synthetic._TITLE_OBJECTS
        for place in places
    ]
    names = synthetic.KEYWORD_NAMES
    lexemes = synthetic.word_lexemes([piece for title in titles for piece in title] + names)

    made = [synthetic.case_vector(lexemes, [(title, "A")]) for title in titles]
    made += [synthetic.case_vector(lexemes, [([name], "A")]) for name in names]
    made.append(synthetic.case_vector(lexemes, [(names[:4], "A"), (names[4:7], "B")]))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setweight(to_tsvector('disinfo', t), 'A')::text FROM unnest(%s::text[])"
            " WITH ORDINALITY AS x(t, n) ORDER BY n",
            [[" ".join(title) for title in titles] + names],
        )
        expected = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT (setweight(to_tsvector('disinfo', %s), 'A')"
            " || setweight(to_tsvector('disinfo', %s), 'B'))::text",
            [" ".join(names[:4]), " ".join(names[4:7])],
        )
        expected.append(cursor.fetchone()[0])
        cursor.execute("SELECT unnest(%s::tsvector[])::text", [made])
        made = [row[0] for row in cursor.fetchall()]

    assert made == expected


def test_a_database_that_still_flags_synthetic_cases_gets_them_on_record():
    cases = [CaseFactory() for _ in range(5)]
    flagged = [cases[0].pk, cases[1].pk, cases[3].pk]
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE cases_case ADD COLUMN is_synthetic boolean NOT NULL DEFAULT false"
        )
        try:
            cursor.execute("UPDATE cases_case SET is_synthetic = id = ANY(%s)", [flagged])
            adopted = synthetic.adopt_flagged_cases()
            adopted_again = synthetic.adopt_flagged_cases()
        finally:
            cursor.execute("ALTER TABLE cases_case DROP COLUMN is_synthetic")

    assert (adopted, adopted_again) == (2, 0)
    assert synthetic.batches() == [
        (cases[0].pk, cases[1].pk, None),
        (cases[3].pk, cases[3].pk, None),
    ]
    run_generator("--remove")
    assert list(Case.objects.order_by("id")) == [cases[2], cases[4]]


TAXONOMY = (Issue, Keyword, Country, Language, Outlet)


def taxonomy_ids():
    return {model.__name__: set(model.objects.values_list("pk", flat=True)) for model in TAXONOMY}


def test_removing_leaves_no_value_the_generator_created_and_keeps_every_other():
    # Values there before the generator: a real case's, and unused ones, some of them
    # with names the generator uses (it finds them instead of creating them).
    real = CaseFactory(
        title="A real case",
        issue=IssueFactory(number=5),
        keywords=[KeywordFactory(name="NATO"), KeywordFactory(name="A real keyword")],
        countries=[CountryFactory(name="Latvia", iso_code="LV")],
        languages=[LanguageFactory(code="ru", name="Russian")],
    )
    edit(real, appearances=[(OutletFactory(name="A real outlet", domain="real.org").pk, "", "")])
    KeywordFactory(name="Sanctions")
    OutletFactory(name="Vesti News", domain="vesti.ru")
    IssueFactory(number=7)
    before = taxonomy_ids()
    real_values = fingerprint_of(real)

    run_generator("--count", 60, "--seed", 3)
    created = {name: ids - before[name] for name, ids in taxonomy_ids().items()}
    assert all(created.values()), "the generator made values of every kind"
    assert Issue.objects.filter(number=7, pk__in=before["Issue"]).exists()

    # A real case written since takes up values the generator created: they stay.
    taken_keyword = Keyword.objects.get(pk=min(created["Keyword"]))
    taken_country = Country.objects.get(pk=min(created["Country"]))
    taken_language = Language.objects.get(pk=min(created["Language"]))
    taken_outlet = Outlet.objects.get(pk=min(created["Outlet"]))
    taken_issue = Issue.objects.get(pk=min(created["Issue"]))
    later = CaseFactory(
        title="A real case written after the load",
        issue=taken_issue,
        keywords=[taken_keyword],
        countries=[taken_country],
        languages=[taken_language],
    )
    edit(later, appearances=[(taken_outlet.pk, "https://example.org/a", "")])
    later_values = fingerprint_of(later)
    # A real case merely edited onto a created value and off it again does not keep it.
    edit(real, keywords=[*real.keywords.all(), Keyword.objects.get(pk=max(created["Keyword"]))])
    edit(real, keywords=[k for k in real.keywords.all() if k.pk in before["Keyword"]])
    # An editor renamed an unused created keyword: its redirect goes with it.
    renamed = Keyword.objects.exclude(pk=taken_keyword.pk).filter(pk__in=created["Keyword"])[0]
    renamed.name = "A renamed synthetic keyword"
    renamed.save()
    assert TaxonomyRedirect.objects.filter(kind="keyword", target_id=renamed.pk).exists()

    run_generator("--remove")

    assert list(Case.objects.order_by("id")) == [real, later]
    taken = {
        "Issue": {taken_issue.pk},
        "Keyword": {taken_keyword.pk},
        "Country": {taken_country.pk},
        "Language": {taken_language.pk},
        "Outlet": {taken_outlet.pk},
    }
    assert taxonomy_ids() == {name: before[name] | taken[name] for name in before}
    assert (fingerprint_of(real), fingerprint_of(later)) == (real_values, later_values)
    assert not TaxonomyRedirect.objects.filter(kind="keyword", target_id=renamed.pk).exists()
    assert synthetic.batches() == []


def fingerprint_of(case):
    case = Case.objects.get(pk=case.pk)
    return (
        case.issue_id,
        sorted(case.keywords.values_list("pk", "name")),
        sorted(case.countries.values_list("pk", "name")),
        sorted(case.languages.values_list("pk", "code")),
        sorted(case.appearances.values_list("outlet_id", "outlet__name", "url")),
    )


def test_removing_twice_loaded_cases_takes_the_values_of_both_loads():
    before = taxonomy_ids()
    run_generator("--count", 20, "--seed", 1)
    first = taxonomy_ids()
    run_generator("--count", 20, "--seed", 2)
    assert taxonomy_ids() == first  # the second load found them all

    run_generator("--remove")

    assert taxonomy_ids() == before
    assert not Case.objects.exists()


def test_a_load_recorded_before_its_values_were_loses_only_the_generators_outlets():
    """Bench databases loaded before the record named the values it created: of those,
    only the outlets are known for the generator's (its names, under .example)."""
    real_outlet = OutletFactory(name=synthetic.OUTLET_NAMES[0], domain="a-real-outlet.org")
    run_generator("--count", 20, "--seed", 1)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {synthetic.BATCH_TABLE} SET created = NULL")
    keywords = Keyword.objects.count()

    run_generator("--remove")

    assert not Case.objects.exists()
    assert list(Outlet.objects.all()) == [real_outlet]
    assert Keyword.objects.count() == keywords  # not known for the generator's: kept


def test_a_log_gets_one_line_per_step_not_progress_frames():
    stderr = io.StringIO()  # not a terminal
    main(["--count", "300", "--seed", "3"], stdout=io.StringIO(), stderr=stderr)

    log = stderr.getvalue()
    assert "\r" not in log
    lines = log.splitlines()
    assert 1 <= len(lines) <= 10, lines
    assert any(line.startswith("cases:") and "300/300" in line for line in lines)
