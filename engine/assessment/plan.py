"""The plan: assessing against one set of rules in force under one scenario, case after case.

What does not depend on the case is worked out once per process (engine.assessment.engine keeps
one plan per rules-in-force and scenario): the finding fields of each rule, which rules read
which facts, the scope per kind and absent sections. Per case it builds the findings, finds the
rules that need information and fills the ranges over the unknown facts.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from engine.assessment.findings import RuleParts, general_finding, render_text, static_fields
from engine.assessment.levers import is_conclusion
from engine.assessment.memo import GENERATION, Memo, fact_key, reads_of, remembered
from engine.assessment.scope import Scope, out_of_scope
from engine.assessment.scoring import Scorer
from engine.assessment.shape import NEEDS_INFORMATION, RANGE_FILLINGS, RULESET_PROVENANCE, shaped
from engine.lang import conditions as C
from engine.lang.template import _PLACEHOLDER
from engine.match.matcher import Matcher
from engine.ruleset.model import LEVEL_ORDER, Rule, RuleSet
from engine.scale import LEVELS

if TYPE_CHECKING:
    from engine.assessment.bounds import BoundsPlan

def ruleset_provenance(rules: RuleSet, active: tuple[Rule, ...]) -> list[dict[str, Any]]:
    """The provenance of each ruleset: id, version, digest, its rules and those in force."""
    return [shaped(RULESET_PROVENANCE, id=rs.id, version=rs.version, sha256=rs.sha256,
                   rules=len({r.id for r in rs.rules}),
                   rules_in_force=sum(1 for r in active if r.ruleset_id == rs.id))
            for rs in rules.rulesets]


class Plan:
    """Assessing against one set of rules in force under one scenario.

    Holds what does not depend on the case, worked out once per process: the matcher,
    each rule's static finding fields and evidence function, which rules read which
    facts, and the scope of each combination of kind and absent sections. Its per-case
    methods give exactly what ``findings.general_finding``, ``conditions.evaluate`` and
    ``scope.out_of_scope`` give (tests hold them to it); they only skip repeated work."""

    def __init__(self, rules: RuleSet, parts: RuleParts, matcher: Matcher, active: tuple[Rule, ...],
                 scenario: str | None) -> None:
        self.parts = parts
        self.active = active
        self.scenario = scenario
        self.matcher = matcher
        self.by_id = {r.id: r for r in active}
        self.titles = {r.id: r.title for r in active}  # the title of the variant in force
        self.position = {r.id: i for i, r in enumerate(active)}
        self._prepared: dict[str, tuple[dict[str, Any], C.Evidence | None, bool, bool, bool]] = {}
        self._unknown: dict[str, C.Missing] = {}
        # A rule that reads no list item is decided, or unknown for want of the same facts, by
        # the values of the facts it reads: remember its missing facts by those values (most
        # recur across a portfolio: flags, categories, the same gap).
        self._reads = {r.id: reads_of(r) for r in active}
        self._missing_memo: Memo[Any, tuple[str, ...]] = Memo(GENERATION["missing"])
        self._bounds: BoundsPlan | None = None
        #: Per-case results that recur, for a batch worker (``Scorer.score``'s memo, explanations).
        self.memo: Memo[Any, Any] = Memo(GENERATION["blocks"])
        self.rulesets = ruleset_provenance(rules, active)
        # Scope depends only on the kind and on which required sections are absent.
        self._required = [C.getter(p) for p in sorted({p for r in active for p in r.requires})]
        self._scopes: dict[tuple[Any, ...], Scope] = {}
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

    def scope(self, view: dict[str, Any], kind: str | None) -> Scope:
        """``out_of_scope(active, view, kind)``, remembered per kind and absent sections.

        The result is shared between cases: callers read it and never change it."""
        key = (kind, *(get(view) is C.MISSING for get in self._required))
        found = self._scopes.get(key)
        if found is None:
            found = out_of_scope(self.active, view, kind)
            if len(self._scopes) < 4096:
                self._scopes[key] = found
        return found

    def in_order(self, fired: set[str], skip: set[str]) -> list[str]:
        """The fired rules that apply, in the order of the rules in force."""
        return sorted(fired - skip if skip else fired, key=self.position.__getitem__)

    def _prepare(self, rule: Rule) -> tuple[dict[str, Any], C.Evidence | None, bool, bool, bool]:
        message, remediation, would_change = ("{" in text for text in (rule.message, rule.remediation or "",
                                                                       rule.would_change or ""))
        static = static_fields(rule, self.scenario, self.parts)
        # Texts naming a field of a matched item need the items, which only ``evaluate`` gives.
        lists = C.item_lists(rule.condition)
        fields = {m.group(1) for text in (rule.message, rule.remediation, rule.would_change) if text
                  for m in _PLACEHOLDER.finditer(text)}
        by_item = any(f == name or f.startswith(name + ".") for f in fields for name in lists)
        found = self._prepared[rule.id] = (static, None if by_item else C.compile_evidence(rule.condition),
                                           message, remediation, would_change)
        return found

    def finding(self, rule_id: str, view: dict[str, Any], share_static: bool = False) -> dict[str, Any]:
        """``findings.general_finding`` for a fired rule. ``share_static``: the result may share the
        rule-only parts (citations, tiers, tags …) with other results (see ``Engine.share_static``)."""
        rule = self.by_id[rule_id]
        prepared = self._prepared.get(rule_id) or self._prepare(rule)
        static, evidence_of, message, remediation, would_change = prepared
        evidence = evidence_of(view, "") if evidence_of is not None else None
        if evidence is None:  # another shape of condition, or not true (the general path says why)
            return general_finding(rule, view, self.scenario, self.parts)
        if share_static:
            out = dict(static)
        else:
            out = dict(static, citations=[dict(c) for c in static["citations"]], effective=dict(static["effective"]),
                       tier=dict(static["tier"]), duty=dict(static["duty"]) if static["duty"] else None,
                       tags=list(static["tags"]))
        out["evidence"] = evidence
        if message:
            out["message"] = render_text(rule.message, view, {})
        if remediation:
            out["remediation"] = render_text(rule.remediation or "", view, {})
        if would_change:
            out["would_change"] = render_text(rule.would_change or "", view, {})
        return out

    def brief_finding(self, rule_id: str, view: dict[str, Any], share_static: bool = False) -> dict[str, Any]:
        """A fired rule's finding without evidence or texts that name facts (``assess_plain(brief=True)``).

        The fired rule is still checked against the reference evaluator (its truth only); the
        result is always a fresh copy (``share_static`` is accepted for ``finding``'s signature)."""
        rule = self.by_id[rule_id]
        if not C.holds(rule.condition, view):
            return general_finding(rule, view, self.scenario, self.parts)  # raises engine_disagreement
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

    def fact_keys(self, view: dict[str, Any], rule_ids: set[str]) -> dict[str, tuple[Any, ...] | None]:
        """``fact_key`` of each rule, worked out once per case for ``needs_information`` and ``bounds``."""
        reads = self._reads
        return {rid: fact_key(rid, reads[rid], view) for rid in rule_ids}

    def needs_information(self, fired: set[str], view: dict[str, Any], skip: set[str],
                          candidates: set[str] | None = None,
                          keys: dict[str, tuple[Any, ...] | None] | None = None) -> list[dict[str, Any]]:
        """The rules in force, applicable and not fired, whose condition is unknown for want of facts
        (``keys``: ``fact_keys`` of the candidates, when the caller has them)."""
        candidates = set(self.candidates(view) if candidates is None else candidates)
        out = []
        candidates -= fired
        memo = self._missing_memo
        for rule_id in sorted(candidates - skip if skip else candidates, key=self.position.__getitem__):
            rule = self.by_id[rule_id]
            key = keys[rule_id] if keys is not None else fact_key(rule_id, self._reads[rule_id], view)
            found = remembered(memo, key, partial(self._missing_facts, rule, view))
            if found:
                out.append(shaped(NEEDS_INFORMATION, rule_id=rule.id, dimension=rule.dimension,
                                  title=rule.title, missing=list(found)))
        return out

    def _missing_facts(self, rule: Rule, view: dict[str, Any]) -> tuple[str, ...]:
        """The facts to collect for ``rule`` on ``view``: none unless its condition is unknown."""
        unknown = self._unknown.get(rule.id)
        if unknown is None:
            unknown = self._unknown[rule.id] = C.compile_missing(rule.condition)
        missing: set[str] = set()
        if unknown(view, "", missing) is not None:
            return ()
        # A conclusion the user has not stated is not information to collect (the facts decide;
        # engine.assessment.levers.CONCLUSIONS): a rule that waits only on one is not listed.
        return tuple(sorted(f for f in missing if not is_conclusion(f)))

    def bounds(self, view: dict[str, Any], candidates: set[str], fired: set[str], skip: set[str],
               dims: dict[str, dict[str, Any]], scorer: Scorer,
               keys: dict[str, tuple[Any, ...] | None] | None = None) -> tuple[
                   list[str] | None, list[dict[str, Any]], bool, dict[str, Any] | None]:
        """Fill each dimension's ``level_range``, ``decisive_unknowns`` and ``range_fillings``
        (engine.assessment.bounds); return the overall (rating_range, decisive unknowns, exact, fillings)."""
        names = tuple(dims)
        known = [LEVEL_ORDER[d["level"]] if d["assessed"] else None for d in dims.values()]
        if not candidates:  # nothing unknown can move a level: the range is the known level
            rated = [x for x in known if x is not None]
            level = LEVELS[max(rated)] if rated else None
            return ([level, level] if level else None), [], True, (
                shaped(RANGE_FILLINGS, best={}, worst={}) if level else None)
        from engine.assessment.bounds import BoundsPlan, compute

        if self._bounds is None:
            self._bounds = BoundsPlan(self.active, names)
        applicable_fired = fired - skip if skip else fired
        result = compute(self._bounds, view, sorted(candidates, key=self.position.__getitem__), applicable_fired,
                         [d["assessed"] for d in dims.values()], scorer.level_of,
                         keys if keys is not None else self.fact_keys(view, candidates))
        for name, out in zip(names, result["dims"], strict=True):
            d = dims[name]
            if out["range"] is not None:
                d["level_range"] = out["range"]
                d["decisive_unknowns"] = out["decisive"]
                d["range_fillings"] = out["witnesses"]
        return result["range"], result["decisive"], result["exact"], result["witnesses"]
