"""``airisk render``: assessments already made, in another output format.

Batch writes JSON lines; CI wants SARIF, JUnit or annotations. ``airisk render RESULTS.jsonl
--format sarif`` reads what ``airisk batch`` wrote (one record per line: an assessment, or an
error record) or what ``airisk assess --format json`` wrote (one assessment or an array), and
renders every assessment with the format registry, as ``airisk assess --format`` would.

A batch record knows its input line but not the case's file: with ``--input CASES.jsonl`` (the
batch input the records came from), each assessment is located at its line of that file, so
SARIF results and GitHub annotations point at the case. Error records are not assessments: each
is reported on stderr, the others are rendered, and the exit status is 3 (as ``airisk batch``'s
for error lines).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import click
import orjson

from engine.cliutil import LEVEL_CHOICE, FormatChoice, fail, gate_level
from engine.errors import AiriskError, InputError, Problem
from engine.render.sink import check_output, write_output
from engine.scale import LEVEL_ORDER

EXIT_ERROR_RECORDS = 3


@dataclass
class Results:
    """The assessments of a results file, in order, with the batch input line of each (None:
    not a batch record), and the error records found among them."""

    assessments: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)


def expanded(item: Any, catalog: Any, file: str, at: int | None) -> Any:
    """A compact batch record made full with ``catalog`` (an engine.batch.catalog.Catalog); any
    other item as it is. InputError at the line when a compact record has no catalogue or
    names another one."""
    if not (isinstance(item, Mapping) and "catalog" in item and isinstance(item.get("assessment"), Mapping)):
        return item
    if catalog is None:
        raise InputError([Problem(message="a compact batch record (`airisk batch --record compact`): its rules' "
                                          "texts are in the run's catalogue", file=file, line=at,
                                  code="catalog_required", hint="add --catalog FILE, the file that run wrote")])
    try:
        return catalog.expand(item)
    except InputError as exc:
        raise InputError([Problem(message=p.message, file=file, line=at, code=p.code, hint=p.hint)
                          for p in exc.problems]) from None


def read_catalog(path: str | None) -> Any:
    """The rule catalogue at ``path`` (engine.batch.catalog.Catalog), or None without a path."""
    if path is None:
        return None
    from engine.batch.catalog import Catalog

    return Catalog.parse(_read(path), path)


def _take(item: Any, file: str, at: int | None, out: Results, catalog: Any = None) -> None:
    """One record or assessment into ``out`` (``at``: its line in the results file)."""
    item = expanded(item, catalog, file, at)
    if isinstance(item, Mapping) and isinstance(item.get("assessment"), Mapping):
        out.assessments.append(dict(item["assessment"]))
        line = item.get("line")
        out.lines.append(line if isinstance(line, int) and not isinstance(line, bool) and line > 0 else None)
    elif isinstance(item, Mapping) and isinstance(item.get("error"), Mapping):
        err = item["error"]
        out.errors.append(Problem(
            message=f"batch line {item.get('line')} is an error record ({err.get('code')}: {err.get('message')}); "
                    "not rendered", file=file, line=at, code="error_record"))
    elif isinstance(item, Mapping) and "findings" in item and "case_id" in item:
        out.assessments.append(dict(item))
        out.lines.append(None)
    else:
        raise InputError([Problem(message="not an assessment or a batch record (expected an object with "
                                          "'assessment', 'error', or 'case_id' and 'findings')",
                                  file=file, line=at, code="invalid")])


def read_results(data: bytes, file: str, catalog: Any = None) -> Results:
    """The assessments in a results file: JSON lines of batch records or assessments, or one JSON
    document (an assessment or an array of them). Malformed JSON is an ``InputError`` naming the line.
    Compact records are made full with ``catalog`` (see ``expanded``)."""
    out = Results()
    try:
        whole = orjson.loads(data)
    except orjson.JSONDecodeError:
        whole = None
    else:
        for item in whole if isinstance(whole, list) else [whole]:
            _take(item, file, None, out, catalog)
        return out
    problems = []
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            item = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            problems.append(Problem(message=f"not JSON: {exc}", file=file, line=number, code="invalid_json"))
            continue
        _take(item, file, number, out, catalog)
    if problems:
        raise InputError(problems)
    return out


@click.command("render")
@click.argument("results", metavar="RESULTS|-")
@click.option("--format", "fmt", type=FormatChoice(), default="sarif", show_default=True)
@click.option("--output", "-o", default=None, type=click.Path(), help="Write here instead of stdout (atomically).")
@click.option("--input", "input_file", default=None, metavar="CASES.jsonl",
              help="The batch input the records came from: locate each case at its line there (SARIF, GitHub).")
@click.option("--fail-on", "fail_on", type=LEVEL_CHOICE, default=None,
              help="Exit 1 if any case could be rated at or above this level (the worst case over its unknown "
                   "facts); JUnit fails its tests at this level.")
@click.option("--fail-on-known", "fail_on_known", is_flag=True,
              help="With --fail-on: compare the rating on the known facts only.")
@click.option("--catalog", "catalog", default=None, type=click.Path(dir_okay=False),
              help="The rule catalogue of the run (`airisk batch --catalog`): needed for compact records.")
def render_command(results: str, fmt: str, output: str | None, input_file: str | None, fail_on: str | None,
                   fail_on_known: bool, catalog: str | None) -> None:
    """Render assessments already made (``airisk batch`` JSON lines, or ``airisk assess --format
    json``) in another format, e.g. SARIF for code scanning.

    Exit codes: 0 done; 1 a case is at or above --fail-on; 2 usage or input error;
    3 some records were batch errors (the others are rendered)."""
    from engine.render import RenderContext, Source, get

    try:
        check_output(output)
        name = "<stdin>" if results == "-" else results
        data = sys.stdin.buffer.read() if results == "-" else _read(results)
        found = read_results(data, name, read_catalog(catalog))
        sources = [Source(input_file, {}, line) if input_file and line is not None else None for line in found.lines]
        context = RenderContext(fail_on=fail_on, fail_on_known=fail_on_known, sources=sources)
        write_output(get(fmt).render(found.assessments, context=context), output)
    except AiriskError as exc:
        fail(exc)
    for problem in found.errors:
        click.echo(f"airisk: warning: {problem}", err=True)
    if found.errors:
        raise SystemExit(EXIT_ERROR_RECORDS)
    if fail_on and any(gate_level(a, fail_on_known) >= LEVEL_ORDER[fail_on] for a in found.assessments):
        raise SystemExit(1)


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise InputError([Problem(message=f"cannot read: {exc.strerror}", file=path, code="unreadable")]) from None
