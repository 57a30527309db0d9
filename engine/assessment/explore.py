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
    """Every outcome the fillings of a group of facts linked by undecided rules reach (what bounds
    combine; kept per plan, so it holds nothing else)."""

    reach: dict[Outcome, dict[str, Any] | None]  # outcome -> a filling reaching it (None: not found)
    exact: bool
    overran: bool = False  # the exploration stopped (budget or size) and this is the sound fallback


class _Explorer:
    """The depth-first exploration of one group of two or more undecided rules.

    Facts are assigned one at a time (most shared first), each to ``UNKNOWN`` or one value per
    class; once every shared fact is set, each open rule's remaining facts are its own and
    ``_leaf`` combines the rules' independent options. ``reach`` collects every outcome with a
    filling reaching it."""

    def __init__(self, facts: list[str], uses: dict[str, int], values: list[list[Any]], facts_of: list[set[str]],
                 evals: list[Evaluator], rules: list[RuleInfo], n: int, budget: list[int]) -> None:
        self.facts, self.uses, self.values, self.evals, self.rules = facts, uses, values, evals, rules
        self.n, self.budget = n, budget
        self.reach: dict[Outcome, dict[str, Any] | None] = {}
        self.assign: dict[str, Any] = {}
        self.truths: list[bool | None] = [None] * len(evals)
        #: Which of its values each assigned fact holds (an index into ``values``).
        self.pick = [0] * len(facts)
        self.searched: dict[tuple[int, tuple[int, ...]], list[tuple[bool, dict[str, Any]]]] = {}
        self.readers: dict[str, frozenset[int]] = {
            f: frozenset(k for k, fs in enumerate(facts_of) if f in fs) for f in facts}
        self.fact_idx = [[i for i, f in enumerate(facts) if f in fs] for fs in facts_of]  # each rule's, in order
        #: Outcomes by the rules firing, as a bit mask (bit k: rule k).
        self.outcome_of: dict[int, Outcome] = {}
        #: Per (rule, first unassigned fact): the shared facts it reads (indices), its own facts and their values.
        self.splits: dict[tuple[int, int], tuple[list[int], list[str], list[list[Any]]]] = {}

    def dfs(self, idx: int, open_rules: list[int], changed: str | None) -> None:
        """Record in ``reach`` the outcomes reachable from the current assignment, facts ``idx`` on still free."""
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
            self._leaf(idx, still)
            return
        f = facts[idx]
        pick = self.pick
        for j, v in enumerate(self.values[idx]):
            self.assign[f] = v
            pick[idx] = j
            self.dfs(idx + 1, still, f)
        del self.assign[f]
        for k in still:
            self.truths[k] = None

    def _options(self, k: int, idx: int) -> list[tuple[bool, dict[str, Any]]]:
        """Rule ``k``'s choices: fire or not, each with a filling of its own facts."""
        split = self.splits.get((k, idx))
        if split is None:
            facts, values = self.facts, self.values
            split = self.splits[(k, idx)] = ([i for i in self.fact_idx[k] if i < idx],
                                             [facts[i] for i in self.fact_idx[k] if i >= idx],
                                             [values[i] for i in self.fact_idx[k] if i >= idx])
        shared, own_facts, own_values = split
        # The rule's options depend only on the shared facts it reads (all of them assigned: a
        # fact an open rule reads is never skipped): search once per setting of them.
        pick = self.pick
        memo_key = (k, tuple([pick[i] for i in shared]))
        options = self.searched.get(memo_key)
        if options is None:
            options = self.searched[memo_key] = [
                (fire, w) for fire in (False, True)
                if (w := search(self.evals[k], self.assign, own_facts, own_values, fire, self.budget)) is not None]
        return options

    def _leaf(self, idx: int, still: list[int]) -> None:
        """Every shared fact is set: each open rule's remaining facts are its own, so the rules
        choose independently between firing and not (whichever their own facts can reach).

        The facts left from ``idx`` on are each read by one rule only, so the rules' own
        fillings share no fact with each other or with the assignment: a combination's filling
        has the sum of their sizes, and is built only when it is kept."""
        w0 = {f: v for f, v in self.assign.items() if v is not UNKNOWN}
        truths = self.truths
        fired_now = 0
        for k in range(len(self.rules)):
            if truths[k] is True:
                fired_now |= 1 << k
        # (rules firing, size of the filling, the rules' own fillings in order)
        combos: list[tuple[int, int, tuple[dict[str, Any], ...]]] = [(fired_now, len(w0), ())]
        for k in still:
            options = self._options(k, idx)
            bit = 1 << k
            combos = [(fr | bit if fire else fr, size + len(w), (*parts, w))
                      for fr, size, parts in combos for fire, w in options]
            if len(combos) > 64:
                raise TooBig
        reach = self.reach
        outcome_of = self.outcome_of
        for fr, size, parts in combos:
            o = outcome_of.get(fr)
            if o is None:
                o = outcome_of[fr] = outcome((self.rules[i] for i in range(len(self.rules)) if fr >> i & 1), self.n)
            if o not in reach or size < len(reach[o] or {}):
                filling = dict(w0)
                for w in parts:
                    filling.update(w)
                reach[o] = filling
        for k in still:
            truths[k] = None


def explore(facts: list[str], uses: dict[str, int], values: list[list[Any]], exact: bool,
            facts_of: list[set[str]], residuals: list[Residual], evals: list[Evaluator], rules: list[RuleInfo],
            n: int, budget: list[int]) -> Group:
    """Every outcome the fillings of one group's facts reach (``values``: what to try for each
    fact, ``UNKNOWN`` first; ``exact``: whether they cover every class), or the sound fallback
    when the budget runs out."""
    if len(rules) == 1:
        return single(facts, values, residuals[0], evals[0], rules, n, exact, budget)
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
        return Group({known: {}, outcome((), n): None, outcome(rules, n): None}, False, overran=True)
    return Group(explorer.reach, exact)


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


def single(facts: list[str], values: list[list[Any]], res: Residual, ev: Evaluator,
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
    return Group(reach, ok, overran)
