"""The export-controls ruleset: its table tests, the real chips of chips.csv, and the
conventions a compliance officer relies on (citations, dated windows, advisory wording)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from engine import assess, load_rules
from engine.ruleset.load import RULESET_LIMITS
from engine.ruleset.parse import written_out
from engine.source.safeyaml import load_file
from engine.source.tables import accelerators, country_groups

ROOT = Path(__file__).resolve().parents[1]
RULESET = ROOT / "rulesets" / "export-controls.yaml"
CHIPS = Path(__file__).parents[2] / "shared/domain/chips.csv"
DIMENSION = "export_control"


@lru_cache(maxsize=1)
def _raw_ruleset() -> dict[str, Any]:
    # the rules as written out: named conditions, parameters and shared sources resolved
    return written_out(load_file(str(RULESET), RULESET_LIMITS))


@pytest.fixture(scope="module")
def rules() -> Any:
    return load_rules()


# The table tests themselves (rulesets/export-controls.tests.yaml: every rule firing and silent,
# date and threshold edges) run through the shared runner in tests/test_rule_tables.py.


def test_rule_ids_are_unique_and_prefixed() -> None:
    ids = [r["id"] for r in _raw_ruleset()["rules"]]
    assert len(ids) == len(set(ids))
    assert all(i.startswith(("USX-", "CNX-")) for i in ids)


def test_every_rule_has_a_citation_and_an_effective_window() -> None:
    for rule in _raw_ruleset()["rules"]:
        assert rule["citations"], rule["id"]
        assert isinstance(rule["effective_from"], dt.date), rule["id"]
        assert "effective_to" in rule, rule["id"]
        for citation in rule["citations"]:
            assert citation.get("date"), (rule["id"], citation["instrument"])


def test_binding_rules_rest_on_a_dated_url_and_nothing_unconfirmed() -> None:
    for rule in _raw_ruleset()["rules"]:
        if rule["basis"] != "binding":
            continue
        assert any(c.get("url") and c.get("date") for c in rule["citations"]), rule["id"]
        assert all(c["confidence"] != "UNCONFIRMED" for c in rule["citations"]), rule["id"]


def test_unconfirmed_sources_make_advisory_rules_that_say_unconfirmed() -> None:
    for rule in _raw_ruleset()["rules"]:
        if any(c["confidence"] == "UNCONFIRMED" for c in rule["citations"]):
            assert rule["basis"] == "advisory", rule["id"]
            assert "UNCONFIRMED" in rule["message"], rule["id"]


def test_hard_triggers_are_critical() -> None:
    by_id = {r["id"]: r for r in _raw_ruleset()["rules"]}
    for rule_id in ("USX-022", "USX-024", "USX-050", "USX-070", "USX-090", "USX-100", "USX-102"):
        assert by_id[rule_id]["severity"] == "critical", rule_id
    policy = _raw_ruleset()["ruleset"]["dimensions"][DIMENSION]
    assert policy["severity_floor"] is True


def _chip_rows() -> list[dict[str, str]]:
    if not CHIPS.exists():
        return []
    with CHIPS.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _chip_case(row: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {"model": row["chip"], "vendor": row["vendor"], "count": 1,
                            "tpp": float(row["tpp"])}
    if row["die_area_mm2"]:
        item["die_area_mm2"] = float(row["die_area_mm2"])
    if row["dram_bandwidth_gbps"]:
        item["dram_bandwidth_gbps"] = float(row["dram_bandwidth_gbps"])
    if row["interconnect_gbps"]:
        item["interconnect_gbps"] = float(row["interconnect_gbps"])
    dc = row["designed_for_datacenter"] == "true"
    item["designed_for_datacenter"] = dc
    item["marketed_for_datacenter"] = dc
    return {"id": f"chip-{row['chip'].replace(' ', '-')}", "kind": "project", "name": row["chip"],
            "export": {"destination_country": "US"}, "accelerators": [item]}


CLASS_RULES_2023 = {"3A090.a": {"USX-010", "USX-011"}, "meets 3A090.a parameters": {"USX-010", "USX-011"},
                    "3A090.b": {"USX-012"}, "not 3A090": {"USX-013", "USX-014"}}


@pytest.mark.skipif(not CHIPS.exists(), reason=f"shared fact table absent: {CHIPS}")
@pytest.mark.parametrize("row", _chip_rows(), ids=[r["chip"] for r in _chip_rows()])
def test_each_real_chip_classifies_as_the_table_says_under_the_2023_rule(
        row: dict[str, str], rules: Any) -> None:
    result = assess(_chip_case(row), rules=rules, as_of="2024-06-01")
    fired = {f.rule_id for f in result.findings}
    classes = {name for name, ids in CLASS_RULES_2023.items() if ids & fired}
    expected = row["class_2023_rule"]
    assert CLASS_RULES_2023[expected] & fired, f"{row['chip']}: expected {expected}, fired {sorted(fired)}"
    others = {c for c in classes if CLASS_RULES_2023[c] != CLASS_RULES_2023[expected]}
    assert not others, f"{row['chip']}: also classified as {others}"


@pytest.mark.skipif(not CHIPS.exists(), reason=f"shared fact table absent: {CHIPS}")
@pytest.mark.parametrize("row", [r for r in _chip_rows() if r["class_2022_rule"]],
                         ids=[r["chip"] for r in _chip_rows() if r["class_2022_rule"]])
def test_each_real_chip_classifies_under_the_2022_rule_or_asks_for_its_io(
        row: dict[str, str], rules: Any) -> None:
    result = assess(_chip_case(row), rules=rules, as_of="2023-06-01")
    fired = {f.rule_id for f in result.findings}
    if row["class_2022_rule"] == "3A090":
        assert "USX-001" in fired
    elif not row["interconnect_gbps"] and float(row["tpp"]) >= 4800:
        # e.g. RTX 4090: the table says "not controlled", but without an I/O figure the engine
        # must ask rather than conclude.
        assert "USX-003" in fired and "USX-002" not in fired
    else:
        assert "USX-002" in fired and "USX-001" not in fired


@pytest.mark.skipif(not CHIPS.exists(), reason=f"shared fact table absent: {CHIPS}")
def test_the_cases_use_the_chip_figures_of_the_fact_table() -> None:
    table = {r["chip"]: r for r in _chip_rows()}
    for path in sorted((ROOT / "cases").glob("ec-*.yaml")):
        for item in load_file(str(path)).data.get("accelerators") or []:
            known = accelerators().resolve(item["model"])  # cases may spell a model as users do
            row = table.get(known.model if known else item["model"])
            assert row is not None, f"{path.name}: {item['model']} is not in chips.csv"
            if item.get("die_area_mm2") is not None and row["die_area_mm2"]:
                assert item["die_area_mm2"] == float(row["die_area_mm2"]), (path.name, item["model"])


def test_the_six_cases_validate_and_assess(rules: Any) -> None:
    paths = sorted((ROOT / "cases").glob("ec-*.yaml"))
    assert len(paths) >= 6
    for path in paths:
        result = assess(str(path), rules=rules, as_of="2026-11-22")
        assert result.dimensions[DIMENSION].level in {"low", "medium", "high", "critical"}


def test_explanations_name_the_controlling_rule_and_what_would_change(rules: Any) -> None:
    result = assess(str(ROOT / "cases" / "ec-h100-malaysia-cn-parent.yaml"), rules=rules, as_of="2026-11-22")
    finding = next(f for f in result.findings if f.rule_id == "USX-021")
    assert "88 FR 73458" in finding.message
    assert "headquartered outside D:5 and Macau" in (finding.would_change or "")
    assert finding.citations and finding.citations[0].url


# --- the 2026-12-01 review (issue 14) ---


DATA = ROOT / "rulesets" / "data"


def _dimension(result: Any) -> tuple[Any, ...]:
    dim = result.dimensions[DIMENSION]
    return dim.level, dim.score, tuple(sorted(f.rule_id for f in result.findings))


@pytest.mark.parametrize("spelling", ["NVIDIA H20", "h20", "H 20", "nvidia-h20"])
def test_a_vendor_prefix_case_or_spacing_gives_the_same_result_as_the_plain_name(
        spelling: str, rules: Any) -> None:
    case = load_file(str(ROOT / "cases" / "ec-h20-china-icc.yaml")).data
    plain = assess(case, rules=rules, as_of="2025-05-01")
    case["accelerators"][0]["model"] = spelling
    assert _dimension(assess(case, rules=rules, as_of="2025-05-01")) == _dimension(plain)
    assert "USX-130" in _dimension(plain)[2]


@pytest.mark.parametrize(("spelling", "model"), [("Instinct MI308X", "MI308X"), ("AMD Instinct MI308X", "MI308X"),
                                                 ("Huawei Ascend 910B", "Ascend 910B"), ("ascend910b", "Ascend 910B"),
                                                 ("GeForce RTX 4090 D", "RTX 4090D"), ("H100 SXM5", "H100 SXM")])
def test_the_alias_table_resolves_what_users_write(spelling: str, model: str) -> None:
    found = accelerators().resolve(spelling)
    assert found is not None and found.model == model


def test_the_alias_table_does_not_confuse_neighbouring_models() -> None:
    table = accelerators()
    assert table.resolve("H20").model != table.resolve("H200").model  # type: ignore[union-attr]
    assert table.resolve("RTX 4090").model != table.resolve("RTX 4090D").model  # type: ignore[union-attr]
    assert table.resolve("Mystery X1") is None


@pytest.mark.skipif(not CHIPS.exists(), reason=f"shared fact table absent: {CHIPS}")
def test_every_chip_of_the_fact_table_is_in_the_alias_table() -> None:
    missing = [r["chip"] for r in _chip_rows() if accelerators().resolve(r["chip"]) is None]
    assert not missing


def test_every_alias_table_model_and_country_group_member_cites_a_known_source() -> None:
    for name in ("accelerators.yaml", "country-groups.yaml"):
        data = load_file(str(DATA / name)).data
        keys = set(data["sources"])
        rows = data.get("models") or [m for ms in data["groups"].values() for m in ms] + data["treated_as"]
        for row in rows:
            assert row["source"] in keys, (name, row)
        for key, source in data["sources"].items():
            assert source.get("date") and source.get("confidence"), (name, key)


def test_every_country_group_member_is_dated() -> None:
    data = load_file(str(DATA / "country-groups.yaml")).data
    for group, members in data["groups"].items():
        for member in members:
            assert isinstance(member["from"], dt.date), (group, member)
            assert "to" in member and (member["to"] is None or member["to"] >= member["from"]), (group, member)


def test_a_d4_member_follows_its_dates() -> None:
    groups = country_groups()
    assert not groups.member("VE", "D:4", "2019-05-23")
    assert groups.member("VE", "D:4", "2019-05-24")
    assert "D:1" not in groups.of("NI", "2024-03-14") and "D:1" in groups.of("NI", "2024-03-15")
    assert "D:5" in groups.of("KH", "2026-02-02") and "D:5" not in groups.of("KH", "2026-02-03")
    assert "D:5" in groups.of("CY", "2024-05-29") and "D:5" not in groups.of("CY", "2024-05-30")


def test_hong_kong_has_chinas_groups_from_2020_12_23() -> None:
    groups = country_groups()
    assert groups.of("HK", "2020-12-22") == []
    assert groups.of("HK", "2026-12-01") == groups.of("CN", "2026-12-01")
    assert groups.ear_country("HK", "2026-12-01") == "CN"


def test_the_output_says_which_die_area_performance_density_used(rules: Any) -> None:
    case = load_file(str(ROOT / "cases" / "ec-h20-china-icc.yaml")).data
    for non_planar, words in ((True, "non-planar (FinFET/GAA) node"), (None, "does not say"),
                              (False, "the logic die is planar")):
        item = case["accelerators"][0]
        item.pop("non_planar", None)
        if non_planar is not None:
            item["non_planar"] = non_planar
        result = assess(case, rules=rules, as_of="2024-06-01").model_dump(mode="json")
        text = json.dumps(result, ensure_ascii=False)
        assert words in text, non_planar
        has_density = '"performance_density"' in text
        assert has_density is (non_planar is not False)


def test_a_pure_software_project_is_not_asked_for_screening_facts(rules: Any) -> None:
    result = assess(str(ROOT / "cases" / "ts-eu-cv-screening.yaml"), rules=rules, as_of="2026-12-01")
    asked = {n.rule_id for n in result.needs_information}
    assert not asked & {"USX-050", "USX-051", "USX-052"}


def test_the_new_hard_triggers_are_critical_and_binding() -> None:
    by_id = {r["id"]: r for r in _raw_ruleset()["rules"]}
    for rule_id in ("USX-025", "USX-062", "USX-115"):
        assert by_id[rule_id]["severity"] == "critical", rule_id
        assert by_id[rule_id]["basis"] == "binding", rule_id
    assert by_id["USX-027"]["basis"] == "binding"


def test_measures_back_after_a_suspension_say_no_extension_was_found() -> None:
    by_id = {r["id"]: r for r in _raw_ruleset()["rules"]}
    for rule_id in ("USX-062", "CNX-006", "CNX-012", "CNX-014"):
        assert "No extension" in by_id[rule_id]["message"], rule_id
        assert "UNCONFIRMED" not in by_id[rule_id]["message"], rule_id
