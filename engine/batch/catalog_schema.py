"""The JSON Schema of a batch run's rule catalogue and of the compact records that name it
(``airisk batch --record compact --catalog FILE``; schemas/catalog.schema.json)."""

from __future__ import annotations

from typing import Any

_TEXT = {"type": "string"}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_NULLABLE_TEXT = {"type": ["string", "null"]}

#: The rule fields of a finding that the catalogue holds (engine.batch.catalog.STATIC).
_FINDING = {
    "type": "object",
    "description": "The fields every finding of this rule shares. A compact finding leaves out each one it has the "
                   "same value for; a text that names a fact is null here and in each finding as rendered.",
    "additionalProperties": False,
    "required": ["ruleset", "dimension", "basis", "title", "citations", "remediation", "would_change", "effective",
                 "tier", "duty", "tags"],
    "properties": {
        "ruleset": _TEXT, "dimension": _TEXT, "basis": _TEXT, "title": _TEXT,
        "citations": {"type": "array", "items": {"type": "object"}},
        "remediation": _NULLABLE_TEXT, "would_change": _NULLABLE_TEXT,
        "effective": {"type": "object", "required": ["effective_from", "effective_to"],
                      "properties": {"effective_from": _TEXT, "effective_to": _NULLABLE_TEXT}},
        "tier": {"type": "object"}, "duty": {"type": ["object", "null"]},
        "tags": {"type": "array", "items": _TEXT},
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://airisk.dev/schemas/catalog.schema.json",
    "title": "airisk rule catalogue",
    "description": "What `airisk batch --catalog FILE` writes once per run: every rule in force at the run's date "
                   "and scenario, with the fields its findings share and what `airisk rules show` says about each "
                   "of its dated variants. Compact records (#/$defs/CompactRecord) name it by the SHA-256 of the "
                   "file's bytes; with it they expand to the full records byte for byte (engine.batch.catalog).",
    "type": "object",
    "additionalProperties": False,
    "required": ["format", "engine_version", "as_of", "scenario", "lang", "rulesets", "rules"],
    "properties": {
        "format": {"const": "airisk-catalog/1"},
        "engine_version": _TEXT,
        "as_of": {"type": "string", "format": "date"},
        "scenario": _NULLABLE_TEXT,
        "lang": _TEXT,
        "rulesets": {"type": "array", "items": {"type": "object", "required": ["id", "version", "sha256"]}},
        "rules": {
            "type": "object",
            "additionalProperties": {
                "type": "object", "additionalProperties": False, "required": ["finding", "variants"],
                "properties": {
                    "finding": _FINDING,
                    "variants": {"type": "array", "minItems": 1,
                                 "items": {"type": "object", "required": ["id", "title", "ruleset", "when"]}},
                },
            },
        },
    },
    "$defs": {
        "CompactRecord": {
            "description": "One line of `airisk batch --record compact`: a full record's assessment with each "
                           "finding cut to what the case decides (plus any rule field whose value differs from "
                           "the catalogue's) and each needs-information item without its rule's dimension and "
                           "title. Error records are the same in both kinds.",
            "type": "object",
            "required": ["line", "case_id", "catalog", "assessment"],
            "properties": {
                "line": {"type": "integer", "minimum": 1},
                "case_id": _NULLABLE_TEXT,
                "catalog": _SHA256,
                "assessment": {
                    "type": "object",
                    "required": ["findings", "needs_information"],
                    "properties": {
                        "findings": {"type": "array", "items": {
                            "type": "object",
                            "required": ["rule_id", "severity", "points", "message", "evidence", "waived"]}},
                        "needs_information": {"type": "array", "items": {
                            "type": "object", "required": ["rule_id", "missing"]}},
                    },
                },
            },
        },
    },
}
