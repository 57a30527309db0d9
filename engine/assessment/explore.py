"""The exploration of one group of unknown facts: every outcome their fillings can reach.

A group is a set of unknown facts linked by undecided rules (engine.assessment.bounds makes the
groups and the values to try). ``explore`` enumerates one value per class of each fact, plus
"still unknown", depth first, and records each reachable outcome (per dimension: points and top
severity) with a filling that reaches it; a budget of steps bounds the work, and a group that
exceeds it gets a sound over-approximation instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.assessment.residual import UNKNOWN, Evaluator, Residual, ResidualFn, has_list
from engine.ruleset.model import Rule


@dataclass(frozen=True)
class RuleInfo:
    """What bounds need of one rule, worked out once per process."""

    rule: Rule
    residual: ResidualFn
    dim: int
    points: float
    sev: int  # severity rank; -1 for info (no points, no floor)


# An outcome: per dimension (points, top severity rank); combined by adding and by max.
Outcome = tuple[tuple[float, int], ...]


def combine(a: Outcome, b: Outcome) -> Outcome:
    """Two independent outcomes together: points add, the top severity is the greater."""
    return tuple((pa + pb, sa if sa > sb else sb) for (pa, sa), (pb, sb) in zip(a, b, strict=True))


def outcome(infos: Iterable[RuleInfo], n: int) -> Outcome:
    """The outcome of these rules firing (info rules score nothing)."""
    points = [0.0] * n
    tops = [-2] * n
    for i in infos:
        if i.sev >= 0:
            points[i.dim] += i.points
            if i.sev > tops[i.dim]:
                tops[i.dim] = i.sev
    return tuple((round(p, 6), s) for p, s in zip(points, tops, strict=True))


class TooBig(Exception):
    """The exploration ran out of budget, or a leaf has too many combinations."""


@dataclass
class Group:
    """Facts linked by undecided rules, and every outcome their fillings reach."""

    facts: list[str]
    rules: list[RuleInfo]
    rule_facts: list[set[str]]  # the unknown facts each rule's residual reads
    reach: dict[Outcome, dict[str, Any] | None]  # outcome -> a filling reaching it (None: not found)
    branches: list[tuple[str, tuple[frozenset[Outcome], ...]]]  # (fact, outcomes under each of its values)
    exact: bool
    overran: bool = False  # the exploration stopped (budget or size) and this is the sound fallback


class _Explorer:
    """The depth-first exploration of one group of two or more undecided rules.

    Facts are assigned one at a time (most shared first), each to ``UNKNOWN`` or one value per
    class; once every shared fact is set, each open rule's remaining facts are its own and
    ``_leaf`` combines the rules' independent options. ``reach`` collects every outcome with a
    filling reaching it, ``branches`` the facts whose value changes the reachable outcomes."""

    def __init__(self, facts: list[str], uses: dict[str, int], values: list[list[Any]], facts_of: list[set[str]],
                 evals: list[Evaluator], rules: list[RuleInfo], n: int, budget: list[int]) -> None:
        self.facts, self.uses, self.values, self.evals, self.rules = facts, uses, values, evals, rules
        self.n, self.budget = n, budget
        self.reach: dict[Outcome, dict[str, Any] | None] = {}
        self.branches: dict[tuple[str, tuple[frozenset[Outcome], ...]], None] = {}
        self.assign: dict[str, Any] = {}
        self.truths: list[bool | None] = [None] * len(evals)
        self.searched: dict[tuple[int, str], list[tuple[bool, dict[str, Any]]]] = {}
        self.readers: dict[str, frozenset[int]] = {
            f: frozenset(k for k, fs in enumerate(facts_of) if f in fs) for f in facts}
        self.fact_idx = [[i for i, f in enumerate(facts) if f in fs] for fs in facts_of]  # each rule's, in order
        self.outcome_of: dict[frozenset[int], Outcome] = {}
        #: Per (rule, first unassigned fact): the shared facts it reads, its own facts and their values.
        self.splits: dict[tuple[int, int], tuple[list[str], list[str], list[list[Any]]]] = {}

    def dfs(self, idx: int, open_rules: list[int], changed: str | None) -> frozenset[Outcome]:
        """The outcomes reachable from the current assignment, facts ``idx`` on still free."""
        self.budget[0] -= 1
        if self.budget[0] < 0:
            raise TooBig
        # Assigning facts never undoes a decided residual (a fact not yet assigned is free, not
        # absent), so only the rules still open need evaluating, and of those only the ones that
        # read the fact just set: the others are as open as they were one step up.
        still = []
        touched = self.readers[changed] if changed is not None else None
        for k in open_rules:
            if touched is None or k in touched:
                t = self.evals[k](self.assign)
                self.truths[k] = t
                if t is None:
                    still.append(k)
            else:
                still.append(k)
        open_set = frozenset(still)
        facts = self.facts
        while idx < len(facts) and open_set.isdisjoint(self.readers[facts[idx]]):
            idx += 1
        if idx == len(facts) or self.uses[facts[idx]] == 1:
            return self._leaf(idx, still)
        f = facts[idx]
        children = []
        for v in self.values[idx]:
            self.assign[f] = v
            children.append(self.dfs(idx + 1, still, f))
        del self.assign[f]
        for k in still:
            self.truths[k] = None
        kids = tuple(children)
        if len(set(kids)) > 1:
            self.branches[(f, kids)] = None
        return frozenset().union(*kids)

    def _options(self, k: int, idx: int) -> tuple[list[tuple[bool, dict[str, Any]]], list[str]]:
        """Rule ``k``'s choices (fire or not, each with a filling of its own facts) and its own facts."""
        split = self.splits.get((k, idx))
        if split is None:
            facts, values = self.facts, self.values
            split = self.splits[(k, idx)] = ([facts[i] for i in self.fact_idx[k] if i < idx],
                                             [facts[i] for i in self.fact_idx[k] if i >= idx],
                                             [values[i] for i in self.fact_idx[k] if i >= idx])
        shared, own_facts, own_values = split
        # The rule's options depend only on the shared facts it reads: search once per setting.
        get = self.assign.get
        memo_key = (k, repr([get(f, UNKNOWN) for f in shared]))
        options = self.searched.get(memo_key)
        if options is None:
            options = self.searched[memo_key] = [
                (fire, w) for fire in (False, True)
                if (w := search(self.evals[k], self.assign, own_facts, own_values, fire, self.budget)) is not None]
        return options, own_facts

    def _leaf(self, idx: int, still: list[int]) -> frozenset[Outcome]:
        """Every shared fact is set: each open rule's remaining facts are its own, so the rules
        choose independently between firing and not (whichever their own facts can reach)."""
        w0 = {f: v for f, v in self.assign.items() if v is not UNKNOWN}
        fired_now = frozenset(k for k in range(len(self.rules)) if self.truths[k] is True)
        combos: list[tuple[frozenset[int], frozenset[int], dict[str, Any]]] = [(fired_now, frozenset(), w0)]
        either: dict[int, list[str]] = {}
        for k in still:
            options, own_facts = self._options(k, idx)
            if len(options) == 2:
                either[k] = own_facts
            combos = [(fr | {k} if fire else fr, ks | {k} if fire else ks, {**cw, **w})
                      for fr, ks, cw in combos for fire, w in options]
            if len(combos) > 64:
                raise TooBig
        found = set()
        outcomes = []
        for fr, _, w in combos:
            o = self.outcome_of.get(fr)
            if o is None:
                o = self.outcome_of[fr] = outcome((self.rules[i] for i in sorted(fr)), self.n)
            outcomes.append(o)
            found.add(o)
            if o not in self.reach or len(w) < len(self.reach[o] or {}):
                self.reach[o] = w
        # A fact of one rule only is decisive when that rule can go either way here.
        for k, own_facts in either.items():
            fires = frozenset(o for o, (_, ks, _) in zip(outcomes, combos, strict=True) if k in ks)
            quiet = frozenset(o for o, (_, ks, _) in zip(outcomes, combos, strict=True) if k not in ks)
            if fires != quiet:
                for f in own_facts:
                    self.branches[(f, (quiet, fires))] = None
        for k in still:
            self.truths[k] = None
        return frozenset(found)


def explore(facts: list[str], uses: dict[str, int], values: list[list[Any]], exact: bool,
            facts_of: list[set[str]], residuals: list[Residual], evals: list[Evaluator], rules: list[RuleInfo],
            n: int, budget: list[int]) -> Group:
    """Every outcome the fillings of one group's facts reach (``values``: what to try for each
    fact, ``UNKNOWN`` first; ``exact``: whether they cover every class), or the sound fallback
    when the budget runs out."""
    if len(rules) == 1:
        return single(facts, values, residuals[0], evals[0], facts_of, rules, n, exact, budget)
    explorer = _Explorer(facts, uses, values, facts_of, evals, rules, n, budget)
    try:
        explorer.dfs(0, list(range(len(residuals))), None)
        if any(has_list(r) for r in residuals):
            # A whole list unknown is never enumerated: its items could make every rule here fire.
            explorer.reach.setdefault(outcome(rules, n), None)
            exact = False
    except TooBig:
        # Sound fallback: the group's undecided rules all silent, or all firing; and the facts as
        # given (every fact left unknown), which a filling certainly reaches.
        as_given = {f: UNKNOWN for f in facts}
        known = outcome((i for i, ev in zip(rules, evals, strict=True) if ev(as_given) is True), n)
        return Group(facts, rules, facts_of, {known: {}, outcome((), n): None, outcome(rules, n): None},
                     [(f, (frozenset((outcome((), n),)), frozenset((outcome(rules, n),)))) for f in facts], False,
                     overran=True)
    return Group(facts, rules, facts_of, explorer.reach, list(explorer.branches), exact)


def search(ev: Evaluator, assign: dict[str, Any], facts: list[str], values: list[list[Any]],
            want_true: bool, budget: list[int]) -> dict[str, Any] | None:
    """A filling of ``facts`` (the others as in ``assign``) under which the residual fires
    (``want_true``) or does not; None when there is none. Depth first, abandoning a branch once
    the residual is decided."""
    local = dict(assign)

    def go(idx: int) -> dict[str, Any] | None:
        budget[0] -= 1
        if budget[0] < 0:
            raise TooBig
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


def single(facts: list[str], values: list[list[Any]], res: Residual, ev: Evaluator, facts_of: list[set[str]],
            rules: list[RuleInfo], n: int, exact: bool, budget: list[int]) -> Group:
    """One undecided rule: its outcomes are "fires" and "does not"; find a filling for each
    (depth first, abandoning a branch once the rule is decided against the goal)."""
    assign: dict[str, Any] = {}

    def search(idx: int, want_true: bool) -> dict[str, Any] | None:
        budget[0] -= 1
        if budget[0] < 0:
            raise TooBig
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

    fire, quiet = outcome(rules, n), outcome((), n)
    overran = False
    try:
        when_fires, when_quiet = search(0, True), search(0, False)
        ok = exact and not has_list(res)
    except TooBig:
        when_fires, when_quiet, ok, overran = None, None, False, True
    reach: dict[Outcome, dict[str, Any] | None] = {}
    if when_quiet is not None or not ok:
        reach[quiet] = when_quiet
    if when_fires is not None or not ok:
        reach[fire] = when_fires
    kids: tuple[frozenset[Outcome], ...] = (frozenset((quiet,)), frozenset((fire,)))
    branches = [(f, kids) for f in facts] if len(reach) > 1 else []
    return Group(facts, rules, facts_of, reach, branches, ok, overran)
