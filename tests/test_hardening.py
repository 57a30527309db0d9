"""Hostile and broken input (issue 8): located errors, exit 2, nothing executed, nothing crashes.

Every hostile input goes through ``airisk assess`` (exit 2, empty stdout, no
traceback, stderr names file:line and the field where there is one) and through
the library (``engine.assess`` raises ``InputError``). The fixtures are in
``tests/fixtures/hostile/``; the large ones are generated here.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.case.validation import load_case_file
from engine.cli import main
from engine.errors import AiriskError, InputError, RulesetError
from engine.source.limits import ENV_VARS, Limits, limits_from_env
from engine.source.safeyaml import load_text

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "fixtures" / "hostile"
AS_OF = "2026-11-22"
HEAD = b"id: hostile\nkind: project\nname: Hostile input\n"

# fixture -> (problem code, JSON pointer of the field ("" when there is none; None: too long to spell
# out here), line or None when the problem has no line)
Expected = tuple[str, str | None, int | None]
REFUSED: dict[str, Expected] = {
    "malformed.yaml": ("parse_error", "", 5),
    "malformed.json": ("parse_error", "", 1),
    "duplicate-key.yaml": ("duplicate_key", "/location/country", 6),
    "duplicate-key.json": ("duplicate_key", "/name", 1),
    "wrong-type.yaml": ("wrong_type", "/accelerators/0/count", 6),
    "unknown-field.yaml": ("unknown_field", "/location/contry", 5),
    "not-utf8.yaml": ("encoding", "", 4),
    "utf16-bom.yaml": ("encoding", "", 1),
    "nan.yaml": ("invalid_number", "/facility/pue", 5),
    "nan.json": ("invalid_number", "/facility/pue", 1),
    "infinity.json": ("invalid_number", "/facility/pue", 1),
    "overflow-float.yaml": ("invalid_number", "/facility/pue", 5),
    "int-beyond-64-bits-count.yaml": ("out_of_range", "/accelerators/0/count", 6),
    "python-tag.yaml": ("unsafe_tag", "/id", 1),
    "python-object.yaml": ("unsafe_tag", "", 1),
    "custom-tag.yaml": ("unsafe_tag", "/description", 4),
    "binary-tag.yaml": ("unsafe_tag", "/description", 4),
    "set-tag.yaml": ("unsafe_tag", "/tags", 4),
    "merge-key.yaml": ("unsafe_tag", "", 2),
    "billion-laughs.yaml": ("too_large", "/f/1", 6),
    "recursive-alias.yaml": ("parse_error", "/tags/0", 4),
    "empty.yaml": ("empty", "", None),
    "comments-only.yaml": ("empty", "", None),
    "list.yaml": ("not_a_mapping", "", 1),
    "list.json": ("not_a_mapping", "", 1),
    "scalar.yaml": ("not_a_mapping", "", 1),
    "scalar.json": ("not_a_mapping", "", 1),
    "two-documents.yaml": ("parse_error", "", 4),
    "nul-byte.yaml": ("invalid_text", "", 4),
    "escape-control.yaml": ("invalid_text", "/description", 4),
    "lone-surrogate.json": ("invalid_text", "/description", 1),
    "bad-date.yaml": ("invalid_value", "/ai_system/placed_on_market", 5),
    "non-string-key.yaml": ("invalid_key", "", 4),
}

# Generated here: too big to keep as files, or built to sit just past a limit.
GENERATED: dict[str, tuple[bytes, Expected]] = {
    "deep-flow.json": (b'{"id": "x", "kind": "project", "name": "n", "tags": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
                       ("too_deep", None, 1)),
    "deep-block.yaml": (HEAD + b"description:\n" + b"".join(b"  " * i + b"k:\n" for i in range(1, 60)),
                        ("too_deep", None, 37)),
    "deep-dashes.yaml": (HEAD + b"tags:\n" + b"- " * 100_000 + b"x\n", ("too_deep", None, 5)),
    "huge-string.yaml": (HEAD + b"description: " + b"a" * 200_000 + b"\n", ("too_large", "/description", 4)),
    "long-line.yaml": (HEAD + b"description: " + b"b" * (2 * 1024 * 1024) + b"\n", ("line_too_long", "", 4)),
    "huge-file.yaml": (HEAD + b"# padding\n" * 600_000, ("too_large", "", None)),
    "many-items.yaml": (HEAD + b"tags: [" + b",".join(b"t%d" % i for i in range(20_000)) + b"]\n",
                        ("too_large", "/tags", 4)),
    "int-5000-digits.yaml": (HEAD + b"ai_system:\n  training_compute_flop: 1" + b"0" * 5000 + b"\n",
                             ("invalid_number", "/ai_system/training_compute_flop", 5)),
    "int-beyond-float.yaml": (HEAD + b"ai_system:\n  training_compute_flop: 1" + b"0" * 320 + b"\n",
                              ("invalid_number", "/ai_system/training_compute_flop", 5)),
    "hex-beyond-float.yaml": (HEAD + b"ai_system:\n  training_compute_flop: 0x" + b"f" * 300 + b"\n",
                              ("invalid_number", "/ai_system/training_compute_flop", 5)),
    "many-accelerators.yaml": (HEAD + b"accelerators:\n" + b"".join(b"  - {model: H100, count: %d}\n" % i
                                                                     for i in range(300)),
                               ("out_of_range", "/accelerators", 4)),
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("hostile")
    for name, (data, _) in GENERATED.items():
        (directory / name).write_bytes(data)
    return directory


ALL_NAMES = list(REFUSED) + list(GENERATED)


def _path_of(name: str, generated: Path) -> tuple[Path, Expected]:
    if name in REFUSED:
        return HOSTILE / name, REFUSED[name]
    return generated / name, GENERATED[name][1]


def _assess_cli(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None) -> Any:
    return CliRunner().invoke(main, ["assess", "--as-of", AS_OF, "--format", "json", *args], env=env,
                              input=stdin, catch_exceptions=False)


def test_every_hostile_fixture_is_listed_with_its_expected_error() -> None:
    on_disk = {p.name for p in HOSTILE.iterdir() if p.suffix in (".yaml", ".json")}
    accepted = {"exponent-float.yaml", "exponent-float.json", "int-beyond-64-bits.yaml", "utf8-bom.yaml"}
    assert on_disk == set(REFUSED) | accepted


@pytest.mark.parametrize("name", ALL_NAMES)
def test_a_hostile_case_file_makes_assess_exit_2_with_a_located_error_and_no_output(
        name: str, generated: Path) -> None:
    path, (_code, ptr, line) = _path_of(name, generated)
    result = _assess_cli(str(path))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"airisk: error: {path}")
    if line is not None:
        assert first.startswith(f"airisk: error: {path}:{line}:")
    if ptr:
        assert f": {ptr}: " in first


@pytest.mark.parametrize("name", ALL_NAMES)
def test_a_hostile_case_file_makes_the_library_raise_input_error_with_the_same_location(
        name: str, generated: Path) -> None:
    path, (code, ptr, line) = _path_of(name, generated)
    with pytest.raises(InputError) as info:
        engine.assess(path, as_of=AS_OF)
    first = info.value.first
    assert first.code == code
    if ptr is not None:
        assert first.pointer == ptr
    assert first.file == str(path)
    if line is not None:
        assert first.line == line


def test_hostile_input_on_stdin_is_located_at_stdin() -> None:
    result = _assess_cli("-", stdin=(HOSTILE / "duplicate-key.yaml").read_bytes())
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("airisk: error: <stdin>:6:3: /location/country: duplicate key")


def test_stdin_larger_than_the_limit_is_refused_without_reading_it_all() -> None:
    result = _assess_cli("-", stdin=HEAD + b"#" * (6 * 1024 * 1024), env={"AIRISK_MAX_BYTES": "1m"})
    assert result.exit_code == 2
    assert "larger than 1048576 bytes" in result.stderr


def test_a_yaml_tag_that_would_run_a_command_runs_nothing_in_a_real_process(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    case = tmp_path / "evil.yaml"
    case.write_text(f"id: !!python/object/apply:os.system ['touch {marker}']\nkind: project\nname: n\n")
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "assess", str(case)], cwd=ROOT,
                          capture_output=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert b"Traceback" not in proc.stderr
    assert f"{case}:1:5: /id: tag".encode() in proc.stderr
    assert not marker.exists()


def test_deep_nesting_is_refused_in_a_real_process_instead_of_overflowing_the_c_stack(tmp_path: Path) -> None:
    # libyaml's composer recurses in C: 200,000 '[' used to kill the process (SIGSEGV).
    case = tmp_path / "deep.json"
    case.write_bytes(GENERATED["deep-flow.json"][0])
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "assess", str(case)], cwd=ROOT,
                          capture_output=True, timeout=120)
    assert proc.returncode == 2, proc.stderr[-500:]
    assert b"nesting deeper than 32 levels" in proc.stderr
    assert b"Traceback" not in proc.stderr


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("option", ["--rules", None])
def test_an_endless_input_file_is_refused_at_the_size_limit_instead_of_read_forever(option: str | None) -> None:
    args = [option, "/dev/zero", str(ROOT / "cases" / "ts-frontier-model.yaml")] if option else ["/dev/zero"]
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "assess", *args], cwd=ROOT, capture_output=True,
                          timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert b"/dev/zero: /: file is larger than" in proc.stderr


def test_validate_reports_every_hostile_fixture_located_and_exits_2() -> None:
    result = CliRunner().invoke(main, ["validate", "--format", "json", str(HOSTILE)], catch_exceptions=False)
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    files = {Path(p["file"]).name for p in report["problems"]}
    assert files == set(REFUSED)
    assert all(p["line"] for p in report["problems"] if p["code"] != "empty")


def test_every_error_of_several_bad_files_is_reported_in_one_run() -> None:
    files = [HOSTILE / "unknown-field.yaml", HOSTILE / "duplicate-key.yaml", ROOT / "cases" / "ts-frontier-model.yaml"]
    result = _assess_cli(*map(str, files))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 2


# --------------------------------------------------------------------------- input that must work


def _findings(data: bytes, tmp_path: Path, name: str = "case.yaml") -> Any:
    path = tmp_path / name
    path.write_bytes(data)
    return engine.assess_dict(path, as_of=AS_OF)


FLOP_SPELLINGS = ["2e+25", "2E25", "2.0e+25", "20000000000000000000000000", "2_0000000000000000000000000", "2.e25"]


def _frontier(flop: str) -> bytes:
    return (ROOT / "cases" / "ts-frontier-model.yaml").read_bytes().replace(
        b"training_compute_flop: 3.0e+25", b"training_compute_flop: " + flop.encode())


def test_the_frontier_case_still_states_its_training_compute_where_these_tests_expect_it() -> None:
    assert b"training_compute_flop: 3.0e+25" in (ROOT / "cases" / "ts-frontier-model.yaml").read_bytes()


@pytest.mark.parametrize("flop", FLOP_SPELLINGS)
def test_exponent_floats_and_integers_beyond_64_bits_are_numbers_that_assess_like_the_plain_float(
        flop: str, tmp_path: Path) -> None:
    reference = _findings(_frontier("2.0e+25"), tmp_path, "ref.yaml")
    result = _findings(_frontier(flop), tmp_path)
    assert result == reference
    assert result["derived"] == reference["derived"]


def test_training_compute_above_1e25_fires_a_rule_that_stays_silent_below_it(tmp_path: Path) -> None:
    above = {f["rule_id"] for f in _findings(_frontier("2e+25"), tmp_path, "a.yaml")["findings"]}
    below = {f["rule_id"] for f in _findings(_frontier("9e+24"), tmp_path, "b.yaml")["findings"]}
    assert above - below, "some rule must depend on training_compute_flop > 1e+25"


def test_exponent_floats_in_json_work_through_the_cli(tmp_path: Path) -> None:
    result = _assess_cli(str(HOSTILE / "exponent-float.json"))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["case_id"] == "hostile"


def test_a_utf8_bom_and_crlf_line_ends_assess_like_plain_utf8(tmp_path: Path) -> None:
    plain = (ROOT / "cases" / "ts-frontier-model.yaml").read_bytes()
    reference = _findings(plain, tmp_path, "plain.yaml")
    assert _findings(b"\xef\xbb\xbf" + plain, tmp_path, "bom.yaml") == reference
    assert _findings(plain.replace(b"\n", b"\r\n"), tmp_path, "crlf.yaml") == reference


def test_two_unicode_spellings_of_the_same_province_and_name_assess_identically(tmp_path: Path) -> None:
    base = yaml.safe_load((ROOT / "cases" / "oc-guizhou-hub-h20.yaml").read_text())
    outputs = []
    for form in ("NFC", "NFD"):
        case = dict(base, name=unicodedata.normalize(form, "Centre de calcul d'Île-de-France, phase 1"),
                    location={**base["location"], "province": unicodedata.normalize(form, "Guìzhōu Shěng")})
        path = tmp_path / f"{form}.json"
        path.write_text(json.dumps(case, ensure_ascii=False, default=str), encoding="utf-8")
        assert unicodedata.is_normalized(form, path.read_text(encoding="utf-8"))
        result = _assess_cli(str(path))
        assert result.exit_code == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert "Île-de-France" in outputs[0]


def test_keys_that_differ_only_in_unicode_normalisation_are_duplicates() -> None:
    text = "caf\u00e9: 1\ncafe\u0301: 2\n"
    with pytest.raises(InputError) as info:
        load_text(text, "keys.yaml")
    assert info.value.first.code == "duplicate_key"


# --------------------------------------------------------------------------- limits


def test_every_limit_has_an_environment_variable_and_a_line_in_docs_limits_md() -> None:
    doc = (ROOT / "docs" / "limits.md").read_text()
    defaults = Limits()
    for name, var in ENV_VARS.items():
        assert var in doc
        assert f"{getattr(defaults, name):,}" in doc or str(getattr(defaults, name)) in doc, name


def test_limits_from_the_environment_replace_the_defaults_and_accept_k_and_m_suffixes() -> None:
    limits = limits_from_env({"AIRISK_MAX_BYTES": "2m", "AIRISK_MAX_DEPTH": "8", "AIRISK_MAX_ITEMS": "1_000",
                              "AIRISK_MAX_LINE_BYTES": ""})
    assert (limits.max_bytes, limits.max_depth, limits.max_items) == (2 * 1024 * 1024, 8, 1000)
    assert limits.max_line_bytes == Limits().max_line_bytes


@pytest.mark.parametrize("value", ["0", "-5", "ten", "1.5", "9" * 40, "1e6"])
def test_a_malformed_limit_variable_is_a_usage_error_naming_the_variable(value: str) -> None:
    result = _assess_cli(str(ROOT / "cases" / "ts-frontier-model.yaml"), env={"AIRISK_MAX_DEPTH": value})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "$AIRISK_MAX_DEPTH" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_lowered_limit_from_the_environment_refuses_a_case_that_passes_by_default() -> None:
    case = str(ROOT / "cases" / "ts-frontier-model.yaml")
    assert _assess_cli(case).exit_code == 0
    for var, value, words in [("AIRISK_MAX_BYTES", "200", "larger than 200 bytes"),
                              ("AIRISK_MAX_DEPTH", "1", "nesting deeper than 1 levels"),
                              ("AIRISK_MAX_LINE_BYTES", "40", "longer than 40 bytes"),
                              ("AIRISK_MAX_SCALAR_CHARS", "10", "longer than 10 characters"),
                              ("AIRISK_MAX_ITEMS", "2", "more than 2"),
                              ("AIRISK_MAX_NODES", "10", "more than 10 values")]:
        result = _assess_cli(case, env={var: value})
        assert result.exit_code == 2, var
        assert words in result.stderr, (var, result.stderr)


def test_a_raised_limit_from_the_environment_accepts_what_the_default_refuses(generated: Path) -> None:
    result = _assess_cli(str(generated / "huge-string.yaml"), env={"AIRISK_MAX_SCALAR_CHARS": "300000"})
    assert result.exit_code == 2  # now refused by the case model (description ≤ 10,000), not by the loader
    assert "text longer than" not in result.stderr
    assert "/description" in result.stderr


def test_the_library_takes_limits_as_an_argument() -> None:
    case = ROOT / "cases" / "ts-frontier-model.yaml"
    assert load_case_file(case).id == "ts-frontier-model"
    assert engine.assess(case, as_of=AS_OF, limits=Limits(max_depth=8)).case_id == "ts-frontier-model"
    for call in (lambda: load_case_file(case, Limits(max_depth=1)),
                 lambda: engine.load_case(case, limits=Limits(max_depth=1)),
                 lambda: engine.assess(case, as_of=AS_OF, limits=engine.Limits(max_depth=1))):
        with pytest.raises(InputError) as info:
            call()
        assert info.value.first.code == "too_deep"


@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_a_limit_must_be_a_positive_integer(bad: Any) -> None:
    with pytest.raises(ValueError):
        Limits(max_bytes=bad)


# --------------------------------------------------------------------------- rulesets are data


def _engine_sources() -> list[Path]:
    return sorted((ROOT / "engine").glob("*.py"))


def test_no_engine_module_calls_eval_exec_compile_or_an_unsafe_yaml_loader() -> None:
    banned_names = {"eval", "exec", "compile", "__import__"}
    banned_attrs = {("yaml", "load"), ("yaml", "unsafe_load"), ("yaml", "full_load"), ("yaml", "load_all"),
                    ("yaml", "Loader"), ("yaml", "UnsafeLoader"), ("yaml", "FullLoader"), ("pickle", "loads"),
                    ("marshal", "loads")}
    found = []
    for path in _engine_sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in banned_names:
                found.append(f"{path.name}:{node.lineno}: {node.func.id}()")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and (
                    node.value.id, node.attr) in banned_attrs:
                found.append(f"{path.name}:{node.lineno}: {node.value.id}.{node.attr}")
    assert found == []


#: What lets a script run a string as code: eval, the Function constructor (``new Function(...)``,
#: ``Function(...)``), and the string forms of setTimeout / setInterval.
_SCRIPT_EVAL = re.compile(r"\beval\s*\(|\bFunction\s*\(|\bset(?:Timeout|Interval)\s*\(\s*[\"'`]")


def test_no_script_shipped_in_engine_can_evaluate_a_string_as_code() -> None:
    """The HTML reports inline scripts (the dashboard's in engine/report/assets, d3 in vendor/); none
    may turn data into code. The full d3 bundle failed this (d3-dsv's ``new Function`` over column
    names), so only the d3 modules the dashboard calls are vendored."""
    scripts = sorted([*(ROOT / "engine").rglob("*.js"), *(ROOT / "vendor").rglob("*.js")])
    assert {p.name for p in scripts} >= {"dashboard.js", "d3.min.js"}, scripts
    found = [f"{p.relative_to(ROOT)}: {m.group(0)!r}" for p in scripts
             for m in _SCRIPT_EVAL.finditer(p.read_text(encoding="utf-8"))]
    assert found == []


def test_the_script_scan_above_would_catch_each_way_of_evaluating_a_string() -> None:
    for code in ('eval("1")', 'new Function("d","return d")', "Function('return 1')()", 'setTimeout("x()", 1)',
                 "setInterval('x()', 1)"):
        assert _SCRIPT_EVAL.search(code), code
    for code in ("d3.format(',')", "setTimeout(() => x(), 1)", "isFunction(x)", "evaluate(x)"):
        assert not _SCRIPT_EVAL.search(code), code


def test_the_ast_scan_above_would_catch_an_eval() -> None:
    tree = ast.parse("x = eval('1')\ny = yaml.load(s)")
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    attrs = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
    assert calls[0].func.id == "eval" and (attrs[0].value.id, attrs[0].attr) == ("yaml", "load")  # type: ignore[attr-defined]


RULESET = """\
ruleset:
  id: tiny
  version: "1"
  title: Tiny
rules:
  - id: TNY-001
    title: Facility
    dimension: overcapacity
    severity: low
    points: 1
    basis: heuristic
    effective_from: 2020-01-01
    when: {fact: kind, eq: facility}
    message: A facility.
    citations: [{instrument: none, confidence: S}]
"""


def test_a_small_ruleset_used_by_these_tests_loads(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(RULESET)
    assert [r.id for r in engine.load_rules(path).rules] == ["TNY-001"]


@pytest.mark.parametrize("evil", [
    "ruleset:\n  include: ../../../etc/passwd\n",
    "ruleset:\n  data: /etc/passwd\n",
    "  - !include ../../etc/passwd\n",
    "    table: !!python/object/apply:os.system ['true']\n",
    "    when: !!python/name:os.system {fact: kind, eq: facility}\n",
])
def test_a_ruleset_cannot_include_files_or_build_objects(evil: str, tmp_path: Path) -> None:
    text = RULESET
    if evil.startswith("ruleset:"):
        text = text.replace("ruleset:\n", evil, 1)
    elif evil.startswith("  - "):
        text = text + evil
    else:
        text = text.replace("    message: A facility.\n", "    message: A facility.\n" + evil, 1)
    path = tmp_path / "evil.yaml"
    path.write_text(text)
    with pytest.raises(AiriskError) as info:
        engine.load_rules(path)
    assert all(p.file == str(path) and p.line for p in info.value.problems)


def _shape_paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(_shape_paths(v, (*prefix, k)))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.extend(_shape_paths(v, (*prefix, i)))
    return out


def test_every_field_of_a_ruleset_given_a_wrong_shape_gives_a_located_ruleset_error_never_a_crash() -> None:
    # Found by the fuzzer: `tiers: {t: "text"}` used to raise TypeError in parse_ruleset.
    import copy

    from engine.ruleset.parse import parse_ruleset

    base = yaml.safe_load((ROOT / "fuzz" / "corpus" / "tiny-ruleset.yaml").read_text())
    base["ruleset"]["scenarios"] = {"s": {"title": "S", "basis": "advisory"}}
    base["rules"][0].update(scenarios={"s": {"effective_from": "2021-01-01"}}, tags=["a"], remediation="r",
                            duty={"jurisdiction": "CN", "obligation": "x"}, applies_to=["facility"])
    wrong: list[Any] = [None, 1, True, "text", [], ["x"], [None], {}, {"x": "y"}, {"x": [1]}, "2020-01-01"]
    # libyaml's dumper writes the same text as the pure-Python one (all 814 here), in a third of the time
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    checked = 0
    for path in _shape_paths(base):
        for value in wrong:
            data = copy.deepcopy(base)
            parent = data
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = value
            try:
                parse_ruleset(load_text(yaml.dump(data, Dumper=dumper), "shape.yaml"))
            except AiriskError as exc:
                assert all(p.file == "shape.yaml" and p.line for p in exc.problems), (path, value)
            checked += 1
    assert checked > 300


def test_a_ruleset_with_a_duplicate_key_is_refused_with_its_location(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(RULESET.replace("    points: 1\n", "    points: 1\n    points: 100\n"))
    with pytest.raises(AiriskError) as info:
        engine.load_rules(path)
    assert (info.value.first.code, info.value.first.line, info.value.first.pointer) == (
        "duplicate_key", 11, "/rules/0/points")


def test_data_tables_are_read_only_from_rulesets_data_whatever_the_case_says(tmp_path: Path) -> None:
    # An audit hook in a fresh process records every file opened while a case full of
    # path-like strings is assessed: none of them may come from the case.
    evil = "../../../../../../etc/passwd"
    case = {
        "id": "paths", "kind": "facility", "name": evil,
        "location": {"country": "CN", "province": evil, "city": "/etc/shadow", "hub_node": "../data/hubs.yaml",
                     "cluster": "rulesets/data/../../../etc/group"},
        "owner": {"name": "$(touch pwned)", "headquarters_country": "CN"},
        "tags": ["file:///etc/passwd", "{__import__('os')}"],
    }
    case_path = tmp_path / "paths.json"
    case_path.write_text(json.dumps(case))
    script = f"""
import sys, json
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)
import engine
from engine.source import tables
tables.country_groups.cache_clear(); tables.hubs.cache_clear()
engine.assess({str(case_path)!r}, as_of="2026-11-22")
print(json.dumps(opened))
"""
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, timeout=120, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    opened = json.loads(proc.stdout.strip().splitlines()[-1])
    data_files = sorted({Path(p).name for p in opened if "/rulesets/data/" in p})
    assert "hubs.yaml" in data_files and "country-groups.yaml" in data_files
    suspicious = [p for p in opened if any(s in p for s in ("passwd", "shadow", "/etc/group", "pwned"))]
    assert suspicious == []
    yaml_files = {p for p in opened if p.endswith((".yaml", ".json")) and "site-packages" not in p}
    allowed = {str(case_path)}
    from engine.source.cache import cache_dir

    entries = cache_dir()  # the compile cache's own entries are JSON files too
    assert all(p in allowed or str(ROOT / "rulesets") in str(Path(p).resolve()) or "schemas" in p
               or (entries is not None and Path(p).parent == entries)
               for p in yaml_files), yaml_files


# --------------------------------------------------------------------------- property tests

CASE_FILES = sorted((ROOT / "cases").glob("*.yaml"))
_BASES = [yaml.safe_load(p.read_text()) for p in CASE_FILES]

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -0.0, 1e25, 1e-320, 5e-324, 2**63, 2**64 + 1, 10**26, -(2**63) - 1, 1.7e308, 0.1, 1e15]),
    st.floats(allow_nan=False, allow_infinity=False),
)
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "CN", "cn", "Guizhou", "Gui\u0300zhou", "\u00cele", "I\u0302le", "NaN", "Infinity",
                     "1e+25", "../../etc/passwd", "\x1b[31m", "\u202e", "\ufeff", "yes", "no", "null", "2025-01-01",
                     "a" * 600, "\U0001f600"]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)), max_leaves=12)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.extend(_paths(v, (*prefix, i)))
    return out


@st.composite
def near_valid_cases(draw: st.DrawFn) -> Any:
    """A real case with a few fields dropped, replaced or added: valid or nearly so."""
    import copy

    case = copy.deepcopy(draw(st.sampled_from(_BASES)))
    for _ in range(draw(st.integers(0, 4))):
        paths = [p for p in _paths(case) if p]
        path = draw(st.sampled_from(paths))
        parent = case
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["drop", "replace", "add", "number"]))
        last = path[-1]
        if action == "drop":
            del parent[last]
        elif action == "replace":
            parent[last] = draw(values)
        elif action == "number":
            parent[last] = draw(numbers)
        elif isinstance(parent, dict):
            extra = draw(st.sampled_from(["extra", "countr", "Count", f"{last}_x"]))
            parent[extra] = draw(values)
    return case


def _assert_clean_error(exc: AiriskError) -> None:
    assert exc.problems
    for p in exc.problems:
        assert p.message and isinstance(p.pointer, str)
        str(p)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid_cases())
def test_a_valid_or_near_valid_case_either_assesses_or_raises_a_located_airisk_error(case: Any) -> None:
    try:
        result = engine.assess_dict(case, as_of=AS_OF)
    except AiriskError as exc:
        _assert_clean_error(exc)
        return
    assert result["rating"] in ("low", "medium", "high", "critical")
    json.dumps(result, allow_nan=False)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid_cases(), st.sampled_from(["yaml", "json"]))
def test_a_near_valid_case_as_text_either_assesses_or_raises_an_input_error_naming_the_file(
        case: Any, fmt: str) -> None:
    from engine.case.validation import load_case_text

    if fmt == "json":
        text = json.dumps(case, default=str, ensure_ascii=False)
    else:
        text = yaml.safe_dump(case, allow_unicode=True, sort_keys=False)
    try:
        parsed = load_case_text(text.encode("utf-8", "surrogatepass"), "case.txt")
    except InputError as exc:
        _assert_clean_error(exc)
        assert all(p.file == "case.txt" for p in exc.problems)
        return
    engine.assess_dict(parsed, as_of=AS_OF)


def _conditions() -> st.SearchStrategy[Any]:
    facts = st.sampled_from(["kind", "facility.pue", "location.country", "ai_system.training_compute_flop",
                             "accelerators", "count", "nope", "Bad Path", "derived.in_hub", "facility"])
    ops = st.sampled_from(["eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "exists", "like", "$eq"])
    leaf = st.builds(lambda f, o, v: {"fact": f, o: v}, facts, ops, st.one_of(scalars, st.lists(scalars, max_size=3)))
    return st.recursive(leaf, lambda c: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(c, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(c, max_size=3)),
        st.builds(lambda x: {"not": x}, c),
        st.builds(lambda x: {"some": "accelerators", "where": x}, c),
    ), max_leaves=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_conditions(), st.sampled_from(_BASES))
def test_a_generated_ruleset_either_loads_and_assesses_or_raises_a_located_ruleset_error(
        when: Any, case: Any) -> None:
    from engine.assessment.engine import Engine
    from engine.ruleset.load import combine
    from engine.ruleset.parse import parse_ruleset

    data = yaml.safe_load(RULESET)
    data["rules"][0]["when"] = when
    text = yaml.safe_dump(data, allow_unicode=True)
    try:
        ruleset = parse_ruleset(load_text(text, "gen.yaml"))
        eng = Engine(combine([ruleset]))
    except AiriskError as exc:
        _assert_clean_error(exc)
        assert all(p.file == "gen.yaml" for p in exc.problems)
        return
    try:
        eng.assess_data(case, as_of=AS_OF)
    except RulesetError as exc:  # a core limit found when compiling: located against the rule
        _assert_clean_error(exc)
    finally:
        eng.close()


# --------------------------------------------------------------------------- the fuzz target, briefly


def test_the_loader_fuzz_target_survives_its_seed_corpus_and_a_few_thousand_mutations() -> None:
    import random

    sys.path.insert(0, str(ROOT / "fuzz"))
    try:
        import fuzz_loaders
    finally:
        sys.path.remove(str(ROOT / "fuzz"))
    seeds = [p.read_bytes() for p in sorted((ROOT / "fuzz" / "corpus").iterdir())]
    assert len(seeds) >= 20
    rng = random.Random(8)
    tokens = [b"[", b"]", b"{", b"}", b":", b"- ", b"\n", b"  ", b"&a ", b"*a", b"!!", b"'", b'"', b"\\u", b"1e+25",
              b"\xff", b"\x00", b"#", b"---\n", b"<<: ", b"\xef\xbb\xbf", b".nan", b"9" * 30, b"\t"]
    runs = 0
    for seed in seeds:
        fuzz_loaders.one_input(seed)
        runs += 1
    while runs < 3000:
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(data) + 1)
            kind = rng.random()
            if kind < 0.4:
                data[pos:pos] = rng.choice(tokens)
            elif kind < 0.7:
                del data[pos:pos + rng.randint(1, 16)]
            elif data:
                data[min(pos, len(data) - 1)] = rng.randrange(256)
        fuzz_loaders.one_input(bytes(data))
        runs += 1
    assert runs == 3000


@pytest.mark.skipif(os.environ.get("AIRISK_FUZZ_ATHERIS") != "1", reason="set AIRISK_FUZZ_ATHERIS=1 to run atheris")
def test_the_atheris_fuzzer_runs_for_a_few_seconds_without_a_crash(tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    # New inputs go to the first directory: a temporary one, so the checked-in seeds stay as they are.
    (tmp_path / "corpus").mkdir()
    proc = subprocess.run([sys.executable, "fuzz/fuzz_loaders.py", str(tmp_path / "corpus"), "fuzz/corpus",
                           "-max_total_time=10",
                           f"-artifact_prefix={tmp_path}/", "-runs=5000"], cwd=ROOT, capture_output=True, timeout=300,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.parametrize(("figure", "fact"), [
    ({"tops": 1.7e308, "bit_length": 8}, "tpp"),            # TOPS × bit length beyond the largest float
    ({"tops": 1e305, "bit_length": 8}, "tpp_line_total"),   # the line total (× 4096 units) beyond it
])
def test_a_derived_figure_beyond_the_largest_float_is_kept_finite_and_rated(figure: dict[str, Any],
                                                                            fact: str) -> None:
    # Found by the property above: an overflowing product reached the matching core as infinity,
    # which it refuses (ValueError, a traceback). Such a figure exceeds every threshold.
    import sys

    case = yaml.safe_load((ROOT / "cases" / "oc-ascend-subsidy.yaml").read_text(encoding="utf-8"))
    case["accelerators"][0]["datasheet"] = [figure]
    case["accelerators"][0].pop("tpp", None)
    result = engine.assess_dict(case, as_of=AS_OF)
    from engine.derive.view import build_view

    item = build_view(case, AS_OF)["accelerators"][0]["derived"]
    assert item[fact] == sys.float_info.max
    assert result["rating"] is not None
