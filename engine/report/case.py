"""The HTML case report (``airisk assess --format html``): one self-contained, printable page.

``render_html`` turns assessment dicts into the page: the headline with its range and decisive
unknowns, the dimension panel, the EU tier and Chinese duties, the findings with their evidence
tables, citations, remediation and "would change", the rules that need information, and the
full provenance. Several cases make one page with a list of contents. The page has no script.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.lang import operators
from engine.lang.template import escape_invisible, format_value
from engine.report import pages, strings
from engine.scale import LEVEL_ORDER, SEVERITY_ORDER
from engine.version import __version__


def render_html(assessments: Sequence[Mapping[str, Any]], lang: str | None = None) -> bytes:
    """One HTML page reporting every assessment in ``assessments`` (each a dict as
    ``engine.assess_dict`` returns it). ``lang`` overrides the chrome's language, which is
    otherwise the first result's ``lang`` (English when it has none)."""
    chosen = strings.lang_of(assessments[0] if assessments else {}, lang)
    t = strings.table(chosen)
    cases = [case_context(a, t) for a in assessments]
    title = cases[0]["case_id"] if len(cases) == 1 else t["report_title"]
    return pages.render("case.html.j2", t=t, cases=cases, title=title, css=pages.asset("report.css"),
                        footer=t["generated_by"].format(version=__version__))


def _show(value: Any) -> str:
    return escape_invisible(format_value(value))


def evidence_row(ev: Mapping[str, Any], t: Mapping[str, Any]) -> dict[str, str]:
    """One row of a finding's evidence table: fact, operator symbol, threshold, actual value."""
    if ev["op"] == "exists":
        threshold = t["known"] if ev["value"] else t["unknown"]
        return {"fact": ev["fact"], "op": operators.symbol("exists"), "threshold": threshold,
                "actual": _show(ev["actual"]) if ev["value"] else t["unknown"]}
    return {"fact": ev["fact"], "op": operators.symbol(ev["op"]), "threshold": _show(ev["value"]),
            "actual": _show(ev["actual"])}


def _finding(f: Mapping[str, Any], t: Mapping[str, Any]) -> dict[str, Any]:
    window = f.get("effective") or {}
    return {
        **f,
        "evidence_rows": [evidence_row(ev, t) for ev in f.get("evidence") or []],
        "window": f"{window.get('effective_from') or ''} → {window.get('effective_to') or t['open']}",
        "points_text": f"+{f['points']:g}",
        "waived": f.get("waived"),
    }


def _dimension(name: str, d: Mapping[str, Any], t: Mapping[str, Any]) -> dict[str, Any]:
    level = d["level"] if d["assessed"] else None
    rng = d.get("level_range") or [level, level]
    na = d.get("not_assessed") or {"rules": 0, "missing_sections": []}
    note = (t["not_assessed_rules"].format(n=na["rules"], sections=", ".join(na["missing_sections"]))
            if na["rules"] else "")
    return {
        "name": name, "label": t["dim_names"].get(name, name), "assessed": d["assessed"],
        "level": level or "none", "worst": (rng[1] if rng and rng[1] else level) or "none",
        "ranged": bool(rng and rng[0] != rng[1]), "score": d["score"],
        "score_pct": max(0.0, min(100.0, float(d["score"]))), "findings": d["findings"],
        "confidence": f"{d['confidence']:.0%}", "drivers": d.get("drivers") or [],
        "missing": d.get("missing_facts") or [], "decisive": d.get("decisive_unknowns") or [],
        "note": note,
    }


def case_context(a: Mapping[str, Any], t: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the case template shows of one assessment, in the order it shows it."""
    rating = a.get("rating")
    best, worst = a.get("rating_range") or [rating, rating]
    worst = worst or rating
    dims = [_dimension(name, d, t) for name, d in a["dimensions"].items()]
    tiers = [{"dimension": t["dim_names"].get(name, name), **tier}
             for name, d in a["dimensions"].items() for tier in (d.get("tiers") or {}).values()]
    duties = [duty for d in a["dimensions"].values() for duty in d.get("duties") or []]
    findings = sorted(a["findings"], key=lambda f: (-SEVERITY_ORDER[f["severity"]], -f["points"], f["rule_id"]))
    prov = a["provenance"]
    what_if = None
    if a.get("what_if"):
        from engine.authoring.whatif import render_text as what_if_lines

        what_if = what_if_lines(a["what_if"])
    return {
        "case_id": a["case_id"], "case_name": a.get("case_name") or "", "kind": a.get("kind") or "",
        "rating": rating or "none", "worst": worst or "none",
        "ranged": bool(rating and worst and LEVEL_ORDER[worst] > LEVEL_ORDER[rating]),
        "range": [best or "none", worst or "none"] if best != worst else None,
        "decisive": a.get("decisive_unknowns") or [], "explanation": a.get("explanation") or "",
        "dims": dims, "tiers": tiers, "duties": duties,
        "findings": [_finding(f, t) for f in findings],
        "needs": a.get("needs_information") or [],
        "prov": prov, "waivers": prov.get("waivers"), "what_if": what_if, "upcoming": _upcoming(a),
    }


def _upcoming(a: Mapping[str, Any]) -> dict[str, Any] | None:
    """The assessment's ``upcoming`` list (issue 19) as the page's table reads it: each day's
    one-line summary, its dimension and rating moves and the rules that appear and disappear."""
    entries = a.get("upcoming")
    if not entries:
        return None
    changes, rating = [], a.get("rating")
    for u in entries:
        changes.append({"date": u["date"], "summary": u["text"],
                        "dimensions": {m["dimension"]: {"from": m["from"], "to": m["to"]} for m in u["moves"]},
                        "rating": {"from": rating, "to": u["rating"]} if u["rating"] != rating else None,
                        "added": [r["rule_id"] for r in u["appeared"]],
                        "removed": [r["rule_id"] for r in u["disappeared"]]})
        rating = u["rating"]
    return {"from": a["provenance"]["as_of"], "until": entries[-1]["date"], "changes": changes}
