"""How fast the bulk dumps build: `manage.py build_dumps` over the bench database's cases.

    python bench/dump_speed.py

Part of make bench (bench/run.py runs it over the N cases it serves). It reports, per
file, the seconds and the published cases written a second (each file is written in turn,
from one snapshot), and the file's size; and the whole build's time, checksums and
datapackage.json included. Reference: the goal is a 1,000,000-case build in minutes.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
DATA = BASE / "bench" / "data"


def measure(env):
    """{total_seconds, cases, files: {name: {seconds, cases_per_second, mb}}}."""
    directory = DATA / "dumps"
    shutil.rmtree(directory, ignore_errors=True)
    started = time.monotonic()
    subprocess.run(
        [sys.executable, str(BASE / "manage.py"), "build_dumps", "--dir", str(directory)],
        env={**env, "DISINFO_DUMPS_DIR": str(directory)},
        check=True,
        capture_output=True,
    )
    total = time.monotonic() - started
    manifest = json.loads((directory / "index.json").read_text())
    files = {
        entry["name"]: {
            "seconds": entry["build_seconds"],
            "cases_per_second": round(manifest["cases"] / entry["build_seconds"])
            if entry["build_seconds"]
            else None,
            "mb": round(entry["bytes"] / 2**20, 1),
        }
        for entry in manifest["files"]
        if "build_seconds" in entry
    }
    return {"total_seconds": round(total, 1), "cases": manifest["cases"], "files": files}


def describe(figures):
    parts = [
        f"{name} {f['seconds']:.0f}s ({f['cases_per_second']:,} cases/s, {f['mb']:,} MB)"
        for name, f in figures["files"].items()
    ]
    return (
        f"build_dumps: {figures['cases']:,} published cases in {figures['total_seconds']}s: "
        + "; ".join(parts)
    )


def main():
    sys.path.insert(0, str(BASE))
    from bench.run import bench_database_url, server_env

    print(describe(measure(server_env(bench_database_url()) | {"PATH": os.environ["PATH"]})))


if __name__ == "__main__":
    main()
