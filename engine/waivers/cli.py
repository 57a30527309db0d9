"""``airisk waivers check FILE [--against CORPUS]``: validate a waiver file and report on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson

from engine.cliutil import fail, load_rules_arg
from engine.errors import AiriskError

WAIVERS_OPTION = click.option(
    "--waivers", "waivers", default=None, type=click.Path(dir_okay=False),
    help="Waiver file (docs/waivers.md): the findings it covers are marked waived and do not count toward "
         "levels or --fail-on until the waiver expires.")


def load_option(path: str | None) -> Any:
    """The ``WaiverSet`` of a ``--waivers`` option (None without one)."""
    if path is None:
        return None
    from engine.waivers.model import load

    return load(path)


def report_notices(waivers: Any, day: str, *, quiet: bool = False) -> None:
    """Stale, expired and soon-expiring waivers, one line each on stderr."""
    if waivers is None or quiet:
        return
    from engine.waivers.check import notices

    for notice in notices(waivers, day):
        click.echo(f"airisk: {notice.kind}: {notice.text}", err=True)


def _corpus(paths: tuple[str, ...]) -> list[Any]:
    """The cases of ``--against``: case files, directories of them, or JSON-lines files."""
    from engine.api import read_document

    items: list[Any] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
            items.extend(read_document(p).data for p in files)
        elif path.suffix in (".jsonl", ".ndjson"):
            with path.open("rb") as fh:
                items.extend(line for line in fh.read().splitlines() if line.strip())
        else:
            items.append(read_document(path).data)
    return items


@click.group("waivers")
def waivers_group() -> None:
    """Accepted risk: check waiver files (docs/waivers.md)."""


@waivers_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--against", "against", multiple=True, type=click.Path(exists=True),
              help="Cases to match the waivers against (case files, directories, JSON-lines files; repeatable): "
                   "a waiver that covers no finding in them is stale.")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD", help="Date to judge expiry (default today).")
@click.option("--rules", "rules", multiple=True, type=click.Path(), help="Ruleset file or directory (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def check_command(file: str, against: tuple[str, ...], as_of: str | None, rules: tuple[str, ...], fmt: str) -> None:
    """Validate FILE and list its expired waivers, those expiring within 30 days and, with
    --against, the stale ones (covering no finding of those cases).

    \b
    Exit codes: 0 valid, nothing expired or stale; 1 some waiver expired or is stale;
    2 the file is invalid (every problem located: file, line, field)."""
    from engine.assessment.engine import parse_as_of
    from engine.waivers.check import notices

    try:
        waivers = load_option(file)
        day = parse_as_of(as_of)
        assessed = errors = 0
        if against:
            from engine.batch.records import iter_records, make_assessor

            assessor = make_assessor(load_rules_arg(rules), day, None, waivers=waivers)
            for record in iter_records(_corpus(against), assessor):
                if "assessment" in record:
                    assessed += 1
                else:
                    errors += 1
        found = notices(waivers, day, stale=bool(against))
    except AiriskError as exc:
        fail(exc)
    if fmt == "json":
        click.echo(orjson.dumps({
            "file": waivers.file, "sha256": waivers.sha256, "as_of": day, "waivers": len(waivers.waivers),
            "cases_assessed": assessed, "case_errors": errors,
            "notices": [{"kind": n.kind, "rule": n.waiver.rule, "line": n.waiver.line, "expires": n.waiver.expires,
                         "approver": n.waiver.approver, "text": n.text} for n in found]},
            option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(f"{waivers.file}: {len(waivers.waivers)} waiver(s), sha256 {waivers.sha256}, as of {day}"
                   + (f"; matched against {assessed} case(s)" + (f", {errors} unreadable" if errors else "")
                      if against else ""))
        for n in found:
            click.echo(f"{n.kind}: {n.text}")
        if not found:
            click.echo("ok: nothing expired" + (" or stale" if against else ""))
    raise SystemExit(1 if any(n.kind in ("expired", "stale") for n in found) else 0)
