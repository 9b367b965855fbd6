"""gunicorn settings: `gunicorn disinfo_db.wsgi -c disinfo_db/gunicorn_conf.py`."""

import gc
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

# GUNICORN_PRELOAD=1: load the application and build the facet index once, in the master,
# before it forks the workers; they then share its pages copy-on-write until they write
# to them (memory per worker, measured: docs/performance.md, "Memory"). A worker still
# brings the index up to the data version on its first request, and opens its own database
# connections. The cost: a code change needs a restart, not a HUP.
preload_app = os.environ.get("GUNICORN_PRELOAD", "0") == "1"


def when_ready(server):
    """With preload_app, ready the master (facet index, templates) before the first fork."""
    if not server.cfg.preload_app:
        return
    from django.db import connections

    from disinfo_db.warmup import warm_up

    warm_up()
    # A connection opened here must not be shared by the forked workers.
    connections.close_all()
    # The garbage collector would otherwise write to every object it walks in a worker,
    # copying the pages they sit on.
    gc.freeze()


def post_worker_init(worker):
    """Ready the worker (facet index, templates) before it takes its first request; after
    a preload, its index is the master's, brought up to date if a write came since."""
    from disinfo_db.warmup import warm_up

    warm_up()
    # What warm-up built (the facet index, templates, modules) lives as long as the worker:
    # out of the collector's sight, a full collection no longer walks it, which took 40-80 ms
    # at a million cases, about one request in 300 (docs/performance.md, "Memory").
    gc.freeze()
