"""The tiered-safety ruleset: its table tests, the issue's acceptance cases, fine
exposure derived from the penalty table, and its sourcing conventions.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine import assess, load_rules
from engine.case.model import Case
from engine.case.overrides import apply_set
from engine.derive.safety import DERIVED_FIELDS, ceiling, derive, penalty_table
from engine.ruleset.load import RULESET_LIMITS
from engine.ruleset.parse import written_out
from engine.source.safeyaml import load_file

ROOT = Path(__file__).resolve().parents[1]
RULESET = ROOT / "rulesets" / "tiered-safety.yaml"
TABLE = ROOT / "rulesets" / "tiered-safety.tests.yaml"
GUIDELINES_TABLE = ROOT / "rulesets" / "tiered-safety-guidelines.tests.yaml"
PENALTIES = ROOT / "rulesets" / "data" / "eu-penalties.yaml"
CASES = sorted((ROOT / "cases").glob("ts-*.yaml"))
AS_OF = "2026-11-22"


@pytest.fixture(scope="module")
def rules() -> Any:
    return load_rules([RULESET])


def _raw_rules() -> list[dict[str, Any]]:
    # the rules as written out: parameters and shared sources resolved
    rules: list[dict[str, Any]] = written_out(load_file(str(RULESET), RULESET_LIMITS))["rules"]
    return rules


def _table() -> list[dict[str, Any]]:
    return load_file(str(TABLE)).data["tests"]


def _case(name: str) -> dict[str, Any]:
    return load_file(str(ROOT / "cases" / name)).data


# The table tests (rulesets/tiered-safety.tests.yaml: every rule firing and silent, date and
# threshold edges) run through the shared runner in tests/test_rule_tables.py.


def test_at_least_20_table_tests_come_from_the_commission_guidelines_each_citing_its_paragraph() -> None:
    tests = load_file(str(GUIDELINES_TABLE)).data["tests"]
    assert len(tests) >= 20
    assert all(re.match(r"^para\. \d{3} — ", t["name"]) for t in tests)


def test_table_test_names_are_unique_sentences() -> None:
    names = [t["name"] for t in _table()]
    assert len(names) == len(set(names))
    assert all(re.match(r"^[A-Z0-9].* .*[^.]$", n) for n in names)


# ------------------------------------------------------------ the acceptance cases


def test_the_case_files_are_valid_cases() -> None:
    assert len(CASES) >= 6
    for path in CASES:
        Case.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_emotion_recognition_at_work_is_prohibited_after_2025_02_02_only(rules: Any) -> None:
    before = assess(_case("ts-workplace-emotion.yaml"), rules=rules, as_of="2025-01-15")
    after = assess(_case("ts-workplace-emotion.yaml"), rules=rules, as_of="2025-03-01")
    assert before.dimensions["safety"].tiers["eu_ai_act"].tier == "high"  # classified, not prohibited
    assert after.dimensions["safety"].tiers["eu_ai_act"].tier == "prohibited"
    assert after.dimensions["safety"].tiers["eu_ai_act"].rules == ["EUA-006"]
    assert after.dimensions["safety"].level == "critical"


def test_the_cv_tool_is_high_risk_with_obligations_from_2027_12_02(rules: Any) -> None:
    today = assess(_case("ts-eu-cv-screening.yaml"), rules=rules, as_of="2026-12-01")
    safety = today.dimensions["safety"]
    assert safety.tiers["eu_ai_act"].tier == "high"
    assert safety.level == "low"  # nothing of it is enforceable yet
    assert any(d.deadline == "obligations apply from 2027-12-02" for d in safety.duties)
    assert "EUA-010" not in {f.rule_id for f in today.findings}
    due = assess(_case("ts-eu-cv-screening.yaml"), rules=rules, as_of="2027-12-02")
    assert due.dimensions["safety"].tiers["eu_ai_act"].tier == "high"
    assert due.dimensions["safety"].level == "high"
    assert "EUA-010" in due.dimensions["safety"].drivers


def test_the_omnibus_is_law_in_the_bundled_ruleset_not_a_scenario() -> None:
    header = load_file(str(RULESET)).data["ruleset"]
    assert "scenarios" not in header
    assert all("scenarios" not in r for r in _raw_rules())


def test_a_nudifier_app_is_prohibited_from_2026_12_02_and_not_before(rules: Any) -> None:
    before = assess(_case("ts-nudifier-app.yaml"), rules=rules, as_of="2026-12-01")
    after = assess(_case("ts-nudifier-app.yaml"), rules=rules, as_of="2026-12-02")
    assert before.dimensions["safety"].tiers["eu_ai_act"].tier != "prohibited"
    assert after.dimensions["safety"].tiers["eu_ai_act"].tier == "prohibited"
    assert after.dimensions["safety"].level == "critical"


def test_a_call_centre_inferring_staff_emotions_from_voice_is_prohibited_but_not_on_customers(rules: Any) -> None:
    staff = apply_set(_case("ts-workplace-emotion.yaml"), {"ai_system.input_data": ["voice"]})
    customers = apply_set(staff, {"ai_system.subjects": ["customers"]})
    on_staff = assess(staff, rules=rules, as_of="2026-12-01")
    on_customers = assess(customers, rules=rules, as_of="2026-12-01")
    assert on_staff.dimensions["safety"].tiers["eu_ai_act"].tier == "prohibited"
    assert on_customers.dimensions["safety"].tiers["eu_ai_act"].tier == "high"  # Annex III 1(c)
    assert on_customers.dimensions["safety"].level != "critical"


def test_an_authorised_targeted_search_is_not_prohibited_but_high_risk(rules: Any) -> None:
    result = assess(_case("ts-missing-child-search.yaml"), rules=rules, as_of="2026-12-01")
    assert result.dimensions["safety"].tiers["eu_ai_act"].tier == "high"
    unauthorised = apply_set(_case("ts-missing-child-search.yaml"), {"ai_system.rbi_prior_authorisation": None})
    assert assess(unauthorised, rules=rules, as_of="2026-12-01").dimensions["safety"].tiers[
        "eu_ai_act"].tier == "prohibited"


def test_a_3e25_flop_model_with_unknown_notification_is_not_low(rules: Any) -> None:
    result = assess(_case("ts-frontier-model.yaml"), rules=rules, as_of="2026-12-01")
    assert result.dimensions["safety"].level != "low"
    assert "EUA-033" in result.dimensions["safety"].drivers


def test_a_total_of_100_points_is_not_critical_without_a_critical_finding(rules: Any) -> None:
    case = apply_set(_case("ts-cn-public-chatbot.yaml"), {
        "ai_system.recommendation_algorithm": True, "ai_system.deep_synthesis": True,
        "ai_system.deep_synthesis_functions": ["face_swap", "voice_clone"],
        "ai_system.face_voice_editing_consent": False, "ai_system.biometric_editing_security_assessment": False,
        "ai_system.explicit_labels": False, "ai_system.ethics_review_done": False,
        "ai_system.social_mobilisation_capacity": True, "ai_system.implicit_labels": False,
        "data.pi_impact_assessment_done": False, "data.cross_border_transfer": True,
        "data.transfer_pi_subjects_ytd": 500_000, "data.transfer_sensitive_pi_subjects_ytd": 0,
        "data.transfer_mechanism": "none"})
    result = assess(case, rules=rules, as_of="2026-12-01")
    safety = result.dimensions["safety"]
    assert safety.score == 100
    assert all(f.severity != "critical" for f in result.findings)
    assert safety.level == "high"


def test_the_56m_fine_exposure_is_in_the_level_and_the_explanation(rules: Any) -> None:
    result = assess(_case("ts-workplace-emotion.yaml"), rules=rules, as_of="2026-12-01")
    assert "EUA-046" in result.dimensions["safety"].drivers
    assert "EUA-046" in result.explanation
    (finding,) = [f for f in result.findings if f.rule_id == "EUA-046"]
    assert "€56,000,000" in finding.message


def test_a_stated_conclusion_that_disagrees_with_the_facts_is_a_finding_and_the_facts_decide(rules: Any) -> None:
    case = apply_set(_case("ts-workplace-emotion.yaml"), {
        "ai_system.input_data": ["written_text"],
        "ai_system.article5_practices": ["emotion_recognition_workplace_education"]})
    result = assess(case, rules=rules, as_of="2026-12-01")
    fired = {f.rule_id for f in result.findings}
    assert "EUA-057" in fired and "EUA-006" not in fired
    assert result.dimensions["safety"].tiers["eu_ai_act"].tier != "prohibited"


def test_a_500000_person_export_with_no_mechanism_is_not_low(rules: Any) -> None:
    case = apply_set(_case("ts-recommendation-feed.yaml"), {
        "data.transfer_pi_subjects_ytd": 500_000, "data.transfer_mechanism": "none", "data.important_data": None})
    result = assess(case, rules=rules, as_of="2026-12-01")
    assert "CNS-063" in {f.rule_id for f in result.findings}
    assert result.dimensions["safety"].level in {"high", "critical"}


def test_the_anthropomorphic_measures_are_binding_from_2026_07_15_with_advisory_thresholds(rules: Any) -> None:
    case = apply_set(_case("ts-cn-public-chatbot.yaml"), {
        "ai_system.companion": True, "ai_system.registered_users": 2_000_000, "ai_system.monthly_active_users": 0})
    result = assess(case, rules=rules, as_of="2026-12-01")
    by_id = {f.rule_id: f for f in result.findings}
    assert by_id["CNS-083"].basis == "binding"
    assert by_id["CNS-084"].basis == "advisory"
    assert not {"CNS-080", "CNS-081", "CNS-082"} & set(by_id)


def test_tc260_and_gb_t_45654_rules_are_advisory() -> None:
    for rule in _raw_rules():
        cited = " ".join(c["instrument"] for c in rule["citations"])
        if "TC260-003" in cited or "GB/T 45654" in cited:
            assert rule["basis"] == "advisory", rule["id"]


def test_cns_001_is_no_longer_marked_unconfirmed() -> None:
    (rule,) = [r for r in _raw_rules() if r["id"] == "CNS-001"]
    assert "UNCONFIRMED" not in rule["message"]
    assert "Art. 2 para. 3" in rule["citations"][0]["article"]


def test_order_16_has_one_field_for_important_data() -> None:
    from engine.case.safety import DataProfile

    assert "important_data" in DataProfile.model_fields
    assert "important_data_notified" not in DataProfile.model_fields


def test_the_internal_model_has_no_filing_duty_and_the_findings_say_why(rules: Any) -> None:
    result = assess(_case("ts-internal-enterprise-model.yaml"), rules=rules, as_of=AS_OF)
    (finding,) = [f for f in result.findings if f.rule_id == "CNS-001"]
    assert finding.severity == "info"
    assert finding.message.startswith("Out of scope: not offered to the public in mainland China")
    duties = " ".join(d.obligation for d in result.dimensions["safety"].duties)
    assert "filing" not in duties.lower()
    assert {n.rule_id for n in result.needs_information} & {"CNS-003", "CNS-004", "CNS-005"} == set()


def test_the_public_chatbot_reports_its_china_duties(rules: Any) -> None:
    result = assess(_case("ts-cn-public-chatbot.yaml"), rules=rules, as_of=AS_OF)
    safety = result.dimensions["safety"]
    assert safety.level == "high"
    assert any(d.jurisdiction == "CN" and "algorithm filing" in d.obligation for d in safety.duties)
    assert set(safety.drivers[:2]) == {"CNS-004", "CNS-005"}


def test_the_frontier_model_is_presumed_to_have_systemic_risk(rules: Any) -> None:
    result = assess(_case("ts-frontier-model.yaml"), rules=rules, as_of=AS_OF)
    assert result.dimensions["safety"].tiers["eu_gpai"].tier == "systemic_risk"
    (finding,) = [f for f in result.findings if f.rule_id == "EUA-031"]
    assert "3.00e+25" in finding.message


def test_a_missing_market_fact_is_reported_as_needed_not_read_as_compliant(rules: Any) -> None:
    case = apply_set(_case("ts-workplace-emotion.yaml"), {"ai_system.eu_market": None})
    result = assess(case, rules=rules, as_of=AS_OF)
    assert "EUA-006" not in {f.rule_id for f in result.findings}
    needs = {n.rule_id: n.missing for n in result.needs_information}
    assert "ai_system.eu_market" in needs["EUA-006"]


def test_more_missing_duties_score_higher_within_the_same_level(rules: Any) -> None:
    base = _case("ts-cn-public-chatbot.yaml")
    fewer = assess(apply_set(base, {"ai_system.implicit_labels": True}), rules=rules, as_of=AS_OF)
    more = assess(base, rules=rules, as_of=AS_OF)
    assert fewer.dimensions["safety"].level == more.dimensions["safety"].level == "high"
    assert more.dimensions["safety"].score > fewer.dimensions["safety"].score


# --------------------------------------------------------------------- fine exposure


def test_fine_ceilings_are_the_higher_amount_for_large_undertakings() -> None:
    derived: dict[str, Any] = {}
    derive({"organisation": {"worldwide_turnover_eur": 800_000_000, "sme": False}}, derived, {})
    assert derived["eu_penalty_art5_eur"] == 56_000_000  # 7% beats €35M
    assert derived["eu_penalty_operator_eur"] == 24_000_000  # 3% beats €15M
    assert derived["eu_penalty_information_eur"] == 8_000_000  # 1% beats €7.5M
    assert derived["eu_penalty_gpai_eur"] == 24_000_000


def test_fine_ceilings_are_the_lower_amount_for_smes_except_for_gpai() -> None:
    derived: dict[str, Any] = {}
    derive({"organisation": {"worldwide_turnover_eur": 10_000_000, "sme": True}}, derived, {})
    assert derived["eu_penalty_art5_eur"] == 700_000
    assert derived["eu_penalty_operator_eur"] == 300_000
    assert derived["eu_penalty_information_eur"] == 100_000
    assert derived["eu_penalty_gpai_eur"] == 15_000_000  # Art. 101 has no SME rule
    assert "lower" in derived["eu_penalty_rule"]


def test_unknown_sme_status_gives_the_higher_amount_and_says_so() -> None:
    derived: dict[str, Any] = {}
    derive({"organisation": {"worldwide_turnover_eur": 10_000_000}}, derived, {})
    assert derived["eu_penalty_art5_eur"] == 35_000_000
    assert "unknown" in derived["eu_penalty_rule"]


def test_no_fine_ceiling_is_derived_without_a_turnover() -> None:
    derived: dict[str, Any] = {}
    derive({"organisation": {"sme": True}}, derived, {})
    derive({}, derived, {})
    assert derived == {}


def test_derive_declares_every_key_it_adds() -> None:
    derived: dict[str, Any] = {}
    derive({"organisation": {"worldwide_turnover_eur": 1.0, "sme": False}}, derived, {})
    assert set(derived) == set(DERIVED_FIELDS)


def test_the_fine_figures_come_from_the_cited_data_table() -> None:
    data = yaml.safe_load(PENALTIES.read_text(encoding="utf-8"))
    assert data["source"][0]["url"].startswith("https://eur-lex.europa.eu/")
    assert penalty_table() == data["fines"]
    assert ceiling(35_000_000, 0.07, 1e9, lower=False) == 70_000_000


def test_the_fine_exposure_is_rendered_in_the_finding(rules: Any) -> None:
    result = assess(_case("ts-workplace-emotion.yaml"), rules=rules, as_of=AS_OF)
    (finding,) = [f for f in result.findings if f.rule_id == "EUA-046"]
    assert "€56,000,000" in finding.message
    assert result.derived["case"]["eu_penalty_art5_eur"] == 56_000_000


# --------------------------------------------------------------------- sourcing rules


@pytest.mark.parametrize("rule", _raw_rules(), ids=lambda r: r["id"])
def test_every_rule_has_a_citation_and_an_effective_window(rule: dict[str, Any]) -> None:
    assert re.fullmatch(r"(CNS|EUA)-\d{3}", rule["id"])
    assert rule["citations"]
    assert "effective_from" in rule and "effective_to" in rule
    if rule["basis"] == "binding":
        assert any(c.get("url") and c.get("date") for c in rule["citations"])
        assert all(c["confidence"] != "UNCONFIRMED" for c in rule["citations"])


@pytest.mark.parametrize("rule", [r for r in _raw_rules() if r["basis"] == "advisory"], ids=lambda r: r["id"])
def test_advisory_rules_say_why_in_their_message(rule: dict[str, Any]) -> None:
    text = rule["message"] + " " + rule["title"]
    assert re.search(r"UNCONFIRMED|DRAFT|NON-BINDING|not binding law|advisory because", text), rule["id"]


def test_the_indicative_tc260_tier_is_declared_non_binding(rules: Any) -> None:
    scheme = rules.tiers["cn_tc260_indicative"]
    assert scheme.binding is False
    assert "non-binding" in scheme.title


def test_rule_ids_are_unique() -> None:
    ids = [r["id"] for r in _raw_rules()]
    assert len(ids) == len(set(ids))


TC260_TAG = re.compile(
    r"^tc260:(inherent\.(model|data|system)|application\.(cyberspace|real-world|cognitive|ethical))\.[a-z][a-z0-9-]*$"
)


def test_tc260_tags_follow_the_framework_taxonomy() -> None:
    tags = {t for r in _raw_rules() for t in r.get("tags", [])}
    assert tags, "findings should carry TC260 taxonomy tags"
    assert {t for t in tags if not TC260_TAG.match(t)} == set()
