"""JUnit XML for CI test reports: ``airisk assess --format junit``.

One ``testsuite`` per case, one ``testcase`` per dimension (``classname`` ``airisk.CASE_ID``,
``name`` the dimension). A dimension fails when the level the ``--fail-on`` gate compares is at
or above it: its worst case over its unknown facts (``level_range``, so an unknown never passes),
or its rating on the known facts with ``--fail-on-known``; the default threshold is ``high``.
The failure lists the dimension's drivers that are not waived and its decisive unknowns;
``system-out`` lists every finding of the dimension, the waived ones marked with their waiver (a
waived finding never appears in a failure). A dimension that is not assessed is ``skipped``.
A case's suite has a failure exactly when the same ``--fail-on`` makes ``airisk assess`` exit 1
on that case.

No timestamps or durations are written, so the same cases give the same bytes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from engine.render.registry import RenderContext, Source
from engine.scale import DIMENSIONS, LEVEL_ORDER

#: The threshold when no ``--fail-on`` is given: a high or critical dimension fails its test.
DEFAULT_FAIL_ON = "high"

# Characters XML 1.0 cannot hold at all (case and ruleset text is already free of C0 controls).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(assessments: Sequence[Mapping[str, Any]], context: RenderContext) -> bytes:
    """The JUnit XML report of these assessments (UTF-8, with an XML declaration)."""
    root = junit_tree(assessments, context)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def junit_tree(assessments: Sequence[Mapping[str, Any]], context: RenderContext | None = None) -> ET.Element:
    """The ``testsuites`` element: a suite per case, a test per dimension."""
    context = context or RenderContext()
    fail_on = context.fail_on or DEFAULT_FAIL_ON
    root = ET.Element("testsuites", {"name": "airisk"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for index, a in enumerate(assessments):
        suite = _suite(a, context.source(index), fail_on, context.fail_on_known)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    return root


def gate_level(dimension: Mapping[str, Any], known_only: bool) -> str | None:
    """The level of a dimension that a ``--fail-on`` gate compares: the worst case over its
    unknown facts, or with ``known_only`` its level on the known facts (None: not assessed)."""
    if not dimension.get("assessed"):
        return None
    span = dimension.get("level_range")
    level = dimension.get("level") if known_only or not span else span[1]
    return level if isinstance(level, str) else None


def _clean(text: Any) -> str:
    return _NOT_XML.sub("\ufffd", str(text))


def _suite(a: Mapping[str, Any], source: Source | None, fail_on: str, known_only: bool) -> ET.Element:
    case_id = _clean(a.get("case_id") or "case")
    suite = ET.Element("testsuite", {"name": case_id})
    if source is not None:
        suite.set("file", _clean(source.file))
    props = ET.SubElement(suite, "properties")
    span = a.get("rating_range") or [a.get("rating"), a.get("rating")]
    provenance = a.get("provenance") or {}
    for name, value in (("case_name", a.get("case_name")), ("rating", a.get("rating")),
                        ("rating_range", "..".join(str(x) for x in span) if a.get("rating") else None),
                        ("fail_on", fail_on), ("fail_on_known", "true" if known_only else None),
                        ("as_of", provenance.get("as_of")), ("scenario", provenance.get("scenario")),
                        ("engine_version", provenance.get("engine_version"))):
        if value is not None:
            ET.SubElement(props, "property", {"name": name, "value": _clean(value)})
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    dimensions = a.get("dimensions") or {}
    for name in [*(d for d in DIMENSIONS if d in dimensions), *(d for d in dimensions if d not in DIMENSIONS)]:
        case = _testcase(a, name, dimensions[name], source, fail_on, known_only)
        suite.append(case)
        counts["tests"] += 1
        counts["failures"] += case.find("failure") is not None
        counts["skipped"] += case.find("skipped") is not None
    for key, value in counts.items():
        suite.set(key, str(value))
    return suite


def _finding_line(f: Mapping[str, Any]) -> str:
    return f"{f.get('rule_id')} [{f.get('severity')}, {f.get('points')} points, {f.get('basis')}] {f.get('title')}\n" \
           f"    {f.get('message')}"


def _unknown(u: Any) -> str:
    """A decisive unknown: its fact and the rules it decides."""
    if isinstance(u, Mapping):
        rules = ", ".join(str(r) for r in u.get("rules") or ())
        return f"{u.get('fact')}" + (f" (decides {rules})" if rules else "")
    return str(u)


def _waived_line(f: Mapping[str, Any]) -> str:
    w = f.get("waived") or {}
    extra = ", ".join(f"{k} {w[k]}" for k in ("approver", "expires", "ticket") if w.get(k))
    return f"{_finding_line(f)}\n    WAIVED: {w.get('reason')}" + (f" ({extra})" if extra else "")


def _testcase(a: Mapping[str, Any], name: str, dim: Mapping[str, Any], source: Source | None, fail_on: str,
              known_only: bool) -> ET.Element:
    case = ET.Element("testcase", {"classname": _clean(f"airisk.{a.get('case_id')}"), "name": _clean(name)})
    findings = [f for f in a.get("findings") or () if f.get("dimension") == name]
    if source is not None:
        case.set("file", _clean(source.file))
        drivers = set(dim.get("drivers") or ())
        first = sorted(findings, key=lambda f: f.get("rule_id") not in drivers)  # a driver's line first
        line = next((found for f in first if (found := source.finding_line(f)) is not None), None)
        if line is not None:
            case.set("line", str(line))
    level = gate_level(dim, known_only)
    if not dim.get("assessed"):
        missing = (dim.get("not_assessed") or {}).get("missing_sections") or []
        ET.SubElement(case, "skipped", {"message": _clean(
            "not assessed" + (f" (no {', '.join(missing)} in the case)" if missing else ""))})
    elif level is not None and LEVEL_ORDER.get(level, -1) >= LEVEL_ORDER[fail_on]:
        drivers = set(dim.get("drivers") or ())
        open_findings = [f for f in findings if not isinstance(f.get("waived"), Mapping)
                         and (not drivers or f.get("rule_id") in drivers)]
        unknowns = [_unknown(u) for u in dim.get("decisive_unknowns") or ()]
        rated = dim.get("level")
        message = f"{name} could be {level} (at or above {fail_on})" + (
            f"; {rated} on the known facts" if rated != level else "") + f"; score {dim.get('score')}"
        body = [_finding_line(f) for f in open_findings]
        if unknowns:
            body.append("Decisive unknowns (unknown is never safe: the level is the worst case over them): "
                        + "; ".join(unknowns))
        failure = ET.SubElement(case, "failure", {"message": _clean(message), "type": _clean(level)})
        failure.text = _clean("\n".join(body))
    out = [_waived_line(f) if isinstance(f.get("waived"), Mapping) else _finding_line(f) for f in findings]
    if out:
        ET.SubElement(case, "system-out").text = _clean("\n".join(out))
    return case
