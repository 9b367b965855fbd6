import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from cases import webhooks


class Command(BaseCommand):
    help = (
        "Turn the change log into webhook deliveries and send them (Standard Webhooks), "
        "in a loop; --once for a single pass."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument(
            "--interval", type=float, default=2.0, help="seconds between passes (default 2)"
        )

    def handle(self, *args, once, interval, **options):
        if interval <= 0:
            raise CommandError("--interval must be positive")
        while True:
            result = webhooks.run_once()
            if result is None:
                self.stderr.write("Another worker is delivering webhooks; this one waits.")
            elif options["verbosity"] > 1 or (once and options["verbosity"] > 0):
                created, sent = result
                self.stdout.write(f"{created} deliveries queued, {sent} delivered.")
            if once:
                return
            close_old_connections()
            time.sleep(interval)
