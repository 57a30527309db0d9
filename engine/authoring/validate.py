"""Validate rulesets and case files together, collecting every problem.

A ruleset is checked by its schema, by meaning (fact paths, types, windows,
citations, tiers) and by compiling it for the matching core (limits reported
against the YAML rule). A case is checked against the case model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from engine.errors import AiriskError, Problem
from engine.ruleset.model import Ruleset
from engine.source.safeyaml import Document

_SUFFIXES = (".yaml", ".yml", ".json")


def _expand(paths: Sequence[str]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.suffix in _SUFFIXES and not f.name.endswith(
                (".tests.yaml", ".tests.yml")) and "data" not in f.relative_to(p).parts[:-1]))
        else:
            files.append(p)
    return files


def _is_ruleset(data: object) -> bool:
    return isinstance(data, dict) and "ruleset" in data and "rules" in data


def _at_rule(doc: Document, ruleset: Ruleset, problem: Problem) -> Problem:
    """A compiler problem located at its YAML rule (line, column and pointer)."""
    for i, rule in enumerate(ruleset.rules):
        if rule.line is not None and rule.line == problem.line:
            located = doc.where(["rules", i, "when"], problem.message, code=problem.code, hint=problem.hint)
            return replace(located, line=rule.line, column=doc.positions.get(f"/rules/{i}", (None, None))[1])
    return problem


def validate_paths(paths: Sequence[str]) -> tuple[list[Problem], list[str]]:
    """(problems, files checked) for rulesets and cases under ``paths``."""
    from engine.case.validation import case_from_data
    from engine.match.compiler import compile_rules
    from engine.ruleset.load import RULESET_LIMITS, combine
    from engine.ruleset.parse import parse_ruleset
    from engine.ruleset.sources import is_sources_file, read_sources
    from engine.source.safeyaml import load_file

    problems: list[Problem] = []
    checked: list[str] = []
    rulesets: list[Ruleset] = []
    for path in _expand(paths):
        checked.append(str(path))
        try:
            if is_sources_file(path):  # shared citations (rulesets/sources.yaml): checked on their own
                read_sources(path, str(path))
                continue
            doc = load_file(str(path), RULESET_LIMITS)
            if _is_ruleset(doc.data):
                ruleset = parse_ruleset(doc)
                rulesets.append(ruleset)
                try:
                    compile_rules(ruleset.rules)
                except AiriskError as exc:
                    problems.extend(_at_rule(doc, ruleset, p) for p in exc.problems)
            else:
                case_from_data(doc.data, file=doc.file, doc=doc)
        except AiriskError as exc:
            problems.extend(exc.problems)
    if len(rulesets) > 1:
        try:
            combine(rulesets)
        except AiriskError as exc:
            problems.extend(exc.problems)
    return problems, checked
