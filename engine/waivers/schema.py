"""The JSON Schema of a waiver file (``airisk schema waivers``; schemas/waivers.schema.json).

The loader (``engine.waivers.model``) checks the same structure with located errors, and the
meaning besides: dates in order, the policy maximum, conditions in the rule language."""

from __future__ import annotations

from typing import Any

_TEXT = {"type": "string", "minLength": 1}
_DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_NAMES = {"type": "array", "items": _TEXT, "minItems": 1}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://airisk.dev/schemas/waivers.schema.json",
    "title": "airisk waiver file",
    "description": "Accepted risk: each waiver names a rule (id or glob), the cases it covers, why, who approved "
                   "it and until when (docs/waivers.md).",
    "type": "object",
    "additionalProperties": False,
    "required": ["waivers"],
    "properties": {
        "policy": {
            "type": "object", "additionalProperties": False,
            "properties": {"max_days": {"type": "integer", "minimum": 1, "default": 365,
                                        "description": "the longest a waiver may run from `created` to `expires`"}},
        },
        "waivers": {
            "type": "array",
            "maxItems": 10000,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["rule", "cases", "reason", "approver", "created", "expires"],
                "properties": {
                    "rule": {**_TEXT, "description": "a rule id (USX-050) or a glob (OVC-*)"},
                    "cases": {
                        "description": "case ids (globs allowed), or a mapping: ids, tags, when (a condition "
                                       "in the rule language, schemas/ruleset.schema.json#/$defs/condition); a "
                                       "case is covered when it meets every selector given",
                        "oneOf": [
                            _NAMES,
                            {"type": "object", "additionalProperties": False, "minProperties": 1,
                             "properties": {"ids": _NAMES, "tags": _NAMES, "when": {"type": "object"}}},
                        ],
                    },
                    "reason": _TEXT,
                    "approver": _TEXT,
                    "ticket": _TEXT,
                    "created": _DATE,
                    "expires": {**_DATE, "description": "the last day the waiver applies (required)"},
                },
            },
        },
    },
}
