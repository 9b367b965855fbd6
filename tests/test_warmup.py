"""A web process readies itself before its first request (disinfo_db.warmup)."""

import pytest
from django.template import engines

from cases import facets
from disinfo_db.warmup import warm_up

pytestmark = pytest.mark.django_db(transaction=True)


def test_warming_up_builds_the_facet_index_and_compiles_every_template():
    facets.reset()
    loader = engines["django"].engine.template_loaders[0]
    loader.reset()  # forget templates earlier tests compiled

    names = warm_up()

    assert facets._index is not None
    assert {"base.html", "cases/case_list.html", "cases/case_detail.html"} <= set(names)
    cached = {key.split(":")[0] for key in loader.get_template_cache}
    assert set(names) <= cached
