"""Delete old records of token use and of delivered webhooks.

    manage.py prune_logs [--days 180]

Token uses older than the cut-off go. A delivered webhook older than it goes when a later
delivery of the same case to the same subscription exists: the latest one stays, because it is
what says that subscription was told of the case (and must be told of its deletion).
Undelivered deliveries are never touched.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from cases.models import ApiTokenUse, WebhookDelivery

SUPERSEDED_DELIVERIES = """
    DELETE FROM {table} AS old
    WHERE old.delivered_at < %s
      AND EXISTS (
        SELECT 1 FROM {table} AS later
        WHERE later.subscription_id = old.subscription_id
          AND later.case_id = old.case_id
          AND later.seq > old.seq
      )
"""


class Command(BaseCommand):
    help = "Delete token uses, and superseded delivered webhooks, older than --days days."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=180, help="keep this many days (default 180)"
        )

    def handle(self, *args, days, **options):
        if days < 1:
            raise CommandError("--days must be 1 or more")
        cutoff = timezone.now() - timedelta(days=days)
        with transaction.atomic():
            uses, _ = ApiTokenUse.objects.filter(at__lt=cutoff).delete()
            with connection.cursor() as cursor:
                cursor.execute(
                    SUPERSEDED_DELIVERIES.format(table=WebhookDelivery._meta.db_table), [cutoff]
                )
                deliveries = cursor.rowcount
        if options["verbosity"] > 0:
            self.stdout.write(
                f"Deleted {uses} token uses and {deliveries} delivered webhooks "
                f"older than {days} days."
            )
