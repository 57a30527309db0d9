"""airisk: explained AI-governance risk ratings from declarative rulesets.

    from engine import assess, load_rules

    result = assess("cases/guizhou-icc.yaml", as_of="2026-01-01")
    print(result.rating, result.dimensions["export_control"].level)
    for finding in result.findings:
        print(finding.rule_id, finding.message)

``assess`` accepts a path, a dict or a ``Case``; it returns an ``Assessment``
whose ``to_json()`` is byte-identical to ``airisk assess --format json``.

The functions live in ``engine.api`` (``assess``, ``assess_dict``, ``assess_files``,
``assess_documents``, ``assess_many``, ``counterfactuals``, ``load_case``, ``load_rules``, ``read_document``) and
are re-exported here; the output formats are ``engine.render`` (``FORMATS``, ``render``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import AiriskError, EngineError, InputError, Problem, RulesetError
from engine.version import __version__

if TYPE_CHECKING:
    from engine.api import (
        assess,
        assess_dict,
        assess_documents,
        assess_files,
        assess_many,
        counterfactuals,
        load_case,
        load_rules,
        read_document,
        rule_catalog,
    )
    from engine.assessment.result import Assessment, Finding
    from engine.batch.catalog import Catalog
    from engine.case.model import Case
    from engine.ruleset.model import RuleSet
    from engine.source.safeyaml import Limits

# Everything but the errors loads on first use: the case and assessment models (pydantic) and
# the ruleset loader (jsonschema) take most of the import time, so `airisk batch` on a document
# ruleset and `import engine.errors` stay quick.
_API = ("assess", "assess_dict", "assess_documents", "assess_files", "assess_many", "counterfactuals", "load_case",
        "load_rules", "read_document", "rule_catalog")
_LAZY = {"Case": "engine.case.model", "Catalog": "engine.batch.catalog",
         "Assessment": "engine.assessment.result", "Finding": "engine.assessment.result",
         "RuleSet": "engine.ruleset.model", "Limits": "engine.source.safeyaml", **dict.fromkeys(_API, "engine.api")}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AiriskError",
    "Assessment",
    "Case",
    "Catalog",
    "EngineError",
    "Finding",
    "InputError",
    "Limits",
    "Problem",
    "RuleSet",
    "RulesetError",
    "__version__",
    "assess",
    "assess_dict",
    "assess_documents",
    "assess_files",
    "assess_many",
    "counterfactuals",
    "load_case",
    "load_rules",
    "read_document",
    "rule_catalog",
]
