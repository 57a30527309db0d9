"""Named conditions: a ruleset's ``define:`` section and the ``{ref: name}`` that uses one.

Like Sigma's named selections, a definition is a condition written once and referred
to by name from a rule's ``when`` or from another definition::

    define:
      tpp_3a090a: {fact: derived.tpp, gte: {param: tpp_3a090a}}
      meets_3a090a:
        any: [{ref: tpp_3a090a}, {ref: density_3a090a}]
    rules:
      - when: {some: accelerators, where: {ref: meets_3a090a}}

References are expanded before anything else looks at a rule, so the meaning checks,
the reference evaluator and the matching core see exactly the tree the rule would have
had written out. Problems found inside an expanded definition are located in the
definition (``$.define.NAME...``), and say which rule used it and where.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from engine.errors import Problem, ProblemList, did_you_mean, pointer
from engine.source.safeyaml import Document

REF = "ref"
_BRANCHES = ("all", "any")


@dataclass
class Expansion:
    """What expanding one tree found: where each definition landed, which were used, whether all resolved."""

    report_under: tuple[str | int, ...]
    origins: list[tuple[tuple[str | int, ...], list[str | int], str]] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    ok: bool = True

    def reports(self, src_path: list[str | int]) -> bool:
        """Whether a problem written at ``src_path`` is this expansion's to report."""
        return tuple(src_path[: len(self.report_under)]) == self.report_under


@dataclass
class Relocated(Document):
    """A Document whose problems inside an expanded definition point into the definition."""

    origins: list[tuple[tuple[str | int, ...], list[str | int], str]] = field(default_factory=list)

    @classmethod
    def of(cls, doc: Document, origins: list[tuple[tuple[str | int, ...], list[str | int], str]]) -> Relocated:
        """``doc`` seen through the origins of one expansion."""
        return cls(data=doc.data, file=doc.file, positions=doc.positions, origins=origins)

    def where(self, path: tuple[str | int, ...] | list[str | int], message: str, *, code: str = "invalid",
              hint: str | None = None) -> Problem:
        """As Document.where; a path inside an expanded definition is moved to the definition."""
        path = tuple(path)
        inside = sorted((o for o in self.origins if path[: len(o[0])] == o[0]), key=lambda o: len(o[0]))
        if not inside:
            return super().where(path, message, code=code, hint=hint)
        prefix, target, name = inside[-1]
        message = f"{message} (in definition {name!r}, used at {pointer(list(inside[0][0]))})"
        return super().where([*target, *path[len(prefix):]], message, code=code, hint=hint)


def definitions(data: dict[str, Any]) -> dict[str, Any]:
    """The ``define:`` section of a ruleset's data (empty when absent or malformed)."""
    raw = data.get("define")
    return dict(raw) if isinstance(raw, dict) else {}


def expand(doc: Document, node: Any, defs: dict[str, Any], exp_path: list[str | int],
           src_path: list[str | int], problems: ProblemList, state: Expansion,
           stack: tuple[str, ...] = ()) -> Any:
    """``node`` with every ``{ref: name}`` replaced by a copy of the (expanded) definition.

    ``exp_path`` is where the node lands in the expanded tree, ``src_path`` where it is
    written; problems are reported only where they are written in ``rules`` (a definition's
    own problems are reported once, by ``check_definitions``)."""
    if not isinstance(node, dict):
        return copy.deepcopy(node)
    if REF in node:
        return _ref(doc, node, defs, exp_path, src_path, problems, state, stack)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _BRANCHES and isinstance(value, list):
            out[key] = [expand(doc, child, defs, [*exp_path, key, i], [*src_path, key, i], problems, state, stack)
                        for i, child in enumerate(value)]
        elif key in ("not", "where"):
            out[key] = expand(doc, value, defs, [*exp_path, key], [*src_path, key], problems, state, stack)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _ref(doc: Document, node: dict[str, Any], defs: dict[str, Any], exp_path: list[str | int],
         src_path: list[str | int], problems: ProblemList, state: Expansion, stack: tuple[str, ...]) -> Any:
    name = node[REF]
    report = state.reports(src_path)
    extra = [k for k in node if k != REF]
    if extra:
        state.ok = False
        if report:
            problems.add(doc.where([*src_path, extra[0]], f"unexpected key {extra[0]!r} beside 'ref'",
                                   hint="a reference is `{ref: NAME}` alone"))
        return node
    if not isinstance(name, str) or name not in defs:
        state.ok = False
        if report:
            problems.add(doc.where([*src_path, REF], f"unknown named condition {name!r}", code="unknown_ref",
                                   hint=did_you_mean(str(name), list(defs)) or "declare it under `define:`"))
        return node
    if name in stack:
        state.ok = False
        if report or (stack[0] == name and state.reports(["define", name])):
            cycle = " → ".join([*stack[stack.index(name):], name])
            problems.add(doc.where([*src_path, REF], f"named conditions refer to each other in a cycle: {cycle}",
                                   code="ref_cycle", hint="a definition may not use itself, directly or not"))
        return node
    state.used.add(name)
    state.origins.append((tuple(exp_path), ["define", name], name))
    return expand(doc, defs[name], defs, exp_path, ["define", name], problems, state, (*stack, name))


def check_definitions(doc: Document, defs: dict[str, Any], problems: ProblemList) -> set[str]:
    """Report unknown references and cycles inside ``define:`` once each; the names that do not resolve."""
    bad: set[str] = set()
    for name, body in defs.items():
        state = Expansion(report_under=("define", name))
        expand(doc, body, defs, ["define", name], ["define", name], problems, state, (name,))
        if not state.ok:
            bad.add(name)
    return bad


def unused(doc: Document, defs: dict[str, Any], used: set[str], problems: ProblemList) -> None:
    """A definition no rule uses (directly or through another definition) is an error: delete it."""
    for name in defs:
        if name not in used:
            problems.add(doc.where(["define", name], f"named condition {name!r} is not used by any rule",
                                   code="unused_definition", hint="delete it, or refer to it with {ref: " + name + "}"))
