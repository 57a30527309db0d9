"""Throughput of `airisk diff` relative to `airisk batch` on the same generated cases, in one run.

    python benchmarks/diff_throughput.py                       # 100,000 generated cases, 2 workers
    python benchmarks/diff_throughput.py --cases 10000 --seed 7 --workers 1 --rounds 3
    cp -r rulesets /tmp/copy && python benchmarks/diff_throughput.py --cases 10000 --against-rules /tmp/copy

Runs, interleaved, `airisk batch` as of one date and `airisk diff` of the same cases between that
date and another (``--against-as-of``, default the same date: a self-diff, which must report no
change), and prints cases/s of each, the ratio diff/batch (the target is at least 0.45: a diff
assesses every case twice), the number of cases the diff found changed, peak RSS of each run's
processes, and the load average before and after. Both write to a temporary file. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from _common import AS_OF, ROOT, RssSampler, generated_cases


def timed(argv: list[str]) -> tuple[float, dict[str, float], str]:
    """(wall s, peak RSS, last stderr line) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = RssSampler(proc.pid)
    sampler.start()
    _, err = proc.communicate()  # both write to --output: stdout stays empty
    stderr = err.decode()
    wall = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {stderr.strip()[-500:]}")
    return wall, sampler.peaks(), stderr.strip().splitlines()[-1] if stderr.strip() else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--as-of", default=AS_OF)
    ap.add_argument("--against-as-of", default=None, help="the diff's new date (default: --as-of, a self-diff)")
    ap.add_argument("--against-rules", default=None, metavar="DIR",
                    help="the diff's new rulesets (e.g. a copy of rulesets/: the bundled rules against themselves, "
                         "loaded twice)")
    a = ap.parse_args()
    source = str(generated_cases(a.cases, a.seed))
    against = a.against_as_of or a.as_of
    load_before = os.getloadavg()
    cli = [sys.executable, "-m", "engine.cli"]
    rates: dict[str, list[float]] = {"batch": [], "diff": []}
    peaks: dict[str, dict[str, float]] = {}
    changed = None
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.jsonl")
        for _ in range(a.rounds):
            wall, peak, _ = timed([*cli, "batch", source, "--as-of", a.as_of, "--no-progress", "--workers",
                                   str(a.workers), "--output", out])
            rates["batch"].append(a.cases / wall)
            peaks["batch"] = peak
            rules = ["--rules", str(ROOT / "rulesets"), "--against-rules", a.against_rules] if a.against_rules else []
            wall, peak, _ = timed([*cli, "diff", source, "--as-of", a.as_of, "--against-as-of", against,
                                   *rules, "--workers", str(a.workers), "--output", out])
            rates["diff"].append(a.cases / wall)
            peaks["diff"] = peak
            with open(out, "rb") as fh:
                changed = sum(1 for line in fh if b'"changed":true' in line)
    batch, diff = statistics.median(rates["batch"]), statistics.median(rates["diff"])
    print(f"{a.cases:,} generated cases (seed {a.seed}), {a.workers} worker(s), {a.rounds} round(s); "
          f"batch as of {a.as_of}, diff {a.as_of} → {against}"
          + (f", bundled rules → {a.against_rules}" if a.against_rules else ""))
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}; "
          f"after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"batch  {batch:8.1f} cases/s   peak RSS {peaks['batch']}")
    print(f"diff   {diff:8.1f} cases/s   peak RSS {peaks['diff']}   changed cases: {changed}")
    print(f"ratio diff/batch: {diff / batch:.2f}x (target ≥ 0.45x)")


if __name__ == "__main__":
    main()
