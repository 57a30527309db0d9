"""Compile time against the number of rules: within 3x from 10,000 to 20,000 rules (issue 17).

    python benchmarks/compile_scale.py [--sizes 5000,10000,20000] [--rounds 1]

Generates ``--sizes`` rules (in ruleset files of 5,000) (comparisons on a dozen case facts, some under ``some``
over accelerators, thresholds varying per rule), then times in this process, for each size:
reading and validating the ruleset (``load_ruleset_bytes``: schema, meaning checks) and compiling
it onto durable-rules (``compile_rules``: patterns and shards under the core's limits; then
``Matcher``: durable-rules building each shard's network). Prints each time and the ratio of
each size to the one before; exits 1 when doubling the rules more than triples either time.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NUMERIC = ["ai_system.registered_users", "ai_system.monthly_active_users", "data.pi_subjects",
           "data.sensitive_pi_subjects", "data.transfer_pi_subjects_ytd", "facility.racks_built",
           "facility.pue", "facility.accelerator_utilisation", "facility.rack_occupancy"]
TEXT = ["location.country", "location.province"]


PER_FILE = 5000  # a ruleset file's lists hold at most 10,000 items (docs/limits.md): several files


def ruleset(n: int, start: int = 0) -> bytes:
    rules = []
    for i in range(start, start + n):
        kind = i % 4
        if kind == 0:
            when: dict[str, object] = {"fact": NUMERIC[i % len(NUMERIC)], "gte": i}
        elif kind == 1:
            when = {"all": [{"fact": NUMERIC[i % len(NUMERIC)], "lt": i + 1},
                            {"fact": TEXT[i % len(TEXT)], "eq": f"X{i % 97}"}]}
        elif kind == 2:
            when = {"some": "accelerators", "where": {"all": [{"fact": "count", "gte": i % 5000},
                                                              {"fact": "model", "eq": f"M{i % 53}"}]}}
        else:
            when = {"any": [{"fact": NUMERIC[(i + 3) % len(NUMERIC)], "gt": i},
                            {"fact": TEXT[(i + 1) % len(TEXT)], "in": [f"Y{i % 31}", f"Z{i % 29}"]}]}
        rules.append({"id": f"GEN-{i:05d}", "title": f"generated rule {i}", "dimension": "overcapacity",
                      "severity": ["low", "medium", "high"][i % 3], "points": 1 + i % 5, "basis": "advisory",
                      "effective_from": "2020-01-01", "when": when, "message": "m",
                      "citations": [{"instrument": "generated", "confidence": "S"}]})
    # One rule a line: a ruleset file's lines are limited in length (docs/limits.md).
    head = orjson.dumps({"id": f"gen{start}-{n}", "version": "1", "title": "generated"})
    return (b'{"ruleset": ' + head + b',\n"rules": [\n' + b",\n".join(orjson.dumps(r) for r in rules)
            + b"\n]}\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5000,10000,20000")
    parser.add_argument("--rounds", type=int, default=1, help="best of this many timings per size")
    args = parser.parse_args(argv)
    from engine.match.compiler import compile_rules
    from engine.match.matcher import Matcher
    from engine.ruleset.load import load_ruleset_bytes

    sizes = [int(x) for x in args.sizes.split(",")]
    rows = []
    for n in sizes:
        files = [ruleset(min(PER_FILE, n - start), start) for start in range(0, n, PER_FILE)]
        load_best = compile_best = float("inf")
        shards = 0
        for _ in range(args.rounds):
            gc.collect()
            t = time.perf_counter()
            rules = [r for k, raw in enumerate(files) for r in load_ruleset_bytes(raw, f"gen-{k}.json").rules]
            t1 = time.perf_counter()
            compiled = compile_rules(rules)
            Matcher(compiled).close()  # durable-rules parses each shard and builds its network
            t2 = time.perf_counter()
            load_best, compile_best = min(load_best, t1 - t), min(compile_best, t2 - t1)
            shards = len(compiled)
        rows.append((n, load_best, compile_best, shards))
    print(f"{'rules':>7} {'validate s':>11} {'ratio':>6} {'compile s':>10} {'ratio':>6} {'shards':>7}")
    ok = True
    prev = None
    for n, lt, ct, sh in rows:
        if prev is None:
            print(f"{n:>7} {lt:>11.2f} {'':>6} {ct:>10.2f} {'':>6} {sh:>7}")
        else:
            lr, cr = lt / prev[1], ct / prev[2]
            scale = n / prev[0]
            ok = ok and (scale != 2 or (lr <= 3 and cr <= 3))
            print(f"{n:>7} {lt:>11.2f} {lr:>5.2f}x {ct:>10.2f} {cr:>5.2f}x {sh:>7}")
        prev = (n, lt, ct)
    print("doubling the rules " + ("stays within 3x" if ok else "costs MORE than 3x"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
