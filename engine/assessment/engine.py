"""The assessment pipeline: case → derived facts → match → explain → score.

Data flows one way. ``Engine`` holds the loaded rules and, per as-of date and
scenario, the compiled matcher for the rules in force (compiled once per
process and reused for every case).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from engine.assessment.levers import is_conclusion
from engine.assessment.scoring import Scorer, overall
from engine.errors import EngineError, InputError, Problem
from engine.lang import conditions as C
from engine.lang.template import _PLACEHOLDER, render_template
from engine.match.compiler import compile_rules
from engine.match.matcher import Matcher
from engine.ruleset.model import LEVEL_ORDER, Rule, RuleSet, Window
from engine.scale import LEVELS
from engine.version import __version__

if TYPE_CHECKING:  # the case model loads on first use: a document ruleset never needs it
    from engine.assessment.bounds import BoundsPlan
    from engine.case.model import Case


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
    """Assesses cases against a set of rules. Safe to share between threads: the matching core
    is used under a lock per matcher, and the per-process caches are built under a lock."""

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
        self._cites: dict[str, list[dict[str, Any]]] = {}
        self._plans: dict[tuple[tuple[Rule, ...], str | None], _Plan] = {}
        self._scorer: Scorer | None = None
        self._build_lock = threading.RLock()  # matchers and plans are built once, even under threads
        #: Results may share their rule-only parts (citations, tiers, tags …) with each other.
        #: Only for a caller that serialises each result at once and never hands it out (a
        #: batch worker); by default every result is a fresh tree the caller may change.
        self.share_static = False

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

    def _citations(self, rule: Rule) -> list[dict[str, Any]]:
        found = self._cites.get(rule.id)
        if found is None:
            found = self._cites[rule.id] = [c.as_dict() for c in rule.citations]
        return found

    def compiled(self, rule: Rule) -> C.Compiled:
        """The rule's condition compiled to closures (same results as ``conditions.evaluate``)."""
        found = self._compiled.get(rule.id)
        if found is None:
            found = self._compiled[rule.id] = C.Compiled(rule.condition)
        return found

    def matcher(self, active: tuple[Rule, ...]) -> Matcher:
        key = tuple(r.id for r in active)
        found = self._matchers.get(key)
        if found is not None:
            return found[0]
        with self._build_lock:
            if key not in self._matchers:
                if self.rules.cache_key:
                    from engine.source.cache import cached, key_of

                    shards = cached("shards", key_of([], self.rules.cache_key, *key), lambda: compile_rules(active))
                else:
                    shards = compile_rules(active)
                self._matchers[key] = (Matcher(shards), active)
            return self._matchers[key][0]

    def assess_data(self, data: Mapping[str, Any], *, as_of: str | dt.date | None = None,
                    scenario: str | None = None, file: str | None = None, verify: bool = False) -> dict[str, Any]:
        """Assess a case given as plain data (validated here) → assessment dict."""
        if self.rules.input == "document":
            if not isinstance(data, Mapping):
                raise InputError(Problem(message="a case must be a JSON object", file=file, code="invalid"))
            view = dict(data)
            meta = {"id": str(data.get("id", data.get("case_id", ""))), "name": data.get("name"),
                    "kind": data.get("kind")}
            return self.assess_view(view, meta, as_of=as_of, scenario=scenario, verify=verify)
        from engine.case.validation import case_from_data

        case = case_from_data(data, file=file)
        return self.assess_case(case, as_of=as_of, scenario=scenario, verify=verify)

    def assess_case(self, case: Case, *, as_of: str | dt.date | None = None,
                    scenario: str | None = None, verify: bool = False) -> dict[str, Any]:
        return self.assess_plain(case.model_dump(mode="json", exclude_none=True), as_of=as_of, scenario=scenario,
                                 verify=verify)

    def assess_plain(self, plain: dict[str, Any], *, as_of: str | dt.date | None = None,
                     scenario: str | None = None, verify: bool = False, brief: bool = False,
                     bounds: bool = True) -> dict[str, Any]:
        """Assess a case already validated and dumped as JSON data (``Case.model_dump(mode="json",
        exclude_none=True)``, or ``engine.case.validation.plain_case``, which gives the same).

        ``brief``: the levels, scores, ranges and which rules fired, as a full assessment gives
        them, without each finding's evidence and texts and without ``needs_information`` (for
        searches that re-assess a case many times, such as counterfactuals). ``bounds=False``
        skips the search over the unknown facts: every range is then the known level (for a
        search that reads levels and scores first and ranges only where they matter)."""
        from engine.derive.view import build_view

        meta = {"id": plain["id"], "name": plain.get("name"), "kind": plain.get("kind")}
        day = parse_as_of(as_of)  # country-group membership is dated: derivation needs the day
        return self.assess_view(build_view(plain, day), meta, as_of=day, scenario=scenario, verify=verify,
                                brief=brief, bounds=bounds)

    def plan(self, active: tuple[Rule, ...], scenario: str | None) -> _Plan:
        """The case-independent part of assessing against ``active`` (built once per process)."""
        found = self._plans.get((active, scenario))
        if found is None:
            with self._build_lock:
                found = self._plans.get((active, scenario))
                if found is None:
                    if len(self._plans) > 64:
                        self._plans.clear()
                    found = self._plans[(active, scenario)] = _Plan(self, active, scenario)
        return found

    def assess_view(self, view: dict[str, Any], meta: dict[str, Any], *, as_of: str | dt.date | None,
                    scenario: str | None, verify: bool = False, brief: bool = False,
                    bounds: bool = True) -> dict[str, Any]:
        """Assess a derived case view. ``verify`` checks the Rete core's fired set against the
        reference evaluator in both directions (``EngineError`` ``engine_disagreement`` if they
        differ); without it, only each fired rule is checked, as its evidence is built."""
        day = parse_as_of(as_of)
        active = self.in_force(day, scenario)
        plan = self.plan(active, scenario)
        fired = plan.matcher.match(view)
        if verify:
            self.verify(active, fired, view)
        kind = meta.get("kind")
        scoped_out, not_assessed, applicable = plan.scope(view, kind)
        make = plan.brief_finding if brief else plan.finding
        findings = [make(rule_id, view) for rule_id in plan.in_order(fired, scoped_out)]
        candidates = plan.candidates(view)
        unknown = [] if brief else plan.needs_information(fired, view, scoped_out, candidates)
        if self._scorer is None:
            self._scorer = Scorer(self.rules, self._tier_dimension)
        dims = self._scorer.score(findings, view, not_assessed, applicable)
        searched = (candidates - scoped_out if scoped_out else candidates) if bounds else set()
        rating_range, decisive, exact, fillings = plan.bounds(view, searched, fired, scoped_out, dims, self._scorer)
        rating, explanation = overall(dims, self._titles, rating_range, decisive)
        return {
            "case_id": meta["id"],
            "case_name": meta.get("name"),
            "kind": kind,
            "rating": rating,
            "rating_range": rating_range,
            "decisive_unknowns": decisive,
            "coverage": {"assessed": [d for d, r in dims.items() if r["assessed"]],
                         "not_assessed": [d for d, r in dims.items() if not r["assessed"]]},
            "bounds": {"exact": exact, "range_fillings": fillings},
            "explanation": explanation,
            "dimensions": dims,
            "findings": findings,
            "needs_information": unknown,
            "derived": _derived_of(view),
            "provenance": {
                "engine_version": __version__,
                "as_of": day,
                "scenario": scenario,
                "rulesets": plan.rulesets if self.share_static else [dict(r) for r in plan.rulesets],
            },
            "what_if": None,
        }

    def verify(self, active: tuple[Rule, ...], fired: set[str], view: dict[str, Any]) -> None:
        """Raise ``EngineError`` unless ``fired`` is exactly the set of rules in ``active`` that the
        reference evaluator finds true for ``view`` (both directions)."""
        true = {r.id for r in active if self.compiled(r).evaluate(view).truth is True}
        if true != fired:
            only_core, only_reference = sorted(fired - true), sorted(true - fired)
            raise EngineError(Problem(
                message="the matching core and the reference evaluator disagree: fired by the core only: "
                        f"{', '.join(only_core) or 'none'}; true for the reference evaluator only: "
                        f"{', '.join(only_reference) or 'none'}; this is an engine bug",
                code="engine_disagreement", hint="please report this case"))

    def _finding(self, rule: Rule, view: dict[str, Any], scenario: str | None) -> dict[str, Any]:
        outcome = self.compiled(rule).evaluate(view)
        if outcome.truth is not True:
            raise EngineError(Problem(
                message=f"the matching core fired {rule.id} but the reference evaluator finds its condition "
                        f"{'unknown' if outcome.truth is None else 'false'}; this is an engine bug",
                file=rule.file, line=rule.line, code="engine_disagreement"))
        return _finding_fields(rule, rule.window_for(scenario), self._citations(rule),
                               _render(rule.message, view, outcome.items), outcome.evidence,
                               _render(rule.remediation, view, outcome.items) if rule.remediation else None,
                               _render(rule.would_change, view, outcome.items) if rule.would_change else None)

    def close(self) -> None:
        for matcher, _ in self._matchers.values():
            matcher.close()
        self._matchers.clear()



class _Plan:
    """Assessing against one set of rules in force under one scenario.

    Holds what does not depend on the case, worked out once per process: the matcher,
    each rule's static finding fields and evidence function, which rules read which
    facts, and the scope of each combination of kind and absent sections. Its per-case
    methods give exactly what ``Engine._finding``, ``conditions.evaluate`` and
    ``_out_of_scope`` give (tests hold them to it); they only skip repeated work."""

    def __init__(self, engine: Engine, active: tuple[Rule, ...], scenario: str | None) -> None:
        self.engine = engine
        self.active = active
        self.scenario = scenario
        self.matcher = engine.matcher(active)
        self.by_id = {r.id: r for r in active}
        self.position = {r.id: i for i, r in enumerate(active)}
        self._prepared: dict[str, tuple[dict[str, Any], C.Evidence | None, bool, bool, bool]] = {}
        self._unknown: dict[str, C.Missing] = {}
        self._bounds: BoundsPlan | None = None
        self.rulesets = [
            {"id": rs.id, "version": rs.version, "sha256": rs.sha256, "rules": len(rs.rules),
             "rules_in_force": sum(1 for r in active if r.ruleset_id == rs.id)}
            for rs in engine.rules.rulesets
        ]
        # Scope depends only on the kind and on which required sections are absent.
        self._required = [C.getter(p) for p in sorted({p for r in active for p in r.requires})]
        self._scopes: dict[tuple[Any, ...], tuple[set[str], dict[str, dict[str, Any]], dict[str, int]]] = {}
        # Which rules read which facts: only those reading an absent fact can be unknown.
        readers: dict[C.Path, set[str]] = {}
        item_readers: dict[tuple[C.Path, C.Path], set[str]] = {}
        for r in active:
            for p in r.case_paths:
                readers.setdefault(p, set()).add(r.id)
            for lp, paths in r.item_paths.items():
                for p in paths:
                    item_readers.setdefault((lp, p), set()).add(r.id)
        self._top = {p[0]: frozenset(ids) for p, ids in readers.items() if len(p) == 1}
        self._top_keys = frozenset(self._top)
        self._deep = [(C.getter(p), frozenset(ids)) for p, ids in sorted(readers.items()) if len(p) > 1]
        lists: dict[C.Path, list[tuple[C.Getter, frozenset[str]]]] = {}
        for (lp, p), ids in sorted(item_readers.items()):
            lists.setdefault(lp, []).append((C.getter(p), frozenset(ids)))
        self._lists = [(C.getter(lp), paths) for lp, paths in lists.items()]

    def scope(self, view: dict[str, Any], kind: str | None) -> tuple[
            set[str], dict[str, dict[str, Any]], dict[str, int]]:
        """``_out_of_scope(active, view, kind)``, remembered per kind and absent sections.

        The result is shared between cases: callers read it and never change it."""
        key = (kind, *(get(view) is C.MISSING for get in self._required))
        found = self._scopes.get(key)
        if found is None:
            found = _out_of_scope(self.active, view, kind)
            if len(self._scopes) < 4096:
                self._scopes[key] = found
        return found

    def in_order(self, fired: set[str], skip: set[str]) -> list[str]:
        """The fired rules that apply, in the order of the rules in force."""
        return sorted(fired - skip if skip else fired, key=self.position.__getitem__)

    def _prepare(self, rule: Rule) -> tuple[dict[str, Any], C.Evidence | None, bool, bool, bool]:
        window = rule.window_for(self.scenario)
        message, remediation, would_change = ("{" in text for text in (rule.message, rule.remediation or "",
                                                                       rule.would_change or ""))
        static = _finding_fields(
            rule, window, self.engine._citations(rule), None if message else _render(rule.message, {}, {}), None,
            None if remediation or not rule.remediation else _render(rule.remediation, {}, {}),
            None if would_change or not rule.would_change else _render(rule.would_change, {}, {}))
        # Texts naming a field of a matched item need the items, which only ``evaluate`` gives.
        lists = C.item_lists(rule.condition)
        fields = {m.group(1) for text in (rule.message, rule.remediation, rule.would_change) if text
                  for m in _PLACEHOLDER.finditer(text)}
        by_item = any(f == name or f.startswith(name + ".") for f in fields for name in lists)
        found = self._prepared[rule.id] = (static, None if by_item else C.compile_evidence(rule.condition),
                                           message, remediation, would_change)
        return found

    def finding(self, rule_id: str, view: dict[str, Any]) -> dict[str, Any]:
        """``Engine._finding`` for a fired rule."""
        rule = self.by_id[rule_id]
        prepared = self._prepared.get(rule_id) or self._prepare(rule)
        static, evidence_of, message, remediation, would_change = prepared
        evidence = evidence_of(view, "") if evidence_of is not None else None
        if evidence is None:  # another shape of condition, or not true (the general path says why)
            return self.engine._finding(rule, view, self.scenario)
        if self.engine.share_static:
            out = dict(static)
        else:
            out = dict(static, citations=[dict(c) for c in static["citations"]], effective=dict(static["effective"]),
                       tier=dict(static["tier"]), duty=dict(static["duty"]) if static["duty"] else None,
                       tags=list(static["tags"]))
        out["evidence"] = evidence
        if message:
            out["message"] = _render(rule.message, view, {})
        if remediation:
            out["remediation"] = _render(rule.remediation or "", view, {})
        if would_change:
            out["would_change"] = _render(rule.would_change or "", view, {})
        return out

    def brief_finding(self, rule_id: str, view: dict[str, Any]) -> dict[str, Any]:
        """A fired rule's finding without evidence or texts that name facts (``assess_plain(brief=True)``).

        The fired rule is still checked against the reference evaluator (its truth only)."""
        rule = self.by_id[rule_id]
        if not C.holds(rule.condition, view):
            return self.engine._finding(rule, view, self.scenario)  # raises engine_disagreement
        return dict((self._prepared.get(rule_id) or self._prepare(rule))[0])

    def candidates(self, view: dict[str, Any]) -> set[str]:
        """The rules in force that read a fact absent from ``view`` (only they can be unknown)."""
        candidates: set[str] = set()
        if type(view) is dict:
            absent: set[str] | frozenset[str] = self._top_keys - view.keys()
            if None in view.values():
                absent |= {k for k in self._top_keys if view.get(k) is None}
        else:
            absent = {k for k in self._top_keys if C.lookup(view, (k,)) is C.MISSING}
        for key in absent:
            candidates |= self._top[key]
        for get, ids in self._deep:
            if get(view) is C.MISSING:
                candidates |= ids
        for get_list, paths in self._lists:
            items = get_list(view)
            if isinstance(items, list):
                for get, ids in paths:
                    if any(get(item) is C.MISSING for item in items):
                        candidates |= ids
        return candidates

    def needs_information(self, fired: set[str], view: dict[str, Any], skip: set[str],
                          candidates: set[str] | None = None) -> list[dict[str, Any]]:
        """The rules in force, applicable and not fired, whose condition is unknown for want of facts."""
        candidates = set(self.candidates(view) if candidates is None else candidates)
        out = []
        candidates -= fired
        for rule_id in sorted(candidates - skip if skip else candidates, key=self.position.__getitem__):
            rule = self.by_id[rule_id]
            unknown = self._unknown.get(rule_id)
            if unknown is None:
                unknown = self._unknown[rule_id] = C.compile_missing(rule.condition)
            missing: set[str] = set()
            if unknown(view, "", missing) is None:
                # A conclusion the user has not stated is not information to collect (the facts
                # decide; engine.assessment.levers.CONCLUSIONS): a rule that waits only on one is not listed.
                facts = sorted(f for f in missing if not is_conclusion(f))
                if facts:
                    out.append({"rule_id": rule.id, "dimension": rule.dimension, "title": rule.title,
                                "missing": facts})
        return out


    def bounds(self, view: dict[str, Any], candidates: set[str], fired: set[str], skip: set[str],
               dims: dict[str, dict[str, Any]], scorer: Scorer) -> tuple[
                   list[str] | None, list[dict[str, Any]], bool, dict[str, Any] | None]:
        """Fill each dimension's ``level_range``, ``decisive_unknowns`` and ``range_fillings``
        (engine.assessment.bounds); return the overall (rating_range, decisive unknowns, exact, fillings)."""
        names = tuple(dims)
        known = [LEVEL_ORDER[d["level"]] if d["assessed"] else None for d in dims.values()]
        if not candidates:  # nothing unknown can move a level: the range is the known level
            rated = [x for x in known if x is not None]
            level = LEVELS[max(rated)] if rated else None
            return ([level, level] if level else None), [], True, (
                {"best": {}, "worst": {}} if level else None)
        from engine.assessment.bounds import BoundsPlan, compute

        if self._bounds is None:
            self._bounds = BoundsPlan(self.active, names)
        applicable_fired = fired - skip if skip else fired
        result = compute(self._bounds, view, sorted(candidates, key=self.position.__getitem__), applicable_fired,
                         [d["assessed"] for d in dims.values()], scorer.level_of)
        for name, out in zip(names, result["dims"], strict=True):
            d = dims[name]
            if out["range"] is not None:
                d["level_range"] = out["range"]
                d["decisive_unknowns"] = out["decisive"]
                d["range_fillings"] = out["witnesses"]
        return result["range"], result["decisive"], result["exact"], result["witnesses"]


def _finding_fields(rule: Rule, window: Window, citations: list[dict[str, Any]], message: str | None,
                    evidence: list[dict[str, Any]] | None, remediation: str | None,
                    would_change: str | None) -> dict[str, Any]:
    """A finding as the assessment reports it (fresh containers for the rule's own fields)."""
    return {
        "rule_id": rule.id,
        "ruleset": rule.ruleset_id,
        "dimension": rule.dimension,
        "severity": rule.severity,
        "points": rule.points,
        "basis": rule.basis,
        "title": rule.title,
        "message": message,
        "evidence": evidence,
        "citations": [dict(c) for c in citations],
        "remediation": remediation,
        "would_change": would_change,
        "effective": {"effective_from": window.effective_from, "effective_to": window.effective_to},
        "tier": dict(rule.tier),
        "duty": ({"jurisdiction": rule.duty["jurisdiction"], "obligation": rule.duty["obligation"],
                  "deadline": rule.duty.get("deadline")} if rule.duty else None),
        "tags": list(rule.tags),
    }

_STATIC_TEXT: dict[str, str] = {}


def _render(template: str, view: dict[str, Any], items: dict[str, list[int]]) -> str:
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


def _out_of_scope(active: tuple[Rule, ...], view: dict[str, Any],
                  kind: str | None) -> tuple[set[str], dict[str, dict[str, Any]], dict[str, int]]:
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
    return out, {dim: {"rules": e["rules"], "missing_sections": sorted(e["missing_sections"])}
                 for dim, e in summary.items()}, applicable


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
