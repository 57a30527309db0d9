"""The matching core never corrupts memory and is safe in a long process and from threads.

durable-rules 2.0.28 writes past a memory pool when join facts are retracted after their
actions completed, and frees an uninitialised pointer when a state in which no action ran is
deleted (docs/durable-rules.md). The matcher deletes the state after dispatched actions and
retracts otherwise; these tests hold that, and hold long in-process and threaded runs to the
results of a fresh process. `benchmarks/sanitize_matcher.py` runs the matcher under valgrind.
"""

from __future__ import annotations

import ast
import concurrent.futures
import random
from pathlib import Path
from typing import Any

import orjson
import pytest

import engine
from engine.batch.run import make_assessor
from engine.match.matcher import Matcher
from engine.ruleset.load import load_rules
from tests.test_batch import AS_OF, ROOT, example_cases, run_cli, varied_cases


def _assessment(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record.get("assessment", record), option=orjson.OPT_SORT_KEYS)


def test_facts_are_retracted_only_where_no_action_was_dispatched() -> None:
    """Retracting after a dispatched action reaches deleteMessageFromFrame's overflow; deleting a
    state in which no action was dispatched frees its uninitialised context (docs/durable-rules.md).
    The only calls of either are in ``Matcher._forget``, on the branch that is safe for each."""
    calls = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Attribute) and node.attr in {"retract_fact", "retract_facts", "delete_state"}:
                    calls.append((path.name, func.name, node.attr))
    assert sorted(set(calls)) == [("matcher.py", "_forget", "delete_state"), ("matcher.py", "_forget", "retract_facts")]
    source = (ROOT / "engine" / "match" / "matcher.py").read_text(encoding="utf-8")
    forget = source[source.index("def _forget"):source.index("def _drain")]
    assert forget.index("if dispatched:") < forget.index("delete_state") < forget.index("else:") < \
        forget.index("retract_facts")


def test_a_long_in_process_run_gives_every_case_the_result_a_fresh_process_gives() -> None:
    cases = varied_cases(400, seed=11) + example_cases()
    lines = b"".join(orjson.dumps(c) + b"\n" for c in cases)
    fresh = run_cli(["batch", "--as-of", AS_OF, "--workers", "1"], stdin=lines)
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    expected = [_assessment(orjson.loads(line)) for line in fresh.stdout.splitlines()]
    rng = random.Random(5)
    order = list(range(len(cases)))
    for _ in range(5):  # 5 passes in one process, each in a new order
        rng.shuffle(order)
        records = list(engine.assess_many([cases[i] for i in order], as_of=AS_OF))
        for i, record in zip(order, records, strict=True):
            assert _assessment(record) == expected[i], cases[i]["id"]


def test_threads_sharing_the_engine_get_exactly_the_serial_results() -> None:
    cases = [c for c in example_cases() for _ in range(8)]
    serial = [_assessment(r) for r in engine.assess_many(cases, as_of=AS_OF)]

    def one(case: dict[str, Any]) -> bytes:
        return orjson.dumps(engine.assess(case, as_of=AS_OF).model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)

    expected = [one(c) for c in cases]
    # One pool of 4 threads, not a pool of 2 and then one of 4: 4 threads interleave at least as much as 2.
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert list(pool.map(one, cases)) == expected
        threaded = list(pool.map(lambda c: _assessment(next(engine.assess_many([c], as_of=AS_OF))), cases))
    assert threaded == serial


def test_verify_finds_no_disagreement_on_generated_cases_and_leaves_the_output_unchanged(tmp_path: Path) -> None:
    from benchmarks.gen_cases import generate

    cases = [orjson.dumps(c) + b"\n" for c in generate(600, seed=31)]
    verified = run_cli(["batch", "--as-of", AS_OF, "--workers", "2", "--verify"], stdin=b"".join(cases))
    # All 600 are verified (fewer reach fewer rules), but the plain run needs only the first 300:
    # --verify changing a record it agrees on shows on any record, and 300 reach 129 of the 133 rules.
    plain = run_cli(["batch", "--as-of", AS_OF, "--workers", "2"], stdin=b"".join(cases[:300]))
    assert verified.returncode == plain.returncode == 0, verified.stderr[-2000:]
    assert verified.stdout.splitlines()[:300] == plain.stdout.splitlines()
    assert len(verified.stdout.splitlines()) == 600
    assert b"engine_disagreement" not in verified.stdout


@pytest.mark.parametrize("planted", ["drop", "add"])
def test_verify_reports_a_core_that_misses_or_invents_a_rule(monkeypatch: pytest.MonkeyPatch, planted: str) -> None:
    case = next(c for c in example_cases() if c["id"] == "ec-h20-china-icc")
    baseline = next(engine.assess_many([case], as_of=AS_OF))["assessment"]
    fired = [f["rule_id"] for f in baseline["findings"]]
    assert fired
    original = Matcher.match

    def wrong(self: Matcher, view: dict[str, Any]) -> set[str]:
        got = original(self, view)
        if planted == "drop":
            return got - {fired[0]}
        never = next(r.id for r in load_rules().rules if r.id not in got and r.dimension == "overcapacity")
        return got | {never}

    monkeypatch.setattr(Matcher, "match", wrong)
    assessor = make_assessor(load_rules(), AS_OF, None, verify=True)
    record = assessor.record(1, case)
    assert record["error"]["code"] == "engine_disagreement", record
    assert (fired[0] if planted == "drop" else "fired by the core only: OV") in record["error"]["message"]
    if planted == "drop":  # without --verify a missed rule goes unnoticed: that is what verify adds
        assert "assessment" in make_assessor(load_rules(), AS_OF, None).record(1, case)
