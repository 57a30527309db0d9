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

import copy
import datetime as dt
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import AiriskError, InputError, Problem, did_you_mean
from engine.ruleset.load import unknown_keys
from engine.ruleset.model import DIMENSION_NAMES, LEVEL_ORDER, Rule, RuleSet, Ruleset
from engine.source.safeyaml import Document, load_file

TABLE_SUFFIX = ".tests.yaml"
_TABLE_KEYS = ("ruleset", "description", "as_of", "tests")
_TEST_KEYS = ("name", "description", "case", "case_file", "set", "as_of", "scenario", "expect")
_EXPECT_KEYS = ("fires", "silent", "needs_information", "level", "tier")


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Expect:
    """What a test requires of an assessment."""

    fires: tuple[str, ...] = ()
    silent: tuple[str, ...] = ()
    needs_information: tuple[str, ...] = ()
    level: dict[str, str] = field(default_factory=dict)
    tier: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleTest:
    """One row of a test table, with its case already built (``set`` applied)."""

    name: str
    file: str
    line: int | None
    ruleset: str
    case: Any
    case_file: str | None
    as_of: str | None
    scenario: str | None
    expect: Expect
    doc: Document | None = None  # positions for an inline case

    @property
    def location(self) -> str:
        """``file:line`` of the test's entry in its table."""
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    @property
    def test_id(self) -> str:
        """A stable identifier: ``file::name``."""
        return f"{self.file}::{self.name}"


@dataclass
class RuleTable:
    """One ``*.tests.yaml`` file."""

    file: str
    path: Path
    ruleset: str
    tests: list[RuleTest]


@dataclass
class RuleTestResult:
    """The outcome of one test: failures (expectations that did not hold) or an error."""

    test: RuleTest
    failures: list[str] = field(default_factory=list)
    error: str | None = None
    proven_fires: set[str] = field(default_factory=set)
    proven_silent: set[str] = field(default_factory=set)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """True when every expectation held and nothing went wrong."""
        return not self.failures and self.error is None


@dataclass
class RuleCoverage:
    """Which tests proved a rule fires and which proved it stays silent."""

    rule_id: str
    ruleset: str
    fired_by: list[str] = field(default_factory=list)
    silent_by: list[str] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return bool(self.fired_by) and bool(self.silent_by)


@dataclass
class Report:
    """Everything ``airisk test`` prints: results, table problems and coverage."""

    results: list[RuleTestResult]
    problems: list[Problem]
    coverage: list[RuleCoverage]
    tables: list[RuleTable]

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.passed)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if r.failures and r.error is None)

    @property
    def errors(self) -> int:
        return sum(1 for r in self.results if r.error is not None)

    @property
    def ok(self) -> bool:
        """No failure, no error, no malformed table."""
        return not self.problems and all(r.passed for r in self.results)

    def coverage_percent(self, ruleset: str | None = None) -> float:
        """Share of rules (of one ruleset, or all) proven both to fire and to stay silent."""
        rules = [c for c in self.coverage if ruleset is None or c.ruleset == ruleset]
        if not rules:
            return 100.0
        return round(100.0 * sum(1 for c in rules if c.covered) / len(rules), 1)

    def never_fired(self) -> list[str]:
        return [c.rule_id for c in self.coverage if not c.fired_by]

    def never_silent(self) -> list[str]:
        return [c.rule_id for c in self.coverage if not c.silent_by]


# --------------------------------------------------------------------------- set overrides


def apply_set(data: Any, overrides: dict[str, Any]) -> Any:
    """A copy of ``data`` with dotted-path overrides applied.

    ``a.b: 1`` sets a key (creating missing mappings); an integer step indexes
    a list (``accelerators.0.count``; the index one past the end appends);
    ``null`` removes the key or list item. Raises ValueError saying which step
    of which path cannot be followed."""
    out = copy.deepcopy(data)
    for dotted, value in overrides.items():
        steps = str(dotted).split(".")
        node = out
        for depth, step in enumerate(steps):
            last = depth == len(steps) - 1
            here = ".".join(steps[: depth + 1])
            if isinstance(node, list):
                if not step.isdigit():
                    raise ValueError(f"{dotted}: {here} indexes a list; use an integer")
                index = int(step)
                if index > len(node) or (index == len(node) and (not last or value is None)):
                    raise ValueError(
                        f"{dotted}: index {index} is out of range (the list has {len(node)} items)"
                    )
                if last:
                    if value is None:
                        del node[index]
                    elif index == len(node):
                        node.append(copy.deepcopy(value))
                    else:
                        node[index] = copy.deepcopy(value)
                else:
                    node = node[index]
            elif isinstance(node, dict):
                if last:
                    if value is None:
                        node.pop(step, None)
                    else:
                        node[step] = copy.deepcopy(value)
                else:
                    if node.get(step) is None:
                        node[step] = {}
                    node = node[step]
            else:
                raise ValueError(
                    f"{dotted}: {'.'.join(steps[:depth])} is a single value, not a mapping or list"
                )
    return out


# --------------------------------------------------------------------------- loading


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _ids(doc: Document, path: list[str | int], value: Any, problems: list[Problem]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(doc.where(path, "expected a list of rule ids"))
        return ()
    return tuple(value)


def _mapping(doc: Document, path: list[str | int], value: Any, problems: list[Problem]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        problems.append(doc.where(path, "expected a mapping of name: value"))
        return {}
    return dict(value)


def _expect(doc: Document, path: list[str | int], raw: Any, problems: list[Problem]) -> Expect:
    if not isinstance(raw, dict) or not raw:
        problems.append(doc.where(path, "`expect` needs at least one of: " + ", ".join(_EXPECT_KEYS)))
        return Expect()
    problems.extend(unknown_keys(doc, path, raw, _EXPECT_KEYS))
    expect = Expect(
        fires=_ids(doc, [*path, "fires"], raw.get("fires"), problems),
        silent=_ids(doc, [*path, "silent"], raw.get("silent"), problems),
        needs_information=_ids(doc, [*path, "needs_information"], raw.get("needs_information"), problems),
        level=_mapping(doc, [*path, "level"], raw.get("level"), problems),
        tier=_mapping(doc, [*path, "tier"], raw.get("tier"), problems),
    )
    for dim, level in expect.level.items():
        if dim not in DIMENSION_NAMES:
            problems.append(
                doc.where(
                    [*path, "level", dim],
                    f"unknown dimension {dim!r}",
                    hint=did_you_mean(dim, DIMENSION_NAMES),
                )
            )
        if level not in LEVEL_ORDER:
            problems.append(
                doc.where(
                    [*path, "level", dim],
                    f"unknown level {level!r}",
                    hint=did_you_mean(level, LEVEL_ORDER) or "one of: low, medium, high, critical",
                )
            )
    groups = {"fires": expect.fires, "silent": expect.silent, "needs_information": expect.needs_information}
    for a, b in (("fires", "silent"), ("fires", "needs_information")):
        for rid in sorted(set(groups[a]) & set(groups[b])):
            problems.append(doc.where([*path, b], f"{rid} is expected both in `{a}` and in `{b}`"))
    return expect


def case_roots(table: Path) -> list[Path]:
    """Where a table's ``case_file`` may point: the table's directory tree, then the example
    cases shipped with airisk (read-only data, the same for every user)."""
    from engine.source.resources import bundled

    return [table.resolve().parent, bundled("cases").resolve()]


def load_table(path: str | Path) -> RuleTable:
    """Read one test table; InputError with every located problem when it is malformed.

    Case files are read relative to the table and ``set`` overrides applied
    here, so a table that cannot be built fails before anything runs."""
    path = Path(path)
    name = _display(path)
    doc = load_file(str(path), display=name)
    problems: list[Problem] = []
    data = doc.data
    if not isinstance(data, dict):
        raise InputError(doc.where([], "a test table is a mapping with `ruleset` and `tests`"))
    problems.extend(unknown_keys(doc, [], data, _TABLE_KEYS))
    ruleset = data.get("ruleset")
    if not isinstance(ruleset, str):
        problems.append(doc.where(["ruleset"], "`ruleset` names the ruleset id these tests are for"))
        ruleset = ""
    default_as_of = _iso(data.get("as_of"))
    raw_tests = data.get("tests")
    if not isinstance(raw_tests, list) or not raw_tests:
        problems.append(doc.where(["tests"], "`tests` is a non-empty list"))
        raw_tests = []
    tests: list[RuleTest] = []
    names: dict[str, int] = {}
    case_cache: dict[Path, Any] = {}
    for i, raw in enumerate(raw_tests):
        base: list[str | int] = ["tests", i]
        if not isinstance(raw, dict):
            problems.append(doc.where(base, "a test is a mapping with name, case or case_file, and expect"))
            continue
        problems.extend(unknown_keys(doc, base, raw, _TEST_KEYS))
        tname = raw.get("name")
        if not isinstance(tname, str) or not tname.strip():
            problems.append(doc.where([*base, "name"], "every test needs a `name` (a sentence)"))
            tname = f"test {i}"
        elif tname in names:
            problems.append(
                doc.where([*base, "name"], f"duplicate test name {tname!r} (first at tests[{names[tname]}])")
            )
        else:
            names[tname] = i
        inline_doc: Document | None = None
        case_display: str | None = None
        if ("case" in raw) == ("case_file" in raw):
            problems.append(doc.where(base, "a test needs exactly one of `case` (inline) and `case_file`"))
            case: Any = {}
        elif "case_file" in raw:
            rel = raw["case_file"]
            target = (path.parent / str(rel)).resolve()
            case_display = _display(target)
            # Confined to the table's own directory tree (links resolved first), or to the example
            # cases shipped with airisk (the bundled tables use ../cases/); never anywhere else.
            roots = case_roots(path)
            if not any(target.is_relative_to(r) for r in roots):
                problems.append(doc.where([*base, "case_file"], f"case file {rel!r} is outside {roots[0]}",
                                          code="path_escape",
                                          hint="keep case files in the table's directory (or below it), or use "
                                               "an example case shipped with airisk"))
                case_cache[target] = {}
            if target not in case_cache:
                from engine.source.cache import blocks

                try:
                    blocking = blocks(os.stat(target).st_mode)  # a FIFO would block until another process writes
                except OSError:
                    blocking = False  # the loader reports it, located
                try:
                    if blocking:
                        raise AiriskError(Problem(message="not a regular file (a FIFO, socket or directory)",
                                                  file=case_display, code="io_error"))
                    case_cache[target] = load_file(str(target), display=case_display).data
                except AiriskError as exc:
                    problems.extend(
                        doc.where([*base, "case_file"], f"case file {rel!r}: {p.message}", code=p.code)
                        for p in exc.problems
                    )
                    case_cache[target] = {}
            case = case_cache[target]
        else:
            case = raw["case"]
            prefix = f"/tests/{i}/case"
            inline_doc = Document(
                data=case,
                file=name,
                positions={
                    k[len(prefix) :]: v
                    for k, v in doc.positions.items()
                    if k == prefix or k.startswith(prefix + "/")
                },
            )
        overrides = raw.get("set") or {}
        if not isinstance(overrides, dict):
            problems.append(doc.where([*base, "set"], "`set` is a mapping of dotted.path: value"))
            overrides = {}
        try:
            case = apply_set(case, overrides)
        except ValueError as exc:
            problems.append(doc.where([*base, "set"], str(exc)))
        if overrides:
            inline_doc = None  # positions no longer describe the data
        scenario = raw.get("scenario")
        if scenario is not None and not isinstance(scenario, str):
            problems.append(
                doc.where([*base, "scenario"], "`scenario` names a scenario declared by the ruleset")
            )
            scenario = None
        expect = _expect(doc, [*base, "expect"], raw.get("expect"), problems)
        line = doc.positions.get(f"/tests/{i}", (None, None))[0]
        tests.append(
            RuleTest(
                name=tname,
                file=name,
                line=line,
                ruleset=ruleset,
                case=case,
                case_file=case_display,
                as_of=_iso(raw.get("as_of")) or default_as_of,
                scenario=scenario,
                expect=expect,
                doc=inline_doc,
            )
        )
    if problems:
        raise InputError(problems)
    return RuleTable(file=name, path=path, ruleset=ruleset, tests=tests)


def table_files(paths: Sequence[str | Path]) -> list[Path]:
    """Expand directories to their ``*.tests.yaml`` files (sorted)."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(p.glob(f"*{TABLE_SUFFIX}")))
        else:
            files.append(p)
    return files


# --------------------------------------------------------------------------- running


class _Rulesets:
    """Rulesets found beside the tables, loaded once each, by id."""

    def __init__(self) -> None:
        self._by_dir: dict[Path, dict[str, Path]] = {}
        self._loaded: dict[Path, Ruleset | AiriskError] = {}
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
        from engine.ruleset.load import load_ruleset_file

        if path not in self._loaded:
            try:
                self._loaded[path] = load_ruleset_file(path, display=_display(path))
            except AiriskError as exc:
                self._loaded[path] = exc
        got = self._loaded[path]
        if isinstance(got, AiriskError):
            raise got
        return got

    def engine(self, path: Path) -> Any:
        from engine.assessment.engine import Engine

        if path not in self.engines:
            self.engines[path] = Engine(RuleSet((self.load(path),)))
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
    by_id = {r.id: r for r in ruleset.rules}
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
