"""gunicorn settings for the bench server (bench/run.py)."""

timeout = 300  # the first facet index build at a million cases takes a few seconds
graceful_timeout = 10
accesslog = None


def post_worker_init(worker):
    """Build the facet index before the worker takes its first request."""
    from cases import facets

    facets.warm_up()
