"""Findings: what a fired rule reports, with its evidence, texts and citations.

``RuleParts`` keeps what depends only on a rule (its compiled condition, its citations);
``general_finding`` builds a finding from the reference evaluator's outcome, the path every
other way of building one is held to (engine.assessment.plan gives the same, faster).
"""

from __future__ import annotations

from typing import Any

from engine.assessment.shape import DUTY, EFFECTIVE_WINDOW, FINDING, shaped
from engine.errors import EngineError, Problem
from engine.lang import conditions as C
from engine.lang.template import render_template
from engine.ruleset.model import Rule, Window


class RuleParts:
    """Per-process memo of each rule's compiled condition and citation dicts (by rule object: the
    dated variants of one rule share its id, not its thresholds)."""

    def __init__(self) -> None:
        self._compiled: dict[Rule, C.Compiled] = {}
        self._cites: dict[Rule, list[dict[str, Any]]] = {}

    def compiled(self, rule: Rule) -> C.Compiled:
        """The rule's condition compiled to closures (same results as ``conditions.evaluate``)."""
        found = self._compiled.get(rule)
        if found is None:
            found = self._compiled[rule] = C.Compiled(rule.condition)
        return found

    def citations(self, rule: Rule) -> list[dict[str, Any]]:
        """The rule's citations as output dicts (shared: copy before handing out)."""
        found = self._cites.get(rule)
        if found is None:
            found = self._cites[rule] = [c.as_dict() for c in rule.citations]
        return found


def finding_fields(rule: Rule, window: Window, citations: list[dict[str, Any]], message: str | None,
                   evidence: list[dict[str, Any]] | None, remediation: str | None,
                   would_change: str | None) -> dict[str, Any]:
    """A finding as the assessment reports it (fresh containers for the rule's own fields)."""
    duty = (shaped(DUTY, jurisdiction=rule.duty["jurisdiction"], obligation=rule.duty["obligation"],
                   deadline=rule.duty.get("deadline")) if rule.duty else None)
    return shaped(
        FINDING, rule_id=rule.id, ruleset=rule.ruleset_id, dimension=rule.dimension, severity=rule.severity,
        points=rule.points, basis=rule.basis, title=rule.title, message=message, evidence=evidence,
        citations=[dict(c) for c in citations], remediation=remediation, would_change=would_change,
        effective=shaped(EFFECTIVE_WINDOW, effective_from=window.effective_from, effective_to=window.effective_to),
        tier=dict(rule.tier), duty=duty, tags=list(rule.tags), waived=None)


def static_fields(rule: Rule, scenario: str | None, parts: RuleParts) -> dict[str, Any]:
    """The fields of a rule's finding that do not depend on the case: evidence None, and each of
    message, remediation and would-change None when it names a fact (else its text)."""
    def fixed(text: str | None) -> str | None:
        return None if not text or "{" in text else render_text(text, {}, {})

    return finding_fields(rule, rule.window_for(scenario), parts.citations(rule),
                          None if "{" in rule.message else render_text(rule.message, {}, {}), None,
                          fixed(rule.remediation), fixed(rule.would_change))


def general_finding(rule: Rule, view: dict[str, Any], scenario: str | None, parts: RuleParts) -> dict[str, Any]:
    """The finding of a fired rule from the reference evaluator; EngineError ``engine_disagreement``
    when the evaluator does not find the rule's condition true (the matching core fired it)."""
    outcome = parts.compiled(rule).evaluate(view)
    if outcome.truth is not True:
        raise EngineError(Problem(
            message=f"the matching core fired {rule.id} but the reference evaluator finds its condition "
                    f"{'unknown' if outcome.truth is None else 'false'}; this is an engine bug",
            file=rule.file, line=rule.line, code="engine_disagreement"))
    return finding_fields(rule, rule.window_for(scenario), parts.citations(rule),
                          render_text(rule.message, view, outcome.items), outcome.evidence,
                          render_text(rule.remediation, view, outcome.items) if rule.remediation else None,
                          render_text(rule.would_change, view, outcome.items) if rule.would_change else None)


_STATIC_TEXT: dict[str, str] = {}


def render_text(template: str, view: dict[str, Any], items: dict[str, list[int]]) -> str:
    """``render_template``, with texts that have no placeholder rendered once per process."""
    text = _STATIC_TEXT.get(template)
    if text is not None:
        return text
    if "{" in template:
        return render_template(template, view, items)
    text = " ".join(template.split())  # what render_template does to a text without placeholders
    if len(_STATIC_TEXT) < 100_000:
        _STATIC_TEXT[template] = text
    return text
