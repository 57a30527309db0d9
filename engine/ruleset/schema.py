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

# ---- languages (issue 21): the English text is written in the rule; each other language a ruleset
# declares (``languages: [en, zh]``) beside it, as ``zh: {title, message, ...}``.
LANGUAGES = ("en", "zh")
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")
_LANGUAGES: dict[str, Any] = {"type": "array", "items": {"enum": list(LANGUAGES)}, "minItems": 1, "uniqueItems": True,
                              "contains": {"const": "en"}}


def _translation(*fields: str, **nested: dict[str, Any]) -> dict[str, Any]:
    """The ``zh:`` mapping beside the English: the named text fields (and nested mappings), no others."""
    return {"type": "object", "additionalProperties": False, "minProperties": 1,
            "properties": {**dict.fromkeys(fields, _TEXT), **nested}}


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

# ---- top-level sections of the say-it-once language: define, parameters, shared sources.
_NAME = r"^[a-z_][a-z0-9_]*$"
_SOURCE_KEY = r"^[a-z0-9][a-z0-9.-]*$"
# Relative to the ruleset file; a sources file is YAML or JSON.
SOURCES_FILE_PATTERN = r"^[A-Za-z0-9_.][A-Za-z0-9_./-]*\.(yaml|yml|json)$"
_SOURCES_FILE: dict[str, Any] = {"type": "string", "pattern": SOURCES_FILE_PATTERN}
_DEFINE: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"pattern": _NAME},
    "additionalProperties": {"$ref": "#/$defs/condition"},
}
_PARAM_VALUE: dict[str, Any] = {"type": ["number", "string"]}
_PARAM_VALUES: dict[str, Any] = {
    "type": "object",
    # keys are quoted dates: the YAML loader takes keys as text only
    "propertyNames": {"pattern": r"^\d{4}-\d{2}-\d{2}$"},
    "additionalProperties": _PARAM_VALUE,
    "minProperties": 1,
}
_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"pattern": _NAME},
    "additionalProperties": {
        "oneOf": [
            _PARAM_VALUES,
            {
                "type": "object",
                "required": ["values"],
                "additionalProperties": False,
                "properties": {"values": _PARAM_VALUES, "description": _TEXT, "unit": {"type": "string",
                               "maxLength": 64}, "source": {"type": "string", "pattern": _SOURCE_KEY}},
            },
        ]
    },
}
_CITATION_ITEM: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "pattern": _SOURCE_KEY},
        {
            "type": "object",
            "required": ["source"],
            "additionalProperties": False,
            # a pinpoint: the article relied on, a note, and the confidence of this use of the source
            "properties": {"source": {"type": "string", "pattern": _SOURCE_KEY}, "article": _TEXT, "note": _TEXT,
                           "confidence": {"enum": list(CONFIDENCES)}},
        },
        {"$ref": "#/$defs/citation"},
    ]
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
                "sources": _SOURCES_FILE,
                "languages": _LANGUAGES,
                **{lang: _translation("title", "description") for lang in TRANSLATED},
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
                            **{lang: _translation("title") for lang in TRANSLATED},
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
        "define": _DEFINE,
        "parameters": _PARAMETERS,
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
                # the instrument under its official title in another language (e.g. a CAC measure's《…》)
                **{lang: _translation("instrument") for lang in TRANSLATED},
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
                "citations": {"type": "array", "items": _CITATION_ITEM, "minItems": 1},
                **{lang: _translation("title", "message", "remediation", "would_change",
                                      duty=_translation("obligation", "deadline")) for lang in TRANSLATED},
            },
        },
    },
}


SOURCES_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "airisk shared sources",
    "type": "object",
    "required": ["sources"],
    "additionalProperties": False,
    "properties": {
        "sources": {
            "type": "object",
            "propertyNames": {"pattern": _SOURCE_KEY},
            "additionalProperties": {
                "type": "object",
                "required": ["instrument", "confidence"],
                "additionalProperties": False,
                "properties": {
                    k: v for k, v in SCHEMA["$defs"]["citation"]["properties"].items() if k != "note"
                },
            },
        },
        # Parameters shared by several rulesets (a threshold both export controls and
        # overcapacity read), in the same form as a ruleset's own ``parameters:``.
        "parameters": _PARAMETERS,
    },
}


def _with_names(schema: dict[str, Any]) -> None:
    """Let conditions name a definition (``{ref: name}``) and comparisons use a parameter (``{param: name}``).

    Kept apart from the condition shapes above so the two parts of the language are edited apart."""
    ref = {"type": "object", "required": ["ref"], "additionalProperties": False,
           "properties": {"ref": {"type": "string", "pattern": _NAME}}}
    param = {"type": "object", "required": ["param"], "additionalProperties": False,
             "properties": {"param": {"type": "string", "pattern": _NAME}}}
    schema["$defs"]["ref"] = ref
    schema["$defs"]["param"] = param
    schema["$defs"]["condition"]["oneOf"].append({"$ref": "#/$defs/ref"})
    for branch in schema["$defs"]["condition"]["oneOf"]:
        props = branch.get("properties", {})
        if "fact" in props:
            for op, shape in list(props.items()):
                if op != "fact" and shape.get("type") != "array" and op != "exists":
                    props[op] = {"anyOf": [shape, {"$ref": "#/$defs/param"}]}


_with_names(SCHEMA)
