"""Dated parameters: a ruleset's ``parameters:`` section and the ``{param: name}`` that uses one.

Like OpenFisca's parameters, a value is given per date, and the value in force on a day
is the one with the latest date on or before it::

    parameters:
      tpp_3a090a:
        description: TPP at or above which an IC is 3A090.a
        unit: TPP
        source: fr-88-73458
        values: {"2022-10-21": 4800}
      density_3a090a: {"2023-11-17": 5.92}     # short form: the values alone

A comparison uses a parameter as its value (``{fact: derived.tpp, gte: {param: tpp_3a090a}}``)
and rule text names it as a placeholder (``{param.tpp_3a090a}``, ``{param.tpp_3a090a:,.0f}``);
both are replaced at load time by the value in force over the rule's window.

A threshold changes in one place: a rule whose window spans a change of a parameter it
uses (directly, through a named condition or in its text) is loaded as one dated variant
per epoch (``variants``), each with its window cut at the change and the value in force
over it, all with the rule's id. On any day exactly one variant is in force, so the
matching core, the evidence and the finding's effective window show the value of that day.
A rule with scenario windows is not cut (a scenario's window may lie across the cut): it
must lie in one epoch of every parameter it uses, or it is refused with the rule, the
parameter and the date. A window that starts before a parameter's first date is refused
too (the rule would have no value).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any

from engine.errors import ProblemList, did_you_mean
from engine.ruleset.model import Parameter
from engine.source.safeyaml import Document

PARAM = "param"
TEXT_FIELDS = ("title", "message", "remediation", "would_change")
_PLACEHOLDER = re.compile(r"\{param\.([a-z_][a-z0-9_]*)(?::([^{}]*))?\}")
_META = ("description", "unit", "source")


def _valid_date(text: str) -> bool:
    try:
        return dt.date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


def parse_parameters(doc: Document, data: dict[str, Any], source_keys: list[str] | None,
                     problems: ProblemList) -> dict[str, Parameter]:
    """The ``parameters:`` section (shapes are the schema's; dates and source keys are checked here)."""
    raw = data.get("parameters")
    out: dict[str, Parameter] = {}
    for name, spec in raw.items() if isinstance(raw, dict) else ():
        if not isinstance(spec, dict):
            continue
        long_form = "values" in spec
        values = spec.get("values") if long_form else spec
        base: list[str | int] = ["parameters", name, "values"] if long_form else ["parameters", name]
        if not isinstance(values, dict):
            continue
        for day in values:
            if not _valid_date(day):
                problems.add(doc.where([*base, day], f"{day!r} is not a date (YYYY-MM-DD)", code="parameter"))
        source = spec.get("source") if long_form else None
        if isinstance(source, str) and source_keys is not None and source not in source_keys:
            problems.add(doc.where(["parameters", name, "source"], f"unknown source {source!r}",
                                   code="unknown_source", hint=did_you_mean(source, source_keys)))
        meta = {k: spec.get(k) for k in _META} if long_form else {}
        out[name] = Parameter(name, tuple(sorted(values.items())), **meta)
    return out


def _windows(raw: dict[str, Any]) -> list[tuple[str, str | None]]:
    wins = [(raw.get("effective_from"), raw.get("effective_to"))]
    scen = raw.get("scenarios")
    for win in scen.values() if isinstance(scen, dict) else ():
        if isinstance(win, dict):
            wins.append((win.get("effective_from"), win.get("effective_to")))
    return [(f, t if isinstance(t, str) else None) for f, t in wins if isinstance(f, str)]


def value_for(param: Parameter, rule: dict[str, Any]) -> tuple[Any, str | None]:
    """(the one value of ``param`` over the rule's windows, None) or (None, why there is not one)."""
    rid = rule.get("id")
    found: list[Any] = []
    for frm, to in _windows(rule):
        value = param.at(frm)
        if value is None:
            return None, (f"rule {rid} is in force from {frm}, before parameter {param.name!r} has a value "
                          f"(its first date is {param.values[0][0]})")
        for start, new in param.values:
            if frm < start and (to is None or start <= to) and new != value:
                span = f"{frm} → {to or 'open-ended'}"
                return None, (f"parameter {param.name!r} changes on {start} ({value} → {new}), inside rule {rid}'s "
                              f"window {span}; split the rule at {start}")
        found.append(value)
    if len(set(map(repr, found))) > 1:
        return None, f"rule {rid}'s scenario windows see different values of parameter {param.name!r}: {found}"
    return (found[0] if found else None), None


def _lookup(doc: Document, name: Any, path: list[str | int], params: dict[str, Parameter], rule: dict[str, Any],
            problems: ProblemList) -> tuple[bool, Any]:
    if not isinstance(name, str) or name not in params:
        problems.add(doc.where(path, f"unknown parameter {name!r}", code="unknown_param",
                               hint=did_you_mean(str(name), list(params)) or "declare it under `parameters:`"))
        return False, None
    value, why = value_for(params[name], rule)
    if why is not None:
        problems.add(doc.where(path, why, code="parameter_window",
                               hint="one rule per epoch of the parameter: end this rule the day before, "
                                    "start a new one on the date"))
        return False, None
    return True, value


def resolve(doc: Document, node: Any, path: list[str | int], params: dict[str, Parameter], rule: dict[str, Any],
            problems: ProblemList) -> Any:
    """``node`` (an expanded condition) with every ``{param: name}`` value replaced by the value in force."""
    if isinstance(node, list):
        return [resolve(doc, v, [*path, i], params, rule, problems) for i, v in enumerate(node)]
    if not isinstance(node, dict):
        return node
    if "fact" not in node:
        return {k: resolve(doc, v, [*path, k], params, rule, problems) for k, v in node.items()}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, dict) and PARAM in value:
            ok, value = _lookup(doc, value[PARAM], [*path, key, PARAM], params, rule, problems)
            if not ok:
                value = {PARAM: node[key][PARAM]}
        out[key] = value
    return out


def substitute_text(doc: Document, rule: dict[str, Any], path: list[str | int], params: dict[str, Parameter],
                    problems: ProblemList) -> dict[str, Any]:
    """The rule with ``{param.name}`` / ``{param.name:spec}`` in its text fields replaced by the value in force."""
    out = dict(rule)
    for fld in TEXT_FIELDS:
        text = rule.get(fld)
        if not isinstance(text, str) or "{param." not in text:
            continue

        def one(match: re.Match[str], fld: str = fld) -> str:
            name, spec = match.group(1), match.group(2) or ""
            ok, value = _lookup(doc, name, [*path, fld], params, rule, problems)
            if not ok:
                return match.group(0)
            try:
                return format(value, spec)
            except (ValueError, TypeError):
                problems.add(doc.where([*path, fld], f"format {spec!r} does not fit parameter {name!r} "
                                       f"({value!r})", code="parameter", hint="use e.g. ',.0f' or '.2f'"))
                return match.group(0)

        out[fld] = _PLACEHOLDER.sub(one, text)
    return out


def mentioned(node: Any) -> set[str]:
    """Every parameter name a piece of ruleset data mentions, as ``{param: name}`` or ``{param.name}``."""
    if isinstance(node, str):
        return {m.group(1) for m in _PLACEHOLDER.finditer(node)}
    if isinstance(node, list):
        return set().union(*map(mentioned, node)) if node else set()
    if isinstance(node, dict):
        own = {node[PARAM]} if isinstance(node.get(PARAM), str) else set()
        return own.union(*map(mentioned, node.values())) if node else own
    return set()


def _day_before(day: str) -> str:
    return (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()


def variants(rule: dict[str, Any], names: set[str], params: dict[str, Parameter]) -> list[dict[str, Any]]:
    """The rule as one dated variant per epoch, inside its window, of the parameters ``names``
    it uses (in its expanded condition and its text): the rule itself when no value changes
    inside it, or when it has scenario windows, which ``value_for`` then holds to one epoch."""
    frm, to = rule.get("effective_from"), rule.get("effective_to")
    if not isinstance(frm, str) or not _valid_date(frm) or rule.get("scenarios"):
        return [rule]
    if to is not None and (not isinstance(to, str) or not _valid_date(to)):
        return [rule]
    cuts: set[str] = set()
    for name in names:
        values = params[name].values if name in params else ()
        for (_, before), (start, after) in itertools.pairwise(values):
            if frm < start and (to is None or start <= to) and after != before and _valid_date(start):
                cuts.add(start)
    if not cuts:
        return [rule]
    starts = [frm, *sorted(cuts)]
    out = []
    for k, start in enumerate(starts):
        variant = dict(rule, effective_from=start)
        end = _day_before(starts[k + 1]) if k + 1 < len(starts) else to
        if end is None:
            variant.pop("effective_to", None)
        else:
            variant["effective_to"] = end
        out.append(variant)
    return out


def unused(doc: Document, params: dict[str, Parameter], used: set[str], problems: ProblemList) -> None:
    """A parameter no rule or definition mentions (``used``: what ``mentioned`` finds in the
    ruleset's ``define`` and ``rules``) is an error: delete it (or use it)."""
    for name in params:
        if name not in used:
            problems.add(doc.where(["parameters", name], f"parameter {name!r} is not used by any rule",
                                   code="unused_parameter", hint="delete it, or use it as {param: " + name + "}"))
