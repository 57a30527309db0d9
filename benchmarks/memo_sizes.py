"""What each per-process memo of the hot path holds after a run, and what it can grow to.

    python benchmarks/memo_sizes.py                 # 5,000 generated cases, bundled rulesets
    python benchmarks/memo_sizes.py --cases 20000 --seed 7

Assesses generated cases in process as a batch worker does (``share_static``), then prints, for
each memo (engine.assessment.memo.GENERATION), its entries, the bytes an entry takes (its keys and
values, each object counted once, in the order printed, so residuals shared by several memos count
where they first appear; the rules themselves are not counted; an evaluator's closures are measured
with tracemalloc), its generation size and the most it can take (two full generations at that size
per entry), and the process's peak RSS over the run. These are the figures behind the comment on
``GENERATION``. Asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from typing import Any

import orjson
from _common import GENERATED_SEED, ROOT

sys.path.insert(0, str(ROOT))


def deep_size(obj: Any, seen: set[int]) -> int:
    """Bytes of ``obj`` and what it holds (containers, dataclasses), each object once."""
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, list | tuple | set | frozenset):
        size += sum(deep_size(v, seen) for v in obj)
    elif hasattr(obj, "__dict__") and not callable(obj):
        size += deep_size(vars(obj), seen)
    return size


def closure_bytes(residuals: list[Any]) -> float:
    """The mean bytes of a compiled evaluator's closures (which ``deep_size`` does not follow),
    measured by compiling these residuals again under tracemalloc."""
    import tracemalloc

    from engine.assessment.residual import compile_eval

    tracemalloc.start()
    made = [compile_eval(r) for r in residuals]
    used, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del made
    return used / len(residuals)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=GENERATED_SEED)
    ap.add_argument("--as-of", default="2026-12-01")
    a = ap.parse_args()
    from gen_cases import generate

    from engine.api import load_rules
    from engine.assessment import bounds
    from engine.assessment.memo import GENERATION, Memo
    from engine.batch.records import encode_record, make_assessor

    assessor = make_assessor(load_rules(), a.as_of, None, shared=False)
    assessor.engine.share_static = True  # as in a batch worker
    start = time.perf_counter()
    for n, case in enumerate(generate(a.cases, a.seed), start=1):
        encode_record(assessor.line_record(n, orjson.dumps(case)))
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before this script's own accounting
    (plan,) = assessor.engine._plans.values()
    b = plan._bounds
    seen: set[int] = set()
    deep_size(plan.active, seen)  # the rules are not the memos'
    if b is not None:
        deep_size(b._info, seen)
    memos: list[tuple[str, Memo[Any, Any] | None]] = [
        ("missing", plan._missing_memo), ("blocks", plan.memo),
        ("residuals", b and b.residuals), ("canon", b and b.canon), ("bounds", b and b.memo),
        ("groups", b and b.groups), ("evals", b and b.evals), ("moves", b and b.moves),
        ("candidates", bounds._CANDIDATES)]
    print(f"memo sizes: {a.cases:,} generated cases (seed {a.seed}), bundled rulesets, as of {a.as_of}, "
          f"{a.cases / took:.0f} cases/s")
    print(f"{'memo':<11} {'entries':>8} {'B/entry':>8} {'generation':>10} {'at most MB':>10}")
    worst = 0.0
    keep = []
    for name, memo in memos:
        if memo is None:
            continue
        held = memo.items()
        keep.append(held)  # alive until the end: a freed dict's id may be reused and look seen
        per = deep_size(held, seen) - sys.getsizeof(held)
        per_entry = per / len(held) if held else 0.0
        if name == "evals" and held:
            per_entry += closure_bytes(list(held)[:300])
        most = 2 * GENERATION[name] * per_entry / 1e6
        worst += most
        print(f"{name:<11} {len(held):>8,} {per_entry:>8.0f} {GENERATION[name]:>10,} {most:>10.1f}")
    print(f"{'all':<11} {'':>8} {'':>8} {'':>10} {worst:>10.1f}")
    print(f"peak RSS over the run {peak:.0f} MB (before the accounting above, which takes memory of its own)")


if __name__ == "__main__":
    main()
