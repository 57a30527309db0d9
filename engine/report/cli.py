"""``airisk report``: the portfolio dashboard of a batch run, as one self-contained HTML page."""

from __future__ import annotations

import click

from engine.cliutil import fail
from engine.errors import AiriskError
from engine.report.strings import LANGS


@click.command("report")
@click.argument("results", type=click.Path(dir_okay=False))
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
              help="Write the dashboard here (atomically), e.g. report.html.")
@click.option("--lang", type=click.Choice(LANGS), default=None,
              help="Language of the page's headings and labels (default: the results' own, else en).")
@click.option("--diff", "diff", default=None, type=click.Path(dir_okay=False),
              help="Also show the cases that changed: the JSON lines of `airisk diff`.")
@click.option("--catalog", "catalog", default=None, type=click.Path(dir_okay=False),
              help="The rule catalogue of the run (`airisk batch --catalog`): needed for compact records.")
def report_command(results: str, output: str, lang: str | None, diff: str | None, catalog: str | None) -> None:
    """Write the portfolio dashboard of RESULTS (the JSON lines of `airisk batch`) to --output.

    One self-contained HTML file (no network): counts by rating and by dimension level, the
    rules that drive most cases, the cases needing information, the distribution of scores,
    facilities by hub or country, and a sortable, filterable table of every case. RESULTS is
    read once, as a stream; 100,000 cases make a page of a few megabytes."""
    write_report(results, output, lang, diff, catalog)


def write_report(results: str, output: str, lang: str | None = None, diff: str | None = None,
                 catalog: str | None = None) -> None:
    """Build the dashboard of ``results`` and write it to ``output``; a bad input or an unwritable
    output exits 2 with the problem (``airisk batch --report`` calls this after its run)."""
    from engine.render.sink import check_output, write_output
    from engine.report.dashboard import dashboard_file

    try:
        check_output(output)
        from engine.render.cli import read_catalog

        write_output(dashboard_file(results, lang=lang, diff=diff, catalog=read_catalog(catalog)), output)
    except AiriskError as exc:
        fail(exc)
