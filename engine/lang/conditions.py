"""The condition language as a typed tree, and its three-valued evaluator.

A rule's ``when`` is parsed (after JSON Schema validation) into ``Cmp``,
``All``, ``Any``, ``Not`` and ``Some`` nodes. Evaluation gives the semantics
of the language:

- an absent fact is *unknown*; conditions combine in Kleene logic
  (``engine.lang.kleene``, the only place that logic is written);
- a comparison means what its operator's registry entry says
  (``engine.lang.operators``, the only place operators are defined);
- a rule fires only when its condition is *true*;
- evaluation also yields the evidence (every comparison that held, with the
  fact path, operator, threshold and actual value) and the missing facts.

It serves three purposes: the oracle that differential tests hold the
durable-rules core to, the explainer that turns a match into evidence, and
the detector of rules that "need information". This module is the public face
of ``engine.lang``: the names other stages use are all here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.lang import kleene
from engine.lang import operators as ops
from engine.lang.facts import MISSING, Getter, Path, Scalar, getter, is_missing, lookup
from engine.lang.kleene import Outcome

__all__ = [
    "MISSING", "All", "Any_", "Cmp", "Compiled", "Condition", "Evidence", "Explain", "Getter", "Missing",
    "Not", "Outcome", "Path", "Scalar", "Some", "Truth", "compare", "compile_evidence", "compile_explain",
    "compile_missing", "compile_truth", "evaluate", "getter", "holds", "is_missing", "item_lists", "lookup",
    "negate", "nnf", "normalise_value", "parse", "references", "to_raw", "truth", "walk",
]


@dataclass(frozen=True)
class Cmp:
    path: Path
    op: str
    value: Any  # Scalar, or a tuple of scalars for in / not_in


@dataclass(frozen=True)
class All:
    children: tuple[Condition, ...]


@dataclass(frozen=True)
class Any_:
    children: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    child: Condition


@dataclass(frozen=True)
class Some:
    list_path: Path
    where: Condition


Condition = Cmp | All | Any_ | Not | Some


def normalise_value(value: Any) -> Any:
    """Literal values as the engine compares them (dates as ISO strings)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return tuple(normalise_value(v) for v in value)
    return value


def parse(raw: Mapping[str, Any]) -> Condition:
    """Build the tree from a schema-valid ``when`` mapping."""
    if "all" in raw:
        return All(tuple(parse(c) for c in raw["all"]))
    if "any" in raw:
        return Any_(tuple(parse(c) for c in raw["any"]))
    if "not" in raw:
        return Not(parse(raw["not"]))
    if "some" in raw:
        return Some(tuple(raw["some"].split(".")), parse(raw["where"]))
    op = next(k for k in raw if k != "fact")
    return Cmp(tuple(raw["fact"].split(".")), op, normalise_value(raw[op]))


def negate(cond: Condition) -> Condition:
    """The condition that is true exactly when ``cond`` is false (Kleene), in NNF.

    Comparisons become their operator's negation (an absent fact stays unknown either
    way); ``exists`` flips its value (it is never unknown). A negated ``some`` has no
    positive form and stays wrapped in ``Not``."""
    if isinstance(cond, Cmp):
        return Cmp(cond.path, *ops.get(cond.op).negated(cond.value))
    if isinstance(cond, All):
        return Any_(tuple(negate(c) for c in cond.children))
    if isinstance(cond, Any_):
        return All(tuple(negate(c) for c in cond.children))
    if isinstance(cond, Not):
        return nnf(cond.child)
    return Not(Some(cond.list_path, nnf(cond.where)))


def nnf(cond: Condition) -> Condition:
    """Negation normal form: ``Not`` pushed down to the leaves (Kleene-equivalent)."""
    if isinstance(cond, All):
        return All(tuple(nnf(c) for c in cond.children))
    if isinstance(cond, Any_):
        return Any_(tuple(nnf(c) for c in cond.children))
    if isinstance(cond, Not):
        return negate(cond.child)
    if isinstance(cond, Some):
        return Some(cond.list_path, nnf(cond.where))
    return cond


def to_raw(cond: Condition) -> dict[str, Any]:
    """The inverse of ``parse`` (dates stay ISO strings)."""
    if isinstance(cond, All):
        return {"all": [to_raw(c) for c in cond.children]}
    if isinstance(cond, Any_):
        return {"any": [to_raw(c) for c in cond.children]}
    if isinstance(cond, Not):
        return {"not": to_raw(cond.child)}
    if isinstance(cond, Some):
        return {"some": ".".join(cond.list_path), "where": to_raw(cond.where)}
    value = list(cond.value) if isinstance(cond.value, tuple) else cond.value
    return {"fact": ".".join(cond.path), cond.op: value}


def walk(cond: Condition, in_list: Path | None = None, negated: bool = False):  # type: ignore[no-untyped-def]
    """Yield (node, enclosing list path or None, negated) for every node."""
    yield cond, in_list, negated
    if isinstance(cond, All | Any_):
        for child in cond.children:
            yield from walk(child, in_list, negated)
    elif isinstance(cond, Not):
        yield from walk(cond.child, in_list, not negated)
    elif isinstance(cond, Some):
        yield from walk(cond.where, cond.list_path, negated)


def references(cond: Condition) -> tuple[set[Path], dict[Path, set[Path]]]:
    """(case-level paths, {list path: item-relative paths}) that a condition reads."""
    case_paths: set[Path] = set()
    item_paths: dict[Path, set[Path]] = {}
    for node, in_list, _ in walk(cond):
        if isinstance(node, Cmp):
            if in_list is None:
                case_paths.add(node.path)
            else:
                item_paths.setdefault(in_list, set()).add(node.path)
        elif isinstance(node, Some):
            case_paths.add(node.list_path)
            item_paths.setdefault(node.list_path, set())
    return case_paths, item_paths


def item_lists(cond: Condition) -> set[str]:
    """The names under which ``evaluate`` reports matched items (``Outcome.items``)."""
    return {".".join(n.list_path) for n, _, _ in walk(cond) if isinstance(n, Some)}


# --------------------------------------------------------------------------- comparisons


def compare(actual: Any, op: str, value: Any) -> bool:
    """One comparison on a present value (the language's two-valued core; ``exists`` takes
    ``MISSING`` for an absent fact). Objects and lists are present but compare false with
    every operator that does not take a list fact."""
    return ops.get(op).compare(actual, value)


def _test(op: str, value: Any) -> Callable[[Any], bool]:
    """``compare(actual, op, value)`` with the operator and literal fixed (a compiled closure)."""
    return ops.get(op).test(value)


# --------------------------------------------------------------------------- evaluation
#
# One implementation of the logic (``engine.lang.kleene``) over four kinds of leaf: the
# condition is compiled once into nested closures, and each variant differs only in what
# its leaves record. The batch path evaluates every rule in force on every case, so this
# is where most of its Python time goes.

Truth = Callable[[Any], "bool | None"]
Explain = Callable[[Any, str, Outcome], "bool | None"]
Evidence = Callable[[Any, str], "list[dict[str, Any]] | None"]
Missing = Callable[[Any, str, set[str]], "bool | None"]


def _build(cond: Condition, leaf: kleene.Leaf, only_true: bool = False, items: bool = False) -> kleene.Node:
    """The closures of ``cond``: ``kleene``'s connectives over ``leaf``'s comparisons.

    ``only_true``: the variant asks only whether the whole is true (the evidence of a fired
    rule): a negated part is then decided by the truth variant, which records nothing, as a
    negation keeps none of its part's evidence. ``items``: keep the matched items of ``some``."""
    if isinstance(cond, Cmp):
        return leaf(cond.path, cond.op, cond.value)
    if isinstance(cond, All):
        return kleene.all_of([_build(c, leaf, only_true, items) for c in cond.children], only_true)
    if isinstance(cond, Any_):
        return kleene.any_of([_build(c, leaf, only_true, items) for c in cond.children])
    if isinstance(cond, Not):
        # A negation needs the exact truth of its part (not only whether it is true).
        inner = _build(cond.child, kleene.truth_leaf) if only_true else _build(cond.child, leaf, False, items)
        return kleene.not_of(inner)
    if isinstance(cond, Some):
        return kleene.some_of(cond.list_path, _build(cond.where, leaf, only_true, items), items)
    raise TypeError(f"not a condition: {cond!r}")


def compile_explain(cond: Condition) -> Explain:
    """A function ``(doc, prefix, outcome) -> truth`` adding the evidence and missing facts to ``outcome``."""
    return _build(cond, kleene.explain_leaf, items=True)


def compile_missing(cond: Condition) -> Missing:
    """A function ``(doc, prefix, missing) -> truth`` that adds to ``missing`` the facts
    ``evaluate`` reports missing (the same traversal, without building evidence)."""
    node = _build(cond, kleene.missing_leaf)
    return lambda doc, prefix, missing: node(doc, prefix, Outcome(None, [], missing, {}))


def compile_truth(cond: Condition) -> Truth:
    """A function computing ``truth(cond, doc)``."""
    node = _build(cond, kleene.truth_leaf)
    return lambda doc: node(doc, "", Outcome(None, [], set(), {}))


def compile_evidence(cond: Condition) -> Evidence:
    """A function ``(doc, prefix)`` giving ``evaluate(cond, doc).evidence`` when the condition
    is true, and None when it is not (false or unknown: ask ``evaluate`` which, and why).

    Cheaper than ``evaluate``: no missing facts are recorded. It does not give the matched
    items (``Outcome.items``): texts that name a field of a matched item need ``evaluate``.
    A comparison, or a conjunction of comparisons, gets ``kleene.conjunction_evidence``: the same
    evidence in one loop."""
    if isinstance(cond, Cmp):
        return kleene.conjunction_evidence([(cond.path, cond.op, cond.value)])
    if isinstance(cond, All):
        cmps = [c for c in cond.children if isinstance(c, Cmp)]
        if len(cmps) == len(cond.children):
            return kleene.conjunction_evidence([(c.path, c.op, c.value) for c in cmps])
    return _nested_evidence(cond)


def _nested_evidence(cond: Condition) -> Evidence:
    """``compile_evidence`` through the connectives' nodes, for a condition of any shape."""
    node = _build(cond, kleene.evidence_leaf, only_true=True)

    def evidence(doc: Any, prefix: str) -> list[dict[str, Any]] | None:
        out = Outcome(None, [], set(), {})
        return out.evidence if node(doc, prefix, out) is True else None

    return evidence


class Compiled:
    """A condition compiled once: ``truth(doc)`` and ``evaluate(doc)`` as the functions below."""

    __slots__ = ("_cond", "_explain", "truth")

    def __init__(self, cond: Condition) -> None:
        self._cond = cond
        self.truth = compile_truth(cond)
        self._explain: Explain | None = None

    def evaluate(self, doc: Mapping[str, Any]) -> Outcome:
        """Same as ``evaluate(cond, doc)``."""
        explain = self._explain
        if explain is None:
            explain = self._explain = compile_explain(self._cond)
        out = Outcome(None, [], set(), {})
        out.truth = explain(doc, "", out)
        if out.truth is not True:
            out.evidence = []
            out.items = {}
        return out


_COMPILED: dict[int, tuple[Condition, Compiled]] = {}
_COMPILED_MAX = 4096


def _compiled(cond: Condition) -> Compiled:
    """``Compiled(cond)``, kept per condition object (rules are evaluated many times)."""
    hit = _COMPILED.get(id(cond))
    if hit is not None and hit[0] is cond:
        return hit[1]
    if len(_COMPILED) >= _COMPILED_MAX:
        _COMPILED.clear()
    compiled = Compiled(cond)
    _COMPILED[id(cond)] = (cond, compiled)
    return compiled


def evaluate(cond: Condition, doc: Mapping[str, Any]) -> Outcome:
    """Kleene evaluation of ``cond`` (in NNF, see ``nnf``) on a case view, with evidence."""
    return _compiled(cond).evaluate(doc)


def truth(cond: Condition, doc: Mapping[str, Any]) -> bool | None:
    """Kleene truth value of a condition on a document."""
    return _compiled(cond).truth(doc)


def holds(cond: Condition, doc: Mapping[str, Any]) -> bool:
    """True only when the condition is true (the oracle's fired test)."""
    return _compiled(cond).truth(doc) is True
