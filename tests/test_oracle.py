"""Differential tests: the durable-rules core and the pure-Python evaluator agree.

Hypothesis generates rulesets in the full condition language (all / any / not,
every operator, `exists`, `contains`, `some` over a list) and documents with
absent fields, then checks that the rules the Rete network fires are exactly
the rules whose condition is *true* in three-valued logic, and that the rules
reported as needing information are exactly those whose condition is unknown.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from types import MappingProxyType
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.assessment.engine import Engine
from engine.errors import RulesetError
from engine.lang import conditions as C
from engine.ruleset.load import combine
from engine.ruleset.parse import parse_ruleset
from engine.source.safeyaml import Document

# field -> value strategy (types stay consistent, as the validator guarantees for cases)
INTS = st.integers(min_value=-3, max_value=3) | st.sampled_from([0, 4800, 4799, 10**25, 2**70])
FLOATS = st.sampled_from([1.25, 1.5, 0.2, 5.92, 1.0e25, 3.0e25, -0.5, 4799.9])
WORDS = st.sampled_from(["CN", "MO", "US", "Guizhou", "guizhou", "Ningxia", "é", "e\u0301"])
BOOLS = st.booleans()
DATES = st.sampled_from(["2023-11-16", "2023-11-17", "2025-04-09", "2026-01-15"])

CASE_FIELDS: dict[str, Any] = {"n": INTS, "x": FLOATS, "s": WORDS, "f": BOOLS, "d": DATES}
ITEM_FIELDS: dict[str, Any] = {"tpp": INTS, "pd": FLOATS, "model": WORDS, "dc": BOOLS}
TAGS = ["a", "b", "c"]


def comparison(fields: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        name = draw(st.sampled_from(sorted(fields)))
        values = fields[name]
        if name == "f" or name == "dc":
            op = draw(st.sampled_from(["eq", "ne", "exists"]))
        elif name in ("s", "model"):
            op = draw(st.sampled_from(["eq", "ne", "in", "not_in", "exists"]))
        else:
            op = draw(st.sampled_from(["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "exists"]))
        if op == "exists":
            return {"fact": name, "exists": draw(st.booleans())}
        if op in ("in", "not_in"):
            return {"fact": name, op: draw(st.lists(values, min_size=1, max_size=3))}
        return {"fact": name, op: draw(values)}

    return build()


def conditions(fields: dict[str, Any], allow_some: bool) -> st.SearchStrategy[dict[str, Any]]:
    leaf = comparison(fields)
    if fields is CASE_FIELDS:
        leaf = leaf | st.builds(lambda t, pos: {"fact": "tags", "contains": t} if pos else
                                {"not": {"fact": "tags", "contains": t}}, st.sampled_from(TAGS), st.booleans())
    tree = st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda x: {"not": x}, inner),
        ),
        max_leaves=5,
    )
    if not allow_some:
        return tree
    some = st.builds(lambda w: {"some": "items", "where": w}, conditions(ITEM_FIELDS, False))
    return st.one_of(
        tree,
        some,
        st.builds(lambda a, b: {"all": [a, b]}, tree, some),
        st.builds(lambda a, b: {"any": [a, b]}, tree, some),
        st.builds(lambda a, b, c: {"any": [{"all": [a, b]}, c]}, tree, some, some),
    )


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for name, values in CASE_FIELDS.items():
        if draw(st.booleans()):
            doc[name] = draw(values)
    if draw(st.booleans()):
        doc["tags"] = draw(st.lists(st.sampled_from(TAGS), max_size=3))
    if draw(st.integers(0, 4)):
        items = []
        for _ in range(draw(st.integers(0, 3))):
            item = {k: draw(v) for k, v in ITEM_FIELDS.items() if draw(st.booleans())}
            items.append(item)
        doc["items"] = items
    return doc


def make_rules(conds: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    """A RuleSet of the conditions; rules the validator proves can never fire are dropped."""
    while True:
        try:
            return _make_rules(conds)
        except RulesetError as exc:
            never = {int(p.pointer.split("/")[2]) for p in exc.problems if p.code == "never_fires"}
            if not never or len(exc.problems) != len([p for p in exc.problems if p.code == "never_fires"]):
                raise
            conds = [c for i, c in enumerate(conds) if i not in never] or [{"fact": "n", "exists": True}]


def _make_rules(conds: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    data = {
        "ruleset": {"id": "oracle", "version": "1", "title": "oracle", "input": "document"},
        "rules": [
            {"id": f"ORC-{i:03d}", "title": f"rule {i}", "dimension": "safety", "severity": "low", "points": 1,
             "basis": "heuristic", "effective_from": dt.date(2000, 1, 1), "when": cond, "message": "m",
             "citations": [{"instrument": "test", "confidence": "S"}]}
            for i, cond in enumerate(conds)
        ],
    }
    return combine([parse_ruleset(Document(data=data, file="<generated>"))])


def not_negating_some(cond: dict[str, Any], negated: bool = False) -> bool:
    if "some" in cond:
        return not negated
    if "not" in cond:
        return not_negating_some(cond["not"], not negated)
    for key in ("all", "any"):
        if key in cond:
            return all(not_negating_some(c, negated) for c in cond[key])
    return True


@settings(max_examples=300, deadline=None)
@given(st.lists(comparison(CASE_FIELDS), min_size=1, max_size=5), documents(), st.booleans(),
       st.sampled_from(["", "items[0]."]))
def test_the_one_loop_evidence_of_a_conjunction_is_what_the_nested_nodes_give(
        leaves: list[dict[str, Any]], doc: dict[str, Any], single: bool, prefix: str) -> None:
    # A conjunction of comparisons (or one comparison) takes kleene.conjunction_evidence; every
    # other shape the nodes of the connectives. Both must give the same evidence, value for value
    # and in order (a presence test keeps its literal; a missing fact fails the conjunction).
    parsed = C.parse(leaves[0] if single else {"all": leaves})
    fast = C.compile_evidence(parsed)
    nested = C._nested_evidence(parsed)
    for view in (doc, MappingProxyType(doc)):  # a mapping that is not a plain dict reads through the getters
        got, want = fast(view, prefix), nested(view, prefix)
        assert got == want
        assert json.dumps(got) == json.dumps(want)  # the same types too (1 is not 1.0)
    reference = C.evaluate(parsed, doc)
    assert fast(doc, "") == (reference.evidence if reference.truth is True else None)


@settings(max_examples=int(os.environ.get("AIRISK_ORACLE_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(conditions(CASE_FIELDS, True), min_size=1, max_size=12), st.lists(documents(), min_size=1, max_size=8))
def test_durable_rules_fires_exactly_the_rules_the_reference_evaluator_finds_true(conds: list[dict[str, Any]],
                                                                                  docs: list[dict[str, Any]]) -> None:
    conds = [c for c in conds if not_negating_some(c)] or [{"fact": "n", "exists": True}]
    rules = make_rules(conds)
    engine = Engine(rules)
    try:
        for doc in docs:
            result = engine.assess_view(doc, {"id": "x", "kind": None}, as_of="2026-01-01", scenario=None)
            fired = {f["rule_id"] for f in result["findings"]}
            expected = {r.id for r in rules.rules if C.truth(r.condition, doc) is True}
            assert fired == expected, (doc, [(r.id, r.raw_when) for r in rules.rules if r.id in fired ^ expected])
            unknown = {n["rule_id"] for n in result["needs_information"]}
            assert unknown == {r.id for r in rules.rules if C.truth(r.condition, doc) is None}
    finally:
        engine.close()


@settings(max_examples=200, deadline=None)
@given(conditions(CASE_FIELDS, False), documents())
def test_negation_normal_form_never_changes_the_three_valued_truth(cond: dict[str, Any], doc: dict[str, Any]) -> None:
    raw = C.parse(cond)
    assert C.truth(C.nnf(raw), doc) == C.truth(raw, doc)
    assert C.truth(C.negate(raw), doc) == (None if C.truth(raw, doc) is None else not C.truth(raw, doc))


def test_an_exponent_float_and_a_huge_integer_reach_the_core_as_numbers_it_accepts() -> None:
    rules = make_rules([{"fact": "x", "gt": 1.0e25}, {"fact": "n", "gte": 10**25}, {"fact": "n", "lt": 10**26}])
    engine = Engine(rules)
    result = engine.assess_view({"x": 3.0e25, "n": 10**25}, {"id": "x"}, as_of="2026-01-01", scenario=None)
    assert {f["rule_id"] for f in result["findings"]} == {"ORC-000", "ORC-001", "ORC-002"}
    result = engine.assess_view({"x": 1.0e25, "n": 10**26}, {"id": "x"}, as_of="2026-01-01", scenario=None)
    assert {f["rule_id"] for f in result["findings"]} == {"ORC-001"}
    engine.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions(CASE_FIELDS, True), documents())
def test_the_evidence_fast_path_gives_the_reference_evidence_whenever_the_condition_is_true(
        cond: dict[str, Any], doc: dict[str, Any]) -> None:
    parsed = C.nnf(C.parse(cond))
    reference = C.evaluate(parsed, doc)
    fast = C.compile_evidence(parsed)(doc, "")
    if reference.truth is True:
        assert fast == reference.evidence
    else:
        assert fast is None


@settings(max_examples=int(os.environ.get("AIRISK_ORACLE_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(conditions(CASE_FIELDS, True), min_size=1, max_size=8), st.lists(documents(), min_size=1, max_size=6))
def test_findings_and_facts_from_the_per_process_plan_equal_the_general_path(conds: list[dict[str, Any]],
                                                                            docs: list[dict[str, Any]]) -> None:
    conds = [c for c in conds if not_negating_some(c)] or [{"fact": "n", "exists": True}]
    rules = make_rules(conds)
    engine = Engine(rules)
    try:
        active = engine.in_force("2026-01-01", None)
        plan = engine.plan(active, None)
        for doc in docs:
            fired = plan.matcher.match(doc)
            for rule_id in fired:
                assert plan.finding(rule_id, doc) == engine.finding(plan.by_id[rule_id], doc, None)
            for shard in plan.matcher.shards:
                _, case_fact, lists = shard.plan._built
                assert orjson.loads(case_fact(doc, "1c", None)) == orjson.loads(case_fact.exact(doc, "1c", None))
                for _, _, item_fact in lists:
                    for item in doc.get("items", []):
                        assert orjson.loads(item_fact(item, "1i", 0)) == orjson.loads(item_fact.exact(item, "1i", 0))
    finally:
        engine.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions(CASE_FIELDS, True), documents())
def test_the_missing_facts_fast_path_gives_the_reference_truth_and_missing_facts(
        cond: dict[str, Any], doc: dict[str, Any]) -> None:
    parsed = C.nnf(C.parse(cond))
    reference = C.evaluate(parsed, doc)
    missing: set[str] = set()
    assert C.compile_missing(parsed)(doc, "", missing) == reference.truth
    if reference.truth is None:
        assert missing == reference.missing
