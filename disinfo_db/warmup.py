"""Readying a web process before it takes requests.

Without it, the first requests a process answers also build its facet index (seconds at a
million cases) and compile the templates they render.
"""

from pathlib import Path

from django.conf import settings
from django.template.loader import get_template


def warm_up():
    """Build the facet index and compile the project's templates; returns their names."""
    from cases import facets

    facets.warm_up()
    names = []
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for path in sorted(Path(directory).rglob("*.html")):
            name = path.relative_to(directory).as_posix()
            get_template(name)
            names.append(name)
    return names
