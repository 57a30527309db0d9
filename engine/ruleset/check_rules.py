"""Meaning checks of a ruleset's header and of each rule: scope (`requires`), windows, scenarios,
the basis a rule rests on, tiers, and the placeholders of its text.

The condition checks are ``engine.ruleset.check_conditions``; ``engine.ruleset.load`` runs both
and collects every problem, each located at its file, line, column and JSON pointer.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.errors import ProblemList, did_you_mean
from engine.ruleset.check_conditions import _check_condition, _contradictions
from engine.source.safeyaml import Document

if TYPE_CHECKING:
    from engine.case.factspec import Catalogue

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)(?::([^{}]*))?\}")
_SPEC_OK = re.compile(r"^[<>^=]?[+\- ]?[,_]?(?:\d{1,3})?(?:[,_])?(?:\.\d{1,2})?[%fegd]?$")


def placeholders(
    doc: Document,
    text: str,
    path: list[str | int],
    cat: Catalogue | None,
    lists: set[tuple[str, ...]],
    problems: ProblemList,
) -> None:
    """Each `{PATH}` / `{PATH:SPEC}` of a rule's text names a fact it can see, with a number format."""
    for match in _PLACEHOLDER.finditer(text):
        name, spec = match.group(1), match.group(2)
        if spec is not None and not _SPEC_OK.match(spec):
            problems.add(
                doc.where(
                    path,
                    f"format {spec!r} in {{{name}}} is not a number format",
                    hint="use e.g. ',.0f', '.2f' or '.1%'",
                )
            )
        if cat is None:
            continue
        parts = tuple(name.split("."))
        if cat.case_type(parts) is not None:
            continue
        ok = any(parts[: len(lp)] == lp and cat.item_type(lp, parts[len(lp) :]) is not None for lp in lists)
        if not ok:
            problems.add(
                doc.where(
                    path,
                    f"placeholder {{{name}}} names no fact this rule can see",
                    hint=did_you_mean(name, [".".join(p) for p in cat.case]),
                )
            )
    stripped = _PLACEHOLDER.sub("", text)
    if "{" in stripped or "}" in stripped:
        problems.add(
            doc.where(path, "unbalanced or malformed { } in text", hint="write {fact.path} or {fact.path:,.0f}")
        )


def _check_requires(
    doc: Document, requires: Any, path: list[str | int], cat: Catalogue | None, problems: ProblemList
) -> None:
    """`requires` names case sections (objects or lists) that exist in the case model."""
    if cat is None or not isinstance(requires, list):
        return
    sections = [".".join(p) for p, t in cat.case.items() if t.kind in ("object", "object_list", "scalar_list")]
    for i, name in enumerate(requires):
        if not isinstance(name, str):
            continue
        ftype = cat.case_type(tuple(name.split(".")))
        if ftype is None:
            problems.add(doc.where([*path, i], f"unknown case section {name!r}", code="unknown_fact",
                                   hint=did_you_mean(name, sections)))
        elif ftype.kind not in ("object", "object_list", "scalar_list"):
            problems.add(doc.where([*path, i], f"{name!r} is a single fact, not a section; requires names sections",
                                   code="type_mismatch", hint=did_you_mean(name, sections)))


@dataclass
class Context:
    """What the per-rule checks need from the header (and the rule ids seen so far)."""

    cat: Catalogue | None
    tiers_raw: Any
    tiers: dict[str, Any]
    scenarios: dict[str, Any]
    seen: dict[str, int] = field(default_factory=dict)


def check_header(doc: Document, header: dict[str, Any], ctx: Context, problems: ProblemList) -> None:
    """Tier defaults, dimension level thresholds and key facts, and the default `requires`."""
    for name, scheme in ctx.tiers.items():
        if isinstance(scheme.get("order"), list) and scheme.get("default") not in scheme["order"]:
            problems.add(doc.where(["ruleset", "tiers", name, "default"], "the default tier is not in `order`"))
    dims = header.get("dimensions") or {}
    for dim, policy in dims.items() if isinstance(dims, dict) else ():
        levels = policy.get("levels") if isinstance(policy, dict) else None
        numeric = isinstance(levels, dict) and all(
            isinstance(levels.get(k), int | float) for k in ("medium", "high", "critical")
        )
        rising = numeric and isinstance(levels, dict) and (
            0 < levels["medium"] <= levels["high"] <= levels["critical"] <= 100
        )
        if numeric and not rising:
            problems.add(doc.where(["ruleset", "dimensions", dim, "levels"],
                                   "level thresholds must rise: 0 < medium ≤ high ≤ critical ≤ 100", code="level_gap"))
        key_facts = policy.get("key_facts") if isinstance(policy, dict) else None
        for i, fact in enumerate(key_facts if isinstance(key_facts, list) else []):
            if ctx.cat is not None and isinstance(fact, str) and ctx.cat.case_type(tuple(fact.split("."))) is None:
                known = [".".join(p) for p in ctx.cat.case]
                problems.add(doc.where(["ruleset", "dimensions", dim, "key_facts", i], f"unknown fact {fact!r}",
                                       code="unknown_fact", hint=did_you_mean(fact, known)))
    _check_requires(doc, header.get("requires"), ["ruleset", "requires"], ctx.cat, problems)


def _check_windows(doc: Document, raw: dict[str, Any], base: list[str | int], ctx: Context,
                   problems: ProblemList) -> None:
    frm, to = raw.get("effective_from"), raw.get("effective_to")
    if isinstance(frm, str) and isinstance(to, str) and to < frm:
        problems.add(doc.where([*base, "effective_to"], f"effective_to {to} is before effective_from {frm}",
                               code="inverted_window"))
    rule_scenarios = raw.get("scenarios")
    for sname, win in rule_scenarios.items() if isinstance(rule_scenarios, dict) else ():
        if sname not in ctx.scenarios:
            problems.add(doc.where([*base, "scenarios", sname], f"scenario {sname!r} is not declared in the header",
                                   hint=did_you_mean(sname, list(ctx.scenarios))))
        if (
            isinstance(win, dict)
            and isinstance(win.get("effective_to"), str)
            and isinstance(win.get("effective_from"), str)
            and win["effective_to"] < win["effective_from"]
        ):
            problems.add(doc.where([*base, "scenarios", sname, "effective_to"],
                                   "effective_to is before effective_from", code="inverted_window"))


def _check_basis(doc: Document, raw: dict[str, Any], base: list[str | int], problems: ProblemList) -> None:
    """A binding rule rests on a dated, linked, not UNCONFIRMED source; an info finding has no points."""
    cites_raw = raw.get("citations")
    cites: list[Any] = cites_raw if isinstance(cites_raw, list) else []
    if raw.get("basis") == "binding":
        if not any(isinstance(c, dict) and c.get("url") and c.get("date") for c in cites):
            problems.add(doc.where([*base, "citations"], "a binding rule needs a citation with a url and a date",
                                   code="citation"))
        if any(isinstance(c, dict) and c.get("confidence") == "UNCONFIRMED" for c in cites):
            problems.add(doc.where([*base, "basis"], "a rule resting on an UNCONFIRMED source cannot be binding",
                                   code="citation", hint="use basis: advisory and say so in the message"))
    if raw.get("severity") == "info" and raw.get("points"):
        problems.add(doc.where([*base, "points"], "an info finding adds no points; set points: 0"))


def _check_rule_tiers(doc: Document, raw: dict[str, Any], base: list[str | int], ctx: Context,
                      problems: ProblemList) -> None:
    rule_tier = raw.get("tier")
    for scheme, tier in rule_tier.items() if isinstance(rule_tier, dict) else ():
        order = ctx.tiers.get(scheme, {}).get("order")
        if isinstance(ctx.tiers_raw, dict) and scheme in ctx.tiers_raw and not isinstance(order, list):
            continue  # the scheme itself is malformed: its schema error says so
        if scheme not in ctx.tiers:
            problems.add(doc.where([*base, "tier", scheme], f"tier scheme {scheme!r} is not declared",
                                   hint=did_you_mean(scheme, list(ctx.tiers))))
        elif isinstance(order, list) and tier not in order:
            problems.add(doc.where([*base, "tier", scheme], f"{tier!r} is not a tier of {scheme}",
                                   hint=did_you_mean(str(tier), [str(o) for o in order])))


def check_rule(doc: Document, raw: dict[str, Any], i: int, resolved: bool, ctx: Context,
                problems: ProblemList) -> None:
    """Every meaning check of one rule (its condition only when its names and parameters resolved)."""
    base: list[str | int] = ["rules", i]
    _check_requires(doc, raw.get("requires"), [*base, "requires"], ctx.cat, problems)
    rid = raw.get("id")
    if isinstance(rid, str):
        if rid in ctx.seen and ctx.seen[rid] != i:  # the dated variants of one rule share its id
            problems.add(doc.where([*base, "id"], f"duplicate rule id {rid!r} (first at rules[{ctx.seen[rid]}])",
                                   code="duplicate_id"))
        else:
            ctx.seen[rid] = i
    if "when" not in raw:
        return
    when = raw["when"]
    if resolved:
        before = len(problems.problems)
        _check_condition(doc, when, [*base, "when"], ctx.cat, None, False, problems)
        if len(problems.problems) == before:
            _contradictions(doc, when, [*base, "when"], True, problems)
    _check_windows(doc, raw, base, ctx, problems)
    _check_basis(doc, raw, base, problems)
    _check_rule_tiers(doc, raw, base, ctx, problems)


# --------------------------------------------------------------------------- languages (issue 21)

RULE_TEXTS = ("title", "message", "remediation", "would_change")
DUTY_TEXTS = ("obligation", "deadline")


def placeholder_tokens(text: str) -> Counter[str]:
    """The placeholders of a text as written (``{fact.path}``, ``{fact.path:,.0f}``, ``{param.name}``),
    counted: a translation must have the same multiset as the English."""
    return Counter(m.group(0) for m in _PLACEHOLDER.finditer(text))


def _show(tokens: Counter[str]) -> str:
    return ", ".join(f"{t} ×{n}" if n > 1 else t for t, n in sorted(tokens.items()))


@dataclass(frozen=True)
class _Pair:
    """An English mapping and its translation, where each is in the document."""

    english: dict[str, Any]
    translated: Any
    en_path: list[str | int]
    tr_path: list[str | int]
    what: str  # "rule OVC-001", "the ruleset header", "tier eu_ai_act" …


def _check_pair(doc: Document, pair: _Pair, fields: tuple[str, ...], lang: str, required: bool,
                problems: ProblemList) -> None:
    """Each English text field has its translation (when ``required``) with the same placeholders,
    and the translation has no field the English lacks."""
    present = [f for f in fields if isinstance(pair.english.get(f), str)]
    if not isinstance(pair.translated, dict):
        if required and present:
            problems.add(doc.where(pair.tr_path, f"{pair.what} has no `{lang}:` text ({', '.join(present)}); the "
                                   f"ruleset declares languages including {lang}", code="missing_language",
                                   hint=f"add `{lang}: {{{', '.join(f'{f}: …' for f in present)}}}` "
                                        "beside the English"))
        return
    for fld in fields:
        en, tr = pair.english.get(fld), pair.translated.get(fld)
        if not isinstance(tr, str):
            if required and isinstance(en, str):
                problems.add(doc.where([*pair.tr_path, fld], f"{pair.what}: `{fld}` has no {lang} text",
                                       code="missing_language", hint=f"add `{fld}:` under `{lang}:`"))
            continue
        if not isinstance(en, str):
            problems.add(doc.where([*pair.tr_path, fld], f"{pair.what}: {lang} `{fld}` translates nothing (there is "
                                   f"no English `{fld}`)", code="missing_language",
                                   hint=f"write the English `{fld}` first, or remove this one"))
            continue
        want, got = placeholder_tokens(en), placeholder_tokens(tr)
        if want != got:
            lacks, extra = want - got, got - want
            said = "; ".join(part for part in (f"lacks {_show(lacks)}" if lacks else "",
                                               f"has {_show(extra)} the English does not" if extra else "") if part)
            problems.add(doc.where([*pair.tr_path, fld], f"{pair.what}: the placeholders of {lang} `{fld}` differ "
                                   f"from the English: it {said}", code="placeholder_mismatch",
                                   hint="a translation uses exactly the English placeholders (any order)"))


def declared_languages(header: dict[str, Any]) -> tuple[str, ...]:
    """The languages a ruleset header declares (``languages:``); English alone when it declares none."""
    langs = header.get("languages")
    if not isinstance(langs, list) or not all(isinstance(x, str) for x in langs):
        return ("en",)
    return tuple(langs)


def check_translations(doc: Document, header: dict[str, Any], rules: list[Any], translated: tuple[str, ...],
                       problems: ProblemList) -> None:
    """Every language the header declares (``languages: [en, zh]``) is complete: the header's title
    and description, each tier's title, and each rule's title, message, remediation, would_change
    and duty text; and every translation given, declared or not, has the English placeholders."""
    declared = declared_languages(header)
    for lang in translated:
        req = lang in declared
        _check_pair(doc, _Pair(header, header.get(lang), ["ruleset"], ["ruleset", lang], "the ruleset header"),
                    ("title", "description"), lang, req, problems)
        tiers = header.get("tiers")
        for name, scheme in tiers.items() if isinstance(tiers, dict) else ():
            if isinstance(scheme, dict):
                _check_pair(doc, _Pair(scheme, scheme.get(lang), ["ruleset", "tiers", name],
                                       ["ruleset", "tiers", name, lang], f"tier scheme {name}"), ("title",), lang, req,
                            problems)
        for i, raw in enumerate(rules):
            if not isinstance(raw, dict):
                continue
            what = f"rule {raw.get('id')}"
            own = raw.get(lang)
            _check_pair(doc, _Pair(raw, own, ["rules", i], ["rules", i, lang], what), RULE_TEXTS, lang, req, problems)
            duty = raw.get("duty")
            if isinstance(duty, dict) and (isinstance(own, dict) or not req):
                _check_pair(doc, _Pair(duty, own.get("duty") if isinstance(own, dict) else None, ["rules", i, "duty"],
                                       ["rules", i, lang, "duty"], f"{what} duty"), DUTY_TEXTS, lang, req, problems)
            elif isinstance(own, dict) and isinstance(own.get("duty"), dict) and not isinstance(duty, dict):
                problems.add(doc.where(["rules", i, lang, "duty"], f"{what}: {lang} `duty` translates nothing (the "
                                       "rule has no duty)", code="missing_language"))
