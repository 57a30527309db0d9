"""What both readers share: input limits, the text check, and the parsed ``Document`` with the
position of every value. ``engine.source.safeyaml`` (YAML) and ``engine.source.safejson`` (JSON)
both build on this module and neither imports the other at module level."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from engine.errors import Problem, pointer


@dataclass(frozen=True)
class Limits:
    """Input limits, enforced before or while parsing (see docs/limits.md).

    ``max_bytes`` and ``max_line_bytes`` are checked before parsing;
    ``max_depth`` as each list or mapping opens; the others as values are read.
    """

    max_bytes: int = 5 * 1024 * 1024
    max_line_bytes: int = 1024 * 1024
    max_depth: int = 32
    max_nodes: int = 200_000
    max_scalar_chars: int = 100_000
    max_items: int = 10_000

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"limit {name} must be a positive integer, not {value!r}")


DEFAULT_LIMITS = Limits()


# C0 and C1 controls other than tab, LF and CR: invisible, and some drive terminals (ESC).
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_MAX_NUMBER_CHARS = 400  # > 1.8e308 in any base; keeps int() off thousands of digits
_FLOAT_MAX = 1.7976931348623157e308


class TextProblem(ValueError):
    """Why a text value is refused (raised by ``check_text``; callers locate it)."""

    def __init__(self, message: str, code: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.code, self.hint = message, code, hint


_CONTROL_HINT = "remove it; escapes such as \\0 or \\e are not allowed in values"


def check_text(value: str, limits: Limits, what: str = "text") -> str:
    """``value`` normalised to NFC, or ``TextProblem`` for over-long text, control
    characters or lone surrogates. Shared by the YAML and the JSON reader."""
    if len(value) > limits.max_scalar_chars:
        raise TextProblem(f"{what} longer than {limits.max_scalar_chars} characters", "too_large")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise TextProblem(f"{what} contains a lone surrogate (U+{ord(value[exc.start]):04X})", "invalid_text",
                              "a \\uD800-\\uDFFF escape must be half of a valid pair") from None
    bad = CONTROL_CHARS.search(value)
    if bad:
        raise TextProblem(f"{what} contains control character U+{ord(bad.group()):04X}", "invalid_text",
                          _CONTROL_HINT)
    return value if value.isascii() else unicodedata.normalize("NFC", value)


@dataclass
class Document:
    """A parsed document: plain data plus the position of every value."""

    data: Any
    file: str
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: tuple[str | int, ...] | list[str | int], message: str, *, code: str = "invalid",
              hint: str | None = None) -> Problem:
        """A Problem located at the deepest known ancestor of ``path``."""
        ptr = pointer(path)
        probe = list(path)
        while True:
            pos = self.positions.get(pointer(probe))
            if pos is not None or not probe:
                break
            probe.pop()
        line, col = pos if pos else (None, None)
        return Problem(message=message, file=self.file, line=line, column=col, pointer=ptr, code=code, hint=hint)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1") if "~" in key or "/" in key else key
