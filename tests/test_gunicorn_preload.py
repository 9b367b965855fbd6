"""GUNICORN_PRELOAD=1: the master loads the site and builds the facet index before it forks
its workers (disinfo_db/gunicorn_conf.py). Each worker must still get database connections
of its own, answer from the index, and follow writes made after the fork."""

import json
import os
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.factories import CaseFactory, KeywordFactory
from tests.private_postgres import free_port, start_gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(__file__).resolve().parent.parent


def database_url():
    db = connection.settings_dict
    return (
        f"postgres://{quote(db['USER'] or '', safe='')}:{quote(db['PASSWORD'] or '', safe='')}"
        f"@{quote(db['HOST'] or '', safe='')}:{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.fixture
def preloaded(tmp_path):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_DEBUG": "1",
        "GUNICORN_PRELOAD": "1",
        "WEB_CONCURRENCY": "2",
    }
    env.pop("CACHE_URL", None)
    server = start_gunicorn(env, port, log)
    try:
        yield f"http://127.0.0.1:{port}", log, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def answers_from_both_workers(base, log, path):
    """Bodies of `path` from each of the two workers: {pid: body}."""
    bodies = {}
    deadline = time.monotonic() + 120
    while len(bodies) < 2:
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(base + path, timeout=30) as response:
                body = response.read().decode()
        except OSError:
            time.sleep(0.2)  # not listening yet
            continue
        time.sleep(0.05)  # the access log line follows the answer
        records = [json.loads(line) for line in log.read_text().splitlines() if line[:1] == "{"]
        bodies.setdefault(records[-1]["pid"], body)
    return bodies


def test_preloaded_workers_answer_from_the_index_and_follow_writes(preloaded):
    base, log, server = preloaded
    keyword = KeywordFactory(name="Biolabs", slug="biolabs")
    CaseFactory(title="Before the fork", keywords=[keyword])
    path = "/api/v1/cases/?keyword=biolabs"

    before = answers_from_both_workers(base, log, path)
    assert server.pid not in before  # workers answer, not the master
    assert all("Before the fork" in body for body in before.values())

    CaseFactory(title="After the fork", keywords=[keyword])
    after = answers_from_both_workers(base, log, path)
    assert all("After the fork" in body for body in after.values())
    assert "Traceback" not in log.read_text()
