"""Generated schemas: no drift from their sources; example cases fit the case schema."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from engine.authoring.schemas import NAMES, main, schema, text
from engine.ruleset.parse import plain_data
from engine.source.safeyaml import load_file

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", NAMES)
def test_committed_schema_matches_what_the_models_generate(name: str) -> None:
    committed = (ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")
    assert committed == text(name), "schema drift: run `python -m engine.authoring.schemas` and commit"


def test_schema_check_mode_reports_no_drift() -> None:
    assert main(["--check"]) == 0


@pytest.mark.parametrize("path", sorted((ROOT / "cases").glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_case_fits_the_case_schema(path: Path) -> None:
    data = load_file(str(path)).data
    jsonschema.validate(plain_data(data), schema("case"))


@pytest.mark.parametrize("path", sorted(p for p in (ROOT / "rulesets").glob("*.yaml")
                                        if not p.name.endswith(".tests.yaml") and p.name != "sources.yaml"),
                         ids=lambda p: p.name)
def test_every_bundled_ruleset_fits_the_ruleset_schema(path: Path) -> None:
    jsonschema.validate(plain_data(load_file(str(path)).data), schema("ruleset"))


def test_the_shared_sources_file_fits_the_sources_schema() -> None:
    from engine.ruleset.schema import SOURCES_SCHEMA

    jsonschema.validate(plain_data(load_file(str(ROOT / "rulesets" / "sources.yaml")).data), SOURCES_SCHEMA)
