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
from collections.abc import Iterable
from functools import partial
from typing import Any

from engine.assessment.explore import Group, Outcome, RuleInfo, combine, explore, outcome
from engine.assessment.levers import is_conclusion
from engine.assessment.memo import GENERATION, Memo, remembered
from engine.assessment.residual import (
    UNKNOWN,
    Evaluator,
    Residual,
    compile_eval,
    compile_residual,
    evaluate_residual,
    parse_fact,
    residual_leaves,
)
from engine.assessment.shape import DECISIVE_UNKNOWN, RANGE_FILLINGS, shaped
from engine.lang import conditions as C
from engine.lang import operators
from engine.ruleset.model import SEVERITY_ORDER, Rule
from engine.scale import LEVELS

__all__ = ["MAX_NODES", "OTHER", "UNKNOWN", "BoundsPlan", "candidate_values", "compile_residual", "compute",
           "evaluate_residual", "parse_fact"]

#: Most steps of the exploration of the unknown facts of one case (all groups together); a group
#: the remaining budget cannot finish gets the sound fallback and ``exact: false``.
MAX_NODES = 500
#: Lists with at most this many values named by the rules are enumerated by every subset.
MAX_LIST_VALUES = 4
#: A value no rule names (for text facts compared by equality or membership).
OTHER = "(another value)"
_PRESENT = "(a value)"


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


#: Candidate values by comparisons, per process.
_CANDIDATES: Memo[tuple[tuple[str, Any], ...], tuple[list[Any], bool]] = Memo(GENERATION["candidates"])


def candidate_values(leaves: list[tuple[str, Any]]) -> tuple[list[Any], bool]:
    """(values to try for one fact, whether they cover every class the comparisons distinguish).

    A function of the comparisons alone, kept per process (the rules name few thresholds). The
    lists returned are shared: callers copy before changing them."""
    found: tuple[list[Any], bool] = remembered(_CANDIDATES, tuple(leaves), lambda: _candidate_values(leaves))
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
        if op == "some" or operators.presence(op):
            if op == "some":
                exact = False  # a whole list left unknown: its items are not enumerated
            continue
        present_only = False
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            if operators.on_list(op):
                members.add(v)
            elif isinstance(v, bool):
                flags = True
            elif _is_number(v):
                numbers.add(v)
            elif operators.is_order(op):
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
    tests = [(op, value) for op, value in leaves if op != "some" and not operators.presence(op)]
    seen: set[tuple[bool, ...]] = set()
    kept = []
    for rep in reps:
        sig = tuple(C.compare(rep, op, value) for op, value in tests)
        if sig not in seen:
            seen.add(sig)
            kept.append(rep)
    return kept, exact


class BoundsPlan:
    """Per (rules in force, scenario): each rule's residual function and scoring weight."""

    def __init__(self, active: tuple[Rule, ...], dims: tuple[str, ...]) -> None:
        self._index = {d: i for i, d in enumerate(dims)}
        self.dims = dims
        self._rules = {r.id: r for r in active if r.dimension in self._index}
        # Each rule's residual is compiled on first use: a case touches few of them, and a
        # one-case run must not pay for compiling every rule in force.
        self._info: dict[str, RuleInfo] = {}
        #: Each rule's residual on a case, by the values of the facts it reads (plan.fact_key),
        #: with the facts it leaves open (None: decided, or open only on unstated conclusions).
        self.residuals: Memo[Any, tuple[Residual, set[str] | None]] = Memo(GENERATION["residuals"])
        #: One object for each distinct residual (rules that read list items get a new residual
        #: on every case): the memo keys below share them instead of holding copies.
        self.canon: Memo[Residual, Residual] = Memo(GENERATION["canon"])
        #: Each case's bounds by its residuals, definite outcome and coverage (``compute``).
        self.memo: Memo[Any, dict[str, Any]] = Memo(GENERATION["bounds"])
        #: Explored groups by their rules and residuals, with the steps each took (groups recur
        #: across cases far more often than whole cases do: the same datasheet gap, say).
        self.groups: Memo[Any, tuple[int, bool, Group]] = Memo(GENERATION["groups"])
        self.evals: Memo[Any, Evaluator] = Memo(GENERATION["evals"])  # compiled residual evaluators, by residual
        #: What collecting one fact can do to the rules that read it and its siblings (``_moves``).
        self.moves: Memo[Any, Moves] = Memo(GENERATION["moves"])

    def info(self, rule_id: str) -> RuleInfo | None:
        """The residual function and scoring weight of a rule in force (None: not a scored rule)."""
        found = self._info.get(rule_id)
        if found is None:
            rule = self._rules.get(rule_id)
            if rule is None:
                return None
            found = self._info[rule_id] = RuleInfo(rule, compile_residual(rule.condition), self._index[rule.dimension],
                                                   float(rule.points), SEVERITY_ORDER[rule.severity])
        return found


def compute(plan: BoundsPlan, view: dict[str, Any], candidates: Iterable[str], fired: set[str],
            assessed: list[bool], level_of: Any, keys: dict[str, Any] | None = None) -> dict[str, Any]:
    """The bounds of one case.

    ``candidates``: applicable rules that read an absent fact (the others cannot change);
    ``fired``: the applicable rules that fired; ``assessed``: per dimension;
    ``level_of(dim_index, points, top)``: the scoring policy's level rank; ``keys``: each
    candidate's ``plan.fact_key`` (its residual is remembered by it), None for no memo."""
    n = len(plan.dims)
    undecided: list[tuple[RuleInfo, Residual, set[str]]] = []
    residuals = plan.residuals
    for rid in candidates:
        info = plan.info(rid)
        if info is None:
            continue
        known = remembered(residuals, keys.get(rid) if keys is not None else None,
                           partial(_residual, info, view, plan.canon))
        if known[1] is not None:
            undecided.append((info, known[0], known[1]))
    moving = {info.rule.id for info, _, _ in undecided}
    infos = (plan.info(r) for r in fired if r not in moving)
    base = outcome((i for i in infos if i is not None), n)
    # When even every undecided rule firing cannot move a level (most cases with gaps), the
    # answer is the known levels: no memo key to build, nothing to copy.
    floor = tuple(level_of(d, base[d][0], base[d][1]) if assessed[d] else None for d in range(n))
    if not undecided:
        return _fixed(floor)
    ceiling = combine(base, outcome((e[0] for e in undecided), n))
    if floor == tuple(level_of(d, ceiling[d][0], ceiling[d][1]) if assessed[d] else None for d in range(n)):
        return _fixed(floor)
    # The result depends only on the residuals, the definite outcome and the coverage: cases of a
    # portfolio that share them (same gaps, same thresholds in play) share the work.
    key: Any = (tuple((info.rule.id, res) for info, res, _ in undecided), base, tuple(assessed))
    try:
        hit = plan.memo.get(key)
    except TypeError:  # an unhashable literal in a residual: no memo for this case
        hit, key = None, None
    if hit is not None:
        return _copy_result(hit)
    result = _compute(undecided, base, n, assessed, level_of, plan.groups, plan.evals, plan.moves)
    if key is not None:
        plan.memo.put(key, result)
    # A copy: the result shares values with the memo and the per-process candidate values.
    return _copy_result(result)


def _residual(info: RuleInfo, view: dict[str, Any], canon: Memo[Residual, Residual] | None = None
              ) -> tuple[Residual, set[str] | None]:
    """A rule's residual on ``view`` and the facts it leaves open (None: decided, or open only on
    conclusions the user has not stated, which decide nothing as they stand); ``canon``: the
    residual is the one object kept there for its value, when there is one."""
    res = info.residual(view, "")
    if res is True or res is False:
        return res, None
    if canon is not None:
        res = remembered(canon, res, lambda: res)
    open_facts = set(residual_leaves(res, {}))
    return res, None if all(is_conclusion(f) for f in open_facts) else open_facts


def _copy_filling(w: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if w is None else {f: (list(v) if isinstance(v, list) else v) for f, v in w.items()}


def _copy_witnesses(ws: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if ws is None else {end: _copy_filling(w) for end, w in ws.items()}


def _copy_decisive(ds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [shaped(DECISIVE_UNKNOWN, fact=d["fact"], rules=list(d["rules"])) for d in ds]


def _copy_result(r: dict[str, Any]) -> dict[str, Any]:
    """A copy of a ``compute`` result that shares nothing mutable with it (its shape is fixed:
    a ``copy.deepcopy`` made every assessment pay for generality it does not need)."""
    return {"dims": [{"range": None if d["range"] is None else list(d["range"]),
                      "witnesses": _copy_witnesses(d["witnesses"]), "decisive": _copy_decisive(d["decisive"])}
                     for d in r["dims"]],
            "range": None if r["range"] is None else list(r["range"]), "witnesses": _copy_witnesses(r["witnesses"]),
            "decisive": _copy_decisive(r["decisive"]), "exact": r["exact"]}


def _evaluator(res: Residual, memo: Memo[Any, Evaluator] | None) -> Evaluator:
    """``compile_eval(res)``, kept per plan: the same residuals recur across the cases of a portfolio."""
    return compile_eval(res) if memo is None else remembered(memo, res, lambda: compile_eval(res))


def _explore(facts_of: list[set[str]], residuals: list[Residual], evals: list[Evaluator], rules: list[RuleInfo],
             n: int, budget: list[int]) -> Group:
    """``explore`` of one group, with the values to try for each of its facts (most shared first)."""
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
    return explore(facts, uses, values, exact, facts_of, residuals, evals, rules, n, budget)


def _explore_once(entries: list[tuple[RuleInfo, Residual, set[str]]], evals: list[Evaluator], n: int,
                  budget: list[int], memo: Memo[Any, tuple[int, bool, Group]]) -> Group:
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
    if key is not None:
        by_budget = budget[0] < 0
        memo.put(key, (before if by_budget else before - budget[0], by_budget, group))
    return group


Entry = tuple[RuleInfo, Residual, set[str]]


def _groups(undecided: list[Entry]) -> list[list[Entry]]:
    """The undecided rules in groups of facts linked by sharing a rule (union-find over facts)."""
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
    by_root: dict[str, list[Entry]] = {}
    for entry in undecided:
        by_root.setdefault(find(min(entry[2])), []).append(entry)
    return list(by_root.values())


def _rating(levels: Iterable[int | None]) -> int | None:
    known = [x for x in levels if x is not None]
    return max(known) if known else None


def _fixed(levels: tuple[int | None, ...]) -> dict[str, Any]:
    """The result when nothing unknown can move a level: every range is the known level."""
    dims: list[dict[str, Any]] = [
        {"range": [LEVELS[x], LEVELS[x]], "witnesses": shaped(RANGE_FILLINGS, best={}, worst={}), "decisive": []}
        if x is not None else {"range": None, "witnesses": None, "decisive": []} for x in levels]
    rating = _rating(levels)
    return {"dims": dims, "range": None if rating is None else [LEVELS[rating], LEVELS[rating]],
            "witnesses": None if rating is None else shaped(RANGE_FILLINGS, best={}, worst={}), "decisive": [],
            "exact": True}


Pair = tuple[float, int]  # one dimension's (points, top severity rank)


def _better(new: dict[str, Any] | None, old: dict[str, Any] | None) -> bool:
    """Whether filling ``new`` is preferred to ``old`` for the same end: found, then smaller."""
    return (old is None and new is not None) or (new is not None and old is not None and len(new) < len(old))


def _dimension_reach(d: int, start: Pair, groups: list[Group]) -> dict[Pair, dict[str, Any] | None]:
    """Every (points, top severity) dimension ``d`` can reach, combining the groups one by one
    (they are independent), each with the smallest filling found to reach it (None: none found)."""
    reach: dict[Pair, dict[str, Any] | None] = {start: {}}
    for g in groups:
        mine: dict[Pair, dict[str, Any] | None] = {}
        for o, w in g.reach.items():
            if o[d] not in mine or (mine[o[d]] is None and w is not None) or (
                    w is not None and len(w) < len(mine[o[d]] or {})):
                mine[o[d]] = w
        nxt: dict[Pair, dict[str, Any] | None] = {}
        for (p, t), w in reach.items():
            for (q, u), gw in mine.items():
                key = (round(p + q, 6), t if t > u else u)
                new = None if w is None or gw is None else {**w, **gw}
                if key not in nxt or _better(new, nxt[key]):
                    nxt[key] = new
        reach = nxt
    return reach


End = tuple[int, int, dict[str, Any] | None, dict[str, Any] | None]  # best, worst level and their fillings


def _overall(ends: list[End | None]) -> tuple[list[str] | None, dict[str, Any] | None, bool]:
    """The rating's range, its fillings, and whether its lower end was shown reachable."""
    rated = [e for e in ends if e is not None]
    if not rated:
        return None, None, True
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
    return [LEVELS[low], LEVELS[top[1]]], shaped(RANGE_FILLINGS, best=merged, worst=top[3]), merged is not None


def _compute(undecided: list[Entry], base: Outcome, n: int, assessed: list[bool],
             level_of: Any, memo: Memo[Any, tuple[int, bool, Group]] | None = None,
             eval_memo: Memo[Any, Evaluator] | None = None, moves: Memo[Any, Moves] | None = None) -> dict[str, Any]:
    """The bounds of one case from its undecided rules and the outcome of the rules decided to fire."""
    def levels(o: Outcome) -> tuple[int | None, ...]:
        return tuple(level_of(d, o[d][0], o[d][1]) if assessed[d] else None for d in range(n))

    # When even every undecided rule firing cannot move a level, nothing unknown is decisive.
    floor_levels = levels(base)
    if floor_levels == levels(combine(base, outcome((e[0] for e in undecided), n))):
        return _fixed(floor_levels)
    budget = [MAX_NODES]
    # Smallest groups first, so one large group cannot use up the budget of the others.
    ordered = sorted(_groups(undecided), key=lambda es: (len(set().union(*(e[2] for e in es))), len(es)))
    evals = [_evaluator(e[1], eval_memo) for e in undecided]
    ev_of = {id(e): ev for e, ev in zip(undecided, evals, strict=True)}
    explored = Memo(GENERATION["groups"]) if memo is None else memo
    groups = [_explore_once(es, [ev_of[id(e)] for e in es], n, budget, explored) for es in ordered]

    # A dimension's level depends on its own (points, top severity) only, and groups are
    # independent: combine each dimension's reachable pairs group by group, with one filling each.
    dims_out: list[dict[str, Any]] = []
    ends: list[End | None] = []
    for d in range(n):
        if not assessed[d]:
            dims_out.append({"range": None, "witnesses": None, "decisive": []})
            ends.append(None)
            continue
        # Among equal levels, prefer a pair a filling was found to reach, then the smallest filling.
        scored = sorted(((level_of(d, p, t), w) for (p, t), w in _dimension_reach(d, base[d], groups).items()),
                        key=lambda s: (s[1] is None, len(s[1] or {})))
        best = min(scored, key=lambda s: s[0])
        worst = max(scored, key=lambda s: s[0])
        ends.append((best[0], worst[0], best[1], worst[1]))
        dims_out.append({"range": [LEVELS[best[0]], LEVELS[worst[0]]],
                         "witnesses": shaped(RANGE_FILLINGS, best=best[1], worst=worst[1]), "decisive": []})
    overall_range, overall_witnesses, reached = _overall(ends)
    exact = all(g.exact for g in groups) and reached
    decisive_overall: list[dict[str, Any]] = []
    if any(e is not None and e[0] != e[1] for e in ends):
        _decisive(undecided, evals, base, n, assessed, level_of, dims_out, decisive_overall, moves)
    return {"dims": dims_out, "range": overall_range, "witnesses": overall_witnesses,
            "decisive": decisive_overall, "exact": exact}


#: What collecting one fact can do: each distinct (truths before, truths after) of the rules that
#: read it or its siblings, over every value of the fact and of its siblings.
Moves = tuple[tuple[tuple[bool, ...], tuple[bool, ...]], ...]


def _decisive(undecided: list[tuple[RuleInfo, Residual, set[str]]], evals: list[Evaluator], base: Outcome, n: int,
              assessed: list[bool], level_of: Any, dims_out: list[dict[str, Any]],
              decisive_overall: list[dict[str, Any]], memo: Memo[Any, Moves] | None = None) -> None:
    """The decisive unknowns: facts that, collected alone (every other unknown fact still
    unknown), would move a level for some value the rules distinguish; each with the rules that
    value would fire or silence. These are what to collect first: once they are known, the
    next assessment names the facts that then decide. ``memo``: each fact's ``_moves`` by the
    residuals they depend on (they recur across a portfolio where the levels do not)."""
    leaves: dict[str, list[tuple[str, Any]]] = {}
    for _, res, _ in undecided:
        residual_leaves(res, leaves)
    as_given = {f: UNKNOWN for f in leaves}
    truths = [ev(as_given) is True for ev in evals]

    seen: dict[tuple[bool, ...], list[int | None]] = {}  # levels by which undecided rules fire

    def levels(fired: list[bool]) -> list[int | None]:
        key = tuple(fired)
        found = seen.get(key)
        if found is None:
            o = combine(base, outcome((u[0] for u, t in zip(undecided, fired, strict=True) if t), n))
            found = seen[key] = [level_of(d, o[d][0], o[d][1]) if assessed[d] else None for d in range(n)]
        return found

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
        touched = sorted({k for g in (fact, *siblings) for k in readers[g]})
        # The truths of the rules touched depend on their residuals and the values tried only
        # (the values come from those residuals' comparisons): the same residuals, the same moves.
        made = partial(_moves, fact, siblings, touched, leaves, as_given, evals)
        found: Moves = made() if memo is None else remembered(
            memo, (fact, tuple(siblings), tuple([(undecided[k][0].rule.id, undecided[k][1]) for k in touched])), made)
        moved: dict[int, set[str]] = {}
        for before_t, now_t in found:
            before = list(truths)
            now = list(truths)
            for k, b, t in zip(touched, before_t, now_t, strict=True):
                before[k], now[k] = b, t
            ref = levels(before)
            flips = {undecided[k][0].rule.id for k, b, t in zip(touched, before_t, now_t, strict=True) if b != t}
            got = levels(now)
            for d in range(n):
                if got[d] != ref[d]:
                    moved.setdefault(d, set()).update(r for r in flips if undecided_dim(undecided, r) == d)
            if rating(got) != rating(ref):
                moved.setdefault(-1, set()).update(flips)
        for d, rules in sorted(moved.items()):
            entry = shaped(DECISIVE_UNKNOWN, fact=fact, rules=sorted(rules))
            (decisive_overall if d < 0 else dims_out[d]["decisive"]).append(entry)


def _moves(fact: str, siblings: list[str], touched: list[int], leaves: dict[str, list[tuple[str, Any]]],
           as_given: dict[str, Any], evals: list[Evaluator]) -> Moves:
    """Each distinct (before, after) truth of the ``touched`` rules when ``fact`` is collected
    with any value the rules distinguish, its ``siblings`` each unknown or any such value."""
    values, _ = candidate_values(leaves[fact])
    others = [[UNKNOWN, *candidate_values(leaves[g])[0]] for g in siblings]
    found: dict[tuple[tuple[bool, ...], tuple[bool, ...]], None] = {}
    for rest in itertools.product(*others):
        assign = {**as_given, **dict(zip(siblings, rest, strict=True))}
        before = tuple([evals[k](assign) is True for k in touched])
        for v in values:
            assign[fact] = v
            found[(before, tuple([evals[k](assign) is True for k in touched]))] = None
    return tuple(found)


def undecided_dim(undecided: list[tuple[RuleInfo, Residual, set[str]]], rule_id: str) -> int:
    return next(u[0].dim for u in undecided if u[0].rule.id == rule_id)
