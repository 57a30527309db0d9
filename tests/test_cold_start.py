"""Cold start: what a short run avoids loading, and the compiled case check that lets it.

``engine.case.validation.plain_case`` accepts a case without pydantic when the cached plan (the case
model's public field annotations and constraints, translated by engine.case.fastcheck) accepts it;
these tests hold the plan to the case model: for
everything the plan accepts, the model accepts it too and dumps the same data. Nothing here
measures time.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.case import checks, fastcheck
from engine.case.fastcheck import Reject, build_plan, model_plan, run
from engine.case.validation import case_from_data, plain_case
from engine.errors import InputError
from engine.source.safeyaml import load_file

ROOT = Path(__file__).resolve().parents[1]
CASES = sorted((ROOT / "cases").glob("*.yaml"))
PLAN = build_plan()


def model_dump(data: Any) -> Any:
    """What the case model makes of ``data``: its JSON dump, or the InputError's problems."""
    try:
        return case_from_data(data).model_dump(mode="json", exclude_none=True)
    except InputError as exc:
        return ("error", [str(p) for p in exc.problems])


def plan_dump(data: Any) -> Any:
    try:
        return run(PLAN, data)  # type: ignore[arg-type]
    except (Reject, ValueError, TypeError, OverflowError):
        return None


def test_the_case_model_compiles_to_a_plan() -> None:
    # If this fails, the case model uses something the plan does not follow: every case then goes
    # through pydantic (correct, but ~0.1 s slower to start). Teach engine/case/validation.py the new node.
    assert PLAN is not None
    assert PLAN[0] == "model"


def test_the_plan_is_built_from_the_models_public_surface_only() -> None:
    # No private module of pydantic, no qualname, no bytecode: the plan builder names none of them.
    source = Path(fastcheck.__file__).read_text()
    for private in ("_internal", "__code__", "co_code", "__qualname__", "__pydantic_core_schema__"):
        assert private not in source


def test_the_plans_validators_are_the_case_models_own_functions() -> None:
    def names(plan: Any) -> set[str]:
        found = {plan[1]} if plan[0] in ("before", "after") else set()
        for part in plan[1:]:
            if isinstance(part, tuple):
                for item in part:
                    if isinstance(item, tuple) and item and isinstance(item[0], str):
                        found |= names(item)
                    elif isinstance(item, tuple) and len(item) == 3 and isinstance(item[2], tuple):
                        found |= names(item[2])  # a model's (name, default, plan)
        return found

    assert PLAN is not None
    assert names(PLAN) == set(checks.CHECKS)


def _model_with(annotation: Any, default: Any = None) -> Any:
    from pydantic import create_model

    from engine.case.types import STRICT_MODEL

    return create_model("Probe", __config__=STRICT_MODEL, value=(annotation, default))


def test_a_validator_that_is_not_one_of_the_case_checks_means_no_plan() -> None:
    from typing import Annotated

    from pydantic import AfterValidator, BeforeValidator, PlainValidator, WrapValidator

    def country_code(value: str) -> str:  # same name and body as the real one, not the same function
        return checks.country_code(value)

    for meta in (AfterValidator(country_code), BeforeValidator(str.strip), PlainValidator(str),
                 WrapValidator(lambda v, h: h(v))):
        with pytest.raises(fastcheck.Unsupported):
            model_plan(_model_with(Annotated[str, meta] | None))
    assert model_plan(_model_with(Annotated[str, AfterValidator(checks.country_code)] | None))


def test_model_features_the_plan_does_not_follow_mean_no_plan() -> None:
    from typing import Annotated

    from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

    from engine.case.types import STRICT_MODEL

    class Validated(BaseModel):
        model_config = STRICT_MODEL
        value: str | None = None

        @field_validator("value")
        @classmethod
        def _upper(cls, v: str | None) -> str | None:
            return v

    class Aliased(BaseModel):
        model_config = STRICT_MODEL
        value: str | None = Field(None, alias="Value")

    class Stripping(BaseModel):
        model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
        value: str | None = None

    for model in (Validated, Aliased, Stripping, _model_with(int | str), _model_with(list[str], [])):
        with pytest.raises(fastcheck.Unsupported):
            model_plan(model)
    with pytest.raises(fastcheck.Unsupported):  # a pattern Python's re might read differently
        model_plan(_model_with(Annotated[str, StringConstraints(pattern=r"^\w+$")] | None))
    assert model_plan(_model_with(Annotated[str, StringConstraints(pattern=r"^[a-z]+$")] | None))


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_the_plan_accepts_every_example_case_with_the_models_dump(path: Path) -> None:
    data = load_file(str(path)).data
    got = plan_dump(data)
    assert got is not None
    assert orjson.dumps(got) == orjson.dumps(model_dump(data))


@pytest.mark.parametrize("data", [
    {"id": "x", "kind": "project"},                                        # name missing
    {"id": "x", "kind": "project", "name": "n", "colour": "red"},           # unknown field
    {"id": "x", "kind": "project", "name": "n", "location": {"country": "cn"}},
    {"id": "x", "kind": "project", "name": "n", "facility": {"pue": "1.3"}},
    {"id": "x", "kind": "project", "name": "n", "facility": {"pue": True}},
    {"id": "x", "kind": "project", "name": "n", "facility": {"accelerator_utilisation": 1.5}},
    {"id": "x\n", "kind": "project", "name": "n"},
    {"id": "x", "kind": "service", "name": "n"},
    {"id": "x", "kind": "project", "name": ""},
    {"id": "x", "kind": "project", "name": "a\x1bb"},
    {"id": "x", "kind": "project", "name": "n", "tags": ["t"] * 65},
    {"id": "x", "kind": "project", "name": "n", "facility": {"commissioning_date": "2024-02-30"}},
    ["not", "a", "mapping"],
])
def test_what_the_plan_refuses_gets_the_case_models_errors(data: Any) -> None:
    assert plan_dump(data) is None
    with pytest.raises(InputError) as via_plan:
        plain_case(data, file="c.yaml")
    with pytest.raises(InputError) as via_model:
        case_from_data(data, file="c.yaml")
    assert [str(p) for p in via_plan.value.problems] == [str(p) for p in via_model.value.problems]


def test_values_the_plan_does_not_follow_are_left_to_the_model() -> None:
    base = {"id": "x", "kind": "facility", "name": "n"}
    # A tuple is a valid list for pydantic, and an int is a valid fraction: the plan takes the first
    # to the model, and converts the second exactly as the model does.
    data = {**base, "tags": ("a", "b"), "facility": {"accelerator_utilisation": 1}}
    assert plan_dump(data) is None
    assert plain_case(data) == model_dump(data)
    data = {**base, "facility": {"accelerator_utilisation": 1, "commissioning_date": dt.date(2024, 2, 29)}}
    assert plan_dump(data) == model_dump(data)
    assert plain_case(data)["facility"] == {"accelerator_utilisation": 1.0, "commissioning_date": "2024-02-29"}


# --------------------------------------------------------------------------- differential


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0, 1, 0.5, 2**53, 2**53 + 1, -1, 1e300]),
    st.text(max_size=8), st.sampled_from(["CN", "cn", "USA", "", " ", "a\u0301", "\u00e1", "x\n", "\ud800",
                                          "2024-02-29", "2023-02-29", "project", "facility", "yes", "high",
                                          "abc-1.2:3", "Abc"]),
    st.dates(), st.datetimes(),
)
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                       max_leaves=6)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*prefix, i)))
    return out


_DOCS = [load_file(str(p)).data for p in CASES]


@st.composite
def _mutated(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(draw(st.sampled_from(_DOCS)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(data)[1:]
        path = draw(st.sampled_from(paths))
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["set", "delete", "add", "nudge", "nudge"]))
        old = parent[path[-1]]
        if action == "nudge":  # a value of the same type, often near a bound: mostly valid
            if isinstance(old, bool):
                parent[path[-1]] = not old
            elif isinstance(old, int):
                parent[path[-1]] = draw(st.sampled_from([-1, 0, 1, old + 1, 2**53, 2**53 + 1, float(old)]))
            elif isinstance(old, float):
                parent[path[-1]] = draw(st.one_of(st.floats(min_value=-0.5, max_value=1.5), st.integers(-1, 2)))
            elif isinstance(old, str):
                parent[path[-1]] = old + draw(st.sampled_from(["", "\u0301", "é", "e\u0301", " ", "\t", "\x7f",
                                                               "-x", "X", "\n", "a" * 500]))
            elif isinstance(old, dt.date):
                parent[path[-1]] = draw(st.sampled_from([old.isoformat(), "2024-02-29", "2023-02-29", "2024-1-01"]))
            continue
        if action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from([*[str(k) for k in parent], "extra", "notes"]))] = draw(_VALUES)
        else:
            parent[path[-1]] = draw(_VALUES)
    return data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_whatever_the_plan_accepts_the_model_accepts_with_the_same_dump(data: Any) -> None:
    got = plan_dump(data)
    if got is not None:
        assert orjson.dumps(got) == orjson.dumps(model_dump(data))


# --------------------------------------------------------------------------- what a short run loads


_PROBE = """
import sys, runpy
sys.argv = ["airisk", *sys.argv[1:]]
try:
    runpy.run_module("engine.cli", run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted(m for m in ("pydantic", "yaml", "jsonschema", "click.testing") if m in sys.modules)
sys.stderr.write("LOADED " + ",".join(heavy) + "\\n")
"""


def _loaded(args: list[str], cache: Path, stdin: bytes = b"") -> tuple[str, bytes]:
    env = {**os.environ, "AIRISK_CACHE_DIR": str(cache)}
    env.pop("AIRISK_NO_CACHE", None)
    proc = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, check=False)
    line = [x for x in proc.stderr.decode().splitlines() if x.startswith("LOADED ")]
    assert line, proc.stderr.decode()
    return line[-1].removeprefix("LOADED "), proc.stdout


def test_a_warm_one_case_assess_loads_neither_pydantic_nor_jsonschema(tmp_path: Path) -> None:
    args = ["assess", "cases/guizhou-icc.yaml", "--format", "json", "--as-of", "2026-11-22"]
    cold, first = _loaded(args, tmp_path / "cache")
    warm, second = _loaded(args, tmp_path / "cache")
    assert "pydantic" in cold  # the first run builds the cache (and the plan) from the model
    assert warm == "yaml"  # the case file is YAML; nothing else heavy
    assert first == second
    env = {**os.environ, "AIRISK_NO_CACHE": "1"}
    fresh = subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=ROOT, env=env, capture_output=True,
                           check=True).stdout
    assert fresh == first


def test_a_warm_batch_on_a_document_ruleset_loads_no_yaml_pydantic_or_jsonschema(tmp_path: Path) -> None:
    rules = tmp_path / "doc.yaml"
    rules.write_text(
        "ruleset: {id: d, version: '1', title: D, input: document}\n"
        "rules:\n"
        "  - id: DOC-001\n    title: Big\n    dimension: overcapacity\n    severity: high\n    points: 10\n"
        "    basis: heuristic\n    effective_from: 2020-01-01\n    when: {fact: pue, gt: 1.5}\n"
        "    message: m\n    citations: [{instrument: test, confidence: S}]\n")
    args = ["batch", "--no-bundled", "--rules", str(rules), "--as-of", "2026-11-22", "--no-progress", "--workers", "1"]
    _loaded(args, tmp_path / "cache")
    warm, out = _loaded(args, tmp_path / "cache")
    assert warm == ""
    assert out == b""
    warm, out = _loaded(args, tmp_path / "cache", stdin=b'{"id": "a", "pue": 1.6}\n')
    assert warm == ""
    assert orjson.loads(out)["assessment"]["findings"][0]["rule_id"] == "DOC-001"
