"""What a fresh machine sees: the wheel carries what `airisk test` needs, CI runs exactly the
README's test command in a new virtual environment, and the dependency ranges are declared."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```sh\n(pip install [^\n]*)\n```", readme)
    tests = [c for c in commands if "pytest" in c]
    assert len(tests) == 1, commands
    return tests[0]


def test_ci_runs_exactly_the_readme_test_command_in_a_new_virtual_environment() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = _readme_test_command()
    assert f"\n{command}\n" in script
    assert "-m venv" in script and "mktemp -d" in script
    assert re.search(r'"\$rc" -eq 5', script), "pytest's exit 5 (no tests) must fail CI"
    assert script.index("-m venv") < script.index(command)


def test_every_runtime_dependency_has_a_tested_lower_bound_and_an_upper_bound_at_the_next_major() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    for dep in deps:
        assert "==" in dep or (">=" in dep and "<" in dep.replace("<=", "")), f"{dep}: needs a tested range"


@pytest.fixture(scope="module")
def wheel_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project as pip installs it from a wheel (no dependencies: they are the test venv's)."""
    target = tmp_path_factory.mktemp("wheel-install")
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                           "--no-cache-dir", "--target", str(target), str(ROOT)],
                          capture_output=True, timeout=600, cwd=target)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    return target


def _installed(target: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(target), "AIRISK_CACHE_DIR": str(cwd / "cache")}
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True,
                          timeout=600, cwd=cwd, env=env)


def test_airisk_test_with_no_path_runs_every_bundled_table_from_the_wheel_at_full_coverage(
        wheel_install: Path, tmp_path: Path) -> None:
    proc = _installed(wheel_install, "test", "--min-coverage", "100", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert re.search(r"^\d+ test\(s\) in \d+ table\(s\): \d+ passed, 0 failed, 0 error\(s\)$", proc.stdout, re.M)
    assert "(100.0%)" in proc.stdout
    assert "table problem" not in proc.stdout


def test_the_wheel_is_what_ran_not_the_checkout(wheel_install: Path, tmp_path: Path) -> None:
    probe = subprocess.run([sys.executable, "-c", "import engine.source.resources as r; print(r.bundled('rulesets'))"],
                           capture_output=True, text=True, cwd=tmp_path, env={**os.environ,
                                                                            "PYTHONPATH": str(wheel_install)})
    assert probe.stdout.strip().startswith(str(wheel_install)), probe


def test_a_run_that_reaches_no_rule_lists_each_rule_id_once(tmp_path: Path) -> None:
    import shutil

    from engine.authoring.tabletests import render_text, run

    shutil.copytree(ROOT / "rulesets", tmp_path / "rulesets", ignore=shutil.ignore_patterns("*.tests.yaml"))
    table = tmp_path / "rulesets" / "one.tests.yaml"
    table.write_text("ruleset: overcapacity\ntests:\n  - name: A project is out of scope\n"
                     "    case: {id: x, kind: project, name: n}\n    expect: {silent: []}\n")
    report = run([str(table)])
    assert not report.problems, report.problems
    text = render_text(report)
    ids = re.findall(r"\b(OV[CH]-\d{3})\b", text)
    assert ids and len(ids) == len(set(ids)), text
    assert "never fired nor proven silent" in text


def test_the_html_report_renders_from_the_wheel_with_its_templates_and_assets(wheel_install: Path,
                                                                             tmp_path: Path) -> None:
    case = wheel_install / "engine" / "_bundled" / "cases" / "guizhou-icc.yaml"
    proc = _installed(wheel_install, "assess", str(case), "--format", "html", "-o", "r.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<style>" in html and "guizhou-icc" in html and "@media print" in html


def test_the_dashboard_renders_from_the_wheel_with_the_vendored_d3(wheel_install: Path, tmp_path: Path) -> None:
    vendored = wheel_install / "engine" / "_bundled" / "vendor"
    assert {p.name for p in vendored.iterdir()} >= {"d3.min.js", "d3-LICENSE.txt"}
    case = wheel_install / "engine" / "_bundled" / "cases" / "guizhou-icc.yaml"
    lines = tmp_path / "in.jsonl"
    lines.write_text(json.dumps(__import__("yaml").safe_load(case.read_text()), default=str) + "\n")
    done = _installed(wheel_install, "batch", str(lines), "-o", "out.jsonl", "--report", "dash.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "dash.html").read_text(encoding="utf-8")
    d3 = (vendored / "d3.min.js").read_text(encoding="utf-8")
    assert d3[200:400] in html and "ISC" in html  # the library and its licence, inlined
