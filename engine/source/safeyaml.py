"""Safe, bounded YAML/JSON reading that keeps source positions beside the data.

Rulesets and cases come from other parties, so reading them must never build
objects, never blow up memory or the stack, and must be able to say *where* a
problem is. This module:

- checks the size of the file and of its longest line *before* parsing;
- refuses UTF-16/32 and other non-UTF-8 bytes (a UTF-8 BOM is accepted);
- builds plain Python values itself from the parser's *events*, iteratively:
  libyaml's own composer recurses in C and a few hundred thousand ``[`` crash
  the process, so nesting depth is checked as each collection opens, before
  anything deeper is read;
- uses YAML 1.2 core-schema booleans and numbers (``NO`` is Norway, not false;
  ``1e+25`` is a number, not a string); refuses NaN, infinities and numbers
  beyond the float range (so ``int()`` and ``float()`` never see 5,000 digits);
- refuses every tag that is not a plain scalar, list or mapping (no object is
  ever constructed), merge keys, duplicate keys, non-string keys;
- counts an alias as the size of what it repeats, so an alias "billion laughs"
  document fails as soon as its declared size passes ``max_nodes``;
- normalises every string to Unicode NFC (two spellings of one name are one
  name) and refuses lone surrogates and control characters;
- records ``pointer -> (line, column)`` for every value, so later stages can
  point at the field that is wrong without injecting marker keys into the data.
"""

from __future__ import annotations

import copy
import math
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from engine.errors import InputError, Problem, pointer
from engine.source.document import (
    _FLOAT_MAX,
    _MAX_NUMBER_CHARS,
    DEFAULT_LIMITS,
    Document,
    Limits,
    TextProblem,
    _escape,
    check_text,
)

# The reader's public names, the shared ones included (they live in engine.source.document).
__all__ = ["DEFAULT_LIMITS", "Document", "Limits", "TextProblem", "check_text", "load_file", "load_text",
           "syntax_of"]

# PyYAML is imported on the first parse, not with this module: a run that finds its rulesets in
# the compile cache and reads JSON lines (`airisk batch`) never parses YAML.
if TYPE_CHECKING:
    import yaml

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""",
    re.X,
)
_INT = re.compile(r"^(?:[-+]?0|[-+]?[1-9][0-9_]*|0o[0-7]+|0x[0-9a-fA-F]+)$")
@lru_cache(maxsize=2)
def _loader_class(pure: bool = False) -> Any:
    """The loader class, made on the first parse.

    libyaml's parser (about 10x faster) when PyYAML was built with it, else, or with
    ``pure``, PyYAML's Python parser. Only the event stream is used: composition
    happens here, iteratively, so the limits are this module's own."""
    import yaml

    base: type[yaml.SafeLoader] = yaml.SafeLoader if pure else getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _Loader(base):  # type: ignore[valid-type,misc]
        """Safe loader with YAML 1.2 core-schema scalars (no yes/no/on/off booleans)."""

    loader: type[yaml.SafeLoader] = _Loader
    # Replace the YAML 1.1 implicit resolvers for bool/int/float with YAML 1.2 core ones.
    loader.yaml_implicit_resolvers = {
        key: [(tag, rx) for tag, rx in resolvers if tag not in {
            "tag:yaml.org,2002:bool", "tag:yaml.org,2002:float", "tag:yaml.org,2002:int"}]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
    }
    loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))
    loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
    loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
    return loader


_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_SAFE_SCALAR_TAGS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


def _problem(file: str, message: str, mark: Any = None, *, code: str = "parse_error", hint: str | None = None,
             path: list[str | int] | None = None) -> Problem:
    line = mark.line + 1 if mark is not None else None
    col = mark.column + 1 if mark is not None else None
    return Problem(message=message, file=file, line=line, column=col, pointer=pointer(path or []), code=code,
                   hint=hint)


@dataclass
class _Frame:
    """An open list or mapping while its events are read."""

    value: dict[str, Any] | list[Any]
    path: list[str | int]
    ptr: str  # JSON pointer of ``path``, kept to build children's pointers cheaply
    anchor: str | None
    nodes_at_start: int
    key: str | None = None  # mapping: the key whose value comes next


def _position(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)


class _Builder:
    def __init__(self, file: str, loader: Any, limits: Limits) -> None:
        self.file = file
        self.loader = loader
        self.limits = limits
        self.nodes = 0
        self.positions: dict[str, tuple[int, int]] = {}
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, nodes it stands for)

    def fail(self, message: str, mark: Any, path: list[str | int], code: str, hint: str | None = None) -> InputError:
        return InputError(_problem(self.file, message, mark, code=code, hint=hint, path=path))

    def count(self, n: int, mark: Any, path: list[str | int]) -> None:
        self.nodes += n
        if self.nodes > self.limits.max_nodes:
            raise self.fail(f"document has more than {self.limits.max_nodes} values", mark, path, "too_large",
                            "aliases that repeat part of a document count at their full size")

    def text(self, value: str, mark: Any, path: list[str | int], what: str = "text") -> str:
        try:
            return check_text(value, self.limits, what)
        except TextProblem as exc:
            raise self.fail(exc.message, mark, path, exc.code, exc.hint) from None

    def scalar(self, event: yaml.ScalarEvent, path: list[str | int]) -> Any:
        import yaml
        mark = event.start_mark
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag not in _SAFE_SCALAR_TAGS:
            raise self.fail(f"tag {tag!r} is not allowed", mark, path, "unsafe_tag",
                            "cases and rulesets are plain data: text, numbers, yes/no, dates, lists, mappings")
        raw = event.value
        if tag == _STR:
            return self.text(raw, mark, path)
        if len(raw) > _MAX_NUMBER_CHARS:
            raise self.fail(f"a {tag.rsplit(':', 1)[-1]} of {len(raw)} characters is too long", mark, path,
                            "invalid_number", "numbers must lie within ±1.8e308")
        node = yaml.ScalarNode(tag, raw, None, None, event.style)
        try:
            value = self.loader.yaml_constructors[tag](self.loader, node)
        except (ValueError, TypeError, OverflowError, ArithmeticError, yaml.YAMLError) as exc:
            raise self.fail(f"{raw!r} is not a valid {tag.rsplit(':', 1)[-1]} ({exc})", mark, path,
                            "invalid_value") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(f"{raw} is not a finite number", mark, path, "invalid_number",
                            "NaN, Infinity and overflowing numbers are refused")
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _FLOAT_MAX:
            raise self.fail(f"{raw} is beyond the range of numbers (±1.8e308)", mark, path, "invalid_number")
        return value

    def key(self, event: yaml.Event, frame: _Frame) -> str:
        import yaml
        mark = event.start_mark
        tag = getattr(event, "tag", None)
        if isinstance(event, yaml.ScalarEvent) and (tag is None or tag == "!"):
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == "tag:yaml.org,2002:merge":
            raise self.fail("merge keys (<<) are not allowed", mark, frame.path, "unsafe_tag")
        if not isinstance(event, yaml.ScalarEvent) or tag != _STR:
            raise self.fail("keys must be strings", mark, frame.path, "invalid_key",
                            "quote keys such as 'no', 1 or 2025-01-01; aliases and lists cannot be keys")
        key = self.text(event.value, mark, frame.path, "key")
        assert isinstance(frame.value, dict)
        if key in frame.value:
            raise self.fail(f"duplicate key {key!r}", mark, [*frame.path, key], "duplicate_key",
                            "a key may appear once in a mapping (keys are compared after NFC normalisation)")
        if len(frame.value) >= self.limits.max_items:
            raise self.fail(f"mapping has more than {self.limits.max_items} keys", mark, frame.path, "too_large")
        self.count(1, mark, [*frame.path, key])
        self.positions[f"{frame.ptr}/{_escape(key)}"] = _position(mark)
        return key

    def document(self) -> Any:
        """Build the one document of the stream from its events, without recursion."""
        import yaml
        loader = self.loader
        stack: list[_Frame] = []
        while True:
            event = loader.get_event()
            if isinstance(event, yaml.DocumentStartEvent | yaml.StreamStartEvent):
                continue
            top = stack[-1] if stack else None
            if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                assert top is not None
                stack.pop()
                if top.anchor is not None:
                    self.anchors[top.anchor] = (top.value, self.nodes - top.nodes_at_start)
                value: Any = top.value
                done = self.attach(stack, value)
                if done:
                    return value
                continue
            if isinstance(top, _Frame) and isinstance(top.value, dict) and top.key is None:
                top.key = self.key(event, top)
                continue
            mark = event.start_mark
            if top is None:
                path: list[str | int] = []
                ptr = ""
            elif isinstance(top.value, dict):
                assert top.key is not None
                path = [*top.path, top.key]
                ptr = f"{top.ptr}/{_escape(top.key)}"
            else:
                if len(top.value) >= self.limits.max_items:
                    raise self.fail(f"list has more than {self.limits.max_items} items", mark, top.path, "too_large")
                path = [*top.path, len(top.value)]
                ptr = f"{top.ptr}/{len(top.value)}"
            if len(path) > self.limits.max_depth:
                raise self.fail(f"nesting deeper than {self.limits.max_depth} levels", mark, path, "too_deep")
            self.positions.setdefault(ptr, _position(mark))
            if isinstance(event, yaml.AliasEvent):
                if event.anchor not in self.anchors:
                    raise self.fail(f"alias *{event.anchor} refers to no complete anchor", mark, path, "parse_error",
                                    "an alias must come after its anchor and outside it")
                shared, size = self.anchors[event.anchor]
                self.count(size, mark, path)
                value = copy.deepcopy(shared)
            elif isinstance(event, yaml.ScalarEvent):
                self.count(1, mark, path)
                value = self.scalar(event, path)
                if event.anchor is not None:
                    self.anchors[event.anchor] = (value, 1)
            elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                self.count(1, mark, path)
                want = _SEQ if isinstance(event, yaml.SequenceStartEvent) else _MAP
                tag = event.tag
                if tag is not None and tag != "!" and tag != want:
                    raise self.fail(f"tag {tag!r} is not allowed", mark, path, "unsafe_tag",
                                    "cases and rulesets are plain data")
                container: dict[str, Any] | list[Any] = [] if want == _SEQ else {}
                stack.append(_Frame(container, path, ptr, event.anchor, self.nodes - 1))
                continue
            else:  # pragma: no cover - the parser yields nothing else inside a document
                raise self.fail(f"unexpected {type(event).__name__}", mark, path, "parse_error")
            if self.attach(stack, value):
                return value

    @staticmethod
    def attach(stack: list[_Frame], value: Any) -> bool:
        """Put a finished value into its parent; True when it is the document itself."""
        if not stack:
            return True
        parent = stack[-1]
        if isinstance(parent.value, list):
            parent.value.append(value)
        else:
            assert parent.key is not None
            parent.value[parent.key] = value
            parent.key = None
        return False


def _check_lines(raw: bytes, file: str, limits: Limits) -> None:
    start = 0
    n = 1
    size = len(raw)
    while start < size:
        end = raw.find(b"\n", start)
        if end < 0:
            end = size
        if end - start > limits.max_line_bytes:
            raise InputError(Problem(message=f"line {n} is longer than {limits.max_line_bytes} bytes "
                                             f"({end - start})", file=file, line=n, column=1, code="line_too_long"))
        start = end + 1
        n += 1


_UTF16_32 = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"),
             (b"\xfe\xff", "UTF-16"))


def _decode(raw: bytes, file: str, limits: Limits) -> str:
    if len(raw) > limits.max_bytes:
        raise InputError(Problem(message=f"file is larger than {limits.max_bytes} bytes ({len(raw)})", file=file,
                                 code="too_large"))
    for bom, name in _UTF16_32:
        if raw.startswith(bom):
            raise InputError(Problem(message=f"the file is {name} (byte-order mark), not UTF-8", file=file, line=1,
                                     column=1, code="encoding", hint="save it as UTF-8"))
    _check_lines(raw, file, limits)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(Problem(message=f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start}",
                                 file=file, line=line, column=col, code="encoding",
                                 hint="save the file as UTF-8")) from None


def load_text(text: str | bytes, file: str, limits: Limits = DEFAULT_LIMITS, syntax: str = "yaml") -> Document:
    """Parse YAML or strict JSON safely, with positions.

    ``syntax`` is ``"yaml"``, ``"json"`` (RFC 8259: no NaN, comments or trailing
    commas) or ``"auto"`` (JSON when the text starts with ``{`` or ``[``, as stdin
    is read). Raises ``InputError`` with a located problem for anything malformed,
    unsafe or beyond ``limits``; never another exception."""
    if isinstance(text, bytes):
        text = _decode(text, file, limits)
    else:
        raw = text.encode("utf-8", "surrogatepass")
        if len(raw) > limits.max_bytes:
            raise InputError(Problem(message=f"file is larger than {limits.max_bytes} bytes ({len(raw)})",
                                     file=file, code="too_large"))
        _check_lines(raw, file, limits)
    text = text.removeprefix("\ufeff")
    if syntax == "json" or (syntax == "auto" and text.lstrip(" \t\r\n")[:1] in ("{", "[")):
        from engine.source.safejson import load_json

        return load_json(text, file, limits)
    try:
        return _parse_yaml(text, file, limits, pure=False)
    except InputError as exc:
        if exc.first.code != "parse_error" or _loader_class(False) is _loader_class(True):
            raise
    # libyaml refused the text. What it refuses, and where, depends on its version (libyaml
    # 0.2.6, bundled from PyYAML 6.0.4, stops flow nesting at 1,000 levels while scanning far
    # ahead of this module's own depth check). PyYAML's Python parser has no such limit and
    # is the same across releases, so it decides the error the user sees.
    return _parse_yaml(text, file, limits, pure=True)


def _parse_yaml(text: str, file: str, limits: Limits, *, pure: bool) -> Document:
    import yaml

    loader: Any = None
    try:
        loader = _loader_class(pure)(text)
        if loader.get_event() is None or loader.check_event(yaml.StreamEndEvent):
            raise InputError(Problem(message="the file is empty", file=file, code="empty",
                                     hint="a case is a mapping of fields: id, kind, name, ..."))
        builder = _Builder(file, loader, limits)
        data = builder.document()
        if not loader.check_event(yaml.DocumentEndEvent):  # pragma: no cover - the parser enforces this
            raise InputError(Problem(message="unexpected content after the document", file=file))
        loader.get_event()
        if not loader.check_event(yaml.StreamEndEvent):
            mark = loader.peek_event().start_mark
            raise InputError(_problem(file, "expected one document, found another (---)", mark,
                                      hint="put one case per file, or use `airisk batch` with JSON lines"))
        return Document(data=data, file=file, positions=builder.positions)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = exc.problem or str(exc)
        if exc.context:
            msg = f"{exc.context}: {msg}"
        raise InputError(_problem(file, msg, mark)) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise InputError(Problem(message=f"character U+{ord(char):04X} is not allowed in YAML or JSON text",
                                 file=file, line=line, column=col, code="invalid_text")) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(message=str(exc).replace("\n", " "), file=file, code="parse_error")) from None
    except RecursionError:  # pragma: no cover - nothing here recurses; kept as a last guard
        raise InputError(Problem(message="nesting too deep", file=file, code="too_deep")) from None
    except MemoryError:
        raise InputError(Problem(message="the document is too large to read", file=file, code="too_large")) from None
    finally:
        if loader is not None:
            loader.dispose()


def syntax_of(name: str, default: str = "yaml") -> str:
    """``"json"`` for a ``.json`` name, ``"yaml"`` for ``.yaml``/``.yml``, else ``default``."""
    lower = name.lower()
    if lower.endswith(".json"):
        return "json"
    return "yaml" if lower.endswith((".yaml", ".yml")) else default


def load_file(path: str, limits: Limits = DEFAULT_LIMITS, display: str | None = None) -> Document:
    """Read and parse a file (strict JSON for ``.json``, else YAML), checking its size before
    reading it whole."""
    name = display or path
    try:
        # O_NONBLOCK: opening a FIFO nobody writes to would wait forever; opened so, it reads as
        # empty (and is refused) unless a writer is there (`<(...)`), then reads normally.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            os.set_blocking(fd, True)
            size = os.fstat(fh.fileno()).st_size
            if size > limits.max_bytes:
                raise InputError(Problem(message=f"file is larger than {limits.max_bytes} bytes ({size})",
                                         file=name, code="too_large"))
            # Read one byte more than allowed: a file that grows (or a pipe) is still caught.
            raw = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        raise InputError(Problem(message=f"cannot read file: {exc.strerror}", file=name, code="io_error")) from None
    return load_text(raw, name, limits, syntax_of(path))
