"""How bad a case could be: levels over every way its unknown facts could turn out.

The known level is what the facts given support. An unknown fact can still move it: a rule
that needs it may fire once it is known (``needs_information``), and a rule about its absence
(``exists: false``) goes silent once it is given. This module finds, for each dimension and
for the overall rating, the range ``[best, worst]`` of levels over all fillings of the unknown
facts (each left unknown or given any value), the *decisive* unknowns (the facts whose value
moves a level), and a filling that reaches each end.

How, from the rules and the scoring policy only:

1. A rule is *undecided* when its condition is unknown under an open reading in which
   ``exists`` on an absent fact is unknown too (it can flip either way once the fact is given).
   Kleene logic guarantees every other rule keeps its truth under any filling.
2. The unknown facts read by undecided rules fall into independent groups (facts that share no
   undecided rule). In each group the rule conditions cut every fact's values into finitely
   many classes (numbers: the thresholds and the intervals between them; text: each value named
   and "another"; booleans; lists: the subsets of the values named), so enumerating one value per
   class, plus "still unknown", visits every outcome the group can have.
3. Scores add and severities take the maximum, so the outcomes of the groups combine without
   enumerating their product; the range and the decisive facts are read off the combined set.

Rules that exclude each other are respected because the enumeration evaluates the real
conditions on real values, never "every undecided rule fires at once". A group too large to
enumerate falls back to that sound over-approximation (undecided rules all firing, or all
silent) and marks the bounds ``exact: false``; the range then still contains every filling.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine import conditions as C
from engine.models import LEVEL_ORDER, SEVERITY_ORDER, Rule

LEVELS = ("low", "medium", "high", "critical")
#: Most steps of the exploration of one group of facts that share undecided rules.
MAX_NODES = 20_000
#: Lists with at most this many values named by the rules are enumerated by every subset.
MAX_LIST_VALUES = 4
#: An absent value in a filling (the fact stays unknown).
UNKNOWN = C.MISSING
#: A value no rule names (for text facts compared by equality or membership).
OTHER = "(another value)"
_PRESENT = "(a value)"
_ITEM = re.compile(r"^(.*)\[(\d+)\]\.(.*)$")

Step = str | int
FactKey = tuple[Step, ...]


def parse_fact(fact: str) -> tuple[FactKey, tuple[C.Path, ...] | None, C.Path]:
    """A reported fact (``accelerators[0].derived.tpp``) as (steps into the view, list path, item path).

    The list path is None for a case-level fact."""
    m = _ITEM.match(fact)
    if m is None:
        path = tuple(fact.split("."))
        return path, None, path
    list_path = tuple(m.group(1).split("."))
    item = tuple(m.group(3).split("."))
    return (*list_path, int(m.group(2)), *item), (list_path,), item


# A residual condition: what is left of a rule's condition once the known facts are put in.
# ("c", fact, op, value, test) a comparison on an unknown fact; ("e", fact, want) `exists`;
# ("a", parts) all; ("o", parts) any; ("n", part) not; ("u", fact) a whole list unknown (never
# decided: its items are not enumerated). Partial evaluation is exact in Kleene logic, so a
# residual gives the rule's truth under any filling of the unknown facts.
Residual = Any
ResidualFn = Any


def compile_residual(cond: C.Condition) -> ResidualFn:
    """A function ``(doc, prefix) -> True | False | residual`` (closures, as ``conditions.compile_missing``)."""
    if isinstance(cond, C.Cmp):
        get = C.getter(cond.path)
        fact = ".".join(cond.path)
        if cond.op == "exists":
            want = bool(cond.value)

            def exists(doc: Any, prefix: str) -> Residual:
                return ("e", prefix + fact, want) if get(doc) is C.MISSING else want

            return exists
        op, value = cond.op, cond.value
        test = C._test(op, value)

        def cmp(doc: Any, prefix: str) -> Residual:
            actual = get(doc)
            if actual is C.MISSING:
                return ("c", prefix + fact, op, value, test)
            return bool(test(actual))

        return cmp
    if isinstance(cond, C.All | C.Any_):
        parts = tuple(compile_residual(c) for c in cond.children)
        stop = isinstance(cond, C.Any_)  # the value that decides the whole
        tag = "o" if stop else "a"

        def junction(doc: Any, prefix: str) -> Residual:
            left = []
            for part in parts:
                r = part(doc, prefix)
                if r is stop:
                    return stop
                if r is not (not stop):
                    left.append(r)
            if not left:
                return not stop
            return left[0] if len(left) == 1 else (tag, tuple(left))

        return junction
    if isinstance(cond, C.Not):
        inner = compile_residual(cond.child)

        def not_(doc: Any, prefix: str) -> Residual:
            r = inner(doc, prefix)
            return (not r) if r is True or r is False else ("n", r)

        return not_
    if isinstance(cond, C.Some):
        get_items = C.getter(cond.list_path)
        where = compile_residual(cond.where)
        name = ".".join(cond.list_path)

        def some(doc: Any, prefix: str) -> Residual:
            items = get_items(doc)
            if items is C.MISSING or not isinstance(items, list | tuple):
                return ("u", prefix + name)
            left = []
            for i, item in enumerate(items):
                r = where(item, f"{prefix}{name}[{i}].")
                if r is True:
                    return True
                if r is not False:
                    left.append(r)
            if not left:
                return False
            return left[0] if len(left) == 1 else ("o", tuple(left))

        return some
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover


def _has_list(res: Residual) -> bool:
    if res is True or res is False:
        return False
    if res[0] == "u":
        return True
    if res[0] == "n":
        return _has_list(res[1])
    if res[0] in ("a", "o"):
        return any(_has_list(p) for p in res[1])
    return False


def evaluate_residual(res: Residual, assign: dict[str, Any]) -> bool | None:
    """Kleene truth of a residual when the facts in ``assign`` are given (the rest stay unknown)."""
    if res is True or res is False:
        return bool(res)
    tag = res[0]
    if tag == "c":
        v = assign.get(res[1], UNKNOWN)
        return None if v is UNKNOWN else bool(res[4](v))
    if tag == "e":
        return (assign.get(res[1], UNKNOWN) is not UNKNOWN) == res[2]
    if tag == "n":
        r = evaluate_residual(res[1], assign)
        return None if r is None else not r
    if tag == "u":
        return None
    stop = tag == "o"
    result: bool | None = not stop
    for part in res[1]:
        r = evaluate_residual(part, assign)
        if r is stop:
            return stop
        if r is None:
            result = None
    return result


def residual_leaves(res: Residual, out: dict[str, list[tuple[str, Any]]]) -> dict[str, list[tuple[str, Any]]]:
    """The comparisons a residual still makes, by fact."""
    if res is True or res is False:
        return out
    tag = res[0]
    if tag == "c":
        out.setdefault(res[1], []).append((res[2], res[3]))
    elif tag == "e":
        out.setdefault(res[1], []).append(("exists", res[2]))
    elif tag == "u":
        out.setdefault(res[1], []).append(("some", None))
    elif tag == "n":
        residual_leaves(res[1], out)
    else:
        for part in res[1]:
            residual_leaves(part, out)
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _below(t: float) -> float:
    return t / 2 if t > 0 else t - 1


def _above(t: float) -> float:
    if 0 < t < 1:
        return (t + 1) / 2
    return t * 2 if t > 0 else t + 1


def _number_reps(thresholds: Iterable[float]) -> list[float]:
    """One value per class of the number line cut at ``thresholds``: each threshold, a value
    strictly between neighbours, one below the least and one above the greatest."""
    ts = sorted(set(thresholds))
    reps: list[float] = [_below(ts[0])]
    for a, b in itertools.pairwise(ts):
        reps.append(a)
        reps.append(a + 1 if isinstance(a, int) and isinstance(b, int) and b - a > 1 else (a + b) / 2)
    reps.append(ts[-1])
    reps.append(_above(ts[-1]))
    return reps


def _date(v: Any) -> dt.date | None:
    if not isinstance(v, str):
        return None
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        return None


def candidate_values(leaves: list[tuple[str, Any]]) -> tuple[list[Any], bool]:
    """(values to try for one fact, whether they cover every class the comparisons distinguish)."""
    numbers: set[float] = set()
    texts: set[str] = set()
    ordered_texts: set[str] = set()
    members: set[Any] = set()
    flags = False
    exact = True
    present_only = True
    for op, value in leaves:
        if op in ("exists", "some"):
            if op == "some":
                exact = False  # a whole list left unknown: its items are not enumerated
            continue
        present_only = False
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            if op in ("contains", "not_contains"):
                members.add(v)
            elif isinstance(v, bool):
                flags = True
            elif _is_number(v):
                numbers.add(v)
            elif op in ("lt", "lte", "gt", "gte"):
                ordered_texts.add(v)
            else:
                texts.add(v)
    reps: list[Any] = []
    if flags:
        reps += [True, False]
    if numbers:
        reps += _number_reps(numbers)
    if texts or ordered_texts:
        reps += sorted(texts)
        for t in sorted(ordered_texts):
            day = _date(t)
            if day is None:
                exact = False
                reps.append(t)
            else:
                reps += [(day - dt.timedelta(days=1)).isoformat(), t, (day + dt.timedelta(days=1)).isoformat()]
        if texts:
            reps.append(OTHER)
    if members:
        named = sorted(members, key=repr)
        if len(named) <= MAX_LIST_VALUES:
            reps += [list(s) for n in range(len(named) + 1) for s in itertools.combinations(named, n)]
        else:
            exact = False
            reps += [[], named] + [[v] for v in named]
    if present_only or not reps:
        reps.append(_PRESENT)
    # One value per class: two values every comparison treats alike are one value.
    tests = [(op, value) for op, value in leaves if op not in ("exists", "some")]
    seen: set[tuple[bool, ...]] = set()
    kept = []
    for rep in reps:
        sig = tuple(C.compare(rep, op, value) for op, value in tests)
        if sig not in seen:
            seen.add(sig)
            kept.append(rep)
    return kept, exact


@dataclass(frozen=True)
class RuleInfo:
    """What bounds need of one rule, worked out once per process."""

    rule: Rule
    residual: ResidualFn
    dim: int
    points: float
    sev: int  # severity rank; -1 for info (no points, no floor)


class BoundsPlan:
    """Per (rules in force, scenario): each rule's residual function and scoring weight."""

    def __init__(self, active: tuple[Rule, ...], dims: tuple[str, ...]) -> None:
        index = {d: i for i, d in enumerate(dims)}
        self.dims = dims
        self.info: dict[str, RuleInfo] = {
            r.id: RuleInfo(r, compile_residual(r.condition), index[r.dimension], float(r.points),
                           SEVERITY_ORDER[r.severity])
            for r in active if r.dimension in index}


# An outcome: per dimension (points, top severity rank); combined by adding and by max.
Outcome = tuple[tuple[float, int], ...]


def _combine(a: Outcome, b: Outcome) -> Outcome:
    return tuple((pa + pb, sa if sa > sb else sb) for (pa, sa), (pb, sb) in zip(a, b, strict=True))


def _outcome(infos: Iterable[RuleInfo], n: int) -> Outcome:
    acc = [[0.0, -2] for _ in range(n)]
    for i in infos:
        if i.sev >= 0:
            acc[i.dim][0] += i.points
            if i.sev > acc[i.dim][1]:
                acc[i.dim][1] = i.sev
    return tuple((round(p, 6), s) for p, s in acc)


class _TooBig(Exception):
    pass


@dataclass
class _Group:
    """Facts linked by undecided rules, and every outcome their fillings reach."""

    facts: list[str]
    rules: list[RuleInfo]
    rule_facts: list[set[str]]  # the unknown facts each rule's residual reads
    reach: dict[Outcome, dict[str, Any] | None]  # outcome -> a filling reaching it (None: not found)
    branches: list[tuple[str, tuple[frozenset[Outcome], ...]]]  # (fact, outcomes under each of its values)
    exact: bool


def _explore(facts_of: list[set[str]], residuals: list[Residual], rules: list[RuleInfo], n: int) -> _Group:
    leaves: dict[str, list[tuple[str, Any]]] = {}
    for r in residuals:
        residual_leaves(r, leaves)
    uses: dict[str, int] = {}
    for fs in facts_of:
        for f in fs:
            uses[f] = uses.get(f, 0) + 1
    facts = sorted(uses, key=lambda f: (-uses[f], f))
    values: list[list[Any]] = []
    exact = True
    for f in facts:
        reps, ok = candidate_values(leaves.get(f, []))
        values.append([UNKNOWN, *reps])
        exact = exact and ok
    reach: dict[Outcome, dict[str, Any] | None] = {}
    branches: dict[tuple[str, tuple[frozenset[Outcome], ...]], None] = {}
    assign: dict[str, Any] = {}
    nodes = [0]
    if len(rules) == 1:
        return _single(facts, values, residuals[0], facts_of, rules, n, exact)

    def dfs(idx: int) -> frozenset[Outcome]:
        nodes[0] += 1
        if nodes[0] > MAX_NODES:
            raise _TooBig
        truths = [evaluate_residual(r, assign) for r in residuals]
        open_facts = set().union(*(fs for fs, t in zip(facts_of, truths, strict=True) if t is None))
        while idx < len(facts) and facts[idx] not in open_facts:
            idx += 1
        if idx == len(facts):
            o = _outcome((i for i, t in zip(rules, truths, strict=True) if t is True), n)
            w = {f: v for f, v in assign.items() if v is not UNKNOWN}
            if o not in reach or len(w) < len(reach[o] or {}):
                reach[o] = w
            return frozenset((o,))
        f = facts[idx]
        children = []
        for v in values[idx]:
            assign[f] = v
            children.append(dfs(idx + 1))
        del assign[f]
        kids = tuple(children)
        if len(set(kids)) > 1:
            branches[(f, kids)] = None
        return frozenset().union(*kids)

    try:
        dfs(0)
        if any(_has_list(r) for r in residuals):
            # A whole list unknown is never enumerated: its items could make every rule here fire.
            every = _outcome(rules, n)
            reach.setdefault(every, None)
            exact = False
    except _TooBig:
        # Sound fallback: the group's undecided rules all silent, or all firing.
        return _Group(facts, rules, facts_of, {_outcome((), n): None, _outcome(rules, n): None},
                      [(f, (frozenset((_outcome((), n),)), frozenset((_outcome(rules, n),)))) for f in facts], False)
    return _Group(facts, rules, facts_of, reach, list(branches), exact)


def _single(facts: list[str], values: list[list[Any]], res: Residual, facts_of: list[set[str]],
            rules: list[RuleInfo], n: int, exact: bool) -> _Group:
    """One undecided rule: its outcomes are "fires" and "does not"; find a filling for each
    (depth first, abandoning a branch once the rule is decided against the goal)."""
    assign: dict[str, Any] = {}
    nodes = [0]

    def search(idx: int, want_true: bool) -> dict[str, Any] | None:
        nodes[0] += 1
        if nodes[0] > MAX_NODES:
            raise _TooBig
        t = evaluate_residual(res, assign)
        if (t is True) == want_true and (t is not None or idx == len(facts) or not want_true):
            return {f: v for f, v in assign.items() if v is not UNKNOWN}
        if t is not None or idx == len(facts):
            return None
        f = facts[idx]
        # Seeking a firing, try values before "unknown" (an unknown part rarely makes a rule fire).
        for v in (values[idx][1:] + values[idx][:1]) if want_true else values[idx]:
            assign[f] = v
            found = search(idx + 1, want_true)
            if found is not None:
                del assign[f]
                return found
        del assign[f]
        return None

    fire, quiet = _outcome(rules, n), _outcome((), n)
    try:
        when_fires, when_quiet = search(0, True), search(0, False)
        ok = exact and not _has_list(res)
    except _TooBig:
        when_fires, when_quiet, ok = None, None, False
    reach: dict[Outcome, dict[str, Any] | None] = {}
    if when_quiet is not None or not ok:
        reach[quiet] = when_quiet
    if when_fires is not None or not ok:
        reach[fire] = when_fires
    kids = (frozenset((quiet,)), frozenset((fire,)))
    branches = [(f, kids) for f in facts] if len(reach) > 1 else []
    return _Group(facts, rules, facts_of, reach, branches, ok)


def compute(plan: BoundsPlan, view: dict[str, Any], candidates: Iterable[str], fired: set[str],
            assessed: list[bool], level_of: Any) -> dict[str, Any]:
    """The bounds of one case.

    ``candidates``: applicable rules that read an absent fact (the others cannot change);
    ``fired``: the applicable rules that fired; ``assessed``: per dimension;
    ``level_of(dim_index, points, top)``: the scoring policy's level rank."""
    n = len(plan.dims)
    undecided: list[tuple[RuleInfo, Residual, set[str]]] = []
    for rid in candidates:
        info = plan.info.get(rid)
        if info is None:
            continue
        res = info.residual(view, "")
        if res is not True and res is not False:
            undecided.append((info, res, set(residual_leaves(res, {}))))
    moving = {info.rule.id for info, _, _ in undecided}
    base = _outcome((plan.info[r] for r in fired if r in plan.info and r not in moving), n)
    # Groups: facts linked by sharing an undecided rule (union-find over facts).
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for _, _, fs in undecided:
        first, *rest = sorted(fs)
        for other in rest:
            parent[find(other)] = find(first)
        find(first)
    by_root: dict[str, list[tuple[RuleInfo, Residual, set[str]]]] = {}
    for entry in undecided:
        by_root.setdefault(find(min(entry[2])), []).append(entry)
    groups = [_explore([e[2] for e in es], [e[1] for e in es], [e[0] for e in es], n) for es in by_root.values()]

    def levels(o: Outcome) -> tuple[int | None, ...]:
        return tuple(level_of(d, o[d][0], o[d][1]) if assessed[d] else None for d in range(n))

    def overall(ls: tuple[int | None, ...]) -> int | None:
        known = [x for x in ls if x is not None]
        return max(known) if known else None

    # Every outcome reachable, with one filling reaching it (groups are independent).
    reach: dict[Outcome, dict[str, Any] | None] = {base: {}}
    for g in groups:
        nxt: dict[Outcome, dict[str, Any] | None] = {}
        for o, w in reach.items():
            for go, gw in g.reach.items():
                key = _combine(o, go)
                new = None if w is None or gw is None else {**w, **gw}
                old = nxt.get(key, UNKNOWN)
                if old is UNKNOWN or (old is None and new is not None) or (
                        new is not None and old is not None and len(new) < len(old)):
                    nxt[key] = new
        reach = nxt
    # Among equal levels, prefer an outcome a filling was found to reach, then the smallest filling.
    scored = sorted(((levels(o), w) for o, w in reach.items()),
                    key=lambda s: (s[1] is None, len(s[1] or {})))
    dims_out: list[dict[str, Any]] = []
    for d in range(n):
        if not assessed[d]:
            dims_out.append({"range": None, "witnesses": None, "decisive": []})
            continue
        best = min(scored, key=lambda s: s[0][d])  # type: ignore[arg-type,return-value]
        worst = max(scored, key=lambda s: s[0][d])  # type: ignore[arg-type,return-value]
        dims_out.append({"range": [LEVELS[best[0][d]], LEVELS[worst[0][d]]],  # type: ignore[index]
                         "witnesses": {"best": best[1], "worst": worst[1]}, "decisive": []})
    rated = [(overall(ls), w) for ls, w in scored if overall(ls) is not None]
    if rated:
        b = min(rated, key=lambda s: s[0])  # type: ignore[arg-type,return-value]
        w = max(rated, key=lambda s: s[0])  # type: ignore[arg-type,return-value]
        overall_range: list[str] | None = [LEVELS[b[0]], LEVELS[w[0]]]  # type: ignore[index]
        overall_witnesses: dict[str, Any] | None = {"best": b[1], "worst": w[1]}
    else:
        overall_range, overall_witnesses = None, None
    decisive_overall: list[dict[str, Any]] = []
    if len(reach) > 1:
        _decisive(groups, base, levels, overall, dims_out, decisive_overall)
    return {"dims": dims_out, "range": overall_range, "witnesses": overall_witnesses,
            "decisive": decisive_overall, "exact": all(g.exact for g in groups)}


def _decisive(groups: list[_Group], base: Outcome, levels: Any, overall: Any,
              dims_out: list[dict[str, Any]], decisive_overall: list[dict[str, Any]]) -> None:
    """A fact is decisive for a level when, with the facts decided before it, its value changes
    which levels can still be reached (a branch of the exploration whose values reach different
    levels, with some outcome of the other groups). Levels of different dimensions depend on
    their own points and severities only, so each dimension is checked on its own; the rating
    moves when a dimension's level moves above the lowest the other dimensions can be."""
    n = len(base)
    lowest = [min((ls[d] for ls in (levels(o) for o in _all(groups, base))), default=None,
                  key=lambda x: -1 if x is None else x) for d in range(n)]
    for gi, g in enumerate(groups):
        rest: list[set[tuple[float, int]]] = []
        for d in range(n):
            acc = {base[d]}
            for gj, other in enumerate(groups):
                if gj != gi:
                    acc = {(p + q[d][0], max(s, q[d][1])) for p, s in acc for q in other.reach}
            rest.append(acc)
        moves: dict[str, set[int]] = {}
        for fact, kids in g.branches:
            for d in range(n):
                for p, top in rest[d]:
                    sets = []
                    for kid in kids:
                        probe = [(0.0, -2)] * n
                        found = set()
                        for o in kid:
                            probe[d] = (p + o[d][0], max(top, o[d][1]))
                            found.add(levels(tuple(probe))[d])
                        sets.append(found)
                    if any(x != sets[0] for x in sets[1:]):
                        moves.setdefault(fact, set()).add(d)
                        others = [x for j, x in enumerate(lowest) if j != d and x is not None]
                        floor = max(others) if others else -1
                        tops = [{max(x, floor) for x in found if x is not None} for found in sets]
                        if any(x != tops[0] for x in tops[1:]):
                            moves[fact].add(-1)
                        break
        for fact in sorted(moves):
            for d in sorted(moves[fact]):
                rules = sorted(i.rule.id for i, fs in zip(g.rules, g.rule_facts, strict=True)
                               if (d < 0 or i.dim == d) and fact in fs)
                entry = {"fact": fact, "rules": rules}
                (decisive_overall if d < 0 else dims_out[d]["decisive"]).append(entry)


def _all(groups: list[_Group], base: Outcome) -> set[Outcome]:
    # Per-dimension lowest levels only need each group's outcomes one at a time with the base.
    out = {base}
    for g in groups:
        out |= {_combine(base, o) for o in g.reach}
    return out
