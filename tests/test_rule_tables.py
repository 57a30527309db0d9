"""Every bundled rule table runs in CI, one pytest case per table test.

The tables are ``rulesets/*.tests.yaml`` (format: docs/rule-language.md). They
run through ``engine.authoring.tabletests`` once per session; each parametrised case then
asserts its own result, so a failure names the table, line and test. The
bundled rules must be fully covered: every rule proven to fire by some test and
proven to stay silent (decided, not needing information) by another.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path

import pytest

from engine.authoring.tabletests import Report, RuleTestResult, load_table, run, table_files
from engine.errors import AiriskError
from engine.source.resources import bundled

RULESETS = bundled("rulesets")


def _collect() -> list[pytest.ParameterSet]:
    params = []
    for file in table_files([RULESETS]):
        try:
            table = load_table(file)
        except AiriskError as exc:
            params.append(pytest.param(None, str(file), str(exc), id=f"{file.name}::<malformed table>"))
            continue
        for t in table.tests:
            params.append(pytest.param(t.test_id, str(file), None, id=f"{Path(t.file).name}::{t.name}"))
    return params


@lru_cache(maxsize=1)
def _report() -> Report:
    return run([RULESETS])


@cache
def _file_results(file: str) -> dict[str, RuleTestResult]:
    """One table's results: a test worker runs only the tables of the tests it was given (the
    whole run, for coverage, happens once, in the worker that runs the coverage tests)."""
    report = _report() if _report.cache_info().currsize else run([file])
    return {r.test.test_id: r for r in report.results}


@pytest.mark.parametrize(("test_id", "file", "table_error"), _collect())
def test_a_table_test_holds(test_id: str | None, file: str, table_error: str | None) -> None:
    if table_error is not None:
        pytest.fail(
            f"the test table is malformed (fix it in the table; its owner knows the rules):\n{table_error}"
        )
    result = _file_results(file).get(test_id or "")
    assert result is not None, (
        f"{test_id} was collected but did not run; table problems: {_report().problems}"
    )
    if result.error:
        pytest.fail(f"{result.test.location}: {result.test.name}\n  {result.error}")
    assert result.passed, f"{result.test.location}: {result.test.name}\n  " + "\n  ".join(result.failures)


def test_every_bundled_table_loads_and_names_a_bundled_ruleset() -> None:
    problems = _report().problems
    assert not problems, "\n".join(str(p) for p in problems)


def test_every_bundled_rule_is_proven_to_fire_and_to_stay_silent() -> None:
    report = _report()
    assert report.coverage, "no bundled rules were found"
    missing = [
        f"{c.rule_id} ({c.ruleset}): "
        + ", ".join(
            what for what, ok in (("never fired", c.fired_by), ("never proven silent", c.silent_by)) if not ok
        )
        for c in report.coverage
        if not c.covered
    ]
    assert report.coverage_percent() == 100.0, (
        "rules not fully covered by rulesets/*.tests.yaml:\n" + "\n".join(missing)
    )


def test_every_bundled_ruleset_has_a_test_table() -> None:
    tested = {t.ruleset for t in _report().tables}
    rulesets = {c.ruleset for c in _report().coverage}
    assert rulesets <= tested, f"rulesets with no *.tests.yaml: {sorted(rulesets - tested)}"
