"""The declared dependency ranges: the installed versions are inside them, each has an upper bound
(the engine relies on each major version's behaviour: pydantic 2's model API, PyYAML 6's loaders,
click 8, jsonschema 4's validators, orjson 3's options), and every third-party module the engine
imports is declared.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DEPENDENCIES: list[str] = PYPROJECT["project"]["dependencies"]
_REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(?:\[[^\]]*\])?(?P<spec>[^;]*)$")
_CLAUSE = re.compile(r"^(==|>=|<=|!=|<|>)\s*([0-9][0-9.]*)$")


def _release(version: str) -> tuple[int, ...]:
    """The numeric release segment of a version ('2.14.4' -> (2, 14, 4); '6.0.3.post1' -> (6, 0, 3))."""
    match = re.match(r"[0-9]+(?:\.[0-9]+)*", version)
    assert match, version
    return tuple(int(part) for part in match.group().split("."))


def _clauses(requirement: str) -> tuple[str, list[tuple[str, tuple[int, ...]]]]:
    match = _REQUIREMENT.match(requirement.replace(" ", ""))
    assert match, requirement
    clauses = []
    for clause in filter(None, match.group("spec").split(",")):
        parsed = _CLAUSE.match(clause)
        assert parsed, f"{requirement}: a clause this test does not read: {clause!r}"
        clauses.append((parsed.group(1), _release(parsed.group(2))))
    return match.group("name"), clauses


def _inside(version: tuple[int, ...], op: str, bound: tuple[int, ...]) -> bool:
    width = max(len(version), len(bound))
    a, b = version + (0,) * (width - len(version)), bound + (0,) * (width - len(bound))
    return {"==": a == b, "!=": a != b, ">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b}[op]


@pytest.mark.parametrize("requirement", DEPENDENCIES)
def test_the_installed_version_is_inside_the_declared_range(requirement: str) -> None:
    name, clauses = _clauses(requirement)
    installed = importlib.metadata.version(name)
    for op, bound in clauses:
        assert _inside(_release(installed), op, bound), f"{name} {installed} is outside {requirement}"


@pytest.mark.parametrize("requirement", DEPENDENCIES)
def test_every_dependency_has_an_upper_bound(requirement: str) -> None:
    _, clauses = _clauses(requirement)
    assert any(op in ("<", "<=", "==") for op, _ in clauses), f"{requirement}: no upper bound"
    assert any(op in (">=", ">", "==") for op, _ in clauses), f"{requirement}: no lower bound"


def test_the_range_reader_refuses_a_version_outside_a_range() -> None:
    _, clauses = _clauses("pydantic>=2.6,<3")
    assert not all(_inside(_release("3.0.0"), op, b) for op, b in clauses)
    assert not all(_inside(_release("2.5.9"), op, b) for op, b in clauses)
    assert all(_inside(_release("2.14.4"), op, b) for op, b in clauses)


def _imported_modules() -> set[str]:
    """Top-level modules imported anywhere in engine/ (inside functions too)."""
    found: set[str] = set()
    for path in (ROOT / "engine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_every_third_party_module_the_engine_imports_is_declared() -> None:
    declared = {_clauses(r)[0].lower().replace("_", "-") for r in DEPENDENCIES}
    for extra in PYPROJECT["project"].get("optional-dependencies", {}).values():
        declared |= {_clauses(r)[0].lower().replace("_", "-") for r in extra}
    owners = importlib.metadata.packages_distributions()
    third_party = _imported_modules() - set(sys.stdlib_module_names) - {"engine", "__future__"}
    undeclared = {}
    for module in sorted(third_party):
        dists = {d.lower().replace("_", "-") for d in owners.get(module, [])}
        if not dists & declared:
            undeclared[module] = sorted(dists)
    assert not undeclared, f"imported by engine/ but not declared in pyproject.toml: {undeclared}"
