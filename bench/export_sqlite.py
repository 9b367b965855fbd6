"""Copy the published cases into SQLite for Datasette, the reference the bench compares to.

The file is the one /data/ publishes (cases.dumps.sqlite): one row per case with its
multi-valued fields as JSON arrays of slugs (for Datasette's _facet_array and
arraycontains), taxonomy and link tables, and an FTS5 index over title, summary and
disproof with Porter stemming (for _search). Datasette is asked about what a partner
downloading the dump would run.

Run inside the project's Django environment: python bench/export_sqlite.py OUT.db
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "disinfo_db.settings")


def export(path, stream=sys.stderr):
    import django

    django.setup()
    from cases.dumps.build import one_snapshot, published_ids_sql
    from cases.dumps.sqlite import write_sqlite

    path = Path(path)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    started = time.monotonic()

    def progress(copied):
        stream.write(f"\rsqlite export    {copied:>9,} cases {time.monotonic() - started:6.1f}s")
        stream.flush()

    with one_snapshot():
        copied = write_sqlite(tmp, published_ids_sql(), progress=progress)
    tmp.rename(path)
    stream.write(f"\nsqlite export    done in {time.monotonic() - started:.0f}s\n")
    return copied


if __name__ == "__main__":
    export(sys.argv[1])
