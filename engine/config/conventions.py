"""The conventions every ``airisk`` command shares (issue 20, part 4).

- ``--rules`` adds to the bundled rulesets; a ruleset with a bundled one's id replaces it;
  ``--no-bundled`` uses only the rulesets given (``rulesets_for``).
- ``assess DIR`` assesses the case files under DIR (``case_inputs``).
- ``--quiet`` silences informational stderr (summaries, notices); errors are always printed,
  and stdout is never changed by it (``notice``).
- ``--version`` lists the bundled rulesets with their SHA-256 (``version_text``).
- A tripped ``--fail-on`` names the cases and their levels on stderr (``gate_notice``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import click

from engine.errors import InputError, Problem, RulesetError

#: The ``ctx.meta`` keys the shared options set (``ctx.meta`` is one dict for a whole invocation).
META_NO_BUNDLED = "airisk.no_bundled"
META_QUIET = "airisk.quiet"
META_CONFIG = "airisk.config"

#: Case files ``assess DIR`` takes: the syntaxes a case file may have.
CASE_SUFFIXES = (".yaml", ".yml", ".json")
#: How many case ids a ``--fail-on`` notice names before "and K more".
NAMED_CASES = 10


def _meta() -> dict[str, Any]:
    ctx = click.get_current_context(silent=True)
    return ctx.meta if ctx is not None else {}


def no_bundled() -> bool:
    """``--no-bundled`` on this command, else the configuration's ``no_bundled`` (commands
    without the option still honour the file), else False."""
    meta = _meta()
    if META_NO_BUNDLED in meta:
        return bool(meta[META_NO_BUNDLED])
    config = meta.get(META_CONFIG)
    return bool(config is not None and config.values.get("no_bundled"))


def rulesets_for(rules: Sequence[str], lang: str = "en", *, replace: bool | None = None) -> Any:
    """The rules a command assesses with: the bundled rulesets plus ``rules`` (a bundled ruleset
    of the same id replaced), or with ``replace`` (default: ``--no-bundled``) only ``rules``."""
    from engine.api import load_rules
    from engine.ruleset.load import load_rules_with_bundled

    only = no_bundled() if replace is None else replace
    if only:
        if not rules:
            raise RulesetError(Problem(message="--no-bundled needs --rules FILE|DIR (the rulesets to use instead)",
                                       code="usage"))
        return load_rules(list(rules), lang)
    if not rules:
        return load_rules(None, lang)
    return load_rules_with_bundled(list(rules), lang)


def rule_files_for(rules: Sequence[str]) -> list[str] | None:
    """``rulesets_for`` as the list of files to load (None: the bundled ones), for workers that load
    the rules themselves (``batch --dask``)."""
    from engine.ruleset.load import with_bundled_files

    if no_bundled() or not rules:
        if no_bundled() and not rules:
            raise RulesetError(Problem(message="--no-bundled needs --rules FILE|DIR", code="usage"))
        return list(rules) or None
    files, _ = with_bundled_files(list(rules))
    return [str(f) for f in files]


def case_inputs(args: Sequence[str]) -> tuple[list[str], bool]:
    """The case files ``assess`` reads, and whether the output holds several cases.

    A directory stands for its case files (``*.yaml``, ``*.yml``, ``*.json`` directly in it, not
    in subdirectories; sorted by name, so the order is the same on every machine); one with none
    is an error. Several arguments, or any directory, make a multi-case output (JSON: a list, even
    of one); a single file argument a single-case output (JSON: the object)."""
    names: list[str] = []
    problems: list[Problem] = []
    many = len(args) > 1
    for arg in args:
        path = Path(arg)
        if arg != "-" and path.is_dir():
            many = True
            found = sorted((p for p in path.iterdir() if p.suffix in CASE_SUFFIXES and p.is_file()
                            and not p.name.endswith((".tests.yaml", ".tests.yml"))), key=lambda p: p.name)
            if not found:
                problems.append(Problem(message="no case files (*.yaml, *.yml, *.json) in this directory",
                                        file=arg, code="no_cases"))
            names.extend(str(p) for p in found)
        else:
            names.append(arg)
    if problems:
        raise InputError(problems)
    return names, many


def setting_origin(param: str, key: str) -> str | None:
    """Where the configuration set this command's ``param`` (``airisk.yaml:3``, or ``$AIRISK_FAIL_ON``
    for a per-key environment variable), or None when it came from the command line or the
    option's own default (``click.Context.get_parameter_source``)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.get_parameter_source(param) is not click.core.ParameterSource.DEFAULT_MAP:
        return None
    config = ctx.meta.get(META_CONFIG)
    return None if config is None else str(config.source(key))


def quiet() -> bool:
    """Whether ``--quiet`` was given (on the group or the command)."""
    return bool(_meta().get(META_QUIET))


def notice(message: str) -> None:
    """An informational line on stderr, unless ``--quiet``."""
    if not quiet():
        click.echo(message, err=True)


def gate_notice(fail_on: str, tripped: Sequence[tuple[str, str, str | None]], total: int | None = None) -> str:
    """The stderr line of a tripped ``--fail-on``: the cases (id, gate level, known rating), the
    first ``NAMED_CASES`` of them in input order, then "and K more" (``total``: how many tripped,
    when ``tripped`` lists only the first of them)."""
    count = len(tripped) if total is None else total
    shown = [f"{cid} ({level}" + (f"; rated {known} on the known facts" if known and known != level else "") + ")"
             for cid, level, known in tripped[:NAMED_CASES]]
    more = count - len(shown)
    origin = setting_origin("fail_on", "fail_on")
    gate = f"--fail-on {fail_on}" + (f" (from {origin})" if origin else "")
    text = f"airisk: {gate}: {count} case(s) at or above {fail_on}: " + ", ".join(shown)
    return text + (f" and {more} more" if more > 0 else "")


def tripped_cases(results: Iterable[dict[str, Any]], fail_on: str,
                  known_only: bool) -> list[tuple[str, str, str | None]]:
    """The assessments at or above ``fail_on`` as the gate compares them: (case id, level, known rating)."""
    from engine.scale import LEVEL_ORDER, LEVELS

    names: list[str] = list(LEVELS)
    out: list[tuple[str, str, str | None]] = []
    for r in results:
        level = gate_level(r, known_only)
        if level >= LEVEL_ORDER[fail_on]:
            out.append((str(r.get("case_id")), names[level], r.get("rating")))
    return out


def version_text() -> str:
    """``airisk --version``: the engine's version, and each bundled ruleset's id, version and
    SHA-256 (of the file followed by the sources file it cites, as in an assessment's provenance)."""
    from engine.api import load_rules
    from engine.version import __version__

    lines = [f"airisk, version {__version__}", "bundled rulesets (sha256 of the file, then its sources file if any):"]
    for rs in load_rules(None).rulesets:
        lines.append(f"  {rs.id} {rs.version} sha256:{rs.sha256}  {rs.file}")
    return "\n".join(lines) + "\n"


def render_cases(out: Any, results: Sequence[dict[str, Any]], context: Any, many: bool) -> bytes:
    """``assess``'s output in format ``out`` (an ``engine.render.Format``): a multi-case run (a
    directory, or several CASEs) always in the format's several-case shape (JSON: a list, even of
    one case); a single CASE file in its one-case shape (JSON: the object)."""
    if many and len(results) == 1 and out.render_with is None and out.render_many is not None:
        return bytes(out.render_many(results, bool(context.colour and out.colour)))
    return bytes(out.render(results, context=context))


def batch_gate_notice(stats: Any, fail_on: str, known_only: bool) -> str:
    """``gate_notice`` for a batch run, from its ``Stats``: the first cases by input line at or
    above ``fail_on`` (the stats keep the first few of each level) and how many there were."""
    from engine.scale import LEVEL_ORDER, LEVELS

    side = "known" if known_only else "worst"
    counts = stats.by_level if known_only else stats.by_worst
    levels = [lvl for lvl in LEVELS if LEVEL_ORDER[lvl] >= LEVEL_ORDER[fail_on]]
    entries = sorted((e for lvl in levels for e in stats.named.get(f"{side}:{lvl}", [])),
                     key=lambda e: e[0] if isinstance(e[0], int) else 0)
    tripped = [(str(cid), worst if side == "worst" else known, known) for _line, cid, known, worst in entries]
    return gate_notice(fail_on, tripped[:NAMED_CASES], sum(counts[lvl] for lvl in levels))


def gate_level(result: dict[str, Any], known_only: bool) -> int:
    """The level a --fail-on gate compares: the worst case over the unknown facts (fails closed),
    or with --fail-on-known the rating on the known facts. A case no dimension of which is
    assessed has no level and passes."""
    level = result["rating"] if known_only or not result.get("rating_range") else result["rating_range"][1]
    return -1 if level is None else _level_order(level)


def _level_order(level: str) -> int:
    from engine.scale import LEVEL_ORDER

    return LEVEL_ORDER[level]
