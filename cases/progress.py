"""Progress of long commands (imports, the synthetic generator) on standard error.

On a terminal, one line redrawn in place with a bar, the count and the rate. In a log
(not a terminal), nothing while it runs and one line when a step ends: a log holds one
line per step, not megabytes of redrawn frames.
"""

import sys
import time


class Progress:
    """A step of `total` items: update(done) as it goes, finish() at the end. With total
    None (not known until the step ends, as records in a file), no bar: the count and the
    rate."""

    def __init__(self, label, total, stream=None, width=30):
        self.label, self.width = label, width
        self.total = None if total is None else max(total, 1)
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(isatty and isatty())
        self.start = time.monotonic()
        self.last = 0.0

    def update(self, done, force=False):
        if not self.live:
            return
        now = time.monotonic()
        if not force and now - self.last < 0.5 and (self.total is None or done < self.total):
            return
        self.last = now
        if self.total is None:
            bar = ""
        else:
            filled = int(self.width * min(done, self.total) / self.total)
            bar = "[" + "#" * filled + "-" * (self.width - filled) + "] "
        self.stream.write(f"\r{self.label:<16} {bar}{self._figures(done, now)}")
        self.stream.flush()

    def finish(self, done=None):
        """End the step: its line in a log, the bar's last frame on a terminal."""
        done = (self.total or 0) if done is None else done
        if self.live:
            self.update(done, force=True)
            self.stream.write("\n")
        else:
            self.stream.write(f"{self.label}: {self._figures(done, time.monotonic())}\n")
        self.stream.flush()

    def _figures(self, done, now):
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0
        count = f"{done:>9,}" if self.total is None else f"{done:>9,}/{self.total:,}"
        return f"{count} {elapsed:6.1f}s {rate:9,.0f}/s"
