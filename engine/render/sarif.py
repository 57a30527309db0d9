"""SARIF 2.1.0 (OASIS) for code scanning: ``airisk assess --format sarif``.

One log, one run per language of the assessments (normally one), shaped as GitHub code
scanning reads it:

- ``tool.driver.rules``: each rule once, across every case: its title (``shortDescription``),
  a description with its dimension, basis and effective window, ``help`` with the remediation,
  what would change the finding and the citations (links where a citation has a url),
  ``helpUri`` (the first citation url), ``defaultConfiguration.level`` and properties
  (ruleset, dimension, severity, basis, points, effective windows, tags, ``security-severity``).
- ``results``: one per finding (``kind`` fail, the default; ``level`` from its severity), at the
  case file and the line of its first threshold fact (else its first fact) the file has, with
  every fact of its evidence as a ``relatedLocation`` at its line; one ``kind: open``
  result (``level: none``) per rule that needs information (unknown is never safe: a missing
  decisive fact is shown, not hidden). A waived finding carries ``suppressions``.
- ``run.properties``: the provenance (engine version, as-of date, scenario, rulesets with their
  hashes, waivers) and each case's rating and rating range.

No timestamp or absolute path is added, so the same cases give the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

import orjson

from engine.render.registry import RenderContext, Source

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
VERSION = "2.1.0"

#: Finding severity -> SARIF ``level`` (what GitHub code scanning shows and, for ``error``, fails a
#: check on by default). critical and high are errors: a licence requirement or a prohibited
#: practice blocks the work; medium is a warning; low and info (0 points, an analyst's note) are notes.
LEVEL: dict[str, str] = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}

#: Finding severity -> GitHub's ``security-severity`` (a CVSS-like score as a string), inside the
#: band GitHub maps to the same name: critical 9.0-10.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9,
#: none 0.0. GitHub uses it only for rules tagged ``security``; airisk's rules are not (they rate
#: legal and economic exposure, not code), so ``level`` is what gates a check.
SECURITY_SEVERITY: dict[str, str] = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "info": "0.0"}

_SEVERITY_RANK = {name: rank for rank, name in enumerate(("info", "low", "medium", "high", "critical"))}
_SRCROOT = "%SRCROOT%"
_WAIVER_EXPIRED = "WAIVER-EXPIRED"


def render(assessments: Sequence[Mapping[str, Any]], context: RenderContext) -> bytes:
    """The SARIF log of these assessments as indented JSON (UTF-8, trailing newline)."""
    return orjson.dumps(sarif_log(assessments, context), option=orjson.OPT_INDENT_2) + b"\n"


def sarif_log(assessments: Sequence[Mapping[str, Any]], context: RenderContext | None = None) -> dict[str, Any]:
    """The SARIF log as data: one run per language of the assessments, in first-seen order."""
    context = context or RenderContext()
    by_lang: dict[str, list[int]] = {}
    for index, a in enumerate(assessments):
        by_lang.setdefault(language(a), []).append(index)
    runs = [_run(lang, [(assessments[i], context.source(i)) for i in indices]) for lang, indices in by_lang.items()]
    if not runs:
        runs = [_run("en", [])]
    return {"$schema": SCHEMA_URI, "version": VERSION, "runs": runs}


def language(assessment: Mapping[str, Any]) -> str:
    """The RFC 5646 tag of an assessment's text (its ``lang``; English when it has none)."""
    lang = assessment.get("lang")
    return lang if isinstance(lang, str) and lang else "en"


# --------------------------------------------------------------------------- the run


def _run(lang: str, cases: Sequence[tuple[Mapping[str, Any], Source | None]]) -> dict[str, Any]:
    rules = _Rules()
    for a, _ in cases:
        for f in a.get("findings") or ():
            rules.add_finding(f)
        for n in a.get("needs_information") or ():
            rules.add_needed(n)
    artifacts = _Artifacts()
    results: list[dict[str, Any]] = []
    for a, source in cases:
        where = artifacts.add(source.file) if source is not None else None
        for f in a.get("findings") or ():
            results.append(_result(a, f, rules, where, source, artifacts))
        for n in a.get("needs_information") or ():
            results.append(_open_result(a, n, rules, where, source))
    first = cases[0][0].get("provenance") if cases else None
    version = (first or {}).get("engine_version") or _engine_version()
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "airisk", "fullName": "airisk AI-governance risk rules engine",
                            "version": version, "semanticVersion": version, "rules": rules.descriptors()}},
        "language": lang,
    }
    if artifacts.items:
        run["artifacts"] = artifacts.items
    run["results"] = results
    run["properties"] = _run_properties(cases, first)
    return run


def _engine_version() -> str:
    from engine.version import __version__

    return __version__


def _run_properties(cases: Sequence[tuple[Mapping[str, Any], Source | None]],
                    first: Mapping[str, Any] | None) -> dict[str, Any]:
    """The provenance of the run (the first case's; a case whose provenance differs carries its
    own) and each case's rating."""
    out: dict[str, Any] = {}
    if first is not None:
        out["provenance"] = dict(first)
    listed = []
    for a, source in cases:
        entry: dict[str, Any] = {"case_id": a.get("case_id"), "case_name": a.get("case_name"),
                                 "file": source.file if source is not None else None,
                                 "rating": a.get("rating"), "rating_range": a.get("rating_range")}
        if a.get("provenance") != first:
            entry["provenance"] = a.get("provenance")
        listed.append(entry)
    out["cases"] = listed
    return out


# --------------------------------------------------------------------------- rules


class _Rules:
    """Each rule once across every case, in the order first seen; the richest description wins
    (a finding's over a needs-information entry's, which has only an id, title and dimension)."""

    def __init__(self) -> None:
        self._found: dict[str, Mapping[str, Any]] = {}
        self._windows: dict[str, list[dict[str, Any]]] = {}
        self._severity: dict[str, str] = {}
        self._order: list[str] = []

    def _see(self, rule_id: str) -> None:
        if rule_id not in self._found:
            self._order.append(rule_id)

    def add_finding(self, f: Mapping[str, Any]) -> None:
        """A finding of the rule: its description and its effective window."""
        rule_id = str(f.get("rule_id"))
        self._see(rule_id)
        if "citations" not in self._found.get(rule_id, {}):
            self._found[rule_id] = f
        window = dict(f.get("effective") or {})
        windows = self._windows.setdefault(rule_id, [])
        if window and window not in windows:
            windows.append(window)
        severity = str(f.get("severity"))
        if _SEVERITY_RANK.get(severity, -1) > _SEVERITY_RANK.get(self._severity.get(rule_id, ""), -1):
            self._severity[rule_id] = severity

    def add_needed(self, n: Mapping[str, Any]) -> None:
        """A rule that needs information: described by its title and dimension until a finding
        of it says more."""
        rule_id = str(n.get("rule_id"))
        self._see(rule_id)
        self._found.setdefault(rule_id, n)

    def index(self, rule_id: str) -> int:
        """The rule's position in ``tool.driver.rules``."""
        return self._order.index(rule_id)

    def descriptors(self) -> list[dict[str, Any]]:
        """The ``reportingDescriptor`` of every rule, in order."""
        return [_descriptor(self._found[r], self._windows.get(r, []), self._severity.get(r)) for r in self._order]


def _descriptor(f: Mapping[str, Any], windows: list[dict[str, Any]], severity: str | None) -> dict[str, Any]:
    rule_id, title = str(f.get("rule_id")), str(f.get("title") or f.get("rule_id"))
    out: dict[str, Any] = {"id": rule_id}
    if f.get("ruleset"):
        out["name"] = f"{f['ruleset']}/{rule_id}"
    out["shortDescription"] = {"text": title}
    out["fullDescription"] = {"text": _full_description(f, windows)}
    citations = [c for c in f.get("citations") or () if isinstance(c, Mapping)]
    if "citations" in f:
        out["help"] = {"text": _help_text(f, citations), "markdown": _help_markdown(f, citations)}
        url = next((c["url"] for c in citations if c.get("url")), None)
        if url:
            out["helpUri"] = url
    if severity is not None:
        out["defaultConfiguration"] = {"level": LEVEL.get(severity, "note")}
    props: dict[str, Any] = {k: f[k] for k in ("ruleset", "dimension") if f.get(k) is not None}
    if severity is not None:
        props.update({"severity": severity, "security-severity": SECURITY_SEVERITY.get(severity, "0.0")})
    props.update({k: f[k] for k in ("basis", "points") if f.get(k) is not None})
    if windows:
        props["effective"] = windows
    props["tags"] = _tags(f)
    out["properties"] = props
    return out


def _tags(f: Mapping[str, Any]) -> list[str]:
    """``airisk``, the dimension, the basis and the rule's own tags, each once."""
    tags = ["airisk", *(str(f[k]) for k in ("dimension", "basis") if f.get(k)), *(str(t) for t in f.get("tags") or ())]
    return list(dict.fromkeys(tags))


def _window_text(window: Mapping[str, Any]) -> str:
    start, end = window.get("effective_from"), window.get("effective_to")
    return f"{start or '…'} to {end}" if end else f"from {start or '…'}"


def _full_description(f: Mapping[str, Any], windows: list[dict[str, Any]]) -> str:
    title = str(f.get("title") or f.get("rule_id"))
    parts = [str(f[k]) for k in ("dimension", "basis") if f.get(k)]
    if windows:
        parts.append("in force " + "; ".join(_window_text(w) for w in windows))
    if f.get("ruleset"):
        parts.append(f"ruleset {f['ruleset']}")
    return f"{title} ({', '.join(parts)})" if parts else title


def _citation_text(c: Mapping[str, Any]) -> str:
    head = ", ".join(str(c[k]) for k in ("instrument", "article") if c.get(k))
    extra = "; ".join(str(x) for x in (c.get("date"), c.get("confidence") and f"confidence {c['confidence']}",
                                        c.get("note")) if x)
    return head + (f" ({extra})" if extra else "")


def _help_text(f: Mapping[str, Any], citations: Sequence[Mapping[str, Any]]) -> str:
    blocks = []
    if f.get("remediation"):
        blocks.append(f"Remediation: {f['remediation']}")
    if f.get("would_change"):
        blocks.append(f"What would change it: {f['would_change']}")
    if citations:
        blocks.append("Citations:\n" + "\n".join(
            f"- {_citation_text(c)}" + (f" <{c['url']}>" if c.get("url") else "") for c in citations))
    return "\n\n".join(blocks) or str(f.get("title") or f.get("rule_id"))


def _md(text: str) -> str:
    """Text safe inside Markdown: the characters that start emphasis, links, code or HTML escaped."""
    return "".join("\\" + ch if ch in "\\`*_[]<>#|" else ch for ch in text)


def _help_markdown(f: Mapping[str, Any], citations: Sequence[Mapping[str, Any]]) -> str:
    blocks = []
    if f.get("remediation"):
        blocks.append(f"**Remediation.** {_md(str(f['remediation']))}")
    if f.get("would_change"):
        blocks.append(f"**What would change it.** {_md(str(f['would_change']))}")
    if citations:
        lines = []
        for c in citations:
            text = _md(_citation_text(c))
            url = c.get("url")
            lines.append(f"- [{text}](<{url}>)" if url and "<" not in url and ">" not in url else f"- {text}")
        blocks.append("**Citations**\n\n" + "\n".join(lines))
    return "\n\n".join(blocks) or _md(str(f.get("title") or f.get("rule_id")))


# --------------------------------------------------------------------------- results


class _Artifacts:
    """The case files of the run (``run.artifacts``), each once."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}

    def add(self, file: str) -> dict[str, Any] | None:
        """The ``artifactLocation`` of a file (None for standard input, which has no address)."""
        location = artifact_location(file)
        if location is None:
            return None
        key = location["uri"]
        if key not in self._index:
            self._index[key] = len(self.items)
            self.items.append({"location": dict(location), "roles": ["analysisTarget"]})
        return {**location, "index": self._index[key]}


def artifact_location(file: str) -> dict[str, Any] | None:
    """A file as a SARIF ``artifactLocation``: a relative path as a relative URI against
    ``%SRCROOT%`` (the checkout, for code scanning), an absolute one as a ``file:`` URI;
    None for standard input."""
    if not file or file in ("-", "<stdin>"):
        return None
    windows = PureWindowsPath(file)
    if windows.drive or file.startswith("/"):
        posix = windows.as_posix() if windows.drive else file
        # ":" stays as it is in an absolute path (RFC 3986 allows it in any segment there): a
        # Windows drive is "file:///C:/..." (RFC 8089), which "C%3A" would not be equivalent to.
        return {"uri": "file://" + ("" if posix.startswith("/") else "/") + quote(posix, safe="/:")}
    path = PurePosixPath(windows.as_posix())
    parts = [p for p in path.parts if p != "."]
    return {"uri": quote("/".join(parts)), "uriBaseId": _SRCROOT}


def _location(where: Mapping[str, Any], line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": dict(where)}
    if line is not None:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _fingerprint(*parts: Any) -> str:
    """A stable id of a result across runs: the case and the rule, not the line (which moves)."""
    return hashlib.sha256("\x00".join(str(p) for p in parts).encode()).hexdigest()[:32]


def _result(a: Mapping[str, Any], f: Mapping[str, Any], rules: _Rules, where: Mapping[str, Any] | None,
            source: Source | None, artifacts: _Artifacts) -> dict[str, Any]:
    rule_id = str(f.get("rule_id"))
    out: dict[str, Any] = {"ruleId": rule_id, "ruleIndex": rules.index(rule_id),
                           "level": LEVEL.get(str(f.get("severity")), "note"),
                           "message": {"text": str(f.get("message") or f.get("title") or rule_id)}}
    waiver_file = _expired_waiver_location(f, artifacts) if rule_id == _WAIVER_EXPIRED else None
    if waiver_file is not None:
        out["locations"] = [waiver_file]
    elif where is not None:
        facts = source.fact_lines(f) if source is not None else []
        out["locations"] = [_location(where, facts[0][1] if facts else None)]
        if facts:  # every fact the finding saw, at its line: what an auditor checks against the file
            out["relatedLocations"] = [{"id": i, **_location(where, line), "message": {"text": fact}}
                                       for i, (fact, line) in enumerate(facts)]
    out["partialFingerprints"] = {"airiskCaseRule/v1": _fingerprint(a.get("case_id"), rule_id)}
    waived = f.get("waived")
    if isinstance(waived, Mapping):
        out["suppressions"] = [suppression(waived)]
    props = {"case_id": a.get("case_id"),
             **{k: f[k] for k in ("ruleset", "dimension", "severity", "points", "basis", "evidence",
                                  "would_change", "tier", "duty", "tags") if f.get(k) not in (None, [], {})}}
    out["properties"] = props
    return out


def _expired_waiver_location(f: Mapping[str, Any], artifacts: _Artifacts) -> dict[str, Any] | None:
    """An expired waiver is fixed in the waivers file: its location, when the finding names it."""
    for key in ("waiver", "waived"):
        w = f.get(key)
        if isinstance(w, Mapping) and isinstance(w.get("file"), str):
            where = artifacts.add(w["file"])
            if where is not None:
                line = w.get("line")
                return _location(where, line if isinstance(line, int) and line > 0 else None)
    # engine.waivers: the evidence of a WAIVER-EXPIRED finding names the waiver's file and line
    seen = {e.get("fact"): e.get("value") for e in f.get("evidence") or () if isinstance(e, Mapping)}
    if isinstance(seen.get("waiver.file"), str):
        where = artifacts.add(str(seen["waiver.file"]))
        if where is not None:
            line = seen.get("waiver.line")
            return _location(where, line if isinstance(line, int) and line > 0 else None)
    return None


def suppression(waived: Mapping[str, Any]) -> dict[str, Any]:
    """A waiver as a SARIF suppression: kept in an external store (the waivers file), accepted,
    its reason the justification, its approver, expiry, ticket and file as properties."""
    out: dict[str, Any] = {"kind": "external", "status": "accepted"}
    if waived.get("reason"):
        out["justification"] = str(waived["reason"])
    props = {k: waived.get(k) for k in ("approver", "expires", "ticket", "file")}
    props.update({k: waived[k] for k in ("created", "line", "rule") if waived.get(k) is not None})
    out["properties"] = props
    where = artifact_location(waived["file"]) if isinstance(waived.get("file"), str) else None
    if where is not None:
        line = waived.get("line")
        out["location"] = _location(where, line if isinstance(line, int) and line > 0 else None)
    return out


def _open_result(a: Mapping[str, Any], n: Mapping[str, Any], rules: _Rules, where: Mapping[str, Any] | None,
                 source: Source | None) -> dict[str, Any]:
    """A rule that could not be decided for want of facts: kind ``open``, level ``none``."""
    rule_id = str(n.get("rule_id"))
    missing = [str(m) for m in n.get("missing") or ()]
    out: dict[str, Any] = {"ruleId": rule_id, "ruleIndex": rules.index(rule_id), "kind": "open", "level": "none",
                           "message": {"text": f"{n.get('title') or rule_id}: needs information ("
                                               f"missing: {', '.join(missing) or 'unknown'})"}}
    if where is not None:
        line = next((found for m in missing if source is not None and (found := source.line(m)) is not None), None)
        out["locations"] = [_location(where, line)]
    out["partialFingerprints"] = {"airiskCaseRule/v1": _fingerprint(a.get("case_id"), rule_id, "open")}
    out["properties"] = {"case_id": a.get("case_id"), "dimension": n.get("dimension"), "missing": missing}
    return out
