"""Text and Markdown of a timeline (``airisk timeline``; its JSON is ``History.timeline``'s data)."""

from __future__ import annotations

from typing import Any

from engine.timeline.timeline import describe

__all__ = ["render_timeline"]


def _level(level: str | None) -> str:
    return "not assessed" if level is None else level


def _range(span: list[str] | None) -> str:
    return "-" if not span else span[0] if span[0] == span[1] else f"{span[0]}–{span[1]}"


def _levels(dimensions: dict[str, Any]) -> str:
    return ", ".join(f"{d} {_level(r['level'])}" + (f" [{_range(r['level_range'])}]" if r["level_range"]
                                                     and r["level_range"][0] != r["level_range"][1] else "")
                     for d, r in dimensions.items())


def _citation(c: dict[str, Any]) -> str:
    where = ", ".join(x for x in (c.get("instrument"), c.get("article")) if x)
    return f"{where} [{c.get('confidence')}]" + (f" {c['url']}" if c.get("url") else "")


def _finding_lines(sign: str, f: dict[str, Any], md: bool) -> list[str]:
    lead = "- " if md else "    "
    out = [f"{lead}{sign} {f['rule_id']} [{f['severity'].upper()}] {f['title']}"]
    pad = "  " if md else "        "
    out.append(f"{pad}{f['message']}")
    out += [f"{pad}source: {_citation(c)}" for c in f["citations"]]
    return out


def render_timeline(t: dict[str, Any], fmt: str = "text") -> str:
    """A timeline as ``text`` or ``markdown``: the state on the first day, then each step with its
    moves and the findings that appear (+), disappear (−) or change (~), with their citations."""
    md = fmt == "markdown"
    start = t["start"]
    window = f"{t['from']} → {t['to']}" + (f", scenario {t['scenario']}" if t["scenario"] else "")
    title = f"{t['case_id']}  {t.get('case_name') or ''}".rstrip()
    out = [f"# Timeline: {title}", "", window, ""] if md else [title, f"Timeline {window}"]
    first = (f"{start['date']}: rating {_level(start['rating'])} [{_range(start['rating_range'])}]; "
             f"{_levels(start['dimensions'])}; {len(start['findings'])} finding(s)")
    out += [f"## {start['date']} (start)", "", first, ""] if md else ["", first]
    if not t["steps"]:
        out.append("No change in this window." if md else "  no change in this window")
    for s in t["steps"]:
        head = (f"rating {_level(s['was']['rating'])} → {_level(s['rating'])} "
                f"[{_range(s['was']['rating_range'])} → {_range(s['rating_range'])}]")
        levels = f"levels: {_levels(s['dimensions'])}"
        if md:
            out += [f"## {s['date']}", "", describe(s), "", head, "", levels, ""]
        else:
            out += ["", f"{s['date']}  {head}", f"  {describe(s)[len(s['date']) + 2:]}", f"  {levels}"]
        for sign, key in (("+", "appeared"), ("−", "disappeared"), ("~", "changed")):
            for f in s[key]:
                out += _finding_lines(sign, f, md)
        if s["rules_changing"]:
            line = "rules starting or ending that day: " + ", ".join(s["rules_changing"])
            out += ["", line, ""] if md else [f"  {line}"]
    tail = (f"{len(t['days'])} day(s) of change in the window (rules starting or ending, country groups); "
            f"{len(t['steps'])} changed this case")
    out += ["", tail]
    return "\n".join(out).rstrip() + "\n"
