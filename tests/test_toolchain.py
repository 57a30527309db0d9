"""The ruleset authoring toolchain: `airisk validate`, `airisk test`, `airisk rules docs`.

Fixtures live in tests/fixtures/toolchain/. CLI tests assert exit codes and output.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.authoring.docs import HEADER, condition_in_words, drift, generate
from engine.authoring.tabletests import run
from engine.case.overrides import apply_set
from engine.cli import main
from engine.lang import conditions as C
from engine.ruleset.load import load_rules
from engine.source.resources import bundled

ROOT = Path(__file__).resolve().parent.parent
FIX = Path(__file__).resolve().parent / "fixtures" / "toolchain"
LOCATED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<ptr>/\S*): (?P<msg>.+)$")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# --------------------------------------------------------------------------- validate


def test_validate_reports_the_five_mistakes_of_one_ruleset_in_one_run_each_located() -> None:
    code, out, err = invoke("validate", str(FIX / "five-errors.yaml"))
    assert code == 2
    lines = out.splitlines()
    assert len(lines) == 5, out
    parsed = [LOCATED.match(line) for line in lines]
    assert all(parsed), out
    got = [(int(m["line"]), m["ptr"]) for m in parsed if m]
    assert got == [
        (16, "/rules/0/when/gtee"),
        (26, "/rules/1/when/fact"),
        (36, "/rules/2/when/gte"),
        (39, "/rules/3/id"),
        (56, "/rules/4/effective_to"),
    ]
    assert "unknown operator 'gtee' (did you mean 'gte'?)" in lines[0]
    assert (
        "unknown fact 'facility.utilisation'" in lines[1]
        and "did you mean 'facility.accelerator_utilisation'" in lines[1]
    )
    assert "type mismatch on 'location.country'" in lines[2]
    assert "duplicate rule id 'TCF-003'" in lines[3]
    assert "effective_to 2025-01-01 is before effective_from 2026-01-01" in lines[4]
    assert "1 file(s) checked, 5 problem(s)" in err


def test_validate_json_format_gives_each_problem_a_code_and_location() -> None:
    code, out, _ = invoke("validate", "--format", "json", str(FIX / "five-errors.yaml"))
    assert code == 2
    data = json.loads(out)
    assert [p["code"] for p in data["problems"]] == [
        "unknown_operator",
        "unknown_fact",
        "type_mismatch",
        "duplicate_id",
        "inverted_window",
    ]
    assert all(p["line"] and p["column"] and p["pointer"] for p in data["problems"])


def test_validate_passes_the_bundled_rulesets_and_cases_with_exit_0() -> None:
    code, out, err = invoke("validate", str(ROOT / "rulesets"), str(ROOT / "cases"))
    assert code == 0, out
    assert out == ""
    assert ", 0 problem(s)" in err


def test_validate_reports_rules_whose_conditions_contradict_each_other() -> None:
    code, out, _ = invoke("validate", str(FIX / "never-fires.yaml"))
    assert code == 2
    lines = out.splitlines()
    assert len(lines) == 4, out  # TCN-005 is satisfiable and must not be reported
    assert all(LOCATED.match(line) for line in lines)
    assert "/rules/0/when/all/1/lt: contradictory conditions on 'facility.pue': gt 5 and lt 3" in lines[0]
    assert "eq 'CN' and eq 'US'" in lines[1]
    assert "/rules/2/when/where/all/1/gte" in lines[2] and "exists false and gte 100" in lines[2]
    assert "this branch can never hold" in lines[3]
    assert all("/rules/4/" not in line for line in lines)


def test_validate_reports_an_engine_limit_against_the_yaml_rule_that_breaks_it() -> None:
    code, out, _ = invoke("validate", str(FIX / "engine-limit.yaml"))
    assert code == 2
    (line,) = out.splitlines()
    m = LOCATED.match(line)
    assert m, line
    assert (m["line"], m["ptr"]) == ("17", "/rules/1/when")
    assert "rule TCL-002 alone exceeds the matching core's limits" in line


RULE = """ruleset: {{id: tmp, version: "1", title: Tmp}}
rules:
  - id: TMP-001
    title: Tmp
    dimension: overcapacity
    severity: low
    points: 5
    basis: {basis}
    effective_from: 2025-01-01
    when: {{fact: facility.pue, gte: 1.5}}
    message: Tmp.
    citations: [{citation}]
"""


@pytest.mark.parametrize(
    ("basis", "citation", "expected"),
    [
        (
            "binding",
            "{instrument: Some law, confidence: P}",
            "a binding rule needs a citation with a url and a date",
        ),
        (
            "binding",
            "{instrument: Some law, confidence: UNCONFIRMED, url: 'https://example.org', date: 2025-01-01}",
            "a rule resting on an UNCONFIRMED source cannot be binding",
        ),
        ("heuristic", "{instrument: Some law, confidence: PP}", "did you mean 'P'?"),
    ],
)
def test_validate_enforces_citation_rules_for_binding_rules(
    tmp_path: Path, basis: str, citation: str, expected: str
) -> None:
    f = tmp_path / "tmp.yaml"
    f.write_text(RULE.format(basis=basis, citation=citation))
    code, out, _ = invoke("validate", str(f))
    assert code == 2
    assert expected in out
    assert LOCATED.match(out.splitlines()[0])


def test_validate_accepts_a_binding_rule_with_a_dated_linked_citation(tmp_path: Path) -> None:
    f = tmp_path / "tmp.yaml"
    f.write_text(
        RULE.format(
            basis="binding",
            citation="{instrument: Law, confidence: P, url: 'https://e.org', date: 2025-01-01}",
        )
    )
    assert invoke("validate", str(f))[0] == 0


# --------------------------------------------------------------------------- set overrides


def test_set_overrides_follow_dotted_paths_with_list_indices_and_null_removes() -> None:
    case = {"facility": {"pue": 1.2, "workload": "inference"}, "accelerators": [{"count": 1}]}
    got = apply_set(
        case,
        {
            "facility.pue": 1.6,
            "facility.workload": None,
            "accelerators.0.count": 9,
            "accelerators.1": {"count": 2},
            "export.destination_country": "CN",
        },
    )
    assert got == {
        "facility": {"pue": 1.6},
        "accelerators": [{"count": 9}, {"count": 2}],
        "export": {"destination_country": "CN"},
    }
    assert case["facility"] == {"pue": 1.2, "workload": "inference"}  # the input is not modified
    assert apply_set(case, {"accelerators.0": None})["accelerators"] == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"accelerators.3.count": 1}, "index 3 is out of range (the list has 1 items)"),
        ({"accelerators.first.count": 1}, "use an integer"),
        ({"facility.pue.value": 1}, "facility.pue is a single value"),
    ],
)
def test_set_overrides_that_cannot_be_followed_say_which_step_fails(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        apply_set({"facility": {"pue": 1.2}, "accelerators": [{"count": 1}]}, overrides)


# --------------------------------------------------------------------------- airisk test


def test_airisk_test_reports_a_failing_table_test_with_its_location_and_exits_1(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    code, out, _ = invoke("test", str(FIX / "tables"), "--junit", str(junit))
    assert code == 1
    assert "FAIL  " in out and "mini.tests.yaml:17: This test fails on purpose" in out
    assert "expected MINI-001 to fire; it did not: it needs information (missing: facility.pue)" in out
    assert "expected overcapacity level high; got low" in out
    assert "3 test(s) in 1 table(s): 2 passed, 1 failed, 0 error(s)" in out
    assert "coverage: 2 of 3 rule(s) proven to fire and to stay silent (66.7%)" in out
    assert "never fired nor proven silent (1): MINI-003" in out


def test_airisk_test_writes_junit_xml_with_the_right_counts(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    invoke("test", str(FIX / "tables"), "--junit", str(junit))
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "0")
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 3
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["This test fails on purpose"]
    assert "MINI-001" in (failed[0].find("failure").get("message") or "")  # type: ignore[union-attr]
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props == {"ruleset": "mini", "coverage": "66.7"}


def test_airisk_test_fails_below_min_coverage_even_when_every_test_passes(tmp_path: Path) -> None:
    table = (FIX / "tables" / "mini.tests.yaml").read_text()
    passing = table.split("  - name: This test fails on purpose")[0]
    (tmp_path / "mini.yaml").write_text((FIX / "tables" / "mini.yaml").read_text())
    (tmp_path / "mini.tests.yaml").write_text(passing)
    code, out, _ = invoke("test", str(tmp_path), "--min-coverage", "100")
    assert code == 1
    assert "2 passed, 0 failed" in out
    assert "coverage 66.7% is below the minimum 100%" in out
    assert invoke("test", str(tmp_path), "--min-coverage", "60")[0] == 0


def test_airisk_test_exits_2_with_located_problems_for_a_malformed_table(tmp_path: Path) -> None:
    (tmp_path / "mini.yaml").write_text((FIX / "tables" / "mini.yaml").read_text())
    (tmp_path / "mini.tests.yaml").write_text(
        "ruleset: mini\ntests:\n  - name: t\n    case: {id: x, kind: facility, name: X}\n"
        "    expcet: {fires: [MINI-001]}\n"
    )
    code, out, _ = invoke("test", str(tmp_path))
    assert code == 2
    assert "mini.tests.yaml:5:5: /tests/0/expcet: unknown key 'expcet' (did you mean 'expect'?)" in out
    assert "/tests/0/expect: `expect` needs at least one of" in out


def test_airisk_test_names_a_misspelt_rule_id_with_a_did_you_mean(tmp_path: Path) -> None:
    (tmp_path / "mini.yaml").write_text((FIX / "tables" / "mini.yaml").read_text())
    (tmp_path / "mini.tests.yaml").write_text(
        "ruleset: mini\nas_of: 2026-01-01\ntests:\n  - name: t\n    case: {id: x, kind: facility, name: X}\n"
        "    expect: {silent: [MINI-01]}\n"
    )
    code, out, _ = invoke("test", str(tmp_path))
    assert code == 1
    assert "no rule 'MINI-01' in ruleset mini (did you mean 'MINI-001'?)" in out


def test_airisk_test_passes_the_bundled_overcapacity_table_with_full_coverage() -> None:
    code, out, _ = invoke("test", str(ROOT / "rulesets" / "overcapacity.tests.yaml"), "--min-coverage", "100")
    assert code == 0, out
    assert "0 failed, 0 error(s)" in out
    assert re.search(r"coverage: (\d+) of \1 rule\(s\) proven to fire and to stay silent \(100\.0%\)", out)


def test_a_silent_expectation_that_only_needs_information_does_not_count_for_coverage(tmp_path: Path) -> None:
    (tmp_path / "mini.yaml").write_text((FIX / "tables" / "mini.yaml").read_text())
    (tmp_path / "mini.tests.yaml").write_text(
        "ruleset: mini\nas_of: 2026-01-01\ntests:\n  - name: t\n    case: {id: x, kind: facility, name: X}\n"
        "    expect: {silent: [MINI-001], needs_information: [MINI-001]}\n"
    )
    report = run([tmp_path])
    assert report.ok
    (cov,) = [c for c in report.coverage if c.rule_id == "MINI-001"]
    assert cov.silent_by == []


# --------------------------------------------------------------------------- rules docs


def test_the_committed_rule_reference_matches_the_bundled_rulesets() -> None:
    stale = drift(load_rules(), ROOT / "docs" / "rules")
    assert not stale, f"docs/rules is out of date for {stale}: run `airisk rules docs` and commit the result"


def test_the_rule_reference_has_a_section_for_every_bundled_rule() -> None:
    rules = load_rules()
    pages = generate(rules)
    for rule in rules.rules:
        assert f"### {rule.id}: " in pages[f"{rule.ruleset_id}.md"]
        assert f"[{rule.id}]({rule.ruleset_id}.md#" in pages["index.md"]


def test_conditions_are_rendered_in_words() -> None:
    cond = C.parse(
        {
            "all": [
                {"fact": "facility.pue", "gte": 1.5},
                {"not": {"fact": "location.country", "in": ["CN"]}},
                {"some": "accelerators", "where": {"fact": "count", "exists": False}},
            ]
        }
    )
    assert condition_in_words(cond) == [
        "- all of:",
        "  - `facility.pue` ≥ 1.5",
        "  - not: `location.country` is one of `CN`",
        "  - some item of `accelerators` where the item's `count` is not known (not reported)",
    ]


def test_rules_docs_writes_the_reference_and_check_detects_drift(tmp_path: Path) -> None:
    out_dir = tmp_path / "rules"
    mini = str(FIX / "tables" / "mini.yaml")
    code, out, _ = invoke("rules", "docs", "--no-bundled", "--rules", mini, "--output", str(out_dir))
    assert code == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["index.md", "mini.md"]
    assert out.splitlines() == [f"wrote {out_dir / 'index.md'}", f"wrote {out_dir / 'mini.md'}"]
    page = (out_dir / "mini.md").read_text()
    assert page.startswith(HEADER)
    assert "### MINI-002: A large accelerator line" in page
    assert "- some item of `accelerators` where the item's `count` ≥ 1,000" in page
    assert invoke("rules", "docs", "--no-bundled", "--rules", mini, "--output", str(out_dir), "--check") == (0, "", "")
    (out_dir / "mini.md").write_text(page.replace("PUE of 1.5 or more", "PUE of 1.4 or more"))
    code, out, _ = invoke("rules", "docs", "--no-bundled", "--rules", mini, "--output", str(out_dir), "--check")
    assert code == 1
    assert out == f"{out_dir / 'mini.md'}: out of date (run `airisk rules docs`)\n"


def test_rules_docs_exits_2_on_a_broken_ruleset() -> None:
    code, out, err = invoke(
        "rules", "docs", "--no-bundled", "--rules", str(FIX / "five-errors.yaml"), "--output", "/nonexistent"
    )
    assert code == 2
    assert out == ""
    assert err.count("airisk: error: ") == 5


def test_every_cli_command_is_documented_in_contributing() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    for command in ("airisk validate", "airisk test", "airisk rules docs", "python -m engine.authoring.schemas"):
        assert command in text


def test_bundled_rulesets_directory_is_the_default_for_airisk_test() -> None:
    assert bundled("rulesets").is_dir()


def test_a_tests_table_cannot_read_a_case_file_outside_its_project(tmp_path: Path) -> None:
    from engine.authoring.tabletests import load_table
    from engine.errors import AiriskError

    project = tmp_path / "project" / "rulesets"
    project.mkdir(parents=True)
    (tmp_path / "secret.yaml").write_text("id: s\nkind: project\nname: S\n")
    table = project / "x.tests.yaml"
    table.write_text("ruleset: x\ntests:\n  - name: escapes\n    case_file: ../../secret.yaml\n"
                     "    expect: {fires: []}\n")
    with pytest.raises(AiriskError, match="outside"):
        load_table(table)


@pytest.mark.parametrize("where", ["grandparent", "parent", "sibling", "link"])
def test_a_tests_table_reads_case_files_only_in_its_own_tree_or_the_shipped_examples(
        tmp_path: Path, where: str) -> None:
    """Issue 17: a table may not climb to its grandparent (or anywhere outside its directory),
    also not through a symbolic link; its own subdirectories and airisk's example cases are fine."""
    from engine.authoring.tabletests import load_table
    from engine.errors import AiriskError

    rules = tmp_path / "home" / "rules"
    (rules / "cases").mkdir(parents=True)
    case = "id: s\nkind: project\nname: S\n"
    (rules / "cases" / "mine.yaml").write_text(case)
    (tmp_path / "home" / "private.yaml").write_text(case)
    (tmp_path / "home" / "other").mkdir()
    (tmp_path / "home" / "other" / "x.yaml").write_text(case)
    (tmp_path / "secret.yaml").write_text(case)
    (rules / "cases" / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    rel = {"grandparent": "../../secret.yaml", "parent": "../private.yaml", "sibling": "../other/x.yaml",
           "link": "cases/link.yaml"}[where]
    table = rules / "x.tests.yaml"
    table.write_text(f"ruleset: x\ntests:\n  - name: escapes\n    case_file: {rel}\n    expect: {{fires: []}}\n")
    with pytest.raises(AiriskError, match="outside") as caught:
        load_table(table)
    assert caught.value.problems[0].code == "path_escape" and caught.value.problems[0].line == 4
    shipped = bundled("cases") / "oc-eastern-70pct.yaml"
    table.write_text("ruleset: x\ntests:\n  - name: own\n    case_file: cases/mine.yaml\n    expect: {fires: []}\n"
                     f"  - name: shipped\n    case_file: {shipped}\n    expect: {{fires: []}}\n")
    loaded = load_table(table)
    assert [t.case["id"] for t in loaded.tests] == ["s", "oc-eastern-70pct"]
