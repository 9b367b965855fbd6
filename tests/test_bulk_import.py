"""The bulk write of an import (cases.services.imports): new cases set by set, matched cases
compared in bulk and changed through the write path, source identity, kept ids, and the
bookkeeping every write owes (search, history, change log, facet index)."""

import datetime
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases import search
from cases.facets import facet_counts
from cases.importers.base import (
    AppearanceRef,
    CaseImportError,
    CountryRef,
    LanguageRef,
    ParsedCase,
)
from cases.models import (
    Case,
    CaseChange,
    ImportBatch,
    Outlet,
    PendingReference,
    SearchWord,
)
from cases.progress import Progress
from cases.search import (
    CASE_WORDS_SQL,
    WORD_FILTER,
    search_cases,
    vector_sql,
    vectors_of_texts,
    words_of_texts,
)
from cases.services import imports
from cases.services.editing import save_case
from cases.services.imports import save_cases
from tests.factories import CaseFactory
from tests.test_facet_index import assert_index_agrees_with_sql, world  # noqa: F401
from tests.test_facet_index import case_filter as bound_filter

Status = Case.Status


def parsed(title, line=2, **fields):
    fields.setdefault("date", datetime.date(2020, 11, 26))
    given = set(fields) - {"source_id", "source_url", "case_id", "status", "related_titles"}
    return ParsedCase(path="archive.csv", line=line, title=title, given=given, **fields)


def archive_rows():
    return [
        parsed(
            "US destroyer violated Russian territorial waters",
            line=2,
            summary="The destroyer John McCain entered Russian waters.",
            keywords=["Military", "USA"],
            languages=[LanguageRef("Russian")],
            countries=[CountryRef("Russia"), CountryRef("US")],
            appearances=[AppearanceRef("RIA Novosti", "https://ria.example/1")],
            source_url="https://euvsdisinfo.eu/report/us-destroyer-violated-russian-waters/",
        ),
        # Another case with the same title and date, told apart by its source.
        parsed(
            "US destroyer violated Russian territorial waters",
            line=3,
            summary="A second outlet repeated the claim.",
            keywords=["Military"],
            languages=[LanguageRef("Spanish")],
            appearances=[AppearanceRef("Sputnik", "https://sputnik.example/2")],
            source_url="https://euvsdisinfo.eu/report/us-destroyer-violated-russian-waters-2/",
            related_titles=["Navy provocations in the Black Sea"],
        ),
        parsed(
            "Navy provocations in the Black Sea",
            line=4,
            summary="Western navies provoke Russia.",
            keywords=["Provocation"],
            source_url="https://euvsdisinfo.eu/report/navy-provocations/",
            related_titles=["A claim the archive does not hold"],
        ),
    ]


class TestNewCases:
    def test_cases_sharing_title_and_date_are_distinct_by_source(self, db):
        summary = save_cases(archive_rows(), Status.PUBLISHED)

        assert summary.created == 3
        twins = Case.objects.filter(title__startswith="US destroyer").order_by("id")
        assert [case.source_url.rsplit("/", 2)[1] for case in twins] == [
            "us-destroyer-violated-russian-waters",
            "us-destroyer-violated-russian-waters-2",
        ]
        assert all(case.published_at is not None and case.version == 1 for case in twins)

    def test_awkward_text_is_stored_as_it_was_given(self, db):
        awkward = 'Quotes " and \'; back\\slash \\N, tab\tnew\nline\r\nand 😀 Кремль ﷺ ""'
        rows = archive_rows()
        rows[0].summary = awkward
        rows[1].summary = ""
        rows[0].appearances = [AppearanceRef("", "https://x.example/a,b")]

        save_cases(rows, Status.DRAFT)

        first = Case.objects.get(source_url=rows[0].source_url)
        assert first.summary == awkward
        assert Case.objects.get(source_url=rows[1].source_url).summary == ""
        assert first.appearances.get().outlet is None
        assert first.date == datetime.date(2020, 11, 26) and first.issue is None

    def test_new_cases_are_searchable_by_text_and_keyword_names(self, db):
        save_cases(archive_rows(), Status.PUBLISHED)

        published = Case.objects.published()
        assert search_cases(published, "McCain").count() == 1
        assert search_cases(published, "provocation").count() == 1
        assert search_cases(published, "military").count() == 2
        assert SearchWord.objects.filter(word="mccain").exists()

    @pytest.mark.parametrize("parallel_from", [2, 10_000])
    @pytest.mark.parametrize("chunk", [5000, 2])
    def test_search_vectors_and_words_are_those_of_the_write_path(
        self, db, monkeypatch, parallel_from, chunk
    ):
        # A second connection shares the text work of a big batch; this one does a small
        # batch's alone. The cases are built and written chunk by chunk.
        monkeypatch.setattr(imports, "PARALLEL_TEXTS", parallel_from)
        monkeypatch.setattr(imports, "CHUNK_CASES", chunk)
        # Texts go to the database in chunks; one text a statement here.
        monkeypatch.setattr(search, "TEXTS_PER_STATEMENT", 1)
        backends = {"words": [], "vectors": []}

        def spied(what, function):
            def spy(cursor, texts):
                backends[what].append(cursor.cursor.connection.get_backend_pid())
                return function(cursor, texts)

            return spy

        monkeypatch.setattr(imports, "words_of_texts", spied("words", words_of_texts))
        monkeypatch.setattr(imports, "vectors_of_texts", spied("vectors", vectors_of_texts))
        rows = archive_rows()
        rows[0].keywords = ["USA", "Military", "usa"]
        rows[2].keywords = []
        save_cases(rows, Status.PUBLISHED)

        # What save_case() computes: keyword names in the order their links were written.
        keyword_names = (
            "(SELECT string_agg(k.name, ' ' ORDER BY ck.ctid) FROM cases_case_keywords ck"
            " JOIN cases_keyword k ON k.id = ck.keyword_id WHERE ck.case_id = c.id)"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.search_vector::text, (" + vector_sql("c", keyword_names) + ")::text"
                " FROM cases_case c ORDER BY c.id"
            )
            vectors = cursor.fetchall()
            cursor.execute(
                "SELECT DISTINCT left(w.word, 100) FROM cases_case c CROSS JOIN LATERAL"
                f" unnest(tsvector_to_array({CASE_WORDS_SQL})) AS w(word)"
                f" WHERE c.status = 'published' AND {WORD_FILTER}"
            )
            words = {word for (word,) in cursor.fetchall()}
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (this_one,) = cursor.fetchone()
        if parallel_from == 2:
            # The second connection computed the last case's vector of each chunk, and
            # every word.
            chunks = 1 if chunk == 5000 else 2
            assert len(backends["vectors"]) == chunks and this_one not in backends["vectors"]
            assert set(backends["words"]) == set(backends["vectors"])
        else:
            assert backends == {"words": [this_one], "vectors": []}
        assert len(vectors) == 3 and all(stored for stored, _ in vectors)
        assert [stored for stored, _ in vectors] == [computed for _, computed in vectors]
        assert set(SearchWord.objects.values_list("word", flat=True)) == words
        assert {"destroyer", "navies", "military"} <= words

    def test_words_of_drafts_are_not_offered(self, db):
        save_cases(archive_rows(), Status.DRAFT)

        assert not SearchWord.objects.exists()

    def test_links_appearances_and_related_titles(self, db):
        save_cases(archive_rows(), Status.PUBLISHED)

        second = Case.objects.get(source_url__endswith="-2/")
        navy = Case.objects.get(title__startswith="Navy")
        assert sorted(second.keywords.values_list("name", flat=True)) == ["Military"]
        assert [(a.outlet.name, a.url) for a in second.appearances.all()] == [
            ("Sputnik", "https://sputnik.example/2")
        ]
        # Related both ways, within the file; an unknown title waits as a pending reference.
        assert list(second.related.all()) == [navy] and list(navy.related.all()) == [second]
        assert list(navy.pending_references.values_list("title", flat=True)) == [
            "A claim the archive does not hold"
        ]

    def test_a_pending_reference_of_an_older_case_links_up(self, db):
        older = CaseFactory(title="Older case", status=Status.PUBLISHED)
        PendingReference.objects.create(case=older, title="Navy provocations in the Black Sea")

        save_cases(archive_rows(), Status.PUBLISHED)

        navy = Case.objects.get(title__startswith="Navy")
        assert older in navy.related.all() and navy in older.related.all()
        assert not PendingReference.objects.filter(case=older).exists()

    def test_an_existing_case_named_as_related_is_linked_and_touched(self, db):
        target = CaseFactory(title="A claim the archive does not hold", status=Status.PUBLISHED)
        before = target.updated_at

        save_cases(archive_rows(), Status.PUBLISHED)

        target.refresh_from_db()
        assert target.related.get().title.startswith("Navy")
        assert target.updated_at > before

    def test_one_batch_that_lists_its_cases_and_no_history_record_per_case(
        self, db, django_user_model
    ):
        user = django_user_model.objects.create(username="importer")
        summary = save_cases(archive_rows(), Status.DRAFT, user=user, source="archive.csv")

        batch = ImportBatch.objects.get()
        assert summary.batch == batch
        assert (batch.source, batch.user, batch.created) == ("archive.csv", user, 3)
        assert batch.case_ids == summary.created_ids
        assert sorted(batch.case_ids) == sorted(Case.objects.values_list("id", flat=True))
        assert not Case.history.exists()
        # The first change of a case records its first version, as of the batch.
        case = Case.objects.get(pk=batch.case_ids[0])
        save_case(case, summary="Changed.")
        first, changed = case.history.order_by("history_date", "history_id")
        assert (first.history_type, first.history_change_reason) == ("+", f"Import #{batch.pk}")
        assert (first.history_user, first.summary) == (user, archive_rows()[0].summary)
        assert changed.summary == "Changed." and Case.history.count() == 2

    def test_kept_ids_and_the_sequence_moves_past_them(self, db):
        rows = archive_rows()
        for n, row in enumerate(rows):
            row.case_id = 5000 + n

        save_cases(rows, Status.PUBLISHED, keep_ids=True)

        assert sorted(Case.objects.values_list("id", flat=True)) == [5000, 5001, 5002]
        assert CaseFactory().pk > 5002

    def test_the_status_each_row_gives_when_asked_for(self, db):
        rows = archive_rows()
        rows[0].status, rows[1].status = Status.PUBLISHED, Status.WITHDRAWN

        save_cases(rows, None)

        statuses = dict(Case.objects.values_list("source_url", "status"))
        assert sorted(statuses.values()) == [Status.DRAFT, Status.PUBLISHED, Status.WITHDRAWN]
        withdrawn = Case.objects.get(status=Status.WITHDRAWN)
        assert withdrawn.withdrawn_at is not None


class TestReimport:
    def test_an_unchanged_file_writes_nothing(self, db):
        save_cases(archive_rows(), Status.PUBLISHED)
        versions = dict(Case.objects.values_list("id", "version"))

        summary = save_cases(archive_rows(), Status.PUBLISHED)

        assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 3)
        assert dict(Case.objects.values_list("id", "version")) == versions
        assert ImportBatch.objects.count() == 1

    def test_exactly_the_changed_cases_change_through_the_write_path(self, db):
        save_cases(archive_rows(), Status.PUBLISHED)
        rows = archive_rows()
        # A renamed case is still found by its source URL.
        rows[2].title = "Navy provocations in the Black Sea, again"
        rows[0].keywords = ["Military"]

        summary = save_cases(rows, Status.PUBLISHED)

        assert (summary.created, summary.updated, summary.unchanged) == (0, 2, 1)
        batch = summary.batch
        changed = Case.objects.filter(version=2)
        assert sorted(case.source_url for case in changed) == sorted(
            [rows[0].source_url, rows[2].source_url]
        )
        for case in changed:
            assert case.history.first().history_change_reason == f"Import #{batch.pk}"
        renamed = Case.objects.get(source_url=rows[2].source_url)
        assert renamed.title.endswith("again")
        assert Case.objects.count() == 3

    def test_a_change_to_a_summary_or_disproof_alone_is_found(self, db):
        # The long texts are compared by digest (imports.TextDigest, text_digest()).
        rows = archive_rows()
        rows[0].summary = "Кремль — «цитата» 😀"
        rows[1].disproof = "Same bytes, then not."
        save_cases(rows, Status.PUBLISHED)
        rows = archive_rows()
        rows[0].summary = "Кремль — «цитата» 😀"
        rows[1].disproof = "Same bytes, then not!"
        rows[1].given.add("disproof")  # as a file with a disproof column gives it
        rows[2].summary = rows[2].summary.replace("Russia", "Rußland")

        summary = save_cases(rows, Status.PUBLISHED)

        assert (summary.created, summary.updated, summary.unchanged) == (0, 2, 1)
        changed = set(Case.objects.filter(version=2).values_list("source_url", flat=True))
        assert changed == {rows[1].source_url, rows[2].source_url}

    def test_a_keyed_row_takes_a_case_typed_in_by_hand_and_keys_it(self, db):
        typed = CaseFactory(
            title="Navy provocations in the Black Sea", date=datetime.date(2020, 11, 26)
        )
        rows = [archive_rows()[2]]

        summary = save_cases(rows, Status.DRAFT)

        assert (summary.created, summary.updated) == (0, 1)
        typed.refresh_from_db()
        assert typed.source_url == rows[0].source_url

    def test_a_keyed_row_never_takes_a_case_with_another_key(self, db):
        other = CaseFactory(
            title="Navy provocations in the Black Sea",
            date=datetime.date(2020, 11, 26),
            source_url="https://euvsdisinfo.eu/report/another-report/",
        )
        rows = [archive_rows()[2]]

        summary = save_cases(rows, Status.DRAFT)

        assert summary.created == 1
        assert Case.objects.exclude(pk=other.pk).get().source_url == rows[0].source_url

    def test_a_row_without_a_source_key_matches_by_title_and_date(self, db):
        typed = CaseFactory(
            title="Navy provocations in the Black Sea", date=datetime.date(2020, 11, 26)
        )
        row = archive_rows()[2]
        row.source_url = ""

        summary = save_cases([row], Status.DRAFT)

        assert (summary.created, summary.updated) == (0, 1)
        typed.refresh_from_db()
        assert typed.summary == "Western navies provoke Russia."


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("world")
def test_a_committed_bulk_import_is_logged_and_counted_by_the_facet_index():
    before_ids = set(Case.objects.values_list("id", flat=True))
    published_before = facet_counts(bound_filter("")).total
    assert_index_agrees_with_sql()
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(seq), 0) FROM cases_casechange")
        (before,) = cursor.fetchone()

    save_cases(archive_rows(), Status.PUBLISHED)

    new_ids = set(Case.objects.values_list("id", flat=True)) - before_ids
    logged = set(CaseChange.objects.filter(seq__gt=before).values_list("case_id", flat=True))
    assert len(new_ids) == 3 and new_ids <= logged
    assert facet_counts(bound_filter("")).total == published_before + 3
    assert_index_agrees_with_sql()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("world")
def test_a_big_batch_is_one_change_of_the_log_that_names_every_case(monkeypatch):
    # Past BIG_STATEMENT new cases a batch is written in bulk (dataversion.bulk_write()):
    # the change log gets one change for it, and each case it wrote or linked to.
    monkeypatch.setattr(imports, "BIG_STATEMENT", 2)
    older = CaseFactory(title="Older case", status=Status.PUBLISHED)
    PendingReference.objects.create(case=older, title="Navy provocations in the Black Sea")
    published_before = facet_counts(bound_filter("")).total
    assert_index_agrees_with_sql()
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(seq), 0) FROM cases_casechange")
        (before,) = cursor.fetchone()
        cursor.execute("SELECT coalesce(max(id), 0) FROM cases_datachange")
        (last_change,) = cursor.fetchone()

    summary = save_cases(archive_rows(), Status.PUBLISHED)

    with connection.cursor() as cursor:
        cursor.execute("SELECT scope FROM cases_datachange WHERE id > %s", [last_change])
        scopes = [scope for (scope,) in cursor.fetchall()]
    # New keywords and outlets are label changes of their own; the cases are one change.
    assert scopes.count("all") == 1 and "case" not in scopes
    logged = set(CaseChange.objects.filter(seq__gt=before).values_list("case_id", flat=True))
    assert logged == {*summary.created_ids, older.pk}
    assert older.related.get().title.startswith("Navy")
    assert facet_counts(bound_filter("")).total == published_before + 3
    assert_index_agrees_with_sql()


@pytest.mark.parametrize("chunk", [5000, 1])
def test_a_big_batch_refers_only_to_rows_that_exist(db, monkeypatch, chunk):
    # Written in bulk, rows are not checked one by one against their foreign keys: the
    # batch checks (and locks) each value they refer to once. With a chunk a case, the
    # error is met by the thread writing while the next chunk is built.
    monkeypatch.setattr(imports, "BIG_STATEMENT", 2)
    monkeypatch.setattr(imports, "CHUNK_CASES", chunk)
    resolver = imports.TaxonomyResolver()
    rows = archive_rows()
    resolver.prepare(rows)
    # Gone after the names were resolved: the second case refers to it.
    Outlet.objects.filter(pk=resolver.outlet("Sputnik").pk).delete()

    with pytest.raises(CaseImportError, match="cases_outlet has no row with id"):
        save_cases(rows, Status.PUBLISHED, resolver=resolver)

    assert not Case.objects.exists() and not ImportBatch.objects.exists()
    assert not any(thread.name.startswith("import") for thread in threading.enumerate())


def index_definitions():
    """The indexes of the tables new cases are written to: {name: definition}."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), i.indisvalid"
            " FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[])",
            [list(imports.WRITTEN_TABLES)],
        )
        rows = cursor.fetchall()
    assert all(valid for _, _, valid in rows)
    return {name: definition for name, definition, _ in rows}


def dropped_indexes(queries):
    return [
        query["sql"].split()[-1].strip('"') for query in queries if "DROP INDEX" in query["sql"]
    ]


class TestFirstLoad:
    """A big batch into an empty case table builds the secondary indexes after its rows
    (imports.indexes_built_after())."""

    def test_the_indexes_are_dropped_and_built_again_the_same(self, db, monkeypatch):
        monkeypatch.setattr(imports, "BIG_STATEMENT", 2)
        before = index_definitions()

        with CaptureQueriesContext(connection) as queries:
            save_cases(archive_rows(), Status.PUBLISHED)

        dropped = dropped_indexes(queries)
        # Every secondary index, among them the full-text and title ones; not the keys.
        assert {"case_search_date_idx", "case_title_trgm_idx"} <= set(dropped)
        assert "cases_case_pkey" not in dropped and "case_source_url_unique" not in dropped
        assert len(dropped) == len(set(dropped)) >= 20
        assert index_definitions() == before
        built = [query["sql"] for query in queries if query["sql"].startswith("CREATE INDEX")]
        assert sorted(built) == sorted(before[name] for name in dropped)

    def test_a_table_with_cases_keeps_its_indexes_while_it_loads(self, db, monkeypatch):
        monkeypatch.setattr(imports, "BIG_STATEMENT", 2)
        CaseFactory(title="Already here", status=Status.PUBLISHED)

        with CaptureQueriesContext(connection) as queries:
            save_cases(archive_rows(), Status.PUBLISHED)

        assert dropped_indexes(queries) == []
        assert Case.objects.count() == 4

    def test_a_database_user_that_does_not_own_the_tables_keeps_the_indexes(self, db, monkeypatch):
        # Only a table's owner may drop its indexes: a user that may only write rows
        # imports as into a database with cases.
        monkeypatch.setattr(imports, "BIG_STATEMENT", 2)
        with connection.cursor() as cursor:
            cursor.execute("CREATE ROLE disinfo_writer_only NOLOGIN")
            cursor.execute(
                "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"
                " ON ALL TABLES IN SCHEMA public TO disinfo_writer_only"
            )
            cursor.execute(
                "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public"
                " TO disinfo_writer_only"
            )
            cursor.execute("SET LOCAL ROLE disinfo_writer_only")

        with CaptureQueriesContext(connection) as queries:
            summary = save_cases(archive_rows(), Status.PUBLISHED)

        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
        assert summary.created == 3
        assert dropped_indexes(queries) == []

    def test_a_small_batch_keeps_the_indexes(self, db):
        with CaptureQueriesContext(connection) as queries:
            save_cases(archive_rows(), Status.PUBLISHED)

        assert dropped_indexes(queries) == []

    def test_a_failed_first_load_leaves_every_index(self, db, monkeypatch):
        monkeypatch.setattr(imports, "BIG_STATEMENT", 2)
        before = index_definitions()
        resolver = imports.TaxonomyResolver()
        rows = archive_rows()
        resolver.prepare(rows)
        Outlet.objects.filter(pk=resolver.outlet("Sputnik").pk).delete()

        with pytest.raises(CaseImportError):
            save_cases(rows, Status.PUBLISHED, resolver=resolver)

        assert index_definitions() == before and not Case.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_committed_first_load_is_searched_and_counted_through_its_new_indexes(monkeypatch):
    monkeypatch.setattr(imports, "BIG_STATEMENT", 2)
    before = index_definitions()

    save_cases(archive_rows(), Status.PUBLISHED)

    assert index_definitions() == before
    assert facet_counts(bound_filter("")).total == 3
    assert facet_counts(bound_filter("keyword=military")).total == 2
    with transaction.atomic(), connection.cursor() as cursor:
        # The planner takes the rebuilt full-text and title indexes when it must.
        cursor.execute("SET LOCAL enable_seqscan = off")
        published = Case.objects.published()
        assert search_cases(published, "McCain").count() == 1
        assert Case.objects.filter(title__trigram_similar="US destroyer violated").count() == 2
        cursor.execute(
            "EXPLAIN SELECT id FROM cases_case"
            " WHERE search_vector @@ to_tsquery('disinfo', 'mccain')"
        )
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "case_search_date_idx" in plan or "case_sample_search_idx" in plan


class TestProgress:
    def test_a_log_gets_one_line_per_step(self):
        stream = io.StringIO()
        progress = Progress("new cases", 10_000, stream)
        for done in range(0, 10_000, 100):
            progress.update(done)
        progress.finish()

        lines = stream.getvalue().splitlines()
        assert len(lines) == 1 and lines[0].startswith("new cases:") and "\r" not in lines[0]
        assert "10,000/10,000" in lines[0]

    def test_a_terminal_gets_a_bar_redrawn_in_place(self):
        class Terminal(io.StringIO):
            def isatty(self):
                return True

        stream = Terminal()
        progress = Progress("new cases", 10, stream)
        progress.update(5, force=True)
        progress.finish()

        text = stream.getvalue()
        assert text.count("\r") == 2 and text.endswith("\n") and "[###" in text

    def test_a_step_of_unknown_size_shows_its_count_without_a_bar(self):
        class Terminal(io.StringIO):
            def isatty(self):
                return True

        stream, log = Terminal(), io.StringIO()
        for out in (stream, log):
            progress = Progress("reading file", None, out)
            progress.update(1234, force=True)
            progress.finish(2500)

        assert "\rreading file" in stream.getvalue() and "[" not in stream.getvalue()
        assert "1,234" in stream.getvalue() and "2,500" in stream.getvalue()
        assert log.getvalue().startswith("reading file:     2,500 ")
        assert log.getvalue().count("\n") == 1 and "/" not in log.getvalue().split("s")[0]

    @pytest.mark.django_db
    def test_the_import_command_shows_each_checking_step(self, tmp_path, capsys):
        path = tmp_path / "cases.csv"
        path.write_text("title,languages\nOne claim,Russian\nAnother claim,English\n")

        call_command("import_cases", str(path), stdout=io.StringIO())

        lines = capsys.readouterr().err.splitlines()
        steps = [line.split(":")[0] for line in lines]
        assert steps == ["reading file", "checking names", "new cases"], lines
        assert lines[0].split()[2] == "2" and "2/2" in lines[1]


def test_the_import_bench_reads_each_step_of_a_first_load(db, tmp_path, capsys, monkeypatch):
    # bench/import_speed.py reports the steps from the command's log lines.
    from bench.import_speed import step_seconds

    monkeypatch.setattr(imports, "BIG_STATEMENT", 2)
    path = tmp_path / "cases.csv"
    path.write_text("title,languages\nOne claim,Russian\nAnother claim,English\nThird,English\n")

    call_command("import_cases", str(path), stdout=io.StringIO())

    steps = step_seconds(capsys.readouterr().err)
    assert list(steps) == ["reading file", "checking names", "new cases", "building indexes"]
    assert all(seconds >= 0 for seconds in steps.values())


def test_the_admin_lists_each_import_and_the_cases_it_wrote(db, client, django_user_model):
    CaseFactory(title="Typed by hand")
    summary = save_cases(archive_rows(), Status.DRAFT, source="archive.csv")
    client.force_login(django_user_model.objects.create_superuser("admin", "a@example.com", "x"))

    batches = client.get("/admin/cases/importbatch/").content.decode()
    assert f"Import #{summary.batch.pk}" in batches and "archive.csv" in batches
    # A batch is a record of what happened: it cannot be deleted.
    assert client.get(f"/admin/cases/importbatch/{summary.batch.pk}/delete/").status_code == 403

    listed = client.get(f"/admin/cases/case/?import_batch={summary.batch.pk}")
    titles = sorted(case.title for case in listed.context["cl"].result_list)
    assert titles == [
        "Navy provocations in the Black Sea",
        "US destroyer violated Russian territorial waters",
        "US destroyer violated Russian territorial waters",
    ]
    assert client.get("/admin/cases/case/?import_batch=x").status_code == 200
