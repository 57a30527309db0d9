"""Rulesets as untrusted input: expansion bounds checked at validation, before any compile (issue 17)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.match.compiler import MAX_ALTERNATIVES, MAX_CONDITIONS, MAX_IN_VALUES

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "cases" / "guizhou-icc.yaml"
HEAD = ("ruleset: {id: h, version: '1', title: H}\nrules:\n  - id: H-001\n    title: T\n    dimension: export_control\n"
        "    severity: high\n    points: 1\n    basis: advisory\n    effective_from: 2020-01-01\n    when: WHEN\n"
        "    message: m\n    citations: [{instrument: test, confidence: S}]\n")


def hostile(kind: str, n: int) -> str:
    if kind == "dnf":  # all of n `any`s of two `some`s: 2^n alternatives
        parts = [f"{{any: [{{some: accelerators, where: {{fact: count, gte: {i}}}}}, "
                 f"{{some: parties, where: {{fact: country, eq: C{i}}}}}]}}" for i in range(n)]
        cond = "{all: [" + ", ".join(parts) + "]}"
    elif kind == "in":
        cond = "{fact: location.country, in: [" + ", ".join(f"X{i}" for i in range(n)) + "]}"
    elif kind == "anyeq":
        cond = "{any: [" + ", ".join(f"{{fact: location.country, eq: X{i}}}" for i in range(n)) + "]}"
    else:  # a flat `all` of n comparisons
        cond = "{all: [" + ", ".join(f"{{fact: location.country, ne: Y{i}}}" for i in range(n)) + "]}"
    return HEAD.replace("WHEN", cond)


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=cwd, capture_output=True, timeout=60)


# One dnf rule of 2^20 alternatives, not also one of 2^10: both are far over MAX_ALTERNATIVES (64) and
# meet the same check, and the larger is the harder on a check made too late.
@pytest.mark.parametrize(("kind", "n", "limit"), [("dnf", 20, "MAX_ALTERNATIVES"),
                                                  ("in", 512, "MAX_IN_VALUES"), ("anyeq", 512, "MAX_CONDITIONS"),
                                                  ("all", 400, "MAX_CONDITIONS"), ("all", 10_000, "MAX_CONDITIONS")])
def test_validate_rejects_an_explosive_rule_located_and_naming_the_limit(tmp_path: Path, kind: str, n: int,
                                                                          limit: str) -> None:
    path = tmp_path / "h.yaml"
    path.write_text(hostile(kind, n))
    proc = run("validate", str(path))
    assert proc.returncode == 2, proc.stderr[-800:] + proc.stdout[-800:]
    out = proc.stdout + proc.stderr
    assert b"h.yaml:10:5: /rules/0/when: rule H-001" in out and limit.encode() in out
    assert b"Traceback" not in out and b"RecursionError" not in out
    assess = run("assess", "--no-bundled", "--rules", str(path), str(CASE))
    assert assess.returncode == 2 and assess.stdout == b"" and limit.encode() in assess.stderr


@pytest.mark.parametrize(("kind", "n"), [("dnf", 6), ("in", MAX_IN_VALUES), ("anyeq", MAX_CONDITIONS - 1),
                                         ("all", MAX_CONDITIONS - 1)])
def test_a_rule_at_the_limit_compiles_and_runs_quickly(tmp_path: Path, kind: str, n: int) -> None:
    assert MAX_ALTERNATIVES >= 2**6
    path = tmp_path / "h.yaml"
    path.write_text(hostile(kind, n))
    proc = run("assess", "--no-bundled", "--rules", str(path), str(CASE))
    assert proc.returncode == 0, proc.stderr[-800:]
