"""gunicorn settings: `gunicorn disinfo_db.wsgi -c disinfo_db/gunicorn_conf.py`."""

timeout = 300  # the first facet index build at a million cases takes a few seconds
graceful_timeout = 10
accesslog = None


def post_worker_init(worker):
    """Ready the worker (facet index, templates) before it takes its first request."""
    from disinfo_db.warmup import warm_up

    warm_up()
