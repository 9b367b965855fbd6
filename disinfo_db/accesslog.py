"""gunicorn's access log as JSON lines: one object per request, on stdout by default.

    {"time": "2026-12-07T04:10:00.123+00:00", "remote_addr": "10.0.0.5",
     "forwarded_for": "203.0.113.7", "method": "GET", "path": "/cases/", "query": "q=nato",
     "status": 200, "bytes": 18234, "duration_ms": 4.1, "host": "disinfo.example",
     "referer": "", "user_agent": "Mozilla/5.0 ...", "served_stale": false, "pid": 4242}

"pid" is the worker that answered (each keeps its own facet index, and its page cache
without CACHE_URL).

gunicorn's own format strings cannot escape a quote in a URL or a user agent; json.dumps
can. Selected in disinfo_db/gunicorn_conf.py (logger_class).
"""

import datetime
import json
import os

from gunicorn.glogging import Logger


def access_record(resp, req, environ, request_time):
    status = resp.status
    if isinstance(status, str):
        status = status.split(None, 1)[0]
    response_headers = {name.lower(): value for name, value in (resp.headers or ())}
    return {
        "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
        "remote_addr": environ.get("REMOTE_ADDR", ""),
        "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR", ""),
        "method": environ.get("REQUEST_METHOD", ""),
        "path": environ.get("PATH_INFO", ""),
        "query": environ.get("QUERY_STRING", ""),
        "status": int(status),
        "bytes": getattr(resp, "sent", None),
        "duration_ms": round(request_time.total_seconds() * 1000, 3),
        "host": environ.get("HTTP_HOST", ""),
        "referer": environ.get("HTTP_REFERER", ""),
        "user_agent": environ.get("HTTP_USER_AGENT", ""),
        "served_stale": "x-served-stale" in response_headers,
        "pid": os.getpid(),
    }


class JSONAccessLogger(Logger):
    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        try:
            self.access_log.info(json.dumps(access_record(resp, req, environ, request_time)))
        except Exception:
            self.exception("access log: the record could not be written")
