"""The three-valued (Kleene) logic of the rule language, written once, as closures.

A condition evaluates to True, False or None (unknown: a fact it needs is absent).
The connectives follow Kleene's strong logic:

=========  ===========================================================
``all``    False if a part is False, else None if a part is None, else True
``any``    True if a part is True, else None if a part is None, else False
``not``    None stays None; True and False swap
``some``   ``any`` over the items of a list fact (None when the list is unknown)
=========  ===========================================================

Every evaluator of the engine is these four closures over one kind of leaf. A leaf
(one comparison, see ``engine.lang.operators``) decides its truth and records what
its variant observes in the ``Outcome`` it is handed: the evidence of a comparison
that held, the facts found missing, or nothing. The connectives keep one invariant
that makes the evidence come out right without copying it: *a part that is not true
leaves no evidence behind* (a leaf records only when it holds; ``all`` drops what its
parts recorded when it is not true; ``not`` never keeps any).

Traversal is fixed, so every variant sees the same missing facts: ``all`` stops at
its first False part; ``any`` and ``some`` look at every part (the evidence of every
true branch and item is kept, and every missing fact of an undecided one reported).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.lang import operators as ops
from engine.lang.facts import MISSING, Getter, Path, getter


@dataclass(slots=True)
class Outcome:
    """Three-valued result with its explanation."""

    truth: bool | None
    evidence: list[dict[str, Any]]
    missing: set[str]
    items: dict[str, list[int]]


Node = Callable[[Any, str, Outcome], "bool | None"]
"""A compiled condition: ``(doc, prefix of fact names, outcome) -> truth``."""
Leaf = Callable[[Path, str, Any], Node]
"""Builds the node of one comparison ``(fact path, operator, literal)`` for one variant."""


# --------------------------------------------------------------------------- connectives


def all_of(parts: Sequence[Node], only_true: bool = False) -> Node:
    """Kleene conjunction of ``parts``, evaluated in order up to the first False.

    ``only_true``: for a variant that asks only whether the whole is true (the evidence of
    a fired rule), an unknown part ends it too, with None (not true, as False would be)."""
    parts = tuple(parts)
    if only_true:

        def all_true(doc: Any, prefix: str, out: Outcome) -> bool | None:
            evidence = out.evidence
            mark = len(evidence)
            for part in parts:
                if part(doc, prefix, out) is not True:
                    del evidence[mark:]
                    return None
            return True

        return all_true

    def all_(doc: Any, prefix: str, out: Outcome) -> bool | None:
        evidence = out.evidence
        mark = len(evidence)
        unknown = False
        for part in parts:
            r = part(doc, prefix, out)
            if r is False:
                del evidence[mark:]
                return False
            if r is None:
                unknown = True
        if unknown:
            del evidence[mark:]
            return None
        return True

    return all_


def any_of(parts: Sequence[Node]) -> Node:
    """Kleene disjunction of ``parts``, every part evaluated (the evidence of each true one is kept)."""
    parts = tuple(parts)

    def any_(doc: Any, prefix: str, out: Outcome) -> bool | None:
        result: bool | None = False
        for part in parts:
            r = part(doc, prefix, out)
            if r is True:
                result = True
            elif r is None and result is False:
                result = None
        return result

    return any_


def not_of(inner: Node) -> Node:
    """Kleene negation: the missing facts of ``inner`` count, its evidence and matched items do not."""

    def not_(doc: Any, prefix: str, out: Outcome) -> bool | None:
        r = inner(doc, prefix, Outcome(None, [], out.missing, {}))
        return None if r is None else not r

    return not_


def some_of(list_path: Path, where: Node, items: bool = True) -> Node:
    """``any`` of ``where`` over the items of a list fact, each under the prefix ``list[i].``;
    records the indexes of the true items in ``Outcome.items`` (unknown when the list is).

    ``items=False``: for a variant that has no use for the matched items (truth, missing
    facts, the evidence of a fired rule), the same truth without that bookkeeping."""
    get_items: Getter = getter(list_path)
    name = ".".join(list_path)

    def some(doc: Any, prefix: str, out: Outcome) -> bool | None:
        found = get_items(doc)
        if found is MISSING or not isinstance(found, list | tuple):
            out.missing.add(prefix + name)
            return None
        result: bool | None = False
        for i, item in enumerate(found):
            r = where(item, f"{prefix}{name}[{i}].", out)
            if r is True:
                result = True
                if items:
                    out.items.setdefault(name, []).append(i)
            elif r is None and result is False:
                result = None
        if items and result is not True:
            out.items.pop(name, None)
        return result

    return some


# --------------------------------------------------------------------------- leaves, one per variant
#
# Each leaf reads a one-step path from a plain dict inline (most facts of an item are one step:
# ``tops``, ``count``), else through ``facts.getter``; both give ``MISSING`` for absent or null.


def _key(path: Path) -> str | None:
    return path[0] if len(path) == 1 else None


def _comparison(path: Path, op: str, value: Any) -> tuple[bool, str | None, Getter, str, Any, Callable[[Any], bool]]:
    """What a recording comparison works out once: whether it is a presence test, the one-step key
    to read inline (None: use the getter), the getter, the fact's name, the literal as evidence
    shows it, and the compiled test (``_recording_leaf`` and ``conjunction_evidence`` share it)."""
    return (ops.presence(op), _key(path), getter(path), ".".join(path),
            list(value) if isinstance(value, tuple) else value, ops.get(op).test(value))


def _recording_leaf(path: Path, op: str, value: Any, record_missing: bool) -> Node:
    presence_test, key, get, fact, shown, test = _comparison(path, op, value)
    if presence_test:

        def presence(doc: Any, prefix: str, out: Outcome) -> bool | None:
            actual = get(doc)
            if not test(actual):
                return False
            out.evidence.append({"fact": prefix + fact, "op": op, "value": shown,
                                 "actual": None if actual is MISSING else actual})
            return True

        return presence

    def cmp(doc: Any, prefix: str, out: Outcome) -> bool | None:
        if key is not None and type(doc) is dict:
            actual = doc.get(key, MISSING)
            if actual is None:
                actual = MISSING
        else:
            actual = get(doc)
        if actual is MISSING:
            if record_missing:
                out.missing.add(prefix + fact)
            return None
        if not test(actual):
            return False
        out.evidence.append({"fact": prefix + fact, "op": op, "value": list(shown) if type(shown) is list else shown,
                             "actual": list(actual) if isinstance(actual, tuple) else actual})
        return True

    return cmp


def conjunction_evidence(leaves: Sequence[tuple[Path, str, Any]]) -> Callable[[Any, str], list[dict[str, Any]] | None]:
    """The evidence of a conjunction of comparisons (or of one), as ``all_of(..., only_true=True)``
    over ``evidence_leaf``s records it when it is true, and None when it is not; in one loop, with
    no node per comparison and no ``Outcome`` (69 of the 223 bundled rules and 46 of peerbench's 64
    are this shape). Each step does what ``_recording_leaf`` does for its comparison: a test in
    tests/test_oracle.py holds the two to the same evidence. ``leaves``: each comparison's (fact
    path, operator, literal), in order."""
    steps = []
    for path, op, value in leaves:
        presence, key, get, fact, shown, test = _comparison(path, op, value)
        steps.append((presence, key, get, fact, op, shown, type(shown) is list, test))

    def evidence(doc: Any, prefix: str) -> list[dict[str, Any]] | None:
        out = []
        plain = type(doc) is dict
        for presence, key, get, fact, op, shown, copy, test in steps:
            if presence:  # as the presence leaf: its literal as it is, a missing fact shown as null
                actual = get(doc)
                if not test(actual):
                    return None
                out.append({"fact": prefix + fact, "op": op, "value": shown,
                            "actual": None if actual is MISSING else actual})
                continue
            if key is not None and plain:
                actual = doc.get(key, MISSING)
                if actual is None:
                    actual = MISSING
            else:
                actual = get(doc)
            if actual is MISSING or not test(actual):
                return None
            out.append({"fact": prefix + fact, "op": op, "value": list(shown) if copy else shown,
                        "actual": list(actual) if isinstance(actual, tuple) else actual})
        return out

    return evidence


def explain_leaf(path: Path, op: str, value: Any) -> Node:
    """A comparison recording its evidence when it holds and its fact when missing."""
    return _recording_leaf(path, op, value, True)


def evidence_leaf(path: Path, op: str, value: Any) -> Node:
    """A comparison recording its evidence when it holds (missing facts are not recorded)."""
    return _recording_leaf(path, op, value, False)


def missing_leaf(path: Path, op: str, value: Any) -> Node:
    """A comparison recording its fact when missing (no evidence)."""
    get, fact, test = getter(path), ".".join(path), ops.get(op).test(value)
    if ops.presence(op):
        return lambda doc, prefix, out: test(get(doc))
    key = _key(path)

    def cmp(doc: Any, prefix: str, out: Outcome) -> bool | None:
        if key is not None and type(doc) is dict:
            actual = doc.get(key, MISSING)
            if actual is None:
                actual = MISSING
        else:
            actual = get(doc)
        if actual is MISSING:
            out.missing.add(prefix + fact)
            return None
        return test(actual)

    return cmp


def truth_leaf(path: Path, op: str, value: Any) -> Node:
    """A comparison recording nothing."""
    get, test = getter(path), ops.get(op).test(value)
    if ops.presence(op):
        return lambda doc, prefix, out: test(get(doc))
    key = _key(path)

    def cmp(doc: Any, prefix: str, out: Outcome) -> bool | None:
        if key is not None and type(doc) is dict:
            actual = doc.get(key)
            return None if actual is None else test(actual)
        actual = get(doc)
        return None if actual is MISSING else test(actual)

    return cmp
