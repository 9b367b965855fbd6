"""Bulk dumps of the published cases, served at /data/ (cases.site.data).

build.py writes a build (NDJSON, CSV, SQLite for Datasette, datapackage.json) from one
snapshot, with the change log's seq it holds; sqlite.py and datapackage.py are two of its
files; watch.py rebuilds after changes, debounced (manage.py build_dumps --watch).
"""
