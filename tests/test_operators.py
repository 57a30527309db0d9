"""The operator registry (``engine.lang.operators``) is complete, and is the only place operators are named.

Every test that takes ``name`` runs for every registered operator, so an operator added to the
registry without one of its aspects fails here: its schema shape, type rule, negation, reference
and compiled comparison, durable translation (through the real matching core), evidence symbol,
docs wording, its line in ``docs/rule-language.md`` and its counterfactuals (the values that make
a comparison false, and the changes ``engine.assessment.search`` proposes from them). The Kleene
connectives of ``engine.lang.kleene`` are held to their truth tables. And no module of ``engine/`` but the
registry spells a set of operator names.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.assessment import search
from engine.assessment.engine import Engine
from engine.authoring.docs import comparison_in_words
from engine.errors import RulesetError
from engine.lang import conditions as C
from engine.lang import kleene
from engine.lang import operators as ops
from engine.match.compiler import FactPlan, KeyMap, _Compiler
from engine.render.formats import _evidence_line
from engine.ruleset.check_conditions import _holds, _type_fits
from engine.ruleset.load import combine
from engine.ruleset.parse import parse_ruleset
from engine.ruleset.schema import OPERATORS, SCHEMA
from engine.source.safeyaml import Document
from engine.source.tables import country_groups

ROOT = Path(__file__).resolve().parent.parent
NAMES = list(ops.REGISTRY)
PUBLIC = [n for n in NAMES if ops.REGISTRY[n].public]


@dataclass(frozen=True)
class Fact:
    """A fact type as the catalogue gives it (``engine.case.factspec.FactType``)."""

    kind: str
    enum: tuple[Any, ...] | None = None
    element: str | None = None


def sample(entry: ops.Operator) -> Any:
    """A literal the operator takes (lists as tuples, as ``parse`` leaves them)."""
    if entry.operand == "flag":
        return True
    if entry.operand == "values":
        return (1, 3)
    return "a" if entry.on_list else 3


def field(entry: ops.Operator) -> str:
    return "tags" if entry.on_list else "n"


def fitting_fact(entry: ops.Operator) -> Fact:
    return Fact("scalar_list", element="string") if entry.on_list else Fact("number")


# Documents of consistent types (as a validated case is), for the matching core ...
TYPED_DOCS: list[dict[str, Any]] = [
    {}, {"n": 1}, {"n": 3}, {"n": 5}, {"n": 3.0}, {"n": None},
    {"tags": []}, {"tags": ["a"]}, {"tags": ["b", "c"]}, {"tags": None}, {"n": 1, "tags": ["a", "b"]},
]
# ... and with values of other kinds too, for the evaluators.
DOCS = [*TYPED_DOCS, {"n": True}, {"n": "3"}, {"n": [3]}, {"n": {"v": 3}}, {"tags": "a"}, {"tags": [True, 1]}]


# --------------------------------------------------------------------------- every aspect


def test_the_registry_names_each_operator_once_and_the_schema_enum_is_its_public_part() -> None:
    assert all(entry.name == name for name, entry in ops.REGISTRY.items())
    assert tuple(PUBLIC) == OPERATORS
    assert {n for n in NAMES if ops.REGISTRY[n].bound is not None} == ops.ORDER_OPERATORS


@pytest.mark.parametrize("name", NAMES)
def test_every_operator_has_every_aspect(name: str) -> None:
    entry = ops.REGISTRY[name]
    assert entry.operand in ("scalar", "values", "flag")
    for aspect in (entry.compare, entry.test, entry.fits, entry.durable, entry.words):
        assert callable(aspect)
    assert entry.symbol.strip() and entry.doc.strip()
    assert entry.bound in (None, "lower", "upper")
    assert not entry.strict or entry.order, "only an order comparison can exclude its bound"
    assert ops.is_order(name) == entry.order
    assert ops.symbol(name) == entry.symbol


@pytest.mark.parametrize("name", NAMES)
def test_negation_is_an_operator_whose_negation_is_the_first_again(name: str) -> None:
    entry = ops.REGISTRY[name]
    dual = ops.get(entry.negation)
    assert dual.negation == name
    assert dual.operand == entry.operand and dual.on_list == entry.on_list and dual.presence == entry.presence
    value = sample(entry)
    assert dual.negated(entry.negated(value)[1]) == (name, value)
    if entry.order:
        assert {entry.bound, dual.bound} == {"lower", "upper"} and entry.strict != dual.strict
    assert entry.public or dual.public, "an operator nobody can write or produce"


@pytest.mark.parametrize("name", NAMES)
def test_the_ruleset_schema_takes_exactly_the_public_operators_with_their_operand_shape(name: str) -> None:
    entry = ops.REGISTRY[name]
    comparison = next(b for b in SCHEMA["$defs"]["condition"]["oneOf"] if "fact" in b.get("properties", {}))
    assert (name in comparison["properties"]) == entry.public
    validator = jsonschema.Draft202012Validator(entry.schema())
    value = sample(entry)
    assert validator.is_valid(list(value) if isinstance(value, tuple) else value)
    wrong = {"flag": 1, "values": [], "scalar": [1]}[entry.operand]
    assert not validator.is_valid(wrong)
    assert entry.shape_error(value) is None
    assert entry.shape_error(C.normalise_value(wrong)) is not None


def _ruleset(when: dict[str, Any]) -> Any:
    data = {
        "ruleset": {"id": "ops", "version": "1", "title": "operators", "input": "document"},
        "rules": [{"id": "OPS-001", "title": "r", "dimension": "safety", "severity": "low", "points": 1,
                   "basis": "heuristic", "effective_from": dt.date(2000, 1, 1), "when": when, "message": "m",
                   "citations": [{"instrument": "test", "confidence": "S"}]}],
    }
    return combine([parse_ruleset(Document(data=data, file="<operators>"))])


def _written(entry: ops.Operator) -> dict[str, Any]:
    """The comparison as a ruleset writes it: directly, or (an internal operator) as its negation under `not`."""
    value = sample(entry)
    shown = list(value) if isinstance(value, tuple) else value
    if entry.public:
        return {"fact": field(entry), entry.name: shown}
    dual_value = entry.negated(value)[1]
    return {"not": {"fact": field(entry), entry.negation: list(dual_value) if isinstance(dual_value, tuple)
                    else dual_value}}


@pytest.mark.parametrize("name", NAMES)
def test_the_loader_takes_a_public_operator_and_refuses_an_internal_one(name: str) -> None:
    entry = ops.REGISTRY[name]
    value = sample(entry)
    raw = {"fact": field(entry), name: list(value) if isinstance(value, tuple) else value}
    if entry.public:
        rules = _ruleset(raw)
        assert rules.rules[0].condition == C.Cmp((field(entry),), name, value)
    else:
        with pytest.raises(RulesetError) as exc:
            _ruleset(raw)
        assert {p.code for p in exc.value.problems} >= {"unknown_operator"}


@pytest.mark.parametrize("name", NAMES)
def test_the_type_rule_fits_the_fact_kinds_the_operator_is_for(name: str) -> None:
    entry = ops.REGISTRY[name]
    value = sample(entry)
    assert _type_fits(fitting_fact(entry), name, value) is None
    for kind in ("object", "object_list"):
        assert (_type_fits(Fact(kind), name, value) is None) == entry.presence
    list_fact = Fact("scalar_list", element="string")
    assert (_type_fits(list_fact, name, "a" if entry.on_list else value) is None) == (
        entry.on_list or entry.presence)
    if not entry.presence:
        wrong = Fact("bool") if not entry.on_list else Fact("scalar_list", element="bool")
        assert _type_fits(wrong, name, value) is not None
    if entry.order:
        assert "yes/no" in (_type_fits(Fact("bool"), name, True) or "")
        assert "byte-wise" in (_type_fits(Fact("string"), name, "a") or "")


@pytest.mark.parametrize("name", NAMES)
def test_the_contradiction_check_decides_the_operator_like_the_comparison(name: str) -> None:
    entry = ops.REGISTRY[name]
    if entry.decide is None:
        assert _holds(name, sample(entry), 3) is None
        return
    bound = sample(entry)
    for v in (1, 3, 5, 3.0, True, "3"):
        decided = _holds(name, bound, v)
        if decided is not None:
            assert decided == entry.compare(v, bound), (v, bound)
    if entry.allows is not None:
        assert all(entry.compare(v, bound) for v in entry.allows(bound))


# --------------------------------------------------------------------------- meaning


@pytest.mark.parametrize("name", NAMES)
def test_the_evaluators_give_a_comparison_the_meaning_of_its_reference_compare(name: str) -> None:
    entry = ops.REGISTRY[name]
    value = sample(entry)
    cond = C.Cmp((field(entry),), name, value)
    compiled = C.Compiled(cond)
    seen = set()
    for doc in DOCS:
        actual = C.lookup(doc, cond.path)
        expected = None if actual is C.MISSING and not entry.presence else entry.compare(actual, value)
        seen.add(expected)
        out = C.evaluate(cond, doc)
        assert out.truth == expected == C.truth(cond, doc) == compiled.truth(doc), doc
        assert compiled.evaluate(doc) == out
        missing: set[str] = set()
        assert C.compile_missing(cond)(doc, "", missing) == expected
        assert missing == ({field(entry)} if expected is None else set())
        evidence = C.compile_evidence(cond)(doc, "")
        assert evidence == (out.evidence if expected else None)
        if expected:
            assert out.evidence == [{"fact": field(entry), "op": name, "value": list(value) if isinstance(
                value, tuple) else value, "actual": None if actual is C.MISSING else actual}]
        negated = C.truth(C.negate(cond), doc)
        if expected is None or _complementary(entry, actual, value):
            assert negated == (None if expected is None else not expected), doc
        else:  # a value of a kind the operator does not compare: false both ways
            assert negated is expected is False, doc
    assert {True, False} <= seen, "the sample documents must make the comparison both true and false"


@pytest.mark.parametrize("name", NAMES)
def test_the_matching_core_fires_the_compiled_operator_exactly_when_the_reference_is_true(name: str) -> None:
    entry = ops.REGISTRY[name]
    written = _written(entry)
    rules = _ruleset(written)
    (cond,) = [r.condition for r in rules.rules]
    assert cond == C.Cmp((field(entry),), name, sample(entry)), "the rule must compile this very operator"
    engine = Engine(rules)
    try:
        for doc in TYPED_DOCS:
            result = engine.assess_view(doc, {"id": "x", "kind": None}, as_of="2026-01-01", scenario=None)
            fired = {f["rule_id"] for f in result["findings"]}
            assert fired == ({"OPS-001"} if C.truth(cond, doc) is True else set()), doc
    finally:
        engine.close()


@pytest.mark.parametrize("name", NAMES)
def test_the_durable_translation_reads_only_keys_the_fact_plan_builds(name: str) -> None:
    entry = ops.REGISTRY[name]
    plan = FactPlan(KeyMap("c"), {})
    expr = _Compiler(plan).leaf(C.Cmp((field(entry),), name, sample(entry)), None)
    keys = set(plan.case.scalar.values()) | set(plan.case.contains.values()) | set(plan.case.presence.values())
    assert keys and set(re.findall(r"k[0-9]+", repr(expr))) == keys


@pytest.mark.parametrize("name", NAMES)
def test_the_evidence_line_shows_the_operator_symbol(name: str) -> None:
    entry = ops.REGISTRY[name]
    value = sample(entry)
    line = _evidence_line({"fact": "n", "op": name, "value": list(value) if isinstance(value, tuple) else value,
                           "actual": 3})
    assert line.startswith("n ")
    if not entry.presence:
        assert f"({entry.symbol} " in line


@pytest.mark.parametrize("name", NAMES)
def test_the_rule_docs_word_each_operator_and_its_negation_differently(name: str) -> None:
    entry = ops.REGISTRY[name]
    cond = C.Cmp((field(entry),), name, sample(entry))
    words = comparison_in_words(cond)
    assert f"`{field(entry)}`" in words and words != f"`{field(entry)}`"
    assert comparison_in_words(C.negate(cond)) != words
    in_item = comparison_in_words(cond, ("items",))
    assert in_item.startswith("the item's ")


def test_the_rule_language_doc_lists_every_public_operator_with_its_meaning() -> None:
    text = (ROOT / "docs" / "rule-language.md").read_text(encoding="utf-8")
    table = text[text.index("## Conditions"):].split("\n\n")[1]
    for name in PUBLIC:
        row = next((line for line in table.splitlines() if line.startswith(f"| `{{fact: PATH, {name}: ")), None)
        assert row is not None, f"{name} is missing from the operator table of docs/rule-language.md"
        assert f"| {ops.REGISTRY[name].doc} |" in row, (name, row)
    for name in set(NAMES) - set(PUBLIC):
        assert f" {name}: " not in table, f"{name} is internal, not written in rulesets"


def test_not_contains_is_written_in_rulesets_and_means_not_contains() -> None:
    written = _ruleset({"fact": "tags", "not_contains": "a"}).rules[0].condition
    negated = _ruleset({"not": {"fact": "tags", "contains": "a"}}).rules[0].condition
    assert written == negated == C.Cmp(("tags",), "not_contains", "a")
    for doc in DOCS:
        assert C.evaluate(written, doc) == C.evaluate(negated, doc)
    assert _type_fits(Fact("scalar_list", element="string"), "not_contains", "a") is None
    assert "needs a list fact" in (_type_fits(Fact("string"), "not_contains", "a") or "")
    enum = Fact("scalar_list", enum=("a", "b"), element="string")
    assert "not a possible element" in (_type_fits(enum, "not_contains", "z") or "")
    rendered = _evidence_line({"fact": "tags", "op": "not_contains", "value": "a", "actual": ["b"]})
    assert rendered == "tags = b  (lacks a)"
    assert comparison_in_words(written) == "`tags` does not include `a`"


# --------------------------------------------------------------------------- reference == compiled

SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=4)
           | st.sampled_from([0, 1, 3, 3.0, -0.0, "3", "a", "2025-01-01", True, False]))
ACTUALS = SCALARS | st.lists(SCALARS, max_size=4) | st.dictionaries(st.text(max_size=2), SCALARS, max_size=2) \
    | st.just(C.MISSING)


def literals(entry: ops.Operator) -> st.SearchStrategy[Any]:
    return _literals(entry.operand)


@functools.cache  # validating a new strategy per example cost half the time; the draws are the same
def _literals(operand: str) -> st.SearchStrategy[Any]:
    scalar = SCALARS.filter(lambda v: v is not None)
    if operand == "flag":
        return st.booleans()
    if operand == "values":
        return st.lists(scalar, min_size=1, max_size=4).map(tuple)
    return scalar


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_the_compiled_comparison_agrees_with_the_reference_on_any_value(name: str, data: st.DataObject) -> None:
    entry = ops.REGISTRY[name]
    value = data.draw(literals(entry))
    actual = data.draw(ACTUALS)
    expected = entry.compare(actual, value)
    assert isinstance(expected, bool)
    assert entry.test(value)(actual) == expected, (actual, value)
    assert C.compare(actual, name, value) == expected
    if entry.presence or actual is not C.MISSING:
        negation = ops.get(entry.negation).compare(actual, entry.negated(value)[1])
        if _complementary(entry, actual, value):
            assert negation != expected, (actual, value)
        else:
            assert negation is expected is False, (actual, value)


def _complementary(entry: ops.Operator, actual: Any, value: Any) -> bool:
    """Whether an operator and its negation split this present value (one true, the other false).

    They are both false on a value of a kind they do not compare: an object or a list for a
    scalar operator, a scalar for a list operator, and for an order comparison a yes/no or a
    value Python does not order against the literal (the matching core sees none of these)."""
    if entry.presence:
        return True
    if entry.on_list:
        return isinstance(actual, list)
    if isinstance(actual, dict | list):
        return False
    if not entry.order:
        return True
    if isinstance(actual, bool) or isinstance(value, bool):
        return False
    try:
        actual < value  # noqa: B015  # only whether Python orders the two
    except TypeError:
        return False
    return True


# --------------------------------------------------------------------------- the Kleene connectives

VALUES = (True, None, False)
RANK = {False: 0, None: 1, True: 2}


def _const(value: bool | None) -> kleene.Node:
    return lambda doc, prefix, out: value


def _by_index(values: tuple[bool | None, ...]) -> kleene.Node:
    """A node whose truth on item i (an index) is values[i]."""
    return lambda doc, prefix, out: values[doc]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_all_any_not_and_some_follow_the_kleene_truth_tables(n: int) -> None:
    for parts in itertools.product(VALUES, repeat=n):
        out = kleene.Outcome(None, [], set(), {})
        lowest = min(parts, key=RANK.__getitem__)
        highest = max(parts, key=RANK.__getitem__)
        assert kleene.all_of([_const(p) for p in parts])(None, "", out) is lowest
        assert kleene.any_of([_const(p) for p in parts])(None, "", out) is highest
        for p in parts:
            assert kleene.not_of(_const(p))(None, "", out) is (None if p is None else not p)
        where = _by_index(parts)
        items = {"xs": list(range(n))}
        assert kleene.some_of(("xs",), where)(items, "", out) is highest
        assert kleene.some_of(("xs",), where)({}, "", out) is None
        only_true = kleene.all_of([_const(p) for p in parts], only_true=True)(None, "", out)
        assert (only_true is True) == (lowest is True)


def test_a_part_that_is_not_true_leaves_no_evidence_behind() -> None:
    high = kleene.explain_leaf(("n",), "gt", 2)
    low = kleene.explain_leaf(("n",), "lt", 2)
    for node in (kleene.all_of([high, low]), kleene.any_of([low, low]), kleene.not_of(high),
                 kleene.some_of(("xs",), kleene.all_of([high, low]))):
        out = kleene.Outcome(None, [], set(), {})
        assert node({"n": 3, "xs": [{"n": 3}]}, "", out) is False
        assert out.evidence == [] and out.items == {}
    out = kleene.Outcome(None, [], set(), {})
    assert kleene.some_of(("xs",), kleene.any_of([low, high]))({"xs": [{"n": 1}, {"n": 3}]}, "", out) is True
    assert out.evidence == [{"fact": "xs[0].n", "op": "lt", "value": 2, "actual": 1},
                            {"fact": "xs[1].n", "op": "gt", "value": 2, "actual": 3}]
    assert out.items == {"xs": [0, 1]}


# --------------------------------------------------------------------------- counterfactuals


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_counter_value_makes_the_comparison_false_and_meets_its_negation(name: str,
                                                                             data: st.DataObject) -> None:
    entry = ops.REGISTRY[name]
    if entry.counter is None:
        return
    value = data.draw(literals(entry))
    current = data.draw(st.lists(SCALARS, max_size=4) | ACTUALS)
    dual = ops.get(entry.negation)
    for new, condition in entry.counter(value, current):
        assert new is not C.MISSING
        assert entry.compare(new, value) is False, (new, value, current)
        assert dual.compare(new, entry.negated(value)[1]) is True, (new, value, current)
        if not entry.on_list:  # the condition is the negation in its evidence symbol: `pue 1.3 → 1.25 (≤ 1.25)`
            assert condition.startswith(f"{dual.symbol} "), condition
        else:
            assert condition.split(" ", 1)[0] in ("with", "without"), condition


# (operator, literal, current value) -> counter values: the ones the search has always proposed, plus
# what it could not do before (an inclusive bound beside a tiny number or a date).
COUNTERS: list[tuple[str, Any, Any, list[tuple[Any, str]]]] = [
    ("lt", 0.5, None, [(0.5, "≥ 0.5")]),
    ("gt", 0.3, 0.2, [(0.3, "≤ 0.3")]),
    ("gte", 4800, None, [(4799, "< 4800")]),
    ("gte", 5.92, None, [(5.919, "< 5.92")]),
    ("lte", 0.3, None, [(0.3001, "> 0.3")]),
    ("lte", 1e25, None, [(1.001e25, "> 1e+25")]),
    ("gte", -1e-12, None, [(-1.001e-12, "< -1e-12")]),  # rounded to ten decimals, -0.0 would still be >= it
    ("gte", "2025-08-02", None, [("2025-08-01", "< 2025-08-02")]),
    ("lte", "2025-12-31", None, [("2026-01-01", "> 2025-12-31")]),
    ("lt", "2025-08-02", None, [("2025-08-02", "≥ 2025-08-02")]),
    ("gte", "2025-02-30", None, []),
    ("gte", True, None, []),
    ("eq", True, None, [(False, "≠ True")]),
    ("eq", "inference", None, []),  # the other values are the fact type's: the search asks the case model
    ("ne", "MO", None, [("MO", "= MO")]),
    ("ne", False, None, [(False, "= False")]),
    ("ne", 3.0, None, [(3.0, "= 3.0")]),
    ("not_in", ["a", "b"], None, [("a", "in ['a', 'b']"), ("b", "in ['a', 'b']")]),
    ("contains", "soe", ["soe", "lgfv"], [(["lgfv"], "without soe")]),
    ("contains", "soe", None, []),
    ("not_contains", "soe", ["lgfv"], [(["lgfv", "soe"], "with soe")]),
    ("not_contains", "soe", None, []),
]


@pytest.mark.parametrize(("name", "value", "current", "expected"), COUNTERS)
def test_the_counter_values_are_the_boundary_values_with_their_condition(name: str, value: Any, current: Any,
                                                                        expected: list[tuple[Any, str]]) -> None:
    counter = ops.get(name).counter
    assert counter is not None
    got = counter(value, current)
    assert got == expected and [type(v) for v, _ in got] == [type(v) for v, _ in expected]


def test_every_operator_with_a_counter_has_a_boundary_case_and_the_others_say_why_not() -> None:
    assert {name for name, *_ in COUNTERS} == {n for n in NAMES if ops.REGISTRY[n].counter is not None}
    for name in NAMES:  # no counter: the fact type gives the other values (allows), or none is a change (exists)
        entry = ops.REGISTRY[name]
        assert entry.counter is not None or entry.allows is not None or entry.presence, name


@pytest.mark.parametrize("name", NAMES)
def test_among_means_the_comparison_holds_on_the_literal_s_values_and_its_negation_avoids_them(name: str) -> None:
    entry = ops.REGISTRY[name]
    dual = ops.get(entry.negation)
    assert not (entry.among and dual.among)
    if entry.allows is not None:
        assert entry.among and not entry.on_list
    if not (entry.among or dual.among):
        assert entry.order or entry.presence, "a comparison of values asks for them or avoids them"
        return
    value = sample(entry)
    for v in value if isinstance(value, tuple) else (value,):
        assert entry.compare([v] if entry.on_list else v, value) is entry.among
    outside = "b" if entry.on_list else 2
    assert entry.compare([outside] if entry.on_list else outside, value) is not entry.among


AS_OF = "2026-12-01"


def _proposed(fact: str, op: str, value: Any, data: Any) -> list[tuple[Any, str]]:
    """(new value, condition) of the single changes the search proposes for one comparison that held."""
    evidence = {"fact": fact, "op": op, "value": list(value) if isinstance(value, tuple) else value}
    assessment = {"provenance": {"as_of": AS_OF}, "findings": [
        {"dimension": "overcapacity", "severity": "high", "rule_id": "R1", "evidence": [evidence]}]}
    return [(c["to"], c["condition"]) for c in search._candidates(assessment, data, "overcapacity")]


@pytest.mark.parametrize("name", NAMES)
def test_the_search_proposes_the_registry_s_counter_values_for_a_choice_fact(name: str) -> None:
    entry = ops.REGISTRY[name]
    if entry.allows is not None:  # any other value of the fact's type (facility.workload is an enum)
        value: Any = "training" if entry.operand == "scalar" else ("training", "mixed")
        got = _proposed("facility.workload", name, value, {"facility": {"workload": "training"}})
        shown = list(value) if isinstance(value, tuple) else value
        others = [v for v in ("training", "inference", "mixed") if v not in entry.allows(value)]
        assert got == [(v, f"{ops.get(entry.negation).symbol} {shown}") for v in others]
        assert all(not entry.compare(v, value) for v, _ in got)
        return
    fact, current = ("facility.financing", ["soe", "lgfv"]) if entry.on_list else ("facility.pue", 1.29)
    value = "soe" if entry.on_list else sample(entry)
    got = _proposed(fact, name, value, {"facility": {fact.split(".")[1]: current}})
    expected = [(v, c) for v, c in (entry.counter(value, current) if entry.counter else []) if v != current]
    assert got == expected
    assert bool(got) == (entry.counter is not None), "an operator without a counter is given no change"


@pytest.mark.parametrize("name", NAMES)
def test_a_fact_derived_from_a_country_moves_it_out_of_the_groups_asked_for_or_into_the_one_avoided(
        name: str) -> None:
    entry = ops.REGISTRY[name]
    value: Any = ("D:5", "E:1") if entry.operand == "values" else True if entry.presence else "D:5"
    got = _proposed("derived.destination_groups", name, value, {"export": {"destination_country": "CN"}})
    table = country_groups()
    if entry.among:
        named = set(value) if isinstance(value, tuple) else {value}
        assert got and {c for _, c in got} == {f"a country outside {', '.join(sorted(named))}"}
        assert all(not named & set(table.of(country, AS_OF)) for country, _ in got)
    elif ops.get(entry.negation).among and isinstance(value, str):
        assert got and {c for _, c in got} == {"a country in D:5"}
        assert all(table.member(country, "D:5", AS_OF) for country, _ in got)
    else:  # an order comparison, presence, or avoiding several groups at once: no country to propose
        assert got == []


# --------------------------------------------------------------------------- one definition

OPERATOR_NAMES = frozenset(ops.REGISTRY)
REGISTRY_FILE = Path("engine/lang/operators.py")
# Names that are operator names by coincidence: pydantic's numeric constraints (ge, gt, le, lt).
NOT_OPERATORS = {Path("engine/case/fastcheck.py"): "pydantic's and annotated-types' constraint names"}


def literal_operator_sets(source: str) -> list[tuple[int, list[str]]]:
    """(line, names) of every tuple, list, set or dict display holding two or more operator names."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            elements = node.elts
        elif isinstance(node, ast.Dict):
            elements = [k for k in node.keys if k is not None]
        else:
            continue
        names = [e.value for e in elements if isinstance(e, ast.Constant) and e.value in OPERATOR_NAMES]
        if len(set(names)) >= 2:
            found.append((node.lineno, names))
    return sorted(found)


def test_the_scan_finds_a_set_of_operator_names() -> None:
    assert literal_operator_sets('ORDER = {"lt", "lte"}\nif op in ("in", "not_in"): pass\n'
                                 'SYM = {"eq": "=", "ne": "!="}\n') == [
        (1, ["lt", "lte"]), (2, ["in", "not_in"]), (3, ["eq", "ne"])]
    assert literal_operator_sets('x = ("eq", "other")\n') == []


def test_no_module_but_the_registry_spells_a_set_of_operator_names() -> None:
    offenders = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel == REGISTRY_FILE or rel in NOT_OPERATORS:
            continue
        for line, names in literal_operator_sets(path.read_text(encoding="utf-8")):
            offenders.append(f"{rel}:{line}: {names}")
    assert offenders == [], "operators are named only in engine/lang/operators.py:\n" + "\n".join(offenders)
