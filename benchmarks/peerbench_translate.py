"""Translate peerbench's neutral ``rules.yaml`` into an airisk ruleset (``input: document``).

    python benchmarks/peerbench_translate.py /work/shared/peerbench/rules.yaml OUT.yaml

The neutral grammar is ``[field, op, value]``, ``{all}``, ``{any}`` and
``{some: list, where}``; every op except ``exists`` is false on an absent
field. airisk's comparisons are *unknown* on an absent field and a rule fires
only when its condition is *true*, so ``!=`` → ``ne`` and ``not in`` →
``not_in`` need no guard: they already stay silent when the field is absent.

Each rule gets the metadata airisk requires: dimension by id prefix
(EXP → export_control, FAC → overcapacity, others → safety), severity and
points, ``basis: heuristic`` (the thresholds are illustrative), an
``effective_from`` date, a message, and a citation of the peerbench
``rules.yaml`` itself as the instrument.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

OPS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte", "in": "in",
       "not in": "not_in", "exists": "exists"}
DIMENSION_BY_PREFIX = {"EXP": "export_control", "FAC": "overcapacity"}


def condition(raw: Any) -> dict[str, Any]:
    """One neutral condition as an airisk ``when``."""
    if isinstance(raw, list):
        field, op, value = raw
        return {"fact": field, OPS[op]: value}
    if "all" in raw:
        return {"all": [condition(c) for c in raw["all"]]}
    if "any" in raw:
        return {"any": [condition(c) for c in raw["any"]]}
    if "some" in raw:
        return {"some": raw["some"], "where": condition(raw["where"])}
    raise ValueError(f"unknown condition {raw!r}")


def translate(neutral: dict[str, Any], source: str = "peerbench rules.yaml") -> dict[str, Any]:
    """The airisk ruleset (as data) for a parsed neutral ruleset."""
    rules = []
    for raw in neutral["rules"]:
        rid = raw["id"]
        rules.append({
            "id": rid,
            "title": raw.get("title") or rid,
            "dimension": DIMENSION_BY_PREFIX.get(rid.split("-")[0], "safety"),
            "severity": "medium",
            "points": 5,
            "basis": "heuristic",
            "effective_from": "2024-01-01",
            "when": condition(raw["when"]),
            "message": f"{raw.get('title') or rid} (peerbench rule {rid}).",
            "citations": [{"instrument": f"{source} (synthetic benchmark ruleset, illustrative thresholds)",
                           "article": rid, "confidence": "S"}],
        })
    return {
        "ruleset": {
            "id": "peerbench",
            "version": "1.0.0",
            "title": "peerbench neutral ruleset (64 synthetic rules), translated",
            "input": "document",
        },
        "rules": rules,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(f"usage: {argv[0]} RULES.yaml OUT.yaml", file=sys.stderr)
        return 2
    neutral = yaml.safe_load(Path(argv[1]).read_text())
    out = translate(neutral)
    Path(argv[2]).write_text(yaml.safe_dump(out, sort_keys=False, allow_unicode=True, width=120))
    print(f"{len(out['rules'])} rules → {argv[2]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
