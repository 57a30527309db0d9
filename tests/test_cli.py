"""Every `airisk` command's exit codes and output (assess, validate, schema, rules)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine
from engine.authoring.schemas import NAMES, text
from engine.cli import main
from engine.render import FORMATS, RenderContext, Source, render

ROOT = Path(__file__).resolve().parents[1]
CASE = str(ROOT / "cases" / "guizhou-icc.yaml") if (ROOT / "cases" / "guizhou-icc.yaml").exists() else str(
    sorted((ROOT / "cases").glob("*.yaml"))[0])
AS_OF = "2026-11-22"


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), input=input, env=env, catch_exceptions=False)


@pytest.fixture
def bad_case(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text("id: c1\nkind: facility\nname: X\nfacility:\n  pue: '1.4'\n  utilisation: 0.3\n")
    return path


@pytest.fixture
def tiny_rules(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(
        "ruleset: {id: tiny, version: '1', title: Tiny}\n"
        "rules:\n"
        "  - id: TNY-001\n    title: In China\n    dimension: export_control\n    severity: high\n    points: 60\n"
        "    basis: advisory\n    effective_from: 2020-01-01\n    when: {fact: location.country, eq: CN}\n"
        "    message: 'Located in {location.country}'\n    citations: [{instrument: test, confidence: S}]\n")
    return path


def test_assess_prints_a_readable_report_and_exits_zero() -> None:
    result = run("assess", CASE, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "Rating:" in result.output
    assert "dimension" in result.output and "export_control" in result.output
    assert "\x1b[" not in result.output  # not a TTY: no colour


def test_assess_json_has_the_documented_fields() -> None:
    result = run("assess", CASE, "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert {"case_id", "rating", "dimensions", "findings", "provenance"} <= set(data)
    assert set(data["dimensions"]) == {"safety", "export_control", "overcapacity"}
    for f in data["findings"]:
        assert {"rule_id", "dimension", "severity", "evidence", "citations"} <= set(f)
    assert {"engine_version", "rulesets", "as_of"} <= set(data["provenance"])


def test_assess_markdown_starts_with_a_heading() -> None:
    result = run("assess", CASE, "--as-of", AS_OF, "--format", "markdown")
    assert result.exit_code == 0 and result.output.startswith("# ")


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_assess_writes_every_registered_format_as_the_library_renders_it(fmt: str, tmp_path: Path) -> None:
    cases = [str(p) for p in sorted((ROOT / "cases").glob("*.yaml"))[:2]]
    results, docs = engine.assess_documents(cases, as_of=AS_OF, horizon=365)  # assess's default --horizon
    # What the CLI knows beyond the dicts (each file and the line of each fact; the formats for CI read it).
    sources = [Source.of(d) for d in docs]
    one = run("assess", cases[0], "--as-of", AS_OF, "--format", fmt)
    first = render(fmt, results[0], context=RenderContext(sources=sources[:1]))
    assert one.exit_code == 0 and one.stdout_bytes == first
    if FORMATS[fmt].many:
        both = run("assess", *cases, "--as-of", AS_OF, "--format", fmt)
        assert both.exit_code == 0 and both.stdout_bytes == render(fmt, results, context=RenderContext(sources=sources))
    out = tmp_path / f"report{FORMATS[fmt].extension}"
    to_file = run("assess", cases[0], "--as-of", AS_OF, "--format", fmt, "--output", str(out))
    assert to_file.exit_code == 0 and to_file.stdout_bytes == b"" and out.read_bytes() == first
    if FORMATS[fmt].render_with is None:  # the formats before the CI ones read no context
        assert first == render(fmt, results[0])


def test_assess_help_offers_the_registered_formats() -> None:
    assert "[" + "|".join(FORMATS) + "]" in run("assess", "--help").output


def test_fail_on_exits_one_when_the_rating_reaches_the_level(tiny_rules: Path, tmp_path: Path) -> None:
    case = tmp_path / "c.yaml"
    case.write_text("id: c\nkind: project\nname: C\nlocation: {country: CN}\n")
    assert run("assess", str(case), "--no-bundled", "--rules", str(tiny_rules), "--fail-on", "high").exit_code == 1
    assert run("assess", str(case), "--no-bundled", "--rules", str(tiny_rules), "--fail-on", "critical").exit_code == 0


def test_a_malformed_case_exits_two_names_file_line_and_field_and_prints_nothing_to_stdout(bad_case: Path) -> None:
    result = CliRunner().invoke(main, ["assess", str(bad_case), "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{bad_case}:5:3: /facility/pue: must be a number" in result.stderr
    assert "unknown field 'utilisation'" in result.stderr and "did you mean 'accelerator_utilisation'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_one_bad_case_among_good_ones_prints_nothing_to_stdout(bad_case: Path) -> None:
    result = CliRunner().invoke(main, ["assess", CASE, str(bad_case)], catch_exceptions=False)
    assert result.exit_code == 2 and result.stdout == ""


def test_a_malformed_ruleset_exits_two_with_its_location(tmp_path: Path) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text("ruleset: {id: r, version: '1', title: R}\nrules:\n  - id: R-001\n    title: x\n")
    result = CliRunner().invoke(main, ["assess", CASE, "--no-bundled", "--rules", str(rules)], catch_exceptions=False)
    assert result.exit_code == 2 and result.stdout == ""
    assert f"{rules}:3:5: /rules/0: 'dimension' is required" in result.stderr


def test_a_bad_as_of_date_and_an_unknown_scenario_are_usage_errors() -> None:
    assert run("assess", CASE, "--as-of", "2026-13-01").exit_code == 2
    result = CliRunner().invoke(main, ["assess", CASE, "--scenario", "nope"])
    assert result.exit_code == 2 and "unknown scenario" in result.stderr


def test_a_missing_file_is_an_input_error_not_a_traceback() -> None:
    result = CliRunner().invoke(main, ["assess", "no/such/case.yaml"])
    assert result.exit_code == 2 and "cannot read file" in result.stderr


def test_assess_reads_a_case_from_stdin() -> None:
    case = Path(CASE).read_text()
    result = run("assess", "-", "--as-of", AS_OF, "--format", "json", input=case)
    assert result.exit_code == 0 and json.loads(result.output)["case_id"]


def test_output_file_is_written_and_stdout_stays_empty(tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    result = run("assess", CASE, "--as-of", AS_OF, "--format", "json", "--output", str(out))
    assert result.exit_code == 0 and result.output == ""
    assert json.loads(out.read_text())["provenance"]["as_of"] == AS_OF
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # no temp file left behind


def test_validate_is_clean_on_the_bundled_rulesets_and_cases() -> None:
    result = CliRunner().invoke(main, ["validate", str(ROOT / "rulesets"), str(ROOT / "cases")])
    assert result.exit_code == 0, result.output
    assert "0 problem(s)" in result.stderr


def test_validate_reports_every_problem_and_exits_two(bad_case: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(bad_case), "--format", "json"])
    assert result.exit_code == 2
    problems = json.loads(result.stdout)["problems"]
    assert [p["pointer"] for p in problems] == ["/facility/pue", "/facility/utilisation"]
    assert all(p["line"] for p in problems)


@pytest.mark.parametrize("name", NAMES)
def test_schema_prints_the_committed_schema(name: str) -> None:
    result = run("schema", name)
    assert result.exit_code == 0
    assert result.output == text(name)
    assert json.loads(result.output)["$schema"].startswith("https://json-schema.org/")


def test_schema_rejects_an_unknown_name() -> None:
    assert run("schema", "nope").exit_code == 2


def test_rules_list_shows_one_line_per_rule_and_filters(tiny_rules: Path) -> None:
    result = run("rules", "list", "--no-bundled", "--rules", str(tiny_rules))
    assert result.exit_code == 0
    assert result.output.split()[0] == "TNY-001"
    assert run("rules", "list", "--no-bundled", "--rules", str(tiny_rules), "--as-of", "2019-01-01").output == ""
    assert run("rules", "list", "--no-bundled", "--rules", str(tiny_rules), "--dimension", "safety").output == ""


def test_rules_show_prints_the_rule_and_suggests_close_ids(tiny_rules: Path) -> None:
    result = run("rules", "show", "TNY-001", "--no-bundled", "--rules", str(tiny_rules))
    assert result.exit_code == 0 and "id: TNY-001" in result.output and "citations:" in result.output
    missing = CliRunner().invoke(main, ["rules", "show", "TNY-002", "--no-bundled", "--rules", str(tiny_rules)])
    assert missing.exit_code == 2 and "did you mean 'TNY-001'?" in missing.stderr


def test_rules_show_gives_each_dated_variant_and_the_condition_as_written(tmp_path: Path) -> None:
    path = tmp_path / "dated.yaml"
    path.write_text(
        "ruleset: {id: dated, version: '1', title: Dated}\n"
        "parameters:\n  units: {'2020-01-01': 10, '2025-01-01': 20}\n"
        "define:\n  many: {fact: derived.accelerator_units, gte: {param: units}}\n"
        "rules:\n"
        "  - id: DTD-001\n    title: 'At least {param.units} units'\n    dimension: overcapacity\n"
        "    severity: low\n    points: 5\n    basis: advisory\n    effective_from: 2020-01-01\n"
        "    when: {ref: many}\n    message: m\n    citations: [{instrument: test, confidence: S}]\n",
        encoding="utf-8")
    result = run("rules", "show", "DTD-001", "--no-bundled", "--rules", str(path))
    assert result.exit_code == 0, result.output
    first, second = result.output.split("---\n")
    assert "title: At least 10 units" in first and "effective_to: '2024-12-31'" in first
    assert "title: At least 20 units" in second and "effective_from: '2025-01-01'" in second
    assert "as_written:\n  ref: many\n" in first and "gte: 20" in second


def test_no_color_and_a_non_tty_give_plain_text() -> None:
    result = run("assess", CASE, "--as-of", AS_OF, env={"NO_COLOR": "1"})
    assert "\x1b[" not in result.output


def test_version_and_help() -> None:
    assert run("--version").output.startswith("airisk, version ")
    assert run("--help").exit_code == 0
