"""The matching core alone, as airisk drives it: a peerbench row that only fires rules.

    python benchmarks/core_only.py RULES.yaml --as-of 2026-11-22 < corpus.jsonl > fired.jsonl

Reads JSON lines, and for each writes ``{"fired": [...]}``: the rules durable-rules fires through
airisk's matcher (``engine.match.matcher``: slim facts, one assert, drain, forget), with nothing
else of an assessment (no validation, evidence, information requests, bounds, scores or
records). ``benchmarks/peerbench_ratios.py`` runs it as the row ``airisk-core-only``: the ceiling
any airisk row can reach with durable-rules on the hot path, as a ratio to cel-cpp in the same run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.assessment.engine import Engine
from engine.ruleset.load import load_rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rules")
    parser.add_argument("--as-of", required=True)
    args = parser.parse_args()
    rules = load_rules([args.rules])
    engine = Engine(rules)
    matcher = engine.plan(engine.in_force(args.as_of, None), None).matcher
    match = matcher.match
    loads, dumps = orjson.loads, orjson.dumps
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        if not line.strip():
            out.write(b'{"fired":[]}\n')
            continue
        out.write(dumps({"fired": sorted(match(loads(line)))}) + b"\n")
    out.flush()


if __name__ == "__main__":
    main()
