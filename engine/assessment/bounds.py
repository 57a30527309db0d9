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

from engine.assessment.levers import is_conclusion
from engine.lang import conditions as C
from engine.ruleset.model import SEVERITY_ORDER, Rule
from engine.scale import LEVELS

#: Most steps of the exploration of the unknown facts of one case (all groups together); a group
#: the remaining budget cannot finish gets the sound fallback and ``exact: false``.
MAX_NODES = 500
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


Evaluator = Any  # (assign) -> True | False | None


def compile_eval(res: Residual) -> Evaluator:
    """The Kleene truth of a residual as a function of a partial filling: facts in ``assign``
    have that value (``UNKNOWN``: stay absent); facts not in it are free (either), so the truth
    is monotone. Built once per residual: the exploration evaluates it at every step."""
    if res is True or res is False:
        const = bool(res)
        return lambda assign: const
    tag = res[0]
    if tag == "c":
        fact, test = res[1], res[4]

        def cmp(assign: dict[str, Any]) -> bool | None:
            v = assign.get(fact, UNKNOWN)
            return None if v is UNKNOWN else bool(test(v))

        return cmp
    if tag == "e":
        fact, want = res[1], bool(res[2])

        def exists(assign: dict[str, Any]) -> bool | None:
            if fact not in assign:
                return None  # not yet assigned: it may stay absent or be given
            return (assign[fact] is not UNKNOWN) == want

        return exists
    if tag == "n":
        inner = compile_eval(res[1])

        def not_(assign: dict[str, Any]) -> bool | None:
            r = inner(assign)
            return None if r is None else not r

        return not_
    if tag == "u":
        return lambda assign: None
    parts = tuple(compile_eval(p) for p in res[1])
    stop: bool = tag == "o"
    otherwise = not stop

    def junction(assign: dict[str, Any]) -> bool | None:
        result: bool | None = otherwise
        for part in parts:
            r = part(assign)
            if r is stop:
                return bool(r)
            if r is None:
                result = None
        return result

    return junction


def evaluate_residual(res: Residual, assign: dict[str, Any]) -> bool | None:
    """Kleene truth of a residual under a partial filling (see ``compile_eval``)."""
    return compile_eval(res)(assign)  # type: ignore[no-any-return]


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


_CANDIDATES: dict[tuple[tuple[str, Any], ...], tuple[list[Any], bool]] = {}


def candidate_values(leaves: list[tuple[str, Any]]) -> tuple[list[Any], bool]:
    """(values to try for one fact, whether they cover every class the comparisons distinguish).

    A function of the comparisons alone, kept per process (the rules name few thresholds). The
    lists returned are shared: callers copy before changing them."""
    found: tuple[list[Any], bool] = _memoised(_CANDIDATES, tuple(leaves), lambda: _candidate_values(leaves))
    return found


def _memoised(memo: dict[Any, Any], key: Any, make: Any, size: int = 16384) -> Any:
    """``memo[key]``, made by ``make()`` the first time (kept while the memo has room); made
    afresh each time for a key that cannot be hashed (an unhashable literal)."""
    try:
        found = memo.get(key)
    except TypeError:
        return make()
    if found is None:
        found = make()
        if len(memo) < size:
            memo[key] = found
    return found


def _candidate_values(leaves: list[tuple[str, Any]]) -> tuple[list[Any], bool]:
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
        self.memo: dict[Any, dict[str, Any]] = {}
        #: Explored groups by their rules and residuals, with the steps each took (groups recur
        #: across cases far more often than whole cases do: the same datasheet gap, say).
        self.groups: dict[Any, tuple[int, bool, _Group]] = {}
        self.evals: dict[Any, Evaluator] = {}  # compiled residual evaluators, by residual


# An outcome: per dimension (points, top severity rank); combined by adding and by max.
Outcome = tuple[tuple[float, int], ...]


def _combine(a: Outcome, b: Outcome) -> Outcome:
    return tuple((pa + pb, sa if sa > sb else sb) for (pa, sa), (pb, sb) in zip(a, b, strict=True))


def _outcome(infos: Iterable[RuleInfo], n: int) -> Outcome:
    points = [0.0] * n
    tops = [-2] * n
    for i in infos:
        if i.sev >= 0:
            points[i.dim] += i.points
            if i.sev > tops[i.dim]:
                tops[i.dim] = i.sev
    return tuple((round(p, 6), s) for p, s in zip(points, tops, strict=True))


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
    overran: bool = False  # the exploration stopped (budget or size) and this is the sound fallback


def _explore(facts_of: list[set[str]], residuals: list[Residual], evals: list[Evaluator], rules: list[RuleInfo],
             n: int, budget: list[int]) -> _Group:
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
        if is_conclusion(f):  # not stated stays not stated (engine.assessment.levers.CONCLUSIONS)
            values.append([UNKNOWN])
            continue
        reps, ok = candidate_values(leaves.get(f, []))
        values.append([UNKNOWN, *reps])
        exact = exact and ok
    reach: dict[Outcome, dict[str, Any] | None] = {}
    branches: dict[tuple[str, tuple[frozenset[Outcome], ...]], None] = {}
    assign: dict[str, Any] = {}
    if len(rules) == 1:
        return _single(facts, values, residuals[0], evals[0], facts_of, rules, n, exact, budget)

    truths: list[bool | None] = [None] * len(residuals)
    searched: dict[tuple[int, str], list[tuple[bool, dict[str, Any]]]] = {}
    readers: dict[str, frozenset[int]] = {
        f: frozenset(k for k, fs in enumerate(facts_of) if f in fs) for f in facts}
    fact_idx = [[i for i, f in enumerate(facts) if f in fs] for fs in facts_of]  # each rule's facts, in order
    outcome_of: dict[frozenset[int], Outcome] = {}

    def dfs(idx: int, open_rules: list[int], changed: str | None) -> frozenset[Outcome]:
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooBig
        # Assigning facts never undoes a decided residual (a fact not yet assigned is free, not
        # absent), so only the rules still open need evaluating, and of those only the ones that
        # read the fact just set: the others are as open as they were one step up.
        still = []
        touched = readers[changed] if changed is not None else None
        for k in open_rules:
            if touched is None or k in touched:
                t = evals[k](assign)
                truths[k] = t
                if t is None:
                    still.append(k)
            else:
                still.append(k)
        open_set = frozenset(still)
        while idx < len(facts) and open_set.isdisjoint(readers[facts[idx]]):
            idx += 1
        if idx == len(facts) or uses[facts[idx]] == 1:
            # Every shared fact is set: each open rule's remaining facts are its own, so the rules
            # choose independently between firing and not (whichever their own facts can reach).
            w0 = {f: v for f, v in assign.items() if v is not UNKNOWN}
            fired_now = frozenset(k for k in range(len(rules)) if truths[k] is True)
            combos: list[tuple[frozenset[int], frozenset[int], dict[str, Any]]] = [(fired_now, frozenset(), w0)]
            either: dict[int, list[str]] = {}
            for k in still:
                own = [i for i in fact_idx[k] if i >= idx]
                # The rule's options depend only on the shared facts it reads: search once per setting.
                memo_key = (k, repr([assign.get(facts[i], UNKNOWN) for i in fact_idx[k] if i < idx]))
                options = searched.get(memo_key)
                if options is None:
                    options = searched[memo_key] = [
                        (fire, w) for fire in (False, True)
                        if (w := _search(evals[k], assign, [facts[i] for i in own],
                                         [values[i] for i in own], fire, budget)) is not None]
                if len(options) == 2:
                    either[k] = [facts[i] for i in own]
                combos = [(fr | {k} if fire else fr, ks | {k} if fire else ks, {**cw, **w})
                          for fr, ks, cw in combos for fire, w in options]
                if len(combos) > 64:
                    raise _TooBig
            found = set()
            outcomes = []
            for fr, _, w in combos:
                o = outcome_of.get(fr)
                if o is None:
                    o = outcome_of[fr] = _outcome((rules[i] for i in sorted(fr)), n)
                outcomes.append(o)
                found.add(o)
                if o not in reach or len(w) < len(reach[o] or {}):
                    reach[o] = w
            # A fact of one rule only is decisive when that rule can go either way here.
            for k, own_facts in either.items():
                fires = frozenset(o for o, (_, ks, _) in zip(outcomes, combos, strict=True) if k in ks)
                quiet = frozenset(o for o, (_, ks, _) in zip(outcomes, combos, strict=True) if k not in ks)
                if fires != quiet:
                    for f in own_facts:
                        branches[(f, (quiet, fires))] = None
            for k in still:
                truths[k] = None
            return frozenset(found)
        f = facts[idx]
        children = []
        for v in values[idx]:
            assign[f] = v
            children.append(dfs(idx + 1, still, f))
        del assign[f]
        for k in still:
            truths[k] = None
        kids = tuple(children)
        if len(set(kids)) > 1:
            branches[(f, kids)] = None
        return frozenset().union(*kids)

    try:
        dfs(0, list(range(len(residuals))), None)
        if any(_has_list(r) for r in residuals):
            # A whole list unknown is never enumerated: its items could make every rule here fire.
            every = _outcome(rules, n)
            reach.setdefault(every, None)
            exact = False
    except _TooBig:
        # Sound fallback: the group's undecided rules all silent, or all firing; and the facts as
        # given (every fact left unknown), which a filling certainly reaches.
        as_given = {f: UNKNOWN for f in facts}
        known = _outcome((i for i, ev in zip(rules, evals, strict=True) if ev(as_given) is True), n)
        return _Group(facts, rules, facts_of, {known: {}, _outcome((), n): None, _outcome(rules, n): None},
                      [(f, (frozenset((_outcome((), n),)), frozenset((_outcome(rules, n),)))) for f in facts], False,
                      overran=True)
    return _Group(facts, rules, facts_of, reach, list(branches), exact)


def _search(ev: Evaluator, assign: dict[str, Any], facts: list[str], values: list[list[Any]],
            want_true: bool, budget: list[int]) -> dict[str, Any] | None:
    """A filling of ``facts`` (the others as in ``assign``) under which the residual fires
    (``want_true``) or does not; None when there is none. Depth first, abandoning a branch once
    the residual is decided."""
    local = dict(assign)

    def go(idx: int) -> dict[str, Any] | None:
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooBig
        t = ev(local)
        if t is not None or idx == len(facts):
            if (t is True) != want_true:
                return None
            return {f: local[f] for f in facts[:idx] if local.get(f, UNKNOWN) is not UNKNOWN}
        f = facts[idx]
        for v in (values[idx][1:] + values[idx][:1]) if want_true else values[idx]:
            local[f] = v
            found = go(idx + 1)
            if found is not None:
                return found
        del local[f]
        return None

    return go(0)


def _single(facts: list[str], values: list[list[Any]], res: Residual, ev: Evaluator, facts_of: list[set[str]],
            rules: list[RuleInfo], n: int, exact: bool, budget: list[int]) -> _Group:
    """One undecided rule: its outcomes are "fires" and "does not"; find a filling for each
    (depth first, abandoning a branch once the rule is decided against the goal)."""
    assign: dict[str, Any] = {}

    def search(idx: int, want_true: bool) -> dict[str, Any] | None:
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooBig
        t = ev(assign)
        if t is not None or idx == len(facts):  # decided, or every fact assigned (unknown is not true)
            return {f: v for f, v in assign.items() if v is not UNKNOWN} if (t is True) == want_true else None
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
    overran = False
    try:
        when_fires, when_quiet = search(0, True), search(0, False)
        ok = exact and not _has_list(res)
    except _TooBig:
        when_fires, when_quiet, ok, overran = None, None, False, True
    reach: dict[Outcome, dict[str, Any] | None] = {}
    if when_quiet is not None or not ok:
        reach[quiet] = when_quiet
    if when_fires is not None or not ok:
        reach[fire] = when_fires
    kids: tuple[frozenset[Outcome], ...] = (frozenset((quiet,)), frozenset((fire,)))
    branches = [(f, kids) for f in facts] if len(reach) > 1 else []
    return _Group(facts, rules, facts_of, reach, branches, ok, overran)


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
            facts = set(residual_leaves(res, {}))
            if all(is_conclusion(f) for f in facts):
                continue  # it reads only conclusions the user has not stated: decided as it stands
            undecided.append((info, res, facts))
    moving = {info.rule.id for info, _, _ in undecided}
    base = _outcome((plan.info[r] for r in fired if r in plan.info and r not in moving), n)
    # The result depends only on the residuals, the definite outcome and the coverage: cases of a
    # portfolio that share them (same gaps, same thresholds in play) share the work.
    key: Any = (tuple((info.rule.id, res) for info, res, _ in undecided), base, tuple(assessed))
    try:
        hit = plan.memo.get(key)
    except TypeError:  # an unhashable literal in a residual: no memo for this case
        hit, key = None, None
    if hit is not None:
        return _copy_result(hit)
    result = _compute(undecided, base, n, assessed, level_of, plan.groups, plan.evals)
    if key is not None and len(plan.memo) < 4096:
        plan.memo[key] = result
    # A copy: the result shares values with the memo and the per-process candidate values.
    return _copy_result(result)


def _copy_filling(w: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if w is None else {f: (list(v) if isinstance(v, list) else v) for f, v in w.items()}


def _copy_witnesses(ws: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if ws is None else {end: _copy_filling(w) for end, w in ws.items()}


def _copy_decisive(ds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"fact": d["fact"], "rules": list(d["rules"])} for d in ds]


def _copy_result(r: dict[str, Any]) -> dict[str, Any]:
    """A copy of a ``compute`` result that shares nothing mutable with it (its shape is fixed:
    a ``copy.deepcopy`` made every assessment pay for generality it does not need)."""
    return {"dims": [{"range": None if d["range"] is None else list(d["range"]),
                      "witnesses": _copy_witnesses(d["witnesses"]), "decisive": _copy_decisive(d["decisive"])}
                     for d in r["dims"]],
            "range": None if r["range"] is None else list(r["range"]), "witnesses": _copy_witnesses(r["witnesses"]),
            "decisive": _copy_decisive(r["decisive"]), "exact": r["exact"]}


def _evaluator(res: Residual, memo: dict[Any, Evaluator] | None) -> Evaluator:
    """``compile_eval(res)``, kept per plan: the same residuals recur across the cases of a portfolio."""
    return compile_eval(res) if memo is None else _memoised(memo, res, lambda: compile_eval(res))


def _explore_once(entries: list[tuple[RuleInfo, Residual, set[str]]], evals: list[Evaluator], n: int,
                  budget: list[int], memo: dict[Any, tuple[int, bool, _Group]]) -> _Group:
    """``_explore`` of one group, reusing an earlier exploration of the same residuals.

    The exploration is a function of the residuals alone: the same residuals take the same
    steps, each step spends one unit of budget, and it stops when the budget runs out (-1) or a
    leaf has too many combinations. So a stored run of ``steps`` is replayed when its outcome
    does not depend on the budget left: a completed run, or one stopped by size, when the budget
    covers its steps; a run stopped by size, or by a budget at least as large, when the budget
    does not (it then stops by budget, at -1). Otherwise the group is explored afresh."""
    key: Any = tuple((e[0].rule.id, e[1]) for e in entries)
    try:
        hit = memo.get(key)
    except TypeError:  # an unhashable literal in a residual
        hit, key = None, None
    if hit is not None:
        steps, by_budget, stored = hit  # by_budget: it stopped when `steps` (its whole budget) ran out
        if not by_budget and steps <= budget[0]:
            budget[0] -= steps
            return stored
        if stored.overran and budget[0] < steps + (1 if by_budget else 0):
            budget[0] = min(budget[0] - 1, -1)
            return stored
    before = budget[0]
    group = _explore([e[2] for e in entries], [e[1] for e in entries], evals, [e[0] for e in entries], n, budget)
    if key is not None and len(memo) < 8192:
        by_budget = budget[0] < 0
        memo[key] = (before if by_budget else before - budget[0], by_budget, group)
    return group


def _compute(undecided: list[tuple[RuleInfo, Residual, set[str]]], base: Outcome, n: int, assessed: list[bool],
             level_of: Any, memo: dict[Any, tuple[int, bool, _Group]] | None = None,
             eval_memo: dict[Any, Evaluator] | None = None) -> dict[str, Any]:
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
    def levels(o: Outcome) -> tuple[int | None, ...]:
        return tuple(level_of(d, o[d][0], o[d][1]) if assessed[d] else None for d in range(n))

    def overall(ls: tuple[int | None, ...]) -> int | None:
        known = [x for x in ls if x is not None]
        return max(known) if known else None

    # When even every undecided rule firing cannot move a level, nothing unknown is decisive.
    floor_levels = levels(base)
    if floor_levels == levels(_combine(base, _outcome((e[0] for e in undecided), n))):
        trivial: list[dict[str, Any]] = [
            {"range": [LEVELS[x], LEVELS[x]], "witnesses": {"best": {}, "worst": {}}, "decisive": []}
            if x is not None else {"range": None, "witnesses": None, "decisive": []} for x in floor_levels]
        rating = overall(floor_levels)
        return {"dims": trivial, "range": None if rating is None else [LEVELS[rating], LEVELS[rating]],
                "witnesses": None if rating is None else {"best": {}, "worst": {}}, "decisive": [], "exact": True}
    budget = [MAX_NODES]
    # Smallest groups first, so one large group cannot use up the budget of the others.
    ordered = sorted(by_root.values(), key=lambda es: (len(set().union(*(e[2] for e in es))), len(es)))
    evals = [_evaluator(e[1], eval_memo) for e in undecided]
    ev_of = {id(e): ev for e, ev in zip(undecided, evals, strict=True)}
    groups = [_explore_once(es, [ev_of[id(e)] for e in es], n, budget, {} if memo is None else memo)
              for es in ordered]

    # A dimension's level depends on its own (points, top severity) only, and groups are
    # independent: combine each dimension's reachable pairs group by group, with one filling each.
    dims_out: list[dict[str, Any]] = []
    exact = all(g.exact for g in groups)
    ends: list[tuple[int, int, dict[str, Any] | None, dict[str, Any] | None] | None] = []
    for d in range(n):
        if not assessed[d]:
            dims_out.append({"range": None, "witnesses": None, "decisive": []})
            ends.append(None)
            continue
        reach: dict[tuple[float, int], dict[str, Any] | None] = {base[d]: {}}
        for g in groups:
            mine: dict[tuple[float, int], dict[str, Any] | None] = {}
            for o, w in g.reach.items():
                if o[d] not in mine or (mine[o[d]] is None and w is not None) or (
                        w is not None and len(w) < len(mine[o[d]] or {})):
                    mine[o[d]] = w
            nxt: dict[tuple[float, int], dict[str, Any] | None] = {}
            for (p, t), w in reach.items():
                for (q, u), gw in mine.items():
                    key = (round(p + q, 6), t if t > u else u)
                    new = None if w is None or gw is None else {**w, **gw}
                    if key not in nxt:
                        nxt[key] = new
                        continue
                    old = nxt[key]
                    if (old is None and new is not None) or (
                            new is not None and old is not None and len(new) < len(old)):
                        nxt[key] = new
            reach = nxt
        # Among equal levels, prefer a pair a filling was found to reach, then the smallest filling.
        scored = sorted(((level_of(d, p, t), w) for (p, t), w in reach.items()),
                        key=lambda s: (s[1] is None, len(s[1] or {})))
        best = min(scored, key=lambda s: s[0])
        worst = max(scored, key=lambda s: s[0])
        ends.append((best[0], worst[0], best[1], worst[1]))
        dims_out.append({"range": [LEVELS[best[0]], LEVELS[worst[0]]],
                         "witnesses": {"best": best[1], "worst": worst[1]}, "decisive": []})
    rated = [e for e in ends if e is not None]
    if rated:
        top: tuple[int, int, dict[str, Any] | None, dict[str, Any] | None]
        top = max(rated, key=lambda e: e[1])
        low = max(e[0] for e in rated)
        # The lowest rating needs every dimension at its lowest at once: the merged fillings, when
        # they agree on every fact (otherwise the end is a sound bound no filling was shown to reach).
        merged: dict[str, Any] | None = {}
        for e in rated:
            if e[2] is None or merged is None or any(k in merged and merged[k] != v for k, v in e[2].items()):
                merged = None
            else:
                merged.update(e[2])
        overall_range: list[str] | None = [LEVELS[low], LEVELS[top[1]]]
        overall_witnesses: dict[str, Any] | None = {"best": merged, "worst": top[3]}
        exact = exact and merged is not None
    else:
        overall_range, overall_witnesses = None, None
    decisive_overall: list[dict[str, Any]] = []
    if any(e is not None and e[0] != e[1] for e in ends):
        _decisive(undecided, evals, base, n, assessed, level_of, dims_out, decisive_overall)
    return {"dims": dims_out, "range": overall_range, "witnesses": overall_witnesses,
            "decisive": decisive_overall, "exact": exact}


def _decisive(undecided: list[tuple[RuleInfo, Residual, set[str]]], evals: list[Evaluator], base: Outcome, n: int,
              assessed: list[bool],
              level_of: Any, dims_out: list[dict[str, Any]], decisive_overall: list[dict[str, Any]]) -> None:
    """The decisive unknowns: facts that, collected alone (every other unknown fact still
    unknown), would move a level for some value the rules distinguish; each with the rules that
    value would fire or silence. These are what to collect first: once they are known, the
    next assessment names the facts that then decide."""
    leaves: dict[str, list[tuple[str, Any]]] = {}
    for _, res, _ in undecided:
        residual_leaves(res, leaves)
    as_given = {f: UNKNOWN for f in leaves}
    truths = [ev(as_given) is True for ev in evals]

    def levels(fired: list[bool]) -> list[int | None]:
        o = _combine(base, _outcome((u[0] for u, t in zip(undecided, fired, strict=True) if t), n))
        return [level_of(d, o[d][0], o[d][1]) if assessed[d] else None for d in range(n)]

    def rating(ls: list[int | None]) -> int | None:
        known = [x for x in ls if x is not None]
        return max(known) if known else None

    from engine.assessment.levers import sources

    origin = {f: set(sources(f)) for f in leaves}
    readers: dict[str, list[int]] = {}
    for k, (_, _, fs) in enumerate(undecided):
        for f in fs:
            readers.setdefault(f, []).append(k)
    for fact in sorted(f for f in leaves if not is_conclusion(f)):
        # Facts derived from the same case facts arrive together (a datasheet gives TPP and
        # performance density): try this fact's values with theirs, and keep what its value moves.
        siblings = sorted(g for g in leaves if g != fact and origin[g] & origin[fact] and not is_conclusion(g))[:2]
        values, _ = candidate_values(leaves[fact])
        others = [[UNKNOWN, *candidate_values(leaves[g])[0]] for g in siblings]
        moved: dict[int, set[str]] = {}
        touched = sorted({k for g in (fact, *siblings) for k in readers[g]})
        for rest in itertools.product(*others):
            base_assign = {**as_given, **dict(zip(siblings, rest, strict=True))}
            before = list(truths)
            for k in touched:  # only the rules reading these facts can change
                before[k] = evals[k](base_assign) is True
            ref = levels(before)
            for v in values:
                assign = {**base_assign, fact: v}
                now = list(before)
                for k in touched:
                    now[k] = evals[k](assign) is True
                flips = {u[0].rule.id for u, a, b in zip(undecided, before, now, strict=True) if a != b}
                got = levels(now)
                for d in range(n):
                    if got[d] != ref[d]:
                        moved.setdefault(d, set()).update(r for r in flips if undecided_dim(undecided, r) == d)
                if rating(got) != rating(ref):
                    moved.setdefault(-1, set()).update(flips)
        for d, rules in sorted(moved.items()):
            entry = {"fact": fact, "rules": sorted(rules)}
            (decisive_overall if d < 0 else dims_out[d]["decisive"]).append(entry)


def undecided_dim(undecided: list[tuple[RuleInfo, Residual, set[str]]], rule_id: str) -> int:
    return next(u[0].dim for u in undecided if u[0].rule.id == rule_id)
