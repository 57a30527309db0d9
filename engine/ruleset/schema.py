"""JSON Schema of the ruleset format (the source of ``schemas/ruleset.schema.json``).

The schema checks structure; ``engine.ruleset.load`` then checks meaning (fact paths,
types, windows, citations) and reports both kinds of problem together.
"""

from __future__ import annotations

from typing import Any

from engine.lang.operators import REGISTRY, RULE_OPERATORS
from engine.scale import DIMENSIONS, SEVERITIES

OPERATORS = RULE_OPERATORS  # the operators a ruleset may write, from the one registry

BASES = ("binding", "advisory", "heuristic")
CONFIDENCES = ("P", "P-q", "S", "UNCONFIRMED")

_ID = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*-[0-9]{3,}$"
_SCALAR: dict[str, Any] = {"type": ["string", "number", "boolean"]}
_DATE: dict[str, Any] = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_TEXT: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 4000}
# Case sections a rule is about: when one is absent the rule is out of scope (not assessed),
# rather than unknown. A ruleset may set a default; a rule's own list replaces it.
_REQUIRES: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string", "pattern": r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$"},
    "uniqueItems": True,
}

_COMPARISON: dict[str, Any] = {
    "type": "object",
    "required": ["fact"],
    "properties": {
        "fact": {"type": "string", "pattern": r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$"},
        **{op: REGISTRY[op].schema() for op in RULE_OPERATORS},
    },
    "additionalProperties": False,
    "minProperties": 2,
    "maxProperties": 2,
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://airisk.dev/schemas/ruleset.schema.json",
    "title": "airisk ruleset",
    "type": "object",
    "required": ["ruleset", "rules"],
    "additionalProperties": False,
    "properties": {
        "ruleset": {
            "type": "object",
            "required": ["id", "version", "title"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]*$"},
                "version": {"type": "string", "minLength": 1, "maxLength": 64},
                "title": _TEXT,
                "description": _TEXT,
                "input": {"enum": ["case", "document"]},
                "requires": _REQUIRES,
                "scenarios": {
                    "type": "object",
                    "propertyNames": {"pattern": r"^[a-z0-9][a-z0-9-]*$"},
                    "additionalProperties": {
                        "type": "object",
                        "required": ["title", "basis"],
                        "additionalProperties": False,
                        "properties": {"title": _TEXT, "basis": {"enum": list(BASES)}, "description": _TEXT},
                    },
                },
                "tiers": {
                    "type": "object",
                    "propertyNames": {"pattern": r"^[a-z][a-z0-9_]*$"},
                    "additionalProperties": {
                        "type": "object",
                        "required": ["title", "order", "default"],
                        "additionalProperties": False,
                        "properties": {
                            "title": _TEXT,
                            "order": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                            "default": {"type": "string"},
                            "binding": {"type": "boolean"},
                        },
                    },
                },
                "dimensions": {
                    "type": "object",
                    "propertyNames": {"enum": list(DIMENSIONS)},
                    "additionalProperties": {
                        "type": "object",
                        "required": ["levels"],
                        "additionalProperties": False,
                        "properties": {
                            # "severity": the level follows the findings' severities alone (with
                            # severity_floor); points order cases within a level but never set it.
                            "levels": {
                                "oneOf": [
                                    {
                                        "type": "object",
                                        "required": ["medium", "high", "critical"],
                                        "additionalProperties": False,
                                        "properties": {
                                            lv: {"type": "number", "minimum": 0, "maximum": 100}
                                            for lv in ("medium", "high", "critical")
                                        },
                                    },
                                    {"const": "severity"},
                                ]
                            },
                            "severity_floor": {"type": "boolean"},
                            "key_facts": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                        },
                    },
                },
            },
        },
        "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
    },
    "$defs": {
        "condition": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["all"],
                    "additionalProperties": False,
                    "properties": {"all": {"type": "array", "items": {"$ref": "#/$defs/condition"}, "minItems": 1}},
                },
                {
                    "type": "object",
                    "required": ["any"],
                    "additionalProperties": False,
                    "properties": {"any": {"type": "array", "items": {"$ref": "#/$defs/condition"}, "minItems": 1}},
                },
                {
                    "type": "object",
                    "required": ["not"],
                    "additionalProperties": False,
                    "properties": {"not": {"$ref": "#/$defs/condition"}},
                },
                {
                    "type": "object",
                    "required": ["some", "where"],
                    "additionalProperties": False,
                    "properties": {
                        "some": {"type": "string", "pattern": r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$"},
                        "where": {"$ref": "#/$defs/condition"},
                    },
                },
                _COMPARISON,
            ]
        },
        "citation": {
            "type": "object",
            "required": ["instrument", "confidence"],
            "additionalProperties": False,
            "properties": {
                "instrument": _TEXT,
                "article": _TEXT,
                "url": {"type": "string", "pattern": r"^https?://\S+$"},
                "date": _DATE,
                "confidence": {"enum": list(CONFIDENCES)},
                "note": _TEXT,
            },
        },
        "window": {
            "type": "object",
            "required": ["effective_from"],
            "additionalProperties": False,
            "properties": {"effective_from": _DATE, "effective_to": {"oneOf": [_DATE, {"type": "null"}]}},
        },
        "rule": {
            "type": "object",
            "required": [
                "id", "title", "dimension", "severity", "points", "basis", "effective_from", "when",
                "message", "citations",
            ],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "pattern": _ID},
                "title": _TEXT,
                "dimension": {"enum": list(DIMENSIONS)},
                "severity": {"enum": list(SEVERITIES)},
                "points": {"type": "number", "minimum": 0, "maximum": 100},
                "basis": {"enum": list(BASES)},
                "effective_from": _DATE,
                "effective_to": {"oneOf": [_DATE, {"type": "null"}]},
                "scenarios": {"type": "object", "additionalProperties": {"$ref": "#/$defs/window"}},
                "applies_to": {
                    "type": "array",
                    "items": {"enum": ["project", "facility"]},
                    "minItems": 1,
                    "uniqueItems": True,
                },
                "requires": _REQUIRES,
                "when": {"$ref": "#/$defs/condition"},
                "message": _TEXT,
                "remediation": _TEXT,
                "would_change": _TEXT,
                "tier": {"type": "object", "additionalProperties": {"type": "string"}},
                "duty": {
                    "type": "object",
                    "required": ["jurisdiction", "obligation"],
                    "additionalProperties": False,
                    "properties": {
                        "jurisdiction": {"type": "string", "pattern": r"^[A-Z]{2,3}$"},
                        "obligation": _TEXT,
                        "deadline": _TEXT,
                    },
                },
                "tags": {"type": "array", "items": {"type": "string", "maxLength": 200}, "uniqueItems": True},
                "citations": {"type": "array", "items": {"$ref": "#/$defs/citation"}, "minItems": 1},
            },
        },
    },
}
