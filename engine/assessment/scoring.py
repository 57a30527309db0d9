"""Turn findings into dimension levels, scores, tiers and an overall rating.

The policy is data from the rulesets (``dimensions:`` in a ruleset header):
the score is the sum of the points of the dimension's findings, capped at 100;
the level is the highest whose threshold the score reaches, lifted to the most
severe finding's severity when the policy sets ``severity_floor``. Adding a
finding never lowers a score or a level (the scoring is monotone).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from engine.assessment.memo import Memo
from engine.assessment.shape import DIMENSION_RESULT, NOT_ASSESSED, RANGE_FILLINGS, TIER_RESULT, shaped
from engine.lang import conditions as C
from engine.lang import i18n
from engine.ruleset.model import DIMENSION_NAMES, LEVEL_ORDER, SEVERITY_ORDER, DimensionPolicy, RuleSet
from engine.scale import LEVELS

# Used only when no loaded ruleset declares a policy for a dimension (e.g. `input: document`
# rulesets such as the peerbench translation). An engine default, not a domain threshold: every
# bundled ruleset declares its own levels, with their rationale, in its header.
DEFAULT_THRESHOLDS = {"medium": 20.0, "high": 50.0, "critical": 75.0}


def _policy(rules: RuleSet, dimension: str) -> DimensionPolicy:
    return rules.dimensions.get(dimension) or DimensionPolicy(dimension, DEFAULT_THRESHOLDS, True, (), "")


class Scorer:
    """``score_dimensions`` with everything that depends only on the rules worked out once."""

    def __init__(self, rules: RuleSet, tier_dimension: dict[str, str]) -> None:
        self._dims = []
        for dim in DIMENSION_NAMES:
            policy = _policy(rules, dim)
            thresholds = policy.thresholds
            levels = tuple((name, thresholds[name]) for name in ("medium", "high", "critical"))
            key_facts = tuple((k, C.getter(tuple(k.split(".")))) for k in policy.key_facts)
            schemes = tuple((name, scheme, {t: i for i, t in enumerate(scheme.order)})
                            for name, scheme in rules.tiers.items() if tier_dimension.get(name) == dim)
            self._dims.append((dim, policy, levels, key_facts, schemes))
        self._levels = [(levels, policy.severity_floor) for _, policy, levels, _, _ in self._dims]

    def level_of(self, index: int, points: float, top: int) -> int:
        """The level rank the policy of dimension ``index`` gives a points total and a top
        severity rank (-2: no scored finding), exactly as ``score`` computes it."""
        levels, floor = self._levels[index]
        score = min(100.0, round(points, 6))
        level = 0
        for rank, (_, threshold) in enumerate(levels, start=1):
            if score >= threshold:
                level = rank
        if floor and top > level:
            level = top
        return level

    def score(self, findings: list[dict[str, Any]], view: dict[str, Any],
              not_assessed: dict[str, dict[str, Any]] | None = None,
              applicable: dict[str, int] | None = None,
              memo: Memo[Any, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
        """The ``dimensions`` block of an assessment.

        ``memo``: each dimension's block by what decides it (the rules fired in it, whether it is
        assessed, its missing key facts, its gap), for a caller whose findings' points, severities,
        tiers and duties are those of one set of rules in force (a plan), none waived, and who
        never changes the blocks' nested values (a batch worker: ``Engine.share_static``). Each
        block returned is a fresh dict; its nested values may be shared with other cases."""
        by_dim: dict[str, list[dict[str, Any]]] = {}
        for f in findings:
            by_dim.setdefault(f["dimension"], []).append(f)
        out: dict[str, dict[str, Any]] = {}
        severity_rank = SEVERITY_ORDER
        for dim, policy, levels, key_facts, schemes in self._dims:
            own = by_dim.get(dim, [])
            key: Any = None
            if memo is not None:
                assessed = applicable is None or applicable.get(dim, 0) > 0
                gap = (not_assessed or {}).get(dim)
                key = (dim, tuple([f["rule_id"] for f in own]), assessed,
                       tuple([k for k, get in key_facts if get(view) is C.MISSING]) if assessed else (),
                       (gap["rules"], tuple(gap["missing_sections"])) if gap else None)
                hit = memo.get(key)
                if hit is not None:
                    out[dim] = dict(hit)
                    continue
            scored = []
            points = 0  # as sum() starts, so a dimension without findings scores the integer 0
            top = -2
            for f in own:
                sev = severity_rank[f["severity"]]
                if sev >= 0 and f["waived"] is None:  # not "info", not waived (engine.waivers)
                    scored.append(f)
                    points += f["points"]
                    if sev > top:
                        top = sev
            score = min(100.0, round(points, 6))
            level = "low"
            for name, threshold in levels:
                if score >= threshold:
                    level = name
            floor_driven = False
            if policy.severity_floor and scored and top > LEVEL_ORDER[level]:
                level = LEVELS[top]
                floor_driven = True
            # A dimension none of whose rules applies to this case (a chatbot has no facility) is
            # reported as not assessed: no level (not "low"), and no list of "missing" facts it
            # was never about.
            assessed = applicable is None or applicable.get(dim, 0) > 0
            drivers = _drivers(scored, level, floor_driven, policy) if level != "low" and assessed else []
            missing = [k for k, get in key_facts if get(view) is C.MISSING] if assessed else []
            confidence = (0.0 if not assessed else 1.0 if not key_facts
                          else round(1 - len(missing) / len(key_facts), 4))
            duties: list[dict[str, Any]] = []
            for f in own:
                if f["duty"] and f["duty"] not in duties:
                    duties.append(f["duty"])
            gap = (not_assessed or {}).get(dim)
            out[dim] = shaped(
                DIMENSION_RESULT, assessed=assessed, level=level if assessed else None,
                level_range=[level, level] if assessed else None, score=score, findings=len(own),
                drivers=drivers, confidence=confidence, missing_facts=missing, decisive_unknowns=[],
                range_fillings=shaped(RANGE_FILLINGS, best={}, worst={}) if assessed else None,
                tiers=_tiers(own, schemes), duties=duties,
                not_assessed=shaped(NOT_ASSESSED, rules=gap["rules"], missing_sections=list(gap["missing_sections"]))
                if gap else shaped(NOT_ASSESSED, rules=0, missing_sections=[]))
            if memo is not None:
                memo.put(key, dict(out[dim]))
        return out


def _drivers(scored: list[dict[str, Any]], level: str, floor_driven: bool, policy: DimensionPolicy) -> list[str]:
    """The rule ids that set ``level``, most severe first: those at or above it when the severity
    floor set it, else the highest-scoring findings that together reach its threshold."""
    severity_rank = SEVERITY_ORDER
    if floor_driven:
        ranked = sorted(scored, key=lambda f: (-severity_rank[f["severity"]], -f["points"], f["rule_id"]))
        least = LEVEL_ORDER[level]
        return [f["rule_id"] for f in ranked if severity_rank[f["severity"]] >= least]
    drivers, total = [], 0.0
    for f in sorted(scored, key=lambda f: (-f["points"], f["rule_id"])):
        drivers.append(f["rule_id"])
        total += f["points"]
        if total >= policy.thresholds[level]:
            break
    return drivers


def _tiers(own: list[dict[str, Any]], schemes: tuple[tuple[str, Any, dict[str, int]], ...]) -> dict[str, Any]:
    """Each tier scheme's result: the most severe tier a finding placed the case in, or the default."""
    tiers: dict[str, dict[str, Any]] = {}
    for name, scheme, rank in schemes:
        placed = [(rank[f["tier"][name]], f["rule_id"]) for f in own if name in f["tier"]]
        if placed:
            best = min(i for i, _ in placed)
            tiers[name] = shaped(TIER_RESULT, title=scheme.title, tier=scheme.order[best], binding=scheme.binding,
                                 rules=sorted(r for i, r in placed if i == best))
        else:
            tiers[name] = shaped(TIER_RESULT, title=scheme.title, tier=scheme.default, binding=scheme.binding,
                                 rules=[])
    return tiers


def score_dimensions(rules: RuleSet, findings: list[dict[str, Any]], view: dict[str, Any],
                     tier_dimension: dict[str, str],
                     not_assessed: dict[str, dict[str, Any]] | None = None,
                     applicable: dict[str, int] | None = None) -> dict[str, dict[str, Any]]:
    """The ``dimensions`` block of an assessment (``Scorer`` keeps the rule-only work between cases)."""
    return Scorer(rules, tier_dimension).score(findings, view, not_assessed, applicable)


@lru_cache(maxsize=64)
def _scope(lang: str, covered: tuple[str, ...], skipped: tuple[str, ...]) -> str:
    """`` Covers safety, overcapacity; not assessed: export_control.`` in ``lang`` (few combinations: cached)."""
    p = i18n.PHRASES.get(lang, i18n.PHRASES["en"])
    sep = p["sep.list"]
    if not covered:
        return ""
    return (p["overall.covers"].format(covered=sep.join(i18n.name(lang, d) for d in covered))
            + (p["overall.skipped"].format(skipped=sep.join(i18n.name(lang, d) for d in skipped)) if skipped
               else p["overall.end"]))


def overall(dimensions: dict[str, dict[str, Any]], titles: dict[str, str],
            rating_range: list[str] | None = None,
            decisive: list[dict[str, Any]] | None = None, lang: str = "en") -> tuple[str | None, str]:
    """(rating, explanation): the highest level among the assessed dimensions, what drove it,
    which dimensions it covers, and how bad it could be while decisive facts are unknown.

    The explanation is in ``lang``, its sentences from ``engine.lang.i18n``. The rating is None
    when no dimension is assessed (nothing in the case is about any rule)."""
    p = i18n.PHRASES.get(lang, i18n.PHRASES["en"])
    names = i18n.NAMES.get(lang) or {}  # i18n.name, inline: English names are the values themselves
    covered = tuple([dim for dim, d in dimensions.items() if d["assessed"]])
    if not covered:
        return None, p["overall.none"]
    scope = _scope(lang, covered, tuple([dim for dim, d in dimensions.items() if not d["assessed"]]))
    rating = max((dimensions[dim]["level"] for dim in covered), key=LEVEL_ORDER.__getitem__)
    could = ""
    if rating_range is not None and rating_range[1] != rating:
        named = p["sep.list"].join(d["fact"] for d in (decisive or [])[:5])
        count = len(decisive or [])
        shown = named + (p["more"] if count > 5 else "")
        could = p["overall.could"].format(level=names.get(rating_range[1]) or rating_range[1].upper(), count=count,
                                          facts=p["facts" if count != 1 else "fact"],
                                          named=p["overall.named"].format(names=shown) if named else "")
    if rating == "low":
        return rating, p["overall.low"] + could + scope
    parts = []
    opened, closed = p["paren.open"], p["paren.close"]  # "OVC-002 (title)": f-strings, not a format per rule
    for dim in covered:
        result = dimensions[dim]
        if result["level"] != rating:
            continue
        named = p["sep.items"].join([f"{rid}{opened}{titles.get(rid, '')}{closed}" for rid in result["drivers"][:5]])
        more = len(result["drivers"]) - 5
        if more > 0:
            named += p["overall.more"].format(more=more)
        parts.append(p["overall.driven"].format(dim=names.get(dim, dim), level=names.get(rating, rating),
                                                score=f"{result['score']:g}", named=named))
    return rating, p["overall.rated"].format(level=names.get(rating) or rating.upper(),
                                             parts=p["sep.parts"].join(parts)) + could + scope
