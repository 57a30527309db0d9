"""Strict, bounded JSON reading (RFC 8259) that keeps source positions beside the data.

A ``.json`` case or ruleset, and JSON on stdin, is read here rather than by the YAML
parser, so that ``NaN``, ``Infinity``, bare words, comments, single quotes and trailing
commas are errors located at their line and column, as RFC 8259 says they are. The
reader is iterative (no recursion, whatever the nesting) and applies the same
``Limits`` and text checks as ``engine.source.safeyaml``: depth as each value opens, values,
items, text length, NFC, control characters and lone surrogates, duplicate keys.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_right
from typing import Any

from engine.errors import InputError, Problem, pointer
from engine.source.document import _FLOAT_MAX, _MAX_NUMBER_CHARS, Document, Limits, TextProblem, _escape, check_text

_WS = re.compile(r"[ \t\n\r]*")
# A string token: any character but '"', '\' and C0 controls, or a valid escape.
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"')
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LITERALS = {"true": True, "false": False, "null": None}
_NOT_JSON = {
    "NaN": "NaN is not a JSON number",
    "Infinity": "Infinity is not a JSON number",
    "nan": "NaN is not a JSON number",
    "inf": "Infinity is not a JSON number",
}


class _Reader:
    def __init__(self, text: str, file: str, limits: Limits) -> None:
        self.text = text
        self.file = file
        self.limits = limits
        self.nodes = 0
        self.offsets: dict[str, int] = {}
        self._lines = [m.end() for m in re.finditer("\n", text)]

    def where(self, pos: int) -> tuple[int, int]:
        line = bisect_right(self._lines, pos)
        start = self._lines[line - 1] if line else 0
        return line + 1, pos - start + 1

    def fail(self, message: str, pos: int, path: list[str | int], code: str = "parse_error",
             hint: str | None = None) -> InputError:
        line, col = self.where(min(pos, len(self.text)))
        return InputError(Problem(message=message, file=self.file, line=line, column=col, pointer=pointer(path),
                                  code=code, hint=hint))

    def unexpected(self, pos: int, path: list[str | int], wanted: str) -> InputError:
        text = self.text
        if pos >= len(text):
            return self.fail(f"unexpected end of JSON text: expected {wanted}", pos, path)
        char = text[pos]
        if char == "/" and text[pos + 1:pos + 2] in ("/", "*"):
            return self.fail("comments are not allowed in JSON", pos, path, hint="remove the comment, or use YAML")
        if char in "]}":
            return self.fail(f"unexpected '{char}': expected {wanted} (a trailing comma is not allowed in JSON)",
                             pos, path)
        if char == "'":
            return self.fail("strings must be in double quotes in JSON", pos, path)
        word = _WORD.match(text, pos) or (re.compile(r"[-+]?[A-Za-z]+").match(text, pos))
        if word:
            bare = word.group().lstrip("+-")
            message = _NOT_JSON.get(bare, f"bare word {word.group()!r} is not JSON (text must be in double quotes)")
            code = "invalid_number" if bare in _NOT_JSON else "parse_error"
            return self.fail(message, pos, path, code,
                             "NaN and Infinity have no JSON form" if bare in _NOT_JSON else None)
        if char == '"':
            return self.fail("invalid string: an unescaped control character, a bad escape or no closing quote",
                             pos, path)
        return self.fail(f"unexpected character {char!r}: expected {wanted}", pos, path)

    def count(self, pos: int, path: list[str | int]) -> None:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise self.fail(f"document has more than {self.limits.max_nodes} values", pos, path, "too_large")

    def string(self, pos: int, path: list[str | int], what: str = "text") -> tuple[str, int]:
        m = _STRING.match(self.text, pos)
        if not m:
            raise self.unexpected(pos, path, "a string")
        token = m.group()
        raw = json.loads(token) if "\\" in token else token[1:-1]
        try:
            return check_text(raw, self.limits, what), m.end()
        except TextProblem as exc:
            raise self.fail(exc.message, pos, path, exc.code, exc.hint) from None

    def number(self, pos: int, path: list[str | int]) -> tuple[int | float, int]:
        m = _NUMBER.match(self.text, pos)
        assert m is not None
        token = m.group()
        if len(token) > _MAX_NUMBER_CHARS:
            raise self.fail(f"a number of {len(token)} characters is too long", pos, path, "invalid_number",
                            "numbers must lie within ±1.8e308")
        if "." in token or "e" in token or "E" in token:
            value: int | float = float(token)
            if not math.isfinite(value):
                raise self.fail(f"{token} is beyond the range of numbers (±1.8e308)", pos, path, "invalid_number")
        else:
            value = int(token)
            if abs(value) > _FLOAT_MAX:
                raise self.fail(f"{token} is beyond the range of numbers (±1.8e308)", pos, path, "invalid_number")
        return value, m.end()

    def document(self) -> Any:
        """Read one JSON value and nothing after it, without recursion."""
        text, limits = self.text, self.limits
        n = len(text)
        # Each open container: (value, its path, its pointer, key waiting for a value or None).
        stack: list[list[Any]] = []
        pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
        if pos >= n:
            raise InputError(Problem(message="the file is empty", file=self.file, code="empty",
                                     hint="a case is a mapping of fields: id, kind, name, ..."))
        path: list[str | int] = []
        ptr = ""
        while True:
            # A value starts at pos, at path/ptr.
            if len(path) > limits.max_depth:
                raise self.fail(f"nesting deeper than {limits.max_depth} levels", pos, path, "too_deep")
            self.offsets.setdefault(ptr, pos)
            self.count(pos, path)
            char = text[pos] if pos < n else ""
            value: Any
            if char == "{" or char == "[":
                container: Any = {} if char == "{" else []
                stack.append([container, path, ptr, None])
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                closer = "}" if char == "{" else "]"
                if text[pos:pos + 1] == closer:
                    stack.pop()
                    value, pos = container, pos + 1
                elif char == "{":
                    path, ptr, pos = self.member_key(stack[-1], pos)
                    continue
                else:
                    path, ptr = [*path, 0], f"{ptr}/0"
                    continue
            else:
                value, pos = self.scalar(char, pos, path)
            # The value is complete: attach it, then find the next value or close containers.
            while True:
                pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
                if not stack:
                    if pos < n:
                        if text[pos] == "/" and text[pos + 1:pos + 2] in ("/", "*"):
                            raise self.unexpected(pos, [], "the end of the text")
                        raise self.fail("unexpected content after the JSON value", pos, [],
                                        hint="one case per file; JSON lines go to `airisk batch`")
                    return value
                frame = stack[-1]
                container, cpath, cptr = frame[0], frame[1], frame[2]
                if isinstance(container, list):
                    container.append(value)
                    if text[pos:pos + 1] == ",":
                        if len(container) >= limits.max_items:
                            raise self.fail(f"list has more than {limits.max_items} items", pos, cpath, "too_large")
                        pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                        path, ptr = [*cpath, len(container)], f"{cptr}/{len(container)}"
                        break
                    if text[pos:pos + 1] == "]":
                        stack.pop()
                        value, pos = container, pos + 1
                        continue
                    raise self.unexpected(pos, cpath, "',' or ']'")
                container[frame[3]] = value
                if text[pos:pos + 1] == ",":
                    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                    path, ptr, pos = self.member_key(frame, pos)
                    break
                if text[pos:pos + 1] == "}":
                    stack.pop()
                    value, pos = container, pos + 1
                    continue
                raise self.unexpected(pos, cpath, "',' or '}'")

    def scalar(self, char: str, pos: int, path: list[str | int]) -> tuple[Any, int]:
        """Read the string, number or literal starting with ``char`` at pos: (value, position after it)."""
        if char == '"':
            return self.string(pos, path)
        if char == "-" or char.isdigit():
            if not _NUMBER.match(self.text, pos):
                raise self.unexpected(pos, path, "a value")
            return self.number(pos, path)
        word = _WORD.match(self.text, pos)
        if word and word.group() in _LITERALS:
            return _LITERALS[word.group()], word.end()
        raise self.unexpected(pos, path, "a value")

    def member_key(self, frame: list[Any], pos: int) -> tuple[list[str | int], str, int]:
        """Read ``"key" :`` at pos into the open mapping ``frame``; the path, pointer and
        position of the member's value."""
        container, cpath, cptr = frame[0], frame[1], frame[2]
        if self.text[pos:pos + 1] != '"':
            raise self.unexpected(pos, cpath, "a member name in double quotes")
        key, end = self.string(pos, cpath, "key")
        if key in container:
            raise self.fail(f"duplicate key {key!r}", pos, [*cpath, key], "duplicate_key",
                            "a key may appear once in a mapping (keys are compared after NFC normalisation)")
        if len(container) >= self.limits.max_items:
            raise self.fail(f"mapping has more than {self.limits.max_items} keys", pos, cpath, "too_large")
        self.count(pos, [*cpath, key])
        frame[3] = key
        ptr = f"{cptr}/{_escape(key)}"
        self.offsets[ptr] = pos
        end = _WS.match(self.text, end).end()  # type: ignore[union-attr]
        if self.text[end:end + 1] != ":":
            raise self.unexpected(end, [*cpath, key], "':' after the member name")
        end = _WS.match(self.text, end + 1).end()  # type: ignore[union-attr]
        return [*cpath, key], ptr, end


def load_json(text: str, file: str, limits: Limits) -> Document:
    """Parse one strict JSON document (already decoded, size- and line-checked) with positions."""
    reader = _Reader(text, file, limits)
    try:
        data = reader.document()
    except RecursionError:  # pragma: no cover - nothing here recurses
        raise InputError(Problem(message="nesting too deep", file=file, code="too_deep")) from None
    positions = {ptr: reader.where(off) for ptr, off in reader.offsets.items()}
    return Document(data=data, file=file, positions=positions)
