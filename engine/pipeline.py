"""The assessment pipeline: case → derived facts → match → explain → score.

Data flows one way. ``Engine`` holds the loaded rules and, per as-of date and
scenario, the compiled matcher for the rules in force (compiled once per
process and reused for every case).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Mapping
from functools import lru_cache
from typing import Any

from engine import conditions as C
from engine.case import Case
from engine.compiler import compile_rules
from engine.derive import build_view
from engine.errors import EngineError, InputError, Problem
from engine.matcher import Matcher
from engine.models import Rule, RuleSet
from engine.scoring import overall, score_dimensions
from engine.text import render_template
from engine.validation import case_from_data
from engine.version import __version__


def parse_as_of(value: str | dt.date | None) -> str:
    """An as-of date as ISO text; today when None."""
    if value is None:
        return dt.date.today().isoformat()
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise InputError(Problem(message=f"as-of date {value!r} is not YYYY-MM-DD", code="invalid_date")) from None


class Engine:
    """Assesses cases against a set of rules. One per process; not thread-safe."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._matchers: dict[tuple[str, ...], tuple[Matcher, tuple[Rule, ...]]] = {}
        self._titles = {r.id: r.title for r in rules.rules}
        self._tier_dimension: dict[str, str] = {}
        for rule in rules.rules:
            for scheme in rule.tier:
                self._tier_dimension.setdefault(scheme, rule.dimension)
        # Per-process caches: the rules in force per (date, scenario), each rule's condition compiled once.
        self._in_force: dict[tuple[str, str | None], tuple[Rule, ...]] = {}
        self._compiled: dict[str, C.Compiled] = {}

    def in_force(self, as_of: str, scenario: str | None) -> tuple[Rule, ...]:
        found = self._in_force.get((as_of, scenario))
        if found is not None:
            return found
        if scenario is not None and scenario not in self.rules.scenarios:
            raise InputError(Problem(message=f"unknown scenario {scenario!r}", code="unknown_scenario",
                                     hint=f"declared: {', '.join(self.rules.scenarios) or 'none'}"))
        active = tuple(r for r in self.rules.rules if r.in_force(as_of, scenario))
        if len(self._in_force) > 64:
            self._in_force.clear()
        self._in_force[(as_of, scenario)] = active
        return active

    def compiled(self, rule: Rule) -> C.Compiled:
        """The rule's condition compiled to closures (same results as ``conditions.evaluate``)."""
        found = self._compiled.get(rule.id)
        if found is None:
            found = self._compiled[rule.id] = C.Compiled(rule.condition)
        return found

    def matcher(self, active: tuple[Rule, ...]) -> Matcher:
        key = tuple(r.id for r in active)
        if key not in self._matchers:
            if self.rules.cache_key:
                from engine.cache import cached, key_of

                shards = cached("shards", key_of([], self.rules.cache_key, *key), lambda: compile_rules(active))
            else:
                shards = compile_rules(active)
            self._matchers[key] = (Matcher(shards), active)
        return self._matchers[key][0]

    def assess_data(self, data: Mapping[str, Any], *, as_of: str | dt.date | None = None,
                    scenario: str | None = None, file: str | None = None) -> dict[str, Any]:
        """Assess a case given as plain data (validated here) → assessment dict."""
        if self.rules.input == "document":
            if not isinstance(data, Mapping):
                raise InputError(Problem(message="a case must be a JSON object", file=file, code="invalid"))
            view = dict(data)
            meta = {"id": str(data.get("id", data.get("case_id", ""))), "name": data.get("name"),
                    "kind": data.get("kind")}
            return self.assess_view(view, meta, as_of=as_of, scenario=scenario)
        case = case_from_data(data, file=file)
        return self.assess_case(case, as_of=as_of, scenario=scenario)

    def assess_case(self, case: Case, *, as_of: str | dt.date | None = None,
                    scenario: str | None = None) -> dict[str, Any]:
        plain = case.model_dump(mode="json", exclude_none=True)
        view = build_view(plain)
        meta = {"id": case.id, "name": case.name, "kind": case.kind}
        return self.assess_view(view, meta, as_of=as_of, scenario=scenario)

    def assess_view(self, view: dict[str, Any], meta: dict[str, Any], *, as_of: str | dt.date | None,
                    scenario: str | None) -> dict[str, Any]:
        day = parse_as_of(as_of)
        active = self.in_force(day, scenario)
        fired = self.matcher(active).match(view)
        kind = meta.get("kind")
        findings: list[dict[str, Any]] = []
        for rule in active:
            if rule.id not in fired or (kind and kind not in rule.applies_to):
                continue
            findings.append(self._finding(rule, view, scenario))
        unknown = self._needs_information(active, fired, view, kind)
        dims = score_dimensions(self.rules, findings, view, self._tier_dimension)
        rating, explanation = overall(dims, self._titles)
        return {
            "case_id": meta["id"],
            "case_name": meta.get("name"),
            "kind": kind,
            "rating": rating,
            "explanation": explanation,
            "dimensions": dims,
            "findings": findings,
            "needs_information": unknown,
            "derived": _derived_of(view),
            "provenance": {
                "engine_version": __version__,
                "as_of": day,
                "scenario": scenario,
                "rulesets": [
                    {"id": rs.id, "version": rs.version, "sha256": rs.sha256, "rules": len(rs.rules),
                     "rules_in_force": sum(1 for r in active if r.ruleset_id == rs.id)}
                    for rs in self.rules.rulesets
                ],
            },
        }

    def _finding(self, rule: Rule, view: dict[str, Any], scenario: str | None) -> dict[str, Any]:
        outcome = self.compiled(rule).evaluate(view)
        if outcome.truth is not True:
            raise EngineError(Problem(
                message=f"the matching core fired {rule.id} but the reference evaluator finds its condition "
                        f"{'unknown' if outcome.truth is None else 'false'}; this is an engine bug",
                file=rule.file, line=rule.line, code="engine_disagreement"))
        window = rule.window_for(scenario)
        return {
            "rule_id": rule.id,
            "ruleset": rule.ruleset_id,
            "dimension": rule.dimension,
            "severity": rule.severity,
            "points": rule.points,
            "basis": rule.basis,
            "title": rule.title,
            "message": render_template(rule.message, view, outcome.items),
            "evidence": outcome.evidence,
            "citations": [c.as_dict() for c in rule.citations],
            "remediation": render_template(rule.remediation, view, outcome.items) if rule.remediation else None,
            "would_change": render_template(rule.would_change, view, outcome.items) if rule.would_change else None,
            "effective": {"effective_from": window.effective_from, "effective_to": window.effective_to},
            "tier": dict(rule.tier),
            "duty": ({"jurisdiction": rule.duty["jurisdiction"], "obligation": rule.duty["obligation"],
                      "deadline": rule.duty.get("deadline")} if rule.duty else None),
            "tags": list(rule.tags),
        }

    def _needs_information(self, active: tuple[Rule, ...], fired: Container[str], view: dict[str, Any],
                           kind: str | None) -> list[dict[str, Any]]:
        out = []
        missing_cache: dict[C.Path, bool] = {}

        def missing(path: C.Path) -> bool:
            if path not in missing_cache:
                missing_cache[path] = C.is_missing(C.lookup(view, path))
            return missing_cache[path]

        for rule in active:
            if rule.id in fired or (kind and kind not in rule.applies_to):
                continue
            compiled = self.compiled(rule)
            if compiled.truth(view) is not None:
                continue  # decided: only an unknown condition needs information
            maybe = any(missing(p) for p in rule.case_paths)
            if not maybe:
                for lp, paths in rule.item_paths.items():
                    items = C.lookup(view, lp)
                    if isinstance(items, list) and any(C.is_missing(C.lookup(it, p)) for it in items for p in paths):
                        maybe = True
                        break
            if not maybe:
                continue
            outcome = compiled.evaluate(view)
            if outcome.truth is None:
                out.append({"rule_id": rule.id, "dimension": rule.dimension, "title": rule.title,
                            "missing": sorted(outcome.missing)})
        return out

    def close(self) -> None:
        for matcher, _ in self._matchers.values():
            matcher.close()
        self._matchers.clear()


def _derived_of(view: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "derived" in view:
        out["case"] = view["derived"]
    for key, value in view.items():
        if isinstance(value, list) and value and isinstance(value[0], dict) and "derived" in value[0]:
            out[key] = [item.get("derived", {}) for item in value]
    return out


@lru_cache(maxsize=8)
def engine_for(rules: RuleSet) -> Engine:
    """The process-wide Engine for a RuleSet (compiled matchers are reused)."""
    return Engine(rules)
