"""Load synthetic cases into the database of DATABASE_URL (or the embedded one), or remove
them.

    python bench/generate.py --count N --seed S [--workers W]
    python bench/generate.py --remove

The same seed gives the same cases. --remove deletes every case the generator loaded, and
the issues, keywords, countries, languages and outlets it created that no other case uses
(it keeps a record of their ids, bench/synthetic.py), and nothing else. Migrate first.
"""

import argparse
import os
import sys
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent


def setup_django():
    if str(BASE) not in sys.path:
        sys.path.insert(0, str(BASE))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "disinfo_db.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def main(argv=None, stdout=None, stderr=None):
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--count", type=int, default=10_000, help="How many cases to add.")
    parser.add_argument("--seed", type=int, default=0, help="Same seed, same cases.")
    parser.add_argument(
        "--remove",
        action="store_true",
        help="Delete every synthetic case, and the taxonomy values the generator created that "
        "no other case uses.",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="Database connections loading cases at once."
    )
    args = parser.parse_args(argv)
    if not args.remove and args.count < 1:
        parser.error("--count must be at least 1.")

    setup_django()
    from bench import synthetic

    if args.remove:
        removed = synthetic.remove_synthetic(stream=stderr)
        stdout.write(f"Removed {removed:,} synthetic cases.\n")
        return
    timings = synthetic.generate(args.count, seed=args.seed, stream=stderr, workers=args.workers)
    parts = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings.items())
    stdout.write(f"Added {args.count:,} synthetic cases (seed {args.seed}): {parts}.\n")


if __name__ == "__main__":
    main()
