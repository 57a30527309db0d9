"""Text and Markdown of a timeline (``airisk timeline``; its JSON is ``History.timeline``'s data).

The chrome (labels, level, severity and dimension names) is in the timeline's ``lang`` from the
phrase table ``engine.lang.i18n``; the rules' titles and messages are already in that language
(``engine.ruleset.translate``). English is the text the renderer wrote before it had languages."""

from __future__ import annotations

from typing import Any

from engine.lang.i18n import name, phrase
from engine.timeline.timeline import describe

__all__ = ["render_timeline"]


def _level(level: str | None, lang: str) -> str:
    return phrase(lang, "not_assessed") if level is None else name(lang, level)


def _range(span: list[str] | None, lang: str) -> str:
    if not span:
        return "-"
    return name(lang, span[0]) if span[0] == span[1] else f"{name(lang, span[0])}–{name(lang, span[1])}"


def _levels(dimensions: dict[str, Any], lang: str) -> str:
    return phrase(lang, "sep.list").join(
        f"{name(lang, d)} {_level(r['level'], lang)}"
        + (f" [{_range(r['level_range'], lang)}]" if r["level_range"] and r["level_range"][0] != r["level_range"][1]
           else "")
        for d, r in dimensions.items())


def _citation(c: dict[str, Any]) -> str:
    where = ", ".join(x for x in (c.get("instrument"), c.get("article")) if x)
    return f"{where} [{c.get('confidence')}]" + (f" {c['url']}" if c.get("url") else "")


def _finding_lines(sign: str, f: dict[str, Any], md: bool, lang: str) -> list[str]:
    lead = "- " if md else "    "
    out = [f"{lead}{sign} {f['rule_id']} [{name(lang, f['severity'], upper=True)}] {f['title']}"]
    pad = "  " if md else "        "
    out.append(f"{pad}{f['message']}")
    out += [f"{pad}{phrase(lang, 'tl.source', citation=_citation(c))}" for c in f["citations"]]
    return out


def render_timeline(t: dict[str, Any], fmt: str = "text") -> str:
    """A timeline as ``text`` or ``markdown``: the state on the first day, then each step with its
    moves and the findings that appear (+), disappear (−) or change (~), with their citations; in
    the timeline's ``lang`` (English when it has none)."""
    md = fmt == "markdown"
    lang = str(t.get("lang") or "en")
    start = t["start"]
    window = f"{t['from']} → {t['to']}" + (phrase(lang, "tl.scenario", scenario=t["scenario"]) if t["scenario"] else "")
    title = f"{t['case_id']}  {t.get('case_name') or ''}".rstrip()
    out = ([phrase(lang, "tl.title", title=title), "", window, ""] if md
           else [title, phrase(lang, "tl.window", window=window)])
    first = phrase(lang, "tl.first", date=start["date"], rating=_level(start["rating"], lang),
                   range=_range(start["rating_range"], lang), levels=_levels(start["dimensions"], lang),
                   count=len(start["findings"]))
    out += [phrase(lang, "tl.start", date=start["date"]), "", first, ""] if md else ["", first]
    if not t["steps"]:
        out.append(phrase(lang, "tl.md_none" if md else "tl.none"))
    for s in t["steps"]:
        head = phrase(lang, "tl.head", was=_level(s["was"]["rating"], lang), now=_level(s["rating"], lang),
                      was_range=_range(s["was"]["rating_range"], lang), range=_range(s["rating_range"], lang))
        levels = phrase(lang, "tl.levels", levels=_levels(s["dimensions"], lang))
        said = describe(s, lang)
        if md:
            out += [f"## {s['date']}", "", said, "", head, "", levels, ""]
        else:
            out += ["", f"{s['date']}  {head}", f"  {said[len(s['date']) + 2:]}", f"  {levels}"]
        for sign, key in (("+", "appeared"), ("−", "disappeared"), ("~", "changed")):
            for f in s[key]:
                out += _finding_lines(sign, f, md, lang)
        if s["rules_changing"]:
            line = phrase(lang, "tl.rules_changing", rules=phrase(lang, "sep.list").join(s["rules_changing"]))
            out += ["", line, ""] if md else [f"  {line}"]
    out += ["", phrase(lang, "tl.tail", days=len(t["days"]), steps=len(t["steps"]))]
    return "\n".join(out).rstrip() + "\n"
