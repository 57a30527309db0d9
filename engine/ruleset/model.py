"""Typed rulesets: plain frozen dataclasses built by ``engine.ruleset.load`` after
schema and semantic validation, and the level/severity orders.

The output models (``Assessment``, ``Finding`` …) live in ``engine.assessment.result``;
they are re-exported here lazily so that importing this module stays cheap
(pydantic is only loaded by the code paths that need the models).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from engine.lang.conditions import Condition, Path
from engine.scale import DIMENSIONS as DIMENSION_NAMES
from engine.scale import LEVEL_ORDER, SEVERITY_ORDER, Dimension, Level, Severity

__all__ = ["DIMENSION_NAMES", "LEVEL_ORDER", "SEVERITY_ORDER", "Dimension", "Level", "Severity"]


# --------------------------------------------------------------------------- rulesets


@dataclass(frozen=True)
class Citation:
    """A source a rule rests on, with its confidence mark."""

    instrument: str
    confidence: str
    article: str | None = None
    url: str | None = None
    date: str | None = None
    note: str | None = None
    # The instrument's title in each other language it has one in (``zh``: its official Chinese title).
    # Pairs, not a dict: a citation stays hashable.
    titles: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"instrument": self.instrument, "article": self.article, "url": self.url, "date": self.date,
                "confidence": self.confidence, "note": self.note}


@dataclass(frozen=True)
class Window:
    """The dates a rule is in force, ISO text, both ends included; no end: still in force."""

    effective_from: str
    effective_to: str | None

    def contains(self, day: str) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


@dataclass(frozen=True, eq=False)
class Rule:
    """One validated rule, its condition in negation normal form."""

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
    # The condition as written, with its named conditions ({ref: name}) and parameters
    # ({param: name}) unexpanded: for the generated docs. None when it has neither.
    source_when: dict[str, Any] | None = None
    # The rule's text in each other language the ruleset gives (``zh``): title, message,
    # remediation, would_change and duty ({obligation, deadline}), as far as the rule has them.
    texts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def window_for(self, scenario: str | None) -> Window:
        if scenario and scenario in self.scenarios:
            return self.scenarios[scenario]
        return self.window

    def in_force(self, day: str, scenario: str | None = None) -> bool:
        return self.window_for(scenario).contains(day)


@dataclass(frozen=True)
class Parameter:
    """A dated parameter: ``values`` are (ISO date, value) pairs, oldest first; a value holds until the next."""

    name: str
    values: tuple[tuple[str, Any], ...]
    description: str | None = None
    unit: str | None = None
    source: str | None = None

    def at(self, day: str) -> Any:
        """The value in force on ``day`` (ISO), or None before the first date."""
        found = None
        for start, value in self.values:
            if start <= day:
                found = value
        return found


@dataclass(frozen=True)
class TierScheme:
    """A tier scheme (e.g. the EU AI Act tiers): its tiers in order and the default."""

    name: str
    title: str
    order: tuple[str, ...]
    default: str
    binding: bool


@dataclass(frozen=True)
class DimensionPolicy:
    """How a dimension's score becomes a level."""

    dimension: str
    thresholds: dict[str, float]  # level -> minimum score
    severity_floor: bool
    key_facts: tuple[str, ...]
    ruleset_id: str


@dataclass(frozen=True)
class Scenario:
    """An alternative date set a ruleset declares (e.g. a proposal not yet law)."""

    name: str
    title: str
    basis: str


@dataclass(frozen=True, eq=False)
class Ruleset:
    """One validated ruleset file."""

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
    # Named conditions as written (``define:``) and dated parameters, for the generated docs;
    # rules hold them expanded. ``sources`` is the shared sources file the rules cite, if any.
    definitions: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Parameter] = field(default_factory=dict)
    sources: str | None = None
    # The languages the ruleset declares (``languages:``; English alone when it declares none) and
    # its header's text in each other language: {lang: {"title", "description", "tiers": {name: title}}}.
    languages: tuple[str, ...] = ("en",)
    texts: dict[str, dict[str, Any]] = field(default_factory=dict)

    @cached_property
    def variant_ids(self) -> frozenset[str]:
        """Ids of the rules loaded as several dated variants (a parameter changes in their window)."""
        seen: set[str] = set()
        twice: set[str] = set()
        for rule in self.rules:
            (twice if rule.id in seen else seen).add(rule.id)
        return frozenset(twice)


@dataclass(frozen=True, eq=False)
class RuleSet:
    """Several rulesets loaded together (what an assessment runs against)."""

    rulesets: tuple[Ruleset, ...]
    cache_key: str = ""  # content key of the files it came from (engine.source.cache); "" when built in memory
    # The language of the rules' text (engine.ruleset.translate.in_language), which results carry.
    lang: str = "en"
    rules: tuple[Rule, ...] = field(init=False)
    by_id: dict[str, Rule] = field(init=False)
    tiers: dict[str, TierScheme] = field(init=False)
    dimensions: dict[str, DimensionPolicy] = field(init=False)
    scenarios: dict[str, Scenario] = field(init=False)
    input: str = field(init=False)

    def __post_init__(self) -> None:
        rules = tuple(r for rs in self.rulesets for r in rs.rules)
        object.__setattr__(self, "rules", rules)
        by_id: dict[str, Rule] = {}
        for r in rules:
            by_id.setdefault(r.id, r)  # a rule's first dated variant (each variant is in ``rules``)
        object.__setattr__(self, "by_id", by_id)
        object.__setattr__(self, "tiers", {k: v for rs in self.rulesets for k, v in rs.tiers.items()})
        object.__setattr__(self, "dimensions", {k: v for rs in self.rulesets for k, v in rs.dimensions.items()})
        object.__setattr__(self, "scenarios", {k: v for rs in self.rulesets for k, v in rs.scenarios.items()})
        inputs = {rs.input for rs in self.rulesets}
        object.__setattr__(self, "input", inputs.pop() if len(inputs) == 1 else "mixed")




_OUTPUT_MODELS = {
    "Evidence", "CitationOut", "EffectiveWindow", "Duty", "Finding", "NeedsInformation", "TierResult",
    "NotAssessed", "DimensionResult", "DecisiveUnknown", "RangeFillings", "Coverage", "Bounds",
    "RulesetProvenance", "Provenance", "Assessment",
}


def __getattr__(name: str) -> Any:
    if name in _OUTPUT_MODELS:
        from engine.assessment import result as assessment

        return getattr(assessment, name)
    raise AttributeError(f"module 'engine.ruleset.model' has no attribute {name!r}")
