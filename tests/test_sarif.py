"""`airisk assess --format sarif`: valid SARIF 2.1.0 (the official schema, vendored), one result
per finding with its rule and level, rules once, locations at the fact's line, waivers as
suppressions, provenance and language on the run."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections import Counter
from pathlib import Path, PureWindowsPath
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest
from click.testing import CliRunner, Result
from hypothesis import assume, given
from hypothesis import example as hypothesis_example
from hypothesis import strategies as st

import engine
from engine.cli import main
from engine.render import RenderContext, Source, render
from engine.render.sarif import artifact_location, sarif_log

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "tests" / "fixtures" / "sarif-schema-2.1.0.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
AS_OF = "2026-11-22"
# The example cases as relative paths, as a CI job names them from the checkout (an explicit list,
# not the directory, so this does not depend on `airisk assess DIR`).
CASES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "cases").glob("*.yaml"))
# SARIF 2.1.0 §3.27.10 levels, as this project maps its severities (engine/render/sarif.py says why).
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub code scanning's security-severity bands (github.blog changelog 2021-07-19).
BAND = {"critical": (9.0, 10.0), "high": (7.0, 8.9), "medium": (4.0, 6.9), "low": (0.1, 3.9), "info": (0.0, 0.0)}


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    data = SCHEMA_FILE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SCHEMA_SHA256, "the vendored schema changed: see its README"
    schema = json.loads(data)
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def errors(validator: jsonschema.Draft4Validator, log: Any) -> list[str]:
    return [f"{e.json_path}: {e.message[:200]}" for e in validator.iter_errors(log)]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def example() -> tuple[dict[str, Any], list[dict[str, Any]], list[Source]]:
    """`airisk assess CASES --format sarif` run from the checkout, with the assessments and sources."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        got = run("assess", *CASES, "--as-of", AS_OF, "--format", "sarif")
        assert got.exit_code == 0, got.output
        results, docs = engine.assess_documents(CASES, as_of=AS_OF)
    return json.loads(got.stdout_bytes), results, [Source.of(d) for d in docs]


def test_the_vendored_schema_rejects_what_is_not_sarif(validator: jsonschema.Draft4Validator) -> None:
    # The validator has teeth: a wrong version, an unknown level and a missing message each fail.
    assert errors(validator, {"version": "2.0.0", "runs": []})
    bad_level = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                              "results": [{"message": {"text": "m"}, "level": "fatal"}]}]}
    assert errors(validator, bad_level)
    assert errors(validator, {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{}]}]})


def test_assess_of_every_example_case_is_valid_sarif_2_1_0(validator: jsonschema.Draft4Validator, example: Any) -> None:
    log, _, _ = example
    assert errors(validator, log) == []
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    assert len(log["runs"]) == 1 and log["runs"][0]["language"] == "en"


def test_there_is_one_result_per_finding_with_its_rule_and_level(example: Any) -> None:
    log, results, _ = example
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    failed = [r for r in run_["results"] if r.get("kind", "fail") == "fail"]
    expected = Counter((a["case_id"], f["rule_id"], LEVEL[f["severity"]]) for a in results for f in a["findings"])
    got = Counter((r["properties"]["case_id"], r["ruleId"], r["level"]) for r in failed)
    assert got == expected and sum(expected.values()) > 0
    for r in run_["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    messages = {(a["case_id"], f["rule_id"]): f["message"] for a in results for f in a["findings"]}
    assert all(r["message"]["text"] == messages[(r["properties"]["case_id"], r["ruleId"])] for r in failed)


def test_each_rule_is_described_once_with_its_citations_remediation_and_window(example: Any) -> None:
    log, results, _ = example
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    seen = {f["rule_id"] for a in results for f in a["findings"]} | {
        n["rule_id"] for a in results for n in a["needs_information"]}
    assert set(ids) == seen
    by_id = {r["id"]: r for r in rules}
    for f in (f for a in results for f in a["findings"]):
        rule = by_id[f["rule_id"]]
        assert rule["shortDescription"]["text"] == f["title"]
        assert {"dimension": f["dimension"], "basis": f["basis"], "ruleset": f["ruleset"]}.items() <= \
            rule["properties"].items()
        assert f["effective"] in rule["properties"]["effective"]
        low, high = BAND[rule["properties"]["severity"]]
        assert low <= float(rule["properties"]["security-severity"]) <= high
        assert rule["defaultConfiguration"]["level"] == LEVEL[rule["properties"]["severity"]]
        urls = [c["url"] for c in f["citations"] if c.get("url")]
        for c in f["citations"]:
            assert c["instrument"] in rule["help"]["text"]
            if c.get("url"):
                assert f"](<{c['url']}>)" in rule["help"]["markdown"]
        assert rule.get("helpUri") == (urls[0] if urls else None)
        if f.get("remediation"):
            assert f["remediation"] in rule["help"]["text"]


def test_rules_that_need_information_are_open_results_so_an_unknown_is_not_hidden(example: Any) -> None:
    log, results, _ = example
    opened = [r for r in log["runs"][0]["results"] if r.get("kind") == "open"]
    expected = Counter((a["case_id"], n["rule_id"]) for a in results for n in a["needs_information"])
    assert Counter((r["properties"]["case_id"], r["ruleId"]) for r in opened) == expected
    assert sum(expected.values()) > 0 and {r["level"] for r in opened} == {"none"}  # §3.27.9: not fail → none
    for r in opened:
        assert all(m in r["message"]["text"] for m in r["properties"]["missing"])


def _written_at(path: str, line: int, fact: str) -> bool:
    """Whether line ``line`` of the case file writes the last key of ``fact``."""
    key = fact.split(".")[-1].split("[")[0]
    text = (ROOT / path).read_text().splitlines()[line - 1]
    return re.search(rf"(^|[\s{{,-]){re.escape(key)}:", text) is not None  # block or flow style


def test_a_result_points_at_the_case_file_and_the_line_of_its_facts(example: Any) -> None:
    log, _, sources = example
    run_ = log["runs"][0]
    assert [a["location"]["uri"] for a in run_["artifacts"]] == CASES
    checked = 0
    for r in run_["results"]:
        where = r["locations"][0]["physicalLocation"]
        uri = where["artifactLocation"]["uri"]
        assert where["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert run_["artifacts"][where["artifactLocation"]["index"]]["location"]["uri"] == uri
        for related in r.get("relatedLocations", []):
            fact, line = related["message"]["text"], related["physicalLocation"]["region"]["startLine"]
            doc = sources[CASES.index(uri)]
            if "derived" not in fact and doc.lines.get("/" + fact.replace(".", "/").replace("[", "/").replace("]", "")):
                assert _written_at(uri, line, fact), (r["ruleId"], fact, line)
                checked += 1
    assert checked > 50
    # A threshold fact, not the scope condition before it, is where the result points.
    guizhou = next(r for r in run_["results"] if r["ruleId"] == "OVC-010"
                   and r["properties"]["case_id"] == "guizhou-icc")
    line = guizhou["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert _written_at("cases/guizhou-icc.yaml", line, "facility.rack_occupancy")


def test_provenance_and_each_cases_rating_are_on_the_run(example: Any) -> None:
    log, results, _ = example
    props = log["runs"][0]["properties"]
    assert props["provenance"] == results[0]["provenance"]
    assert [(c["case_id"], c["file"], c["rating"], c["rating_range"]) for c in props["cases"]] == [
        (a["case_id"], f, a["rating"], a["rating_range"]) for a, f in zip(results, CASES, strict=True)]
    assert log["runs"][0]["tool"]["driver"]["version"] == results[0]["provenance"]["engine_version"]


def test_the_same_cases_give_the_same_bytes_and_the_json_report_does_not_change(example: Any) -> None:
    _, results, sources = example
    context = RenderContext(sources=sources)
    assert render("sarif", results, context=context) == render("sarif", copy.deepcopy(results), context=context)
    assert all("file" not in a and "source" not in a for a in results)  # the file stays out of the assessment
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        plain = run("assess", CASES[0], "--as-of", AS_OF, "--format", "json", "--horizon", "0")
    assert plain.stdout_bytes == render("json", results[0])


def test_the_library_renders_sarif_without_locations_when_it_has_only_the_dicts(
        validator: jsonschema.Draft4Validator, example: Any) -> None:
    _, results, _ = example
    log = json.loads(render("sarif", results))
    assert errors(validator, log) == []
    assert all("locations" not in r for r in log["runs"][0]["results"]) and "artifacts" not in log["runs"][0]
    assert len(log["runs"][0]["results"]) == sum(len(a["findings"]) + len(a["needs_information"]) for a in results)
    empty = sarif_log([])
    assert errors(validator, empty) == [] and empty["runs"][0]["results"] == []


def _waived(results: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The first two cases with the waivers contract applied by hand: a waived finding, an expired
    waiver's finding, and the waivers file in the provenance."""
    cases = copy.deepcopy(results[:2])
    target = cases[0]["findings"][0]
    target["waived"] = {"reason": "Licence D123456 covers this shipment", "approver": "j.doe@example.com",
                        "ticket": None, "created": "2026-10-01", "expires": "2027-03-31",
                        "rule": target["rule_id"], "file": "airisk-waivers.yaml", "line": 12}
    expired = {**copy.deepcopy(cases[1]["findings"][0]), "rule_id": "WAIVER-EXPIRED", "severity": "high",
               "title": "A waiver has expired", "message": "The waiver of USX-020 expired on 2026-10-31.",
               "evidence": [], "waiver": {"file": "airisk-waivers.yaml", "line": 20, "rule": "USX-020"}}
    cases[1]["findings"].append(expired)
    for a in cases:
        a["provenance"]["waivers"] = {"file": "airisk-waivers.yaml", "sha256": "0" * 64, "waivers": 2}
    return cases, target


def test_a_waived_finding_is_a_result_with_an_accepted_external_suppression(
        validator: jsonschema.Draft4Validator, example: Any) -> None:
    _, results, sources = example
    cases, target = _waived(results)
    log = json.loads(render("sarif", cases, context=RenderContext(sources=sources[:2])))
    assert errors(validator, log) == []
    run_ = log["runs"][0]
    waived = [r for r in run_["results"] if "suppressions" in r]
    assert [(r["properties"]["case_id"], r["ruleId"]) for r in waived] == [(cases[0]["case_id"], target["rule_id"])]
    suppression = waived[0]["suppressions"][0]
    assert {k: suppression[k] for k in ("kind", "status", "justification")} == {
        "kind": "external", "status": "accepted", "justification": "Licence D123456 covers this shipment"}
    assert {"approver": "j.doe@example.com", "expires": "2027-03-31", "ticket": None,
            "file": "airisk-waivers.yaml"}.items() <= suppression["properties"].items()
    assert suppression["location"]["physicalLocation"]["region"]["startLine"] == 12
    assert waived[0]["level"] == LEVEL[target["severity"]]  # still reported at its level, marked as waived
    expired = next(r for r in run_["results"] if r["ruleId"] == "WAIVER-EXPIRED")
    assert expired["level"] == "error" and "suppressions" not in expired
    place = expired["locations"][0]["physicalLocation"]
    assert place["artifactLocation"]["uri"] == "airisk-waivers.yaml" and place["region"]["startLine"] == 20
    assert "WAIVER-EXPIRED" in [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert run_["properties"]["provenance"]["waivers"] == cases[0]["provenance"]["waivers"]


def test_the_run_language_is_the_assessments_lang_and_each_language_has_its_run(
        validator: jsonschema.Draft4Validator, example: Any) -> None:
    _, results, _ = example
    zh = copy.deepcopy(results[1])
    zh["lang"] = "zh"
    zh["findings"][0]["message"] = "该芯片的总处理性能超过阈值。"
    log = json.loads(render("sarif", [results[0], zh]))
    assert errors(validator, log) == []
    assert [r["language"] for r in log["runs"]] == ["en", "zh"]
    assert log["runs"][1]["results"][0]["message"]["text"] == "该芯片的总处理性能超过阈值。"
    assert [c["case_id"] for c in log["runs"][1]["properties"]["cases"]] == [zh["case_id"]]


@given(st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)
                .filter(lambda s: s not in (".", "..") and "/" not in s and "\\" not in s), min_size=1, max_size=4))
@hypothesis_example(["cases", "a b%.yaml"])
def test_a_relative_case_path_is_a_relative_uri_that_names_the_same_file(parts: list[str]) -> None:
    path = "/".join(parts)
    # Not relative paths: "-" and "<stdin>" name standard input, and "C:x" has a Windows drive
    # (tests below); hypothesis finds these rarely, so the test must leave them out, not be lucky.
    assume(path not in ("-", "<stdin>") and not PureWindowsPath(path).drive)
    where = artifact_location(path)
    assert where is not None and where["uriBaseId"] == "%SRCROOT%"
    split = urlsplit(where["uri"])
    assert not split.scheme and not split.netloc and not split.query and not split.fragment
    assert unquote(where["uri"]) == path


def test_an_absolute_path_is_a_file_uri_and_standard_input_has_no_location() -> None:
    assert artifact_location("/srv/cases/a b.yaml") == {"uri": "file:///srv/cases/a%20b.yaml"}
    assert artifact_location("<stdin>") is None and artifact_location("-") is None


def test_a_windows_path_is_a_file_uri_with_its_drive_as_rfc_8089_writes_it() -> None:
    assert artifact_location("C:\\cases\\a b.yaml") == {"uri": "file:///C:/cases/a%20b.yaml"}
    assert artifact_location("D:/x/y:z.yaml") == {"uri": "file:///D:/x/y:z.yaml"}
    assert artifact_location("/srv/a:b.yaml") == {"uri": "file:///srv/a:b.yaml"}
    # A relative URI escapes ":" (in its first segment it would read as a scheme).
    assert artifact_location("cases/a:b.yaml") == {"uri": "cases/a%3Ab.yaml", "uriBaseId": "%SRCROOT%"}
