"""Peak memory (RSS) of `airisk batch` over 1,000,000 cases, sampled over time.

    python benchmarks/batch_memory.py                        # peerbench ruleset, 1,000,000 cases, 2 workers
    python benchmarks/batch_memory.py --bundled --cases 200000 --workers 2

The cases stream into the batch's stdin (the 20,000-case peerbench corpus, or
--distinct generated cases for --bundled, repeated) and the output is counted and
dropped, so neither side holds the run. RSS of the parent and of each worker
is sampled every second and printed every --every seconds, then the peaks:
flat memory means the same figures at 10% and at 100% of the run. Asserts nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import threading
import time

from _common import ROOT, RssSampler, batch_argv, generated_cases, peerbench_inputs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--bundled", action="store_true", help="bundled rulesets and generated cases")
    ap.add_argument("--every", type=float, default=10.0, help="print a sample every N seconds")
    ap.add_argument("--seed", type=int, default=None, help="the corpus seed (default: each corpus's own)")
    ap.add_argument("--distinct", type=int, default=20_000,
                    help="with --bundled: how many distinct generated cases repeat (default 20,000)")
    a = ap.parse_args()
    if a.bundled:
        source, rules = (generated_cases(a.distinct) if a.seed is None else generated_cases(a.distinct, a.seed)), []
    else:
        rules_file, source = peerbench_inputs() if a.seed is None else peerbench_inputs(a.seed)
        rules = ["--no-bundled", "--rules", str(rules_file)]
    block = source.read_bytes()
    per_block = block.count(b"\n")
    proc = subprocess.Popen(batch_argv("-", "--workers", str(a.workers), *rules), cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None

    def feed() -> None:
        left = a.cases
        try:
            while left > 0:
                if left >= per_block:
                    proc.stdin.write(block)  # type: ignore[union-attr]
                    left -= per_block
                else:
                    proc.stdin.write(b"".join(block.splitlines(keepends=True)[:left]))  # type: ignore[union-attr]
                    left = 0
        finally:
            proc.stdin.close()  # type: ignore[union-attr]

    done = [0]

    def drain() -> None:
        for chunk in iter(lambda: proc.stdout.read(1 << 20), b""):  # type: ignore[union-attr]
            done[0] += chunk.count(b"\n")

    sampler = RssSampler(proc.pid, every=1.0)
    threads = [threading.Thread(target=feed, daemon=True), threading.Thread(target=drain, daemon=True)]
    start = time.perf_counter()
    sampler.start()
    for t in threads:
        t.start()
    print(f"airisk batch memory: {a.cases:,} cases, {a.workers} worker(s), "
          f"{'bundled rulesets' if a.bundled else 'peerbench ruleset'}")
    print(f"{'t (s)':>7} {'lines out':>11} {'parent MB':>10} {'worker MB':>24}")
    last = -a.every
    while proc.poll() is None:
        time.sleep(0.5)
        if sampler.samples and sampler.samples[-1][0] - last >= a.every:
            t, parent, kids = sampler.samples[-1]
            last = t
            print(f"{t:7.0f} {done[0]:11,} {parent:10.1f} {', '.join(f'{k:.1f}' for k in kids):>24}", flush=True)
    for t in threads:
        t.join()
    sampler.stop.set()
    sampler.join()
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode().strip() if proc.stderr else ""
    peaks = sampler.peaks()
    tenth = [s for s in sampler.samples if s[0] <= wall / 10] or sampler.samples[:1]
    early_worker = max((max(k) for _, _, k in tenth if k), default=0.0)
    print(f"\n{done[0]:,} lines out of {a.cases:,} in {wall:.0f} s ({done[0] / wall:,.0f} cases/s), "
          f"exit {proc.returncode}")
    print(f"peak RSS: parent {peaks['parent_mb']:.1f} MB, worker {peaks['worker_mb']:.1f} MB "
          f"(worker peak in the first 10% of the run: {early_worker:.1f} MB; target: flat, < 150 MB per worker)")
    print(stderr.splitlines()[-1] if stderr else "")


if __name__ == "__main__":
    main()
