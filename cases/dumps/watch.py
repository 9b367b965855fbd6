"""Rebuilding the dumps after changes, debounced: manage.py build_dumps --watch.

The watcher looks at the data version every few seconds. Once it has moved past the
served build's seq, a build starts when no change came for `quiet` seconds, or when the
oldest change the dumps lack is `every` seconds old (a steady trickle of edits still gets
built); and never sooner than `every` seconds after the previous build started, since at a
million cases a build takes minutes.
"""

import time

from cases.dumps.build import build_dumps, current_manifest
from cases.freshness.dataversion import read_version


class Watcher:
    def __init__(self, quiet=60, every=600, directory=None, log=None, clock=time.monotonic):
        self.quiet, self.every = quiet, every
        self.directory, self.log, self.clock = directory, log, clock
        manifest = current_manifest(directory)
        self.built_seq = manifest["seq"] if manifest else None
        self.last_build = None
        self.seen_version = None
        self.moved_at = None  # when the version was last seen to move
        self.behind_since = None  # when the dumps were first seen to lack a change

    def due(self, now):
        """Whether a build should start now, from what step() has seen."""
        if self.built_seq is not None and self.seen_version == self.built_seq:
            return False
        if self.last_build is not None and now - self.last_build < self.every:
            return False
        if self.built_seq is None:
            return True
        return now - self.moved_at >= self.quiet or now - self.behind_since >= self.every

    def step(self):
        """Look at the version once; build if due. Returns the new manifest, or None."""
        now = self.clock()
        version = read_version().version
        if version != self.seen_version:
            self.seen_version, self.moved_at = version, now
        if self.built_seq is not None and version == self.built_seq:
            self.behind_since = None
        elif self.behind_since is None:
            self.behind_since = now
        if not self.due(now):
            return None
        self.last_build = now
        manifest = build_dumps(self.directory, log=self.log)
        self.built_seq = manifest["seq"]
        self.behind_since = None if manifest["seq"] == self.seen_version else now
        return manifest
