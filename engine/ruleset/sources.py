"""Shared sources: one file of citations keyed by id, which rules cite by key.

A ruleset names its sources file in its header (``sources: sources.yaml``, relative to
the ruleset file). Each entry is a citation without its pinpoint::

    sources:
      fr-88-73458:
        instrument: "Implementation of Additional Export Controls ... 88 FR 73458"
        url: "https://www.federalregister.gov/d/2023-23055"
        date: 2023-10-25
        confidence: P

The file may also hold ``parameters:`` shared by the rulesets that name it (a threshold
that both export controls and overcapacity read), in the form of a ruleset's own; a ruleset
that defines a parameter of the same name is refused.

A rule cites an entry by key (``citations: [fr-88-73458]``) or by key with a pinpoint
(``{source: fr-88-73458, article: "ECCN 3A090.a", note: ..., confidence: P-q}``: the
confidence of this use, when it differs from the entry's); an inline citation (with
its own ``instrument``) is still accepted. Every form becomes the same citation record, so
the rest of the loader (the binding-rule checks, the output) cannot tell them apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.errors import Problem, ProblemList, RulesetError, did_you_mean
from engine.ruleset.model import Parameter
from engine.source.safeyaml import Document, Limits, load_text

SOURCES_LIMITS = Limits(max_bytes=4 * 1024 * 1024, max_depth=8, max_nodes=200_000)
KEY_PATTERN = r"^[a-z0-9][a-z0-9.-]*$"
SOURCE_FIELDS = ("instrument", "article", "url", "date", "confidence")


@dataclass(frozen=True)
class Sources:
    """A parsed sources file: its display name, its raw bytes and its entries by key."""

    file: str
    raw: bytes
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Parameters shared by the rulesets that name this file (``parameters:``, as in a ruleset).
    parameters: dict[str, Parameter] = field(default_factory=dict)


def is_sources_file(path: Path) -> bool:
    """True for a file that holds shared sources rather than a ruleset (``sources.yaml``, ``*.sources.yaml``)."""
    return path.name == "sources.yaml" or path.name.endswith(".sources.yaml")


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    from engine.ruleset.schema import SOURCES_SCHEMA

    return jsonschema.Draft202012Validator(SOURCES_SCHEMA, format_checker=jsonschema.FormatChecker())


def _iso(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    return value


def parse_sources(raw: bytes, name: str) -> Sources:
    """The entries of a sources file, or RulesetError with every problem located in it."""
    doc = load_text(raw, name, SOURCES_LIMITS)
    data = _iso(doc.data)
    problems = ProblemList()
    for err in _validator().iter_errors(data):
        hint = None
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = list(err.schema.get("properties", {}))
            extras = [k for k in err.instance if k not in allowed]
            hint = did_you_mean(extras[0], allowed) if extras else None
        problems.add(doc.where(list(err.absolute_path), err.message, code="schema", hint=hint))
    problems.raise_if_any(RulesetError)
    from engine.ruleset.parameters import parse_parameters  # only when the file is parsed (a cache miss)

    params = parse_parameters(doc, data, list(data["sources"]), problems)
    problems.raise_if_any(RulesetError)
    return Sources(file=name, raw=raw, entries=dict(data["sources"]), parameters=params)


def read_sources(path: Path, display: str) -> Sources:
    """Read and parse the sources file at ``path`` (bounded; a FIFO or directory is refused)."""
    from engine.source.cache import read_bounded

    raw = read_bounded(path, SOURCES_LIMITS.max_bytes)
    if raw is None:
        raise RulesetError(Problem(message="cannot read the sources file (missing, unreadable or not a regular "
                                   "file)", file=display, code="io_error",
                                   hint="`sources:` in the ruleset header is relative to the ruleset file"))
    return parse_sources(raw, display)


def declared(header: Any) -> str | None:
    """The sources file a ruleset header names, or None (also for a name the schema refuses, which is
    then reported as a schema problem and never read)."""
    import re

    from engine.ruleset.schema import SOURCES_FILE_PATTERN

    ref = header.get("sources") if isinstance(header, dict) else None
    return ref if isinstance(ref, str) and re.fullmatch(SOURCES_FILE_PATTERN, ref) else None


def _entry(doc: Document, cite: Any, path: list[str | int], sources: Sources | None,
           problems: ProblemList) -> dict[str, Any] | None:
    key = cite if isinstance(cite, str) else cite.get("source") if isinstance(cite, dict) else None
    if not isinstance(key, str):
        return None
    where = path if isinstance(cite, str) else [*path, "source"]
    if sources is None:
        problems.add(doc.where(where, f"citation {key!r} is by key, but the ruleset names no sources file",
                               code="unknown_source", hint="add `sources: sources.yaml` to the ruleset header"))
        return None
    entry = sources.entries.get(key)
    if entry is None:
        problems.add(doc.where(where, f"unknown source {key!r} (not in {sources.file})", code="unknown_source",
                               hint=did_you_mean(key, list(sources.entries)) or "add it to the sources file"))
    return entry


def resolve_citations(doc: Document, cites: Any, path: list[str | int], sources: Sources | None,
                      problems: ProblemList) -> Any:
    """A rule's citations with every key replaced by its entry (pinpoint fields kept); unchanged otherwise."""
    if not isinstance(cites, list):
        return cites
    out: list[Any] = []
    for i, cite in enumerate(cites):
        if isinstance(cite, dict) and "instrument" in cite:
            out.append(cite)
            continue
        entry = _entry(doc, cite, [*path, i], sources, problems)
        if entry is None:
            out.append(cite)
            continue
        pinpoint = {k: v for k, v in cite.items() if k != "source"} if isinstance(cite, dict) else {}
        out.append({**entry, **pinpoint})
    return out
