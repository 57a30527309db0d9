"""Compact batch records and the rule catalogue (``airisk batch --record compact --catalog FILE``):
full records rebuilt from compact ones and the catalogue equal the full records byte for byte."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import api, waivers
from engine.batch.catalog import FORMAT, Catalog
from engine.batch.run import BatchOptions, run_batch
from engine.cli import main
from engine.ruleset.describe import describe

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
AS_OF = "2026-12-01"  # docs/waivers.example.yaml: one waiver live, one expired (WAIVER-EXPIRED findings)
CASES = 120  # every kind of finding, waived and expired ones included (asserted below)

#: A document ruleset whose texts name facts (kept in each compact finding) beside fixed ones.
DOC_RULES = """\
ruleset: {id: d, version: '1', title: D, input: document}
rules:
  - id: DOC-001
    title: High PUE
    dimension: overcapacity
    severity: high
    points: 10
    basis: heuristic
    effective_from: 2020-01-01
    when: {fact: pue, gt: 1.5}
    message: PUE {pue} is above 1.5
    remediation: Bring PUE {pue} below 1.5.
    would_change: A PUE of 1.5 or less.
    citations: [{instrument: test, confidence: S}]
  - id: DOC-002
    title: Low utilisation
    dimension: overcapacity
    severity: medium
    points: 5
    basis: heuristic
    effective_from: 2020-01-01
    when: {fact: utilization, lt: 0.4}
    message: Utilisation under 40%.
    remediation: Lease the idle racks.
    citations: [{instrument: test, article: s 1, confidence: S}]
"""


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def _batch(rules: Any, cases: Path, out: Path, record: str, catalog: Path | None = None, workers: int = 2,
           accepted: Any = None) -> int:
    code, _ = run_batch(rules, BatchOptions(input=str(cases), output=str(out), workers=workers, as_of=AS_OF,
                                            record=record, catalog=None if catalog is None else str(catalog),
                                            waivers=accepted), stderr=io.StringIO())
    return code


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated cases for the bundled rulesets, assessed with the example waivers, full and compact."""
    from gen_cases import generate

    base = tmp_path_factory.mktemp("compact")
    cases = base / "cases.jsonl"
    cases.write_bytes(b"".join(orjson.dumps(c) + b"\n" for c in generate(CASES, seed=23)))
    rules = api.load_rules()
    accepted = waivers.load(ROOT / "docs" / "waivers.example.yaml")
    out = {"cases": cases, "full": base / "full.jsonl", "compact": base / "compact.jsonl",
           "catalog": base / "catalog.json"}
    assert _batch(rules, cases, out["full"], "full", accepted=accepted) in (0, 1)
    accepted = waivers.load(ROOT / "docs" / "waivers.example.yaml")
    assert _batch(rules, cases, out["compact"], "compact", out["catalog"], accepted=accepted) in (0, 1)
    return out


def test_full_records_rebuilt_from_compact_ones_and_the_catalogue_are_byte_for_byte_the_full_records(
        bundled: dict[str, Path]) -> None:
    catalog = Catalog.parse(bundled["catalog"].read_bytes(), str(bundled["catalog"]))
    full, compact = _lines(bundled["full"]), _lines(bundled["compact"])
    assert len(full) == len(compact) == CASES
    rebuilt = [orjson.dumps(catalog.expand(orjson.loads(line))) for line in compact]
    assert rebuilt == full
    # the test is not vacuous: waivers covered findings, an expired one added its own finding
    text = b"\n".join(full)
    assert b'"waived":{' in text and b"WAIVER-EXPIRED" in text
    assert sum(map(len, compact)) < 0.75 * sum(map(len, full))


def test_a_compact_finding_keeps_what_the_case_decides_and_names_its_catalogue(bundled: dict[str, Path]) -> None:
    catalog = Catalog.parse(bundled["catalog"].read_bytes())
    seen = 0
    for line in _lines(bundled["compact"]):
        record = orjson.loads(line)
        assert list(record) == ["line", "case_id", "catalog", "assessment"]
        assert record["catalog"] == catalog.id
        for finding in record["assessment"]["findings"]:
            if finding["rule_id"] == "WAIVER-EXPIRED":
                assert "title" in finding  # not a rule of the catalogue: kept whole
                continue
            seen += 1
            assert {"rule_id", "severity", "points", "message", "evidence", "waived"} <= finding.keys()
            static = catalog.data["rules"][finding["rule_id"]]["finding"]
            for key in finding.keys() & set(static):  # a rule field kept only where this case changes it
                assert finding[key] != static[key], (finding["rule_id"], key)
        for item in record["assessment"]["needs_information"]:
            assert "title" not in item and "missing" in item
    assert seen > CASES


def test_the_catalogue_holds_what_rules_show_says_about_every_rule_in_force(bundled: dict[str, Path]) -> None:
    catalog = orjson.loads(bundled["catalog"].read_bytes())
    assert catalog["format"] == FORMAT and catalog["as_of"] == AS_OF
    rules = api.load_rules()
    in_force = {r.id for r in rules.rules if r.in_force(AS_OF, None)}
    assert set(catalog["rules"]) == in_force
    for rule_id in sorted(in_force)[::15]:
        shown = CliRunner().invoke(main, ["rules", "show", rule_id])
        assert shown.exit_code == 0
        entry = catalog["rules"][rule_id]
        assert "---\n".join(yaml.safe_dump(v, sort_keys=False, allow_unicode=True, width=100)
                            for v in entry["variants"]) == shown.output
        assert entry["variants"] == [orjson.loads(orjson.dumps(describe(r))) for r in rules.rules if r.id == rule_id]


def test_render_and_report_read_compact_records_with_the_catalogue_and_refuse_them_without(
        bundled: dict[str, Path], tmp_path: Path) -> None:
    runner = CliRunner()
    full = runner.invoke(main, ["render", str(bundled["full"]), "--format", "sarif"])
    compact = runner.invoke(main, ["render", str(bundled["compact"]), "--format", "sarif",
                                   "--catalog", str(bundled["catalog"])])
    assert full.exit_code == compact.exit_code == 0
    assert compact.stdout_bytes == full.stdout_bytes
    refused = runner.invoke(main, ["render", str(bundled["compact"]), "--format", "sarif"])
    assert refused.exit_code == 2 and refused.stdout_bytes == b""
    assert f"{bundled['compact']}:1" in refused.stderr and "--catalog" in refused.stderr
    assert "Traceback" not in refused.stderr
    pages = {}
    for name, extra in (("full", []), ("compact", ["--catalog", str(bundled["catalog"])])):
        target = tmp_path / name
        target.mkdir()
        (target / "results.jsonl").write_bytes(bundled[name].read_bytes())
        done = runner.invoke(main, ["report", str(target / "results.jsonl"), "-o", str(target / "page.html"), *extra])
        assert done.exit_code == 0, done.output
        pages[name] = (target / "page.html").read_bytes()
    assert pages["compact"] == pages["full"]


def test_a_record_of_another_catalogue_is_refused_at_its_line(bundled: dict[str, Path], tmp_path: Path) -> None:
    lines = _lines(bundled["compact"])
    record = orjson.loads(lines[1])
    record["catalog"] = "0" * 64
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_bytes(b"\n".join([lines[0], orjson.dumps(record), *lines[2:]]) + b"\n")
    done = CliRunner().invoke(main, ["render", str(tampered), "--format", "json", "--catalog", str(bundled["catalog"])])
    assert done.exit_code == 2 and done.stdout_bytes == b""
    assert f"{tampered}:2" in done.stderr and "catalogue" in done.stderr
    edited = tmp_path / "edited.json"
    edited.write_bytes(bundled["catalog"].read_bytes().replace(b'"format"', b' "format"', 1))
    done = CliRunner().invoke(main, ["render", str(bundled["compact"]), "--format", "json", "--catalog", str(edited)])
    assert done.exit_code == 2 and "catalog_mismatch" not in done.stdout


def test_texts_that_name_a_fact_stay_in_the_compact_finding(tmp_path: Path) -> None:
    rules_file = tmp_path / "doc.yaml"
    rules_file.write_text(DOC_RULES)
    rules = api.load_rules([rules_file])
    cases = tmp_path / "cases.jsonl"
    cases.write_bytes(b"".join(orjson.dumps({"id": f"c{i}", "pue": 1.2 + i / 10, "utilization": i / 10}) + b"\n"
                               for i in range(10)))
    for workers in (1, 2):
        assert _batch(rules, cases, tmp_path / "full.jsonl", "full", workers=workers) == 0
        assert _batch(rules, cases, tmp_path / "compact.jsonl", "compact", tmp_path / "cat.json", workers) == 0
        catalog = Catalog.parse((tmp_path / "cat.json").read_bytes())
        compact = [orjson.loads(line) for line in _lines(tmp_path / "compact.jsonl")]
        assert [orjson.dumps(catalog.expand(r)) for r in compact] == _lines(tmp_path / "full.jsonl")
        kept = {f["rule_id"]: set(f) for r in compact for f in r["assessment"]["findings"]}
        assert kept["DOC-001"] == {"rule_id", "severity", "points", "message", "evidence", "remediation", "waived"}
        assert kept["DOC-002"] == {"rule_id", "severity", "points", "message", "evidence", "waived"}


def test_compact_needs_a_catalogue_file_and_a_local_run(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_bytes(b'{"id": "a", "pue": 1.6}\n')
    rules_file = tmp_path / "doc.yaml"
    rules_file.write_text(DOC_RULES)
    base = ["batch", str(cases), "--no-bundled", "--rules", str(rules_file), "--as-of", AS_OF, "--no-progress"]
    runner = CliRunner()
    for extra, said in ((["--record", "compact"], "--catalog FILE"),
                        (["--record", "compact", "--catalog", "-"], "a file of its own"),
                        (["--record", "small", "--catalog", str(tmp_path / "c")], "full")):
        done = runner.invoke(main, [*base, *extra])
        assert done.exit_code == 2, (extra, done.output)
        assert done.stdout_bytes == b"" and said in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "c").exists()
    done = runner.invoke(main, [*base, "--catalog", str(tmp_path / "c.json"), "-o", str(tmp_path / "o.jsonl")])
    assert done.exit_code == 0
    assert "catalog" not in orjson.loads((tmp_path / "o.jsonl").read_bytes())  # --catalog alone: full records
    assert orjson.loads((tmp_path / "c.json").read_bytes())["rules"]["DOC-001"]["finding"]["title"] == "High PUE"


def test_the_library_gives_the_same_compact_records_and_catalogue(bundled: dict[str, Path]) -> None:
    rules = api.load_rules()
    lines = bundled["cases"].read_bytes().splitlines()[:40]
    catalog = api.rule_catalog(rules, AS_OF)
    assert catalog.encoded == bundled["catalog"].read_bytes()
    full = list(api.assess_many(lines, rules, AS_OF))
    compact = list(api.assess_many(lines, rules, AS_OF, record="compact"))
    assert [orjson.dumps(catalog.expand(r)) for r in compact] == [orjson.dumps(r) for r in full]


_RULES = api.load_rules()
_CATALOG = Catalog.build(_RULES, AS_OF, None)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), scenario_date=st.sampled_from(["2024-06-01", "2025-06-01", AS_OF]))
def test_any_generated_case_compacts_and_expands_back_to_its_full_record(seed: int, scenario_date: str) -> None:
    from gen_cases import generate

    catalog = _CATALOG if scenario_date == AS_OF else Catalog.build(_RULES, scenario_date, None)
    case = next(iter(generate(1, seed=seed)))
    full = next(api.assess_many([case], _RULES, scenario_date))
    again = catalog.expand(orjson.loads(orjson.dumps(catalog.compact(full))))
    assert orjson.dumps(again) == orjson.dumps(full)


def test_the_catalogue_and_the_compact_records_fit_the_catalog_schema(bundled: dict[str, Path]) -> None:
    import jsonschema

    from engine.authoring.schemas import schema

    catalog_schema = schema("catalog")
    jsonschema.validate(orjson.loads(bundled["catalog"].read_bytes()), catalog_schema)
    record_schema = {**catalog_schema["$defs"]["CompactRecord"], "$defs": catalog_schema["$defs"]}
    for line in _lines(bundled["compact"])[:50]:
        jsonschema.validate(orjson.loads(line), record_schema)
    done = CliRunner().invoke(main, ["schema", "catalog"])
    assert done.exit_code == 0 and orjson.loads(done.stdout_bytes)["title"] == "airisk rule catalogue"


def test_compact_records_in_chinese_expand_to_the_chinese_full_records(bundled: dict[str, Path],
                                                                       tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_bytes(b"".join(bundled["cases"].read_bytes().splitlines(keepends=True)[:12]))
    runner = CliRunner()
    base = ["batch", str(cases), "--as-of", AS_OF, "--no-progress", "--lang", "zh", "--workers", "1"]
    full = runner.invoke(main, [*base, "-o", str(tmp_path / "full.jsonl")])
    compact = runner.invoke(main, [*base, "-o", str(tmp_path / "compact.jsonl"), "--record", "compact",
                                   "--catalog", str(tmp_path / "cat.json")])
    assert full.exit_code == compact.exit_code == 0, (full.output, compact.output)
    catalog = Catalog.parse((tmp_path / "cat.json").read_bytes())
    assert catalog.data["lang"] == "zh"
    rebuilt = [orjson.dumps(catalog.expand(orjson.loads(x))) for x in _lines(tmp_path / "compact.jsonl")]
    assert rebuilt == _lines(tmp_path / "full.jsonl")
    assert any("\u4e00" <= ch <= "\u9fff" for entry in catalog.data["rules"].values()
               for ch in entry["finding"]["title"])  # the catalogue's texts are the Chinese ones
