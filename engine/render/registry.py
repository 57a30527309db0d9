"""The output formats of an assessment: one registry entry each, read by the CLI and the library.

Each ``Format`` names itself, says what it produces (media type, file extension), renders one
assessment (and, when it can, several) to bytes, and says whether it colours its output on a
terminal. ``airisk assess --format`` takes its choices and its rendering from ``FORMATS``;
``engine.render.render`` is the same rendering for the library; batch takes its JSON-lines
encoder from here. Adding an output format is one ``register`` call in this package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from engine.errors import AiriskError, Problem

#: Renders one assessment (a JSON-ready dict); the flag asks for terminal colour.
RenderOne = Callable[[Mapping[str, Any], bool], bytes]
#: Renders several assessments into one output.
RenderMany = Callable[[Sequence[Mapping[str, Any]], bool], bytes]


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

    @property
    def many(self) -> bool:
        """Whether one output can hold several cases."""
        return self.render_many is not None

    def render(self, assessments: Sequence[Mapping[str, Any]], *, colour: bool = False) -> bytes:
        """The bytes of one assessment, or of several in one output (``AiriskError`` if this
        format holds one case only). ``colour`` is ignored by a format without colour."""
        use = colour and self.colour
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
           colour: bool = False) -> bytes:
    """Render an assessment dict (``engine.assess_dict``), or a list of them, in format ``name``.

    The bytes are exactly what ``airisk assess --format NAME`` writes for the same cases."""
    many = [assessment] if isinstance(assessment, Mapping) else list(assessment)
    return get(name).render(many, colour=colour)


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
