"""The configuration as click defaults: a ``default_map`` for every command of the group.

A key gives a default to the option named by its ``Key.option`` (``fail_on`` → ``--fail-on``)
on every command that has that option, found by walking the command tree when the group runs.
So a command added later (``airisk diff``, ``airisk timeline``, ``--waivers``, ``--horizon``)
picks up its keys with no change to it or to this module. A flag on the command line always
overrides the file (click's ``default_map``: the file only replaces the option's default), and
``ctx.get_parameter_source(name)`` says which one a value came from.

A key is skipped for a command that lacks its option, and for one whose option does not accept
the value (``format: sarif`` is a default for ``assess`` and ``render``, not for ``explain``,
whose ``--format`` is text or json). The ``config`` command itself takes no defaults from the file.
"""

from __future__ import annotations

from typing import Any

import click

from engine.config.file import KEYS, Config

#: Commands that take no defaults from the file.
EXCLUDED = frozenset({"config"})


def _accepts(param: click.Parameter, value: Any) -> bool:
    """Whether ``param`` takes ``value`` as its default (a choice must be one of its choices)."""
    kind = param.type
    if isinstance(kind, click.Choice):
        values = value if isinstance(value, list) else [value]
        return all(v in kind.choices for v in values)
    return param.multiple or not isinstance(value, list)


def command_defaults(command: click.Command, config: Config) -> dict[str, Any]:
    """The ``default_map`` entries of one command (param name → value)."""
    by_option = {KEYS[k].option: (k, v) for k, v in config.values.items()}
    out: dict[str, Any] = {}
    for param in command.params:
        if not isinstance(param, click.Option) or param.name is None:
            continue
        for opt in param.opts:
            if opt in by_option:
                _, value = by_option[opt]
                if _accepts(param, value):
                    out[param.name] = list(value) if param.multiple and isinstance(value, list) else value
                break
    return out


def default_map(group: click.Group, config: Config, ctx: click.Context | None = None) -> dict[str, Any]:
    """The nested ``default_map`` of a group: ``{command: {param: value}}``, subgroups nested."""
    out: dict[str, Any] = {}
    for name in group.list_commands(ctx) if ctx is not None else sorted(group.commands):
        command = group.get_command(ctx, name) if ctx is not None else group.commands.get(name)
        if command is None or name in EXCLUDED:
            continue
        if isinstance(command, click.Group):
            nested = default_map(command, config, ctx)
            if nested:
                out[name] = nested
        else:
            own = command_defaults(command, config)
            if own:
                out[name] = own
    return out


def applies_to(group: click.Group, key: str, value: Any, prefix: str = "") -> list[str]:
    """The commands (``rules list`` for a subgroup's) whose option takes ``key``'s ``value``."""
    option = KEYS[key].option
    found: list[str] = []
    for name in sorted(group.commands):
        command = group.commands[name]
        if name in EXCLUDED:
            continue
        full = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found.extend(applies_to(command, key, value, full + " "))
            continue
        for param in command.params:
            if isinstance(param, click.Option) and option in param.opts and _accepts(param, value):
                found.append(full)
                break
    return found


def report(group: click.Group, config: Config) -> dict[str, Any]:
    """What ``airisk config --format json`` prints: the file, how it was found, and every key's
    effective value, its source and the commands it applies to."""
    keys = []
    for name, key in KEYS.items():
        value = config.values.get(name)
        entry: dict[str, Any] = {"key": name, "option": key.option, "value": value, "source": config.source(name)}
        entry["applies_to"] = applies_to(group, name, value) if name in config.values else []
        keys.append(entry)
    return {"file": config.file, "found_by": config.found_by, "keys": keys}


FOUND_BY = {"flag": "named by --config", "env": "named by AIRISK_CONFIG", "cwd": "found in the working directory",
            "none": ""}


def report_text(data: dict[str, Any]) -> str:
    """The text of ``airisk config``: one line per key, ``key = value  (source)``."""
    lines = [f"config file: {data['file']} ({FOUND_BY[data['found_by']]})" if data["file"]
             else "config file: none (no airisk.yaml, or pyproject.toml with [tool.airisk], in the working "
                  "directory)"]
    width = max(len(k["key"]) for k in data["keys"])
    for k in data["keys"]:
        value = "(not set)" if k["value"] is None else _shown(k["value"])
        text = f"{k['key']:<{width}} = {value}  [{k['source']}]"
        if k["applies_to"]:
            text += "  → " + ", ".join(k["applies_to"])
        lines.append(text)
    lines.append("A flag on the command line overrides each value, an AIRISK_<KEY> environment variable the file's; "
                 "`airisk --no-config …` ignores both.")
    return "\n".join(lines) + "\n"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)
