"""make bench (bench/run.py): its rows ask what the site answers, it signs in to the admin
over HTTP, it tells which worker answered, and BENCH_QUESTIONS chooses rows.

The questions are built from synthetic cases, which the generator commits on connections of
its own: these tests commit too (transaction=True).
"""

import io
import os
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from bench import run, synthetic
from bench.wsgi import WORKER_HEADER, application

# The second pass's questions, and the admin's: each its own row, with fresh variants.
DRAWN_ROWS = [
    "list-tail-keyword-country",
    "list-4-facets",
    "list-or-of-3-keywords",
    "list-date-window-keyword",
    "search-two-words",
    "search-quoted-phrase",
    "search-word-word",
    "search-date-window-by-date",
    "stats-2-filters",
    "atom-feed-filtered",
    "api-list-filtered-oldest-first",
    "api-facets-with-a-search",
    "case-page",
    "admin-case-list",
    "admin-common-word-search",
    "admin-keyword-list",
    "admin-outlet-list",
    "admin-change-form",
]


@pytest.fixture
def synthetic_cases(transactional_db):
    synthetic.generate(300, seed=4, stream=io.StringIO())
    yield
    synthetic.remove_synthetic(stream=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {synthetic.BATCH_TABLE}")


def test_rows_are_chosen_by_key_or_glob_pattern():
    keys = ["list-4-facets", "search-two-words", "search-word-word", "admin-case-list"]
    patterns = run.row_patterns(" Search-*, admin-case-list ,")
    assert patterns == ["search-*", "admin-case-list"]
    assert [k for k in keys if run.chosen(patterns, k)] == keys[1:]
    assert all(run.chosen([], k) for k in keys)  # no BENCH_QUESTIONS: every row
    run.check_patterns(patterns, keys)
    run.check_patterns(["mixed-load", "import", "dumps", "soak"], run.OTHER_ROWS)
    with pytest.raises(SystemExit, match="no row matches serch-\\*. Rows: list-4-facets"):
        run.check_patterns(["serch-*", "admin-*"], keys)
    assert run.question_key("search, `word -word`") == "search-word-word"
    assert run.question_key("list, tail keyword + country") == "list-tail-keyword-country"


def test_every_variant_of_every_row_is_answered(synthetic_cases):
    questions, published = run.build_questions(quick=True)
    assert published > 250
    by_key = {q.key: q for q in questions}
    assert len(by_key) == len(questions), "two rows share a key"
    assert set(DRAWN_ROWS) <= set(by_key)
    for key in DRAWN_ROWS:
        question = by_key[key]
        # Fresh variants: different from each other and from the repeated one.
        assert len(question.first) >= 4, key
        assert len({question.repeat, *question.first}) == len(question.first) + 1, key
        assert question.draw is not None and question.raw is not None, key
    # Datasette is asked the same question, where it has one.
    assert by_key["search-quoted-phrase"].datasette.count("_searchmode=raw") == 1
    assert "_where=EXISTS" in by_key["list-or-of-3-keywords"].datasette
    assert all(by_key[k].kind == "admin" for k in DRAWN_ROWS if k.startswith("admin-"))

    anonymous, admin = Client(), Client()
    admin.force_login(User.objects.create_superuser("bench-test", password="not-used"))
    for question in questions:
        client = admin if question.kind == "admin" else anonymous
        for path in [question.repeat, *question.first]:
            response = client.get(path)
            assert response.status_code == 200, (question.name, path, response.status_code)
    # The first asks of the searches and filters find cases in most variants.
    phrase = by_key["search-quoted-phrase"].first[0]
    assert anonymous.get(phrase.replace("/cases/", "/api/v1/cases/")).json()["count"] > 0

    # The exact SQL beside each row runs.
    assert by_key["stats-2-filters"].raw() >= 0
    assert by_key["admin-outlet-list"].raw() >= 0


def test_the_mixed_load_asks_fresh_variants_only(synthetic_cases, live_server):
    questions, _ = run.build_questions(quick=True)
    asked = {path for q in questions for path in [q.repeat, *q.first]}
    before = set(asked)
    port = int(live_server.url.rsplit(":", 1)[1])
    mixed = run.mixed_load(port, questions, asked, seconds=3)
    assert mixed["errors"] == 0, mixed["error_examples"]
    assert mixed["n"] > 0 and mixed["concurrency"] == 8
    assert mixed["questions"] == [q.name for q in questions if q.draw and q.kind != "admin"]
    new = asked - before
    assert len(new) == mixed["n"]  # one new path per request, none a row had asked
    assert {path.split("?")[0] for path in new} & {"/cases/", "/stats/", "/api/v1/cases/"}


@pytest.fixture
def bench_server(transactional_db):
    """bench/wsgi.py's application on a loopback port, in this process: one "worker"."""

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = make_server("127.0.0.1", 0, application, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def test_each_answer_names_its_worker_and_the_repeat_reaches_every_worker(bench_server):
    status, _, _, headers = run.fetch(bench_server, "/robots.txt")
    assert status == 200
    assert headers[WORKER_HEADER] == str(os.getpid())

    answers, asked = run.ask_on_every_worker(
        bench_server, "/robots.txt", [os.getpid()], per_worker=3, seconds=30
    )
    assert asked == 3
    assert list(answers) == [str(os.getpid())] and len(answers[str(os.getpid())]) == 3
    summary = run.every_worker_summary(answers)[str(os.getpid())]
    assert summary["n"] == 3 and summary["first"] > 0 and summary["max"] >= summary["p50"]

    # A worker that never answers is reported empty, and the asking stops at its bound.
    answers, asked = run.ask_on_every_worker(
        bench_server, "/robots.txt", [os.getpid(), 1], per_worker=1, seconds=30
    )
    assert answers["1"] == [] and asked == 40
    assert run.every_worker_summary(answers)["1"]["n"] == 0


def test_the_admin_rows_sign_in_over_http(live_server):
    password = run.ensure_superuser()
    port = int(live_server.url.rsplit(":", 1)[1])
    assert run.fetch(port, "/admin/cases/case/")[0] == 302  # not signed in
    cookie = run.admin_session(port, run.ADMIN_USER, password)
    status, body, _, _ = run.fetch(port, "/admin/cases/case/", headers={"Cookie": cookie})
    assert status == 200 and b"Select case to change" in body
    # A new password each run: the last one no longer signs in.
    run.ensure_superuser()
    with pytest.raises(SystemExit, match="answered 200, not 302"):
        run.admin_session(port, run.ADMIN_USER, password)
