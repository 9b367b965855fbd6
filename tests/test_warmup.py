"""A web process readies itself before its first request (disinfo_db.warmup)."""

import pytest
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext

from cases import facets
from cases.readmodels.case_page import published_case_for_page
from disinfo_db.warmup import warm_up

pytestmark = pytest.mark.django_db(transaction=True)


def test_warming_up_builds_the_facet_index_and_compiles_every_template():
    facets.reset()
    environment = engines["jinja2"].env
    environment.cache.clear()  # forget templates earlier tests compiled

    names = warm_up()

    assert facets.index_status()["built"]
    assert {"base.html", "cases/case_list.html", "cases/case_detail.html"} <= set(names)
    compiled = {name for _loader, name in environment.cache}
    assert set(names) <= compiled


def test_warming_up_prepares_the_statements_public_pages_send():
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection._prepared_statements = None

    warm_up()

    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        prepared = {name for (name,) in cursor.fetchall()}
    assert {
        "read_version",
        "case_page",
        "case_json",
        "newest_page",
        "newest_page_after",
        "last_change",
    } <= prepared
    with CaptureQueriesContext(connection) as queries:
        published_case_for_page(1)
    assert queries.captured_queries[0]["sql"].startswith("EXECUTE case_page")


def test_a_worker_hides_what_warm_up_built_from_the_garbage_collector():
    import gc
    import importlib.util

    spec = importlib.util.spec_from_file_location("gunicorn_conf", "disinfo_db/gunicorn_conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    facets.reset()
    gc.unfreeze()
    try:
        conf.post_worker_init(worker=None)
        assert facets.index_status()["built"]
        # The index's objects are among the frozen ones: a full collection skips them.
        assert gc.get_freeze_count() > 0
        assert not any(type(obj).__name__ == "FacetIndex" for obj in gc.get_objects())
    finally:
        gc.unfreeze()
