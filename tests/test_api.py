"""The public API (``engine.api``, re-exported by ``engine``): the input decisions the CLI used to make."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

import engine
from engine import api
from engine.errors import InputError
from engine.render import render

ROOT = Path(__file__).resolve().parents[1]
CASE = str(ROOT / "cases" / "guizhou-icc.yaml")
AS_OF = "2026-11-22"
DOC_RULES = (
    "ruleset: {id: d, version: '1', title: D, input: document}\n"
    "rules:\n"
    "  - id: DOC-001\n    title: Big\n    dimension: overcapacity\n    severity: high\n    points: 10\n"
    "    basis: heuristic\n    effective_from: 2020-01-01\n    when: {fact: pue, gt: 1.5}\n"
    "    message: m\n    citations: [{instrument: test, confidence: S}]\n")


def test_every_public_name_of_engine_resolves_and_the_functions_are_the_apis() -> None:
    for name in engine.__all__:
        assert getattr(engine, name) is not None
    for name in api.__all__:
        assert getattr(engine, name) is getattr(api, name)


def test_importing_engine_loads_neither_the_api_nor_the_models() -> None:
    code = ("import sys, engine; print(sorted(m for m in ('engine.api', 'engine.source.safeyaml', "
            "'engine.render.registry', 'pydantic', 'jsonschema') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_assess_files_reports_every_problem_of_every_file_at_once(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: c1\nkind: facility\nname: X\nfacility:\n  pue: '1.4'\n")
    with pytest.raises(InputError) as info:
        api.assess_files([str(bad), str(tmp_path / "missing.yaml"), CASE], as_of=AS_OF)
    files = [p.file for p in info.value.problems]
    assert str(bad) in files and str(tmp_path / "missing.yaml") in files and CASE not in files


def test_assess_files_gives_the_library_assessment_and_what_if_adds_what_changed() -> None:
    [plain] = api.assess_files([CASE], as_of=AS_OF)
    assert render("json", plain) == render("json", engine.assess_dict(CASE, as_of=AS_OF))
    [changed] = api.assess_files([CASE], as_of=AS_OF, sets=["facility.pue=1.1"])
    assert plain.get("what_if") is None and changed["what_if"]["set"] == {"facility.pue": 1.1}


def test_a_document_ruleset_takes_free_form_data_from_a_file_or_stdin(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    rules = tmp_path / "doc.yaml"
    rules.write_text(DOC_RULES)
    data = tmp_path / "d.yaml"
    data.write_text("id: a\npue: 1.6\n")
    [from_file] = api.assess_files([str(data)], [str(rules)], AS_OF)
    assert [f["rule_id"] for f in from_file["findings"]] == ["DOC-001"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"id": "a", "pue": 1.6}')))
    [from_stdin] = api.assess_files(["-"], api.load_rules([str(rules)]), AS_OF)
    assert from_stdin["findings"] == from_file["findings"]


def test_counterfactuals_take_a_read_document_as_they_take_its_path() -> None:
    doc = api.read_document(CASE)
    assert api.counterfactuals(doc, as_of=AS_OF) == api.counterfactuals(CASE, as_of=AS_OF)
