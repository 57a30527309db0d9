"""The days on which what a case is assessed against can change: the days of change of a set of rules.

A rule in force from ``effective_from`` to ``effective_to`` (both included) changes the rules in
force on its first day and on the day after its last; a dated parameter does too, through the
dated variants it cuts its rules into (``engine.ruleset.parameters``); a scenario's windows are the
rule's windows under that scenario; and a country's membership of an EAR country group (dated per
member in ``rulesets/data/country-groups.yaml``, read when facts are derived) changes on its first
day and on the day after its last. Between two consecutive days of change every assessment is the
same, so a case's history is known from its assessment on each of them.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from engine.ruleset.model import Rule, RuleSet, Window

__all__ = ["Calendar", "Changes", "change_days", "day_after", "day_before", "edge_days", "group_days", "rule_days"]


def day_after(day: str) -> str:
    """The ISO day after ``day``."""
    return (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()


def day_before(day: str) -> str:
    """The ISO day before ``day``."""
    return (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()


def _window_days(window: Window) -> Iterable[str]:
    yield window.effective_from
    if window.effective_to is not None:
        yield day_after(window.effective_to)


def rule_days(rules: Iterable[Rule], scenario: str | None = None) -> set[str]:
    """Every day on which a rule starts to be in force or stops (the day after its last), under
    ``scenario`` (None: the rules' own windows; every scenario's windows too when ``scenario`` is
    ``"*"``)."""
    days: set[str] = set()
    for rule in rules:
        if scenario == "*":
            for window in (rule.window, *rule.scenarios.values()):
                days.update(_window_days(window))
        else:
            days.update(_window_days(rule.window_for(scenario)))
    return days


def group_days() -> set[str]:
    """Every day on which a country joins or leaves an EAR country group, or starts or stops being
    read as another (Hong Kong as China)."""
    from engine.source.tables import country_groups

    groups = country_groups()
    days: set[str] = set()
    members = [m for ms in groups.members.values() for m in ms] + [m for m, _ in groups.treated_as]
    for member in members:
        days.add(member.start)
        if member.end is not None:
            days.add(day_after(member.end))
    return days


def change_days(rules: RuleSet, scenario: str | None = None, *, groups: bool = True) -> list[str]:
    """The days of change of ``rules`` (``rule_days``) and, with ``groups``, of the country-group
    table (``group_days``), sorted."""
    days = rule_days(rules.rules, scenario)
    if groups:
        days |= group_days()
    return sorted(days)


@dataclass(frozen=True)
class Changes:
    """What changes on one day of change: the rules (their dated variants) that start and that stop
    being in force, and whether the country-group table changes."""

    day: str
    starting: tuple[Rule, ...]
    ending: tuple[Rule, ...]
    groups: bool

    @property
    def rule_ids(self) -> list[str]:
        """The ids of the rules that start or stop, sorted, each once."""
        return sorted({r.id for r in (*self.starting, *self.ending)})


class Calendar:
    """The days of change of a RuleSet under a scenario, and what changes on each (built once)."""

    def __init__(self, rules: RuleSet, scenario: str | None = None) -> None:
        self.rules = rules
        self.scenario = scenario
        self._groups = group_days() if rules.input == "case" else set()
        self.days = sorted(rule_days(rules.rules, scenario) | self._groups)
        starting: dict[str, list[Rule]] = {}
        ending: dict[str, list[Rule]] = {}
        for rule in rules.rules:
            window = rule.window_for(scenario)
            starting.setdefault(window.effective_from, []).append(rule)
            if window.effective_to is not None:
                ending.setdefault(day_after(window.effective_to), []).append(rule)
        self._changes = {d: Changes(d, tuple(starting.get(d, ())), tuple(ending.get(d, ())), d in self._groups)
                         for d in self.days}

    def between(self, after: str, until: str) -> list[Changes]:
        """The changes on the days of change ``d`` with ``after < d <= until``, in order."""
        lo = bisect.bisect_right(self.days, after)
        hi = bisect.bisect_right(self.days, until)
        return [self._changes[d] for d in self.days[lo:hi]]


def edge_days(rules: Iterable[Rule]) -> list[str]:
    """Every day a rule's window (its own or a scenario's) starts or ends on, and the days either
    side: where an as-of date picking the wrong rule, variant or parameter value shows first. For
    checks that every day near a change gives the same output before and after a refactoring
    (``benchmarks/output_digest.py``)."""
    days: set[str] = set()
    for rule in rules:
        for window in (rule.window, *rule.scenarios.values()):
            for edge in (window.effective_from, window.effective_to):
                if edge is not None:
                    days.update((day_before(edge), edge, day_after(edge)))
    return sorted(days)
