"""The choice/circumstance table covers the case model (issue 16)."""

from __future__ import annotations

from engine.factspec import catalogue
from engine.levers import CHOICES, DERIVED_SOURCES, lever, sources


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
