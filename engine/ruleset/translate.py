"""The rules in one language: a RuleSet whose rules, tiers and citations read in ``lang``.

A loaded ruleset holds every language it was written in (``Rule.texts``, ``Ruleset.texts``,
``Citation.titles``); ``in_language`` returns the same rules with the text fields of ``lang``
in place of the English ones. Ids, facts, conditions, windows, points and tiers' values are
unchanged, so the compiled matching core (which holds conditions only, never text) is shared
between the languages; the rules are new objects, so every per-rule cache of text (a finding's
pre-rendered message, its citations) is kept apart per language.

A text a ruleset does not give in ``lang`` stays English (a user ruleset declaring only ``en``
still assesses with ``--lang zh``: the report's chrome is Chinese, its rules' text English).
"""

from __future__ import annotations

import weakref
from dataclasses import replace
from functools import lru_cache
from typing import Any

from engine.lang.i18n import LANGS
from engine.ruleset.model import Citation, Rule, RuleSet, Ruleset, TierScheme

__all__ = ["LANGS", "in_language", "rule_in"]

# Each translated RuleSet's rules as loaded, so that it can be given in another language again.
_LOADED: weakref.WeakKeyDictionary[RuleSet, RuleSet] = weakref.WeakKeyDictionary()


@lru_cache(maxsize=8)  # one RuleSet per (rules, language): the Engine, its plans and matchers are reused
def in_language(rules: RuleSet, lang: str) -> RuleSet:
    """``rules`` with their text in ``lang`` (``en``: ``rules`` itself). ValueError for a language
    airisk does not render."""
    if lang not in LANGS:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGS)}")
    if lang == rules.lang:
        return rules
    loaded = _LOADED.get(rules, rules)
    if lang == "en":
        return loaded
    out = RuleSet(tuple(_ruleset(rs, lang) for rs in loaded.rulesets), cache_key=loaded.cache_key, lang=lang)
    _LOADED[out] = loaded
    return out


def _ruleset(rs: Ruleset, lang: str) -> Ruleset:
    own = rs.texts.get(lang, {})
    tier_titles = own.get("tiers", {})
    tiers: dict[str, TierScheme] = {k: replace(v, title=tier_titles[k]) if k in tier_titles else v
                                    for k, v in rs.tiers.items()}
    return replace(rs, title=own.get("title", rs.title), tiers=tiers, rules=tuple(rule_in(r, lang) for r in rs.rules))


def rule_in(rule: Rule, lang: str) -> Rule:
    """One rule with its text in ``lang`` where the ruleset gives it (English elsewhere)."""
    own: dict[str, Any] = rule.texts.get(lang, {})
    duty = rule.duty
    if duty is not None and own.get("duty"):
        duty = {**duty, **own["duty"]}
    return replace(
        rule,
        title=own.get("title", rule.title),
        message=own.get("message", rule.message),
        remediation=own.get("remediation", rule.remediation) if rule.remediation is not None else None,
        would_change=own.get("would_change", rule.would_change) if rule.would_change is not None else None,
        duty=duty,
        citations=tuple(_citation(c, lang) for c in rule.citations),
    )


def _citation(cite: Citation, lang: str) -> Citation:
    title = dict(cite.titles).get(lang)
    return replace(cite, instrument=title) if title else cite
