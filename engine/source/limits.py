"""Input limits: their defaults, and how the command line sets them.

The limits themselves live in ``engine.source.safeyaml.Limits`` (re-exported here);
the library takes a ``Limits`` argument. The command line reads one
environment variable per limit, ``AIRISK_MAX_BYTES`` and so on, so that the
same setting reaches every command and every worker process a command starts.
See ``docs/limits.md``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from engine.errors import InputError, Problem
from engine.source.safeyaml import DEFAULT_LIMITS, Limits

__all__ = ["DEFAULT_LIMITS", "ENV_VARS", "Limits", "limits_from_env"]

ENV_VARS: dict[str, str] = {f.name: f"AIRISK_{f.name.upper()}" for f in dataclasses.fields(Limits)}
"""Limit field name → environment variable, e.g. ``max_bytes`` → ``AIRISK_MAX_BYTES``."""

_SUFFIXES = {"k": 1024, "m": 1024**2, "g": 1024**3}


def _parse(name: str, text: str) -> int:
    raw = text.strip().lower().replace("_", "")
    scale = 1
    if raw[-1:] in _SUFFIXES:
        scale = _SUFFIXES[raw[-1]]
        raw = raw[:-1]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 15 or int(raw) * scale < 1:
        raise InputError(Problem(message=f"{name}={text!r} is not a positive whole number", file=f"${name}",
                                 code="invalid_limit", hint="write e.g. 1048576, 1024k or 1m"))
    return int(raw) * scale


def limits_from_env(environ: Mapping[str, str] | None = None, base: Limits = DEFAULT_LIMITS) -> Limits:
    """``base`` with every limit that has an ``AIRISK_*`` variable set replaced by its value.

    An empty variable is ignored; a malformed one raises ``InputError``."""
    env = os.environ if environ is None else environ
    changes = {field: _parse(var, env[var]) for field, var in ENV_VARS.items() if env.get(var, "").strip()}
    return dataclasses.replace(base, **changes) if changes else base
