"""Render message templates: ``{fact.path}`` and ``{fact.path:SPEC}`` only.

No attribute access, indexing or expressions: a template names facts by path
and, optionally, a number format. Paths that start with a list the rule
matched with ``some`` refer to the first matched item of that list.
"""

from __future__ import annotations

import math
import re
from typing import Any

from engine.lang import conditions as C

# Bidirectional controls (embeddings, overrides, isolates, marks) and invisible separators can make a
# terminal or a report show a different name than the data holds (U+202E reverses what follows).
# ZWNJ and ZWJ (U+200C, U+200D) are kept: Persian, Indic scripts and emoji need them.
_INVISIBLE = re.compile("[\u061c\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def escape_invisible(text: str) -> str:
    """``text`` with bidi controls and invisible format characters shown as ``<U+202E>``."""
    return _INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)(?::([^{}]*))?\}")


def format_value(value: Any, spec: str | None = None) -> str:
    """A fact value as a person reads it."""
    if C.is_missing(value) or value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value) if value else "none"
    if isinstance(value, int | float):
        if spec:
            try:
                return format(value, spec)
            except (ValueError, TypeError):
                pass
        if isinstance(value, float):
            if not math.isfinite(value):
                return str(value)
            if value.is_integer() and abs(value) < 1e15:
                return f"{int(value):,}"
            if abs(value) >= 1e6:
                return f"{value:.3g}"
            return f"{value:,.3f}".rstrip("0").rstrip(".")
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    return str(value)


def render_template(template: str, view: dict[str, Any], items: dict[str, list[int]]) -> str:
    """Fill a rule's text with facts from the case view and the matched items."""

    def sub(match: re.Match[str]) -> str:
        path, spec = match.group(1), match.group(2)
        parts = tuple(path.split("."))
        for list_name, indices in items.items():
            lp = tuple(list_name.split("."))
            if parts[: len(lp)] == lp and indices:
                seq = C.lookup(view, lp)
                if isinstance(seq, list) and indices[0] < len(seq):
                    return format_value(C.lookup(seq[indices[0]], parts[len(lp):]), spec)
        return format_value(C.lookup(view, parts), spec)

    return " ".join(_PLACEHOLDER.sub(sub, template).split())
