"""Byte-identical output across a change: digests of every assessment, written before, checked after.

    python benchmarks/output_digest.py --write digests.json [--generated 5000] [--seed 20261201]
    python benchmarks/output_digest.py --check digests.json
    python benchmarks/output_digest.py --write blanked.json --blank-citations   # citation text blanked

Assesses every example case (JSON of `airisk assess`, as `engine.assess_dict` gives it, with the
engine version and ruleset SHA-256s blanked; also its text and markdown, and its JSON on each day of `history()`)
and ``--generated`` cases from ``gen_cases.py`` (the records of `airisk batch`, in one process),
as of ``--as-of`` (and a fifth as many again as of 2024-06-01), and keeps the SHA-256 of each,
keyed by case.
``--check`` recomputes them with the stored settings and lists every case whose output changed;
it exits 1 if any did. For a refactoring that must not change behaviour (issue 18).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _digest(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


def history() -> list[str]:
    """Every day a bundled rule's window (its own or a scenario's, dated-parameter variants included)
    starts or ends on, and the days either side: a parameter or gate that picks the wrong value on any
    such day changes a digest (``engine.timeline.edge_days``)."""
    import engine
    from engine.timeline.dates import edge_days

    return edge_days(engine.load_rules().rules)


def _neutral(assessment: dict[str, Any]) -> None:
    """Blank what changes by design when the code or a ruleset's bytes change, not its meaning:
    the engine version and each ruleset's SHA-256 (a ruleset rewritten with named conditions and
    parameters has other bytes; its rules, counts and version, and everything else, must not change)."""
    provenance = assessment["provenance"]
    provenance["engine_version"] = "-"
    for ruleset in provenance.get("rulesets", []):
        ruleset["sha256"] = "-"


def _blank_citations(value: Any) -> None:
    """Blank every citation's text (instrument, article, url, date, confidence, note), keeping how many
    there are: with it, a change that only rewords or merges sources shows that nothing else changed."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "citations" and isinstance(item, list):
                value[key] = [dict.fromkeys(c, "-") if isinstance(c, dict) else "-" for c in item]
            else:
                _blank_citations(item)
    elif isinstance(value, list):
        for item in value:
            _blank_citations(item)


def digests(generated: int, seed: int, as_of: str, blank_citations: bool = False) -> dict[str, str]:
    from gen_cases import generate

    import engine
    try:
        from engine.render.formats import render_markdown, render_text
    except ImportError:  # the layout before issue 18, to write the "before" digests
        from engine.render import render_markdown, render_text  # type: ignore[no-redef]

    out: dict[str, str] = {}
    days = history()
    if blank_citations:
        def neutral(assessment: dict[str, Any]) -> None:
            _neutral(assessment)
            _blank_citations(assessment)
    else:
        neutral = _neutral
    for path in sorted((ROOT / "cases").glob("*.yaml")):
        result = engine.assess_dict(str(path), as_of=as_of)
        neutral(result)
        out[f"cases/{path.name}/text"] = hashlib.sha256(render_text(result).encode()).hexdigest()
        out[f"cases/{path.name}/markdown"] = hashlib.sha256(render_markdown(result).encode()).hexdigest()
        out[f"cases/{path.name}"] = _digest(result)
        for day in days:
            then = engine.assess_dict(str(path), as_of=day)
            neutral(then)
            out[f"cases/{path.name}@{day}"] = _digest(then)
    for n, record in enumerate(engine.assess_many(generate(generated, seed=seed), as_of=as_of), start=1):
        body = record.get("assessment")
        if isinstance(body, dict):
            neutral(body)
        out[f"generated/{n}"] = _digest(record)
    for n, record in enumerate(engine.assess_many(generate(generated // 5, seed=seed + 1), as_of="2024-06-01"),
                               start=1):
        body = record.get("assessment")
        if isinstance(body, dict):
            neutral(body)
        out[f"generated@2024-06-01/{n}"] = _digest(record)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--write", metavar="FILE")
    what.add_argument("--check", metavar="FILE")
    parser.add_argument("--generated", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--as-of", default="2026-12-01")
    parser.add_argument("--blank-citations", action="store_true",
                        help="blank citation text before digesting (stored with --write, used by --check)")
    args = parser.parse_args(argv)
    if args.write:
        found = digests(args.generated, args.seed, args.as_of, args.blank_citations)
        Path(args.write).write_text(json.dumps({"generated": args.generated, "seed": args.seed, "as_of": args.as_of,
                                                "blank_citations": args.blank_citations, "digests": found},
                                               indent=1, sort_keys=True) + "\n")
        print(f"{len(found)} digests written to {args.write}")
        return 0
    stored = json.loads(Path(args.check).read_text())
    found = digests(stored["generated"], stored["seed"], stored["as_of"],
                    args.blank_citations or stored.get("blank_citations", False))
    changed = sorted(k for k in stored["digests"].keys() | found.keys() if stored["digests"].get(k) != found.get(k))
    for key in changed[:50]:
        print(f"changed: {key}")
    print(f"{len(found)} assessments, {len(changed)} changed")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
