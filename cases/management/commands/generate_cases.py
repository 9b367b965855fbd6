from django.core.management.base import BaseCommand, CommandError

from cases import synthetic


class Command(BaseCommand):
    help = (
        "Load realistic synthetic cases (is_synthetic=True) for load tests and benchmarks, "
        "or remove them all with --remove."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=10_000, help="How many cases to add.")
        parser.add_argument("--seed", type=int, default=0, help="Same seed, same cases.")
        parser.add_argument(
            "--remove",
            action="store_true",
            help="Delete every synthetic case (and the generator's outlets nothing uses).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help="Database connections loading cases at once.",
        )

    def handle(self, *args, count, seed, remove, workers, **options):
        if remove:
            removed = synthetic.remove_synthetic(stream=self.stderr._out)
            self.stdout.write(f"Removed {removed:,} synthetic cases.")
            return
        if count < 1:
            raise CommandError("--count must be at least 1.")
        timings = synthetic.generate(count, seed=seed, stream=self.stderr._out, workers=workers)
        parts = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings.items())
        self.stdout.write(f"Added {count:,} synthetic cases (seed {seed}): {parts}.")
