"""Table-driven rule tests: load ``*.tests.yaml``, run them, measure coverage.

A test table sits beside its ruleset (``rulesets/NAME.tests.yaml``) and lists
cases with what must happen to them (format: ``docs/rule-language.md``)::

    ruleset: overcapacity
    tests:
      - name: Utilisation of 49% fires the 50% benchmark
        case_file: ../cases/oc-eastern-70pct.yaml
        set: {facility.accelerator_utilisation: 0.49}
        as_of: 2026-11-22
        expect: {fires: [OVC-001], silent: [OVC-002]}

Each table runs against its ruleset alone, loaded from the table's directory,
so a table tests one ruleset and a broken neighbour cannot fail it. A rule is
*covered* when a test proves it fires and a test proves it stays silent.
``silent`` means the rule did not fire; for coverage it must also have been
decided (not left needing information), so the false branch was exercised. ``run`` returns every result and
the coverage; ``junit_xml`` renders them for CI systems.
"""

from __future__ import annotations

import datetime as dt
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from engine.authoring.tableload import case_roots, display_path, load_table, table_files
from engine.authoring.tablemodel import TABLE_SUFFIX, Expect, Report, RuleCoverage, RuleTable, RuleTest, RuleTestResult
from engine.errors import AiriskError, InputError, Problem, did_you_mean
from engine.ruleset.model import Rule, RuleSet, Ruleset
from engine.source.safeyaml import load_file

__all__ = ["TABLE_SUFFIX", "Expect", "Report", "RuleCoverage", "RuleTable", "RuleTest", "RuleTestResult",
           "case_roots", "junit_xml", "load_table", "render_text", "run", "run_test", "table_files"]


# --------------------------------------------------------------------------- running


class _Rulesets:
    """Rulesets found beside the tables, loaded once each, by id."""

    def __init__(self) -> None:
        self._by_dir: dict[Path, dict[str, Path]] = {}
        self._loaded: dict[Path, RuleSet | AiriskError] = {}
        self.engines: dict[Path, Any] = {}

    def index(self, directory: Path) -> dict[str, Path]:
        from engine.ruleset.load import RULESET_LIMITS, ruleset_files

        directory = directory.resolve()
        if directory not in self._by_dir:
            found: dict[str, Path] = {}
            for f in ruleset_files([directory]):
                try:
                    data = load_file(str(f), RULESET_LIMITS).data
                except AiriskError:
                    continue
                header = data.get("ruleset") if isinstance(data, dict) else None
                if isinstance(header, dict) and isinstance(header.get("id"), str) and "rules" in data:
                    found.setdefault(header["id"], f)
            self._by_dir[directory] = found
        return self._by_dir[directory]

    def load(self, path: Path) -> Ruleset:
        return self._load(path).rulesets[0]

    def _load(self, path: Path) -> RuleSet:
        from engine.ruleset.load import load_one_cached

        if path not in self._loaded:
            try:
                self._loaded[path] = load_one_cached(path, display_path(path))
            except AiriskError as exc:
                self._loaded[path] = exc
        got = self._loaded[path]
        if isinstance(got, AiriskError):
            raise got
        return got

    def engine(self, path: Path) -> Any:
        from engine.assessment.engine import Engine

        if path not in self.engines:
            self.engines[path] = Engine(self._load(path))  # keyed by content: compiled matchers are cached
        return self.engines[path]

    def close(self) -> None:
        for engine in self.engines.values():
            engine.close()
        self.engines.clear()


def _why_not_fired(rule: Rule, result: dict[str, Any], scenario: str | None) -> str:
    day = result["provenance"]["as_of"]
    needs = {n["rule_id"]: n for n in result["needs_information"]}
    if rule.id in needs:
        return f"it needs information (missing: {', '.join(needs[rule.id]['missing'])})"
    if not rule.in_force(day, scenario):
        w = rule.window_for(scenario)
        return (
            f"it is not in force on {day} (in force {w.effective_from} to {w.effective_to or 'open-ended'})"
        )
    kind = result.get("kind")
    if kind and kind not in rule.applies_to:
        return f"it does not apply to a {kind} (applies to {', '.join(rule.applies_to)})"
    return "its condition is false"


def _check(test: RuleTest, ruleset: Ruleset, result: dict[str, Any]) -> RuleTestResult:
    out = RuleTestResult(test)
    day = test.as_of or dt.date.today().isoformat()
    by_id = {r.id: r for r in ruleset.rules if r.in_force(day, test.scenario)}
    by_id = {r.id: r for r in ruleset.rules if r.id not in by_id} | by_id  # the dated variant in force
    fired = {f["rule_id"]: f for f in result["findings"]}
    needs = {n["rule_id"]: n for n in result["needs_information"]}
    exp = test.expect
    for rid in (*exp.fires, *exp.silent, *exp.needs_information):
        if rid not in by_id:
            hint = did_you_mean(rid, by_id)
            out.failures.append(f"no rule {rid!r} in ruleset {ruleset.id}" + (f" ({hint})" if hint else ""))
    for rid in exp.fires:
        if rid not in by_id:
            continue
        if rid in fired:
            out.proven_fires.add(rid)
        else:
            out.failures.append(
                f"expected {rid} to fire; it did not: {_why_not_fired(by_id[rid], result, test.scenario)}"
            )
    for rid in exp.silent:
        if rid not in by_id:
            continue
        if rid in fired:
            out.failures.append(f"expected {rid} to stay silent; it fired: {fired[rid]['message']}")
        elif rid not in needs:
            # Silent while needing information passes, but proves nothing about the false branch.
            out.proven_silent.add(rid)
    for rid in exp.needs_information:
        if rid not in by_id or rid in needs:
            continue
        state = (
            "it fired"
            if rid in fired
            else f"it was decided: {_why_not_fired(by_id[rid], result, test.scenario)}"
        )
        out.failures.append(f"expected {rid} to need information; {state}")
    for dim, level in exp.level.items():
        got = result["dimensions"].get(dim)
        if got is None or got["level"] != level:
            detail = (
                f"{got['level']} (score {got['score']:g}; drivers: {', '.join(got['drivers']) or 'none'})"
                if got
                else "no such dimension"
            )
            out.failures.append(f"expected {dim} level {level}; got {detail}")
    tiers = {scheme: t for d in result["dimensions"].values() for scheme, t in d["tiers"].items()}
    for scheme, tier in exp.tier.items():
        got_tier = tiers.get(scheme)
        if got_tier is None:
            hint = did_you_mean(scheme, tiers)
            out.failures.append(
                f"no tier scheme {scheme!r} in ruleset {ruleset.id}" + (f" ({hint})" if hint else "")
            )
        elif got_tier["tier"] != tier:
            placed = ", ".join(got_tier["rules"]) or "no rule (the default)"
            out.failures.append(f"expected {scheme} tier {tier}; got {got_tier['tier']} (placed by {placed})")
    return out


def run_test(test: RuleTest, ruleset: Ruleset, engine: Any) -> RuleTestResult:
    """Assess the test's case with ``engine`` (built on ``ruleset``) and check every expectation."""
    from engine.case.validation import case_from_data

    start = time.perf_counter()
    try:
        case = case_from_data(test.case, file=test.case_file or test.file, doc=test.doc)
        result = engine.assess_case(case, as_of=test.as_of, scenario=test.scenario)
    except AiriskError as exc:
        what = "case" if isinstance(exc, InputError) else "engine"
        out = RuleTestResult(test, error=f"{what} error: " + "; ".join(str(p) for p in exc.problems))
    else:
        out = _check(test, ruleset, result)
    out.seconds = time.perf_counter() - start
    return out


def run(paths: Sequence[str | Path] | None = None) -> Report:
    """Run the test tables under ``paths`` (files or directories; default the bundled rulesets).

    Coverage counts every rule of every ruleset in a directory that was given,
    and of every ruleset a given table names, so a ruleset with no table shows
    up as uncovered."""
    from engine.source.resources import bundled

    roots = [Path(p) for p in paths] if paths else [bundled("rulesets")]
    rulesets = _Rulesets()
    problems: list[Problem] = []
    tables: list[RuleTable] = []
    results: list[RuleTestResult] = []
    in_scope: dict[Path, None] = {}
    for root in roots:
        if root.is_dir():
            for f in rulesets.index(root).values():
                in_scope[f] = None
        elif not root.exists():
            problems.append(Problem(message="no such file or directory", file=str(root), code="io_error"))
    try:
        for file in table_files([r for r in roots if r.exists()]):
            try:
                table = load_table(file)
            except AiriskError as exc:
                problems.extend(exc.problems)
                continue
            tables.append(table)
            target = rulesets.index(file.parent).get(table.ruleset)
            if target is None:
                known = list(rulesets.index(file.parent))
                problems.append(
                    Problem(
                        message=f"no ruleset {table.ruleset!r} beside this table",
                        file=table.file,
                        line=1,
                        pointer="/ruleset",
                        code="unknown_ruleset",
                        hint=did_you_mean(table.ruleset, known) or f"found: {', '.join(known)}",
                    )
                )
                continue
            in_scope[target] = None
            try:
                ruleset = rulesets.load(target)
            except AiriskError as exc:
                problems.extend(exc.problems)
                continue
            engine = rulesets.engine(target)
            results.extend(run_test(t, ruleset, engine) for t in table.tests)
        coverage = _coverage(rulesets, list(in_scope), results, problems)
    finally:
        rulesets.close()
    return Report(results=results, problems=problems, coverage=coverage, tables=tables)


def _coverage(
    rulesets: _Rulesets, files: Iterable[Path], results: list[RuleTestResult], problems: list[Problem]
) -> list[RuleCoverage]:
    out: list[RuleCoverage] = []
    for f in files:
        try:
            ruleset = rulesets.load(f)
        except AiriskError as exc:
            problems.extend(p for p in exc.problems if p not in problems)
            continue
        for rule in ruleset.rules:
            cov = RuleCoverage(rule.id, ruleset.id)
            for r in results:
                if r.test.ruleset != ruleset.id:
                    continue
                if rule.id in r.proven_fires:
                    cov.fired_by.append(r.test.test_id)
                if rule.id in r.proven_silent:
                    cov.silent_by.append(r.test.test_id)
            out.append(cov)
    return out


# --------------------------------------------------------------------------- rendering


def render_text(report: Report, min_coverage: float | None = None, verbose: bool = False) -> str:
    """The human summary: failures with their location, totals, and coverage by ruleset."""
    lines: list[str] = []
    for p in report.problems:
        lines.append(f"ERROR {p}")
    for r in report.results:
        if r.passed:
            if verbose:
                lines.append(f"ok    {r.test.location}: {r.test.name}")
            continue
        tag = "ERROR" if r.error else "FAIL "
        lines.append(f"{tag} {r.test.location}: {r.test.name}")
        for msg in [r.error] if r.error else r.failures:
            lines.append(f"      {msg}")
    total = len(report.results)
    lines.append(
        f"{total} test(s) in {len(report.tables)} table(s): {report.passed} passed, {report.failed} failed, "
        f"{report.errors} error(s)"
        + (f"; {len(report.problems)} table problem(s)" if report.problems else "")
    )
    covered = sum(1 for c in report.coverage if c.covered)
    lines.append(
        f"coverage: {covered} of {len(report.coverage)} rule(s) proven to fire and to stay silent "
        f"({report.coverage_percent():.1f}%)"
    )
    for rs in dict.fromkeys(c.ruleset for c in report.coverage):
        own = [c for c in report.coverage if c.ruleset == rs]
        n = sum(1 for c in own if c.covered)
        lines.append(f"  {rs:<24} {n:>4}/{len(own):<4} {report.coverage_percent(rs):5.1f}%")
    never_fired, never_silent = report.never_fired(), report.never_silent()
    # Each rule id is listed once: a rule no test reached is neither fired nor proven silent.
    both = [r for r in never_fired if r in set(never_silent)]
    if both:
        lines.append(f"never fired nor proven silent ({len(both)}): {', '.join(both)}")
    only_fired = [r for r in never_fired if r not in set(both)]
    only_silent = [r for r in never_silent if r not in set(both)]
    if only_fired:
        lines.append(f"never fired ({len(only_fired)}): {', '.join(only_fired)}")
    if only_silent:
        lines.append(f"never proven silent ({len(only_silent)}): {', '.join(only_silent)}")
    if min_coverage is not None and report.coverage_percent() < min_coverage:
        lines.append(f"coverage {report.coverage_percent():.1f}% is below the minimum {min_coverage:g}%")
    return "\n".join(lines) + "\n"


def junit_xml(report: Report) -> bytes:
    """JUnit XML: one testsuite per table, one testcase per test; coverage as suite properties."""
    suites = ET.Element(
        "testsuites",
        name="airisk rule tests",
        tests=str(len(report.results)),
        failures=str(report.failed),
        errors=str(report.errors + len(report.problems)),
    )
    for table in report.tables:
        own = [r for r in report.results if r.test.file == table.file]
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=table.file,
            tests=str(len(own)),
            failures=str(sum(1 for r in own if r.failures and r.error is None)),
            errors=str(sum(1 for r in own if r.error)),
            skipped="0",
            time=f"{sum(r.seconds for r in own):.3f}",
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="ruleset", value=table.ruleset)
        ET.SubElement(
            props, "property", name="coverage", value=f"{report.coverage_percent(table.ruleset):.1f}"
        )
        for r in own:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=table.ruleset,
                name=r.test.name,
                file=table.file,
                line=str(r.test.line or 0),
                time=f"{r.seconds:.3f}",
            )
            if r.error:
                err = ET.SubElement(case, "error", message=r.error.splitlines()[0], type="error")
                err.text = r.error
            elif r.failures:
                fail = ET.SubElement(case, "failure", message=r.failures[0], type="expectation")
                fail.text = "\n".join(r.failures)
    if report.problems:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name="test tables",
            tests=str(len(report.problems)),
            failures="0",
            errors=str(len(report.problems)),
            skipped="0",
            time="0.000",
        )
        for p in report.problems:
            case = ET.SubElement(suite, "testcase", classname="tables", name=p.location(), time="0.000")
            err = ET.SubElement(case, "error", message=p.message, type=p.code)
            err.text = str(p)
    ET.indent(suites)
    data: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
