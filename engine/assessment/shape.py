"""The assessment's output shape: which fields each object has, in which order.

The one definition of the shape. The pydantic models in ``engine.assessment.result`` declare the
same fields in the same order with their types and descriptions, and check at import that they do
(``result.conform``); the hot path, which never imports pydantic, builds each object with
``shaped`` from the field tuple here, which refuses a field left out or one the shape lacks. So
a field added to a model and not produced, or produced and not in the model, fails.
"""

from __future__ import annotations

from typing import Any

import orjson

EVIDENCE = ("fact", "op", "value", "actual")
CITATION = ("instrument", "article", "url", "date", "confidence", "note")
EFFECTIVE_WINDOW = ("effective_from", "effective_to")
DUTY = ("jurisdiction", "obligation", "deadline")
FINDING = ("rule_id", "ruleset", "dimension", "severity", "points", "basis", "title", "message", "evidence",
           "citations", "remediation", "would_change", "effective", "tier", "duty", "tags", "waived")
NEEDS_INFORMATION = ("rule_id", "dimension", "title", "missing")
TIER_RESULT = ("title", "tier", "binding", "rules")
NOT_ASSESSED = ("rules", "missing_sections")
DECISIVE_UNKNOWN = ("fact", "rules")
RANGE_FILLINGS = ("best", "worst")
DIMENSION_RESULT = ("assessed", "level", "level_range", "score", "findings", "drivers", "confidence",
                    "missing_facts", "decisive_unknowns", "range_fillings", "tiers", "duties", "not_assessed")
RULESET_PROVENANCE = ("id", "version", "sha256", "rules", "rules_in_force")
WAIVED = ("reason", "approver", "ticket", "created", "expires", "rule", "file", "line")
WAIVER_FILE = ("file", "sha256", "waivers")
PROVENANCE = ("engine_version", "as_of", "scenario", "rulesets", "waivers")
COVERAGE = ("assessed", "not_assessed")
BOUNDS = ("exact", "range_fillings")
ASSESSMENT = ("case_id", "case_name", "kind", "lang", "rating", "rating_range", "decisive_unknowns", "coverage",
              "bounds", "explanation", "dimensions", "findings", "needs_information", "derived", "provenance",
              "what_if")

# ``upcoming`` (issue 19): the changes due after the as-of date, with ``airisk assess --horizon``. Not in
# ASSESSMENT: present only when asked for (then right after ``explanation``), so a batch record without
# a horizon keeps its bytes. The models declare it (``OPTIONAL``); ``with_optional`` places it.
UPCOMING_MOVE = ("dimension", "from", "to", "from_range", "to_range")
UPCOMING_RULE = ("rule_id", "dimension", "severity", "title")
UPCOMING = ("date", "rating", "rating_range", "moves", "appeared", "disappeared", "text")
OPTIONAL: dict[str, dict[str, str]] = {"Assessment": {"upcoming": "explanation"}}
"""Per model: the optional fields it declares that the shape leaves out, each with the field it follows."""

SHAPES: dict[str, tuple[str, ...]] = {
    "Evidence": EVIDENCE, "CitationOut": CITATION, "EffectiveWindow": EFFECTIVE_WINDOW, "Duty": DUTY,
    "Finding": FINDING, "NeedsInformation": NEEDS_INFORMATION, "TierResult": TIER_RESULT,
    "NotAssessed": NOT_ASSESSED, "DecisiveUnknown": DECISIVE_UNKNOWN, "RangeFillings": RANGE_FILLINGS,
    "DimensionResult": DIMENSION_RESULT, "RulesetProvenance": RULESET_PROVENANCE, "Provenance": PROVENANCE,
    "Coverage": COVERAGE, "Bounds": BOUNDS, "Assessment": ASSESSMENT,
    "Waived": WAIVED, "WaiverFile": WAIVER_FILE,
    "Upcoming": UPCOMING, "UpcomingMove": UPCOMING_MOVE, "UpcomingRule": UPCOMING_RULE,
}
"""Each output model's name -> its fields in order."""


class ShapeError(TypeError):
    """An output object built with fields its shape does not have, or without one it has."""


def shaped(fields: tuple[str, ...], **values: Any) -> dict[str, Any]:
    """The object with ``fields`` in order, each from ``values``; ShapeError unless ``values``
    gives exactly those fields."""
    if len(values) == len(fields):  # then every field given means nothing else is (names are unique)
        try:
            return {name: values[name] for name in fields}
        except KeyError:
            pass
    missing, extra = sorted(set(fields) - values.keys()), sorted(values.keys() - set(fields))
    raise ShapeError(f"output object with fields {fields}: missing {missing}, not in the shape {extra}")


def with_optional(model: str, obj: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """``obj`` with the optional field ``name`` (``OPTIONAL``) set to ``value``, placed after its field."""
    after = OPTIONAL[model][name]
    out: dict[str, Any] = {}
    for key, item in obj.items():
        if key != name:
            out[key] = item
        if key == after:
            out[name] = value
    return out


def canonical_json(assessment: dict[str, Any], *, indent: bool = True) -> bytes:
    """An assessment's canonical JSON: same input, rules and as-of → same bytes. The one encoding
    of the result, used by the models (``Assessment.to_json``) and by the ``json`` output format."""
    return orjson.dumps(assessment, option=orjson.OPT_INDENT_2 if indent else 0) + b"\n"
