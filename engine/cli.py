"""The ``airisk`` command line: a thin layer over the library.

Each command parses its arguments, calls one library function, and renders.
Exit codes, one meaning each: 0 done (and nothing at or above ``--fail-on``);
1 the gate asked for tripped (``--fail-on``; for ``airisk test`` a failing table
test, for ``rules docs --check`` a stale file); 2 usage, input or output error
(stdout then stays empty); 3 batch lines that were errors; 70 an internal error
(a bug: one line on stderr, the traceback with ``--debug`` or ``AIRISK_DEBUG=1``);
130 interrupted.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any

import click
import orjson

from engine.cliutil import (
    EXIT_INTERNAL,
    LANG_OPTION,
    LEVEL_CHOICE,
    NO_BUNDLED_OPTION,
    QUIET_OPTION,
    FormatChoice,
    fail,
    gate_level,
    load_rules_arg,
)
from engine.config.cli import config_command, configure, group_options
from engine.errors import AiriskError
from engine.render.sink import check_output, write_output
from engine.report.cli import report_command
from engine.ruleset.model import LEVEL_ORDER, Rule
from engine.scale import DIMENSIONS
from engine.waivers.cli import WAIVERS_OPTION, load_option, report_notices, waivers_group


class _Main(click.Group):
    """The command group; an unexpected exception becomes one ``internal_error`` line and exit 70."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except AiriskError as exc:  # a library error that a command did not catch: still the user's input
            fail(exc)
        except Exception as exc:
            if ctx.meta.get("airisk.debug") or os.environ.get("AIRISK_DEBUG", "") not in ("", "0"):
                import traceback

                traceback.print_exc()
            detail = str(exc).splitlines()[0][:300] if str(exc) else ""
            click.echo(f"airisk: internal_error: {type(exc).__name__}{': ' + detail if detail else ''} "
                       "(a bug in airisk; please report it with the command and input; "
                       "--debug or AIRISK_DEBUG=1 prints the traceback)", err=True)
            raise SystemExit(EXIT_INTERNAL) from None


def _debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta["airisk.debug"] = True


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@group_options
@click.option("--debug", is_flag=True, expose_value=False, is_eager=True, callback=_debug,
              help="On an internal error, print the traceback.")
@click.pass_context
def main(ctx: click.Context, config_file: str | None, no_config: bool) -> None:
    """Explained AI-governance risk ratings: tiered safety, export-control exposure, overcapacity.

    Exit codes: 0 done; 1 a gate tripped (--fail-on, a failing table test, stale docs);
    2 usage, input or output error; 3 batch lines were errors; 70 internal error; 130 interrupted.

    Option defaults come from airisk.yaml or pyproject.toml [tool.airisk] (see `airisk config`)."""
    configure(ctx, config_file, no_config)  # the config file's values become every command's defaults


main.add_command(config_command)


@main.command()
@click.argument("cases", nargs=-1, required=True)
@click.option("--rules", "rules", multiple=True, type=click.Path(),
              help="Ruleset file or directory (repeatable), added to the bundled rulesets (one with a "
                   "bundled ruleset's id replaces it); --no-bundled: only these.")
@NO_BUNDLED_OPTION
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD",
              help="Assess under the rules in force on this date (default today).")
@click.option("--scenario", default=None, help="Alternative date set declared by a ruleset, e.g. digital-omnibus.")
@click.option("--format", "fmt", type=FormatChoice(), default="text", show_default=True)
@click.option("--output", "-o", default=None, type=click.Path(), help="Write here instead of stdout (atomically).")
@click.option("--fail-on", "fail_on", type=LEVEL_CHOICE, default=None,
              help="Exit 1 if any case could be rated at or above this level (the worst case over its unknown "
                   "facts, so an unknown cannot pass the gate).")
@click.option("--fail-on-known", "fail_on_known", is_flag=True,
              help="With --fail-on: compare the rating on the known facts only (the behaviour before 0.2).")
@click.option("--set", "sets", multiple=True, metavar="PATH=VALUE",
              help="What-if: override a fact (repeatable; dotted path, list index as a number, null removes); "
                   "the report shows what changed from the unmodified case.")
@click.option("--horizon", "horizon", default=365, show_default=True, type=click.IntRange(0), metavar="DAYS",
              help="List the changes due in the next DAYS days under the explanation (`upcoming`); 0: none.")
@LANG_OPTION
@WAIVERS_OPTION
@QUIET_OPTION
def assess(cases: tuple[str, ...], rules: tuple[str, ...], as_of: str | None, scenario: str | None, fmt: str,
           output: str | None, fail_on: str | None, fail_on_known: bool, sets: tuple[str, ...], horizon: int,
           lang: str, waivers: str | None) -> None:
    """Assess CASE files (YAML or JSON; '-' reads stdin; a directory: its *.yaml, *.yml and *.json
    files, sorted by name) and print explained ratings. With --format json, one CASE file gives
    one object; a directory or several CASEs give a list (even of one).

    Input limits (file size, line length, nesting depth, ...) are set by
    AIRISK_MAX_BYTES and similar environment variables: see docs/limits.md."""
    from engine import api
    from engine.config.conventions import case_inputs, gate_notice, notice, quiet, render_cases, tripped_cases
    from engine.render import RenderContext, Source, get
    from engine.render.formats import use_colour

    try:
        check_output(output)  # an unwritable --output fails now, not after the work
        names, many = case_inputs(cases)
        accepted = load_option(waivers)
        results, docs = api.assess_documents(names, load_rules_arg(rules, lang), as_of, scenario, sets=sets,
                                             lang=lang, waivers=accepted, horizon=horizon)
        out = get(fmt)
        context = RenderContext(colour=out.colour and output in (None, "-") and use_colour(sys.stdout),
                                fail_on=fail_on, fail_on_known=fail_on_known, sources=[Source.of(d) for d in docs])
        write_output(render_cases(out, results, context, many), output)
        if results:
            report_notices(accepted, results[0]["provenance"]["as_of"], quiet=quiet())
    except AiriskError as exc:
        fail(exc)
    if fail_on and any(gate_level(r, fail_on_known) >= LEVEL_ORDER[fail_on] for r in results):
        notice(gate_notice(fail_on, tripped_cases(results, fail_on, fail_on_known)))
        raise SystemExit(1)


# --------------------------------------------------------------------------- bounds, what-if, explain (issue 16)


@click.command("explain")
@click.argument("case")
@click.option("--rules", "rules", multiple=True, type=click.Path(),
              help="Ruleset file or directory (repeatable), added to the bundled rulesets (one with a "
                   "bundled ruleset's id replaces it); --no-bundled: only these.")
@NO_BUNDLED_OPTION
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD", help="Assess as of this date (default today).")
@click.option("--scenario", default=None, help="Alternative date set declared by a ruleset.")
@click.option("--below", type=LEVEL_CHOICE, default=None,
              help="Find changes that bring each dimension below this level (default: below its own level).")
@click.option("--dimension", type=click.Choice(list(DIMENSIONS)), default=None)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain_command(case: str, rules: tuple[str, ...], as_of: str | None, scenario: str | None, below: str | None,
                    dimension: str | None, fmt: str) -> None:
    """Counterfactuals: the smallest sets of changes to facts the user controls (choices) that
    bring a dimension below a level, each verified by re-assessing the changed case.

    Only facts marked "choice" in engine/assessment/levers.py are changed; circumstances (a chip's datasheet,
    a site's country, a party's listing) never are."""
    from engine import api
    from engine.assessment.search import render_text
    from engine.source.limits import limits_from_env

    try:
        # Standard input is read as YAML here (JSON is YAML too), as it always was for explain.
        doc = api.read_document(case, limits_from_env(), stdin_syntax="yaml")
        report = api.counterfactuals(doc, below, load_rules_arg(rules), as_of, scenario, dimension=dimension)
    except AiriskError as exc:
        fail(exc)
    if fmt == "json":
        write_output(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n", None)
    else:
        write_output(render_text(report).encode(), None)


main.add_command(explain_command)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def validate(paths: tuple[str, ...], fmt: str) -> None:
    """Validate rulesets and case files; report every error with its location.

    A file with a top-level `ruleset` key is a ruleset; anything else is a case.
    Directories are searched for *.yaml / *.json (test tables excluded)."""
    from engine.authoring.validate import validate_paths

    problems, checked = validate_paths(paths)
    if fmt == "json":
        sys.stdout.buffer.write(orjson.dumps({"checked": checked, "problems": [p.as_dict() for p in problems]},
                                             option=orjson.OPT_INDENT_2) + b"\n")
    else:
        for p in problems:
            click.echo(str(p))
        from engine.config.conventions import notice

        notice(f"{len(checked)} file(s) checked, {len(problems)} problem(s)")
    raise SystemExit(2 if problems else 0)


@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--junit", "junit", default=None, type=click.Path(), help="Also write JUnit XML here (for CI).")
@click.option("--min-coverage", "min_coverage", default=None, type=click.FloatRange(0, 100), metavar="PERCENT",
              help="Exit 1 when fewer rules than this are proven both to fire and to stay silent.")
@click.option("--verbose", "-v", is_flag=True, help="List passing tests too.")
def test_command(paths: tuple[str, ...], junit: str | None, min_coverage: float | None, verbose: bool) -> None:
    """Run the table-driven rule tests (*.tests.yaml) and report rule coverage.

    PATHS are test tables or directories (default: the bundled rulesets). Exit 0
    when every test passes, 1 when a test fails or coverage is below
    --min-coverage, 2 when a table or ruleset is malformed."""
    from engine.authoring.tabletests import junit_xml, render_text, run

    try:
        check_output(junit)
    except AiriskError as exc:
        fail(exc)
    report = run(list(paths) or None)
    click.echo(render_text(report, min_coverage, verbose), nl=False)
    if junit:
        try:
            write_output(junit_xml(report), junit)
        except AiriskError as exc:
            fail(exc)
    if report.problems:
        raise SystemExit(2)
    if not report.ok or (min_coverage is not None and report.coverage_percent() < min_coverage):
        raise SystemExit(1)


@main.command()
@click.argument("name", type=click.Choice(["case", "ruleset", "assessment", "waivers", "catalog"]))
def schema(name: str) -> None:
    """Print the JSON Schema of a case, a ruleset, an assessment, a waiver file or a rule catalogue
    (with the compact batch records that name it)."""
    from engine.authoring.schemas import text

    click.echo(text(name), nl=False)


@main.group()
def rules() -> None:
    """List and show the rules."""


@rules.command("list")
@click.option("--rules", "paths", multiple=True, type=click.Path(),
              help="Ruleset file or directory (repeatable), added to the bundled rulesets.")
@NO_BUNDLED_OPTION
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD", help="Only rules in force on this date.")
@click.option("--dimension", type=click.Choice(list(DIMENSIONS)), default=None)
def rules_list(paths: tuple[str, ...], as_of: str | None, dimension: str | None) -> None:
    """One line per rule: id, dimension, severity, points, basis, window, title."""
    from engine.assessment.engine import parse_as_of

    try:
        ruleset = load_rules_arg(paths)
        day = parse_as_of(as_of) if as_of else None
    except AiriskError as exc:
        fail(exc)
    for r in ruleset.rules:
        if dimension and r.dimension != dimension:
            continue
        if day and not r.in_force(day):
            continue
        window = f"{r.window.effective_from}→{r.window.effective_to or ''}"
        click.echo(f"{r.id:<10} {r.dimension:<15} {r.severity:<8} {r.points:>5g}  {r.basis:<9} {window:<23} {r.title}")


@rules.command("show")
@click.argument("rule_id")
@click.option("--rules", "paths", multiple=True, type=click.Path(),
              help="Ruleset file or directory (repeatable), added to the bundled rulesets.")
@NO_BUNDLED_OPTION
def rules_show(rule_id: str, paths: tuple[str, ...]) -> None:
    """Everything about one rule, as YAML-like text (each dated variant, when it has several)."""
    from engine.errors import did_you_mean

    try:
        ruleset = load_rules_arg(paths)
    except AiriskError as exc:
        fail(exc)
    rule = ruleset.by_id.get(rule_id)
    if rule is None:
        hint = did_you_mean(rule_id, list(ruleset.by_id))
        click.echo(f"airisk: error: no rule {rule_id!r}" + (f" ({hint})" if hint else ""), err=True)
        raise SystemExit(2)
    variants = [r for r in ruleset.rules if r.id == rule_id]  # a dated variant per value of its parameters
    click.echo("---\n".join(_rule_text(r) for r in variants), nl=False)


def _rule_text(rule: Rule) -> str:
    """One rule as YAML-like text (``engine.ruleset.describe``)."""
    import yaml

    from engine.ruleset.describe import describe

    return str(yaml.safe_dump(describe(rule), sort_keys=False, allow_unicode=True, width=100))


# --------------------------------------------------------------------------- batch (issue 6)


@click.command("batch")
@click.argument("input_path", metavar="[INPUT|-]", default="-")
@click.option("--output", "-o", default=None,
              help="Write JSON lines here (atomically: temp file + rename); '-' or none: stdout.")
@click.option("--workers", "-w", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Worker processes.")
@click.option("--rules", "rules", multiple=True, type=click.Path(),
              help="Ruleset file or directory (repeatable), added to the bundled rulesets (one with a "
                   "bundled ruleset's id replaces it); --no-bundled: only these.")
@NO_BUNDLED_OPTION
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD",
              help="Assess every line as of this date (default today).")
@click.option("--scenario", default=None, help="Alternative date set declared by a ruleset.")
@click.option("--fail-on", "fail_on", type=LEVEL_CHOICE, default=None,
              help="Exit 1 if any case could be at or above this level: its worst case over its unknown facts "
                   "(fails closed).")
@click.option("--fail-on-known", "fail_on_known", is_flag=True,
              help="With --fail-on: compare each case's rating on the known facts only.")
@click.option("--max-line-bytes", default=1024 * 1024, show_default=True, type=click.IntRange(1),
              help="Longer lines get a `line_too_long` error record (never held in memory whole).")
@click.option("--chunk-lines", default=256, show_default=True, type=click.IntRange(1),
              help="Lines per chunk sent to a worker.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr (default: when stderr is a terminal).")
@click.option("--verify", is_flag=True,
              help="Check every case: the rules the Rete core fired must be exactly those the reference "
                   "evaluator finds true (a difference is an engine_disagreement error record).")
@click.option("--report", "report", default=None, type=click.Path(dir_okay=False),
              help="Also write the portfolio dashboard of the run here (HTML; built from --output, which must be "
                   "a file): see `airisk report`.")
@click.option("--dask", "dask_address", default=None, metavar="SCHEDULER",
              help="Run on a Dask cluster (e.g. tcp://scheduler:8786); INPUT is a glob of .jsonl files and "
                   "--output a directory (one NAME.jsonl per input file). Needs `pip install airisk[dask]`.")
@click.option("--record", "record", type=click.Choice(["full", "compact"]), default="full", show_default=True,
              help="full: each finding with its rule's texts and citations; compact: only what the case decides "
                   "(rule id, severity, points, message, evidence), the rest in the --catalog file once.")
@click.option("--catalog", "catalog", default=None, type=click.Path(dir_okay=False),
              help="Write the run's rule catalogue here (JSON: every rule in force, as `airisk rules show` "
                   "gives it); needed by --record compact, which names it by digest in every record.")
@click.option("--horizon", "horizon", default=0, show_default=True, type=click.IntRange(0), metavar="DAYS",
              help="List each case's changes due in the next DAYS days in its assessment (`upcoming`, as "
                   "`assess --horizon`); 0: none. Each change costs a re-assessment.")
@LANG_OPTION
@WAIVERS_OPTION
@QUIET_OPTION
def batch_command(input_path: str, output: str | None, workers: int, rules: tuple[str, ...],
                  as_of: str | None, scenario: str | None, fail_on: str | None, fail_on_known: bool,
                  max_line_bytes: int, chunk_lines: int, progress: bool | None, verify: bool,
                  report: str | None, dask_address: str | None, record: str, catalog: str | None, horizon: int,
                  lang: str, waivers: str | None) -> None:
    """Assess one case per line of INPUT (JSON lines; '-' or none reads stdin).

    Writes one JSON line per input line, in input order: {"line", "case_id",
    "assessment"} or {"line", "case_id", "error": {"code", "message", "field",
    "problems"}}. Blank, malformed, invalid and oversize lines get an error
    record and never stop the run. stdout carries only JSON lines; a summary
    (and, on a terminal, a progress bar) goes to stderr.

    \b
    Exit codes:
      0    every line was assessed (and none could be at or above --fail-on)
      1    a case could be at or above --fail-on: its worst case over its
           unknown facts (its known rating with --fail-on-known), and no line
           was an error
      2    usage error: bad option, unreadable rules or input (no output written)
      3    one or more lines were errors (their records say why)
      130  interrupted (Ctrl-C): what was done is written, in order
      129/143  hung up (SIGHUP) / terminated (SIGTERM): as Ctrl-C
      141  the reader closed the output (`| head -1`): a quiet stop
    """
    if report is not None and (dask_address is not None or output in (None, "-")):
        click.echo("airisk: error: --report needs --output FILE (the dashboard is built from the written "
                   "results), and does not work with --dask", err=True)
        raise SystemExit(2)
    try:
        check_output(report)  # an unwritable --report fails now, not after the run
        accepted = load_option(waivers)
        if dask_address is not None:
            from engine.batch.distributed import RunSettings, run_dask_cli
            from engine.config.conventions import batch_gate_notice, notice, rule_files_for

            code, stats = run_dask_cli(dask_address, input_path, output, rules=rule_files_for(rules), as_of=as_of,
                                       scenario=scenario, fail_on=fail_on, max_line_bytes=max_line_bytes,
                                       fail_on_known=fail_on_known, catalog=catalog,
                                       settings=RunSettings(lang=lang, waivers=accepted, record=record,
                                                            verify=verify, horizon=horizon))
            if code == 1 and fail_on:
                notice(batch_gate_notice(stats, fail_on, fail_on_known))
            raise SystemExit(code)
        from engine.batch.run import BatchOptions, run_batch

        options = BatchOptions(input=input_path, output=output, workers=workers, as_of=as_of,
                               scenario=scenario, fail_on=fail_on, fail_on_known=fail_on_known,
                               max_line_bytes=max_line_bytes,
                               chunk_lines=chunk_lines, progress=progress, verify=verify, waivers=accepted,
                               record=record, catalog=catalog, horizon=horizon)
        from engine.config.conventions import batch_gate_notice, notice, quiet

        code, stats = run_batch(load_rules_arg(rules, lang), options, stderr=io.StringIO() if quiet() else None)
    except AiriskError as exc:
        fail(exc)
    if code == 1 and fail_on:
        notice(batch_gate_notice(stats, fail_on, fail_on_known))
    if report is not None and output is not None and os.path.exists(output):
        from engine.report.cli import write_report

        write_report(output, report, catalog=catalog)
    raise SystemExit(code)


main.add_command(batch_command)
main.add_command(report_command)
main.add_command(waivers_group)

from engine.render.cli import render_command  # noqa: E402  (airisk render: batch results in any format)

main.add_command(render_command)

from engine.timeline.cli import diff_command, timeline_command  # noqa: E402  (issue 19)

main.add_command(timeline_command)
main.add_command(diff_command)



@rules.command("docs")
@click.option("--rules", "paths", multiple=True, type=click.Path(),
              help="Ruleset file or directory (repeatable), added to the bundled rulesets.")
@NO_BUNDLED_OPTION
@click.option("--output", "-o", "output", default="docs/rules", show_default=True, type=click.Path(file_okay=False),
              help="Directory for index.md and one <ruleset>.md each.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the files in --output differ.")
def rules_docs(paths: tuple[str, ...], output: str, check: bool) -> None:
    """Generate the Markdown reference of every rule (one file per ruleset + an index)."""
    from engine.authoring.docs import drift, write

    try:
        ruleset = load_rules_arg(paths)
    except AiriskError as exc:
        fail(exc)
    if check:
        stale = drift(ruleset, output)
        for name in stale:
            click.echo(f"{Path(output) / name}: out of date (run `airisk rules docs`)")
        raise SystemExit(1 if stale else 0)
    for target in write(ruleset, output):
        click.echo(f"wrote {target}")


if __name__ == "__main__":
    main()
