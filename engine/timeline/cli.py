"""``airisk timeline`` and ``airisk diff`` (issue 19): thin commands over ``engine.timeline``.

Exit codes as everywhere: 0 done; 1 ``--fail-on-increase`` tripped; 2 a usage, input or output
error (stderr names the file, line and field); 3 some cases could not be assessed (their records
say why)."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click
import orjson

from engine.cliutil import LANG_OPTION, LEVEL_CHOICE, fail, load_rules_arg
from engine.errors import AiriskError, InputError, Problem
from engine.waivers.cli import WAIVERS_OPTION, load_option

__all__ = ["diff_command", "timeline_command"]


@click.command("timeline")
@click.argument("case")
@click.option("--from", "start", default=None, metavar="YYYY-MM-DD", help="First day (default today).")
@click.option("--to", "end", default=None, metavar="YYYY-MM-DD", help="Last day (default three years after --from).")
@click.option("--rules", "rules", multiple=True, type=click.Path(),
              help="Ruleset file or directory (repeatable); default: bundled.")
@click.option("--scenario", default=None, help="Alternative date set declared by a ruleset.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option("--every-day", "every_day", is_flag=True,
              help="Re-assess on every day of change, not only where a rule that can change this case changes.")
@click.option("--output", "-o", default=None, type=click.Path(), help="Write here instead of stdout (atomically).")
@LANG_OPTION
@WAIVERS_OPTION
def timeline_command(case: str, start: str | None, end: str | None, rules: tuple[str, ...], scenario: str | None,
                     fmt: str, every_day: bool, output: str | None, lang: str, waivers: str | None) -> None:
    """The rating and each dimension's level of CASE on every day in the window on which a rule
    starts or stops (effective dates, dated parameters, scenario dates, country-group membership),
    with the findings that appear and disappear, their messages and citations; in ``--lang``
    (the rules' titles and messages, and the report's labels)."""
    from engine import api
    from engine.assessment.engine import engine_for, parse_as_of
    from engine.case.validation import plain_case
    from engine.render.sink import check_output, write_output
    from engine.source.limits import limits_from_env
    from engine.timeline.render import render_timeline
    from engine.timeline.timeline import History

    try:
        check_output(output)
        first = parse_as_of(start)
        last = parse_as_of(end) if end else (dt.date.fromisoformat(first) + dt.timedelta(days=1095)).isoformat()
        if last < first:
            raise InputError(Problem(message=f"--to {last} is before --from {first}", code="usage"))
        ruleset = load_rules_arg(rules, lang)
        if ruleset.input != "case":
            raise InputError(Problem(message="timeline needs case rulesets (input: case)", code="usage"))
        engine = engine_for(ruleset)
        if scenario is not None:
            engine.in_force(first, scenario)
        doc = api.read_document(case, limits_from_env())
        plain = plain_case(doc.data, file=doc.file, doc=doc)
        report = History(engine, scenario).timeline(plain, first, last, every_day=every_day,
                                                    waivers=load_option(waivers))
        data = (orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n" if fmt == "json"
                else render_timeline(report, fmt).encode())
        write_output(data, output)
    except AiriskError as exc:
        fail(exc)


def _waivers(path: str | None, assessing: bool) -> Any:
    """The ``--waivers`` of a diff: only where diff assesses the portfolio itself (locally); two
    finished batch outputs cannot be re-scored under a waiver (give --waivers to ``airisk batch``)."""
    accepted = load_option(path)
    if accepted is not None and not assessing:
        raise AiriskError(Problem(
            message="--waivers applies when diff assesses the portfolio itself (--against-as-of, --against-rules "
                    "or --against-scenario, without --dask); for two batch outputs, give --waivers to "
                    "`airisk batch`", code="usage"))
    return accepted


def _is_lines(name: str) -> bool:
    return name == "-" or name.endswith((".jsonl", ".ndjson"))


@click.command("diff")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD", help="The old side's date (default today).")
@click.option("--against-as-of", "against_as_of", default=None, metavar="YYYY-MM-DD",
              help="The new side's date (default: --as-of).")
@click.option("--rules", "rules", multiple=True, type=click.Path(), help="The old side's rulesets (default: bundled).")
@click.option("--against-rules", "against_rules", multiple=True, type=click.Path(),
              help="The new side's rulesets (default: --rules).")
@click.option("--scenario", default=None, help="The old side's scenario.")
@click.option("--against-scenario", "against_scenario", default=None,
              help="The new side's scenario (default: --scenario).")
@click.option("--output", "-o", default=None, help="Write the diff records (JSON lines) here (atomically).")
@click.option("--summary", is_flag=True, help="Print the portfolio summary (in --format) instead of the records.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True,
              help="Format of --summary.")
@click.option("--fail-on-increase", "fail_on_increase", type=LEVEL_CHOICE, default=None,
              help="Exit 1 when a case's rating (or its worst case) rises to this level or above.")
@click.option("--workers", "-w", default=1, show_default=True, type=click.IntRange(1, 256), help="Worker processes.")
@click.option("--chunk-lines", default=64, show_default=True, type=click.IntRange(1), help="Cases per chunk.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1), help="Cases listed as moved most.")
@click.option("--dask", "dask_address", default=None, metavar="SCHEDULER",
              help="Run on a Dask cluster: INPUT is a glob of .jsonl files and --output a directory (one NAME.jsonl "
                   "of diff records per input file). Needs `pip install airisk[dask]`.")
@LANG_OPTION
@WAIVERS_OPTION
def diff_command(inputs: tuple[str, ...], as_of: str | None, against_as_of: str | None, rules: tuple[str, ...],
                 against_rules: tuple[str, ...], scenario: str | None, against_scenario: str | None,
                 output: str | None, summary: bool, fmt: str, fail_on_increase: str | None, workers: int,
                 chunk_lines: int, top: int, dask_address: str | None, lang: str, waivers: str | None) -> None:
    """Impact diff of a portfolio between two assessments that differ in one thing.

    \b
      airisk diff cases/ --as-of 2025-01-01 --against-as-of 2025-05-01
      airisk diff portfolio.jsonl --rules old/ --against-rules new/
      airisk diff old-results.jsonl new-results.jsonl        # two `airisk batch` outputs, by case id

    INPUTS: a JSON-lines portfolio ('-': stdin), or case files and directories of them. One
    record per case, in input order: rating and dimension moves, findings added, removed and
    reworded, and the rules accounting for each move. ``--lang zh``: the findings' text (where diff
    assesses) and the summary's labels in Chinese.

    \b
    Exit codes:
      0    done
      1    --fail-on-increase: a case rose to that level or above
      2    usage or input error (file, line and field on stderr)
      3    some cases could not be compared (their records say why)"""
    from engine.render.sink import AtomicOutput, check_output
    from engine.timeline.diff import Summary, rises_to
    from engine.timeline.portfolio import DiffSpec, case_files, diff_outputs, run_diff

    portfolio = bool(against_as_of or against_rules or against_scenario)
    stats = Summary(top)
    rose = False
    sink: AtomicOutput | None = None
    try:
        accepted = _waivers(waivers, portfolio and dask_address is None)
        if dask_address is not None:
            stats = _dask(dask_address, inputs, output, portfolio, rules, against_rules, as_of, against_as_of,
                          scenario, against_scenario, top, lang)
            rose = fail_on_increase is not None and stats.rose_to(fail_on_increase)
            if summary:
                _write_summary(stats, fmt, lang)
            _finish(stats, rose)
        check_output(output)
        if portfolio:
            from engine.assessment.engine import parse_as_of

            old_rules = load_rules_arg(rules, lang)
            new_rules = load_rules_arg(against_rules, lang) if against_rules else old_rules
            old_day = parse_as_of(as_of)
            lines = len(inputs) == 1 and _is_lines(inputs[0])
            spec = DiffSpec(old_rules, old_day, scenario, 1024 * 1024, new_rules=new_rules,
                            new_as_of=parse_as_of(against_as_of) if against_as_of else old_day,
                            new_scenario=against_scenario if against_scenario is not None else scenario,
                            waivers=accepted, files=not lines)
            source: Any = (sys.stdin.buffer if inputs[0] == "-" else _open(inputs[0])) if lines else None
            files: list[str] = [] if lines else case_files(inputs)
            blobs = run_diff(spec, source, files, workers=workers, chunk_lines=chunk_lines)
        else:
            if len(inputs) != 2 or rules or as_of or scenario:
                raise AiriskError(Problem(
                    message="give two batch outputs (airisk diff OLD.jsonl NEW.jsonl), or a portfolio and what "
                            "differs: --against-as-of, --against-rules or --against-scenario", code="usage"))
            blobs = (orjson.dumps(rec) + b"\n" for rec in diff_outputs(inputs[0], inputs[1]))
        if output is not None or not summary:
            sink = AtomicOutput(output)
        for blob in blobs:
            for raw in blob.splitlines():
                rec = orjson.loads(raw)
                stats.add(rec)
                rose = rose or (fail_on_increase is not None and rises_to(rec, fail_on_increase))
            if sink is not None:
                sink.write(blob)
        if sink is not None:
            sink.commit()
        if summary:
            _write_summary(stats, fmt, lang)
    except AiriskError as exc:
        if sink is not None:
            sink.abort()
        fail(exc)
    _finish(stats, rose)


def _write_summary(stats: Any, fmt: str, lang: str = "en") -> None:
    from engine.timeline.diff import render_summary

    data = stats.to_dict()
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n" if fmt == "json"
                     else render_summary(data, fmt, lang))


def _finish(stats: Any, rose: bool) -> None:
    """Exit: 1 when a case rose to --fail-on-increase, else 3 when some cases were errors, else 0."""
    if stats.errors:
        click.echo(f"airisk: {stats.errors} case(s) could not be compared (their records say why)", err=True)
    if rose:
        raise SystemExit(1)
    raise SystemExit(3 if stats.errors else 0)


def _dask(address: str, inputs: tuple[str, ...], output: str | None, portfolio: bool, rules: tuple[str, ...],
          against_rules: tuple[str, ...], as_of: str | None, against_as_of: str | None, scenario: str | None,
          against_scenario: str | None, top: int, lang: str = "en") -> Any:
    """``--dask``: the portfolio diff on a cluster (``engine.timeline.portfolio.run_dask_diff``)."""
    from engine.timeline.portfolio import run_dask_diff

    if not portfolio or len(inputs) != 1:
        raise InputError(Problem(message="--dask needs one INPUT glob of .jsonl files and what differs "
                                         "(--against-as-of, --against-rules or --against-scenario)", code="usage"))
    if not output or output == "-":
        raise InputError(Problem(message="--dask needs --output DIRECTORY (one output file per input file)",
                                 code="usage"))
    return run_dask_diff(address, inputs[0], output, rules=list(rules) or None, against_rules=list(against_rules)
                         or None, as_of=as_of, against_as_of=against_as_of, scenario=scenario,
                         against_scenario=against_scenario, top=top, lang=lang)


def _open(path: str) -> Any:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise InputError(Problem(message=f"cannot read input: {exc.strerror}", file=path, code="io_error")) from None
