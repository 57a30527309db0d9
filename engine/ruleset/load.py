"""Load and validate rulesets: YAML → schema check → meaning check → typed rules.

Every problem in a file is collected and reported together, each located at
its file, line, column and JSON pointer, with a did-you-mean where one helps.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import math
import os
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import Problem, ProblemList, RulesetError, did_you_mean, pointer
from engine.lang import conditions as C
from engine.ruleset.model import (
    Citation,
    DimensionPolicy,
    Rule,
    RuleSet,
    Ruleset,
    Scenario,
    TierScheme,
    Window,
)
from engine.ruleset.schema import OPERATORS, SCHEMA
from engine.source.resources import bundled
from engine.source.safeyaml import Document, Limits, load_text, syntax_of

LEVEL_NAMES = ("medium", "high", "critical")

if TYPE_CHECKING:  # the fact catalogue is built from the case model (pydantic): only a case ruleset needs it
    from engine.case.factspec import Catalogue, FactType

RULESET_LIMITS = Limits(max_bytes=10 * 1024 * 1024, max_depth=48, max_nodes=1_000_000)
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)(?::([^{}]*))?\}")
_SPEC_OK = re.compile(r"^[<>^=]?[+\- ]?[,_]?(?:\d{1,3})?(?:[,_])?(?:\.\d{1,2})?[%fegd]?$")


def _runtime_schema() -> dict[str, Any]:
    # Conditions are checked by _check_condition, which gives precise messages; the
    # recursive oneOf of the published schema would only add slow, vaguer errors.
    schema = copy.deepcopy(SCHEMA)
    schema["$defs"]["rule"]["properties"]["when"] = {"type": "object"}
    return schema


@lru_cache(maxsize=1)
def _validator() -> Any:
    # jsonschema costs ~45 ms to import: only pay it when a ruleset is actually parsed (a cache miss).
    import jsonschema

    return jsonschema.Draft202012Validator(_runtime_schema(), format_checker=jsonschema.FormatChecker())

_ORDER_OPS = {"lt", "lte", "gt", "gte"}


def plain_data(value: Any) -> Any:
    """YAML data as JSON types: dates become ISO strings (for JSON Schema and JSON output)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_data(v) for v in value]
    return value


def unknown_keys(doc: Document, path: list[str | int], keys: Iterable[str], allowed: Sequence[str]) -> list[Problem]:
    """A located 'unknown key' problem, with a did-you-mean, for each key not in ``allowed``."""
    return [
        doc.where([*path, key], f"unknown key {key!r}", code="unknown_key",
                  hint=did_you_mean(key, allowed) or f"allowed: {', '.join(allowed)}")
        for key in keys
        if key not in allowed
    ]


def _schema_problems(doc: Document, data: Any) -> list[Problem]:
    problems: list[Problem] = []
    for err in _validator().iter_errors(data):
        path = list(err.absolute_path)
        if "when" in path:
            continue  # conditions get precise messages from _check_condition
        hint = None
        message = err.message
        if err.validator == "additionalProperties":
            allowed = list(err.schema.get("properties", {}))
            extras = [k for k in err.instance if k not in allowed] if isinstance(err.instance, dict) else []
            problems.extend(unknown_keys(doc, path, extras, allowed))
            continue
        if err.validator == "enum" and isinstance(err.instance, str):
            hint = did_you_mean(err.instance, [str(v) for v in err.validator_value])
        if err.validator == "required":
            message = err.message.replace("is a required property", "is required")
        problems.append(doc.where(path, message, code="schema", hint=hint))
    return problems


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


def _placeholders(
    doc: Document,
    text: str,
    path: list[str | int],
    cat: Catalogue | None,
    lists: set[tuple[str, ...]],
    problems: ProblemList,
) -> None:
    for match in _PLACEHOLDER.finditer(text):
        name, spec = match.group(1), match.group(2)
        if spec is not None and not _SPEC_OK.match(spec):
            problems.add(
                doc.where(
                    path,
                    f"format {spec!r} in {{{name}}} is not a number format",
                    hint="use e.g. ',.0f', '.2f' or '.1%'",
                )
            )
        if cat is None:
            continue
        parts = tuple(name.split("."))
        if cat.case_type(parts) is not None:
            continue
        ok = any(parts[: len(lp)] == lp and cat.item_type(lp, parts[len(lp) :]) is not None for lp in lists)
        if not ok:
            problems.add(
                doc.where(
                    path,
                    f"placeholder {{{name}}} names no fact this rule can see",
                    hint=did_you_mean(name, [".".join(p) for p in cat.case]),
                )
            )
    stripped = _PLACEHOLDER.sub("", text)
    if "{" in stripped or "}" in stripped:
        problems.add(
            doc.where(path, "unbalanced or malformed { } in text", hint="write {fact.path} or {fact.path:,.0f}")
        )


def _check_requires(
    doc: Document, requires: Any, path: list[str | int], cat: Catalogue | None, problems: ProblemList
) -> None:
    """`requires` names case sections (objects or lists) that exist in the case model."""
    if cat is None or not isinstance(requires, list):
        return
    sections = [".".join(p) for p, t in cat.case.items() if t.kind in ("object", "object_list", "scalar_list")]
    for i, name in enumerate(requires):
        if not isinstance(name, str):
            continue
        ftype = cat.case_type(tuple(name.split(".")))
        if ftype is None:
            problems.add(doc.where([*path, i], f"unknown case section {name!r}", code="unknown_fact",
                                   hint=did_you_mean(name, sections)))
        elif ftype.kind not in ("object", "object_list", "scalar_list"):
            problems.add(doc.where([*path, i], f"{name!r} is a single fact, not a section; requires names sections",
                                   code="type_mismatch", hint=did_you_mean(name, sections)))


def _citations(raw: list[dict[str, Any]]) -> tuple[Citation, ...]:
    return tuple(
        Citation(
            instrument=c["instrument"],
            confidence=c["confidence"],
            article=c.get("article"),
            url=c.get("url"),
            date=c.get("date"),
            note=c.get("note"),
        )
        for c in raw
    )


def parse_ruleset(doc: Document) -> Ruleset:
    """A validated Ruleset from a parsed document, or RulesetError with every problem."""
    problems = ProblemList()
    data = plain_data(doc.data)
    if not isinstance(data, dict):
        raise RulesetError(doc.where([], "a ruleset file is a mapping with `ruleset` and `rules`"))
    problems.extend(_schema_problems(doc, data))
    header: dict[str, Any] = data["ruleset"] if isinstance(data.get("ruleset"), dict) else {}
    input_kind = header.get("input", "case")
    cat: Catalogue | None = None
    if input_kind == "case":
        from engine.case.factspec import catalogue

        cat = catalogue()
    # The schema errors are already collected; the meaning checks below must not trip over
    # a wrong shape (a hostile or broken ruleset gets located errors, never a TypeError).
    tiers_raw = header.get("tiers")
    tiers = {k: v for k, v in tiers_raw.items() if isinstance(v, dict)} if isinstance(tiers_raw, dict) else {}
    scenarios_raw = header.get("scenarios")
    scenarios: dict[str, Any] = scenarios_raw if isinstance(scenarios_raw, dict) else {}
    raw_rules: list[Any] = data["rules"] if isinstance(data.get("rules"), list) else []

    for name, scheme in tiers.items():
        if isinstance(scheme.get("order"), list) and scheme.get("default") not in scheme["order"]:
            problems.add(doc.where(["ruleset", "tiers", name, "default"], "the default tier is not in `order`"))
    dims = header.get("dimensions") or {}
    for dim, policy in dims.items() if isinstance(dims, dict) else ():
        levels = policy.get("levels") if isinstance(policy, dict) else None
        numeric = isinstance(levels, dict) and all(
            isinstance(levels.get(k), int | float) for k in ("medium", "high", "critical")
        )
        rising = numeric and isinstance(levels, dict) and (
            0 < levels["medium"] <= levels["high"] <= levels["critical"] <= 100
        )
        if numeric and not rising:
            problems.add(
                doc.where(
                    ["ruleset", "dimensions", dim, "levels"],
                    "level thresholds must rise: 0 < medium ≤ high ≤ critical ≤ 100",
                    code="level_gap",
                )
            )
        key_facts = policy.get("key_facts") if isinstance(policy, dict) else None
        for i, fact in enumerate(key_facts if isinstance(key_facts, list) else []):
            if cat is not None and isinstance(fact, str) and cat.case_type(tuple(fact.split("."))) is None:
                problems.add(
                    doc.where(
                        ["ruleset", "dimensions", dim, "key_facts", i],
                        f"unknown fact {fact!r}",
                        code="unknown_fact",
                        hint=did_you_mean(fact, [".".join(p) for p in cat.case]),
                    )
                )

    seen: dict[str, int] = {}
    rules: list[Rule] = []
    _check_requires(doc, header.get("requires"), ["ruleset", "requires"], cat, problems)
    for i, raw in enumerate(raw_rules):
        if not isinstance(raw, dict):
            continue
        base: list[str | int] = ["rules", i]
        _check_requires(doc, raw.get("requires"), [*base, "requires"], cat, problems)
        rid = raw.get("id")
        if isinstance(rid, str):
            if rid in seen:
                problems.add(
                    doc.where(
                        [*base, "id"], f"duplicate rule id {rid!r} (first at rules[{seen[rid]}])", code="duplicate_id"
                    )
                )
            else:
                seen[rid] = i
        if "when" not in raw:
            continue
        when = raw["when"]
        before = len(problems.problems)
        _check_condition(doc, when, [*base, "when"], cat, None, False, problems)
        if len(problems.problems) == before:
            _contradictions(doc, when, [*base, "when"], True, problems)
        frm, to = raw.get("effective_from"), raw.get("effective_to")
        if isinstance(frm, str) and isinstance(to, str) and to < frm:
            problems.add(
                doc.where(
                    [*base, "effective_to"], f"effective_to {to} is before effective_from {frm}", code="inverted_window"
                )
            )
        rule_scenarios = raw.get("scenarios")
        for sname, win in rule_scenarios.items() if isinstance(rule_scenarios, dict) else ():
            if sname not in scenarios:
                problems.add(
                    doc.where(
                        [*base, "scenarios", sname],
                        f"scenario {sname!r} is not declared in the header",
                        hint=did_you_mean(sname, list(scenarios)),
                    )
                )
            if (
                isinstance(win, dict)
                and isinstance(win.get("effective_to"), str)
                and isinstance(win.get("effective_from"), str)
                and win["effective_to"] < win["effective_from"]
            ):
                problems.add(
                    doc.where(
                        [*base, "scenarios", sname, "effective_to"],
                        "effective_to is before effective_from",
                        code="inverted_window",
                    )
                )
        cites_raw = raw.get("citations")
        cites: list[Any] = cites_raw if isinstance(cites_raw, list) else []
        basis = raw.get("basis")
        if basis == "binding":
            if not any(isinstance(c, dict) and c.get("url") and c.get("date") for c in cites):
                problems.add(
                    doc.where(
                        [*base, "citations"], "a binding rule needs a citation with a url and a date", code="citation"
                    )
                )
            if any(isinstance(c, dict) and c.get("confidence") == "UNCONFIRMED" for c in cites):
                problems.add(
                    doc.where(
                        [*base, "basis"],
                        "a rule resting on an UNCONFIRMED source cannot be binding",
                        code="citation",
                        hint="use basis: advisory and say so in the message",
                    )
                )
        rule_tier = raw.get("tier")
        for scheme, tier in rule_tier.items() if isinstance(rule_tier, dict) else ():
            order = tiers.get(scheme, {}).get("order")
            if isinstance(tiers_raw, dict) and scheme in tiers_raw and not isinstance(order, list):
                continue  # the scheme itself is malformed: its schema error says so
            if scheme not in tiers:
                problems.add(
                    doc.where(
                        [*base, "tier", scheme],
                        f"tier scheme {scheme!r} is not declared",
                        hint=did_you_mean(scheme, list(tiers)),
                    )
                )
            elif isinstance(order, list) and tier not in order:
                problems.add(
                    doc.where(
                        [*base, "tier", scheme],
                        f"{tier!r} is not a tier of {scheme}",
                        hint=did_you_mean(str(tier), [str(o) for o in order]),
                    )
                )
        if raw.get("severity") == "info" and raw.get("points"):
            problems.add(doc.where([*base, "points"], "an info finding adds no points; set points: 0"))

    problems.raise_if_any(RulesetError)

    for i, raw in enumerate(raw_rules):
        cond = C.nnf(C.parse(raw["when"]))
        from engine.match.compiler import expansion_problems

        for limit, message in expansion_problems(cond):
            problems.add(doc.where(["rules", i, "when"], f"rule {raw['id']}: {message} (engine.match.compiler.{limit}; "
                                   "see docs/limits.md)", code="too_complex",
                                   hint="split the rule into several rules, or use a data table"))
        case_paths, item_paths = C.references(cond)
        lists = set(item_paths)
        for field in ("message", "remediation", "would_change"):
            if raw.get(field):
                _placeholders(doc, raw[field], ["rules", i, field], cat, lists, problems)
        window = Window(raw["effective_from"], raw.get("effective_to"))
        rules.append(
            Rule(
                id=raw["id"],
                title=raw["title"],
                dimension=raw["dimension"],
                severity=raw["severity"],
                points=float(raw["points"]),
                basis=raw["basis"],
                window=window,
                scenarios={
                    k: Window(v["effective_from"], v.get("effective_to"))
                    for k, v in (raw.get("scenarios") or {}).items()
                },
                applies_to=tuple(raw.get("applies_to") or ("project", "facility")),
            requires=tuple(tuple(p.split(".")) for p in raw.get("requires", header.get("requires", []))),
                condition=cond,
                raw_when=raw["when"],
                message=raw["message"].strip(),
                remediation=raw.get("remediation"),
                would_change=raw.get("would_change"),
                tier=dict(raw.get("tier") or {}),
                duty=dict(raw["duty"]) if raw.get("duty") else None,
                tags=tuple(raw.get("tags") or ()),
                citations=_citations(raw["citations"]),
                ruleset_id=header["id"],
                case_paths=frozenset(case_paths),
                item_paths={k: frozenset(v) for k, v in item_paths.items()},
                file=doc.file,
                line=doc.positions.get(f"/rules/{i}", (None, None))[0],
            )
        )
    problems.raise_if_any(RulesetError)
    return Ruleset(
        id=header["id"],
        version=str(header["version"]),
        title=header["title"],
        input=input_kind,
        sha256="",
        file=doc.file,
        rules=tuple(rules),
        tiers={
            k: TierScheme(k, v["title"], tuple(v["order"]), v["default"], bool(v.get("binding", True)))
            for k, v in tiers.items()
        },
        dimensions={
            k: DimensionPolicy(
                k,
                # No score reaches an infinite threshold: under "severity" points never set the level.
                dict(v["levels"]) if isinstance(v["levels"], dict) else dict.fromkeys(LEVEL_NAMES, math.inf),
                bool(v.get("severity_floor", False)),
                tuple(v.get("key_facts") or ()),
                header["id"],
            )
            for k, v in dims.items()
        },
        scenarios={k: Scenario(k, v["title"], v["basis"]) for k, v in scenarios.items()},
    )


def load_ruleset_file(path: str | Path, display: str | None = None) -> Ruleset:
    """Read, validate and type one ruleset file."""
    path = Path(path)
    name = display or str(path)
    try:
        from engine.source.cache import blocks

        if blocks(os.stat(path).st_mode):
            # A FIFO would block until some other process writes to it: rulesets are files.
            raise RulesetError(Problem(message="a ruleset must be a regular file, not a FIFO, socket or "
                                       "directory", file=name, code="io_error"))
        with path.open("rb") as fh:
            # Bounded: `--rules /dev/zero` or a huge file must fail on the size limit, not exhaust memory.
            raw = fh.read(RULESET_LIMITS.max_bytes + 1)
    except OSError as exc:
        raise RulesetError(
            Problem(message=f"cannot read ruleset: {exc.strerror}", file=name, code="io_error")
        ) from None
    return load_ruleset_bytes(raw, name)


def load_ruleset_bytes(raw: bytes, name: str) -> Ruleset:
    """Validate and type one ruleset from the bytes read (its SHA-256 is of these bytes)."""
    doc = load_text(raw, name, RULESET_LIMITS, syntax_of(name))
    ruleset = parse_ruleset(doc)
    return _with_sha(ruleset, hashlib.sha256(raw).hexdigest())


def _with_sha(ruleset: Ruleset, sha: str) -> Ruleset:
    from dataclasses import replace

    return replace(ruleset, sha256=sha)


def ruleset_files(paths: Sequence[str | Path]) -> list[Path]:
    """Expand directories to their ``*.yaml`` rulesets (tests and data tables excluded)."""
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(f for f in p.glob("*.yaml") if not f.name.endswith(".tests.yaml")))
        else:
            files.append(p)
    return files


def combine(rulesets: Iterable[Ruleset]) -> RuleSet:
    """Several rulesets as one: ids, tier schemes, dimension policies and scenarios must not clash."""
    rulesets = tuple(rulesets)
    problems = ProblemList()
    owners: dict[str, str] = {}
    for rs in rulesets:
        for rule in rs.rules:
            if rule.id in owners:
                problems.add(
                    Problem(
                        message=f"rule id {rule.id!r} is defined in {owners[rule.id]} and {rs.file}",
                        file=rs.file,
                        line=rule.line,
                        code="duplicate_id",
                    )
                )
            owners[rule.id] = rs.file
    for attr in ("dimensions", "tiers"):
        declared: dict[str, str] = {}
        for rs in rulesets:
            for key in getattr(rs, attr):
                if key in declared:
                    problems.add(
                        Problem(
                            message=f"{attr[:-1]} {key!r} is declared in {declared[key]} and {rs.file}",
                            file=rs.file,
                            code="duplicate_policy",
                        )
                    )
                declared[key] = rs.file
    ids = [rs.id for rs in rulesets]
    for rid in {i for i in ids if ids.count(i) > 1}:
        problems.add(Problem(message=f"ruleset id {rid!r} is loaded twice", code="duplicate_id"))
    inputs = {rs.input for rs in rulesets}
    if len(inputs) > 1:
        problems.add(Problem(message="rulesets of `input: case` and `input: document` cannot be combined"))
    problems.raise_if_any(RulesetError)
    return RuleSet(rulesets)


def load_rules(paths: Sequence[str | Path] | str | Path | None = None) -> RuleSet:
    """Load rulesets from files or directories; by default the bundled ones."""
    if paths is None:
        return _bundled_rules()
    if isinstance(paths, str | Path):
        paths = [paths]
    files = ruleset_files(paths)
    if not files:
        raise RulesetError(Problem(message="no ruleset files found", file=", ".join(map(str, paths))))
    return _load_cached(files, [str(f) for f in files])


def _load_cached(files: list[Path], names: list[str]) -> RuleSet:
    """combine(load each file), reused from the on-disk cache when nothing it depends on changed.

    Each file is read once: the entry is keyed by the bytes read and built from the same
    bytes, so a ruleset rewritten meanwhile cannot leave one version's rules under the
    other's key (nor a provenance SHA-256 of bytes that were not compiled)."""
    from dataclasses import replace

    from engine.source.cache import cached, key_of, key_of_bytes, read_bounded

    raws = [read_bounded(f, RULESET_LIMITS.max_bytes) for f in files]
    if any(raw is None for raw in raws):  # unreadable or not a regular file: the loader says which, located
        return combine(load_ruleset_file(f, display=n) for f, n in zip(files, names, strict=True))
    try:
        tables = sorted(bundled("rulesets/data").glob("*.yaml"))
        key = key_of_bytes([(f.name, raw) for f, raw in zip(files, raws, strict=True)],
                           key_of(tables), *names)
    except OSError as exc:
        raise RulesetError(
            Problem(message=f"cannot read ruleset: {exc.strerror}", file=str(exc.filename), code="io_error")
        ) from None
    ruleset = cached(
        "rules", key,
        lambda: combine(load_ruleset_bytes(raw, n) for raw, n in zip(raws, names, strict=True) if raw is not None),
    )
    return replace(ruleset, cache_key=key) if ruleset.cache_key != key else ruleset


@lru_cache(maxsize=1)
def _bundled_rules() -> RuleSet:
    directory = bundled("rulesets")
    files = ruleset_files([directory])
    return _load_cached(files, [f"rulesets/{f.name}" for f in files])
