"""The output formats of an assessment: one registry entry each, read by the CLI and the library.

Each ``Format`` names itself, says what it produces (media type, file extension), renders one
assessment (and, when it can, several) to bytes, and says whether it colours its output on a
terminal. A format for CI (sarif, junit, github) also reads a ``RenderContext``: where each case
came from (its file and the line of each fact) and the ``--fail-on`` level. ``airisk assess
--format`` takes its choices and its rendering from ``FORMATS``; ``engine.render.render`` is the
same rendering for the library; batch takes its JSON-lines encoder from here. Adding an output
format is one ``register`` call in this package.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import orjson

from engine.errors import AiriskError, Problem, pointer

if TYPE_CHECKING:
    from engine.source.document import Document

#: Renders one assessment (a JSON-ready dict); the flag asks for terminal colour.
RenderOne = Callable[[Mapping[str, Any], bool], bytes]
#: Renders several assessments into one output.
RenderMany = Callable[[Sequence[Mapping[str, Any]], bool], bytes]
#: Renders one or several assessments with what the command knows beyond them (``RenderContext``).
RenderWith = Callable[[Sequence[Mapping[str, Any]], "RenderContext"], bytes]

_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Source:
    """Where one assessment's case came from: the file as named on the command line, and the
    line of each value in it (by JSON pointer, from the parsed ``Document``). The assessment
    itself never carries its file, so its JSON does not change with the path it was read from."""

    file: str
    lines: Mapping[str, int] = field(default_factory=dict)
    #: The line of any fact ``lines`` does not place (a JSON-lines input: the case's line).
    fallback: int | None = None

    @classmethod
    def of(cls, doc: Document) -> Source:
        """The source of a parsed document (``engine.read_document``, ``engine.assess_documents``)."""
        return cls(doc.file, {ptr: line for ptr, (line, _col) in doc.positions.items()})

    def line(self, fact: str) -> int | None:
        """The line of a fact path (``accelerators[2].tpp``) in the file: the value's own line;
        for a derived fact (``accelerators[2].derived.tpp``, ``derived.in_hub``) the first case
        fact it is computed from that the file has; else the deepest written ancestor's (an
        absent field's list item or section), never the document root's; else ``fallback``."""
        from engine.assessment.levers import sources

        candidates = [_parts(path) for path in dict.fromkeys((*sources(fact), fact))]
        for parts in candidates:
            if (found := self.lines.get(pointer(parts))) is not None:
                return found
        for parts in candidates:
            while len(parts) > 1:
                parts.pop()
                if (found := self.lines.get(pointer(parts))) is not None:
                    return found
        return self.fallback

    def fact_lines(self, finding: Mapping[str, Any]) -> list[tuple[str, int]]:
        """Each fact of a finding's evidence that the file has, once, with its line, threshold
        comparisons (``gte``, ``lt`` …: what the message states) first, then in evidence order."""
        from engine.lang.operators import is_order

        items = [e for e in finding.get("evidence") or () if isinstance(e, Mapping) and isinstance(e.get("fact"), str)]
        ordered = sorted(items, key=lambda e: 0 if is_order(str(e.get("op"))) else 1)  # stable: evidence order kept
        out: dict[str, int] = {}
        for item in ordered:
            fact = item["fact"]
            if fact not in out and (found := self.line(fact)) is not None:
                out[fact] = found
        return list(out.items())

    def finding_line(self, finding: Mapping[str, Any]) -> int | None:
        """The line a finding points at: its first threshold fact the file has, else its first
        fact the file has (``fact_lines``); None when the file has none of them."""
        found = self.fact_lines(finding)
        return found[0][1] if found else None


def _parts(path: str) -> list[str | int]:
    """``accelerators[2].tpp`` -> ``["accelerators", 2, "tpp"]`` (the steps of its JSON pointer)."""
    return [int(p) if p.isdigit() else p for p in _INDEX.sub(r".\1", path).split(".") if p]


@dataclass(frozen=True)
class RenderContext:
    """What a renderer may need beyond the assessment dicts: terminal colour, the ``--fail-on``
    level (and ``--fail-on-known``), and each assessment's ``Source``, in the assessments' order
    (``None`` or a short list: that case's file is not known, e.g. ``engine.render.render`` on
    dicts alone)."""

    colour: bool = False
    fail_on: str | None = None
    fail_on_known: bool = False
    sources: Sequence[Source | None] = ()

    def source(self, index: int) -> Source | None:
        """The source of the assessment at ``index`` (None when not known)."""
        return self.sources[index] if 0 <= index < len(self.sources) else None


@dataclass(frozen=True)
class Format:
    """One output format of an assessment."""

    name: str
    media_type: str
    extension: str  # with its dot, e.g. ".json"
    render_one: RenderOne
    #: None: the format holds one case only (asking it for several is a usage error).
    render_many: RenderMany | None = None
    #: Whether the format colours its output when written to a terminal (and NO_COLOR is unset).
    colour: bool = False
    #: One record as one line without its newline (JSON lines), for formats that have one.
    line: Callable[[Any], bytes] | None = None
    description: str = ""
    #: A renderer that reads the ``RenderContext`` (file locations, ``--fail-on``); when set, it
    #: renders one and several assessments and ``render_one``/``render_many`` are not called.
    render_with: RenderWith | None = None

    @property
    def many(self) -> bool:
        """Whether one output can hold several cases."""
        return self.render_many is not None

    def render(self, assessments: Sequence[Mapping[str, Any]], *, colour: bool = False,
               context: RenderContext | None = None) -> bytes:
        """The bytes of one assessment, or of several in one output (``AiriskError`` if this
        format holds one case only). ``colour`` is ignored by a format without colour; with a
        ``context``, its ``colour`` is used instead of the argument."""
        if context is not None:
            colour = context.colour
        use = colour and self.colour
        if self.render_with is not None:
            base = context if context is not None else RenderContext()
            return self.render_with(assessments, replace(base, colour=use))
        if len(assessments) == 1:
            return self.render_one(assessments[0], use)
        if self.render_many is None:
            raise AiriskError(Problem(
                message=f"the {self.name} format holds one case, not {len(assessments)}", code="usage",
                hint="assess one case per run, or choose a format that holds several: "
                     + ", ".join(f.name for f in FORMATS.values() if f.many)))
        return self.render_many(assessments, use)


# The renderers load on first use: batch takes only the JSON-line encoder from this registry.


def _text_one(a: Mapping[str, Any], colour: bool) -> bytes:
    from engine.render.formats import render_text

    return render_text(dict(a), colour=colour).encode()


def _text_many(many: Sequence[Mapping[str, Any]], colour: bool) -> bytes:
    from engine.render.formats import render_text

    return "\n".join(render_text(dict(a), colour=colour) for a in many).encode()


def _json_one(a: Mapping[str, Any], _colour: bool) -> bytes:
    from engine.render.formats import render_json

    return render_json(dict(a))


def _json_many(many: Sequence[Mapping[str, Any]], _colour: bool) -> bytes:
    return orjson.dumps(list(many), option=orjson.OPT_INDENT_2) + b"\n"


def _markdown_one(a: Mapping[str, Any], _colour: bool) -> bytes:
    from engine.render.formats import render_markdown

    return render_markdown(dict(a)).encode()


def _markdown_many(many: Sequence[Mapping[str, Any]], _colour: bool) -> bytes:
    from engine.render.formats import render_markdown

    return "\n".join(render_markdown(dict(a)) for a in many).encode()


def _html_one(a: Mapping[str, Any], _colour: bool) -> bytes:
    from engine.report.case import render_html

    return render_html([a])


def _html_many(many: Sequence[Mapping[str, Any]], _colour: bool) -> bytes:
    from engine.report.case import render_html

    return render_html(many)


#: Every output format by name, in the order ``--format`` lists them (the first is the default).
FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    """Add an output format (its name must be new); the CLI's ``--format`` offers it at once."""
    if fmt.name in FORMATS:
        raise ValueError(f"output format {fmt.name!r} is already registered")
    FORMATS[fmt.name] = fmt
    return fmt


def get(name: str) -> Format:
    """The format of this name (``AiriskError`` naming the known ones if there is none)."""
    found = FORMATS.get(name)
    if found is None:
        from engine.errors import did_you_mean

        hint = did_you_mean(name, list(FORMATS))
        raise AiriskError(Problem(message=f"no output format {name!r}", code="usage",
                                  hint=hint or "one of: " + ", ".join(FORMATS)))
    return found


def render(name: str, assessment: Mapping[str, Any] | Sequence[Mapping[str, Any]], *,
           colour: bool = False, context: RenderContext | None = None) -> bytes:
    """Render an assessment dict (``engine.assess_dict``), or a list of them, in format ``name``.

    The bytes are exactly what ``airisk assess --format NAME`` writes for the same cases given
    the same ``context`` (``airisk assess`` passes each file's ``Source`` and ``--fail-on``)."""
    many = [assessment] if isinstance(assessment, Mapping) else list(assessment)
    return get(name).render(many, colour=colour, context=context)


def line_encoder(name: str) -> Callable[[Any], bytes]:
    """The one-record-per-line encoder of a format (``json``: a JSON line, for batch records)."""
    line = get(name).line
    if line is None:
        raise ValueError(f"output format {name!r} has no one-line encoding")
    return line


register(Format("text", "text/plain; charset=utf-8", ".txt", _text_one, _text_many, colour=True,
                description="a report readable at a glance (colour on a terminal)"))
register(Format("json", "application/json", ".json", _json_one, _json_many, line=orjson.dumps,
                description="the canonical assessment (several cases: a JSON array)"))
register(Format("markdown", "text/markdown; charset=utf-8", ".md", _markdown_one, _markdown_many,
                description="a report for tickets and audit files"))
register(Format("html", "text/html; charset=utf-8", ".html", _html_one, _html_many,
                description="a self-contained, printable HTML report (several cases: one page)"))


def _with(module: str) -> RenderWith:
    """The context renderer ``render`` of ``engine.render.MODULE``, imported on first use."""
    def go(many: Sequence[Mapping[str, Any]], context: RenderContext) -> bytes:
        out: bytes = importlib.import_module(f"engine.render.{module}").render(many, context)
        return out

    return go


def contextual(name: str, media_type: str, extension: str, render_with: RenderWith, description: str) -> Format:
    """A format whose renderer reads a ``RenderContext``; its ``render_one`` and ``render_many``
    render with a context of colour alone (no file locations, no ``--fail-on``)."""
    def one(a: Mapping[str, Any], colour: bool) -> bytes:
        return render_with([a], RenderContext(colour=colour))

    def many(several: Sequence[Mapping[str, Any]], colour: bool) -> bytes:
        return render_with(several, RenderContext(colour=colour))

    return Format(name, media_type, extension, one, many, description=description, render_with=render_with)


register(contextual("sarif", "application/sarif+json", ".sarif", _with("sarif"),
                    "SARIF 2.1.0 for code scanning: one run, a result per finding at its line in the case file"))
register(contextual("junit", "application/xml", ".xml", _with("junit"),
                    "JUnit XML for CI test reports: a test per case and dimension, failed at or above --fail-on "
                    "(default high)"))
register(contextual("github", "text/plain; charset=utf-8", ".txt", _with("github"),
                    "GitHub Actions workflow commands (::error file=…,line=…::), one per finding"))
