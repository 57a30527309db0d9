"""Cold start of the command line: wall time of whole processes, start to exit.

    python benchmarks/cold_start.py                 # 15 runs of each row
    python benchmarks/cold_start.py --runs 31

Rows (run interleaved, so a busy moment on a shared machine hits every row alike):

- ``floor``: ``python -c "import orjson"``, what the fastest Python peers pay before any rule;
- ``batch-empty``: ``python -m engine.cli batch`` on the translated peerbench ruleset
  (``input: document``) with empty stdin, the peerbench's "cold start" of this engine;
- ``assess``: ``airisk assess cases/guizhou-icc.yaml --format json`` on the bundled rulesets
  with a warm on-disk compile cache (a private cache directory, warmed by one untimed run);
- ``assess-no-cache``: the same with ``AIRISK_NO_CACHE=1`` (rulesets parsed, validated and
  compiled in the process).

Prints the median and minimum wall time of each row, and each row's median as a multiple
of the floor's. The peerbench ruleset is taken from ``$PEERBENCH_WORK/build/airisk-rules.yaml``
(default ``/tmp/peerbench``) when it exists, else translated once into ``$AIRISK_BENCH_DIR``.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import AS_OF, ROOT, peerbench_inputs


def peerbench_rules() -> Path:
    built = Path(os.environ.get("PEERBENCH_WORK", "/tmp/peerbench")) / "build" / "airisk-rules.yaml"
    return built if built.exists() else peerbench_inputs()[0]


def run(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    # Empty stdin and captured stdout (pipes, as a caller would have); no device is opened.
    proc = subprocess.run(argv, cwd=ROOT, env=env, input=b"", capture_output=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15, help="timed runs per row (default 15)")
    a = ap.parse_args()
    py = sys.executable
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "AIRISK_NO_CACHE")}
    cache = tempfile.mkdtemp(prefix="airisk-cold-")  # private (0700), warmed below
    env["AIRISK_CACHE_DIR"] = cache
    no_cache = {**env, "AIRISK_NO_CACHE": "1"}
    rules = str(peerbench_rules())
    # `python -m engine.cli` is the `airisk` command (same entry point); -m runs the engine of this
    # checkout even where another one is installed.
    airisk = [py, "-m", "engine.cli"]
    rows: dict[str, tuple[list[str], dict[str, str]]] = {
        "floor": ([py, "-c", "import orjson"], env),
        "batch-empty": ([*airisk, "batch", "--no-bundled", "--rules", rules, "--as-of", AS_OF, "--no-progress",
                         "--workers", "1"], env),
        "assess": ([*airisk, "assess", "cases/guizhou-icc.yaml", "--format", "json", "--as-of", AS_OF], env),
        "assess-no-cache": ([*airisk, "assess", "cases/guizhou-icc.yaml", "--format", "json", "--as-of", AS_OF],
                            no_cache),
    }
    times: dict[str, list[float]] = {name: [] for name in rows}
    names = list(rows)
    try:
        for argv, e in rows.values():  # warm-up: page cache, .pyc files, the compile cache
            run(argv, e)
        for i in range(a.runs):
            for name in names[i % len(names):] + names[:i % len(names)]:  # rotate the starting row
                argv, e = rows[name]
                times[name].append(run(argv, e))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    floor = statistics.median(times["floor"])
    print(f"cold start, {a.runs} runs per row, {py} ({sys.version.split()[0]}), load {os.getloadavg()[0]:.2f}")
    print(f"{'row':<17} {'median s':>9} {'min s':>7} {'x floor':>8}")
    for name in names:
        med = statistics.median(times[name])
        print(f"{name:<17} {med:>9.3f} {min(times[name]):>7.3f} {med / floor:>8.1f}")


if __name__ == "__main__":
    main()
