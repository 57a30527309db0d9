"""Meaning checks of a rule's condition: each comparison against the fact catalogue (does the
fact exist, does the operator fit its type, is the value well-formed), and contradictions between
the comparisons of one conjunction (a condition that can never hold).

``engine.ruleset.load`` calls these while it parses a ruleset; every problem is located at its
file, line, column and JSON pointer."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from engine.errors import ProblemList, did_you_mean, pointer
from engine.lang import conditions as C
from engine.ruleset.schema import OPERATORS
from engine.source.safeyaml import Document, Limits

if TYPE_CHECKING:  # the fact catalogue is built from the case model (pydantic): only a case ruleset needs it
    from engine.case.factspec import Catalogue, FactType

RULESET_LIMITS = Limits(max_bytes=10 * 1024 * 1024, max_depth=48, max_nodes=1_000_000)

_ORDER_OPS = {"lt", "lte", "gt", "gte"}


def _type_fits(fact: FactType, op: str, value: Any) -> str | None:
    """Why ``op value`` does not fit a fact of this type, or None."""
    kind = fact.kind
    if op == "exists":
        return None
    if kind in ("object", "object_list"):
        return f"a {'list of objects' if kind == 'object_list' else 'group of facts'} cannot be compared" + (
            "; use `some`" if kind == "object_list" else "; name one of its fields"
        )
    if op == "contains":
        if kind != "scalar_list":
            return "`contains` needs a list fact"
        values = [value]
        kind = fact.element or "string"
    else:
        if kind == "scalar_list":
            return f"a list fact is used as a single value; use `contains` instead of `{op}`"
        values = list(value) if op in ("in", "not_in") else [value]
    for v in values:
        if kind == "bool" and not isinstance(v, bool):
            return f"a yes/no fact compared with {v!r}"
        if kind == "number" and (isinstance(v, bool) or not isinstance(v, int | float)):
            return f"a number compared with {v!r}"
        if kind == "string" and not isinstance(v, str):
            return f"a text fact compared with {v!r}"
        if kind == "date" and not (isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)):
            return f"a date compared with {v!r}"
        if fact.enum is not None and op != "contains" and isinstance(v, str) and v not in fact.enum:
            hint = did_you_mean(v, [str(e) for e in fact.enum])
            return f"{v!r} is not a possible value (one of {', '.join(map(str, fact.enum))})" + (
                f"; {hint}" if hint else ""
            )
        if fact.enum is not None and op == "contains" and isinstance(v, str) and v not in fact.enum:
            return f"{v!r} is not a possible element (one of {', '.join(map(str, fact.enum))})"
    if op in _ORDER_OPS and kind in ("bool",):
        return f"`{op}` does not apply to a yes/no fact"
    if op in _ORDER_OPS and kind == "string":
        return f"`{op}` compares text byte-wise; use it on numbers or dates"
    return None


def _check_condition(
    doc: Document,
    raw: Any,
    path: list[str | int],
    cat: Catalogue | None,
    in_list: tuple[str, ...] | None,
    negated: bool,
    problems: ProblemList,
) -> None:
    if not isinstance(raw, dict):
        problems.add(doc.where(path, "a condition must be a mapping (all / any / not / some / fact)"))
        return
    keys = set(raw)
    structural = keys & {"all", "any", "not", "some"}
    if structural:
        if "fact" in keys:
            problems.add(doc.where(path, "a condition is either a comparison (fact) or all/any/not/some, not both"))
            return
        if "all" in keys or "any" in keys:
            (key,) = sorted(structural)[:1]
            extra = keys - {key}
            for k in extra:
                problems.add(doc.where([*path, k], f"unexpected key {k!r} beside {key!r}"))
            items = raw[key]
            if not isinstance(items, list) or not items:
                problems.add(doc.where([*path, key], f"`{key}` takes a non-empty list of conditions"))
                return
            for i, child in enumerate(items):
                _check_condition(doc, child, [*path, key, i], cat, in_list, negated, problems)
            return
        if "not" in keys:
            for k in keys - {"not"}:
                problems.add(doc.where([*path, k], f"unexpected key {k!r} beside 'not'"))
            _check_condition(doc, raw["not"], [*path, "not"], cat, in_list, not negated, problems)
            return
        # some
        for k in keys - {"some", "where"}:
            problems.add(
                doc.where([*path, k], f"unexpected key {k!r} in `some`", hint=did_you_mean(k, ["some", "where"]))
            )
        if "where" not in raw:
            problems.add(doc.where(path, "`some` needs a `where` condition"))
            return
        if in_list is not None:
            problems.add(doc.where(path, "`some` inside `some` is not supported"))
            return
        if negated:
            problems.add(
                doc.where(
                    path,
                    "a negated `some` is not supported by the matching core",
                    hint="state it positively, e.g. some item with the opposite condition",
                )
            )
        list_name = raw["some"]
        if not isinstance(list_name, str):
            problems.add(doc.where([*path, "some"], "`some` names a list fact"))
            return
        list_path = tuple(list_name.split("."))
        if cat is not None:
            ftype = cat.case_type(list_path)
            if ftype is None or ftype.kind != "object_list":
                lists = [".".join(p) for p, t in cat.case.items() if t.kind == "object_list"]
                problems.add(
                    doc.where(
                        [*path, "some"],
                        f"{list_name!r} is not a list of items",
                        code="unknown_fact",
                        hint=did_you_mean(list_name, lists) or f"lists: {', '.join(lists)}",
                    )
                )
                return
        _check_condition(doc, raw["where"], [*path, "where"], cat, list_path, negated, problems)
        return
    if "fact" not in keys:
        unknown = sorted(keys)
        problems.add(
            doc.where(
                [*path, unknown[0]] if unknown else path,
                f"unknown condition key {unknown[0]!r}" if unknown else "empty condition",
                code="unknown_key",
                hint=did_you_mean(unknown[0], ["all", "any", "not", "some", "fact"]) if unknown else None,
            )
        )
        return
    ops = [k for k in keys if k != "fact"]
    if not ops:
        problems.add(doc.where(path, "a comparison needs one operator", hint=f"one of: {', '.join(OPERATORS)}"))
        return
    for op in ops:
        if op not in OPERATORS:
            problems.add(
                doc.where(
                    [*path, op],
                    f"unknown operator {op!r}",
                    code="unknown_operator",
                    hint=did_you_mean(op, OPERATORS) or f"one of: {', '.join(OPERATORS)}",
                )
            )
    valid_ops = [op for op in ops if op in OPERATORS]
    if len(ops) > 1:
        problems.add(doc.where(path, f"a comparison takes exactly one operator, found {', '.join(sorted(ops))}"))
        return
    if not valid_ops:
        return
    op = valid_ops[0]
    value = C.normalise_value(raw[op])
    fact_name = raw["fact"]
    if not isinstance(fact_name, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*", fact_name):
        problems.add(doc.where([*path, "fact"], f"{fact_name!r} is not a fact path (dotted lower-case names)"))
        return
    if op == "exists" and not isinstance(value, bool):
        problems.add(doc.where([*path, op], "`exists` takes true or false"))
        return
    if op in ("in", "not_in") and (not isinstance(value, tuple) or not value):
        problems.add(doc.where([*path, op], f"`{op}` takes a non-empty list"))
        return
    if op not in ("in", "not_in", "exists") and not isinstance(value, str | int | float | bool):
        problems.add(doc.where([*path, op], f"`{op}` takes a number, text, yes/no or date"))
        return
    if cat is None:
        return
    fpath = tuple(fact_name.split("."))
    if in_list is None:
        ftype = cat.case_type(fpath)
        known = [".".join(p) for p in cat.case]
    else:
        ftype = cat.item_type(in_list, fpath)
        known = [".".join(p) for p in cat.items.get(in_list, {})]
    if ftype is None:
        where = f"an item of {'.'.join(in_list)}" if in_list else "the case model"
        problems.add(
            doc.where(
                [*path, "fact"],
                f"unknown fact {fact_name!r} in {where}",
                code="unknown_fact",
                hint=did_you_mean(fact_name, known),
            )
        )
        return
    why = _type_fits(ftype, op, value)
    if why:
        problems.add(doc.where([*path, op], f"type mismatch on {fact_name!r}: {why}", code="type_mismatch"))


_FLIP = {
    "eq": "ne",
    "ne": "eq",
    "lt": "gte",
    "gte": "lt",
    "lte": "gt",
    "gt": "lte",
    "in": "not_in",
    "not_in": "in",
    "exists": "exists",
}
Literal_ = tuple[str, Any, list[str | int]]  # (operator, value, JSON path of the operator)


def _literals(
    raw: Any,
    path: list[str | int],
    negated: bool,
    out: dict[str, list[Literal_]],
    nested: list[tuple[Any, list[str | int]]],
) -> None:
    """Comparisons that must all hold for this `all` scope, by fact; other branches go to ``nested``."""
    if not isinstance(raw, dict):
        return
    if "fact" in raw:
        ops = [k for k in raw if k != "fact"]
        if len(ops) != 1 or ops[0] not in _FLIP or not isinstance(raw["fact"], str):
            return
        op, value = ops[0], C.normalise_value(raw[ops[0]])
        if negated:
            op, value = _FLIP[op], (not value if op == "exists" else value)
        out.setdefault(raw["fact"], []).append((op, value, [*path, ops[0]]))
    elif "not" in raw:
        inner = raw["not"]
        key = "any" if not negated else "all"  # not-any is all-not (De Morgan)
        if isinstance(inner, dict) and ("fact" in inner or "not" in inner or key in inner):
            if key in inner and isinstance(inner[key], list):
                for i, child in enumerate(inner[key]):
                    _literals(child, [*path, "not", key, i], not negated, out, nested)
            else:
                _literals(inner, [*path, "not"], not negated, out, nested)
    elif ("all" if not negated else "any") in raw:
        key = "all" if not negated else "any"
        for i, child in enumerate(raw[key] if isinstance(raw[key], list) else []):
            _literals(child, [*path, key, i], negated, out, nested)
    elif not negated:
        nested.append((raw, path))


def _orderable(a: Any, b: Any) -> bool:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    return numbers or (isinstance(a, str) and isinstance(b, str))


def _key(v: Any) -> tuple[bool, Any]:
    return (isinstance(v, bool), v)  # True is not 1 in the rule language


def _holds(op: str, bound: Any, v: Any) -> bool | None:
    """Whether value v satisfies ``op bound``; None when undecidable here."""
    if op == "eq":
        return _key(v) == _key(bound)
    if op == "ne":
        return _key(v) != _key(bound)
    if op == "in":
        return _key(v) in {_key(b) for b in bound}
    if op == "not_in":
        return _key(v) not in {_key(b) for b in bound}
    if op in _ORDER_OPS and _orderable(v, bound):
        return bool({"lt": v < bound, "lte": v <= bound, "gt": v > bound, "gte": v >= bound}[op])
    return None


def _conflict(lits: list[Literal_]) -> tuple[Literal_, Literal_] | None:
    """Two comparisons on one fact that cannot both hold, or None (only decidable cases)."""
    exists = [lit for lit in lits if lit[0] == "exists"]
    absent = [lit for lit in exists if lit[1] is False]
    for lit in lits:
        if absent and lit is not absent[0] and (lit[0] != "exists" or lit[1] is True):
            return absent[0], lit
    values = [lit for lit in lits if lit[0] != "exists"]
    from engine.match.compiler import MAX_CONDITIONS

    if len(values) > MAX_CONDITIONS:
        # More comparisons than a rule may have: the rule is refused by that limit, and the
        # pairwise check (quadratic) would only delay the error.
        return None
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            # A candidate value that satisfies a must satisfy b, for each value a allows (eq / in).
            for x, y in ((a, b), (b, a)):
                if x[0] in ("eq", "in"):
                    allowed = [x[1]] if x[0] == "eq" else list(x[1])
                    if all(_holds(y[0], y[1], v) is False for v in allowed):
                        return a, b
            if a[0] in _ORDER_OPS and b[0] in _ORDER_OPS and _orderable(a[1], b[1]):
                lo, hi = (a, b) if a[0] in ("gt", "gte") else (b, a)
                if lo[0] in ("gt", "gte") and hi[0] in ("lt", "lte"):
                    strict = lo[0] == "gt" or hi[0] == "lt"
                    if lo[1] > hi[1] or (lo[1] == hi[1] and strict):
                        return a, b
    return None


def _describe(lit: Literal_) -> str:
    op, value, _ = lit
    shown = list(value) if isinstance(value, tuple) else value
    return f"{op} {shown!r}" if op != "exists" else f"exists {str(value).lower()}"


def _contradictions(doc: Document, raw: Any, path: list[str | int], top: bool, problems: ProblemList) -> None:
    """Report an `all` whose comparisons on one fact cannot hold together (a rule or branch that never fires).

    Only decidable cases are checked: bounds that leave no value (``gt 5`` and ``lt 3``), different
    equalities, an equality outside a list or a range, ``exists false`` beside a comparison."""
    if not isinstance(raw, dict):
        return
    lits: dict[str, list[Literal_]] = {}
    nested: list[tuple[Any, list[str | int]]] = []
    _literals(raw, path, False, lits, nested)
    for fact, group in lits.items():
        pair = _conflict(group)
        if pair:
            first, second = pair
            what = "the rule can never fire" if top else "this branch can never hold"
            problems.add(
                doc.where(
                    second[2],
                    f"contradictory conditions on {fact!r}: {_describe(first)} and "
                    f"{_describe(second)} cannot both hold, so {what}",
                    code="never_fires",
                    hint=f"the other condition is at {pointer(first[2])}",
                )
            )
    for node, npath in nested:
        if "any" in node and isinstance(node["any"], list):
            for i, child in enumerate(node["any"]):
                _contradictions(doc, child, [*npath, "any", i], False, problems)
        elif "some" in node and isinstance(node.get("where"), dict):
            _contradictions(doc, node["where"], [*npath, "where"], top, problems)
