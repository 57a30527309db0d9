"""Scope: which rules in force apply to a case (its kind, the sections it describes)."""

from __future__ import annotations

from typing import Any

from engine.assessment.shape import NOT_ASSESSED, shaped
from engine.lang import conditions as C
from engine.ruleset.model import Rule

Scope = tuple[set[str], dict[str, dict[str, Any]], dict[str, int]]


def out_of_scope(active: tuple[Rule, ...], view: dict[str, Any], kind: str | None) -> Scope:
    """Rules that do not apply to this case: wrong kind, or a required section is absent.

    Returns their ids and, per dimension, how many rules went unassessed for want of
    which sections (a case about a chatbot is not "missing" its accelerators), and how
    many rules of each dimension do apply."""
    out: set[str] = set()
    applicable: dict[str, int] = {}
    summary: dict[str, dict[str, Any]] = {}
    absent: dict[C.Path, bool] = {}
    for rule in active:
        if kind and kind not in rule.applies_to:
            out.add(rule.id)
            continue
        missing = []
        for path in rule.requires:
            if path not in absent:
                absent[path] = C.is_missing(C.lookup(view, path))
            if absent[path]:
                missing.append(".".join(path))
        if missing:
            out.add(rule.id)
            entry = summary.setdefault(rule.dimension, {"rules": 0, "missing_sections": set()})
            entry["rules"] += 1
            entry["missing_sections"].update(missing)
        else:
            applicable[rule.dimension] = applicable.get(rule.dimension, 0) + 1
    return out, {dim: shaped(NOT_ASSESSED, rules=e["rules"], missing_sections=sorted(e["missing_sections"]))
                 for dim, e in summary.items()}, applicable
