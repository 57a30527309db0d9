"""GitHub Actions workflow commands: ``airisk assess --format github``.

One line per finding, which the Actions runner turns into an annotation on the case file at the
line of the finding's fact::

    ::error file=cases/x.yaml,line=73,title=USX-090: Huawei Ascend …::The message

critical and high findings are ``error``, medium ``warning``, low and info ``notice``; a waived
finding is a ``notice`` whatever its severity (the waiver's reason follows the message); a rule
that needs information is a ``notice`` naming the missing facts. With ``--fail-on``, a case that
trips the gate also gets one ``error`` saying so (the worst case over its unknown facts, as the
gate compares), so the annotation list explains the exit status.

Escaping follows the runner's rules: in the message ``%``, CR and LF become ``%25``, ``%0D``,
``%0A``; in a property value ``:`` and ``,`` also become ``%3A`` and ``%2C``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from engine.render.registry import RenderContext, Source
from engine.scale import LEVEL_ORDER

#: Finding severity -> workflow command.
COMMAND: dict[str, str] = {"critical": "error", "high": "error", "medium": "warning", "low": "notice",
                           "info": "notice"}


def escape_data(text: str) -> str:
    """A message as the runner reads it back: ``%``, CR and LF escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (file, title) as the runner reads it back: as ``escape_data``, and
    ``:`` and ``,``, which end a value, escaped too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | int | None) -> str:
    """One workflow command line (without its newline); ``None`` properties are left out."""
    props = ",".join(f"{k}={escape_property(str(v))}" for k, v in properties.items() if v is not None)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def render(assessments: Sequence[Mapping[str, Any]], context: RenderContext) -> bytes:
    """The workflow commands of these assessments, one per line."""
    return "".join(line + "\n" for index, a in enumerate(assessments)
                   for line in workflow_commands(a, context.source(index), context)).encode()


def workflow_commands(a: Mapping[str, Any], source: Source | None, context: RenderContext) -> Iterator[str]:
    """The workflow commands of one assessment: the gate's verdict, each finding, each rule
    that needs information."""
    file = source.file if source is not None and source.file not in ("-", "<stdin>") else None
    where = source if file is not None else None
    gate = _gate(a, context)
    if gate is not None:
        yield command("error", gate, file=file, title=f"airisk: {a.get('case_id')} fails --fail-on {context.fail_on}")
    for f in a.get("findings") or ():
        waived = f.get("waived")
        name = "notice" if isinstance(waived, Mapping) else COMMAND.get(str(f.get("severity")), "notice")
        message = str(f.get("message") or f.get("title") or "")
        if isinstance(waived, Mapping):
            message += f"\n\nWaived: {waived.get('reason')}" + "".join(
                f"; {k} {waived[k]}" for k in ("approver", "expires", "ticket") if waived.get(k))
        line = where.finding_line(f) if where is not None else None
        yield command(name, message, file=file, line=line if file else None,
                      title=f"{f.get('rule_id')}: {f.get('title')}")
    for n in a.get("needs_information") or ():
        missing = [str(m) for m in n.get("missing") or ()]
        line = next((found for m in missing if where is not None and (found := where.line(m)) is not None), None)
        yield command("notice", f"Needs information: {', '.join(missing) or 'unknown'}", file=file,
                      line=line if file else None, title=f"{n.get('rule_id')}: {n.get('title')}")


def _gate(a: Mapping[str, Any], context: RenderContext) -> str | None:
    """What the ``--fail-on`` gate says of a case that trips it (None: no gate, or it passes)."""
    if context.fail_on is None:
        return None
    span = a.get("rating_range")
    level = a.get("rating") if context.fail_on_known or not span else span[1]  # as engine.cliutil.gate_level
    if level is None or LEVEL_ORDER.get(str(level), -1) < LEVEL_ORDER[context.fail_on]:
        return None
    known = f" ({a.get('rating')} on the known facts)" if level != a.get("rating") else ""
    return f"{a.get('case_id')} could be rated {level}{known}, at or above --fail-on {context.fail_on}"
