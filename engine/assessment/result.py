"""The assessment output format as pydantic models.

They document the output (``schemas/assessment.schema.json`` is generated from
them) and are what ``engine.assess`` returns. Which fields each has, and in which
order, is defined once in ``engine.assessment.shape``; the models check at import
that they declare exactly those (``conform``), and the pipeline builds its plain
dicts from the same tuples, so ``Assessment.to_json()`` and ``airisk assess
--format json`` give the same bytes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from engine.assessment.shape import OPTIONAL, SHAPES, canonical_json
from engine.lang.i18n import Lang
from engine.scale import Dimension, Level, Severity

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


class Waived(BaseModel):
    """The waiver that covers a finding: accepted risk, by whom, why and until when."""

    model_config = _OUT
    reason: str
    approver: str
    ticket: str | None
    created: str
    expires: str
    rule: str = Field(description="the waiver's rule id or pattern")
    file: str = Field(description="the waiver file")
    line: int | None = Field(description="the waiver's line in that file")


class WaiverFile(BaseModel):
    """The waiver file an assessment applied."""

    model_config = _OUT
    file: str
    sha256: str
    waivers: int = Field(description="waivers in the file")


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
    waived: Waived | None = Field(description="the live waiver that covers this finding (`--waivers`): it stays "
                                               "in the report and does not count toward the level; null otherwise")


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


class DecisiveUnknown(BaseModel):
    """An unknown fact whose value would move a level, and the rules it would fire or silence."""

    model_config = _OUT
    fact: str = Field(description="fact path as the rules read it; list items as name[index].field")
    rules: list[str] = Field(description="undecided rules whose outcome depends on this fact")


class RangeFillings(BaseModel):
    """A filling of unknown facts (fact path -> value) that reaches each end of a range.

    Empty: the facts as given reach it. null: a sound end no filling was found to reach
    (only when ``bounds.exact`` is false)."""

    model_config = _OUT
    best: dict[str, Any] | None
    worst: dict[str, Any] | None


class DimensionResult(BaseModel):
    """How one dimension came out, and why."""

    model_config = _OUT
    assessed: bool = Field(description="false when none of the dimension's rules applies to this case")
    level: Level | None = Field(description="the level on the facts given; null when not assessed (never 'low')")
    level_range: list[Level] | None = Field(
        min_length=2, max_length=2,
        description="[best, worst]: the levels every way the unknown facts could turn out would give "
                    "(each left unknown or given any value); null when not assessed")
    score: float = Field(ge=0, le=100)
    findings: int
    drivers: list[str] = Field(description="rule ids that set the level, most severe first")
    confidence: float = Field(ge=0, le=1, description="share of the dimension's key facts present")
    missing_facts: list[str]
    decisive_unknowns: list[DecisiveUnknown] = Field(description="unknown facts whose value would move the level")
    range_fillings: RangeFillings | None = Field(description="fillings that reach each end of level_range")
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
    waivers: WaiverFile | None = Field(description="the waiver file applied (`--waivers`), with its SHA-256; null "
                                                   "when none")


class Coverage(BaseModel):
    """Which dimensions the overall rating covers."""

    model_config = _OUT
    assessed: list[Dimension]
    not_assessed: list[Dimension]


class Bounds(BaseModel):
    """How the ranges were found."""

    model_config = _OUT
    exact: bool = Field(description="true when every class of value of every unknown fact was tried, so both "
                                    "ends are reached by a filling; false: the range is a sound over-approximation")
    range_fillings: RangeFillings | None = Field(description="fillings that reach each end of rating_range")


class UpcomingMove(BaseModel):
    """A dimension whose level or range changes on an upcoming day."""

    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)
    dimension: Dimension
    from_: Level | None = Field(alias="from", description="the level before (null: not assessed)")
    to: Level | None = Field(description="the level from that day (null: not assessed)")
    from_range: list[Level] | None
    to_range: list[Level] | None


class UpcomingRule(BaseModel):
    """A finding that appears or disappears on an upcoming day."""

    model_config = _OUT
    rule_id: str
    dimension: Dimension
    severity: Severity
    title: str


class Upcoming(BaseModel):
    """A day within the horizon on which this case's assessment changes (the rules in force change)."""

    model_config = _OUT
    date: str = Field(description="the first day of the new assessment (YYYY-MM-DD)")
    rating: Level | None = Field(description="the rating from that day")
    rating_range: list[Level] | None
    moves: list[UpcomingMove] = Field(description="the dimensions whose level or range changes")
    appeared: list[UpcomingRule] = Field(description="findings from that day")
    disappeared: list[UpcomingRule] = Field(description="findings no longer made from that day")
    text: str = Field(description="one line: `2027-12-02: safety becomes high (EUA-010, ...)`")


class Assessment(BaseModel):
    """The explained risk rating of one case."""

    model_config = _OUT
    case_id: str
    case_name: str | None
    kind: str | None
    lang: Lang = Field(description="the language the text of this result is in (titles, messages, remediations, "
                                   "explanation): en or zh; rule ids, fact paths and level values are never translated")
    rating: Level | None = Field(description="the highest level of the assessed dimensions on the facts given; "
                                             "null when no dimension is assessed")
    rating_range: list[Level] | None = Field(
        min_length=2, max_length=2, description="[best, worst] of the rating over the unknown facts")
    decisive_unknowns: list[DecisiveUnknown] = Field(description="unknown facts whose value would move the rating")
    coverage: Coverage
    bounds: Bounds
    explanation: str
    upcoming: list[Upcoming] | None = Field(
        None, description="with `airisk assess --horizon DAYS` (default 365; the library's "
                          "`assess_documents(horizon=)`): the changes due in the next DAYS days, in date order; "
                          "absent otherwise (batch records carry none)")
    dimensions: dict[str, DimensionResult]
    findings: list[Finding]
    needs_information: list[NeedsInformation]
    derived: dict[str, Any] = Field(description="facts the engine computed before matching")
    provenance: Provenance
    what_if: dict[str, Any] | None = Field(
        None, description="with `airisk assess --set`: the overrides and what changed from the unmodified case "
                          "(rating, rating_range, per dimension level/level_range/score, rules now fired, now "
                          "silent, now decided, now needing information); null otherwise")

    @model_serializer(mode="wrap")
    def _without_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """``upcoming`` only when it was given (a result without a horizon keeps its bytes)."""
        out: dict[str, Any] = handler(self)
        if out.get("upcoming") is None:
            out.pop("upcoming", None)
        return out

    def to_json(self) -> bytes:
        """The canonical JSON bytes (identical to the CLI's ``--format json``)."""
        return canonical_json(self.model_dump(mode="json"))


def conform(models: dict[str, type[BaseModel]], shapes: dict[str, tuple[str, ...]]) -> None:
    """Raise TypeError unless each model declares exactly its shape's fields, in order, and every
    shape has a model."""
    if set(models) != set(shapes):
        raise TypeError(f"output models {sorted(models)} and shapes {sorted(shapes)} differ")
    for name, model in models.items():
        declared = tuple((f.alias or k) for k, f in model.model_fields.items() if k not in OPTIONAL.get(name, {}))
        if declared != shapes[name]:
            raise TypeError(f"{name} declares {declared}; engine.assessment.shape has {shapes[name]}")


MODELS: dict[str, type[BaseModel]] = {
    "Evidence": Evidence, "CitationOut": CitationOut, "EffectiveWindow": EffectiveWindow, "Duty": Duty,
    "Finding": Finding, "NeedsInformation": NeedsInformation, "TierResult": TierResult, "NotAssessed": NotAssessed,
    "DecisiveUnknown": DecisiveUnknown, "RangeFillings": RangeFillings, "DimensionResult": DimensionResult,
    "RulesetProvenance": RulesetProvenance, "Provenance": Provenance, "Waived": Waived, "WaiverFile": WaiverFile,
    "Coverage": Coverage, "Bounds": Bounds,
    "Assessment": Assessment, "Upcoming": Upcoming, "UpcomingMove": UpcomingMove, "UpcomingRule": UpcomingRule,
}
"""Each output model by name (the names of engine.assessment.shape.SHAPES)."""
conform(MODELS, SHAPES)
