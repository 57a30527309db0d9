"""Counterfactuals: the smallest sets of fact changes that bring a dimension below a level.

Computed from the rules, not written by hand: for each fired rule of the dimension, every
comparison that held is a place the rule can be made false. Its threshold gives the boundary
value (``lt 0.5`` held: set the fact to 0.5; ``gte 4800`` held: just below 4800), its list the
alternatives (``in [...]``: a value outside; ``contains D:5`` on a country's groups: a country
outside D:5). What makes each operator false is its entry in the operator registry
(``engine.lang.operators``: ``counter``, ``allows``, ``among``); this module names no operator.
Only case facts marked *choice* in ``engine.assessment.levers`` are changed; a derived fact
is changed through the case fact it comes from. Every candidate is **verified** by
re-assessing the changed case, and reported with the level it reaches: single changes first,
then pairs of changes neither of which suffices alone. A set is reported only if no smaller
reported set is inside it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from engine.assessment import levers
from engine.lang import operators
from engine.ruleset.model import LEVEL_ORDER, RuleSet

#: Most re-assessments one search makes (keeps `airisk explain` interactive).
MAX_TRIALS = 400


def _country_alternatives(current: Any, avoid: set[str], day: str) -> list[str]:
    """One country per distinct set of EAR country groups on ``day`` (the membership classes), none
    in ``avoid``."""
    from engine.source.tables import country_groups

    table = country_groups()
    members = sorted({m.country for ms in table.members.values() for m in ms if m.on(day)})
    seen: set[tuple[str, ...]] = set()
    out = []
    for c in members:
        sig = tuple(table.of(c, day))
        if c == current or sig in seen or avoid & set(sig):
            continue
        seen.add(sig)
        out.append(c)
    return out


def _case_step(fact: str) -> list[str | int]:
    """``parties[0].ultimate_parent_country`` -> ["parties", 0, "ultimate_parent_country"]."""
    out: list[str | int] = []
    for part in fact.split("."):
        if "[" in part:
            name, _, index = part.partition("[")
            out += [name, int(index.rstrip("]"))]
        else:
            out.append(part)
    return out


def _get(data: Any, fact: str) -> Any:
    node = data
    for step in _case_step(fact):
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return None
            node = node[step]
        else:
            if not isinstance(node, Mapping):
                return None
            node = node.get(step)
    return node


def _set_path(fact: str) -> str:
    return ".".join(str(s) for s in _case_step(fact))


def _candidates(assessment: dict[str, Any], data: Any, dimension: str) -> list[dict[str, Any]]:
    """Single changes to choice facts that would falsify some comparison a fired rule of ``dimension`` made."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for f in assessment["findings"]:
        if f["dimension"] != dimension or f["severity"] == "info":
            continue
        for ev in f["evidence"]:
            fact, entry, value = ev["fact"], operators.get(ev["op"]), ev["value"]
            derived = levers.sources(fact) != (fact,)
            for source in levers.sources(fact):
                if levers.lever(source) != "choice":
                    continue
                current = _get(data, source)
                if derived and source.endswith("country"):
                    options = _country_options(entry, value, current, str(assessment["provenance"]["as_of"]))
                elif derived:
                    continue  # a derived number or flag: its case sources are circumstances or not invertible here
                elif entry.allows is not None:  # only the listed values hold: any other of the fact's type
                    dual = operators.get(entry.negation).symbol
                    options = [(v, f"{dual} {value}") for v in _alternatives(assessment, source, value, current)]
                else:
                    options = entry.counter(value, current) if entry.counter is not None else []
                for new, condition in options:
                    key = (source, repr(new))
                    if new != current and key not in out:
                        out[key] = {"fact": source, "from": current, "to": new, "condition": condition,
                                    "rule": f["rule_id"]}
    return list(out.values())


def _country_options(entry: operators.Operator, value: Any, current: Any, day: str) -> list[tuple[Any, str]]:
    """Countries for a fact derived from a country (its EAR groups, say): outside the literal's values
    when the comparison asks the fact to be among them, in the one it asks to avoid otherwise."""
    from engine.source.tables import country_groups

    table = country_groups()
    groups = set(table.members)
    if entry.among:
        if not (isinstance(value, list) or value in groups):
            return []
        avoid = {value} if isinstance(value, str) else set(value)
        outside = f"a country outside {', '.join(sorted(avoid))}"
        return [(c, outside) for c in _country_alternatives(current, avoid, day)]
    if not operators.get(entry.negation).among:
        return []
    wanted = value if isinstance(value, str) else None  # lacks a group: move into it
    if wanted and wanted in groups:
        return [(c, f"a country in {wanted}") for c in sorted(
            m.country for m in table.members[wanted] if m.on(day))[:3]]
    return [(wanted, f"= {wanted}")] if wanted else []


def _alternatives(assessment: dict[str, Any], fact: str, value: Any, current: Any) -> list[Any]:
    """Other values for a fact compared by equality or membership: the enum of the case model."""
    from engine.case.factspec import catalogue

    cat = catalogue()
    steps = [s for s in _case_step(fact) if not isinstance(s, int)]
    ftype = None
    if len(steps) >= 2 and (steps[0],) in cat.items:
        ftype = cat.item_type((steps[0],), tuple(steps[1:]))
    else:
        ftype = cat.case_type(tuple(steps))
    excluded = set(value) if isinstance(value, list) else {value}
    if ftype is not None and ftype.enum:
        return [v for v in ftype.enum if v not in excluded and v != current]
    if ftype is not None and ftype.kind == "bool":
        return [v for v in (True, False) if v not in excluded]
    if isinstance(value, str) and fact.endswith("country"):
        return _country_alternatives(current, set(), str(assessment["provenance"]["as_of"]))[:4]
    return []


class _Trials:
    """Re-assessments of changed copies of one case, counted against ``MAX_TRIALS``."""

    def __init__(self, engine: Any, plain: dict[str, Any], day: str, scenario: str | None) -> None:
        self.engine, self.plain, self.day, self.scenario = engine, plain, day, scenario
        self.count = 0
        self.validated: dict[str, dict[str, Any]] = {}

    def trial(self, changes: list[dict[str, Any]], ranged: bool = False) -> dict[str, Any] | None:
        """The changed case re-assessed briefly; ``ranged``: with its ranges over unknown facts
        (asked only of a change that already brings the level below the goal)."""
        from engine.case.overrides import apply_set
        from engine.case.validation import plain_case

        if not ranged:  # a ranged re-assessment completes a trial already counted
            if self.count >= MAX_TRIALS:
                return None
            self.count += 1
        key = repr([(c["fact"], c["to"]) for c in changes])
        valid = self.validated.get(key)  # the ranged re-assessment reuses the case its trial validated
        try:
            if valid is None:
                changed = apply_set(copy.deepcopy(self.plain), {_set_path(c["fact"]): c["to"] for c in changes})
                valid = self.validated[key] = plain_case(changed)
            result: dict[str, Any] = self.engine.assess_plain(valid, as_of=self.day, scenario=self.scenario,
                                                              brief=True, bounds=ranged)
            return result
        except Exception:  # an override the case format refuses (e.g. a fraction above 1) is no counterfactual
            return None

    def lowers(self, changes: list[dict[str, Any]], result: dict[str, Any], dim: str, goal: int,
               worst_before: int) -> dict[str, Any] | None:
        """The ranged re-assessment when ``changes`` bring ``dim`` below ``goal`` on the facts given
        and open no new risk (a change that makes the worst case worse, e.g. a new destination whose
        licence facts are unknown, does not count); None otherwise. Ranges are worked out only for
        a change already below the goal on the known facts."""
        def under_goal(r: dict[str, Any]) -> bool:
            rd = r["dimensions"][dim]
            return rd["level"] is not None and LEVEL_ORDER[rd["level"]] < goal

        if not under_goal(result):
            return None
        ranged = self.trial(changes, ranged=True)
        if ranged is None:
            return None
        rd = ranged["dimensions"][dim]
        ok = under_goal(ranged) and LEVEL_ORDER[rd["level_range"][1]] <= max(worst_before, LEVEL_ORDER[rd["level"]])
        return ranged if ok else None


def _pairs(singles: list[dict[str, Any]], found: list[dict[str, Any]],
           progress: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Pairs of single changes worth trying: of facts no found change uses, on the same rule or
    both making progress."""
    done = {c["fact"] for f in found for c in f["changes"]}
    pool = [c for c in singles if c["fact"] not in done]
    pairs = []
    for i, a in enumerate(pool):
        for b in pool[i + 1:]:
            if a["fact"] != b["fact"] and (a["rule"] == b["rule"] or (a in progress and b in progress)):
                pairs.append([a, b])
    return pairs


def _lower(trials: _Trials, base: dict[str, Any], dim: str, target: str, max_size: int) -> list[dict[str, Any]]:
    """The verified counterfactuals that bring dimension ``dim`` below ``target``."""
    d = base["dimensions"][dim]
    goal = LEVEL_ORDER[target]
    worst_before = LEVEL_ORDER[d["level_range"][1]]
    singles = _candidates(base, trials.plain, dim)
    found: list[dict[str, Any]] = []
    progress = []
    for c in singles:
        result = trials.trial([c])
        if result is None:
            continue
        rd = result["dimensions"][dim]
        if (ranged := trials.lowers([c], result, dim, goal, worst_before)) is not None:
            found.append(_report([c], ranged, dim))
        elif rd["score"] < d["score"] or {x["rule_id"] for x in result["findings"]} < {
                x["rule_id"] for x in base["findings"]}:
            progress.append(c)
    found = _closest(found)
    if max_size >= 2:
        for pair in _pairs(singles, found, progress):
            result = trials.trial(pair)
            if result is None:
                continue
            if (ranged := trials.lowers(pair, result, dim, goal, worst_before)) is not None:
                found.append(_report(pair, ranged, dim))
    return _closest(found)


def find(data: Any, *, rules: RuleSet | None = None, below: str | None = None, dimension: str | None = None,
         as_of: Any = None, scenario: str | None = None, file: str | None = None,
         max_size: int = 2) -> dict[str, Any]:
    """Counterfactuals for a case given as data: per dimension at or above ``below`` (default:
    each dimension's own level, so "what would lower it"), the minimal verified change sets."""
    from engine.assessment.engine import engine_for, parse_as_of
    from engine.case.validation import plain_case
    from engine.ruleset.load import load_rules

    engine = engine_for(rules if rules is not None else load_rules())
    day = parse_as_of(as_of)
    plain = plain_case(data, file=file)
    base = engine.assess_plain(plain, as_of=day, scenario=scenario)
    trials = _Trials(engine, plain, day, scenario)
    out: dict[str, Any] = {"case_id": base["case_id"], "as_of": day, "rating": base["rating"], "dimensions": {}}
    for dim, d in base["dimensions"].items():
        if (dimension and dim != dimension) or not d["assessed"]:
            continue
        target = below or d["level"]
        if target == "low" or LEVEL_ORDER[d["level"]] < LEVEL_ORDER[target]:
            continue
        counterfactuals = _lower(trials, base, dim, target, max_size)
        out["dimensions"][dim] = {"level": d["level"], "below": target, "counterfactuals": counterfactuals,
                                  "complete": trials.count < MAX_TRIALS}
    out["trials"] = trials.count
    return out


def _report(changes: list[dict[str, Any]], result: dict[str, Any], dim: str) -> dict[str, Any]:
    return {"changes": [{k: c[k] for k in ("fact", "from", "to", "condition")} for c in changes],
            "level": result["dimensions"][dim]["level"], "level_range": result["dimensions"][dim]["level_range"],
            "rating": result["rating"]}


def _closest(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep, per set of facts changed, the change nearest the current values; drop supersets."""
    best: dict[tuple[str, ...], dict[str, Any]] = {}
    for f in found:
        key = tuple(sorted(c["fact"] for c in f["changes"]))
        old = best.get(key)
        if old is None or _distance(f) < _distance(old):
            best[key] = f
    keys = sorted(best, key=lambda k: (len(k), k))
    kept: list[tuple[str, ...]] = []
    for k in keys:
        if not any(set(s) <= set(k) for s in kept):
            kept.append(k)
    return [best[k] for k in kept]


def _distance(f: dict[str, Any]) -> float:
    total = 0.0
    for c in f["changes"]:
        a, b = c["from"], c["to"]
        both_numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))
        total += abs(a - b) if both_numbers else 1.0
    return total


def render_text(report: dict[str, Any]) -> str:
    """The ``airisk explain`` report."""
    lines = [f"{report['case_id']}  rated {str(report['rating']).upper()} as of {report['as_of']}"]
    if not report["dimensions"]:
        lines.append("No dimension is at or above the level asked: nothing to lower.")
    for dim, d in report["dimensions"].items():
        lines.append("")
        lines.append(f"{dim}: {d['level']} — to bring it below {d['below']}:")
        if not d["counterfactuals"]:
            lines.append("  no change to facts you control (choices) was found that does it"
                         + ("" if d["complete"] else " within the search limit"))
        for cf in d["counterfactuals"]:
            what = " and ".join(f"{c['fact']} {_fmt(c['from'])} → {_fmt(c['to'])} ({c['condition']})"
                                for c in cf["changes"])
            lines.append(f"  - {what}: {dim} becomes {cf['level']} (verified; rating {str(cf['rating']).upper()})")
    lines.append("")
    lines.append(f"{report['trials']} re-assessment(s); only facts marked 'choice' in "
                 "engine/assessment/levers.py are changed.")
    return "\n".join(lines) + "\n"


def _fmt(v: Any) -> str:
    if v is None:
        return "unknown"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return "[" + ", ".join(str(x) for x in v) + "]"
    return str(v)
