"""Safe, bounded YAML/JSON reading that keeps source positions beside the data.

Rulesets and cases come from other parties, so reading them must never build
objects, never blow up memory, and must be able to say *where* a problem is.
This module:

- composes the YAML node graph with a SafeLoader subclass and builds plain
  Python values itself, so no tag can construct an object;
- uses YAML 1.2 core-schema booleans and floats (``NO`` is Norway, not false;
  ``1e+25`` is a number, not a string);
- rejects duplicate keys, non-string keys and unknown tags;
- enforces limits on bytes, nesting depth and total nodes (so an alias
  "billion laughs" document fails fast instead of expanding);
- records ``pointer -> (line, column)`` for every value, so later stages can
  point at the field that is wrong without injecting marker keys into the data.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.errors import InputError, Problem, pointer


@dataclass(frozen=True)
class Limits:
    """Input limits, enforced before or while parsing. All are configurable."""

    max_bytes: int = 5 * 1024 * 1024
    max_depth: int = 32
    max_nodes: int = 200_000
    max_scalar_chars: int = 100_000


DEFAULT_LIMITS = Limits()

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""",
    re.X,
)
_INT = re.compile(r"^(?:[-+]?0|[-+]?[1-9][0-9_]*|0o[0-7]+|0x[0-9a-fA-F]+)$")


# libyaml's parser when PyYAML was built with it (about 10x faster); same safe constructor.
_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # type: ignore[assignment]


class _Loader(_BASE):  # type: ignore[valid-type,misc]
    """Safe loader with YAML 1.2 core-schema scalars (no yes/no/on/off booleans)."""


# Replace the YAML 1.1 implicit resolvers for bool/int/float with YAML 1.2 core ones.
_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag not in {
        "tag:yaml.org,2002:bool", "tag:yaml.org,2002:float", "tag:yaml.org,2002:int"}]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))

_SAFE_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


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


def _problem(file: str, message: str, mark: Any = None, *, code: str = "parse_error", hint: str | None = None) -> Problem:
    line = mark.line + 1 if mark is not None else None
    col = mark.column + 1 if mark is not None else None
    return Problem(message=message, file=file, line=line, column=col, code=code, hint=hint)


class _Builder:
    def __init__(self, file: str, loader: _Loader, limits: Limits) -> None:
        self.file = file
        self.loader = loader
        self.limits = limits
        self.nodes = 0
        self.positions: dict[str, tuple[int, int]] = {}

    def build(self, node: yaml.Node, path: list[str | int]) -> Any:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise InputError(_problem(self.file, f"document has more than {self.limits.max_nodes} values",
                                      node.start_mark, code="too_large",
                                      hint="aliases that expand a document are refused too"))
        if len(path) > self.limits.max_depth:
            raise InputError(_problem(self.file, f"nesting deeper than {self.limits.max_depth} levels",
                                      node.start_mark, code="too_deep"))
        self.positions.setdefault(pointer(path), (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SAFE_SCALAR_TAGS:
                raise InputError(_problem(self.file, f"tag {node.tag!r} is not allowed", node.start_mark,
                                          code="unsafe_tag", hint="cases and rulesets are plain data"))
            if len(node.value) > self.limits.max_scalar_chars:
                raise InputError(_problem(self.file, f"value longer than {self.limits.max_scalar_chars} characters",
                                          node.start_mark, code="too_large"))
            value = self.loader.construct_object(node, deep=True)
            if isinstance(value, float) and not math.isfinite(value):
                raise InputError(_problem(self.file, f"{node.value} is not a finite number", node.start_mark,
                                          code="invalid_number", hint="NaN, Infinity and overflowing numbers are refused"))
            return value
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise InputError(_problem(self.file, f"tag {node.tag!r} is not allowed", node.start_mark,
                                          code="unsafe_tag"))
            return [self.build(child, [*path, i]) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                raise InputError(_problem(self.file, f"tag {node.tag!r} is not allowed", node.start_mark,
                                          code="unsafe_tag"))
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise InputError(_problem(self.file, "merge keys (<<) are not allowed", key_node.start_mark,
                                              code="unsafe_tag"))
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                    raise InputError(_problem(self.file, "keys must be strings", key_node.start_mark,
                                              code="invalid_key", hint="quote keys such as 'no', 1 or 2025-01-01"))
                key = key_node.value
                if key in out:
                    raise InputError(_problem(self.file, f"duplicate key {key!r}", key_node.start_mark,
                                              code="duplicate_key"))
                self.positions[pointer([*path, key])] = (key_node.start_mark.line + 1,
                                                         key_node.start_mark.column + 1)
                out[key] = self.build(value_node, [*path, key])
            return out
        raise InputError(_problem(self.file, "unsupported YAML node", node.start_mark))  # pragma: no cover


def load_text(text: str | bytes, file: str, limits: Limits = DEFAULT_LIMITS) -> Document:
    """Parse YAML (or JSON, which is read as YAML 1.2) safely, with positions."""
    if isinstance(text, bytes):
        if len(text) > limits.max_bytes:
            raise InputError(_problem(file, f"file is larger than {limits.max_bytes} bytes", code="too_large"))
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(Problem(message=f"not UTF-8 text (byte {exc.start})", file=file,
                                     code="encoding")) from None
    elif len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes:
        raise InputError(_problem(file, f"file is larger than {limits.max_bytes} bytes", code="too_large"))
    text = text.lstrip("\ufeff")
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputError(Problem(message="the file is empty", file=file, code="empty"))
        builder = _Builder(file, loader, limits)
        data = builder.build(node, [])
        return Document(data=data, file=file, positions=builder.positions)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = exc.problem or str(exc)
        if exc.context:
            msg = f"{exc.context}: {msg}"
        raise InputError(_problem(file, msg, mark)) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(message=str(exc), file=file, code="parse_error")) from None
    except RecursionError:
        raise InputError(Problem(message="nesting too deep", file=file, code="too_deep")) from None
    finally:
        loader.dispose()


def load_file(path: str, limits: Limits = DEFAULT_LIMITS, display: str | None = None) -> Document:
    """Read and parse a file, checking its size before reading it whole."""
    import os

    name = display or path
    try:
        size = os.path.getsize(path)
        if size > limits.max_bytes:
            raise InputError(Problem(message=f"file is larger than {limits.max_bytes} bytes ({size})", file=name,
                                     code="too_large"))
        with open(path, "rb") as fh:
            raw = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        raise InputError(Problem(message=f"cannot read file: {exc.strerror}", file=name, code="io_error")) from None
    return load_text(raw, name, limits)
