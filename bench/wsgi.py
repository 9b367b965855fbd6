"""The site's WSGI application as the bench serves it: every answer names the gunicorn
worker that made it, in an X-Bench-Worker header (its process id).

The bench's repeat on every worker (bench/run.py) needs to know which worker answered each
request; the site itself never sends this header. The wrapper adds one header to the list
Django hands to gunicorn and nothing else: the application, its middleware and its caches
are the ones production runs.
"""

import os

from disinfo_db.wsgi import application as site

WORKER_HEADER = "X-Bench-Worker"


def application(environ, start_response):
    worker = str(os.getpid())

    def start(status, headers, exc_info=None):
        return start_response(status, [*headers, (WORKER_HEADER, worker)], exc_info)

    return site(environ, start)
