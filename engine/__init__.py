"""airisk: explained AI-governance risk ratings from declarative rulesets.

    from engine import assess, load_rules

    result = assess("cases/guizhou-icc.yaml", as_of="2026-01-01")
    print(result.rating, result.dimensions["export_control"].level)
    for finding in result.findings:
        print(finding.rule_id, finding.message)

``assess`` accepts a path, a dict or a ``Case``; it returns an ``Assessment``
whose ``to_json()`` is byte-identical to ``airisk assess --format json``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import AiriskError, EngineError, InputError, Problem, RulesetError
from engine.source.safeyaml import DEFAULT_LIMITS, Limits
from engine.version import __version__

if TYPE_CHECKING:
    from engine.assessment.engine import Engine
    from engine.assessment.result import Assessment, Finding
    from engine.case.model import Case
    from engine.ruleset.load import load_rules
    from engine.ruleset.model import RuleSet

# The case and assessment models (pydantic) and the ruleset loader (jsonschema) take most of
# the import time; they load on first use, so `airisk batch` on a document ruleset and
# `import engine.errors` stay quick.
_LAZY = {"Case": "engine.case.model", "Assessment": "engine.assessment.result", "Finding": "engine.assessment.result",
         "RuleSet": "engine.ruleset.model", "load_rules": "engine.ruleset.load"}


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
    "assess_many",
    "counterfactuals",
    "load_case",
    "load_rules",
]


def _engine(rules: RuleSet | None) -> Engine:
    from engine.assessment.engine import engine_for
    from engine.ruleset.load import load_rules

    return engine_for(rules if rules is not None else load_rules())


def load_case(path: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> Case:
    """Read and validate a YAML or JSON case file (errors name file, line and field).

    ``limits`` bounds the file's size, line length, nesting and so on (docs/limits.md)."""
    from engine.case.validation import load_case_file

    return load_case_file(path, limits)


def assess_dict(case: Case | Mapping[str, Any] | str | Path, rules: RuleSet | None = None,
                as_of: str | dt.date | None = None, scenario: str | None = None, *,
                limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Like ``assess`` but returns the assessment as plain JSON-ready data."""
    from engine.case.model import Case

    engine = _engine(rules)
    if isinstance(case, str | Path):
        if engine.rules.input == "document":
            from engine.source.safeyaml import load_file

            doc = load_file(str(case), limits)
            return engine.assess_data(doc.data, as_of=as_of, scenario=scenario, file=doc.file)
        case = load_case(case, limits=limits)
    if isinstance(case, Case):
        return engine.assess_case(case, as_of=as_of, scenario=scenario)
    return engine.assess_data(case, as_of=as_of, scenario=scenario)


def assess(case: Case | Mapping[str, Any] | str | Path, rules: RuleSet | None = None,
           as_of: str | dt.date | None = None, scenario: str | None = None, *,
           limits: Limits = DEFAULT_LIMITS) -> Assessment:
    """Assess one case (a path, a dict or a ``Case``) as of a date (default today).

    ``rules`` defaults to the bundled rulesets; ``scenario`` selects an
    alternative date set declared by a ruleset (e.g. ``digital-omnibus``);
    ``limits`` bounds what is read from a case file (docs/limits.md).
    Raises ``InputError`` or ``RulesetError`` (both ``AiriskError``) with
    located problems on bad input."""
    from engine.assessment.result import Assessment

    return Assessment.model_validate(assess_dict(case, rules, as_of, scenario, limits=limits))


def assess_many(cases: Iterable[str | bytes | Mapping[str, Any] | Case], rules: RuleSet | None = None,
                as_of: str | dt.date | None = None, scenario: str | None = None,
                verify: bool = False) -> Iterator[dict[str, Any]]:
    """Assess cases lazily, one record per input, in order (the records of ``airisk batch``).

    Items may be JSON lines (``str``/``bytes``), mappings or ``Case`` objects.
    Each record is ``{"line": n, "case_id": ..., "assessment": {...}}`` or, for a
    bad item, ``{"line": n, "case_id": ..., "error": {"code", "message", "field",
    "problems"}}``; a bad item never stops the others. For process-parallel or
    file-to-file runs see ``engine.batch.run.run_batch``; for Dask, ``engine.batch.distributed``.

    ``verify=True`` checks, for every case, that the rules the Rete core fired are exactly
    those the reference evaluator finds true (a disagreement is an ``engine_disagreement``
    error record for that case). Safe to call from several threads at once."""
    from engine.batch.run import iter_records, make_assessor
    from engine.ruleset.load import load_rules

    assessor = make_assessor(rules if rules is not None else load_rules(), as_of, scenario, verify=verify)
    yield from iter_records(cases, assessor)


def counterfactuals(case: Case | Mapping[str, Any] | str | Path, below: str | None = None,
                    rules: RuleSet | None = None, as_of: str | dt.date | None = None,
                    scenario: str | None = None, *, dimension: str | None = None,
                    limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    """The smallest sets of changes to facts the user controls (``engine.assessment.levers``) that bring
    each dimension at or above ``below`` (default: its own level) below it, each verified by
    re-assessing the changed case (the report of ``airisk explain``)."""
    from engine.assessment.search import find
    from engine.case.model import Case

    file = None
    if isinstance(case, str | Path):
        from engine.source.safeyaml import load_file

        doc = load_file(str(case), limits)
        data, file = doc.data, doc.file
    elif isinstance(case, Case):
        data = case.model_dump(mode="json", exclude_none=True)
    else:
        data = case
    return find(data, rules=rules, below=below, dimension=dimension, as_of=as_of, scenario=scenario, file=file)
