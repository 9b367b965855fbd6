"""Readying a web process before it takes requests.

Without it, the first requests a process answers also build its facet index (seconds at a
million cases) and compile the templates they render.
"""

import datetime
from pathlib import Path

from django.conf import settings
from django.template.loader import get_template


def warm_up():
    """Build the facet index, prepare the statements public pages send and compile the
    project's templates; returns the templates' names."""
    from cases import facets
    from disinfo_db.routers import process_read_alias, reading_from

    # With replicas, on the one this process reads from (disinfo_db.routers).
    with reading_from(process_read_alias()):
        facets.warm_up()
        prepare_statements()
    if getattr(settings, "PAGE_CACHE_ALIAS", None):
        from cases.freshness.cache import release

        release()  # the shared page cache's key part: a digest of the code (15 ms)
    names = []
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for path in sorted(Path(directory).rglob("*.html")):
            name = path.relative_to(directory).as_posix()
            get_template(name)
            names.append(name)
    return names


def prepare_statements():
    """Run once each statement public pages send (cases.readmodels.prepared), for no case.

    They are prepared, and planned, on this process's connection before its first request,
    as its templates are compiled: otherwise a worker's first case page or API case pays
    a PREPARE (planning the case page's statement takes about 0.6 ms).
    """
    from cases.api.views import last_change
    from cases.freshness.dataversion import read_version
    from cases.readmodels.api_json import newest_cases_page, public_case_representation
    from cases.readmodels.case_page import MAX_ID, published_case_for_page

    read_version()
    published_case_for_page(MAX_ID)
    public_case_representation(MAX_ID, None)
    newest_cases_page(0)
    newest_cases_page(0, (datetime.date.min, 0))
    last_change()
