"""The per-process memos of the hot path change no record: a batch worker's results (dimension blocks
and explanations from the plan's memo, missing facts and residuals by the values of the facts a rule
reads) are byte for byte those of a run with every memo off."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import api
from engine.assessment import plan
from engine.batch.records import make_assessor

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

#: A document ruleset whose rules read flags, categories and numbers, some of them often absent.
DOC_RULES = """\
ruleset: {id: m, version: '1', title: M, input: document}
rules:
  - id: M-001
    title: Public service without filing
    dimension: safety
    severity: high
    points: 30
    basis: heuristic
    effective_from: 2020-01-01
    when: {all: [{fact: serves_public, eq: true}, {fact: filed, eq: false}]}
    message: Not filed.
    citations: [{instrument: test, confidence: S}]
  - id: M-002
    title: Transfer without a mechanism
    dimension: safety
    severity: medium
    points: 15
    basis: heuristic
    effective_from: 2020-01-01
    when: {all: [{fact: transfer, eq: true}, {fact: mechanism, exists: false}, {fact: subjects, gte: 100000}]}
    message: Transfer of {subjects} subjects.
    citations: [{instrument: test, confidence: S}]
  - id: M-003
    title: Inefficient site
    dimension: overcapacity
    severity: low
    points: 10
    basis: heuristic
    effective_from: 2020-01-01
    when: {any: [{fact: pue, gt: 1.5}, {all: [{fact: region, in: [east, north]}, {fact: utilisation, lt: 0.3}]}]}
    message: Site.
    citations: [{instrument: test, confidence: S}]
"""


def _doc_cases(n: int) -> list[bytes]:
    import random

    rnd = random.Random(5)
    out = []
    for i in range(n):
        case: dict[str, Any] = {"id": f"c{i}"}
        for key, values in (("serves_public", [True, False]), ("filed", [True, False]), ("transfer", [True, False]),
                            ("mechanism", ["scc"]), ("region", ["east", "west", "north"]),
                            ("subjects", [10, 100000, 2000000]), ("pue", [1.2, 1.6]),
                            ("utilisation", [0.1, 0.5, 1])):
            if rnd.random() < 0.7:
                case[key] = rnd.choice(values)
        out.append(orjson.dumps(case))
    return out


def _run(rules: Any, lines: list[bytes], as_of: str, memos: bool, monkeypatch: pytest.MonkeyPatch) -> bytes:
    with monkeypatch.context() as m:
        if not memos:
            m.setattr(plan, "fact_key", lambda *_: None)  # every memo by fact values off (plan and bounds)
        assessor = make_assessor(rules, as_of, None, shared=False)
        assessor.engine.share_static = memos  # the dimension and explanation memos are a worker's
        blob, _ = assessor.chunk([(i + 1, line) for i, line in enumerate(lines)])
        if memos:
            (used,) = assessor.engine._plans.values()
            assert used._missing_memo and used.memo  # the memos were filled, and hit:
            assert len(used._missing_memo) < len(lines) * len(used.active)
        return blob


@pytest.mark.parametrize("as_of", ["2026-12-01", "2025-06-01"])
def test_generated_bundled_cases_get_the_same_records_with_and_without_the_memos(
        as_of: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from gen_cases import generate

    lines = [orjson.dumps(c) for c in generate(80, seed=31)]  # gaps of every section: memo hits and misses
    rules = api.load_rules()
    with_memos = _run(rules, lines, as_of, True, monkeypatch)
    assert with_memos == _run(rules, lines, as_of, False, monkeypatch)


def test_a_document_ruleset_with_recurring_gaps_gets_the_same_records_with_and_without_the_memos(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(DOC_RULES)
    rules = api.load_rules([path])
    lines = _doc_cases(400)
    with_memos = _run(rules, lines, "2026-12-01", True, monkeypatch)
    assert with_memos == _run(rules, lines, "2026-12-01", False, monkeypatch)
    records = [orjson.loads(x) for x in with_memos.splitlines()]
    assert any(r["assessment"]["needs_information"] for r in records)  # gaps were asked about
    ranges = [r["assessment"]["rating_range"] for r in records]
    assert any(span and span[0] != span[1] for span in ranges)  # and ranges searched


def test_true_and_one_are_different_facts_to_the_memo() -> None:
    from engine.lang import conditions as C

    for reads in ((("x",), (C.getter(("x",)),)), (None, (C.getter(("x",)),))):  # by key, by getter
        assert plan.fact_key("R", reads, {"x": True}) != plan.fact_key("R", reads, {"x": 1})
        assert plan.fact_key("R", reads, {"x": 1}) != plan.fact_key("R", reads, {"x": 1.0})
        assert plan.fact_key("R", reads, {}) == plan.fact_key("R", reads, {"x": None})  # absent and null alike
    assert plan.fact_key("R", None, {"x": 1}) is None  # a rule over list items has no key


@pytest.mark.parametrize("as_of", ["2026-12-01", "2025-06-01"])
def test_memos_that_keep_almost_nothing_change_no_record(as_of: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries leave the memos all the time when each generation holds two: every eviction path
    (the explored groups replayed with the steps they took, residuals shared through ``canon``)
    gives the records of a run with every memo off."""
    from gen_cases import generate

    from engine.assessment import bounds
    from engine.assessment.memo import Memo

    lines = [orjson.dumps(c) for c in generate(60, seed=37)]
    rules = api.load_rules()
    without = _run(rules, lines, as_of, False, monkeypatch)
    with monkeypatch.context() as m:
        sizes: list[int] = []
        make = Memo.__init__

        def tiny(self: Memo[Any, Any], limit: int) -> None:
            sizes.append(limit)
            make(self, 2)

        m.setattr(Memo, "__init__", tiny)
        m.setattr(bounds._CANDIDATES, "limit", 2)
        assert _run(rules, lines, as_of, True, monkeypatch) == without
        assert len(sizes) >= 7  # the plan's memos and every bounds memo were made small


def test_a_memo_keeps_at_most_two_generations_and_what_is_used() -> None:
    from engine.assessment.memo import Memo

    memo: Memo[int, str] = Memo(3)
    for i in range(10):
        memo.put(i, str(i))
        assert len(memo) <= 6
    assert memo.get(0) is None  # long gone
    assert [memo.get(i) for i in (7, 8, 9)] == ["7", "8", "9"]
    hot = 7
    for i in range(10, 40):
        assert memo.get(hot) == "7"  # used between every two puts: it survives every rotation
        memo.put(i, str(i))
    assert memo.get(hot) == "7" and len(memo) <= 6
    with pytest.raises(TypeError):
        memo.get([1])  # type: ignore[arg-type]  # unhashable, as with a dict
    with pytest.raises(ValueError, match="not positive"):
        Memo(0)
    memo.clear()
    assert len(memo) == 0 and memo.get(hot) is None
    two: Memo[str, int] = Memo(2)
    for n, key in enumerate("abcab"):
        two.put(key, n)
    assert two.items() == {"c": 2, "a": 3, "b": 4}  # young values win; "a" and "b" were put again


@settings(max_examples=200, deadline=None)
@given(limit=st.integers(1, 5), ops=st.lists(st.tuples(st.booleans(), st.integers(0, 9), st.integers()), max_size=80))
def test_a_memo_never_answers_a_stale_value_and_keeps_the_recent_ones(
        limit: int, ops: list[tuple[bool, int, int]]) -> None:
    """Against a dict of every value put: a lookup finds the latest value put for its key or
    nothing; a key put in the last ``limit`` operations is found; size stays within two generations."""
    from engine.assessment.memo import Memo

    memo: Memo[int, int] = Memo(limit)
    latest: dict[int, int] = {}
    when: dict[int, int] = {}
    for t, (is_put, key, value) in enumerate(ops):
        if is_put:
            memo.put(key, value)
            latest[key], when[key] = value, t
        else:
            found = memo.get(key)
            assert found is None or found == latest[key]
            if key in when and t - when[key] <= limit:
                assert found == latest[key]
        assert len(memo) <= 2 * limit
