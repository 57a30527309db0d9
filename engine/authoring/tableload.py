"""Reading table tests: a ``*.tests.yaml`` file into a located, checked ``RuleTable``."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.authoring.tablemodel import TABLE_SUFFIX, Expect, RuleTable, RuleTest
from engine.case.overrides import apply_set
from engine.errors import AiriskError, InputError, Problem, did_you_mean
from engine.ruleset.model import DIMENSION_NAMES, LEVEL_ORDER
from engine.ruleset.parse import unknown_keys
from engine.source.safeyaml import Document, load_file

_TABLE_KEYS = ("ruleset", "description", "as_of", "tests")
_TEST_KEYS = ("name", "description", "case", "case_file", "set", "as_of", "scenario", "expect")
_EXPECT_KEYS = ("fires", "silent", "needs_information", "level", "tier")


def display_path(path: Path) -> str:
    """A path as shown in messages: relative to the working directory where it can be."""
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


def _case_file(doc: Document, path: Path, base: list[str | int], rel: Any, case_cache: dict[Path, Any],
               problems: list[Problem]) -> tuple[Any, str]:
    """The data of a test's ``case_file`` (read once per table) and its display name."""
    target = (path.parent / str(rel)).resolve()
    case_display = display_path(target)
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
    return case_cache[target], case_display


def _test_name(doc: Document, base: list[str | int], raw: dict[str, Any], i: int, names: dict[str, int],
               problems: list[Problem]) -> str:
    tname = raw.get("name")
    if not isinstance(tname, str) or not tname.strip():
        problems.append(doc.where([*base, "name"], "every test needs a `name` (a sentence)"))
        return f"test {i}"
    if tname in names:
        problems.append(
            doc.where([*base, "name"], f"duplicate test name {tname!r} (first at tests[{names[tname]}])")
        )
    else:
        names[tname] = i
    return tname


def _one_test(doc: Document, path: Path, i: int, raw: dict[str, Any], ruleset: str, default_as_of: str | None,
              names: dict[str, int], case_cache: dict[Path, Any], problems: list[Problem]) -> RuleTest:
    """Test ``i`` of a table, its problems added to ``problems``."""
    name = doc.file or display_path(path)
    base: list[str | int] = ["tests", i]
    problems.extend(unknown_keys(doc, base, raw, _TEST_KEYS))
    tname = _test_name(doc, base, raw, i, names, problems)
    inline_doc: Document | None = None
    case_display: str | None = None
    if ("case" in raw) == ("case_file" in raw):
        problems.append(doc.where(base, "a test needs exactly one of `case` (inline) and `case_file`"))
        case: Any = {}
    elif "case_file" in raw:
        case, case_display = _case_file(doc, path, base, raw["case_file"], case_cache, problems)
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
    return RuleTest(name=tname, file=name, line=line, ruleset=ruleset, case=case, case_file=case_display,
                    as_of=_iso(raw.get("as_of")) or default_as_of, scenario=scenario, expect=expect,
                    doc=inline_doc)


def load_table(path: str | Path) -> RuleTable:
    """Read one test table; InputError with every located problem when it is malformed.

    Case files are read relative to the table and ``set`` overrides applied
    here, so a table that cannot be built fails before anything runs."""
    path = Path(path)
    name = display_path(path)
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
        if not isinstance(raw, dict):
            problems.append(doc.where(["tests", i], "a test is a mapping with name, case or case_file, and expect"))
            continue
        tests.append(_one_test(doc, path, i, raw, ruleset, default_as_of, names, case_cache, problems))
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
