from django.core.management.base import BaseCommand, CommandError

from cases.linkcheck import DEFAULT_TIMEOUT, DEFAULT_WORKERS, check_appearances
from cases.models import Appearance

BATCH = 200


class Command(BaseCommand):
    help = "Check appearance and archive URLs and record which are dead."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
        parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds")
        parser.add_argument(
            "--case", type=int, action="append", dest="case_ids", help="only this case (repeatable)"
        )
        parser.add_argument(
            "--unchecked", action="store_true", help="only appearances never checked"
        )

    def handle(self, *args, workers, timeout, case_ids, unchecked, **options):
        if workers < 1 or workers > 32:
            raise CommandError("--workers must be between 1 and 32")
        if timeout <= 0:
            raise CommandError("--timeout must be positive")
        appearances = Appearance.objects.order_by("id").only(
            "id", "url", "archive_url", "url_status", "archive_status", "last_checked_at"
        )
        if case_ids:
            appearances = appearances.filter(case_id__in=case_ids)
        if unchecked:
            appearances = appearances.filter(last_checked_at__isnull=True)
        checked = dead = 0
        batch = []
        for appearance in appearances.iterator(chunk_size=BATCH):
            batch.append(appearance)
            if len(batch) == BATCH:
                c, d = check_appearances(batch, workers, timeout)
                checked, dead = checked + c, dead + d
                batch = []
        if batch:
            c, d = check_appearances(batch, workers, timeout)
            checked, dead = checked + c, dead + d
        self.stdout.write(f"Checked {checked} URLs: {dead} dead.")
