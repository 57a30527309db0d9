"""What the bounds over unknown facts cost under `airisk batch` (issue 16).

    python benchmarks/bounds_cost.py [--cases 2000] [--rounds 3] [--peerbench]

Runs `airisk batch --workers 1` over the same generated cases (many unknown facts), or the
peerbench corpus and its translated ruleset, as shipped and with the bounds search switched off
(a wrapper makes ``Plan.bounds`` see no candidate rules, so every range is the known level:
what an assessment cost before bounds). Rounds are interleaved; prints the median cases/s and
CPU seconds of each and the ratio. Asserts nothing.
"""

from __future__ import annotations

import argparse
import sys

from matcher_fix_cost import NEW, batch_input, run

OFF = ("import sys; import engine.assessment.plan as P; real = P.Plan.bounds; "
       "P.Plan.bounds = lambda self, view, candidates, *a: real(self, view, set(), *a); "
       "from engine.cli import main; sys.argv[0] = 'airisk'; main()")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peerbench", action="store_true")
    parser.add_argument("--seed", type=int, default=None, help="the corpus seed (default: each corpus's own)")
    args = parser.parse_args(argv)
    source, extra, lines = batch_input(args.peerbench, args.cases, args.seed)
    common = [source, "--workers", "1", *extra]
    walls: dict[str, list[float]] = {"with bounds": [], "without": []}
    cpus: dict[str, list[float]] = {"with bounds": [], "without": []}
    for _ in range(args.rounds):
        for name, code in (("with bounds", NEW), ("without", OFF)):
            wall, cpu, _ = run(code, common)
            walls[name].append(wall)
            cpus[name].append(cpu)
    med = {k: (sorted(v)[len(v) // 2], sorted(cpus[k])[len(v) // 2]) for k, v in walls.items()}
    for name, (wall, cpu) in med.items():
        print(f"{name:>12}: {lines / wall:8,.0f} cases/s, {cpu:6.1f} s CPU")
    print(f"with / without bounds: {med['with bounds'][0] / med['without'][0]:.2f}x wall, "
          f"{med['with bounds'][1] / med['without'][1]:.2f}x CPU ({lines} lines, median of {args.rounds})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
