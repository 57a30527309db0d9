"""The configuration file: ``airisk.yaml`` or ``[tool.airisk]`` in ``pyproject.toml``.

Which file applies (``find_config``), first match wins:

1. ``--config FILE`` on the command group (``--no-config``: none at all);
2. the ``AIRISK_CONFIG`` environment variable (a path; empty means unset);
3. ``airisk.yaml`` in the working directory;
4. ``pyproject.toml`` in the working directory, when it has a ``[tool.airisk]`` table.

Only the working directory is searched, not its parents: the file that shaped a rating is
always the one in the directory the command ran from (or the one named), which is what an
auditor can check. ``airisk.yaml`` is parsed with the project's safe loader and its limits
(``engine.source.safeyaml``); ``pyproject.toml`` with ``tomllib``.

Each key can also be set by an ``AIRISK_<KEY>`` environment variable (``from_environment``),
which overrides the file; a flag overrides both, and ``--no-config`` ignores both.

Every problem is collected and raised together as a ``ConfigError`` (exit 2), located at
the file, line and key, with a did-you-mean for a misspelt key. Relative paths in
``rulesets`` and ``waivers`` are relative to the file's directory, not the working directory.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import AiriskError, Problem, did_you_mean
from engine.source.document import Limits

#: The bounds on a configuration file (it is a few lines; anything large is a mistake).
CONFIG_LIMITS = Limits(max_bytes=256 * 1024, max_depth=8, max_nodes=10_000)
CONFIG_NAME = "airisk.yaml"
PYPROJECT = "pyproject.toml"
ENV_VAR = "AIRISK_CONFIG"


class ConfigError(AiriskError):
    """A configuration file is unreadable, malformed, or has an unknown key or a wrong value."""


@dataclass(frozen=True)
class Key:
    """One configuration key: the command-line option it defaults, and its check."""

    name: str
    option: str  # the flag it gives a default to, on every command that has it
    expected: str  # what the value must be, for the error message
    check: Callable[[Any], Any]  # the value as the option takes it; raises ValueError when wrong
    path: bool = False  # a path (or list of paths), relative to the file's directory


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError
    return value


def _paths(value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError
    return [_text(v) for v in items]


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError
    return value


def _int(low: int, high: int | None) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
            raise ValueError
        return value

    return check


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        raise ValueError
    if isinstance(value, dt.date):
        return value.isoformat()
    return dt.date.fromisoformat(_text(value)).isoformat()


def _one_of(options: Callable[[], tuple[str, ...]]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options():
            raise ValueError
        return str(value)

    return check


def _levels() -> tuple[str, ...]:
    from engine.scale import LEVELS

    return tuple(LEVELS)


def _formats() -> tuple[str, ...]:
    from engine.render import FORMATS

    return tuple(FORMATS)


def _langs() -> tuple[str, ...]:
    from engine.lang.i18n import LANGS

    return tuple(LANGS)


#: Every key the file may hold, in the order ``airisk config`` lists them.
KEYS: dict[str, Key] = {k.name: k for k in (
    Key("rulesets", "--rules", "a list of ruleset files or directories", _paths, path=True),
    Key("no_bundled", "--no-bundled", "true or false", _bool),
    Key("as_of", "--as-of", "a date YYYY-MM-DD", _date),
    Key("scenario", "--scenario", "a scenario name", _text),
    Key("fail_on", "--fail-on", "one of the levels", _one_of(_levels)),
    Key("waivers", "--waivers", "a waiver file", _text, path=True),
    Key("format", "--format", "an output format", _one_of(_formats)),
    Key("horizon", "--horizon", "a whole number of days, 0 or more", _int(0, None)),
    Key("lang", "--lang", "a language", _one_of(_langs)),
    Key("workers", "--workers", "a whole number from 1 to 256", _int(1, 256)),
)}


@dataclass(frozen=True)
class Config:
    """A loaded configuration: each key's value (checked, paths made absolute) and where it was set."""

    file: str | None = None  # as shown in messages; None: no configuration file
    found_by: str = "none"  # "flag" (--config), "env" (AIRISK_CONFIG), "cwd", or "none"
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int | None] = field(default_factory=dict)  # the line of each key set
    env: dict[str, str] = field(default_factory=dict)  # key -> the environment variable that set it

    def source(self, key: str) -> str:
        """Where ``key``'s value comes from: ``$AIRISK_KEY`` when an environment variable sets it,
        ``FILE:LINE`` (or ``FILE``) when the file does, else ``default``."""
        if key in self.env:
            return f"${self.env[key]}"
        if key not in self.values or self.file is None:
            return "default"
        line = self.lines.get(key)
        return f"{self.file}:{line}" if line else self.file


def find_config(explicit: str | None = None, *, disabled: bool = False, cwd: Path | None = None,
                environ: Mapping[str, str] | None = None) -> tuple[Path | None, str]:
    """The configuration file that applies and how it was found (see the module docstring)."""
    if disabled:
        return None, "none"
    if explicit:
        return Path(explicit), "flag"
    env = (os.environ if environ is None else environ).get(ENV_VAR, "")
    if env:
        return Path(env), "env"
    here = cwd if cwd is not None else Path.cwd()
    if (here / CONFIG_NAME).is_file():
        return here / CONFIG_NAME, "cwd"
    pyproject = here / PYPROJECT
    if pyproject.is_file() and _has_tool_table(pyproject):
        return pyproject, "cwd"
    return None, "none"


def _has_tool_table(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return b"[tool.airisk" in fh.read(CONFIG_LIMITS.max_bytes * 4)
    except OSError:
        return False


def load_config(explicit: str | None = None, *, disabled: bool = False, cwd: Path | None = None,
                environ: Mapping[str, str] | None = None) -> Config:
    """Find and load the configuration (an empty ``Config`` when there is none): the file's keys,
    then the per-key environment variables (``AIRISK_FAIL_ON`` …) over them. ``disabled``
    (``--no-config``): neither."""
    if disabled:
        return Config()
    env_values, env_names = from_environment(os.environ if environ is None else environ)
    path, how = find_config(explicit, disabled=disabled, cwd=cwd, environ=environ)
    if path is None:
        return Config(values=env_values, env=env_names)
    shown = _shown(path)
    raw = _read(path, shown)
    if path.name == PYPROJECT or path.suffix == ".toml":
        data, lines, where = _from_toml(raw, shown)
    else:
        data, lines, where = _from_yaml(raw, shown)
    values = _check(data, shown, lines, where, path.parent)
    return Config(shown, how, {**values, **env_values}, {k: lines.get(k) for k in values if k not in env_values},
                  env_names)


def env_var(key: str) -> str:
    """The environment variable of a configuration key: ``fail_on`` → ``AIRISK_FAIL_ON``."""
    return "AIRISK_" + key.upper()


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _env_value(key: Key, raw: str) -> Any:
    """An environment variable's text as the value the key's check takes."""
    text = raw.strip()
    if key.check is _paths:
        return [p for p in text.split(os.pathsep) if p.strip()]
    if key.check is _bool:
        low = text.lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise ValueError
    if key.name in ("horizon", "workers"):
        if not text.isdigit():
            raise ValueError
        return int(text)
    return text


def from_environment(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The keys set by per-key environment variables (an empty value counts as unset), checked as
    the file's are; and the variable that set each. Paths are as given (relative to the working
    directory); ``AIRISK_RULESETS`` separates paths with ``os.pathsep`` (``:``). Every problem is
    raised together, naming the variable."""
    values: dict[str, Any] = {}
    names: dict[str, str] = {}
    problems: list[Problem] = []
    for key in KEYS.values():
        name = env_var(key.name)
        raw = environ.get(name, "")
        if not raw.strip():
            continue
        try:
            values[key.name] = key.check(_env_value(key, raw))
        except (ValueError, TypeError):
            expected = "true or false (or 1, 0, yes, no, on, off)" if key.check is _bool else key.expected
            if key.check is _paths:
                expected += f", separated by {os.pathsep!r}"
            problems.append(Problem(message=f"{name} must be {expected}, not {raw!r}", file=f"${name}",
                                    code="invalid_value", hint=_hint(key)))
            continue
        names[key.name] = name
    if problems:
        raise ConfigError(problems)
    return values, names


def _shown(path: Path) -> str:
    """The file as messages name it: relative to the working directory when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def _read(path: Path, shown: str) -> bytes:
    if path.exists() and not path.is_file():  # checked before opening: a FIFO would block the open
        raise ConfigError(Problem(message="a configuration file must be a regular file", file=shown,
                                  code="io_error"))
    try:
        with path.open("rb") as fh:
            return fh.read(CONFIG_LIMITS.max_bytes * 4 + 1)
    except OSError as exc:
        raise ConfigError(Problem(message=f"cannot read the configuration file: {exc.strerror}", file=shown,
                                  code="io_error")) from None


def _from_yaml(raw: bytes, shown: str) -> tuple[Any, dict[str, int], str]:
    from engine.source.safeyaml import load_text

    try:
        doc = load_text(raw, shown, CONFIG_LIMITS, "yaml")
    except AiriskError as exc:
        raise ConfigError(exc.problems) from None
    data = {} if doc.data is None else doc.data  # an empty file sets nothing
    lines: dict[str, int] = {}
    if isinstance(data, dict):
        for key in data:
            pos = doc.positions.get("/" + str(key).replace("~", "~0").replace("/", "~1"))
            if pos is not None:
                lines[str(key)] = pos[0]
    return data, lines, ""


def _from_toml(raw: bytes, shown: str) -> tuple[Any, dict[str, int], str]:
    import tomllib

    if len(raw) > CONFIG_LIMITS.max_bytes * 4:
        raise ConfigError(Problem(message=f"file is larger than {CONFIG_LIMITS.max_bytes * 4} bytes", file=shown,
                                  code="too_large"))
    try:
        text = raw.decode("utf-8")
        whole = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise ConfigError(Problem(message=f"malformed TOML: {exc}", file=shown,
                                  line=int(found.group(1)) if found else None, code="parse_error")) from None
    tool = whole.get("tool", {})
    data = tool.get("airisk", {}) if isinstance(tool, dict) else {}
    return data, _toml_lines(text), "/tool/airisk"


def _toml_lines(text: str) -> dict[str, int]:
    """The line of each key of the ``[tool.airisk]`` table (tomllib keeps no positions)."""
    lines: dict[str, int] = {}
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped.split("#", 1)[0].strip() == "[tool.airisk]"
            continue
        found = re.match(r"""["']?([A-Za-z0-9_-]+)["']?\s*=""", stripped) if inside else None
        if found and found.group(1) not in lines:
            lines[found.group(1)] = number
    return lines


def _check(data: Any, shown: str, lines: dict[str, int], where: str, base: Path) -> dict[str, Any]:
    """Each key checked; every problem raised together."""
    if not isinstance(data, dict):
        raise ConfigError(Problem(message=f"the configuration must be a mapping of keys, not {type(data).__name__}",
                                  file=shown, line=1, pointer=where or "/", code="invalid"))
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for name, value in data.items():
        key = KEYS.get(str(name))
        line = lines.get(str(name))
        pointer = f"{where}/{name}"
        if key is None:
            hint = did_you_mean(str(name), list(KEYS)) or "known keys: " + ", ".join(KEYS)
            problems.append(Problem(message=f"unknown key {name!r}", file=shown, line=line, pointer=pointer,
                                    code="unknown_key", hint=hint))
            continue
        try:
            checked = key.check(value)
        except (ValueError, TypeError):
            problems.append(Problem(message=f"{name} must be {key.expected}, not {value!r}", file=shown, line=line,
                                    pointer=pointer, code="invalid_value", hint=_hint(key)))
            continue
        if key.path:
            checked = ([str(base / p) for p in checked] if isinstance(checked, list) else str(base / checked))
        values[key.name] = checked
    if problems:
        raise ConfigError(problems)
    return values


def _hint(key: Key) -> str | None:
    options = {"fail_on": _levels, "format": _formats, "lang": _langs}.get(key.name)
    return "one of: " + ", ".join(options()) if options else None
