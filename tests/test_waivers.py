"""Waivers (issue #20 part 1): accepted risk with a reason, an approver and an expiry date."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from click.testing import CliRunner

from engine.api import assess_files, load_rules
from engine.authoring.schemas import schema
from engine.cli import main
from engine.errors import InputError
from engine.ruleset.parse import plain_data
from engine.source.safeyaml import load_file
from engine.waivers import EXPIRED_RULE, load

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"
GALLIUM = str(CASES / "ec-gallium-server-maker.yaml")  # fires CNX-001, CNX-004, CNX-006, CNX-012 on 2026-12-01
SARIF_SCHEMA = ROOT / "tests" / "fixtures" / "sarif-schema-2.1.0.json"


def _write(tmp_path: Path, text: str, name: str = "waivers.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _waiver(rule: str = "CNX-012", cases: str = "[ec-gallium-server-maker]", created: str = "2026-11-01",
            expires: str = "2027-01-31", extra: str = "") -> str:
    return (f"waivers:\n  - rule: {rule}\n    cases: {cases}\n    reason: Licence filed; stock covers demand.\n"
            f"    approver: J. Chen\n    ticket: EXP-1\n    created: {created}\n    expires: {expires}\n{extra}")


@pytest.fixture(scope="module")
def rules() -> Any:
    return load_rules()


def _one(rules: Any, path: Path | None, as_of: str, case: str = GALLIUM) -> dict[str, Any]:
    return assess_files([case], rules, as_of, waivers=load(path) if path else None)[0]


def _finding(a: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(f for f in a["findings"] if f["rule_id"] == rule_id)


# --------------------------------------------------------------------------- semantics


def test_a_waiver_suppresses_its_finding_through_its_expiry_day_and_not_the_day_after(tmp_path: Path,
                                                                                   rules: Any) -> None:
    path = _write(tmp_path, _waiver(created="2026-11-01", expires="2026-12-01"))
    plain = _one(rules, None, "2026-12-01")
    on_day = _one(rules, path, "2026-12-01")
    after = _one(rules, path, "2026-12-02")
    waived = _finding(on_day, "CNX-012")["waived"]
    assert waived is not None and waived["approver"] == "J. Chen" and waived["expires"] == "2026-12-01"
    assert waived["file"] == str(path) and waived["line"] == 2 and waived["ticket"] == "EXP-1"
    points = _finding(plain, "CNX-012")["points"]
    assert on_day["dimensions"]["export_control"]["score"] == plain["dimensions"]["export_control"]["score"] - points
    assert "CNX-012" not in on_day["dimensions"]["export_control"]["drivers"]
    assert "Waived (accepted risk, not counted): CNX-012 by J. Chen until 2026-12-01" in on_day["explanation"]
    # the day after: not waived, counted again, and the assessment says why
    assert _finding(after, "CNX-012")["waived"] is None
    assert after["dimensions"]["export_control"]["score"] == _one(rules, None, "2026-12-02")[
        "dimensions"]["export_control"]["score"]
    expired = _finding(after, EXPIRED_RULE)
    assert expired["severity"] == "info" and expired["points"] == 0 and expired["ruleset"] == "waivers"
    assert f"{path}:2" in expired["message"] and "2026-12-01" in expired["message"]
    assert EXPIRED_RULE not in {f["rule_id"] for f in on_day["findings"]}


def test_a_waiver_created_after_the_as_of_date_does_not_apply_yet(tmp_path: Path, rules: Any) -> None:
    path = _write(tmp_path, _waiver(created="2026-12-05", expires="2027-01-31"))
    a = _one(rules, path, "2026-12-01")
    assert _finding(a, "CNX-012")["waived"] is None


def test_a_waiver_lowers_the_level_and_the_range_it_covers_exactly(tmp_path: Path, rules: Any) -> None:
    # Waive every finding of the gallium case: the known level drops to low, while the unknown facts
    # (a US military use, a listed owner share) still reach the worst end: a waiver never hides an unknown.
    path = _write(tmp_path, _waiver(rule='"CNX-*"'))
    a = _one(rules, path, "2026-12-01")
    dim = a["dimensions"]["export_control"]
    assert dim["level"] == "low" and dim["score"] == 0
    plain = _one(rules, None, "2026-12-01")
    assert dim["level_range"][1] == plain["dimensions"]["export_control"]["level_range"][1]
    assert {d["fact"] for d in dim["decisive_unknowns"]} >= {"owner.listed_owner_share"}


def test_case_selectors_ids_globs_tags_and_conditions(tmp_path: Path, rules: Any) -> None:
    cases = {
        "[other-case]": False,
        '["ec-gallium-*"]': True,
        "{tags: [nope]}": False,
        "{when: {fact: materials.destination_country, eq: US}}": True,
        "{when: {fact: materials.destination_country, eq: DE}}": False,
        # an unknown condition never covers a case: the case states no military use
        "{when: {fact: materials.us_military_end_use, eq: false}}": False,
        '{ids: ["ec-*"], when: {fact: materials.exported_from_china, eq: true}}': True,
    }
    for i, (selector, covered) in enumerate(cases.items()):
        path = _write(tmp_path, _waiver(cases=selector), f"w{i}.yaml")
        got = _finding(_one(rules, path, "2026-12-01"), "CNX-012")["waived"] is not None
        assert got is covered, selector


def test_a_prohibited_tier_waived_stays_in_the_tier_and_is_named_in_the_headline(tmp_path: Path,
                                                                                 rules: Any) -> None:
    case = str(CASES / "ts-workplace-emotion.yaml")
    plain = _one(rules, None, "2026-12-01", case)
    prohibited = [f for f in plain["findings"] if f["tier"].get("eu_ai_act") == "prohibited"]
    assert prohibited
    rule_id = prohibited[0]["rule_id"]
    path = _write(tmp_path, _waiver(rule=rule_id, cases=f"[{plain['case_id']}]"))
    a = _one(rules, path, "2026-12-01", case)
    assert a["dimensions"]["safety"]["tiers"]["eu_ai_act"]["tier"] == "prohibited"
    assert f"{rule_id} [prohibited tier] by J. Chen until 2027-01-31" in a["explanation"]


def test_an_entity_list_hit_waived_is_named_as_such(tmp_path: Path, rules: Any) -> None:
    from engine.waivers import protected_kind

    rule = next(r for r in rules.rules if r.id == "USX-050")
    finding = {"tier": {}}
    assert protected_kind(rule, finding, rules) == "entity_list"
    assert protected_kind(next(r for r in rules.rules if r.id == "CNX-001"), finding, rules) is None


def test_provenance_records_the_waiver_files_sha256(tmp_path: Path, rules: Any) -> None:
    import hashlib

    path = _write(tmp_path, _waiver())
    a = _one(rules, path, "2026-12-01")
    assert a["provenance"]["waivers"] == {"file": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                                          "waivers": 1}
    assert _one(rules, None, "2026-12-01")["provenance"]["waivers"] is None


def test_assessments_with_waivers_fit_the_assessment_schema(tmp_path: Path, rules: Any) -> None:
    path = _write(tmp_path, _waiver(expires="2026-11-30", created="2026-11-01"))
    for day in ("2026-11-30", "2026-12-01"):
        jsonschema.validate(_one(rules, path, day), schema("assessment"))


# --------------------------------------------------------------------------- the file


@pytest.mark.parametrize(("body", "where", "text"), [
    (_waiver(extra="    approvr: x\n"), ":9:", "unknown key 'approvr'"),
    (_waiver(expires="2028-01-01"), ":8:", "over the policy maximum of 365 days"),
    (_waiver(created="2027-01-01", expires="2026-01-01"), ":8:", "before it was created"),
    (_waiver(expires="soon"), ":8:", "expected a date"),
    ("policy: {max_days: 30}\n" + _waiver(expires="2026-12-15"), ":9:", "over the policy maximum of 30 days"),
    (_waiver(cases="{when: {fact: materials.nope, eq: 1}}"), ":3:", "unknown fact 'materials.nope'"),
    ("waivers:\n  - rule: X\n", ":2:", "required: `reason`"),
])
def test_a_bad_waiver_file_is_a_located_error(tmp_path: Path, body: str, where: str, text: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(InputError) as exc:
        load(path)
    shown = "\n".join(str(p) for p in exc.value.problems)
    assert f"{path}{where}" in shown and text in shown, shown
    result = CliRunner().invoke(main, ["waivers", "check", str(path)])
    assert result.exit_code == 2 and text in result.output and "Traceback" not in result.output


def test_the_example_waiver_file_loads_and_fits_the_published_schema() -> None:
    example = ROOT / "docs" / "waivers.example.yaml"
    assert len(load(example).waivers) == 3
    jsonschema.validate(plain_data(load_file(str(example)).data), schema("waivers"))
    out = CliRunner().invoke(main, ["schema", "waivers"])
    assert out.exit_code == 0 and json.loads(out.stdout) == schema("waivers")


# --------------------------------------------------------------------------- CLI


def test_fail_on_ignores_only_live_waivers(tmp_path: Path) -> None:
    # CNX-006 (high) is the gallium case's only high driver besides CNX-012: waive both, and the gate
    # at high passes on the known rating; once expired, it trips again.
    path = _write(tmp_path, _waiver(rule='"CNX-01[2]"') + _waiver(rule="CNX-006").replace("waivers:\n", ""))
    args = ["assess", GALLIUM, "--fail-on", "high", "--fail-on-known", "--waivers", str(path), "--format", "json"]
    live = CliRunner().invoke(main, [*args, "--as-of", "2026-12-01"])
    assert live.exit_code == 0, live.output
    expired = CliRunner().invoke(main, [*args, "--as-of", "2027-02-01"])
    assert expired.exit_code == 1
    assert "expired" in expired.stderr
    plain = CliRunner().invoke(main, ["assess", GALLIUM, "--fail-on", "high", "--fail-on-known", "--as-of",
                                      "2026-12-01", "--format", "json"])
    assert plain.exit_code == 1


def test_stale_and_expired_waivers_are_reported(tmp_path: Path) -> None:
    body = _waiver() + _waiver(rule="USX-999").replace("waivers:\n", "") + _waiver(
        rule="CNX-001", created="2026-01-01", expires="2026-06-30").replace("waivers:\n", "")
    path = _write(tmp_path, body)
    out = CliRunner().invoke(main, ["assess", GALLIUM, "--as-of", "2026-12-01", "--waivers", str(path)])
    assert out.exit_code == 0
    assert f"stale: {path}:9: waiver of USX-999 matched no finding" in out.stderr
    assert f"expired: {path}:16: waiver of CNX-001 expired on 2026-06-30" in out.stderr
    check = CliRunner().invoke(main, ["waivers", "check", str(path), "--against", str(CASES), "--as-of",
                                      "2026-12-01", "--format", "json"])
    assert check.exit_code == 1
    report = json.loads(check.stdout)
    assert report["cases_assessed"] == len(list(CASES.glob("*.yaml")))
    assert {(n["kind"], n["rule"]) for n in report["notices"]} == {("stale", "USX-999"), ("expired", "CNX-001")}
    clean = _write(tmp_path, _waiver(), "clean.yaml")
    ok = CliRunner().invoke(main, ["waivers", "check", str(clean), "--against", GALLIUM, "--as-of", "2026-12-01"])
    assert ok.exit_code == 0 and "ok: nothing expired or stale" in ok.output


def test_batch_applies_waivers_in_worker_processes_and_reports_stale_ones(tmp_path: Path) -> None:
    path = _write(tmp_path, _waiver() + _waiver(rule="USX-999").replace("waivers:\n", ""))
    data = plain_data(load_file(GALLIUM).data)
    lines = tmp_path / "in.jsonl"
    lines.write_bytes(b"\n".join(orjson.dumps(dict(data, id=f"ec-gallium-server-maker-{i}")) for i in range(3))
                      + b"\n" + orjson.dumps(data) + b"\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["batch", str(lines), "-o", str(out), "--workers", "2", "--as-of", "2026-12-01",
                                       "--waivers", str(path)])
    assert result.exit_code == 0, result.output
    records = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    assert len(records) == 4
    waived = [[f["rule_id"] for f in r["assessment"]["findings"] if f["waived"]] for r in records]
    assert waived == [[], [], [], ["CNX-012"]]  # only the case whose id the waiver names
    assert "stale" in result.stderr and "USX-999" in result.stderr and "CNX-012" not in result.stderr


def test_sarif_with_waivers_validates_and_suppresses_the_waived_results(tmp_path: Path) -> None:
    path = _write(tmp_path, _waiver(created="2026-11-01", expires="2027-01-31")
                  + _waiver(rule="CNX-001", created="2026-01-01", expires="2026-06-30").replace("waivers:\n", ""))
    out = CliRunner().invoke(main, ["assess", GALLIUM, "--as-of", "2026-12-01", "--waivers", str(path),
                                    "--format", "sarif"])
    assert out.exit_code == 0
    log = json.loads(out.stdout)
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    results = log["runs"][0]["results"]
    suppressed = [r for r in results if r.get("suppressions")]
    assert [r["ruleId"] for r in suppressed] == ["CNX-012"]
    s = suppressed[0]["suppressions"][0]
    assert s["kind"] == "external" and s["justification"].startswith("Licence filed")
    expired = next(r for r in results if r["ruleId"] == EXPIRED_RULE)
    assert expired["locations"][0]["physicalLocation"]["region"]["startLine"] == 9


def test_text_and_markdown_mark_a_waived_finding(tmp_path: Path) -> None:
    path = _write(tmp_path, _waiver())
    for fmt in ("text", "markdown"):
        out = CliRunner().invoke(main, ["assess", GALLIUM, "--as-of", "2026-12-01", "--waivers", str(path),
                                        "--format", fmt])
        assert out.exit_code == 0
        assert "WAIVED (not counted) by J. Chen until 2027-01-31, EXP-1: Licence filed" in out.output
