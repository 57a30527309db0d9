"""``airisk config`` and the command group's configuration options.

The group's ``--config FILE`` / ``--no-config`` / ``--quiet`` / ``--version`` are defined here
(``GROUP_OPTIONS``) and its callback calls ``configure``, which loads the file and sets
``ctx.default_map`` for every command (``engine.config.apply``). So ``engine/cli.py`` only
decorates its group and calls one function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
import orjson

from engine.config.conventions import META_CONFIG, META_QUIET
from engine.config.file import Config, load_config
from engine.errors import AiriskError

F = TypeVar("F", bound=Callable[..., Any])


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from engine.cliutil import fail
    from engine.config.conventions import version_text

    try:
        click.echo(version_text(), nl=False)
    except AiriskError as exc:
        fail(exc)
    ctx.exit(0)


def _quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[META_QUIET] = True


def group_options(f: F) -> F:
    """The group's options: --version, --config, --no-config, --quiet."""
    for option in reversed((
        click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
                     help="Print the airisk version and each bundled ruleset's id, version and SHA-256, and exit."),
        click.option("--config", "config_file", default=None, type=click.Path(dir_okay=False), metavar="FILE",
                     help="Read option defaults from FILE (default: $AIRISK_CONFIG, else airisk.yaml or "
                          "pyproject.toml [tool.airisk] in the working directory). Flags override it."),
        click.option("--no-config", "no_config", is_flag=True, help="Ignore every configuration file."),
        click.option("--quiet", "-q", is_flag=True, expose_value=False, callback=_quiet,
                     help="No informational output on stderr (summaries, notices); errors are still printed."),
    )):
        f = option(f)
    return f


def configure(ctx: click.Context, config_file: str | None, no_config: bool) -> Config:
    """Load the configuration and make it the default of every command's options (exit 2, located,
    when the file is bad). A command can read it back from ``ctx.meta['airisk.config']``."""
    from engine.cliutil import fail
    from engine.config.apply import default_map

    try:
        config = load_config(config_file, disabled=no_config)
    except AiriskError as exc:
        fail(exc)
    ctx.meta[META_CONFIG] = config
    if config.values and isinstance(ctx.command, click.Group):
        ctx.default_map = default_map(ctx.command, config, ctx)
    return config


@click.command("config")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def config_command(ctx: click.Context, fmt: str) -> None:
    """Print the effective configuration: each key, its value, where it came from (default, or the
    file and line that set it) and the commands it gives a default to.

    \b
    Keys: rulesets, no_bundled, as_of, scenario, fail_on, waivers, format, horizon, lang, workers.
    A flag on the command line overrides each of them. See docs/config.md."""
    from engine.config.apply import report, report_text

    root = ctx.find_root()
    config = ctx.meta.get(META_CONFIG) or Config()
    data = report(root.command if isinstance(root.command, click.Group) else click.Group(), config)
    if fmt == "json":
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(report_text(data), nl=False)
