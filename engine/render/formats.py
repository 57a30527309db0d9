"""Render an assessment as JSON, text or Markdown. No stage after this one."""

from __future__ import annotations

import os
from typing import Any, TextIO

from engine.assessment.shape import canonical_json
from engine.lang import operators
from engine.lang.template import escape_invisible, format_value
from engine.ruleset.model import SEVERITY_ORDER

_LEVEL_COLOUR = {"low": "32", "medium": "33", "high": "31", "critical": "1;31"}


def render_json(assessment: dict[str, Any], *, indent: bool = True) -> bytes:
    """Canonical JSON: same input, rules and as-of → same bytes (``engine.assessment.shape``)."""
    return canonical_json(assessment, indent=indent)


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _c(text: str, code: str, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour else text


def _evidence_line(ev: dict[str, Any]) -> str:
    op = operators.symbol(ev["op"])
    if ev["op"] == "exists":
        return f"{ev['fact']} is {'known' if ev['value'] else 'unknown'}" + (
            f" ({format_value(ev['actual'])})" if ev["value"] else "")
    return f"{ev['fact']} = {format_value(ev['actual'])}  ({op} {format_value(ev['value'])})"


def _by_severity(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reports read most severe first; the JSON keeps the rulesets' order."""
    return sorted(findings, key=lambda f: (-SEVERITY_ORDER[f["severity"]], -f["points"], f["rule_id"]))


def headline(a: dict[str, Any], colour: bool = False) -> str:
    """``LOW — could be CRITICAL: 2 decisive facts unknown (…)``, or the rating alone when no
    unknown fact could raise it, or ``NOT ASSESSED``."""
    rating = a["rating"]
    if rating is None:
        return "NOT ASSESSED"
    text = _c(rating.upper(), _LEVEL_COLOUR[rating], colour)
    worst = (a.get("rating_range") or [rating, rating])[1]
    if worst != rating:
        facts = [u["fact"] for u in a["decisive_unknowns"]]
        shown = ", ".join(facts[:3]) + (", …" if len(facts) > 3 else "")
        text += (f" — could be {_c(worst.upper(), _LEVEL_COLOUR[worst], colour)}: {len(facts)} decisive "
                 f"fact{'s' if len(facts) != 1 else ''} unknown" + (f" ({shown})" if facts else ""))
    return text


def next_steps(a: dict[str, Any], limit: int = 3) -> list[str]:
    """What to do first: the decisive unknowns to collect, then the top remedies of the findings
    that drive the rating."""
    from engine.assessment.levers import collect_hint

    steps = []
    for u in a["decisive_unknowns"]:
        steps.append(f"Collect {collect_hint(u['fact'])}: it decides {', '.join(u['rules'][:6])}"
                     + (" …" if len(u["rules"]) > 6 else ""))
    by_id = {f["rule_id"]: f for f in a["findings"]}
    seen: set[str] = set()
    remedies = []
    ranked = sorted((d for d in a["dimensions"].values() if d["assessed"] and d["level"] != "low"),
                    key=lambda d: -SEVERITY_ORDER[d["level"]])
    for d in ranked:
        for rid in d["drivers"]:
            f = by_id.get(rid)
            if f and f["remediation"] and f["remediation"] not in seen:
                seen.add(f["remediation"])
                remedies.append(f"{f['remediation']} ({rid}, {f['severity']})")
    return steps + remedies[:limit]


def _level_cell(d: dict[str, Any]) -> str:
    return d["level"] if d["assessed"] else "not assessed"


def _range_cell(d: dict[str, Any]) -> str:
    r = d.get("level_range")
    if not r:
        return "-"
    return r[0] if r[0] == r[1] else f"{r[0]}–{r[1]}"


def render_text(a: dict[str, Any], *, colour: bool = False) -> str:
    """A report readable at a glance: headline, next steps, dimension table, findings with evidence."""
    lines = []
    lines.append(f"{a['case_id']}  {a.get('case_name') or ''}".rstrip())
    lines.append(f"Rating: {headline(a, colour)}   as of {a['provenance']['as_of']}"
                 + (f"   scenario {a['provenance']['scenario']}" if a["provenance"]["scenario"] else ""))
    lines.append(a["explanation"])
    if a.get("what_if"):
        from engine.authoring.whatif import render_text as what_if_lines

        lines.append("")
        lines += what_if_lines(a["what_if"])
    steps = next_steps(a)
    if steps:
        lines.append("")
        lines.append("Next steps:")
        lines += [f"- {step}" for step in steps]
    lines.append("")
    lines.append(f"{'dimension':<16} {'level':<13} {'range':<16} {'score':>5}  {'findings':>8}  confidence")
    for name, d in a["dimensions"].items():
        level = f"{_level_cell(d):<13}"
        missing = f"  missing: {', '.join(d['missing_facts'])}" if d["missing_facts"] else ""
        if not d["assessed"]:
            missing = "  the case describes nothing these rules are about"
        lines.append(f"{name:<16} {_c(level, _LEVEL_COLOUR.get(d['level'] or '', '2'), colour)} "
                     f"{_range_cell(d):<16} {d['score']:>5g}  {d['findings']:>8}  {d['confidence']:.0%}{missing}")
        if d["decisive_unknowns"]:
            lines.append(f"  decisive unknowns: {', '.join(u['fact'] for u in d['decisive_unknowns'])}")
        if d["not_assessed"]["rules"]:
            na = d["not_assessed"]
            lines.append(f"  not assessed: {na['rules']} rule(s) about {', '.join(na['missing_sections'])}, "
                         "which the case does not describe")
        for tier in d["tiers"].values():
            suffix = "" if tier["binding"] else " (indicative, non-binding)"
            lines.append(f"  {tier['title']}: {tier['tier']}{suffix}")
        for duty in d["duties"]:
            lines.append(f"  duty [{duty['jurisdiction']}]: {duty['obligation']}" +
                         (f" — {duty['deadline']}" if duty["deadline"] else ""))
    lines.append("")
    if a["findings"]:
        lines.append(f"Findings ({len(a['findings'])}):")
    for f in _by_severity(a["findings"]):
        sev = f["severity"].upper()
        lines.append(f"- [{_c(sev, _LEVEL_COLOUR.get(f['severity'], '0'), colour)}] {f['rule_id']} {f['title']}"
                     f"  (+{f['points']:g}, {f['basis']})")
        lines.append(f"    {f['message']}")
        for ev in f["evidence"]:
            lines.append(f"    · {_evidence_line(ev)}")
        window = f["effective"]
        sources = "; ".join(c["instrument"] + (f", {c['article']}" if c["article"] else "") for c in f["citations"][:2])
        lines.append(f"    in force {window['effective_from']} → {window['effective_to'] or 'open'}; {sources}")
        if f["remediation"]:
            lines.append(f"    remedy: {f['remediation']}")
        if f["would_change"]:
            lines.append(f"    would change: {f['would_change']}")
    if a["needs_information"]:
        lines.append("")
        lines.append(f"Needs information ({len(a['needs_information'])}):")
        for n in a["needs_information"]:
            lines.append(f"- {n['rule_id']} {n['title']}: missing {', '.join(n['missing'])}")
    prov = a["provenance"]
    lines.append("")
    lines.append(f"airisk {prov['engine_version']}; rulesets: " + ", ".join(
        f"{r['id']} {r['version']} ({r['rules_in_force']}/{r['rules']} in force, sha256 {r['sha256'][:12]})"
        for r in prov["rulesets"]))
    return escape_invisible("\n".join(lines) + "\n")


def render_markdown(a: dict[str, Any]) -> str:
    """A Markdown report for tickets and audit files."""
    out = [f"# {a['case_id']}: {a.get('case_name') or ''}".rstrip(), "",
           f"**Rating: {headline(a)}** (as of {a['provenance']['as_of']})", "", a["explanation"], ""]
    if a.get("what_if"):
        from engine.authoring.whatif import render_text as what_if_lines

        first, *rest = what_if_lines(a["what_if"])
        out += [f"## {first}", ""] + [f"- {line}" for line in rest] + [""]
    steps = next_steps(a)
    if steps:
        out += ["## Next steps", ""] + [f"- {step}" for step in steps] + [""]
    out += ["| dimension | level | range | score | findings | confidence | decisive unknowns |",
            "|---|---|---|---:|---:|---:|---|"]
    for name, d in a["dimensions"].items():
        decisive = ", ".join(f"`{u['fact']}`" for u in d["decisive_unknowns"])
        out.append(f"| {name} | {_level_cell(d)} | {_range_cell(d)} | {d['score']:g} | {d['findings']} | "
                   f"{d['confidence']:.0%} | {decisive} |")
    out.append("")
    for d in a["dimensions"].values():
        for tier in d["tiers"].values():
            out.append(f"- {tier['title']}: **{tier['tier']}**" + ("" if tier["binding"] else " (indicative)"))
        for duty in d["duties"]:
            out.append(f"- Duty ({duty['jurisdiction']}): {duty['obligation']}" +
                       (f" — {duty['deadline']}" if duty["deadline"] else ""))
    out += ["", "## Findings", ""]
    for f in _by_severity(a["findings"]):
        out.append(f"### {f['rule_id']} — {f['title']}")
        out.append("")
        out.append(f"*{f['severity']}, {f['dimension']}, +{f['points']:g} points, {f['basis']}*")
        out.append("")
        out.append(f["message"])
        out.append("")
        for ev in f["evidence"]:
            out.append(f"- `{_evidence_line(ev)}`")
        for c in f["citations"]:
            ref = c["instrument"] + (f", {c['article']}" if c["article"] else "")
            link = f"[{ref}]({c['url']})" if c["url"] else ref
            out.append(f"- Source: {link} ({c['confidence']}"
                       + (f", {c['date']}" if c["date"] else "") + ")")
        out.append(f"- In force: {f['effective']['effective_from']} → {f['effective']['effective_to'] or 'open'}")
        if f["remediation"]:
            out.append(f"- Remedy: {f['remediation']}")
        out.append("")
    if a["needs_information"]:
        out += ["## Needs information", ""]
        for n in a["needs_information"]:
            out.append(f"- {n['rule_id']} {n['title']}: missing {', '.join(f'`{m}`' for m in n['missing'])}")
        out.append("")
    return escape_invisible("\n".join(out))
