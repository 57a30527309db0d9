"""The assessment pipeline: case → derived facts → match → explain → score.

Data flows one way. ``Engine`` holds the loaded rules and, per as-of date and
scenario, the compiled matcher for the rules in force and its plan
(engine.assessment.plan; both built once per process and reused for every case),
and takes a case in at one of four entry points (plain data, a Case model, a
validated plain dict, a derived view).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from engine.assessment.findings import RuleParts, general_finding
from engine.assessment.plan import Plan
from engine.assessment.scoring import Scorer, overall
from engine.assessment.shape import ASSESSMENT, BOUNDS, COVERAGE, PROVENANCE, shaped
from engine.errors import EngineError, InputError, Problem
from engine.lang import conditions as C
from engine.match.compiler import compile_rules
from engine.match.matcher import Matcher
from engine.ruleset.model import Rule, RuleSet
from engine.version import __version__

if TYPE_CHECKING:  # the case model loads on first use: a document ruleset never needs it
    from engine.case.model import Case
    from engine.waivers.model import WaiverSet


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
        self._tier_dimension: dict[str, str] = {}
        for rule in rules.rules:
            for scheme in rule.tier:
                self._tier_dimension.setdefault(scheme, rule.dimension)
        # Per-process caches: the rules in force per (date, scenario), each rule's condition compiled once.
        self._in_force: dict[tuple[str, str | None], tuple[Rule, ...]] = {}
        self.parts = RuleParts()
        self._plans: dict[tuple[tuple[Rule, ...], str | None], Plan] = {}
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

    def compiled(self, rule: Rule) -> C.Compiled:
        """The rule's condition compiled to closures (same results as ``conditions.evaluate``)."""
        return self.parts.compiled(rule)

    def finding(self, rule: Rule, view: dict[str, Any], scenario: str | None) -> dict[str, Any]:
        """The finding of a fired rule by the general path (``findings.general_finding``)."""
        return general_finding(rule, view, scenario, self.parts)

    def matcher(self, active: tuple[Rule, ...]) -> Matcher:
        key = tuple(f"{r.id}@{r.window.effective_from}" for r in active)  # a rule's dated variants differ
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
                    scenario: str | None = None, file: str | None = None, verify: bool = False,
                    waivers: WaiverSet | None = None) -> dict[str, Any]:
        """Assess a case given as plain data (validated here) → assessment dict."""
        if self.rules.input == "document":
            if not isinstance(data, Mapping):
                raise InputError(Problem(message="a case must be a JSON object", file=file, code="invalid"))
            view = dict(data)
            meta = {"id": str(data.get("id", data.get("case_id", ""))), "name": data.get("name"),
                    "kind": data.get("kind")}
            return self.assess_view(view, meta, as_of=as_of, scenario=scenario, verify=verify, waivers=waivers)
        from engine.case.validation import case_from_data

        case = case_from_data(data, file=file)
        return self.assess_case(case, as_of=as_of, scenario=scenario, verify=verify, waivers=waivers)

    def assess_case(self, case: Case, *, as_of: str | dt.date | None = None,
                    scenario: str | None = None, verify: bool = False,
                    waivers: WaiverSet | None = None) -> dict[str, Any]:
        return self.assess_plain(case.model_dump(mode="json", exclude_none=True), as_of=as_of, scenario=scenario,
                                 verify=verify, waivers=waivers)

    def assess_plain(self, plain: dict[str, Any], *, as_of: str | dt.date | None = None,
                     scenario: str | None = None, verify: bool = False, brief: bool = False,
                     bounds: bool = True, waivers: WaiverSet | None = None) -> dict[str, Any]:
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
                                brief=brief, bounds=bounds, waivers=waivers)

    def plan(self, active: tuple[Rule, ...], scenario: str | None) -> Plan:
        """The case-independent part of assessing against ``active`` (built once per process)."""
        found = self._plans.get((active, scenario))
        if found is None:
            with self._build_lock:
                found = self._plans.get((active, scenario))
                if found is None:
                    if len(self._plans) > 64:
                        self._plans.clear()
                    found = self._plans[(active, scenario)] = Plan(self.rules, self.parts, self.matcher(active),
                                                                     active, scenario)
        return found

    def assess_view(self, view: dict[str, Any], meta: dict[str, Any], *, as_of: str | dt.date | None,
                    scenario: str | None, verify: bool = False, brief: bool = False,
                    bounds: bool = True, waivers: WaiverSet | None = None) -> dict[str, Any]:
        """Assess a derived case view. ``verify`` checks the Rete core's fired set against the
        reference evaluator in both directions (``EngineError`` ``engine_disagreement`` if they
        differ); without it, only each fired rule is checked, as its evidence is built.
        ``waivers``: accepted risk (``engine.waivers``): covered findings are marked and do not
        count; an expired waiver adds a ``WAIVER-EXPIRED`` finding."""
        day = parse_as_of(as_of)
        active = self.in_force(day, scenario)
        plan = self.plan(active, scenario)
        fired = plan.matcher.match(view)
        if verify:
            self.verify(active, fired, view)
        kind = meta.get("kind")
        scoped_out, not_assessed, applicable = plan.scope(view, kind)
        make = plan.brief_finding if brief else plan.finding
        findings = [make(rule_id, view, self.share_static) for rule_id in plan.in_order(fired, scoped_out)]
        waived: set[str] = set()
        if waivers is not None:
            from engine.waivers.apply import apply

            waived, expired = apply(waivers, findings, view, str(meta["id"]), day, self.rules.lang)
            findings.extend(expired)
        candidates = plan.candidates(view)
        # What decides each rule that could be unknown (for information requests and bounds, when asked).
        keys = plan.fact_keys(view, candidates) if bounds or not brief else None
        unknown = [] if brief else plan.needs_information(fired, view, scoped_out, candidates, keys)
        if self._scorer is None:
            self._scorer = Scorer(self.rules, self._tier_dimension)
        # Blocks and explanations recur across a portfolio's cases (the same rules fire together):
        # a batch worker, which serialises each result at once, takes them from the plan's memo.
        memo = plan.memo if self.share_static and waivers is None else None
        dims = self._scorer.score(findings, view, not_assessed, applicable, memo)
        searched = (candidates - scoped_out if scoped_out else candidates) if bounds else set()
        counted = fired - waived if waived else fired  # a waived finding fired: it stops counting everywhere
        rating_range, decisive, exact, fillings = plan.bounds(view, searched, counted, scoped_out, dims, self._scorer,
                                                              keys)
        if memo is None:
            rating, explanation = overall(dims, plan.titles, rating_range, decisive, self.rules.lang)
        else:
            said_key = ("overall", tuple([(d["assessed"], d["level"], d["score"], tuple(d["drivers"]))
                                          for d in dims.values()]),
                        tuple(rating_range) if rating_range else None, tuple([d["fact"] for d in decisive]))
            said = memo.get(said_key)
            if said is None:
                said = overall(dims, plan.titles, rating_range, decisive, self.rules.lang)
                memo.put(said_key, said)
            rating, explanation = said
        if waived:
            from engine.waivers.apply import explanation_note

            explanation += explanation_note(findings, self.rules, plan.by_id.get, self.rules.lang)
        return shaped(
            ASSESSMENT, case_id=meta["id"], case_name=meta.get("name"), kind=kind, rating=rating,
            lang=self.rules.lang,
            rating_range=rating_range, decisive_unknowns=decisive,
            coverage=shaped(COVERAGE, assessed=[d for d, r in dims.items() if r["assessed"]],
                            not_assessed=[d for d, r in dims.items() if not r["assessed"]]),
            bounds=shaped(BOUNDS, exact=exact, range_fillings=fillings), explanation=explanation,
            dimensions=dims, findings=findings, needs_information=unknown, derived=_derived_of(view),
            provenance=shaped(PROVENANCE, engine_version=__version__, as_of=day, scenario=scenario,
                              rulesets=plan.rulesets if self.share_static else [dict(r) for r in plan.rulesets],
                              waivers=None if waivers is None else
                              {"file": waivers.file, "sha256": waivers.sha256, "waivers": len(waivers.waivers)}),
            what_if=None)

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
