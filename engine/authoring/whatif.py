"""What-if: re-assess a case with some facts overridden, and say what changed.

Overrides use the test tables' ``set:`` syntax (``engine.case.overrides.apply_set``): dotted paths,
integer steps index lists (``accelerators.0.count``), ``null`` removes a fact. The changed case
is validated like any case, so an override that breaks the case format is an input error
naming the override.
"""

from __future__ import annotations

from typing import Any

import yaml

from engine.errors import InputError, Problem


def parse_sets(items: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """``["facility.pue=1.3", "export.licence_held=true"]`` -> ``{path: value}`` (values read as YAML scalars)."""
    out: dict[str, Any] = {}
    problems = []
    for item in items:
        path, sep, raw = item.partition("=")
        if not sep or not path.strip():
            problems.append(Problem(message=f"--set {item!r} is not PATH=VALUE", code="invalid_set",
                                    hint="e.g. --set facility.accelerator_utilisation=0.6"))
            continue
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        out[path.strip()] = value
    if problems:
        raise InputError(problems)
    return out


def apply(data: Any, sets: dict[str, Any], file: str | None = None) -> Any:
    """A copy of the case data with the overrides applied (not yet validated)."""
    from engine.case.overrides import apply_set

    try:
        return apply_set(data, sets)
    except ValueError as exc:
        raise InputError(Problem(message=f"--set {exc}", file=file, code="invalid_set")) from None


def diff(before: dict[str, Any], after: dict[str, Any], sets: dict[str, Any]) -> dict[str, Any]:
    """What changed between two assessments of the same case."""
    dims: dict[str, Any] = {}
    for name, b in before["dimensions"].items():
        a = after["dimensions"][name]
        change = {key: [b[key], a[key]] for key in ("level", "level_range", "score") if b[key] != a[key]}
        if change:
            dims[name] = change
    fired_before = {f["rule_id"] for f in before["findings"]}
    fired_after = {f["rule_id"] for f in after["findings"]}
    needs_before = {n["rule_id"] for n in before["needs_information"]}
    needs_after = {n["rule_id"] for n in after["needs_information"]}
    return {
        "set": sets,
        "rating": [before["rating"], after["rating"]],
        "rating_range": [before["rating_range"], after["rating_range"]],
        "dimensions": dims,
        "fired": sorted(fired_after - fired_before),
        "silenced": sorted(fired_before - fired_after),
        "decided": sorted(needs_before - needs_after - fired_after),
        "now_unknown": sorted(needs_after - needs_before),
    }


def render_text(d: dict[str, Any]) -> list[str]:
    """The what-if section of a text or Markdown report (one line per item)."""
    sets = ", ".join(f"{k} = {v}" for k, v in d["set"].items())
    lines = [f"What if {sets}:"]
    r0, r1 = d["rating"]
    lines.append(f"rating {str(r0).upper()} → {str(r1).upper()}"
                 + (f"; range {'–'.join(d['rating_range'][0] or [])} → {'–'.join(d['rating_range'][1] or [])}"
                    if d["rating_range"][0] != d["rating_range"][1] else ""))
    for name, change in d["dimensions"].items():
        parts = [f"{key} {_show(v[0])} → {_show(v[1])}" for key, v in change.items()]
        lines.append(f"{name}: " + "; ".join(parts))
    for key, label in (("fired", "now fires"), ("silenced", "now silent"), ("decided", "now decided"),
                       ("now_unknown", "now needs information")):
        if d[key]:
            lines.append(f"{label}: {', '.join(d[key])}")
    return lines


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "–".join(str(v) for v in value) if value[0] != value[1] else str(value[0])
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
