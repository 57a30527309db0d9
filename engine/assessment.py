"""The assessment output format as pydantic models.

They document the output (``schemas/assessment.schema.json`` is generated from
them) and are what ``engine.assess`` returns. The pipeline builds the same
structure as plain dicts, in the same field order, so ``Assessment.to_json()``
and ``airisk assess --format json`` give the same bytes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.models import Dimension, Level, Severity

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
    assessed: bool = Field(description="false when none of the dimension's rules applies to this case")
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
