"""What a waiver file does to one assessment (called by ``Engine.assess_view``).

- A finding that a *live* waiver covers (its rule, this case, created ≤ as-of ≤ expires) is
  marked ``waived`` with the waiver's reason, approver, ticket, dates, file and line. It stays in
  the report; it does not count toward its dimension's score, level or drivers, nor toward
  ``--fail-on``. Its tier (an EU prohibited tier, say) is still reported: a waiver accepts a risk,
  it does not change what the law says the system is.
- A waiver applies to findings that *fired*. A rule that is undecided for want of a fact still
  counts at the worst end of the range, even if a waiver names it: a waiver accepts a risk that
  was found, never one nobody has established (unknown is never safe).
- A waiver that covers a finding but has expired on the as-of date does not apply, and the
  assessment gets a ``WAIVER-EXPIRED`` finding of its own (info, 0 points) naming the waiver.
- A waived finding that is a prohibited tier or an Entity List hit is named in the explanation
  (the headline) with who waived it and until when; every other waived finding is named there
  too, so a waiver is never silent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from engine.assessment.shape import EFFECTIVE_WINDOW, FINDING, shaped
from engine.lang import conditions as C
from engine.lang import i18n
from engine.ruleset.model import Rule, RuleSet
from engine.waivers.model import Waiver, WaiverSet

EXPIRED_RULE = "WAIVER-EXPIRED"


def protected_kind(rule: Rule | None, finding: Mapping[str, Any], rules: RuleSet) -> str | None:
    """``prohibited`` when the finding places the case in the most severe tier of a binding tier
    scheme (the EU AI Act's prohibited tier), ``entity_list`` when the rule reads an Entity List
    fact; None otherwise. These are never waived silently."""
    for name, tier in finding["tier"].items():
        scheme = rules.tiers.get(name)
        if scheme is not None and scheme.binding and scheme.order and tier == scheme.order[0]:
            return "prohibited"
    if rule is not None:
        case_paths, item_paths = C.references(rule.condition)
        paths = set(case_paths).union(*item_paths.values()) if item_paths else set(case_paths)
        if any(p and p[-1] == "entity_list" for p in paths):
            return "entity_list"
    return None


def _expired_finding(w: Waiver, f: Mapping[str, Any], day: str, lang: str) -> dict[str, Any]:
    p = i18n.PHRASES.get(lang, i18n.PHRASES["en"])
    where = f"{w.file}:{w.line}" if w.line else w.file
    values = {"rule": f["rule_id"], "expires": w.expires, "approver": w.approver, "where": where,
              "ticket": f" ({w.ticket})" if w.ticket else ""}
    after = (dt.date.fromisoformat(w.expires) + dt.timedelta(days=1)).isoformat()
    return shaped(
        FINDING, rule_id=EXPIRED_RULE, ruleset="waivers", dimension=f["dimension"], severity="info", points=0,
        basis="advisory", title=p["waiver.expired.title"].format(**values),
        message=p["waiver.expired.message"].format(**values),
        evidence=[{"fact": "waiver.expires", "op": "lt", "value": day, "actual": w.expires},
                  {"fact": "waiver.file", "op": "eq", "value": w.file, "actual": w.file},
                  {"fact": "waiver.line", "op": "eq", "value": w.line, "actual": w.line}],
        citations=[{"instrument": p["waiver.expired.source"].format(**values), "article": None, "url": None,
                    "date": w.created, "confidence": "P", "note": w.reason}],
        remediation=p["waiver.expired.remedy"].format(**values), would_change=None,
        effective=shaped(EFFECTIVE_WINDOW, effective_from=after, effective_to=None),
        tier={}, duty=None, tags=["waiver"], waived=None)


def apply(waivers: WaiverSet, findings: list[dict[str, Any]], view: Mapping[str, Any], case_id: str, day: str,
          lang: str) -> tuple[set[str], list[dict[str, Any]]]:
    """Mark the findings live waivers cover (in place; each marked finding gets a fresh dict) and
    return (the waived rule ids, the WAIVER-EXPIRED findings to add)."""
    waived: set[str] = set()
    expired: list[dict[str, Any]] = []
    tags = view.get("tags")
    covering = [w for w in waivers.waivers if w.state(day) != "future"]
    if not covering:
        return waived, expired
    case_match: dict[int, bool] = {}
    for i, f in enumerate(findings):
        for w in covering:
            if not w.covers_rule(f["rule_id"]):
                continue
            hit = case_match.get(w.index)
            if hit is None:
                hit = case_match[w.index] = w.covers_case(case_id, tags, view)
            if not hit:
                continue
            if w.state(day) == "expired":
                waivers.expired_hits.add(w.index)
                expired.append(_expired_finding(w, f, day, lang))
                continue
            waivers.used.add(w.index)
            findings[i] = dict(f, waived=w.as_output())
            waived.add(f["rule_id"])
            break
    return waived, expired


def explanation_note(findings: list[dict[str, Any]], rules: RuleSet, rule_of: Callable[[str], Rule | None],
                     lang: str) -> str:
    """The sentence the explanation gains: every waived finding, by whom and until when, the
    prohibited tiers and Entity List hits marked."""
    p = i18n.PHRASES.get(lang, i18n.PHRASES["en"])
    protected: list[str] = []
    others: list[str] = []
    for f in findings:
        w = f.get("waived")
        if not isinstance(w, Mapping):
            continue
        kind = protected_kind(rule_of(f["rule_id"]), f, rules)
        item = p["waiver.item"].format(rule=f["rule_id"], mark=p[f"waiver.kind.{kind}"] if kind else "",
                                       approver=w["approver"], expires=w["expires"])
        (protected if kind else others).append(item)
    if not protected and not others:
        return ""
    # Prohibited tiers and Entity List hits are always named; the others up to five, then a count.
    shown = protected + others[:5]
    text = p["sep.items"].join(shown)
    if len(others) > 5:
        text += p["overall.more"].format(more=len(others) - 5)
    return p["waiver.note"].format(items=text)
