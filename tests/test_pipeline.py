"""The assessment pipeline end to end, through the library API."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import Assessment, InputError, assess, assess_dict, load_rules
from engine.assessment.engine import Engine
from engine.authoring.schemas import schema
from engine.derive.view import accelerator_tpp, build_view
from engine.match.compiler import MAX_FACT_FIELDS, STACK_BUDGET, compile_rules, number_json
from engine.ruleset.load import combine
from engine.ruleset.model import LEVEL_ORDER
from engine.ruleset.parse import parse_ruleset
from engine.source.safeyaml import Document

ROOT = Path(__file__).resolve().parents[1]
CASES = sorted((ROOT / "cases").glob("*.yaml"))
AS_OF = "2026-11-22"


def ruleset_of(rules: list[dict[str, Any]], **header: Any) -> engine.RuleSet:
    data = {"ruleset": {"id": "t", "version": "1", "title": "test", **header}, "rules": rules}
    return combine([parse_ruleset(Document(data=data, file="<test>"))])


def rule(rid: str, when: dict[str, Any], **extra: Any) -> dict[str, Any]:
    base = {"id": rid, "title": rid, "dimension": "export_control", "severity": "high", "points": 30,
            "basis": "advisory", "effective_from": dt.date(2023, 11, 17), "when": when, "message": "m",
            "citations": [{"instrument": "test", "confidence": "S"}]}
    base.update(extra)
    return base


FACILITY = {"id": "f1", "kind": "facility", "name": "Test facility",
            "location": {"country": "CN", "province": "Guizhou", "city": "Guiyang"},
            "accelerators": [{"model": "A800", "count": 100, "datasheet": [{"tops": 624, "bit_length": 8}],
                              "die_area_mm2": 826, "designed_for_datacenter": True}]}


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_every_example_case_assesses_and_its_json_fits_the_assessment_schema(path: Path) -> None:
    result = assess(path, as_of=AS_OF)
    data = json.loads(result.to_json())
    jsonschema.validate(data, schema("assessment"))
    assert data["case_id"] and data["rating"] in LEVEL_ORDER
    for dim in ("safety", "export_control", "overcapacity"):
        d = data["dimensions"][dim]
        # Not assessed is not low (issue 16): a dimension none of whose rules applies has no level.
        if d["assessed"]:
            assert d["level"] in LEVEL_ORDER
            best, worst = d["level_range"]
            assert LEVEL_ORDER[best] <= LEVEL_ORDER[d["level"]] <= LEVEL_ORDER[worst]
            assert isinstance(d["decisive_unknowns"], list)
        else:
            assert d["level"] is None and d["level_range"] is None and d["decisive_unknowns"] == []
        assert 0 <= d["score"] <= 100
    for finding in data["findings"]:
        assert finding["citations"], finding["rule_id"]
        assert finding["evidence"], finding["rule_id"]
    assert data["provenance"]["as_of"] == AS_OF
    assert all(len(r["sha256"]) == 64 for r in data["provenance"]["rulesets"])


@pytest.mark.parametrize("path", CASES[:4], ids=[p.name for p in CASES[:4]])
def test_the_same_case_rules_and_date_give_byte_identical_json(path: Path) -> None:
    first = assess(path, as_of=AS_OF).to_json()
    second = assess(str(path), as_of=dt.date.fromisoformat(AS_OF)).to_json()
    assert first == second


def test_a_path_a_dict_and_a_model_give_the_same_assessment() -> None:
    case = engine.load_case(CASES[0])
    as_model = assess(case, as_of=AS_OF)
    as_dict = assess(case.model_dump(mode="json", exclude_none=True), as_of=AS_OF)
    as_path = assess(CASES[0], as_of=AS_OF)
    assert as_model.to_json() == as_dict.to_json() == as_path.to_json()
    assert isinstance(as_model, Assessment)


def test_assess_dict_is_the_assessment_model_dumped() -> None:
    data = assess_dict(CASES[0], as_of=AS_OF)
    assert Assessment.model_validate(data).model_dump(mode="json") == data


def test_only_rules_in_force_on_the_as_of_date_fire_and_provenance_counts_them() -> None:
    rules = ruleset_of([
        rule("TST-001", {"fact": "location.country", "eq": "CN"}, effective_from=dt.date(2023, 11, 17)),
        rule("TST-002", {"fact": "location.country", "eq": "CN"}, effective_from=dt.date(2022, 10, 7),
             effective_to=dt.date(2023, 11, 16)),
    ])
    before = assess(FACILITY, rules=rules, as_of="2023-11-16")
    after = assess(FACILITY, rules=rules, as_of="2023-11-17")
    assert [f.rule_id for f in before.findings] == ["TST-002"]
    assert [f.rule_id for f in after.findings] == ["TST-001"]
    assert before.provenance.rulesets[0].rules_in_force == 1
    assert after.findings[0].effective.effective_from == "2023-11-17"


def test_a_scenario_swaps_a_rules_effective_window() -> None:
    rules = ruleset_of(
        [rule("TST-001", {"fact": "location.country", "eq": "CN"}, effective_from=dt.date(2026, 8, 2),
              scenarios={"delay": {"effective_from": dt.date(2027, 12, 2)}})],
        scenarios={"delay": {"title": "proposed delay", "basis": "advisory"}})
    assert [f.rule_id for f in assess(FACILITY, rules=rules, as_of="2026-09-01").findings] == ["TST-001"]
    assert assess(FACILITY, rules=rules, as_of="2026-09-01", scenario="delay").findings == []
    with pytest.raises(InputError, match="unknown scenario"):
        assess(FACILITY, rules=rules, as_of="2026-09-01", scenario="nope")


def test_an_absent_fact_is_reported_as_needs_information_not_as_false() -> None:
    rules = ruleset_of([rule("TST-001", {"fact": "facility.pue", "gt": 1.5}, dimension="overcapacity")])
    result = assess(FACILITY, rules=rules, as_of=AS_OF)
    assert result.findings == []
    assert [(n.rule_id, n.missing) for n in result.needs_information] == [("TST-001", ["facility.pue"])]


def test_a_finding_carries_evidence_for_every_condition_that_held_and_renders_its_message() -> None:
    rules = ruleset_of([rule("TST-001", {"all": [
        {"fact": "derived.destination_country", "in": ["CN", "MO"]},
        {"some": "accelerators", "where": {"all": [{"fact": "derived.tpp", "gte": 4800},
                                                  {"fact": "derived.datacenter", "eq": True}]}}]},
        message="{accelerators.model} × {accelerators.count} has TPP {accelerators.derived.tpp:,.0f}")])
    finding = assess(FACILITY, rules=rules, as_of=AS_OF).findings[0]
    assert finding.message == "A800 × 100 has TPP 4,992"
    assert [(e.fact, e.op, e.value, e.actual) for e in finding.evidence] == [
        ("derived.destination_country", "in", ["CN", "MO"], "CN"),
        ("accelerators[0].derived.tpp", "gte", 4800, 4992.0),
        ("accelerators[0].derived.datacenter", "eq", True, True),
    ]


def test_severity_floor_lifts_the_level_and_the_rating_names_the_driver() -> None:
    rules = ruleset_of(
        [rule("TST-001", {"fact": "location.country", "eq": "CN"}, severity="critical", points=5)],
        dimensions={"export_control": {"levels": {"medium": 20, "high": 50, "critical": 75},
                                       "severity_floor": True}})
    result = assess(FACILITY, rules=rules, as_of=AS_OF)
    assert result.dimensions["export_control"].level == "critical"
    assert result.dimensions["export_control"].score == 5
    assert result.rating == "critical"
    assert "TST-001" in result.explanation and "export_control" in result.explanation


def test_datasheet_tpp_takes_the_highest_precision_and_halves_sparsity() -> None:
    tpp, source = accelerator_tpp({"datasheet": [{"tops": 900.0, "bit_length": 16},
                                                 {"tops": 3957.8, "bit_length": 8, "sparsity": True}]})
    assert source == "datasheet"
    assert tpp == pytest.approx(3957.8 * 8 / 2)
    assert accelerator_tpp({"tpp": 2368, "datasheet": [{"tops": 1, "bit_length": 8}]}) == (2368.0, "stated")
    assert accelerator_tpp({}) == (None, None)


def test_derived_facts_come_from_the_data_tables_and_show_in_the_output() -> None:
    view = build_view(FACILITY)
    assert view["derived"]["hub_node"] == "Guizhou"
    assert view["derived"]["in_hub"] is True
    assert "D:5" in view["derived"]["destination_groups"]
    acc = view["accelerators"][0]["derived"]
    assert acc["tpp"] == pytest.approx(4992) and acc["performance_density"] == pytest.approx(4992 / 826)
    result = assess(FACILITY, rules=ruleset_of([rule("TST-001", {"fact": "kind", "eq": "facility"})]), as_of=AS_OF)
    assert result.derived["case"]["hub_node"] == "Guizhou"
    assert result.derived["accelerators"][0]["tpp"] == pytest.approx(4992)


def test_a_rule_whose_required_section_is_absent_is_not_assessed_rather_than_needing_information() -> None:
    rules = ruleset_of([
        rule("TST-001", {"fact": "ai_system.generative", "eq": True}, requires=["ai_system"], dimension="safety"),
        rule("TST-002", {"fact": "facility.pue", "gt": 1.5}, requires=["facility"], dimension="overcapacity"),
    ])
    result = assess(FACILITY, rules=rules, as_of=AS_OF)
    assert result.needs_information == []
    assert result.dimensions["safety"].not_assessed.rules == 1
    assert result.dimensions["safety"].not_assessed.missing_sections == ["ai_system"]
    with_section = assess({**FACILITY, "ai_system": {"purpose": "chat"}, "facility": {"pue": 1.6}}, rules=rules,
                          as_of=AS_OF)
    assert [n.rule_id for n in with_section.needs_information] == ["TST-001"]
    assert [f.rule_id for f in with_section.findings] == ["TST-002"]
    assert with_section.dimensions["safety"].not_assessed.rules == 0


def test_requires_must_name_a_section_of_the_case_model() -> None:
    from engine.errors import RulesetError

    with pytest.raises(RulesetError, match=r"unknown case section 'ai_sytem'.*did you mean 'ai_system'"):
        ruleset_of([rule("TST-001", {"fact": "ai_system.generative", "eq": True}, requires=["ai_sytem"])])
    with pytest.raises(RulesetError, match="is a single fact, not a section"):
        ruleset_of([rule("TST-001", {"fact": "ai_system.generative", "eq": True}, requires=["ai_system.generative"])])


def test_a_rule_that_applies_only_to_projects_is_silent_for_a_facility() -> None:
    rules = ruleset_of([rule("TST-001", {"fact": "location.country", "eq": "CN"}, applies_to=["project"])])
    assert assess(FACILITY, rules=rules, as_of=AS_OF).findings == []


def test_many_rules_on_distinct_facts_are_split_into_shards_that_stay_under_the_cores_limits() -> None:
    # 140 rules that can all match one fact at once would overflow durable's 64-deep stack (error 303).
    fields = ["ai_system.registered_users", "ai_system.monthly_active_users", "data.pi_subjects",
              "data.sensitive_pi_subjects", "data.transfer_pi_subjects_ytd", "facility.racks_built",
              "ai_system.genai_security.keyword_library_size"]
    many = [rule(f"TST-{i:03d}", {"fact": fields[i % len(fields)], "gte": i}) for i in range(140)]
    rules = ruleset_of(many)
    shards = compile_rules(rules.rules)
    assert len(shards) > 1
    case = {**FACILITY, "ai_system": {"registered_users": 10**6, "monthly_active_users": 10**6,
                                      "genai_security": {"keyword_library_size": 10**6}},
            "data": {"pi_subjects": 10**6, "sensitive_pi_subjects": 10**6, "transfer_pi_subjects_ytd": 10**6},
            "facility": {"racks_built": 10**6}}
    result = assess(case, rules=rules, as_of=AS_OF)
    assert len(result.findings) == 140


@given(st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=8))
@settings(max_examples=15, deadline=None)
def test_each_prefix_is_judged_as_a_fresh_build_of_it_in_any_order_of_tries(sizes: list[int]) -> None:
    # The compiler judges prefixes incrementally (galloping grows one model, bisecting builds
    # its own); each judgement must be what compiling that prefix from nothing gives.
    from collections import Counter

    from engine.match.compiler import AlphaBound, FactPlan, KeyMap, _Compiler, _pattern_exprs, _Prefixes, _rule_patterns

    active = tuple(r for r in load_rules().rules if r.in_force(AS_OF, None))
    order: Counter[str] = Counter()
    tries = _Prefixes(active, order)
    for size in sizes:
        n = 1 + size % len(active)
        plan = FactPlan(KeyMap("c"), {})
        comp, bound = _Compiler(plan), AlphaBound()
        for r in active[:n]:
            for expr in _pattern_exprs(_rule_patterns(r, comp, order)):
                bound.add(expr)
        width = max([plan.case.width(), *(km.width() for km in plan.lists.values())])
        assert tries.judge(n) == (bound.peak(), width), n


def test_the_compiled_limits_are_those_of_durable_rules() -> None:
    assert STACK_BUDGET < 64 and MAX_FACT_FIELDS == 252


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(min_value=-(2**80), max_value=2**80))
@settings(max_examples=300)
def test_numbers_are_written_in_a_form_the_core_parses_and_read_back_equal(value: float | int) -> None:
    text = number_json(value)
    assert "e" not in text or "." in text.split("e")[0]
    assert float(text) == pytest.approx(float(value), rel=1e-15)


def test_a_case_that_is_not_a_mapping_is_an_input_error_naming_the_problem() -> None:
    with pytest.raises(InputError, match="must be a mapping"):
        assess([1, 2, 3])  # type: ignore[arg-type]


def test_an_engine_is_reusable_across_dates_and_keeps_one_matcher_per_rule_set() -> None:
    rules = ruleset_of([rule("TST-001", {"fact": "location.country", "eq": "CN"})])
    eng = Engine(rules)
    case = engine.Case.model_validate(FACILITY)
    eng.assess_case(case, as_of="2024-01-01")
    eng.assess_case(case, as_of="2025-01-01")
    assert len(eng._matchers) == 1
    eng.assess_case(case, as_of="2020-01-01")
    assert len(eng._matchers) == 2
    eng.close()


def test_bundled_rules_load_and_every_rule_has_a_citation_and_a_window() -> None:
    rules = load_rules()
    assert len(rules.rules) > 50
    for r in rules.rules:
        assert r.citations and r.window.effective_from
        if r.basis == "binding":
            assert any(c.url and c.date for c in r.citations), r.id


def test_a_dimension_none_of_whose_rules_applies_is_reported_as_not_assessed() -> None:
    rules = ruleset_of([
        rule("TST-001", {"fact": "facility.pue", "gt": 1.5}, requires=["facility"], dimension="overcapacity"),
        rule("TST-002", {"fact": "location.country", "eq": "CN"}),
    ])
    project = {"id": "p", "kind": "project", "name": "P", "location": {"country": "CN"}}
    result = assess(project, rules=rules, as_of=AS_OF)
    assert result.dimensions["overcapacity"].assessed is False
    assert result.dimensions["overcapacity"].missing_facts == []
    assert result.dimensions["export_control"].assessed is True
    facility = assess({**project, "kind": "facility", "facility": {"pue": 1.2}}, rules=rules, as_of=AS_OF)
    assert facility.dimensions["overcapacity"].assessed is True


# --------------------------------------------------------------------------- the output shape, defined once


def _objects(model: Any, data: Any) -> list[tuple[str, list[str], tuple[str, ...]]]:
    """(model name, the data's keys, the model's fields) for every output object in ``data``."""
    import typing

    from pydantic import BaseModel

    from engine.assessment.result import MODELS
    from engine.assessment.shape import OPTIONAL

    optional = OPTIONAL.get(model.__name__, {})  # declared, and present only when asked for (``upcoming``)
    fields = tuple(f.alias or k for k, f in model.model_fields.items() if k not in optional or k in data)
    found = [(model.__name__, list(data), fields)]
    for name, field in model.model_fields.items():
        value = data.get(field.alias or name)
        stack = [(field.annotation, value)]
        while stack:
            annotation, item = stack.pop()
            if item is None:
                continue
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                assert annotation.__name__ in MODELS
                found.extend(_objects(annotation, item))
                continue
            args = typing.get_args(annotation)
            origin = typing.get_origin(annotation)
            if origin is list:
                stack.extend((args[0], x) for x in item)
            elif origin is dict:
                stack.extend((args[1], x) for x in item.values())
            else:
                stack.extend((a, item) for a in args if a is not type(None))
    return found


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_every_output_object_has_exactly_its_models_fields_in_order(path: Path) -> None:
    from engine.source.safeyaml import load_file

    out = assess_dict(load_file(str(path)).data, as_of=AS_OF)
    objects = _objects(Assessment, out)
    assert {name for name, _, _ in objects} >= {"Assessment", "DimensionResult", "Finding", "TierResult",
                                                 "NotAssessed", "Provenance", "Coverage", "Bounds"}
    for name, keys, fields in objects:
        assert tuple(keys) == fields, name


def test_a_model_field_the_shape_lacks_or_a_shape_field_the_model_lacks_fails() -> None:
    from pydantic import create_model

    from engine.assessment import result
    from engine.assessment.shape import SHAPES

    result.conform(result.MODELS, SHAPES)
    wider = create_model("Duty", __base__=result.Duty, note=(str | None, None))
    with pytest.raises(TypeError, match="Duty declares"):
        result.conform({**result.MODELS, "Duty": wider}, SHAPES)
    with pytest.raises(TypeError, match="Duty declares"):
        result.conform(result.MODELS, {**SHAPES, "Duty": (*SHAPES["Duty"], "note")})
    with pytest.raises(TypeError, match="differ"):
        result.conform({k: v for k, v in result.MODELS.items() if k != "Duty"}, SHAPES)


def test_an_object_built_without_a_field_of_its_shape_or_with_one_it_lacks_fails() -> None:
    from engine.assessment.shape import DUTY, ShapeError, shaped

    assert list(shaped(DUTY, deadline=None, obligation="o", jurisdiction="j")) == list(DUTY)
    with pytest.raises(ShapeError, match="missing \\['deadline'\\]"):
        shaped(DUTY, obligation="o", jurisdiction="j")
    with pytest.raises(ShapeError, match="not in the shape \\['note'\\]"):
        shaped(DUTY, obligation="o", jurisdiction="j", deadline=None, note="n")
    with pytest.raises(ShapeError, match="missing \\['deadline'\\], not in the shape \\['note'\\]"):
        shaped(DUTY, obligation="o", jurisdiction="j", note="n")


def test_the_results_canonical_json_is_the_json_renderers() -> None:
    from engine.assessment.shape import canonical_json
    from engine.render.formats import render_json

    out = assess_dict(FACILITY, as_of=AS_OF)
    assert canonical_json(out) == render_json(out)
    assert canonical_json(out, indent=False) == render_json(out, indent=False)
