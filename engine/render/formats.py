"""Render an assessment as JSON, text or Markdown. No stage after this one.

The text and Markdown reports write their chrome (headings, labels, level and dimension names)
in the assessment's ``lang`` from the phrase table ``engine.lang.i18n``; the rules' own text
is already in that language (``engine.ruleset.translate``)."""

from __future__ import annotations

import os
from typing import Any, TextIO

from engine.assessment.shape import canonical_json
from engine.lang import operators
from engine.lang.i18n import name, phrase
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


def _lang(a: dict[str, Any]) -> str:
    return str(a.get("lang") or "en")


def headline(a: dict[str, Any], colour: bool = False) -> str:
    """``LOW — could be CRITICAL: 2 decisive facts unknown (…)``, or the rating alone when no
    unknown fact could raise it, or ``NOT ASSESSED`` (in the assessment's language)."""
    lang = _lang(a)
    rating = a["rating"]
    if rating is None:
        return phrase(lang, "not_assessed.rating")
    text = _c(name(lang, rating, upper=True), _LEVEL_COLOUR[rating], colour)
    worst = (a.get("rating_range") or [rating, rating])[1]
    if worst != rating:
        facts = [u["fact"] for u in a["decisive_unknowns"]]
        sep = phrase(lang, "sep.list")
        shown = sep.join(facts[:3]) + (phrase(lang, "more") if len(facts) > 3 else "")
        text += (phrase(lang, "headline.could", level=_c(name(lang, worst, upper=True), _LEVEL_COLOUR[worst], colour),
                        count=len(facts), facts=phrase(lang, "facts" if len(facts) != 1 else "fact"))
                 + (phrase(lang, "overall.named", names=shown) if facts else ""))
    return text


def _collect_hint(fact: str, lang: str) -> str:
    """How a user supplies a reported fact (``levers.collect_hint``, in ``lang``)."""
    from engine.assessment.levers import sources

    found = sources(fact)
    if found == (fact,):
        return fact
    return phrase(lang, "hint.from", fact=fact, sources=phrase(lang, "hint.or").join(found))


def next_steps(a: dict[str, Any], limit: int = 3) -> list[str]:
    """What to do first: the decisive unknowns to collect, then the top remedies of the findings
    that drive the rating."""
    lang = _lang(a)
    sep = phrase(lang, "sep.list")
    steps = []
    for u in a["decisive_unknowns"]:
        steps.append(phrase(lang, "step.collect", hint=_collect_hint(u["fact"], lang), rules=sep.join(u["rules"][:6]))
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
                remedies.append(phrase(lang, "step.remedy", remedy=f["remediation"], rule=rid,
                                       severity=name(lang, f["severity"])))
    return steps + remedies[:limit]


def _level_cell(d: dict[str, Any], lang: str = "en") -> str:
    return name(lang, d["level"]) if d["assessed"] else phrase(lang, "not_assessed")


def _range_cell(d: dict[str, Any], lang: str = "en") -> str:
    r = d.get("level_range")
    if not r:
        return "-"
    return name(lang, r[0]) if r[0] == r[1] else f"{name(lang, r[0])}–{name(lang, r[1])}"


def _width(text: str) -> int:
    """The columns a text takes in a terminal: East Asian wide and full-width characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _ljust(text: str, width: int) -> str:
    return text + " " * (width - _width(text)) if not text.isascii() else f"{text:<{width}}"


def _rjust(text: str, width: int) -> str:
    return " " * (width - _width(text)) + text if not text.isascii() else f"{text:>{width}}"


def _deadline(duty: dict[str, Any], lang: str) -> str:
    return phrase(lang, "deadline", deadline=duty["deadline"]) if duty["deadline"] else ""


def _text_dimensions(a: dict[str, Any], colour: bool) -> list[str]:
    """The dimension table of the text report, with each dimension's gaps, tiers and duties."""
    lang = _lang(a)
    sep = phrase(lang, "sep.list")
    col = {k: phrase(lang, f"col.{k}") for k in ("dimension", "level", "range", "score", "findings", "confidence")}
    lines = [f"{_ljust(col['dimension'], 16)} {_ljust(col['level'], 13)} {_ljust(col['range'], 16)} "
             f"{_rjust(col['score'], 5)}  {_rjust(col['findings'], 8)}  {col['confidence']}"]
    for dim, d in a["dimensions"].items():
        level = _ljust(_level_cell(d, lang), 13)
        missing = phrase(lang, "text.missing", facts=sep.join(d["missing_facts"])) if d["missing_facts"] else ""
        if not d["assessed"]:
            missing = phrase(lang, "text.nothing")
        lines.append(f"{_ljust(name(lang, dim), 16)} {_c(level, _LEVEL_COLOUR.get(d['level'] or '', '2'), colour)} "
                     f"{_ljust(_range_cell(d, lang), 16)} {d['score']:>5g}  {d['findings']:>8}  "
                     f"{d['confidence']:.0%}{missing}")
        if d["decisive_unknowns"]:
            lines.append(phrase(lang, "text.decisive", facts=sep.join(u["fact"] for u in d["decisive_unknowns"])))
        if d["not_assessed"]["rules"]:
            na = d["not_assessed"]
            lines.append(phrase(lang, "text.not_assessed", rules=na["rules"],
                                sections=sep.join(na["missing_sections"])))
        for tier in d["tiers"].values():
            suffix = "" if tier["binding"] else phrase(lang, "text.nonbinding")
            lines.append(f"  {tier['title']}: {tier['tier']}{suffix}")
        for duty in d["duties"]:
            lines.append(phrase(lang, "text.duty", jurisdiction=duty["jurisdiction"], obligation=duty["obligation"])
                         + _deadline(duty, lang))
    return lines


def _text_findings(a: dict[str, Any], colour: bool) -> list[str]:
    """The findings of the text report, most severe first, with evidence, window, sources and remedy."""
    lang = _lang(a)
    lines = []
    if a["findings"]:
        lines.append(phrase(lang, "text.findings", count=len(a["findings"])))
    for f in _by_severity(a["findings"]):
        sev = name(lang, f["severity"], upper=True)
        lines.append(f"- [{_c(sev, _LEVEL_COLOUR.get(f['severity'], '0'), colour)}] {f['rule_id']} {f['title']}"
                     + phrase(lang, "text.points", points=f"{f['points']:g}", basis=name(lang, f["basis"])))
        if f.get("waived"):
            lines.append("    " + phrase(lang, "waiver.line", **_waiver_values(f["waived"])))
        lines.append(f"    {f['message']}")
        for ev in f["evidence"]:
            lines.append(f"    · {_evidence_line(ev)}")
        window = f["effective"]
        sources = phrase(lang, "sep.items").join(c["instrument"] + (f", {c['article']}" if c["article"] else "")
                                                 for c in f["citations"][:2])
        lines.append(phrase(lang, "text.in_force", start=window["effective_from"],
                            end=window["effective_to"] or phrase(lang, "open"), sources=sources))
        if f["remediation"]:
            lines.append(phrase(lang, "text.remedy", text=f["remediation"]))
        if f["would_change"]:
            lines.append(phrase(lang, "text.would_change", text=f["would_change"]))
    return lines


def render_text(a: dict[str, Any], *, colour: bool = False) -> str:
    """A report readable at a glance: headline, next steps, dimension table, findings with evidence."""
    lang = _lang(a)
    lines = []
    lines.append(f"{a['case_id']}  {a.get('case_name') or ''}".rstrip())
    lines.append(phrase(lang, "text.rating", headline=headline(a, colour), as_of=a["provenance"]["as_of"])
                 + (phrase(lang, "text.scenario", scenario=a["provenance"]["scenario"])
                    if a["provenance"]["scenario"] else ""))
    lines.append(a["explanation"])
    if a.get("upcoming"):  # issue 19: the changes due within --horizon days
        lines.append(phrase(lang, "text.upcoming"))
        lines += [f"- {u['text']}" for u in a["upcoming"]]
    if a.get("what_if"):
        from engine.authoring.whatif import render_text as what_if_lines

        lines.append("")
        lines += what_if_lines(a["what_if"])
    steps = next_steps(a)
    if steps:
        lines.append("")
        lines.append(phrase(lang, "text.next"))
        lines += [f"- {step}" for step in steps]
    lines.append("")
    lines += _text_dimensions(a, colour)
    lines.append("")
    lines += _text_findings(a, colour)
    if a["needs_information"]:
        lines.append("")
        lines.append(phrase(lang, "text.needs", count=len(a["needs_information"])))
        for n in a["needs_information"]:
            lines.append(phrase(lang, "text.missing_item", rule=n["rule_id"], title=n["title"],
                                facts=phrase(lang, "sep.list").join(n["missing"])))
    prov = a["provenance"]
    lines.append("")
    lines.append(phrase(lang, "text.footer", version=prov["engine_version"], rulesets=", ".join(
        phrase(lang, "text.ruleset", id=r["id"], version=r["version"], in_force=r["rules_in_force"], rules=r["rules"],
               sha=r["sha256"][:12])
        for r in prov["rulesets"])))
    return escape_invisible("\n".join(lines) + "\n")


# --------------------------------------------------------------------------- Markdown


def _md_table(a: dict[str, Any]) -> list[str]:
    """The dimension table, then each dimension's tiers and duties."""
    lang = _lang(a)
    cols = [phrase(lang, f"col.{k}") for k in ("dimension", "level", "range", "score", "findings", "confidence",
                                                 "decisive")]
    out = ["| " + " | ".join(cols) + " |", "|---|---|---|---:|---:|---:|---|"]
    for dim, d in a["dimensions"].items():
        decisive = ", ".join(f"`{u['fact']}`" for u in d["decisive_unknowns"])
        out.append(f"| {name(lang, dim)} | {_level_cell(d, lang)} | {_range_cell(d, lang)} | {d['score']:g} | "
                   f"{d['findings']} | {d['confidence']:.0%} | {decisive} |")
    out.append("")
    for d in a["dimensions"].values():
        for tier in d["tiers"].values():
            out.append(f"- {tier['title']}: **{tier['tier']}**"
                       + ("" if tier["binding"] else phrase(lang, "md.indicative")))
        for duty in d["duties"]:
            out.append(phrase(lang, "md.duty", jurisdiction=duty["jurisdiction"], obligation=duty["obligation"])
                       + _deadline(duty, lang))
    return out


def _waiver_values(w: dict[str, Any]) -> dict[str, Any]:
    """The placeholders of the ``waiver.line`` phrase for a finding's ``waived`` block."""
    where = f"{w['file']}:{w['line']}" if w.get("line") else w["file"]
    return {"approver": w["approver"], "expires": w["expires"], "reason": w["reason"], "where": where,
            "ticket": f", {w['ticket']}" if w.get("ticket") else ""}


def _md_finding(f: dict[str, Any], lang: str, marks: set[str]) -> list[str]:
    """One finding: its heading, grading, message, evidence, sources, window, remedy and what would change it."""
    out = [f"### {f['rule_id']} — {f['title']}", "",
           phrase(lang, "md.meta", severity=name(lang, f["severity"]), dimension=name(lang, f["dimension"]),
                  points=f"{f['points']:g}", basis=name(lang, f["basis"])), "", f["message"], ""]
    if f.get("waived"):
        out[-1:-1] = ["", "> " + phrase(lang, "waiver.line", **_waiver_values(f["waived"]))]
    for ev in f["evidence"]:
        out.append(f"- `{_evidence_line(ev)}`")
    for c in f["citations"]:
        ref = c["instrument"] + (f", {c['article']}" if c["article"] else "")
        link = f"[{ref}]({c['url']})" if c["url"] else ref
        marks.add(c["confidence"])
        out.append(phrase(lang, "md.source", ref=link, confidence=c["confidence"],
                          date=f", {c['date']}" if c["date"] else ""))
    out.append(phrase(lang, "md.in_force", start=f["effective"]["effective_from"],
                      end=f["effective"]["effective_to"] or phrase(lang, "open")))
    if f["remediation"]:
        out.append(phrase(lang, "md.remedy", text=f["remediation"]))
    if f["would_change"]:
        out.append(phrase(lang, "md.would_change", text=f["would_change"]))
    out.append("")
    return out


def _md_missing(a: dict[str, Any]) -> list[str]:
    """The facts the case does not give: the rules waiting on them, each dimension's missing key
    facts, and the decisive unknowns (what could move the rating)."""
    lang = _lang(a)
    out: list[str] = []
    if a["needs_information"]:
        out += [phrase(lang, "md.needs"), ""]
        for n in a["needs_information"]:
            out.append(phrase(lang, "md.missing_item", rule=n["rule_id"], title=n["title"],
                              facts=", ".join(f"`{m}`" for m in n["missing"])))
        out.append("")
    gaps = [(dim, d) for dim, d in a["dimensions"].items() if d["assessed"] and d["missing_facts"]]
    if gaps or a["decisive_unknowns"]:
        out += [phrase(lang, "md.missing"), ""]
    if gaps:
        out += [phrase(lang, "md.missing_intro"), ""]
        for dim, d in gaps:
            out.append(phrase(lang, "md.missing_dim", dimension=name(lang, dim), confidence=f"{d['confidence']:.0%}",
                              facts=", ".join(f"`{m}`" for m in d["missing_facts"])))
        out.append("")
    if a["decisive_unknowns"]:
        out += [phrase(lang, "md.decisive"), ""]
        for u in a["decisive_unknowns"]:
            out.append(phrase(lang, "md.decisive_item", fact=u["fact"], rules=", ".join(u["rules"])))
        out.append("")
    return out


def _md_provenance(a: dict[str, Any]) -> list[str]:
    """What the rating was computed with: engine, as-of, scenario, language, each ruleset's id,
    version, rules in force and full SHA-256, and the waivers applied when the provenance has any."""
    lang = _lang(a)
    prov = a["provenance"]
    out = [phrase(lang, "md.provenance"), "", phrase(lang, "md.engine", version=prov["engine_version"]),
           phrase(lang, "md.as_of", as_of=prov["as_of"]),
           (phrase(lang, "md.scenario", scenario=prov["scenario"]) if prov["scenario"]
            else phrase(lang, "md.no_scenario")),
           phrase(lang, "md.lang", code=lang), "", phrase(lang, "md.rulesets"), "|---|---|---:|---|"]
    for r in prov["rulesets"]:
        out.append(f"| {r['id']} | {r['version']} | {r['rules_in_force']}/{r['rules']} | `{r['sha256']}` |")
    out.append("")
    waivers = prov.get("waivers")
    if isinstance(waivers, dict):  # the one waiver file applied (engine.waivers): {file, sha256, waivers}
        waivers = [waivers]
    if waivers:
        out += [phrase(lang, "md.waivers"), ""]
        for w in waivers:
            shown = ("; ".join(f"{k}: {v}" for k, v in w.items() if v not in (None, "", []))
                     if isinstance(w, dict) else w)
            out.append(f"- {shown}")
        out.append("")
    return out


def _md_legend(marks: set[str], lang: str) -> list[str]:
    """The meaning of each confidence mark the report's sources use, in the order of the scale."""
    from engine.ruleset.schema import CONFIDENCES

    used = [m for m in CONFIDENCES if m in marks]
    if not used:
        return []
    return [phrase(lang, "md.legend"), "", phrase(lang, "md.legend_intro"), "",
            *(f"- **{m}**: {phrase(lang, f'mark.{m}')}" for m in used), ""]


def render_markdown(a: dict[str, Any]) -> str:
    """A Markdown report for tickets and audit files: the rating and what drove it, next steps,
    the dimensions, each finding with its sources and what would change it, the missing facts,
    the provenance (engine, rulesets and their SHA-256, as-of, scenario) and a legend of the
    confidence marks."""
    lang = _lang(a)
    out = [f"# {a['case_id']}: {a.get('case_name') or ''}".rstrip(), "",
           phrase(lang, "md.rating", headline=headline(a), as_of=a["provenance"]["as_of"]), "", a["explanation"], ""]
    if a.get("upcoming"):  # issue 19: the changes due within --horizon days
        out += [phrase(lang, "md.upcoming"), ""] + [f"- {u['text']}" for u in a["upcoming"]] + [""]
    if a.get("what_if"):
        from engine.authoring.whatif import render_text as what_if_lines

        first, *rest = what_if_lines(a["what_if"])
        out += [f"## {first}", ""] + [f"- {line}" for line in rest] + [""]
    steps = next_steps(a)
    if steps:
        out += [phrase(lang, "md.next"), ""] + [f"- {step}" for step in steps] + [""]
    out += _md_table(a)
    out += ["", phrase(lang, "md.findings"), ""]
    marks: set[str] = set()
    for f in _by_severity(a["findings"]):
        out += _md_finding(f, lang, marks)
    out += _md_missing(a)
    out += _md_provenance(a)
    out += _md_legend(marks, lang)
    return escape_invisible("\n".join(out))
