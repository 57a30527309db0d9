"""The table tests' model: a table, its tests and what each expects, their results and coverage
(engine.authoring.tableload reads tables, engine.authoring.tabletests runs them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import Problem
from engine.source.safeyaml import Document

TABLE_SUFFIX = ".tests.yaml"


@dataclass(frozen=True)
class Expect:
    """What a test requires of an assessment."""

    fires: tuple[str, ...] = ()
    silent: tuple[str, ...] = ()
    needs_information: tuple[str, ...] = ()
    level: dict[str, str] = field(default_factory=dict)
    tier: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleTest:
    """One row of a test table, with its case already built (``set`` applied)."""

    name: str
    file: str
    line: int | None
    ruleset: str
    case: Any
    case_file: str | None
    as_of: str | None
    scenario: str | None
    expect: Expect
    doc: Document | None = None  # positions for an inline case

    @property
    def location(self) -> str:
        """``file:line`` of the test's entry in its table."""
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    @property
    def test_id(self) -> str:
        """A stable identifier: ``file::name``."""
        return f"{self.file}::{self.name}"


@dataclass
class RuleTable:
    """One ``*.tests.yaml`` file."""

    file: str
    path: Path
    ruleset: str
    tests: list[RuleTest]


@dataclass
class RuleTestResult:
    """The outcome of one test: failures (expectations that did not hold) or an error."""

    test: RuleTest
    failures: list[str] = field(default_factory=list)
    error: str | None = None
    proven_fires: set[str] = field(default_factory=set)
    proven_silent: set[str] = field(default_factory=set)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """True when every expectation held and nothing went wrong."""
        return not self.failures and self.error is None


@dataclass
class RuleCoverage:
    """Which tests proved a rule fires and which proved it stays silent."""

    rule_id: str
    ruleset: str
    fired_by: list[str] = field(default_factory=list)
    silent_by: list[str] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return bool(self.fired_by) and bool(self.silent_by)


@dataclass
class Report:
    """Everything ``airisk test`` prints: results, table problems and coverage."""

    results: list[RuleTestResult]
    problems: list[Problem]
    coverage: list[RuleCoverage]
    tables: list[RuleTable]

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.passed)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if r.failures and r.error is None)

    @property
    def errors(self) -> int:
        return sum(1 for r in self.results if r.error is not None)

    @property
    def ok(self) -> bool:
        """No failure, no error, no malformed table."""
        return not self.problems and all(r.passed for r in self.results)

    def coverage_percent(self, ruleset: str | None = None) -> float:
        """Share of rules (of one ruleset, or all) proven both to fire and to stay silent."""
        rules = [c for c in self.coverage if ruleset is None or c.ruleset == ruleset]
        if not rules:
            return 100.0
        return round(100.0 * sum(1 for c in rules if c.covered) / len(rules), 1)

    def never_fired(self) -> list[str]:
        return [c.rule_id for c in self.coverage if not c.fired_by]

    def never_silent(self) -> list[str]:
        return [c.rule_id for c in self.coverage if not c.silent_by]
