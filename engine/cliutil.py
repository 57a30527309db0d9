"""What the ``airisk`` commands share: the error exit, ``--rules`` loading, the ``--format`` and
level choices and the ``--fail-on`` gate. Commands defined outside ``engine/cli.py`` (in their own
package) import these from here, so no module imports the command group it is registered in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

import click

from engine.config.conventions import gate_level, rulesets_for
from engine.errors import AiriskError
from engine.lang.i18n import LANGS
from engine.scale import LEVELS

__all__ = ["EXIT_INTERNAL", "LANG_OPTION", "LEVEL_CHOICE", "NO_BUNDLED_OPTION", "QUIET_OPTION", "FormatChoice",
           "fail", "gate_level", "load_rules_arg"]

LEVEL_CHOICE = click.Choice(list(LEVELS))
EXIT_INTERNAL = 70  # sysexits.h EX_SOFTWARE: a bug in airisk, never a verdict on the input


def fail(exc: AiriskError) -> NoReturn:
    """Print every located problem to stderr and exit 2."""
    for problem in exc.problems:
        click.echo(f"airisk: error: {problem}", err=True)
    raise SystemExit(exc.exit_code)


def load_rules_arg(rules: Sequence[str], lang: str = "en") -> Any:
    """The rules a command assesses with: the bundled rulesets plus those named by ``--rules``
    (one with a bundled ruleset's id replaces it), or with ``--no-bundled`` only those named
    (``engine.config.conventions.rulesets_for``); their text in ``lang``."""
    return rulesets_for(rules, lang)


def _remember(key: str) -> Any:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value or key not in ctx.meta:  # a group's --quiet stays on for its command
            ctx.meta[key] = value

    return callback


#: ``--no-bundled``: ``--rules`` replaces the bundled rulesets instead of adding to them. Read by
#: ``load_rules_arg`` (so the command's signature does not change); the config key ``no_bundled``.
NO_BUNDLED_OPTION = click.option("--no-bundled", "no_bundled", is_flag=True, expose_value=False,
                                 callback=_remember("airisk.no_bundled"),
                                 help="Use only the --rules rulesets, not the bundled ones (--rules alone adds to "
                                      "them).")
#: ``--quiet`` on a command (as on the group): no informational stderr; errors are still printed.
QUIET_OPTION = click.option("--quiet", "-q", is_flag=True, expose_value=False, callback=_remember("airisk.quiet"),
                            help="No informational output on stderr (summaries, notices); errors are still printed.")


#: ``--lang en|zh``: the language of the rules' text and of the report (``engine.lang.i18n``).
LANG_OPTION = click.option("--lang", "lang", type=click.Choice(list(LANGS)), default="en", show_default=True,
                           help="Language of the report and the rules' text: en (English) or zh (Chinese). "
                                "Rule ids, fact paths and JSON enum values stay as they are.")


class FormatChoice(click.Choice):  # type: ignore[type-arg]
    """``--format``: the names in ``engine.render.FORMATS`` when the command runs, in their order
    (a format registered there is offered with no change here)."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        """The registered format names, in order."""
        from engine.render import FORMATS

        return tuple(FORMATS)

    @choices.setter
    def choices(self, _value: Any) -> None:
        """Set by ``click.Choice``; the registry is the only source."""
