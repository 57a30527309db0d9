"""`airisk assess --format junit`: a suite per case, a test per dimension, a failure exactly where
the --fail-on gate trips (the worst case over unknowns: unknown is never safe), waived findings
never failing."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

import engine
from engine.cli import main
from engine.cliutil import gate_level
from engine.render import RenderContext, Source, render
from engine.scale import DIMENSIONS, LEVEL_ORDER, LEVELS

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-22"
CASES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "cases").glob("*.yaml"))
UNKNOWN = "cases/oc-unknown-utilisation.yaml"  # overcapacity: low on the known facts, critical at worst


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def assessed() -> tuple[list[dict[str, Any]], list[Source]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        results, docs = engine.assess_documents(CASES, as_of=AS_OF)
    return results, [Source.of(d) for d in docs]


def suites(data: bytes) -> list[ET.Element]:
    root = ET.fromstring(data)
    assert root.tag == "testsuites"
    return root.findall("testsuite")


@pytest.mark.parametrize("fail_on", LEVELS)
def test_a_dimension_fails_exactly_when_the_fail_on_gate_trips_on_its_case(fail_on: str) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        got = run("assess", *CASES, "--as-of", AS_OF, "--format", "junit", "--fail-on", fail_on)
        results = engine.assess_files(CASES, as_of=AS_OF)
    tripped = [gate_level(r, False) >= LEVEL_ORDER[fail_on] for r in results]
    assert got.exit_code == (1 if any(tripped) else 0)
    found = suites(got.stdout_bytes)
    assert [s.get("name") for s in found] == [r["case_id"] for r in results]
    for suite, result, trips in zip(found, results, tripped, strict=True):
        cases = suite.findall("testcase")
        assert [c.get("name") for c in cases] == [d for d in DIMENSIONS if d in result["dimensions"]]
        assert (suite.find("testcase/failure") is not None) == trips, result["case_id"]
        for case in cases:
            dim = result["dimensions"][case.get("name")]
            worst = dim["level_range"][1] if dim["assessed"] else None
            assert (case.find("failure") is not None) == (worst is not None and LEVEL_ORDER[worst] >= LEVEL_ORDER[
                fail_on])
            assert (case.find("skipped") is not None) == (not dim["assessed"])
            assert case.get("classname") == f"airisk.{result['case_id']}"
        assert suite.get("tests") == str(len(cases))
        assert suite.get("failures") == str(len(suite.findall("testcase/failure")))
        assert suite.get("skipped") == str(len(suite.findall("testcase/skipped")))
        assert {p.get("name"): p.get("value") for p in suite.iter("property")}["fail_on"] == fail_on


def test_an_unknown_decisive_fact_fails_the_test_unless_fail_on_known_is_asked() -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        worst = run("assess", UNKNOWN, "--as-of", AS_OF, "--format", "junit", "--fail-on", "high")
        known = run("assess", UNKNOWN, "--as-of", AS_OF, "--format", "junit", "--fail-on", "high",
                    "--fail-on-known")
        result = engine.assess_dict(UNKNOWN, as_of=AS_OF)
    dim = result["dimensions"]["overcapacity"]
    assert LEVEL_ORDER[dim["level"]] < LEVEL_ORDER["high"] <= LEVEL_ORDER[dim["level_range"][1]]
    failure = suites(worst.stdout_bytes)[0].find("testcase[@name='overcapacity']/failure")
    assert failure is not None and failure.get("type") == dim["level_range"][1]
    assert f"{dim['level']} on the known facts" in (failure.get("message") or "")
    assert all(u["fact"] in (failure.text or "") for u in dim["decisive_unknowns"])
    assert suites(known.stdout_bytes)[0].find("testcase[@name='overcapacity']/failure") is None


def test_without_fail_on_a_high_dimension_fails_and_a_medium_one_passes(assessed: Any) -> None:
    results, sources = assessed
    data = render("junit", results, context=RenderContext(sources=sources))
    assert data == render("junit", results, context=RenderContext(fail_on="high", sources=sources))  # the default
    for suite, result in zip(suites(data), results, strict=True):
        assert (suite.find("testcase/failure") is not None) == (gate_level(result, False) >= LEVEL_ORDER["high"])


def test_a_test_names_the_case_file_and_the_line_of_a_driver(assessed: Any) -> None:
    results, sources = assessed
    found = suites(render("junit", results, context=RenderContext(sources=sources)))
    located = 0
    for suite, result, source in zip(found, results, sources, strict=True):
        assert suite.get("file") == source.file
        for case in suite.findall("testcase"):
            if case.get("line") is not None:
                lines = {source.finding_line(f) for f in result["findings"] if f["dimension"] == case.get("name")}
                assert int(case.get("line") or 0) in lines
                located += 1
    assert located > 20


def _waive_drivers(result: dict[str, Any], dimension: str) -> dict[str, Any]:
    waived = copy.deepcopy(result)
    for f in waived["findings"]:
        if f["rule_id"] in waived["dimensions"][dimension]["drivers"]:
            f["waived"] = {"reason": f"accepted risk for {f['rule_id']}", "approver": "a.b@example.com",
                           "ticket": "RISK-42", "created": "2026-10-01", "expires": "2027-01-31",
                           "rule": f["rule_id"], "file": "airisk-waivers.yaml", "line": 3}
    return waived


def test_a_waived_finding_is_never_named_in_a_failure_and_is_noted_in_system_out(assessed: Any) -> None:
    results, _ = assessed
    result = next(r for r in results if r["dimensions"]["export_control"]["level"] == "critical")
    waived = _waive_drivers(result, "export_control")
    case = suites(render("junit", waived, context=RenderContext(fail_on="high")))[0].find(
        "testcase[@name='export_control']")
    assert case is not None
    drivers = result["dimensions"]["export_control"]["drivers"]
    failure, out = case.find("failure"), case.find("system-out")
    assert out is not None and all(f"accepted risk for {d}" in (out.text or "") for d in drivers)
    assert "WAIVED" in (out.text or "")
    if failure is not None:  # the level is the engine's; a waived driver is not the reason given
        assert not any(f"{d} [" in (failure.text or "") for d in drivers)
    before = suites(render("junit", result, context=RenderContext(fail_on="high")))[0].find(
        "testcase[@name='export_control']/failure")
    assert before is not None and all(f"{d} [" in (before.text or "") for d in drivers)


@given(st.text(max_size=60))
def test_any_finding_text_gives_well_formed_xml_that_keeps_what_xml_can_hold(text: str) -> None:
    result = {"case_id": "c&<1>", "rating": "high", "rating_range": ["high", "high"],
              "dimensions": {"safety": {"assessed": True, "level": "high", "level_range": ["high", "high"],
                                        "score": 60, "drivers": ["X-1"], "decisive_unknowns": []}},
              "findings": [{"rule_id": "X-1", "dimension": "safety", "severity": "high", "points": 60,
                            "basis": "advisory", "title": text, "message": text}]}
    suite = suites(render("junit", result))[0]
    body = suite.find("testcase/failure")
    assert suite.get("name") == "c&<1>" and body is not None
    kept = "".join(ch for ch in text if ch in "\t\n\r" or (ch >= " " and not 0xD800 <= ord(ch) <= 0xDFFF
                                                         and ch not in "\ufffe\uffff"))
    if kept == text and "\r" not in text:  # XML normalises CR; anything else comes back as written
        assert text in (body.text or "")
