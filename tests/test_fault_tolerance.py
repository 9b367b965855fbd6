"""PostgreSQL stopped under load, as production serves: gunicorn with DJANGO_DEBUG=0 (after
collectstatic, as `make serve` runs it) against a PostgreSQL server of the test's own.

Readers and writers keep asking while the server is stopped at once (`pg_ctl stop -m
immediate`, as a crash would) and started again a few seconds later. No answer may be a
500, every write that was answered 2xx must be in the database afterwards, and the site
must answer as usual once the database is back.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from tests.private_postgres import PrivatePostgres, free_port, start_gunicorn

BASE_DIR = Path(__file__).resolve().parent.parent
SEED_FILE = BASE_DIR / "fixtures" / "seed_cases.txt"

MAKE_EDITOR = """
from django.contrib.auth.models import Permission, User
from cases.api.tokens import issue_token
from cases.models import ApiToken
user = User.objects.create_user("fault-editor", password="not-used")
user.user_permissions.set(Permission.objects.filter(
    content_type__app_label="cases", codename__in=["view_case", "add_case", "change_case"]))
print(issue_token(user, scope=ApiToken.Scope.WRITE)[1])
"""

READS = [
    "/cases/",
    "/cases/?q=russia",
    "/stats/",
    "/keywords/",
    "/api/v1/cases/",
    "/api/v1/keywords/",
    "/api/v1/cases/facets/",
    "/cases/feed/rss/",
]
OK_STATUSES = {200, 201, 304, 503}


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


def request(base, path, body=None, token=None, timeout=10):
    """(status, headers) of one request; connection failures count as status 0."""
    headers = {"Accept": "application/json"} if path.startswith("/api/") else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers.update({"Content-Type": "application/json", "Authorization": f"Token {token}"})
    req = urllib.request.Request(base + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
    except OSError:
        return 0, {}, b""


@pytest.fixture(scope="module")
def served():
    """(base URL, editor token, server, access log path) of a running gunicorn."""
    with PrivatePostgres() as server:
        server.psql("postgres", "CREATE DATABASE disinfo")
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("DJANGO_", "DISINFO_", "GUNICORN_"))
        }
        env.update(
            DATABASE_URL=server.url("disinfo"),
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY="fault-test-" + "x9" * 30,
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DJANGO_SECURE_SSL_REDIRECT="0",
            DISINFO_OUTAGE_RETRY_AFTER="2",
            # The readers ask more than the anonymous API rate allows in a few seconds: the
            # throttle's 429s are not what this test is about (tests/test_api.py tests them).
            DISINFO_API_ANON_RATE="",
            # One worker: what its page cache kept is what the outage can be answered from.
            WEB_CONCURRENCY="1",
        )
        collect = subprocess.Popen(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=BASE_DIR,
            env=env,
        )
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "import_cases", str(SEED_FILE), "--status", "published")
        token = manage(env, "shell", "-c", MAKE_EDITOR).strip().splitlines()[-1]
        assert collect.wait(timeout=120) == 0

        port = free_port()
        log = server.root / "gunicorn.log"
        gunicorn = start_gunicorn(env, port, log)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while request(base, "/healthz")[0] != 200:
                assert gunicorn.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            yield base, token, server, log
        finally:
            gunicorn.terminate()
            gunicorn.wait(timeout=20)


def test_with_debug_off_every_page_answers_after_collectstatic(served):
    base = served[0]
    for path in READS:
        status, headers, _ = request(base, path)
        assert status == 200, path
        assert "Content-Security-Policy" in headers


def test_the_access_log_is_one_json_object_per_request(served):
    base, _, _, log = served
    request(base, '/cases/?q="quoted"')
    time.sleep(0.3)

    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]

    asked = [r for r in records if r["path"] == "/cases/" and "quoted" in r["query"]]
    assert asked, records[-5:]
    assert asked[-1]["status"] == 200
    assert asked[-1]["method"] == "GET"
    assert asked[-1]["duration_ms"] > 0
    assert asked[-1]["bytes"] > 0


def test_stopping_postgresql_mid_load_gives_no_500_and_loses_no_committed_write(served):
    base, token, server, _ = served
    for path in READS:  # kept by the page cache: answered through the outage
        assert request(base, path)[0] == 200

    statuses = Counter()
    stale = Counter()
    written = []  # titles of writes answered 2xx
    refused_writes = Counter()
    unavailable_reads = []
    stop = threading.Event()
    lock = threading.Lock()

    def reader(offset):
        n = offset
        while not stop.is_set():
            path = READS[n % len(READS)]
            if n % 5 == 4:  # a search never asked before: nothing kept for it
                path = f"/api/v1/cases/?q=claim{offset}x{n}"
            status, headers, _ = request(base, path)
            with lock:
                statuses[status] += 1
                if headers and headers.get("X-Served-Stale"):
                    stale[path] += 1
                if status == 503:
                    unavailable_reads.append(path)
            n += 1

    def writer(name):
        n = 0
        while not stop.is_set():
            title = f"Fault write {name}-{n}"
            body = {
                "title": title,
                "summary": "Written under load.",
                "disproof": "None.",
                "appearances": [
                    {"url": f"https://example.org/{name}-{n}/a"},
                    {"url": f"https://example.org/{name}-{n}/b"},
                ],
            }
            status, _, _ = request(base, "/api/v1/cases/", body=body, token=token)
            with lock:
                statuses[status] += 1
                if 200 <= status < 300:
                    written.append(title)
                else:
                    refused_writes[status] += 1
            n += 1
            time.sleep(0.05)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        server.stop("immediate")
        time.sleep(4)
        server.start()
        time.sleep(3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    assert set(statuses) <= OK_STATUSES, statuses
    assert statuses[503] > 0, statuses  # the outage was seen
    assert sum(stale.values()) > 0, statuses  # and kept pages were answered through it
    assert set(stale) <= set(READS)
    assert unavailable_reads and all("?q=claim" in path for path in unavailable_reads)
    assert refused_writes and set(refused_writes) == {503}, refused_writes
    assert len(written) > 0

    stored = server.psql("disinfo", "SELECT title FROM cases_case WHERE title LIKE 'Fault write%'")
    assert set(written) <= set(stored.splitlines())
    half_written = server.psql(
        "disinfo",
        "SELECT count(*) FROM cases_case c WHERE c.title LIKE 'Fault write%'"
        " AND (SELECT count(*) FROM cases_appearance a WHERE a.case_id = c.id) <> 2",
    )
    assert half_written.strip() == "0"  # each write is whole or absent

    for path in [*READS, "/healthz"]:
        status, headers, _ = request(base, path)
        assert status == 200, path
        assert not headers.get("X-Served-Stale"), path
    status, _, _ = request(base, "/api/v1/cases/", body={"title": "After the outage"}, token=token)
    assert status == 201
