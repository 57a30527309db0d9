"""Compile rules into durable-rules rulesets and a plan for building slim facts.

What the matching core gets (see ``shared/durable-rules.md`` for why):

- one *case* fact per case, flat, with short keys for exactly the paths the
  rules read; one *item* fact per list item used by a ``some`` (the Rete join
  then reports which item matched);
- every pattern starts with a type tag (``t``), so no rule is made only of
  ``$nex`` (pitfall 4) and the case and item facts never mix;
- conditions in negation normal form: ``not`` becomes the complementary
  operator, which, like every comparison, is false on an absent field; so a
  rule fires exactly when its condition is *true* in three-valued logic;
- a ``some`` becomes a join pattern; an ``any`` over ``some`` becomes several
  alternatives (``any`` of ``m_N$all``), de-duplicated when actions come back;
- lists of scalars used with ``contains`` become one boolean key per value;
- numbers are serialised so the C parser accepts them (pitfall 1);
- the alpha network is bounded: conjuncts are ordered for prefix sharing and
  rules are split into shards whose worst-case traversal stack stays under the
  core's limit of 64 (error 303), and no fact exceeds 252 fields (error 302,
  which in practice is a segmentation fault). A rule that cannot fit is
  reported against its YAML location.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from engine.errors import Problem, RulesetError
from engine.lang import conditions as C
from engine.lang import operators
from engine.match.alpha import AlphaBound, Keyed, keyed
from engine.match.corejson import INT64, dumps, number_json, scalar_json
from engine.ruleset.model import Rule

__all__ = ["INT64", "MAX_ALTERNATIVES", "MAX_CONDITIONS", "MAX_FACT_FIELDS", "MAX_IN_VALUES", "STACK_BUDGET",
           "AlphaBound", "FactPlan", "KeyMap", "Shard", "compile_rules", "dumps", "expansion_problems",
           "number_json", "scalar_json"]

MAX_STACK = 64  # durable: MAX_STACK_SIZE in src/rules/events.c
STACK_BUDGET = 60  # keep a margin under MAX_STACK
MAX_FACT_FIELDS = 252  # durable: more properties than this → error 302 / crash
RESERVED_FIELDS = 3  # id, t, x


# --------------------------------------------------------------------------- fact plan


@dataclass
class KeyMap:
    """Short fact keys for the paths one kind of fact needs."""

    tag: str
    scalar: dict[C.Path, str] = field(default_factory=dict)  # path -> key (value or presence)
    contains: dict[tuple[C.Path, Any], str] = field(default_factory=dict)  # (path, element) -> bool key
    presence: dict[C.Path, str] = field(default_factory=dict)  # object / list paths used with exists

    def key(self, path: C.Path) -> str:
        if path not in self.scalar:
            self.scalar[path] = f"k{len(self.scalar) + len(self.contains) + len(self.presence)}"
        return self.scalar[path]

    def contains_key(self, path: C.Path, element: Any) -> str:
        if (path, element) not in self.contains:
            self.contains[(path, element)] = f"k{len(self.scalar) + len(self.contains) + len(self.presence)}"
        return self.contains[(path, element)]

    def presence_key(self, path: C.Path) -> str:
        if path not in self.presence:
            self.presence[path] = f"k{len(self.scalar) + len(self.contains) + len(self.presence)}"
        return self.presence[path]

    def width(self) -> int:
        return len(self.scalar) + len(self.contains) + len(self.presence) + RESERVED_FIELDS


@dataclass
class FactPlan:
    """How to turn a case view into the facts one shard needs."""

    case: KeyMap
    lists: dict[C.Path, KeyMap]  # list path -> item key map

    def facts(self, view: dict[str, Any], serial: int) -> list[str]:
        """JSON texts of the case fact and item facts (absent values omitted)."""
        built = self._built
        if built is None or built[0] != self._shape():
            built = self._built = (self._shape(), _builder(self.case),
                                   [(C.getter(lp), km.tag, _builder(km)) for lp, km in self.lists.items()])
        _, case_fact, lists = built
        out = [case_fact(view, f"{serial}c", None)]
        for get_items, tag, item_fact in lists:
            items = get_items(view)
            if not isinstance(items, list):
                continue
            for i, item in enumerate(items):
                out.append(item_fact(item, f"{serial}{tag}_{i}", i))
        return out

    _built: Any = field(default=None, init=False, repr=False, compare=False)

    def _shape(self) -> tuple[int, ...]:
        return (self.case.width(), *(km.width() for km in self.lists.values()))

    @staticmethod
    def _fact(km: KeyMap, doc: Any, fid: str, index: int | None) -> str:
        parts = [f'"id":"{fid}"', f'"t":"{km.tag}"']
        if index is not None:
            parts.append(f'"x":{index}')
        for path, key in km.scalar.items():
            value = C.lookup(doc, path)
            if C.is_missing(value) or isinstance(value, dict | list | tuple):
                continue
            parts.append(f'"{key}":{scalar_json(value)}')
        for path, key in km.presence.items():
            if not C.is_missing(C.lookup(doc, path)):
                parts.append(f'"{key}":true')
        for (path, element), key in km.contains.items():
            value = C.lookup(doc, path)
            if C.is_missing(value) or not isinstance(value, list | tuple):
                continue
            hit = any(isinstance(v, bool) == isinstance(element, bool) and v == element for v in value)
            parts.append(f'"{key}":{"true" if hit else "false"}')
        return "{" + ",".join(parts) + "}"


_SCALAR_TYPES = frozenset({str, int, float, bool})
# What orjson may write that the core's parser does not take the way ``scalar_json`` writes it:
# an exponent without a fraction (``1e25``), an integer that may not fit in 64 bits, or
# ``null`` (orjson writes NaN and Infinity so). A match inside a string only costs the exact path.
_RISKY = re.compile(rb":-?[0-9]+(?:[eE]|[0-9]{18})")  # a fact's numbers all follow a colon


def _exact_builder(km: KeyMap) -> Callable[[Any, str, int | None], str]:
    """A function (doc, fact id, index) -> the fact ``FactPlan._fact`` builds, field by field."""
    dumps = orjson.dumps
    isfinite = math.isfinite
    scalars = [(C.getter(path), f'"{key}":') for path, key in km.scalar.items()]
    presence = [(C.getter(path), f'"{key}":true') for path, key in km.presence.items()]
    contains = [(C.getter(path), element, isinstance(element, bool), f'"{key}":')
                for (path, element), key in km.contains.items()]
    missing = C.MISSING
    head = f'","t":"{km.tag}"'

    def exact(doc: Any, fid: str, index: int | None) -> str:
        parts = ['"id":"' + fid + head]
        if index is not None:
            parts.append(f'"x":{index}')
        for get, prefix in scalars:
            value = get(doc)
            t = type(value)
            if t is str:
                parts.append(prefix + dumps(value).decode())
            elif t is bool:
                parts.append(prefix + ("true" if value else "false"))
            elif t is float and isfinite(value):
                text = repr(value)
                parts.append(prefix + (text if "e" not in text else number_json(value)))
            elif value is missing or isinstance(value, dict | list | tuple):
                continue
            else:
                parts.append(prefix + scalar_json(value))
        for get, flag in presence:
            if get(doc) is not missing:
                parts.append(flag)
        for get, element, ebool, prefix in contains:
            value = get(doc)
            if value is missing or not isinstance(value, list | tuple):
                continue
            hit = any(isinstance(v, bool) == ebool and v == element for v in value)
            parts.append(prefix + ("true" if hit else "false"))
        return "{" + ",".join(parts) + "}"

    return exact


def _builder(km: KeyMap) -> Any:
    """A function (doc, fact id, index) -> a fact with the same fields and values as ``FactPlan._fact``.

    The fast path takes the top-level scalar fields of a dict in one comprehension and
    serialises with orjson; anything it cannot vouch for (a non-scalar or null value, a
    number orjson writes differently from ``scalar_json``) goes through the exact path."""
    dumps = orjson.dumps
    top = tuple((path[0], key) for path, key in km.scalar.items() if len(path) == 1)
    deep = [(C.getter(path), key) for path, key in km.scalar.items() if len(path) > 1]
    missing = C.MISSING
    tag = km.tag
    scalar_types = _SCALAR_TYPES
    risky = _RISKY.search
    flags = [(C.getter(path), key) for path, key in km.presence.items()]
    lists = [(C.getter(path), element, isinstance(element, bool), key)
             for (path, element), key in km.contains.items()]
    exact = _exact_builder(km)

    def build(doc: Any, fid: str, index: int | None) -> str:
        if type(doc) is not dict:
            return exact(doc, fid, index)
        fields = {key: doc[name] for name, key in top if name in doc}
        for get, key in deep:
            value = get(doc)
            if value is not missing:
                fields[key] = value
        if not scalar_types.issuperset(map(type, fields.values())):
            return exact(doc, fid, index)
        for get, flag in flags:
            if get(doc) is not missing:
                fields[flag] = True
        for get, element, ebool, key in lists:
            value = get(doc)
            if value is missing or not isinstance(value, list | tuple):
                continue
            fields[key] = any(isinstance(v, bool) == ebool and v == element for v in value)
        fields["id"] = fid
        fields["t"] = tag
        if index is not None:
            fields["x"] = index
        try:
            text = dumps(fields)
        except TypeError:  # orjson takes no integer beyond 64 bits
            return exact(doc, fid, index)
        if risky(text) or b"null" in text:
            return exact(doc, fid, index)
        return text.decode()

    build.exact = exact  # type: ignore[attr-defined]
    return build


# --------------------------------------------------------------------------- expressions


class _Compiler:
    def __init__(self, plan: FactPlan) -> None:
        self.plan = plan

    def km(self, in_list: C.Path | None) -> KeyMap:
        if in_list is None:
            return self.plan.case
        if in_list not in self.plan.lists:
            self.plan.lists[in_list] = KeyMap(tag=f"i{len(self.plan.lists)}")
        return self.plan.lists[in_list]

    def leaf(self, cond: C.Cmp, in_list: C.Path | None) -> dict[str, Any]:
        """The durable expression of one comparison, as its operator's registry entry builds it."""
        return operators.get(cond.op).durable(self.km(in_list), cond.path, cond.value)

    def expr(self, cond: C.Condition, in_list: C.Path | None) -> dict[str, Any]:
        if isinstance(cond, C.Cmp):
            return self.leaf(cond, in_list)
        if isinstance(cond, C.All):
            parts = [self.expr(c, in_list) for c in cond.children]
            return parts[0] if len(parts) == 1 else {"$and": parts}
        if isinstance(cond, C.Any_):
            parts = [self.expr(c, in_list) for c in cond.children]
            return parts[0] if len(parts) == 1 else {"$or": parts}
        raise TypeError(f"cannot compile {type(cond).__name__} here")  # guarded by validation


def _has_some(cond: C.Condition) -> bool:
    return any(isinstance(n, C.Some) for n, _, _ in C.walk(cond))


Alternative = tuple[list[C.Condition], list[tuple[C.Path, C.Condition]]]


def _alternatives(cond: C.Condition) -> list[Alternative]:
    """DNF over `some` only: each alternative is (case conditions, item patterns)."""
    if not _has_some(cond):
        return [([cond], [])]
    if isinstance(cond, C.Some):
        return [([], [(cond.list_path, cond.where)])]
    if isinstance(cond, C.All):
        alts: list[Alternative] = [([], [])]
        for child in cond.children:
            child_alts = _alternatives(child)
            alts = [(a[0] + b[0], a[1] + b[1]) for a in alts for b in child_alts]
        return alts
    if isinstance(cond, C.Any_):
        out: list[Alternative] = []
        for child in cond.children:
            out.extend(_alternatives(child))
        return out
    raise TypeError("a negated `some` cannot be compiled")  # rejected by validation


def _conjuncts(cond: C.Condition) -> list[C.Condition]:
    return list(cond.children) if isinstance(cond, C.All) else [cond]


# --------------------------------------------------------------------------- expansion bounds

MAX_ALTERNATIVES = 64
"""Most alternatives (patterns joined per `some`, after expanding `all`/`any` around `some`) a rule may
compile to: each is a join in the matching core, and `all` of N `any`s of two `some`s is 2^N."""
MAX_CONDITIONS = 256
"""Most condition nodes (comparisons, `all`, `any`, `not`, `some`) in one rule's `when`."""
MAX_IN_VALUES = operators.MAX_VALUES
"""Most values in one `in` / `not_in` list (each is an alternative in the matching core)."""


def expansion_problems(cond: C.Condition) -> list[tuple[str, str]]:
    """(limit name, message) for each expansion bound ``cond`` exceeds, counted without expanding it."""
    out: list[tuple[str, str]] = []
    nodes = sum(1 for _ in C.walk(cond))
    if nodes > MAX_CONDITIONS:
        out.append(("MAX_CONDITIONS", f"the condition has {nodes} parts, more than the limit of {MAX_CONDITIONS}"))
    widest = max((len(n.value) for n, _, _ in C.walk(cond) if isinstance(n, C.Cmp) and isinstance(n.value, tuple)),
                 default=0)
    if widest > MAX_IN_VALUES:
        out.append(("MAX_IN_VALUES", f"an `in` list has {widest} values, more than the limit of {MAX_IN_VALUES}"))
    alts = alternative_count(cond, MAX_ALTERNATIVES)
    if alts > MAX_ALTERNATIVES:
        out.append(("MAX_ALTERNATIVES", f"the condition expands to more than {MAX_ALTERNATIVES} alternatives "
                                        "(`all` of `any`s that contain `some` multiply)"))
    return out


def alternative_count(cond: C.Condition, cap: int) -> int:
    """len(_alternatives(cond)), capped at cap + 1, computed without building them."""
    if not _has_some(cond) or isinstance(cond, C.Some):
        return 1
    if isinstance(cond, C.All):
        total = 1
        for child in cond.children:
            total = min(total * alternative_count(child, cap), cap + 1)
        return total
    if isinstance(cond, C.Any_):
        return min(sum(alternative_count(child, cap) for child in cond.children), cap + 1)
    return 1


# --------------------------------------------------------------------------- shards


@dataclass
class Shard:
    """One durable-rules ruleset: its rules' JSON and the facts they need."""

    name: str
    rule_ids: list[str]
    plan: FactPlan
    durable: dict[str, Any]
    text: str = ""  # the durable JSON, kept once written (it is cached on disk with the shard)

    def json(self) -> str:
        if not self.text:
            self.text = dumps(self.durable)
        return self.text


def _by_frequency(parts: list[dict[str, Any]], order: Counter[str]) -> list[dict[str, Any]]:
    """``parts`` most frequent first, then by their JSON (each part written once)."""
    if len(parts) < 2:
        return parts
    texts = [dumps(e) for e in parts]
    ranked = sorted(range(len(parts)), key=lambda i: (-order[texts[i]], texts[i]))
    return [parts[i] for i in ranked]


def _rule_patterns(rule: Rule, comp: _Compiler, order: Counter[str]) -> dict[str, Any]:
    alts = _alternatives(rule.condition)
    blocks = []
    for case_conds, item_patterns in alts:
        patterns: list[dict[str, Any]] = []
        case_parts = [comp.expr(c, None) for cc in case_conds for c in _conjuncts(cc)]
        if case_parts or not item_patterns:
            case_parts = _by_frequency(case_parts, order)
            patterns.append({"c": {"$and": [{"t": comp.plan.case.tag}, *case_parts]}})
        for j, (list_path, where) in enumerate(item_patterns):
            km = comp.km(list_path)
            parts = [comp.expr(c, list_path) for c in _conjuncts(where)]
            parts = _by_frequency(parts, order)
            patterns.append({f"a{j}": {"$and": [{"t": km.tag}, *parts]}})
        blocks.append(patterns)
    if len(blocks) == 1:
        return {"all": blocks[0]}
    return {"any": [{f"m_{i}$all": b} for i, b in enumerate(blocks)]}


def compile_rules(rules: Sequence[Rule]) -> list[Shard]:
    """Compile rules into as few durable rulesets as the core's limits allow."""
    # Conjunct frequency across all rules orders chains for prefix sharing.
    order: Counter[str] = Counter()
    scratch = _Compiler(FactPlan(KeyMap("c"), {}))
    for rule in rules:
        for case_conds, items in _alternatives(rule.condition):
            for cc in case_conds:
                for c in _conjuncts(cc):
                    order[dumps(scratch.expr(c, None))] += 1
            for lp, where in items:
                for c in _conjuncts(where):
                    order[dumps(scratch.expr(c, lp))] += 1

    shards: list[Shard] = []
    problems: list[Problem] = []

    def build(chunk: Sequence[Rule]) -> tuple[Shard, int, int]:
        plan = FactPlan(KeyMap("c"), {})
        comp = _Compiler(plan)
        bound = AlphaBound()
        shard = Shard(name=f"s{len(shards)}", rule_ids=[], plan=plan, durable={})
        for rule in chunk:
            compiled = _rule_patterns(rule, comp, order)
            for expr in _pattern_exprs(compiled):
                bound.add(expr)
            shard.durable[rule.id] = compiled
            shard.rule_ids.append(rule.id)
        width = max([plan.case.width(), *(km.width() for km in plan.lists.values())])
        return shard, bound.peak(), width

    # Adding rules never lowers the bound, so the longest prefix that fits is found by galloping
    # (1, 2, 4, ... rules) and then bisecting. Every prefix tried starts at the same rule, and a
    # rule's patterns depend only on the rules before it in its shard (fact keys are numbered in
    # order of first use), so ``_Prefixes`` compiles each rule once per shard start and each try
    # only rebuilds the alpha-network model: compile time grows with the number of rules.
    remaining = list(rules)
    while remaining:
        tries = _Prefixes(remaining, order)
        if not tries.fits(1):
            rule = remaining.pop(0)
            _, peak, width = build([rule])
            problems.append(Problem(
                message=f"rule {rule.id} alone exceeds the matching core's limits "
                        f"(alpha stack {peak} > {STACK_BUDGET} or fact width {width} > {MAX_FACT_FIELDS})",
                file=rule.file, line=rule.line, code="engine_limit",
                hint="split the rule, or reduce the alternatives in its `any`/`in` lists"))
            continue
        lo, step = 1, 2
        while step <= len(remaining) and tries.fits(step):
            lo, step = step, step * 2
        hi = min(step - 1, len(remaining))
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if tries.fits(mid):
                lo = mid
            else:
                hi = mid - 1
        shard, _, _ = build(remaining[:lo])
        shard.json()
        shards.append(shard)
        remaining = remaining[lo:]
    if problems:
        raise RulesetError(problems)
    return shards


class _Prefixes:
    """The prefixes of one run of rules, each judged as ``build`` of it would be (alpha-stack peak
    and fact width), with each rule compiled once: rule i's patterns and the keys it adds depend
    only on rules 0..i-1, so they are the same in every prefix that holds rule i."""

    def __init__(self, rules: Sequence[Rule], order: Counter[str]) -> None:
        self.rules = rules
        self.order = order
        self.plan = FactPlan(KeyMap("c"), {})
        self.comp = _Compiler(self.plan)
        self.exprs: list[list[Keyed]] = []  # per rule: its patterns' expressions, keyed
        self.widths: list[int] = []  # per rule: the widest fact of the prefix that ends with it
        self._bound = AlphaBound()  # the model of the longest prefix judged so far, grown in place
        self._in_bound = 0

    def _extend(self, n: int) -> None:
        plan = self.plan
        while len(self.exprs) < n:
            compiled = _rule_patterns(self.rules[len(self.exprs)], self.comp, self.order)
            self.exprs.append([keyed(e) for e in _pattern_exprs(compiled)])
            self.widths.append(max([plan.case.width(), *(km.width() for km in plan.lists.values())]))

    def fits(self, n: int) -> bool:
        """Whether the first ``n`` rules fit one shard (``n`` ≤ the number of rules)."""
        self._extend(n)
        if self.widths[n - 1] > MAX_FACT_FIELDS:
            return False
        return self.judge(n)[0] <= STACK_BUDGET

    def judge(self, n: int) -> tuple[int, int]:
        """(alpha-stack peak, widest fact) of a shard of the first ``n`` rules, as ``build`` finds them."""
        self._extend(n)
        if n >= self._in_bound:  # galloping: grow the model kept from the last try
            bound, start = self._bound, self._in_bound
        else:  # bisecting below it: a model of its own
            bound, start = AlphaBound(), 0
        for exprs in self.exprs[start:n]:
            for expr in exprs:
                bound.add_keyed(expr)
        if bound is self._bound:
            self._in_bound = n
        return bound.peak(), self.widths[n - 1]


def _pattern_exprs(compiled: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    blocks = [compiled["all"]] if "all" in compiled else [next(iter(b.values())) for b in compiled["any"]]
    for block in blocks:
        for pattern in block:
            (expr,) = pattern.values()
            out.append(expr)
    return out
