import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, connection

from cases.dumps.build import build_dumps, dumps_directory
from cases.dumps.watch import Watcher


class Command(BaseCommand):
    help = (
        "Write the bulk dumps of the published cases served at /data/ (NDJSON, CSV, SQLite "
        "for Datasette, datapackage.json), from one snapshot, with the change-log seq they "
        "were built at. With --watch, keep running and rebuild after changes, debounced."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--dir", help=f"Where to write them (default: {dumps_directory()}).")
        parser.add_argument(
            "--watch", action="store_true", help="Rebuild whenever the change log moves."
        )
        parser.add_argument(
            "--quiet",
            type=float,
            default=60,
            help="With --watch: build once no change came for this many seconds (60).",
        )
        parser.add_argument(
            "--every",
            type=float,
            default=600,
            help="With --watch: at most one build per this many seconds, and no change "
            "waits longer (600).",
        )
        parser.add_argument(
            "--poll", type=float, default=5, help="With --watch: seconds between looks (5)."
        )

    def handle(self, *args, **options):
        log = self.stderr.write if options["verbosity"] else None
        if not options["watch"]:
            manifest = build_dumps(options["dir"], log=log)
            self.stdout.write(f"Built {manifest['cases']:,} cases at seq {manifest['seq']}.")
            return
        watcher = Watcher(options["quiet"], options["every"], options["dir"], log=log)
        while True:
            try:
                manifest = watcher.step()
            except DatabaseError as error:
                # The database restarting, say: the served build stays, and the next look
                # tries again.
                self.stderr.write(f"No build: {error}".strip())
                manifest = None
            if manifest:
                self.stdout.write(f"Built {manifest['cases']:,} cases at seq {manifest['seq']}.")
            # No connection held open between looks: the database may restart meanwhile.
            connection.close()
            time.sleep(options["poll"])
