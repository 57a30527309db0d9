"""Typed rulesets (input) and assessments (output).

Rulesets are plain frozen dataclasses built by ``engine.rules`` after schema
and semantic validation. Assessments are pydantic models: they document the
output format (``schemas/assessment.schema.json`` is generated from them) and
are what ``engine.assess`` returns. The batch path builds the same structure
as plain dicts, in the same field order, so both serialise to the same bytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.conditions import Condition, Path

Level = Literal["low", "medium", "high", "critical"]
Severity = Literal["info", "low", "medium", "high", "critical"]
Dimension = Literal["safety", "export_control", "overcapacity"]

LEVEL_ORDER: dict[str, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}
SEVERITY_ORDER: dict[str, int] = {"info": -1, "low": 0, "medium": 1, "high": 2, "critical": 3}
DIMENSION_NAMES: tuple[Dimension, ...] = ("safety", "export_control", "overcapacity")


# --------------------------------------------------------------------------- rulesets


@dataclass(frozen=True)
class Citation:
    instrument: str
    confidence: str
    article: str | None = None
    url: str | None = None
    date: str | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"instrument": self.instrument, "article": self.article, "url": self.url, "date": self.date,
                "confidence": self.confidence, "note": self.note}


@dataclass(frozen=True)
class Window:
    effective_from: str
    effective_to: str | None

    def contains(self, day: str) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


@dataclass(frozen=True, eq=False)
class Rule:
    id: str
    title: str
    dimension: str
    severity: str
    points: float
    basis: str
    window: Window
    scenarios: dict[str, Window]
    applies_to: tuple[str, ...]
    requires: tuple[Path, ...]  # case sections the rule is about; absent → out of scope
    condition: Condition  # in negation normal form
    raw_when: dict[str, Any]
    message: str
    remediation: str | None
    would_change: str | None
    tier: dict[str, str]
    duty: dict[str, str] | None
    tags: tuple[str, ...]
    citations: tuple[Citation, ...]
    ruleset_id: str
    case_paths: frozenset[Path]
    item_paths: dict[Path, frozenset[Path]]
    file: str
    line: int | None

    def window_for(self, scenario: str | None) -> Window:
        if scenario and scenario in self.scenarios:
            return self.scenarios[scenario]
        return self.window

    def in_force(self, day: str, scenario: str | None = None) -> bool:
        return self.window_for(scenario).contains(day)


@dataclass(frozen=True)
class TierScheme:
    name: str
    title: str
    order: tuple[str, ...]
    default: str
    binding: bool


@dataclass(frozen=True)
class DimensionPolicy:
    dimension: str
    thresholds: dict[str, float]  # level -> minimum score
    severity_floor: bool
    key_facts: tuple[str, ...]
    ruleset_id: str


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    basis: str


@dataclass(frozen=True, eq=False)
class Ruleset:
    id: str
    version: str
    title: str
    input: str
    sha256: str
    file: str
    rules: tuple[Rule, ...]
    tiers: dict[str, TierScheme]
    dimensions: dict[str, DimensionPolicy]
    scenarios: dict[str, Scenario]


@dataclass(frozen=True, eq=False)
class RuleSet:
    """Several rulesets loaded together (what an assessment runs against)."""

    rulesets: tuple[Ruleset, ...]
    cache_key: str = ""  # content key of the files it came from (engine.cache); "" when built in memory
    rules: tuple[Rule, ...] = field(init=False)
    by_id: dict[str, Rule] = field(init=False)
    tiers: dict[str, TierScheme] = field(init=False)
    dimensions: dict[str, DimensionPolicy] = field(init=False)
    scenarios: dict[str, Scenario] = field(init=False)
    input: str = field(init=False)

    def __post_init__(self) -> None:
        rules = tuple(r for rs in self.rulesets for r in rs.rules)
        object.__setattr__(self, "rules", rules)
        object.__setattr__(self, "by_id", {r.id: r for r in rules})
        object.__setattr__(self, "tiers", {k: v for rs in self.rulesets for k, v in rs.tiers.items()})
        object.__setattr__(self, "dimensions", {k: v for rs in self.rulesets for k, v in rs.dimensions.items()})
        object.__setattr__(self, "scenarios", {k: v for rs in self.rulesets for k, v in rs.scenarios.items()})
        inputs = {rs.input for rs in self.rulesets}
        object.__setattr__(self, "input", inputs.pop() if len(inputs) == 1 else "mixed")


# --------------------------------------------------------------------------- assessments

_OUT = ConfigDict(extra="forbid")


class Evidence(BaseModel):
    """One condition that held: the fact, the operator, the threshold and what the case had."""

    model_config = _OUT
    fact: str = Field(description="fact path; list items as name[index].field")
    op: str
    value: Any = Field(description="the rule's threshold or literal")
    actual: Any = Field(description="the case's value (null for a fact that `exists: false` found absent)")


class CitationOut(BaseModel):
    model_config = _OUT
    instrument: str
    article: str | None
    url: str | None
    date: str | None
    confidence: str
    note: str | None


class EffectiveWindow(BaseModel):
    model_config = _OUT
    effective_from: str
    effective_to: str | None


class Duty(BaseModel):
    model_config = _OUT
    jurisdiction: str
    obligation: str
    deadline: str | None


class Finding(BaseModel):
    """A rule that fired, with everything needed to defend it."""

    model_config = _OUT
    rule_id: str
    ruleset: str
    dimension: Dimension
    severity: Severity
    points: float
    basis: Literal["binding", "advisory", "heuristic"]
    title: str
    message: str
    evidence: list[Evidence]
    citations: list[CitationOut]
    remediation: str | None
    would_change: str | None
    effective: EffectiveWindow
    tier: dict[str, str]
    duty: Duty | None
    tags: list[str]


class NeedsInformation(BaseModel):
    """A rule in force that could not be decided because facts were missing."""

    model_config = _OUT
    rule_id: str
    dimension: Dimension
    title: str
    missing: list[str]


class TierResult(BaseModel):
    model_config = _OUT
    title: str
    tier: str
    binding: bool
    rules: list[str] = Field(description="rules that placed the case in this tier (empty for the default)")


class NotAssessed(BaseModel):
    """Rules in force that did not apply because the case does not describe what they are about."""

    model_config = _OUT
    rules: int
    missing_sections: list[str] = Field(description="case sections absent from the case, e.g. ai_system")


class DimensionResult(BaseModel):
    """How one dimension came out, and why."""

    model_config = _OUT
    level: Level
    score: float = Field(ge=0, le=100)
    findings: int
    drivers: list[str] = Field(description="rule ids that set the level, most severe first")
    confidence: float = Field(ge=0, le=1, description="share of the dimension's key facts present")
    missing_facts: list[str]
    tiers: dict[str, TierResult]
    duties: list[Duty]
    not_assessed: NotAssessed


class RulesetProvenance(BaseModel):
    model_config = _OUT
    id: str
    version: str
    sha256: str
    rules: int
    rules_in_force: int


class Provenance(BaseModel):
    model_config = _OUT
    engine_version: str
    as_of: str
    scenario: str | None
    rulesets: list[RulesetProvenance]


class Assessment(BaseModel):
    """The explained risk rating of one case."""

    model_config = _OUT
    case_id: str
    case_name: str | None
    kind: str | None
    rating: Level
    explanation: str
    dimensions: dict[str, DimensionResult]
    findings: list[Finding]
    needs_information: list[NeedsInformation]
    derived: dict[str, Any] = Field(description="facts the engine computed before matching")
    provenance: Provenance

    def to_json(self) -> bytes:
        """The canonical JSON bytes (identical to the CLI's ``--format json``)."""
        from engine.render import render_json

        return render_json(self.model_dump(mode="json"))


def today() -> dt.date:
    return dt.date.today()
