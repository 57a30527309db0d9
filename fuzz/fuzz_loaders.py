"""Fuzz target: bytes → safe YAML/JSON loader → case or ruleset validation → assessment.

The property: every input either loads (and assesses) or raises an
``AiriskError`` whose problems name the input; never any other exception,
never a crash of the process (a segmentation fault in the matching core is
exactly what this is for). See fuzz/README.md for how to run it.

Run with atheris (coverage-guided):  python fuzz/fuzz_loaders.py fuzz/corpus -max_total_time=600
Without atheris, ``tests/test_fuzz_loaders.py`` drives ``one_input`` with mutated seeds.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Small but representative limits: the fuzzer explores shapes, not sizes.
_LIMITS_KW = {"max_bytes": 256 * 1024, "max_line_bytes": 64 * 1024, "max_nodes": 20_000}
_state: dict[str, Any] = {}
_SAMPLE_CASES = ("ts-frontier-model.yaml", "oc-guizhou-hub-h20.yaml")


def _setup() -> dict[str, Any]:
    if not _state:
        from engine.assessment.engine import engine_for
        from engine.ruleset.load import load_rules
        from engine.source.safeyaml import Limits

        _state["limits"] = Limits(**_LIMITS_KW)
        _state["engine"] = engine_for(load_rules())
        from engine.case.validation import load_case_file

        _state["cases"] = [load_case_file(ROOT / "cases" / n) for n in _SAMPLE_CASES]
    return _state


class FuzzFailure(AssertionError):
    """An input broke the property (raised so that atheris records the input)."""


def _check_error(exc: Any, name: str) -> None:
    if not exc.problems:
        raise FuzzFailure(f"{type(exc).__name__} without problems")
    for p in exc.problems:
        text = str(p)  # must render
        if p.file is None and p.code not in ("engine_disagreement",):
            raise FuzzFailure(f"problem without a file: {text}")


def _ruleset(ruleset: Any, state: dict[str, Any]) -> None:
    """Compile a ruleset that validated and assess the sample cases with it: the matching
    core must accept whatever the validator lets through (or a located RulesetError)."""
    from engine.assessment.engine import Engine
    from engine.errors import RulesetError
    from engine.ruleset.load import combine

    engine = Engine(combine([ruleset]))
    try:
        for case in state["cases"]:
            for as_of in ("2024-06-01", "2026-11-22"):
                try:
                    if ruleset.input == "case":
                        engine.assess_case(case, as_of=as_of)
                    else:
                        engine.assess_data(case.model_dump(mode="json", exclude_none=True), as_of=as_of)
                except RulesetError as exc:  # a core limit, reported against the rule
                    _check_error(exc, "fuzz.yaml")
                    return
    finally:
        engine.close()


def one_input(data: bytes) -> None:
    """Load, validate and assess one input; raise only on a broken property."""
    from engine.case.validation import case_from_data
    from engine.errors import AiriskError
    from engine.ruleset.parse import parse_ruleset
    from engine.source.safeyaml import load_text

    state = _setup()
    name = "fuzz.yaml"
    try:
        doc = load_text(data, name, state["limits"])
    except AiriskError as exc:
        _check_error(exc, name)
        return
    try:
        if isinstance(doc.data, dict) and "ruleset" in doc.data:
            _ruleset(parse_ruleset(doc), state)
            return
        case = case_from_data(doc.data, file=name, doc=doc)
    except AiriskError as exc:
        _check_error(exc, name)
        return
    for as_of in ("2024-06-01", "2026-11-22"):
        try:
            state["engine"].assess_case(case, as_of=as_of)
        except AiriskError as exc:  # a valid case must assess
            raise FuzzFailure(f"a valid case did not assess: {exc}") from exc


def main(argv: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["engine"]):
        pass
    _setup()
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
