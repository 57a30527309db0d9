"""The configuration file and the shared CLI conventions (issue 20, parts 3 and 4).

Every test runs in its own temporary working directory (``monkeypatch.chdir``) with
``AIRISK_CONFIG`` unset, so the real working directory's configuration is never read."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.batch.records import NAMED_PER_LEVEL, merge_named
from engine.cli import main
from engine.config import KEYS, load_config
from engine.config.file import env_var

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"
H20 = CASES / "ec-h20-china-icc.yaml"  # high on the known facts, could be critical
AS_OF = "2025-05-01"

TINY = ("ruleset: {id: tiny, version: '1', title: Tiny}\n"
        "rules:\n"
        "  - id: TNY-001\n    title: In China\n    dimension: export_control\n    severity: high\n    points: 60\n"
        "    basis: advisory\n    effective_from: 2020-01-01\n    when: {fact: location.country, eq: CN}\n"
        "    message: 'Located in {location.country}'\n    citations: [{instrument: test, confidence: S}]\n")


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AIRISK_CONFIG", raising=False)
    for key in KEYS:
        monkeypatch.delenv(env_var(key), raising=False)
    return tmp_path


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def ids_listed(result: Result) -> set[str]:
    return {line.split()[0] for line in result.stdout.splitlines() if line.strip()}


# --------------------------------------------------------------------------- the file and its sources


def test_flags_override_the_config_file_and_the_file_overrides_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "airisk.yaml").write_text(f"as_of: {AS_OF}\nfail_on: high\nformat: json\n")
    from_file = run("assess", str(H20))
    assert from_file.exit_code == 1  # fail_on: high from the file trips, and the notice says where it was set
    assert from_file.stderr.startswith("airisk: --fail-on high (from airisk.yaml:2): 1 case(s) at or above high")
    assert json.loads(from_file.stdout)["provenance"]["as_of"] == AS_OF  # format and as_of from the file
    flags = run("assess", str(H20), "--format", "text", "--as-of", "2026-11-22", "--fail-on", "critical",
                "--fail-on-known")
    assert flags.exit_code == 0, flags.stderr  # the flag's level wins over the file's
    assert "as of 2026-11-22" in flags.stdout and not flags.stdout.startswith("{")
    ignored = run("--no-config", "assess", str(H20), "--as-of", AS_OF)
    assert ignored.exit_code == 0 and "Rating:" in ignored.stdout


def test_airisk_config_shows_each_value_and_the_line_that_set_it(tmp_path: Path) -> None:
    (tmp_path / "airisk.yaml").write_text("# team defaults\nfail_on: high\n\nformat: sarif\nworkers: 2\n")
    text = run("config")
    assert text.exit_code == 0
    assert "config file: airisk.yaml (found in the working directory)" in text.stdout
    assert "fail_on    = high  [airisk.yaml:2]  → assess, batch, render" in text.stdout
    assert "format     = sarif  [airisk.yaml:4]  → assess, render" in text.stdout  # not explain: text|json
    assert "scenario   = (not set)  [default]" in text.stdout
    data = json.loads(run("config", "--format", "json").stdout)
    keys = {k["key"]: k for k in data["keys"]}
    assert list(keys) == list(KEYS)
    assert (data["file"], data["found_by"]) == ("airisk.yaml", "cwd")
    assert keys["workers"] == {"key": "workers", "option": "--workers", "value": 2, "source": "airisk.yaml:5",
                               "applies_to": ["batch", "diff"]}
    assert keys["as_of"]["source"] == "default" and keys["as_of"]["value"] is None


def test_pyproject_tool_airisk_is_read_when_there_is_no_airisk_yaml(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.airisk]\nfail_on = "critical"\n'
                                             'rulesets = ["policy"]\n')
    data = json.loads(run("config", "--format", "json").stdout)
    keys = {k["key"]: k for k in data["keys"]}
    assert keys["fail_on"]["source"] == "pyproject.toml:5"
    assert keys["rulesets"]["value"] == [str(tmp_path / "policy")]  # relative to the file's directory
    (tmp_path / "airisk.yaml").write_text("fail_on: high\n")  # airisk.yaml wins over pyproject.toml
    assert load_config().values == {"fail_on": "high"}


def test_config_flag_and_environment_variable_name_the_file_and_say_so(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "ci.yaml").write_text("fail_on: medium\n")
    by_flag = json.loads(run("--config", "team/ci.yaml", "config", "--format", "json").stdout)
    assert (by_flag["file"], by_flag["found_by"]) == ("team/ci.yaml", "flag")
    by_env = json.loads(run("config", "--format", "json", env={"AIRISK_CONFIG": "team/ci.yaml"}).stdout)
    assert by_env["found_by"] == "env" and by_env["keys"][4]["source"] == "team/ci.yaml:1"
    assert run("--config", "team/ci.yaml", "assess", str(H20), "--as-of", AS_OF).exit_code == 1
    missing = run("--config", "nowhere.yaml", "config")
    assert missing.exit_code == 2 and "nowhere.yaml" in missing.stderr and "cannot read" in missing.stderr


def test_an_airisk_key_environment_variable_overrides_the_file_and_a_flag_overrides_it(tmp_path: Path) -> None:
    (tmp_path / "airisk.yaml").write_text(f"as_of: {AS_OF}\nfail_on: critical\nformat: json\n")
    env = {"AIRISK_FAIL_ON": "high", "AIRISK_FORMAT": "markdown"}
    from_env = run("assess", str(H20), env=env)
    assert from_env.exit_code == 1  # high from the environment trips where the file's critical would not
    assert from_env.stderr.startswith("airisk: --fail-on high (from $AIRISK_FAIL_ON): 1 case(s) at or above high")
    assert from_env.stdout.startswith("# ")  # markdown from the environment, as_of still from the file
    assert f"(as of {AS_OF})" in from_env.stdout
    flag = run("assess", str(H20), "--fail-on", "critical", "--fail-on-known", "--format", "json", env=env)
    assert flag.exit_code == 0 and json.loads(flag.stdout)["provenance"]["as_of"] == AS_OF
    assert run("--no-config", "assess", str(H20), "--as-of", AS_OF, env=env).exit_code == 0  # neither applies
    data = json.loads(run("config", "--format", "json", env=env).stdout)
    keys = {k["key"]: k for k in data["keys"]}
    assert (keys["fail_on"]["value"], keys["fail_on"]["source"]) == ("high", "$AIRISK_FAIL_ON")
    assert (keys["as_of"]["value"], keys["as_of"]["source"]) == (AS_OF, "airisk.yaml:1")
    assert "fail_on    = high  [$AIRISK_FAIL_ON]  → assess, batch, render" in run("config", env=env).stdout


def test_every_key_has_its_environment_variable_and_each_kind_of_value_is_read_from_text(tmp_path: Path) -> None:
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "tiny.yaml").write_text(TINY)
    (tmp_path / "more").mkdir()
    env = {"AIRISK_RULESETS": f"policy{os.pathsep}more", "AIRISK_NO_BUNDLED": "Yes", "AIRISK_HORIZON": "30",
           "AIRISK_WORKERS": "2", "AIRISK_LANG": "zh", "AIRISK_SCENARIO": "omnibus", "AIRISK_AS_OF": "2026-01-31",
           "AIRISK_WAIVERS": "w.yaml", "AIRISK_FAIL_ON": "medium", "AIRISK_FORMAT": "sarif"}
    assert set(env) == {env_var(k) for k in KEYS}
    assert load_config(environ=env).values == {
        "rulesets": ["policy", "more"], "no_bundled": True, "horizon": 30, "workers": 2, "lang": "zh",
        "scenario": "omnibus", "as_of": "2026-01-31", "waivers": "w.yaml", "fail_on": "medium", "format": "sarif"}
    assert load_config(environ={"AIRISK_NO_BUNDLED": "off", "AIRISK_FAIL_ON": " "}).values == {"no_bundled": False}
    assert ids_listed(run("rules", "list", env={"AIRISK_RULESETS": "policy", "AIRISK_NO_BUNDLED": "1"})) == {"TNY-001"}


@pytest.mark.parametrize(("env", "expected"), [
    ({"AIRISK_WORKERS": "two"}, "$AIRISK_WORKERS: /: AIRISK_WORKERS must be a whole number from 1 to 256, "
                                "not 'two'"),
    ({"AIRISK_NO_BUNDLED": "maybe"}, "AIRISK_NO_BUNDLED must be true or false (or 1, 0, yes, no, on, off)"),
    ({"AIRISK_FAIL_ON": "severe"}, "AIRISK_FAIL_ON must be one of the levels, not 'severe' (one of: low, medium"),
    ({"AIRISK_AS_OF": "2026-02-30"}, "AIRISK_AS_OF must be a date YYYY-MM-DD, not '2026-02-30'"),
    ({"AIRISK_HORIZON": "-1"}, "AIRISK_HORIZON must be a whole number of days, 0 or more, not '-1'"),
])
def test_a_bad_environment_variable_is_an_error_naming_it_with_exit_2(env: dict[str, str], expected: str) -> None:
    result = run("assess", str(H20), env=env)
    assert result.exit_code == 2 and result.stdout == ""
    assert expected in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("text", "expected"), [
    ("fail_on: high\nfial_on: critical\n",
     "airisk.yaml:2: /fial_on: unknown key 'fial_on' (did you mean 'fail_on'?)"),
    ("workers: two\n", "airisk.yaml:1: /workers: workers must be a whole number from 1 to 256, not 'two'"),
    ("as_of: '2025-13-01'\n", "airisk.yaml:1: /as_of: as_of must be a date YYYY-MM-DD, not '2025-13-01'"),
    ("as_of: 2025-13-01\n", "airisk.yaml:1:8: /as_of: '2025-13-01' is not a valid timestamp"),
    ("format: sarf\n", "airisk.yaml:1: /format: format must be an output format, not 'sarf' (one of: text, json"),
    ("no_bundled: 1\n", "airisk.yaml:1: /no_bundled: no_bundled must be true or false, not 1"),
    ("- fail_on\n", "airisk.yaml:1: /: the configuration must be a mapping of keys, not list"),
    ("fail_on: [high\n", "airisk.yaml:2"),
])
def test_a_bad_config_is_a_located_error_with_exit_2_and_no_traceback(tmp_path: Path, text: str,
                                                                      expected: str) -> None:
    (tmp_path / "airisk.yaml").write_text(text)
    result = run("assess", str(H20))
    assert result.exit_code == 2 and result.stdout == ""
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_a_bad_pyproject_table_is_located_too(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.airisk]\nfail_on = "high"\nhorizon = -3\n')
    result = run("config")
    assert result.exit_code == 2
    assert ("pyproject.toml:3: /tool/airisk/horizon: horizon must be a whole number of days, 0 or more, not -3"
            in result.stderr)
    (tmp_path / "pyproject.toml").write_text('[tool.airisk\nfail_on = "high"\n')
    assert "pyproject.toml:1: /: malformed TOML" in run("config").stderr


def test_a_key_is_ignored_by_a_command_whose_option_does_not_take_its_value(tmp_path: Path) -> None:
    (tmp_path / "airisk.yaml").write_text("format: sarif\nworkers: 2\n")
    result = run("explain", str(CASES / "ts-eu-cv-screening.yaml"), "--as-of", "2026-11-22")
    assert result.exit_code == 0 and not result.stdout.startswith("{")  # explain's default format, text


# --------------------------------------------------------------------------- --rules adds, --no-bundled replaces


def test_rules_adds_to_the_bundled_rulesets_and_no_bundled_replaces_them(tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text(TINY)
    bundled = ids_listed(run("rules", "list"))
    added = run("rules", "list", "--rules", "tiny.yaml")
    assert added.exit_code == 0 and ids_listed(added) == bundled | {"TNY-001"}
    alone = run("rules", "list", "--no-bundled", "--rules", "tiny.yaml")
    assert alone.exit_code == 0 and ids_listed(alone) == {"TNY-001"}
    case = tmp_path / "c.yaml"
    case.write_text("id: c\nkind: project\nname: C\nlocation: {country: CN}\n")
    assessed = json.loads(run("assess", str(case), "--rules", "tiny.yaml", "--format", "json").stdout)
    assert {r["id"] for r in assessed["provenance"]["rulesets"]} == {"export-controls", "overcapacity",
                                                                     "tiered-safety", "tiny"}
    needs = run("assess", str(case), "--no-bundled")
    assert needs.exit_code == 2 and "--no-bundled needs --rules" in needs.stderr


def test_a_ruleset_with_a_bundled_ruleset_id_replaces_that_one(tmp_path: Path) -> None:
    shutil.copy(ROOT / "rulesets" / "sources.yaml", tmp_path / "sources.yaml")
    text = (ROOT / "rulesets" / "overcapacity.yaml").read_text(encoding="utf-8")
    edited = text.replace("title: ", "title: Edited ", 1)  # the ruleset's own title, in its header
    assert edited != text
    (tmp_path / "overcapacity.yaml").write_text(edited, encoding="utf-8")
    bundled = run("rules", "list")
    replaced = run("rules", "list", "--rules", "overcapacity.yaml")
    assert replaced.exit_code == 0, replaced.stderr
    assert replaced.stdout.splitlines() == bundled.stdout.splitlines()  # the same rules, none twice
    shown = run("rules", "show", "OVC-001", "--rules", "overcapacity.yaml")
    assert shown.exit_code == 0 and "file: overcapacity.yaml:" in shown.stdout  # from the copy, not the bundle
    assert "file: rulesets/overcapacity.yaml:" in run("rules", "show", "OVC-001").stdout


def test_a_rule_id_clash_with_a_bundled_rule_is_located_and_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(TINY.replace("id: tiny", "id: mine").replace("TNY-001", "OVC-001"))
    result = run("rules", "list", "--rules", "mine.yaml")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "rule id 'OVC-001' is defined in rulesets/overcapacity.yaml and mine.yaml" in result.stderr
    assert "--no-bundled" in result.stderr
    assert run("rules", "list", "--no-bundled", "--rules", "mine.yaml").exit_code == 0


def test_no_bundled_and_rulesets_in_the_config_file_apply_to_every_command(tmp_path: Path) -> None:
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "tiny.yaml").write_text(TINY)
    (tmp_path / "airisk.yaml").write_text("rulesets: [policy]\nno_bundled: true\n")
    assert ids_listed(run("rules", "list")) == {"TNY-001"}
    assert run("rules", "show", "TNY-001").exit_code == 0
    assert len(ids_listed(run("rules", "list", "--rules", str(ROOT / "rulesets" / "overcapacity.yaml")))) > 1


# --------------------------------------------------------------------------- assess DIR and the JSON shape


def test_assess_dir_gives_a_list_in_name_order_and_one_file_gives_the_object(tmp_path: Path) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    for name in ("ts-frontier-model.yaml", "ec-h20-china-icc.yaml"):
        shutil.copy(CASES / name, folder / name)
    (folder / "notes.txt").write_text("not a case")
    many = run("assess", str(folder), "--as-of", AS_OF, "--format", "json")
    assert many.exit_code == 0, many.stderr
    assert [a["case_id"] for a in json.loads(many.stdout)] == ["ec-h20-china-icc", "ts-frontier-model"]
    (folder / "ts-frontier-model.yaml").unlink()
    one_in_dir = json.loads(run("assess", str(folder), "--as-of", AS_OF, "--format", "json").stdout)
    assert isinstance(one_in_dir, list) and len(one_in_dir) == 1  # a directory: a list, even of one
    one_file = json.loads(run("assess", str(H20), "--as-of", AS_OF, "--format", "json").stdout)
    assert isinstance(one_file, dict) and one_file == one_in_dir[0]
    (tmp_path / "empty").mkdir()
    empty = run("assess", str(tmp_path / "empty"))
    assert empty.exit_code == 2 and empty.stdout == "" and "no case files" in empty.stderr


# --------------------------------------------------------------------------- --version, --fail-on, --quiet


def test_version_lists_each_bundled_ruleset_with_the_sha256_of_its_files() -> None:
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.startswith("airisk, version ")
    listed = {line.split()[0]: line.split() for line in result.stdout.splitlines()[2:]}
    assert set(listed) == {"export-controls", "overcapacity", "tiered-safety"}
    for rid, (_, _version, sha, file) in listed.items():
        raw = (ROOT / file).read_bytes()
        sources = (ROOT / "rulesets" / "sources.yaml").read_bytes() if b"sources: sources.yaml" in raw else b""
        assert sha == "sha256:" + hashlib.sha256(raw + sources).hexdigest(), rid


def test_a_tripped_fail_on_names_the_cases_and_their_levels_and_quiet_silences_it() -> None:
    worst = run("assess", str(CASES / "ts-internal-enterprise-model.yaml"), str(H20), "--as-of", "2026-11-22",
                "--fail-on", "critical")
    assert worst.exit_code == 1
    assert worst.stderr == ("airisk: --fail-on critical: 2 case(s) at or above critical: ts-internal-enterprise-model "
                            "(critical; rated low on the known facts), ec-h20-china-icc (critical; rated high on "
                            "the known facts)\n")
    known = run("assess", str(CASES / "ts-internal-enterprise-model.yaml"), str(H20), "--as-of", "2026-11-22",
                "--fail-on", "high", "--fail-on-known")
    assert known.exit_code == 1
    assert known.stderr == "airisk: --fail-on high: 1 case(s) at or above high: ec-h20-china-icc (high)\n"
    passed = run("assess", str(H20), "--as-of", "2026-11-22", "--fail-on", "critical", "--fail-on-known")
    assert passed.exit_code == 0 and passed.stderr == ""
    quiet = run("--quiet", "assess", str(H20), "--as-of", AS_OF, "--fail-on", "high")
    assert quiet.exit_code == 1 and quiet.stderr == "" and quiet.stdout
    assert run("assess", "-q", str(H20), "--as-of", AS_OF, "--fail-on", "high").stderr == ""


def test_batch_names_the_first_cases_over_the_gate_then_how_many_more(tmp_path: Path) -> None:
    case = json.loads(json.dumps(__import__("yaml").safe_load(H20.read_text()), default=str))
    lines = [json.dumps({**case, "id": f"case-{i:02d}"}) for i in range(13)]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    args = ["batch", "in.jsonl", "-o", "out.jsonl", "--as-of", AS_OF, "--fail-on", "high", "--no-progress"]
    result = run(*args)
    assert result.exit_code == 1
    notice = result.stderr.splitlines()[-1]
    named = ", ".join(f"case-{i:02d} (high)" for i in range(10))
    assert notice == f"airisk: --fail-on high: 13 case(s) at or above high: {named} and 3 more"
    quiet = run("--quiet", *args)
    assert quiet.exit_code == 1 and quiet.stderr == ""


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=60, unique=True), st.integers(1, 8), st.randoms())
def test_the_named_cases_do_not_depend_on_the_order_chunks_arrive_in(lines: list[int], chunks: int,
                                                                     rnd: random.Random) -> None:
    entries = [[n, f"c{n}", "high", "high"] for n in sorted(lines)]
    parts = [entries[i::chunks] for i in range(chunks)]
    rnd.shuffle(parts)
    merged: dict[str, list[list[object]]] = {}
    for part in parts:
        merge_named(merged, {"worst:high": part[:NAMED_PER_LEVEL]})
    assert merged["worst:high"] == entries[:NAMED_PER_LEVEL]


def test_a_config_path_that_is_not_a_regular_file_is_refused_without_blocking(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    assert run("--config", "conf", "config").exit_code == 2  # click's own check of --config
    os.mkfifo(tmp_path / "fifo")  # no writer: opening it would block
    result = run("config", env={"AIRISK_CONFIG": "fifo"})
    assert result.exit_code == 2 and "fifo: /: a configuration file must be a regular file" in result.stderr
