"""Build claim matching's semantic index ahead of the first match, showing progress.

    python manage.py build_match_index

Embeds every published case with the model of DISINFO_EMBEDDING_MODEL, BATCH cases at a
time, one line per batch. A server builds the same index on its first semantic match and
keeps it current from the change log (cases.search.semantic); this command shows how long
that takes, and that the model loads.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from cases.search import semantic


class Command(BaseCommand):
    help = "Embed the published cases for claim matching's semantic tier, with progress."

    def handle(self, *args, **options):
        if semantic.model_path() is None:
            raise CommandError("Set DISINFO_EMBEDDING_MODEL to a model directory first.")
        if not semantic.enabled():
            raise CommandError(f"{semantic.model_path()} holds no model2vec model.")
        started = time.monotonic()

        def progress(done, total):
            rate = done / max(time.monotonic() - started, 1e-6)
            self.stdout.write(f"{done:>10,}/{total:,} cases embedded, {rate:,.0f}/s")

        count = semantic.build(progress=progress)
        seconds = time.monotonic() - started
        self.stdout.write(f"Embedded {count:,} published cases in {seconds:.1f}s.")
