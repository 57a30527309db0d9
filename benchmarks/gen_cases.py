"""Seeded generator of realistic, varied airisk cases as JSON lines.

    python benchmarks/gen_cases.py OUT.jsonl [N=100000] [SEED=20261122]

Each case starts from one of the example cases in ``cases/`` (projects and
facilities across the three rulesets) and is varied the way real portfolios
vary: numbers scaled (counts and money over orders of magnitude, fractions
kept in [0, 1]), countries and provinces swapped among plausible ones, flags
flipped, and optional facts dropped (so "needs information" paths run too).
Every generated case is valid against the case model (checked for the first
cases when ``--check`` is given). Ids are unique: ``<template>-<n>``.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import orjson

from engine.ruleset.parse import plain_data
from engine.source.safeyaml import load_file

ROOT = Path(__file__).resolve().parent.parent
COUNTRIES = ["CN", "US", "MY", "SG", "AE", "SA", "IN", "DE", "FR", "NL", "JP", "KR", "VN", "TH", "RU", "IR",
             "HK", "MO", "GB", "BR", "ID", "TW", "IL", "KZ"]
PROVINCES = ["Guizhou", "Ningxia", "Inner Mongolia", "Gansu", "Beijing", "Shanghai", "Guangdong", "Zhejiang",
             "Jiangsu", "Sichuan", "Chongqing", "Hebei", "Anhui", "Hubei"]
KEEP = {"id", "kind", "name"}


def _required_fields() -> set[str]:
    """Names of fields the case model requires somewhere (never dropped)."""
    sys.path.insert(0, str(ROOT))
    import typing

    from pydantic import BaseModel

    from engine.case.model import Case

    names: set[str] = set()
    seen: set[type] = set()

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, info in model.model_fields.items():
            if info.is_required():
                names.add(name)
            stack = [info.annotation]
            while stack:
                ann = stack.pop()
                if isinstance(ann, type) and issubclass(ann, BaseModel):
                    visit(ann)
                stack.extend(typing.get_args(ann))

    visit(Case)
    return names


REQUIRED = _required_fields()


def templates() -> list[dict[str, Any]]:
    """The example cases, as plain JSON-ready dicts."""
    out = []
    for path in sorted((ROOT / "cases").glob("*.yaml")):
        out.append(plain_data(load_file(str(path)).data))
    return out


def _vary(value: Any, key: str, rng: random.Random, depth: int) -> Any:
    if isinstance(value, bool):
        return (not value) if rng.random() < 0.15 else value
    if isinstance(value, int):
        if rng.random() < 0.5:
            return value
        return max(0, round(value * rng.choice((0.1, 0.5, 0.8, 1.2, 2, 5, 10))))
    if isinstance(value, float):
        if rng.random() < 0.4:
            return value
        if 0.0 <= value <= 1.0:
            return round(min(1.0, max(0.0, value * rng.uniform(0.3, 1.7))), 4)
        return round(value * rng.uniform(0.5, 2.0), 4)
    if isinstance(value, str):
        if key.endswith("country") and len(value) == 2 and rng.random() < 0.3:
            return rng.choice(COUNTRIES)
        if key == "province" and rng.random() < 0.3:
            return rng.choice(PROVINCES)
        return value
    if isinstance(value, list):
        items = [_vary(v, key, rng, depth + 1) for v in value]
        if items and isinstance(items[0], dict) and rng.random() < 0.3:
            items = [*items, dict(rng.choice(items))]  # another line of the same kind
        return items
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if depth > 0 and k not in REQUIRED and rng.random() < 0.08:
                continue  # an unknown fact
            out[k] = _vary(v, k, rng, depth + 1)
        return out
    return value


def generate(n: int, seed: int = 20261122) -> Any:
    """Yield n varied cases (dicts)."""
    rng = random.Random(seed)
    base = templates()
    for i in range(n):
        t = rng.choice(base)
        case = {k: (v if k in KEEP else _vary(v, k, rng, 1 if isinstance(v, dict | list) else 0))
                for k, v in t.items() if k in KEEP or rng.random() > 0.05}
        case["id"] = f"{t['id']}-{i}"
        yield case


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("--")]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    out, n = args[0], int(args[1]) if len(args) > 1 else 100_000
    seed = int(args[2]) if len(args) > 2 else 20261122
    check = "--check" in argv
    bad = 0
    with open(out, "wb") as fh:
        for i, case in enumerate(generate(n, seed)):
            if check and i < 2000:
                sys.path.insert(0, str(ROOT))
                from engine.case.validation import case_from_data
                from engine.errors import InputError

                try:
                    case_from_data(case)
                except InputError as exc:
                    bad += 1
                    print(f"invalid case {case['id']}: {exc.first}", file=sys.stderr)
            fh.write(orjson.dumps(case) + b"\n")
    print(f"{n} cases → {out}" + (f" ({bad} invalid in the first 2000)" if check else ""), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
