"""One root error for everything airisk reports about its input.

Every problem carries where it is (file, line, column, JSON pointer), what was
found, and a hint. Stages collect all problems they can find and raise once,
so a user fixes a file in one round rather than one error at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One located problem in a case file, a ruleset or a batch line."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    pointer: str = ""
    code: str = "invalid"
    hint: str | None = None

    def location(self) -> str:
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        text = f"{self.location()}: {self.pointer or '/'}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "pointer": self.pointer,
            "hint": self.hint,
        }


class AiriskError(Exception):
    """Root of every error airisk raises on purpose. Carries one or more problems."""

    exit_code = 2

    def __init__(self, problems: Problem | Sequence[Problem]) -> None:
        self.problems: list[Problem] = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def first(self) -> Problem:
        return self.problems[0]


class InputError(AiriskError):
    """A case file or batch line is malformed or does not fit the case model."""


class RulesetError(AiriskError):
    """A ruleset is malformed, inconsistent, or breaks a limit of the matching core."""


class EngineError(AiriskError):
    """The matching core failed on input that passed validation (a bug or a limit)."""


@dataclass
class ProblemList:
    """Collects problems, then raises them together."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self, kind: type[AiriskError]) -> None:
        if self.problems:
            raise kind(self.problems)


def did_you_mean(word: str, options: Iterable[str]) -> str | None:
    """A 'did you mean' hint for a misspelt key, operator or id, or None."""
    import difflib  # only a run that reports a problem needs it

    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def pointer(path: Sequence[str | int]) -> str:
    """RFC 6901 JSON pointer for a path of keys and indices."""
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path) if path else ""
