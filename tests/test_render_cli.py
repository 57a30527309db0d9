"""`airisk render`: batch results (or `airisk assess --format json`) in any registered format,
located at the batch input's lines with --input; error records reported, exit codes asserted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from click.testing import CliRunner, Result

import engine
from engine.cli import main
from engine.cliutil import gate_level
from engine.render import FORMATS, RenderContext, Source, render
from engine.scale import LEVEL_ORDER
from engine.source.safeyaml import load_file

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-22"
CASES = sorted((ROOT / "cases").glob("*.yaml"))[:6]


def run(*args: str, input: bytes | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def batch(tmp_path: Path) -> tuple[Path, Path, list[dict[str, Any]]]:
    """A batch input of the example cases plus one malformed line, and what `airisk batch` wrote."""
    cases = tmp_path / "cases.jsonl"
    lines = [orjson.dumps(load_file(str(p)).data) for p in CASES]
    cases.write_bytes(b"\n".join([*lines[:2], b"{not json", *lines[2:]]) + b"\n")
    results = tmp_path / "results.jsonl"
    done = run("batch", str(cases), "--as-of", AS_OF, "--output", str(results))
    assert done.exit_code == 3, done.output  # the malformed line is an error record
    records = [json.loads(line) for line in results.read_text().splitlines()]
    return cases, results, records


def test_batch_results_render_as_sarif_located_at_their_input_lines(batch: Any) -> None:
    cases, results, records = batch
    got = run("render", str(results), "--format", "sarif", "--input", str(cases))
    assert got.exit_code == 3 and "batch line 3 is an error record" in got.stderr
    log = json.loads(got.stdout_bytes)
    schema = json.loads((ROOT / "tests" / "fixtures" / "sarif-schema-2.1.0.json").read_bytes())
    assert list(jsonschema.Draft4Validator(schema).iter_errors(log)) == []
    assessed = [r for r in records if "assessment" in r]
    findings = [(r["line"], f["rule_id"]) for r in assessed for f in r["assessment"]["findings"]]
    located = [(x["locations"][0]["physicalLocation"]["region"]["startLine"], x["ruleId"])
               for x in log["runs"][0]["results"] if x.get("kind", "fail") == "fail"]
    assert located == findings and len(findings) > 0
    assert {x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for x in log["runs"][0]["results"]} == {
        f"file://{cases}"}
    # The same bytes as the library gives for the same assessments and sources.
    sources = [Source(str(cases), {}, r["line"]) for r in assessed]
    assert got.stdout_bytes == render("sarif", [r["assessment"] for r in assessed],
                                      context=RenderContext(sources=sources))


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_assess_json_renders_as_assess_would_have_for_every_format(fmt: str, tmp_path: Path) -> None:
    results = [engine.assess_dict(p, as_of=AS_OF) for p in CASES[:2]]
    saved = tmp_path / "assessments.json"
    saved.write_bytes(render("json", results))
    got = run("render", str(saved), "--format", fmt)
    assert got.exit_code == 0 and got.stdout_bytes == render(fmt, results)
    single = run("render", "-", "--format", fmt, input=render("json", results[0]))
    assert single.exit_code == 0 and single.stdout_bytes == render(fmt, results[0])


def test_fail_on_exits_one_when_a_rendered_case_reaches_the_level(tmp_path: Path) -> None:
    results = [engine.assess_dict(p, as_of=AS_OF) for p in CASES[:3]]
    saved = tmp_path / "assessments.json"
    saved.write_bytes(render("json", results))
    worst = max(gate_level(r, False) for r in results)
    level = next(name for name, rank in LEVEL_ORDER.items() if rank == worst)
    assert run("render", str(saved), "--format", "junit", "--fail-on", level).exit_code == 1
    above = [name for name, rank in LEVEL_ORDER.items() if rank > worst]
    if above:
        assert run("render", str(saved), "--format", "junit", "--fail-on", above[0]).exit_code == 0


def test_malformed_results_are_a_located_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "results.jsonl"
    bad.write_text('{"line": 1, "case_id": "a", "assessment": {"case_id": "a", "findings": []}}\n{oops\n')
    got = run("render", str(bad))
    assert got.exit_code == 2 and got.stdout_bytes == b"" and f"{bad}:2" in got.stderr
    other = tmp_path / "other.jsonl"
    other.write_text('{"hello": 1}\n')
    got = run("render", str(other))
    assert got.exit_code == 2 and "not an assessment or a batch record" in got.stderr
    missing = run("render", str(tmp_path / "absent.jsonl"))
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
