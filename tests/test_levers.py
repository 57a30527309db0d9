"""The choice/circumstance table covers the case model (issue 16)."""

from __future__ import annotations

from engine.assessment.levers import CHOICES, lever, sources
from engine.case.factspec import catalogue
from engine.derive.view import DERIVED_SOURCES


def _case_facts() -> set[str]:
    cat = catalogue()
    facts = {".".join(p) for p in cat.case if p[0] != "derived"}
    for list_path, items in cat.items.items():
        facts |= {".".join((*list_path, *p)) for p in items if p[0] != "derived"}
    return facts


def test_every_choice_names_a_fact_of_the_case_model() -> None:
    assert _case_facts() >= CHOICES, sorted(CHOICES - _case_facts())


def test_every_case_fact_is_a_choice_or_by_default_a_circumstance() -> None:
    for fact in _case_facts():
        assert lever(fact) in ("choice", "circumstance")
    assert lever("accelerators[3].tpp") == "circumstance"
    assert lever("parties[1].ultimate_parent_country") == "choice"


def test_every_derived_fact_names_the_case_facts_it_comes_from() -> None:
    cat = catalogue()
    derived = {".".join(p) for p in cat.case if p[0] == "derived" and len(p) > 1}
    for list_path, items in cat.items.items():
        derived |= {".".join((*list_path, *p)) for p in items if p[0] == "derived" and len(p) > 1}
    assert set(DERIVED_SOURCES) <= derived
    for targets in DERIVED_SOURCES.values():
        assert set(targets) <= _case_facts()
    assert sources("accelerators[0].derived.tpp") == ("accelerators[0].tpp", "accelerators[0].datasheet")


def _described_conclusions() -> set[str]:
    """Every case field the case model describes as the user's own conclusion."""
    from typing import get_args

    from pydantic import BaseModel

    from engine.case.model import Case

    found: set[str] = set()

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            if "the user's own conclusion" in (field.description or ""):
                found.add(prefix + name)
            stack = [field.annotation]
            while stack:
                t = stack.pop()
                if isinstance(t, type) and issubclass(t, BaseModel):
                    walk(t, f"{prefix}{name}.")
                else:
                    stack.extend(get_args(t))

    walk(Case, "")
    return found


def test_conclusions_are_every_field_described_as_the_users_own_conclusion() -> None:
    from engine.assessment.levers import CONCLUSIONS

    assert _described_conclusions() == CONCLUSIONS


def test_no_rating_range_or_information_request_rests_on_an_unstated_conclusion() -> None:
    """Facts, not conclusions: an absent conclusion is "not stated", never a decisive unknown
    nor a fact to collect, for the example cases and generated ones."""
    from benchmarks.gen_cases import generate, templates
    from engine import assess_many
    from engine.assessment.levers import is_conclusion

    cases = templates() + list(generate(150, seed=3))
    for case in cases:
        for field in ("annex_iii_area", "article5_practices"):
            case.get("ai_system", {}).pop(field, None)
    checked = 0
    for rec in assess_many(cases, as_of="2026-12-01"):
        result = rec["assessment"]
        facts = [u["fact"] for u in result["decisive_unknowns"]]
        for dim in result["dimensions"].values():
            facts += [u["fact"] for u in dim.get("decisive_unknowns") or []]
        for need in result["needs_information"]:
            facts += need["missing"]
        assert not [f for f in facts if is_conclusion(f)], result["case_id"]
        checked += bool(facts)
    assert checked > 20
