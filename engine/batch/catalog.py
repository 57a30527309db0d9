"""Compact batch records and the rule catalogue they refer to (``airisk batch --record compact
--catalog FILE``).

A full record repeats in every finding the text of its rule: title, citations, remediation,
would-change, effective window, tiers, duty, tags. Over a portfolio that is most of the output.
A compact record keeps in each finding what the case decides (rule id, severity, points, the
rendered message, the evidence, the waiver that covers it) and any rule field whose value for this
case differs from the rule's catalogue entry (a remediation that names a fact, say); in each
``needs_information`` item it drops the rule's dimension and title the same way. The catalogue,
written once per run, holds each rule in force: the fields its findings share, and everything
``airisk rules show`` says about each of its dated variants.

Every compact record names its catalogue by digest (``"catalog": "<sha256>"``), and ``expand``
rebuilds the full record from the two, byte for byte (tests/test_compact_records.py holds it to
that on the bundled rulesets, with waivers, and on the peerbench ruleset).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from engine.assessment.findings import RuleParts, static_fields
from engine.assessment.plan import ruleset_provenance
from engine.assessment.shape import FINDING, NEEDS_INFORMATION
from engine.errors import InputError, Problem
from engine.ruleset.describe import describe
from engine.ruleset.model import Rule, RuleSet
from engine.version import __version__

#: The catalogue's format tag (a reader refuses another).
FORMAT = "airisk-catalog/1"
#: The record kinds ``airisk batch --record`` writes.
RECORD_KINDS = ("full", "compact")
#: The finding fields a catalogue entry holds (the rest is each case's own).
STATIC = ("ruleset", "dimension", "basis", "title", "citations", "remediation", "would_change", "effective",
          "tier", "duty", "tags")
#: The needs-information fields a catalogue entry holds (from the same finding fields).
NEEDS_STATIC = ("dimension", "title")


class Catalog:
    """The rules in force for one run (ruleset, as-of date, scenario) as a catalogue, and the
    compaction of records against it."""

    def __init__(self, data: dict[str, Any]) -> None:
        if data.get("format") != FORMAT or not isinstance(data.get("rules"), dict):
            raise InputError(Problem(message=f"not an airisk rule catalogue (format {data.get('format')!r}, "
                                             f"expected {FORMAT!r})", code="invalid_catalog"))
        self.data = data
        self.encoded = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n"
        #: The digest compact records name: SHA-256 of the catalogue file's bytes.
        self.id = hashlib.sha256(self.encoded).hexdigest()
        self._static: dict[str, dict[str, Any]] = {rid: entry["finding"] for rid, entry in data["rules"].items()}

    @classmethod
    def build(cls, rules: RuleSet, as_of: str, scenario: str | None) -> Catalog:
        """The catalogue of the rules in force at ``as_of`` under ``scenario``."""
        active = tuple(r for r in rules.rules if r.in_force(as_of, scenario))
        variants: dict[str, list[Rule]] = {}
        for rule in rules.rules:
            variants.setdefault(rule.id, []).append(rule)
        parts = RuleParts()
        entries: dict[str, Any] = {}
        for rule in active:
            static = static_fields(rule, scenario, parts)
            entries[rule.id] = {"finding": {k: static[k] for k in STATIC},
                                "variants": [describe(v) for v in variants[rule.id]]}
        return cls({"format": FORMAT, "engine_version": __version__, "as_of": as_of, "scenario": scenario,
                    "lang": rules.lang, "rulesets": ruleset_provenance(rules, active), "rules": entries})

    @classmethod
    def parse(cls, text: bytes, file: str | None = None) -> Catalog:
        """A catalogue read back from the bytes ``encoded`` gave (InputError naming ``file`` if not)."""
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise InputError(Problem(message=f"malformed JSON: {exc}", file=file, code="invalid_catalog")) from None
        if not isinstance(data, dict):
            raise InputError(Problem(message="a catalogue is a JSON object", file=file, code="invalid_catalog"))
        try:
            found = cls(data)
        except InputError as exc:
            raise InputError(*[Problem(message=p.message, file=file, code=p.code) for p in exc.problems]) from None
        if found.encoded != text:  # the digest is of the file as written: an edited file is another catalogue
            found.id = hashlib.sha256(text).hexdigest()
        return found

    def compact(self, record: dict[str, Any]) -> dict[str, Any]:
        """The compact form of a full record (an error record is already compact: returned as is)."""
        assessment = record.get("assessment")
        if assessment is None:
            return record
        static = self._static
        findings = []
        for finding in assessment["findings"]:
            base = static.get(finding["rule_id"])
            if base is None:  # not a rule of the catalogue (WAIVER-EXPIRED): kept whole
                findings.append(finding)
                continue
            findings.append({k: v for k, v in finding.items()
                             if k not in base or not (base[k] is v or base[k] == v)})
        needs = []
        for item in assessment["needs_information"]:
            base = static.get(item["rule_id"])
            needs.append(item if base is None else
                         {k: v for k, v in item.items() if k not in NEEDS_STATIC or base[k] != v})
        out = dict(assessment)
        out["findings"] = findings
        out["needs_information"] = needs
        return {"line": record["line"], "case_id": record["case_id"], "catalog": self.id, "assessment": out}

    def expand(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The full record a compact one stands for (a full or error record: returned as a copy).
        InputError when the record names another catalogue."""
        named = record.get("catalog")
        if named is None:
            return dict(record)
        if named != self.id:
            raise InputError(Problem(
                message=f"the record names catalogue {str(named)[:16]}…, not this one ({self.id[:16]}…)",
                code="catalog_mismatch", hint="pass the catalogue written by the run that wrote the records"))
        assessment = dict(record["assessment"])
        static = self._static
        findings = []
        for finding in assessment["findings"]:
            base = static.get(finding["rule_id"])
            findings.append(dict(finding) if base is None else
                            {k: finding[k] if k in finding else base[k] for k in FINDING})
        needs = []
        for item in assessment["needs_information"]:
            base = static.get(item["rule_id"])
            needs.append(dict(item) if base is None else
                         {k: item[k] if k in item else base[k] for k in NEEDS_INFORMATION})
        assessment["findings"] = findings
        assessment["needs_information"] = needs
        return {k: (assessment if k == "assessment" else v) for k, v in record.items() if k != "catalog"}


def is_compact(record: Mapping[str, Any]) -> bool:
    """Whether a batch record is compact (names a catalogue)."""
    return "catalog" in record
