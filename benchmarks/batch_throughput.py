"""Throughput of `airisk batch` with 1 and 2 worker processes.

    python benchmarks/batch_throughput.py                    # bundled rulesets, 100,000 generated cases
    python benchmarks/batch_throughput.py --cases 20000 --rounds 3
    python benchmarks/batch_throughput.py --cases 100000 --seed 20261205   # a corpus seed not used before
    python benchmarks/batch_throughput.py --peerbench        # the translated peerbench ruleset and corpus

Prints cases/s per worker count (median of the rounds, runs interleaved) and the
ratio of 2 workers to 1, with peak RSS of the parent and of a worker. The input
is generated once by benchmarks/gen_cases.py (seeded) and cached in
$AIRISK_BENCH_DIR (default /tmp/airisk-bench). Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import time

from _common import GENERATED_SEED, PEERBENCH_SEED, ROOT, RssSampler, batch_argv, generated_cases, peerbench_inputs


def run_once(source: str, rules: list[str], workers: int) -> tuple[float, float, int, dict[str, float], str]:
    """(wall s, CPU s of the parent and its workers, lines, peak RSS, summary line)."""
    argv = batch_argv(source, "--workers", str(workers), *rules)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = RssSampler(proc.pid)
    sampler.start()
    lines = 0
    assert proc.stdout is not None
    for chunk in iter(lambda: proc.stdout.read(1 << 20), b""):  # type: ignore[union-attr]
        lines += chunk.count(b"\n")
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    proc.wait()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # workers are reaped by the parent: included
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    sampler.stop.set()
    sampler.join()
    return wall, cpu, lines, sampler.peaks(), stderr.strip().splitlines()[-1] if stderr.strip() else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--seed", type=int, default=None, help="the corpus seed (default: each corpus's own)")
    ap.add_argument("--peerbench", action="store_true", help="use the translated peerbench ruleset and corpus")
    a = ap.parse_args()
    if a.peerbench:
        rules_file, corpus = peerbench_inputs() if a.seed is None else peerbench_inputs(a.seed)
        source, rules = str(corpus), ["--no-bundled", "--rules", str(rules_file)]
        label = f"peerbench 64 rules, 20,000 cases (seed {a.seed or PEERBENCH_SEED})"
    else:
        source, rules = str(generated_cases(a.cases) if a.seed is None else generated_cases(a.cases, a.seed)), []
        label = f"bundled rulesets, {a.cases:,} generated cases (seed {a.seed or GENERATED_SEED})"
    counts = [int(w) for w in a.workers.split(",")]
    rates: dict[int, list[float]] = {w: [] for w in counts}
    per_cpu: dict[int, list[float]] = {w: [] for w in counts}
    peaks: dict[int, dict[str, float]] = {}
    print(f"airisk batch throughput: {label}; load average before {os.getloadavg()[0]:.2f}")
    for rnd in range(a.rounds):
        for w in counts if rnd % 2 == 0 else list(reversed(counts)):
            wall, cpu, lines, peak, summary = run_once(source, rules, w)
            rates[w].append(lines / wall)
            per_cpu[w].append(lines / cpu)
            peaks[w] = {k: max(v, peaks.get(w, {}).get(k, 0.0)) for k, v in peak.items()}
            print(f"  round {rnd + 1}, {w} worker(s): {lines:,} lines in {wall:.1f} s = {lines / wall:,.0f} cases/s;"
                  f" {cpu:.1f} CPU s = {lines / cpu:,.0f} cases per CPU s, {cpu / wall:.2f} cores busy"
                  f"  (parent {peak['parent_mb']:.0f} MB, worker {peak['worker_mb']:.0f} MB)\n    {summary}")
    print("\n| workers | cases/s (median) | cases per CPU second | peak RSS parent MB | peak RSS per worker MB |")
    print("|---|---|---|---|---|")
    for w in counts:
        print(f"| {w} | {statistics.median(rates[w]):,.0f} | {statistics.median(per_cpu[w]):,.0f} "
              f"| {peaks[w]['parent_mb']:.0f} | {peaks[w]['worker_mb']:.0f} |")
    if 1 in rates and 2 in rates:
        print(f"\n2 workers / 1 worker = {statistics.median(rates[2]) / statistics.median(rates[1]):.2f}x"
              " (target >= 1.8x; it needs both cores free: compare 'cores busy' above)")
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
