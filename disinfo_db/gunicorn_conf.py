"""gunicorn settings: `gunicorn disinfo_db.wsgi -c disinfo_db/gunicorn_conf.py`."""

import os

# One sync worker per CPU this process may run on; WEB_CONCURRENCY (or --workers) overrides.
# A request is CPU work (PostgreSQL answers in well under a millisecond), and every idle
# worker wakes for each new connection, all but one in vain: on two CPUs, four workers made
# a case page take 4.2-4.4 ms instead of 3.2-3.5 (sequential requests, a million cases).
workers = int(os.environ.get("WEB_CONCURRENCY", 0)) or len(os.sched_getaffinity(0))

timeout = 300  # the first facet index build at a million cases takes a few seconds
graceful_timeout = 10
# One JSON object per request (disinfo_db/accesslog.py), on stdout unless
# GUNICORN_ACCESS_LOG names a file; "off" for none.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
if accesslog == "off":
    accesslog = None
logger_class = "disinfo_db.accesslog.JSONAccessLogger"


def post_worker_init(worker):
    """Ready the worker (facet index, templates) before it takes its first request."""
    from disinfo_db.warmup import warm_up

    warm_up()
