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
from engine.lang import operators
from engine.ruleset.schema import OPERATORS
from engine.source.safeyaml import Document, Limits

if TYPE_CHECKING:  # the fact catalogue is built from the case model (pydantic): only a case ruleset needs it
    from engine.case.factspec import Catalogue, FactType

RULESET_LIMITS = Limits(max_bytes=10 * 1024 * 1024, max_depth=48, max_nodes=1_000_000)

def _type_fits(fact: FactType, op: str, value: Any) -> str | None:
    """Why ``op value`` does not fit a fact of this type, or None (the operator's type rule)."""
    return operators.get(op).type_error(fact, value)


def _check_condition(
    doc: Document,
    raw: Any,
    path: list[str | int],
    cat: Catalogue | None,
    in_list: tuple[str, ...] | None,
    negated: bool,
    problems: ProblemList,
) -> None:
    """Add to ``problems`` every problem of one condition and its parts (``negated``: under an odd
    number of ``not``; ``in_list``: inside ``some`` of that list)."""
    if not isinstance(raw, dict):
        problems.add(doc.where(path, "a condition must be a mapping (all / any / not / some / fact)"))
        return
    keys = set(raw)
    if keys & {"all", "any", "not", "some"}:
        _check_connective(doc, raw, path, cat, in_list, negated, problems)
        return
    _check_comparison(doc, raw, path, cat, in_list, problems)


def _check_connective(
    doc: Document,
    raw: Any,
    path: list[str | int],
    cat: Catalogue | None,
    in_list: tuple[str, ...] | None,
    negated: bool,
    problems: ProblemList,
) -> None:
    """A condition of all / any / not / some: its keys, then its parts."""
    keys = set(raw)
    structural = keys & {"all", "any", "not", "some"}
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
    _check_some(doc, raw, path, cat, in_list, negated, problems)


def _check_some(
    doc: Document,
    raw: Any,
    path: list[str | int],
    cat: Catalogue | None,
    in_list: tuple[str, ...] | None,
    negated: bool,
    problems: ProblemList,
) -> None:
    """``some: LIST, where: c``: a list of items, not nested, not negated; then ``c`` against an item."""
    keys = set(raw)
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


def _check_comparison(
    doc: Document,
    raw: Any,
    path: list[str | int],
    cat: Catalogue | None,
    in_list: tuple[str, ...] | None,
    problems: ProblemList,
) -> None:
    """``fact: PATH, OP: V``: one known operator, an operand of its shape, a known fact of a fitting type."""
    keys = set(raw)
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
    shape = operators.get(op).shape_error(value)
    if shape:
        problems.add(doc.where([*path, op], shape))
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
        entry = operators.REGISTRY.get(ops[0]) if len(ops) == 1 else None
        if entry is None or entry.decide is None or not isinstance(raw["fact"], str):
            return  # an operator outside the check (``decide`` None) or a malformed comparison
        op, value = ops[0], C.normalise_value(raw[ops[0]])
        if negated:
            op, value = entry.negated(value)
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


def _holds(op: str, bound: Any, v: Any) -> bool | None:
    """Whether value v satisfies ``op bound``; None when undecidable here."""
    decide = operators.get(op).decide
    return None if decide is None else decide(bound, v)


def _conflict(lits: list[Literal_]) -> tuple[Literal_, Literal_] | None:
    """Two comparisons on one fact that cannot both hold, or None (only decidable cases)."""
    absent = [lit for lit in lits if operators.presence(lit[0]) and lit[1] is False]
    for lit in lits:
        if absent and lit is not absent[0] and (not operators.presence(lit[0]) or lit[1] is True):
            return absent[0], lit
    values = [lit for lit in lits if not operators.presence(lit[0])]
    from engine.match.compiler import MAX_CONDITIONS

    if len(values) > MAX_CONDITIONS:
        # More comparisons than a rule may have: the rule is refused by that limit, and the
        # pairwise check (quadratic) would only delay the error.
        return None
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            # A candidate value that satisfies a must satisfy b, for each value a allows (eq / in).
            for x, y in ((a, b), (b, a)):
                allows = operators.get(x[0]).allows
                if allows is not None and all(_holds(y[0], y[1], v) is False for v in allows(x[1])):
                    return a, b
            if _empty_range(a, b):
                return a, b
    return None


def _empty_range(a: Literal_, b: Literal_) -> bool:
    """Whether a lower and an upper bound on one value leave nothing between them (``gt 5``, ``lt 3``)."""
    lo, hi = (a, b) if operators.get(a[0]).bound == "lower" else (b, a)
    low, high = operators.get(lo[0]), operators.get(hi[0])
    if low.bound != "lower" or high.bound != "upper" or not operators.orderable(lo[1], hi[1]):
        return False
    return bool(lo[1] > hi[1] or (lo[1] == hi[1] and (low.strict or high.strict)))


def _describe(lit: Literal_) -> str:
    op, value, _ = lit
    shown = list(value) if isinstance(value, tuple) else value
    return f"{op} {shown!r}" if not operators.presence(op) else f"{op} {str(value).lower()}"


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
