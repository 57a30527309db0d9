"""The portfolio dashboard of a batch run (``airisk report``, ``airisk batch --report``).

``read_records`` streams a batch output file (JSON lines), ``build`` aggregates it in one pass
(``engine.report.portfolio``) and ``render_dashboard`` writes one self-contained page: the
counts by rating and by dimension level, the rules that drive most cases, the cases needing
information, the distribution of scores, facilities by hub or country, drawn by d3 as SVG from
the embedded aggregates; and a sortable, filterable, paginated table of every case whose rows
open to show the case's levels, scores and rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from engine.errors import AiriskError, Problem
from engine.report import pages, strings
from engine.report.changes import Changes
from engine.report.portfolio import Portfolio, aggregate
from engine.version import __version__


def read_records(path: str | Path, *, diff: bool = False) -> Iterator[dict[str, Any]]:
    """The records of a batch output file (``diff``: of ``airisk diff``), one per non-blank line,
    read as a stream.

    ``AiriskError`` naming the file and line for a line that is not a JSON object with an
    ``assessment`` or an ``error`` (``diff``: a ``status`` or an ``error``)."""
    for _, record in numbered_records(path, diff=diff):
        yield record


def numbered_records(path: str | Path, *, diff: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """``read_records`` with each record's line number in the file."""
    where = str(path)
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed by the with below, kept open while streaming
    except OSError as exc:
        raise AiriskError(Problem(message=f"cannot read batch results: {exc.strerror}", file=where,
                                  code="io_error")) from None
    with stream:
        for number, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            yield number, _record(raw, where, number, diff)


def _record(raw: bytes, where: str, number: int, diff: bool = False) -> dict[str, Any]:
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise AiriskError(Problem(message=f"not a JSON line: {exc}", file=where, line=number,
                                  code="parse_error", hint="give the output of `airisk batch`")) from None
    key, command = ("status", "airisk diff") if diff else ("assessment", "airisk batch")
    if not isinstance(record, dict) or not (key in record or "error" in record):
        raise AiriskError(Problem(message=f"not a record of `{command}`: expected an object with '{key}' or 'error'",
                                  file=where, line=number, code="invalid", hint=f"give the output of `{command}`"))
    if "assessment" in record and not isinstance(record["assessment"], dict):
        raise AiriskError(Problem(message="'assessment' is not an object", file=where, line=number,
                                  pointer="/assessment", code="invalid"))
    return record


def build(records: Iterable[Mapping[str, Any]]) -> Portfolio:
    """The portfolio of ``records`` (batch records), aggregated in one pass."""
    return aggregate(records)


def render_dashboard(portfolio: Portfolio, *, lang: str = "en", source: str = "", top: int = 15,
                     changes: Changes | None = None) -> bytes:
    """The dashboard page of ``portfolio`` in ``lang`` (``en`` or ``zh``), as UTF-8 bytes; with
    ``changes`` (the records of ``airisk diff``), its section of the cases that changed."""
    t = strings.table(lang)
    data = portfolio.data(top=top, lang=lang, source=source)
    data["changes"] = changes.data(top) if changes is not None else None
    css = pages.asset("report.css") + "\n" + pages.asset("dashboard.css")
    return pages.render("dashboard.html.j2", t=t, data=data, source=source, css=css,
                        d3=pages.vendored("d3.min.js"), js=pages.asset("dashboard.js"),
                        d3_licence=pages.vendored("d3-LICENSE.txt").replace("*/", ""),
                        footer=t["generated_by"].format(version=__version__))


def dashboard_file(results: str | Path, *, lang: str | None = None, diff: str | Path | None = None,
                   catalog: Any = None) -> bytes:
    """The dashboard page of a batch output file (and, with ``diff``, of the ``airisk diff``
    output beside it). Its language: ``lang``, else that of the first assessment that names
    one, else English. Compact records are made full with ``catalog`` (an
    engine.batch.catalog.Catalog; without one they are an input error at their line)."""
    from engine.render.cli import expanded

    portfolio = Portfolio()
    chosen = lang
    for number, record in numbered_records(results):
        record = expanded(record, catalog, str(results), number)
        if chosen is None and isinstance(record.get("assessment"), dict) and record["assessment"].get("lang"):
            chosen = strings.lang_of(record["assessment"])
        _count(portfolio.add, record, results, number)
    changes = None
    if diff is not None:
        changes = Changes()
        for number, record in numbered_records(diff, diff=True):
            _count(changes.add, record, diff, number)
    return render_dashboard(portfolio, lang=chosen or "en", source=Path(results).name, changes=changes)


def _count(add: Callable[[dict[str, Any]], None], record: dict[str, Any], path: str | Path, number: int) -> None:
    """``add(record)``; a record whose parts are not of the shape airisk writes is an input error
    at its line, never an internal error."""
    try:
        add(record)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise AiriskError(Problem(message=f"a record not of the shape airisk writes ({type(exc).__name__}: {exc})",
                                  file=str(path), line=number, code="invalid",
                                  hint="give the unmodified output of `airisk batch` or `airisk diff`")) from None
