"""The condition language as a typed tree, and its three-valued evaluator.

A rule's ``when`` is parsed (after JSON Schema validation) into ``Cmp``,
``All``, ``Any``, ``Not`` and ``Some`` nodes. The evaluator here is the
reference semantics of the language, in plain Python:

- an absent fact is *unknown*; conditions combine in Kleene logic;
- a rule fires only when its condition is *true*;
- evaluation also yields the evidence (every comparison that held, with the
  fact path, operator, threshold and actual value) and the missing facts.

It serves three purposes: the oracle that differential tests hold the
durable-rules core to, the explainer that turns a match into evidence, and
the detector of rules that "need information".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Scalar = str | int | float | bool
Path = tuple[str, ...]


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


_NEGATED_OP = {
    "eq": "ne", "ne": "eq", "lt": "gte", "gte": "lt", "lte": "gt", "gt": "lte",
    "in": "not_in", "not_in": "in", "contains": "not_contains", "not_contains": "contains",
}


def negate(cond: Condition) -> Condition:
    """The condition that is true exactly when ``cond`` is false (Kleene), in NNF.

    Comparisons flip their operator (an absent fact stays unknown either way);
    ``exists`` flips its value (it is never unknown). A negated ``some`` has no
    positive form and stays wrapped in ``Not``."""
    if isinstance(cond, Cmp):
        if cond.op == "exists":
            return Cmp(cond.path, "exists", not cond.value)
        return Cmp(cond.path, _NEGATED_OP[cond.op], cond.value)
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


# --------------------------------------------------------------------------- evaluation

_MISSING = object()
MISSING = _MISSING  # what ``lookup`` returns for an absent or null fact


def lookup(doc: Any, path: Path) -> Any:
    """The value at ``path``, or ``_MISSING`` when any step is absent or null."""
    for key in path:
        if not isinstance(doc, Mapping):
            return _MISSING
        doc = doc.get(key, _MISSING)
        if doc is _MISSING or doc is None:
            return _MISSING
    return doc


def is_missing(value: Any) -> bool:
    return value is _MISSING


def _same_kind(a: Any, b: Any) -> bool:
    # True == 1 in Python; in the rule language a boolean never equals a number.
    return isinstance(a, bool) == isinstance(b, bool)


def compare(actual: Any, op: str, value: Any) -> bool:
    """One comparison on a present value (the language's two-valued core).

    Objects and lists are present but compare false with every scalar operator
    (the matching core never sees them as values)."""
    if isinstance(actual, dict | list | tuple) and op not in ("contains", "not_contains"):
        return False
    try:
        if op == "eq":
            return _same_kind(actual, value) and actual == value
        if op == "ne":
            return not (_same_kind(actual, value) and actual == value)
        if op == "in":
            return any(_same_kind(actual, v) and actual == v for v in value)
        if op == "not_in":
            return not any(_same_kind(actual, v) and actual == v for v in value)
        if op == "contains":
            return isinstance(actual, list | tuple) and any(_same_kind(x, value) and x == value for x in actual)
        if op == "not_contains":
            return isinstance(actual, list | tuple) and not any(_same_kind(x, value) and x == value for x in actual)
        if isinstance(actual, bool) or isinstance(value, bool):
            return False
        if op == "lt":
            return bool(actual < value)
        if op == "lte":
            return bool(actual <= value)
        if op == "gt":
            return bool(actual > value)
        if op == "gte":
            return bool(actual >= value)
    except TypeError:
        return False
    raise ValueError(f"unknown operator {op!r}")


@dataclass
class Outcome:
    """Three-valued result with its explanation."""

    truth: bool | None
    evidence: list[dict[str, Any]]
    missing: set[str]
    items: dict[str, list[int]]


def _fmt_path(prefix: str, path: Path) -> str:
    return prefix + ".".join(path)


def evaluate(cond: Condition, doc: Mapping[str, Any]) -> Outcome:
    """Kleene evaluation of ``cond`` (in NNF, see ``nnf``) on a case view, with evidence."""
    out = Outcome(None, [], set(), {})
    out.truth = _eval(cond, doc, "", out)
    if out.truth is not True:
        out.evidence = []
        out.items = {}
    return out


def _eval(cond: Condition, doc: Any, prefix: str, out: Outcome) -> bool | None:
    if isinstance(cond, Cmp):
        actual = lookup(doc, cond.path)
        if cond.op == "exists":
            present = actual is not _MISSING
            result: bool = present == cond.value
            if result:
                out.evidence.append({"fact": _fmt_path(prefix, cond.path), "op": "exists", "value": cond.value,
                                     "actual": actual if present else None})
            return result
        if actual is _MISSING:
            out.missing.add(_fmt_path(prefix, cond.path))
            return None
        result = compare(actual, cond.op, cond.value)
        if result:
            value = list(cond.value) if isinstance(cond.value, tuple) else cond.value
            out.evidence.append({"fact": _fmt_path(prefix, cond.path), "op": cond.op, "value": value,
                                 "actual": list(actual) if isinstance(actual, tuple) else actual})
        return result
    if isinstance(cond, All):
        mark = len(out.evidence)
        seen_unknown = False
        for child in cond.children:
            r = _eval(child, doc, prefix, out)
            if r is False:
                del out.evidence[mark:]
                return False
            if r is None:
                seen_unknown = True
        if seen_unknown:
            del out.evidence[mark:]
            return None
        return True
    if isinstance(cond, Any_):
        mark = len(out.evidence)
        held: list[dict[str, Any]] = []
        seen_unknown = False
        for child in cond.children:
            r = _eval(child, doc, prefix, out)
            if r is True:
                held.extend(out.evidence[mark:])
            elif r is None:
                seen_unknown = True
            del out.evidence[mark:]
        if held:
            out.evidence.extend(held)
            return True
        return None if seen_unknown else False
    if isinstance(cond, Not):
        # Only a negated `some` survives nnf(); its truth is the inverse, with no evidence.
        inner = Outcome(None, [], set(), {})
        r = _eval(cond.child, doc, prefix, inner)
        out.missing |= inner.missing
        return None if r is None else not r
    if isinstance(cond, Some):
        items = lookup(doc, cond.list_path)
        name = ".".join(cond.list_path)
        if items is _MISSING or not isinstance(items, list | tuple):
            out.missing.add(_fmt_path(prefix, cond.list_path))
            return None
        any_true = False
        seen_unknown = False
        mark = len(out.evidence)
        kept: list[dict[str, Any]] = []
        for i, item in enumerate(items):
            r = _eval(cond.where, item, f"{prefix}{name}[{i}].", out)
            if r is True:
                any_true = True
                kept.extend(out.evidence[mark:])
                out.items.setdefault(name, []).append(i)
            elif r is None:
                seen_unknown = True
            del out.evidence[mark:]
        if any_true:
            out.evidence.extend(kept)
            return True
        out.items.pop(name, None)
        return None if seen_unknown else False
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover


def holds(cond: Condition, doc: Mapping[str, Any]) -> bool:
    """True only when the condition is true (the oracle's fired test)."""
    return _truth(cond, doc) is True


def _truth(cond: Condition, doc: Any) -> bool | None:
    """Kleene truth value without evidence (fast path for the oracle)."""
    if isinstance(cond, Cmp):
        actual = lookup(doc, cond.path)
        if cond.op == "exists":
            return bool((actual is not _MISSING) == cond.value)
        if actual is _MISSING:
            return None
        return compare(actual, cond.op, cond.value)
    if isinstance(cond, All):
        result: bool | None = True
        for child in cond.children:
            r = _truth(child, doc)
            if r is False:
                return False
            if r is None:
                result = None
        return result
    if isinstance(cond, Any_):
        result = False
        for child in cond.children:
            r = _truth(child, doc)
            if r is True:
                return True
            if r is None:
                result = None
        return result
    if isinstance(cond, Not):
        r = _truth(cond.child, doc)
        return None if r is None else not r
    if isinstance(cond, Some):
        items = lookup(doc, cond.list_path)
        if items is _MISSING or not isinstance(items, list | tuple):
            return None
        result = False
        for item in items:
            r = _truth(cond.where, item)
            if r is True:
                return True
            if r is None:
                result = None
        return result
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover


def truth(cond: Condition, doc: Mapping[str, Any]) -> bool | None:
    """Public Kleene truth value of a condition on a document."""
    return _truth(cond, doc)


# --------------------------------------------------------------------------- compiled evaluation
#
# The same semantics as ``evaluate`` / ``truth`` above (same traversal order,
# same short-circuits, so the same evidence and the same missing facts), with
# the per-node dispatch done once at compile time: a condition becomes nested
# closures. The batch path evaluates every rule in force on every case, so this
# is where most of its Python time went. ``tests`` hold the two to agreement.

Getter = Callable[[Any], Any]


def getter(path: Path) -> Getter:
    """A function computing ``lookup(doc, path)`` (``_MISSING`` when absent or null)."""
    if len(path) == 1:
        (key,) = path

        def get1(doc: Any) -> Any:
            if type(doc) is dict or isinstance(doc, Mapping):
                value = doc.get(key, _MISSING)
                return _MISSING if value is None else value
            return _MISSING

        return get1

    def get(doc: Any) -> Any:
        for step in path:
            if not (type(doc) is dict or isinstance(doc, Mapping)):
                return _MISSING
            doc = doc.get(step, _MISSING)
            if doc is _MISSING or doc is None:
                return _MISSING
        return doc

    return get


def _test(op: str, value: Any) -> Callable[[Any], bool]:
    """``compare(actual, op, value)`` with the operator and literal fixed."""
    vbool = isinstance(value, bool)
    if op in ("eq", "ne"):
        def eq(a: Any) -> bool:
            return isinstance(a, bool) == vbool and a == value

        if op == "eq":
            return eq
        return lambda a: not eq(a)
    if op in ("in", "not_in"):
        values = tuple(value)
        if values and all(type(v) is str for v in values):
            strings = frozenset(values)

            def is_in(a: Any) -> bool:
                return isinstance(a, str) and a in strings
        else:
            def is_in(a: Any) -> bool:
                return any(_same_kind(a, v) and a == v for v in values)

        if op == "in":
            return is_in
        return lambda a: not is_in(a)
    if op in ("contains", "not_contains"):
        def has(a: Any) -> bool:
            return any(_same_kind(x, value) and x == value for x in a)

        if op == "contains":
            return lambda a: isinstance(a, list | tuple) and has(a)
        return lambda a: isinstance(a, list | tuple) and not has(a)
    if op in ("lt", "lte", "gt", "gte"):
        import operator

        fn = {"lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge}[op]
        if vbool:
            return lambda a: False

        def order(a: Any) -> bool:
            t = type(a)
            if (t is float or t is int) and numeric:  # the common case, without the checks below
                return fn(a, value)  # type: ignore[no-any-return]
            if isinstance(a, bool):
                return False
            try:
                return bool(fn(a, value))
            except TypeError:
                return False

        numeric = type(value) in (int, float)
        return order
    raise ValueError(f"unknown operator {op!r}")


Truth = Callable[[Any], "bool | None"]


def compile_truth(cond: Condition) -> Truth:
    """A function computing ``truth(cond, doc)``: ``compile_missing`` with the missing facts dropped."""
    known = compile_missing(cond)
    return lambda doc: known(doc, "", set())


Explain = Callable[[Any, str, Outcome], "bool | None"]


def compile_explain(cond: Condition) -> Explain:
    """A function ``(doc, prefix, outcome) -> truth`` doing what ``_eval`` does."""
    if isinstance(cond, Cmp):
        get = getter(cond.path)
        fact = ".".join(cond.path)
        op = cond.op
        if op == "exists":
            want = bool(cond.value)

            def exists(doc: Any, prefix: str, out: Outcome) -> bool | None:
                actual = get(doc)
                present = actual is not _MISSING
                result = present == want
                if result:
                    out.evidence.append({"fact": prefix + fact, "op": "exists", "value": cond.value,
                                         "actual": actual if present else None})
                return result

            return exists
        test = _test(op, cond.value)
        literal = cond.value
        as_list = isinstance(literal, tuple)

        def cmp(doc: Any, prefix: str, out: Outcome) -> bool | None:
            actual = get(doc)
            if actual is _MISSING:
                out.missing.add(prefix + fact)
                return None
            result = test(actual)
            if result:
                out.evidence.append({"fact": prefix + fact, "op": op,
                                     "value": list(literal) if as_list else literal,
                                     "actual": list(actual) if isinstance(actual, tuple) else actual})
            return result

        return cmp
    if isinstance(cond, All):
        parts = tuple(compile_explain(c) for c in cond.children)

        def all_(doc: Any, prefix: str, out: Outcome) -> bool | None:
            evidence = out.evidence
            mark = len(evidence)
            seen_unknown = False
            for part in parts:
                r = part(doc, prefix, out)
                if r is False:
                    del evidence[mark:]
                    return False
                if r is None:
                    seen_unknown = True
            if seen_unknown:
                del evidence[mark:]
                return None
            return True

        return all_
    if isinstance(cond, Any_):
        parts = tuple(compile_explain(c) for c in cond.children)

        def any_(doc: Any, prefix: str, out: Outcome) -> bool | None:
            evidence = out.evidence
            mark = len(evidence)
            held: list[dict[str, Any]] = []
            seen_unknown = False
            for part in parts:
                r = part(doc, prefix, out)
                if r is True:
                    held.extend(evidence[mark:])
                elif r is None:
                    seen_unknown = True
                del evidence[mark:]
            if held:
                evidence.extend(held)
                return True
            return None if seen_unknown else False

        return any_
    if isinstance(cond, Not):
        inner = compile_explain(cond.child)

        def not_(doc: Any, prefix: str, out: Outcome) -> bool | None:
            scratch = Outcome(None, [], set(), {})
            r = inner(doc, prefix, scratch)
            out.missing |= scratch.missing
            return None if r is None else not r

        return not_
    if isinstance(cond, Some):
        get_items = getter(cond.list_path)
        where = compile_explain(cond.where)
        name = ".".join(cond.list_path)

        def some(doc: Any, prefix: str, out: Outcome) -> bool | None:
            items = get_items(doc)
            if items is _MISSING or not isinstance(items, list | tuple):
                out.missing.add(prefix + name)
                return None
            any_true = False
            seen_unknown = False
            evidence = out.evidence
            mark = len(evidence)
            kept: list[dict[str, Any]] = []
            for i, item in enumerate(items):
                r = where(item, f"{prefix}{name}[{i}].", out)
                if r is True:
                    any_true = True
                    kept.extend(evidence[mark:])
                    out.items.setdefault(name, []).append(i)
                elif r is None:
                    seen_unknown = True
                del evidence[mark:]
            if any_true:
                evidence.extend(kept)
                return True
            out.items.pop(name, None)
            return None if seen_unknown else False

        return some
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover


class Compiled:
    """A condition compiled once: ``truth(doc)`` and ``evaluate(doc)`` as in the functions above."""

    __slots__ = ("_explain", "truth")

    def __init__(self, cond: Condition) -> None:
        self.truth = compile_truth(cond)
        self._explain = compile_explain(cond)

    def evaluate(self, doc: Mapping[str, Any]) -> Outcome:
        """Same as ``evaluate(cond, doc)``."""
        out = Outcome(None, [], set(), {})
        out.truth = self._explain(doc, "", out)
        if out.truth is not True:
            out.evidence = []
            out.items = {}
        return out


Evidence = Callable[[Any, str], "list[dict[str, Any]] | None"]


def _present(a: Any) -> bool:
    return a is not _MISSING


def _absent(a: Any) -> bool:
    return a is _MISSING


def compile_evidence(cond: Condition) -> Evidence:
    """A function ``(doc, prefix)`` giving ``evaluate(cond, doc).evidence`` when the condition
    is true, and None when it is not (false or unknown: ask ``evaluate`` which, and why).

    Evidence composes when the whole condition is true, as ``compile_explain`` builds it:
    a true comparison gives one item; ``all`` joins its children's; ``any`` joins those of
    every true branch; ``some`` joins those of every true item, under ``list[i].``; a
    true ``not`` gives none. Without the three-valued bookkeeping this is several times
    cheaper. It does not give the matched items (``Outcome.items``): texts that name
    a field of a matched item need ``evaluate``."""
    if isinstance(cond, Cmp):
        get = getter(cond.path)
        fact = ".".join(cond.path)
        op, literal = cond.op, cond.value
        if op == "exists":
            test = _present if literal else _absent

            def exists(doc: Any, prefix: str) -> list[dict[str, Any]] | None:
                actual = get(doc)
                if not test(actual):
                    return None
                return [{"fact": prefix + fact, "op": op, "value": literal,
                         "actual": None if actual is _MISSING else actual}]

            return exists
        check = _test(op, literal)
        as_list = isinstance(literal, tuple)
        key = cond.path[0] if len(cond.path) == 1 else None

        def cmp(doc: Any, prefix: str) -> list[dict[str, Any]] | None:
            actual = doc.get(key) if key is not None and type(doc) is dict else get(doc)
            if actual is None or actual is _MISSING or not check(actual):
                return None
            return [{"fact": prefix + fact, "op": op, "value": list(literal) if as_list else literal,
                     "actual": list(actual) if isinstance(actual, tuple) else actual}]

        return cmp
    if isinstance(cond, All):
        parts = tuple(compile_evidence(c) for c in cond.children)

        def all_(doc: Any, prefix: str) -> list[dict[str, Any]] | None:
            out: list[dict[str, Any]] = []
            for part in parts:
                found = part(doc, prefix)
                if found is None:
                    return None
                out += found
            return out

        return all_
    if isinstance(cond, Any_):
        parts = tuple(compile_evidence(c) for c in cond.children)

        def any_(doc: Any, prefix: str) -> list[dict[str, Any]] | None:
            out: list[dict[str, Any]] | None = None
            for part in parts:
                found = part(doc, prefix)
                if found is not None:
                    out = found if out is None else out + found
            return out

        return any_
    if isinstance(cond, Not):
        inner = compile_truth(cond.child)
        return lambda doc, prefix: [] if inner(doc) is False else None
    if isinstance(cond, Some):
        get_items = getter(cond.list_path)
        where = compile_evidence(cond.where)
        name = ".".join(cond.list_path)

        def some(doc: Any, prefix: str) -> list[dict[str, Any]] | None:
            items = get_items(doc)
            if items is _MISSING or not isinstance(items, list | tuple):
                return None
            out: list[dict[str, Any]] | None = None
            for i, item in enumerate(items):
                found = where(item, f"{prefix}{name}[{i}].")
                if found is not None:
                    out = found if out is None else out + found
            return out

        return some
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover


def item_lists(cond: Condition) -> set[str]:
    """The names under which ``evaluate`` reports matched items (``Outcome.items``)."""
    return {".".join(n.list_path) for n, _, _ in walk(cond) if isinstance(n, Some)}


Missing = Callable[[Any, str, set[str]], "bool | None"]


def compile_missing(cond: Condition) -> Missing:
    """A function ``(doc, prefix, missing) -> truth`` that adds to ``missing`` the facts
    ``evaluate`` reports missing: the same traversal and short-circuits as
    ``compile_explain``, without building evidence."""
    if isinstance(cond, Cmp):
        get = getter(cond.path)
        fact = ".".join(cond.path)
        if cond.op == "exists":
            want = bool(cond.value)
            return lambda doc, prefix, missing: (get(doc) is not _MISSING) == want
        test = _test(cond.op, cond.value)

        def cmp(doc: Any, prefix: str, missing: set[str]) -> bool | None:
            actual = get(doc)
            if actual is _MISSING:
                missing.add(prefix + fact)
                return None
            return test(actual)

        return cmp
    if isinstance(cond, All):
        parts = tuple(compile_missing(c) for c in cond.children)

        def all_(doc: Any, prefix: str, missing: set[str]) -> bool | None:
            result: bool | None = True
            for part in parts:
                r = part(doc, prefix, missing)
                if r is False:
                    return False
                if r is None:
                    result = None
            return result

        return all_
    if isinstance(cond, Any_):
        parts = tuple(compile_missing(c) for c in cond.children)

        def any_(doc: Any, prefix: str, missing: set[str]) -> bool | None:
            result: bool | None = False
            for part in parts:  # every branch, as the evidence of every true branch is kept
                r = part(doc, prefix, missing)
                if r is True:
                    result = True
                elif r is None and result is False:
                    result = None
            return result

        return any_
    if isinstance(cond, Not):
        inner = compile_missing(cond.child)

        def not_(doc: Any, prefix: str, missing: set[str]) -> bool | None:
            r = inner(doc, prefix, missing)
            return None if r is None else not r

        return not_
    if isinstance(cond, Some):
        get_items = getter(cond.list_path)
        where = compile_missing(cond.where)
        name = ".".join(cond.list_path)

        def some(doc: Any, prefix: str, missing: set[str]) -> bool | None:
            items = get_items(doc)
            if items is _MISSING or not isinstance(items, list | tuple):
                missing.add(prefix + name)
                return None
            result: bool | None = False
            for i, item in enumerate(items):
                r = where(item, f"{prefix}{name}[{i}].", missing)
                if r is True:
                    result = True
                elif r is None and result is False:
                    result = None
            return result

        return some
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover
