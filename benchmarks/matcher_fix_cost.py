"""What the matching core's memory fix costs under `airisk batch` (issue 13).

    python benchmarks/matcher_fix_cost.py [--cases 5000] [--rounds 3] [--workers 1] [--peerbench]

Runs `airisk batch` over the same generated cases (or the peerbench corpus and its translated
ruleset: matching only, no unknown facts) with the matcher as shipped (delete the session state
after dispatched actions, else retract) and with the matcher as it was before the fix (always
retract: the path that corrupts memory; its workers may crash and be restarted, which is part of
its cost). Rounds are interleaved; prints the median cases/s and CPU seconds of each and the
ratio shipped / before. The old matcher is installed by a wrapper that patches
``engine.match.matcher.Matcher.match`` before the CLI runs (the workers fork from it). Asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import AS_OF, HERE, ROOT, generated_cases, peerbench_inputs

OLD = ("import sys; sys.path.insert(0, {here!r}); from sanitize_matcher import _retracting_match; "
       "from engine.match.matcher import Matcher; Matcher.match = _retracting_match; "
       "from engine.cli import main; sys.argv[0] = 'airisk'; main()")
NEW = "import sys; from engine.cli import main; sys.argv[0] = 'airisk'; main()"


def run(code: str, args: list[str]) -> tuple[float, float, str]:
    with tempfile.TemporaryDirectory(prefix="airisk-bench-") as tmp:  # the records are not kept
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code, "batch", "--as-of", AS_OF, "--no-progress",
                               "--output", str(Path(tmp) / "out.jsonl"), *args],
                              cwd=ROOT, capture_output=True, check=False)
        wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stderr.decode(errors="replace").strip().splitlines()[-1]


def batch_input(peerbench: bool, cases: int, seed: int | None = None) -> tuple[str, list[str], int]:
    """(input file, extra batch options, lines): the peerbench corpus and its ruleset, or
    ``cases`` generated cases with the bundled rulesets; ``seed``: the corpus seed (None: the default)."""
    if not peerbench:
        return str(generated_cases(cases) if seed is None else generated_cases(cases, seed)), [], cases
    rules, corpus = peerbench_inputs() if seed is None else peerbench_inputs(seed)
    with open(corpus, "rb") as fh:
        lines = sum(1 for _ in fh)
    return str(corpus), ["--no-bundled", "--rules", str(rules)], lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--peerbench", action="store_true")
    parser.add_argument("--seed", type=int, default=None, help="the corpus seed (default: each corpus's own)")
    args = parser.parse_args(argv)
    source, extra, lines = batch_input(args.peerbench, args.cases, args.seed)
    common = [source, "--workers", str(args.workers), *extra]
    results: dict[str, list[tuple[float, float]]] = {"shipped": [], "before the fix": []}
    summaries: dict[str, str] = {}
    for _ in range(args.rounds):
        for name, code in (("shipped", NEW), ("before the fix", OLD.format(here=str(HERE)))):
            wall, cpu, summary = run(code, common)
            results[name].append((wall, cpu))
            summaries[name] = summary
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in results.items()}
    for name, (wall, cpu) in med.items():
        print(f"{name:>15}: {lines / wall:8,.0f} cases/s, {cpu:6.1f} s CPU   [{summaries[name]}]")
    (w_new, c_new), (w_old, c_old) = med["shipped"], med["before the fix"]
    print(f"shipped / before the fix: {w_new / w_old:.2f}x wall time, {c_new / c_old:.2f}x CPU "
          f"({args.workers} worker(s), {lines} lines, median of {args.rounds})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
