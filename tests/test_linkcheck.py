"""Link checking against a local HTTP server; the tests never reach the internet."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command

from cases.linkcheck import is_alive
from cases.models import LinkStatus
from tests.editors import make_user
from tests.factories import AppearanceFactory, CaseFactory


class Handler(BaseHTTPRequestHandler):
    def do_HEAD(self):
        if self.path == "/no-head":
            self.send_response(405)
        elif self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/ok")
        else:
            self.send_response(200 if self.path.startswith("/ok") else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        status = 200 if self.path in ("/ok", "/no-head") else 404
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"hi")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_working_url_is_alive_and_a_missing_page_is_not(server):
    assert is_alive(f"{server}/ok", timeout=5)
    assert not is_alive(f"{server}/gone", timeout=5)


def test_a_server_refusing_head_is_asked_with_get(server):
    assert is_alive(f"{server}/no-head", timeout=5)


def test_redirects_are_followed(server):
    assert is_alive(f"{server}/moved", timeout=5)


def test_a_refused_connection_is_dead(closed_port):
    assert not is_alive(f"http://127.0.0.1:{closed_port}/", timeout=5)


@pytest.mark.django_db
def test_the_command_records_dead_and_working_links(server, closed_port):
    good = AppearanceFactory(url=f"{server}/ok", archive_url=f"{server}/ok?archived")
    bad = AppearanceFactory(url=f"{server}/gone", archive_url=f"http://127.0.0.1:{closed_port}/")
    no_archive = AppearanceFactory(url=f"{server}/ok", archive_url="")
    call_command("check_links", "--workers", "4", "--timeout", "5")
    for appearance in (good, bad, no_archive):
        appearance.refresh_from_db()
        assert appearance.last_checked_at is not None
    assert (good.url_status, good.archive_status) == (LinkStatus.OK, LinkStatus.OK)
    assert (bad.url_status, bad.archive_status) == (LinkStatus.DEAD, LinkStatus.DEAD)
    assert (no_archive.url_status, no_archive.archive_status) == (LinkStatus.OK, "")


@pytest.mark.django_db
def test_checking_links_is_not_an_editorial_change(server):
    appearance = AppearanceFactory(url=f"{server}/gone")
    records = appearance.history.count()
    call_command("check_links")
    assert appearance.history.count() == records


@pytest.mark.django_db
def test_the_command_rejects_a_bad_worker_count():
    with pytest.raises(CommandError, match="--workers"):
        call_command("check_links", "--workers", "0")


@pytest.mark.django_db
def test_the_admin_filters_cases_with_dead_links(client, server):
    dead = CaseFactory(title="Case with a dead link")
    AppearanceFactory(case=dead, url=f"{server}/gone", archive_url="")
    alive = CaseFactory(title="Case with working links")
    AppearanceFactory(case=alive, url=f"{server}/ok", archive_url="")
    call_command("check_links", "--timeout", "5")
    client.force_login(make_user("editor", "Editors"))
    html = client.get("/admin/cases/case/?links=dead").content.decode()
    assert "Case with a dead link" in html and "Case with working links" not in html
