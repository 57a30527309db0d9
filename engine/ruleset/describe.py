"""One rule described as plain data: what ``airisk rules show`` prints and what a batch run's rule
catalogue (engine.batch.catalog) holds for each rule."""

from __future__ import annotations

from typing import Any

from engine.ruleset.model import Rule


def describe(rule: Rule) -> dict[str, Any]:
    """Everything about one dated variant of a rule: ``when`` as matched, ``as_written`` with its
    named conditions and parameters by name when it uses any, its texts and citations. Keys whose
    value is None are left out."""
    data = {
        "id": rule.id, "title": rule.title, "ruleset": rule.ruleset_id, "file": f"{rule.file}:{rule.line}",
        "dimension": rule.dimension, "severity": rule.severity, "points": rule.points, "basis": rule.basis,
        "effective_from": rule.window.effective_from, "effective_to": rule.window.effective_to,
        "scenarios": {k: {"effective_from": w.effective_from, "effective_to": w.effective_to}
                      for k, w in rule.scenarios.items()} or None,
        "as_written": rule.source_when,
        "when": rule.raw_when, "message": rule.message, "remediation": rule.remediation,
        "would_change": rule.would_change, "tier": rule.tier or None, "duty": rule.duty,
        "tags": list(rule.tags) or None,
        "citations": [{k: v for k, v in c.as_dict().items() if v is not None} for c in rule.citations],
    }
    return {k: v for k, v in data.items() if v is not None}
