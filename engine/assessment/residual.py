"""Residual conditions: what is left of a rule's condition once the known facts of a case are put in.

``compile_residual`` partially evaluates a rule's condition on a case: each comparison whose fact
is given is decided, and what stays is a residual over the unknown facts. ``compile_eval`` gives
the residual's Kleene truth under a partial filling of those facts. The filling has three states
per fact (a value; ``UNKNOWN``, stays absent; not in the filling, free: either), which is why this
is not ``engine.lang.conditions.truth`` (a document has only the first two: there an absent fact
is absent, and ``exists`` on it is decided).
"""

from __future__ import annotations

import re
from typing import Any

from engine.lang import conditions as C

#: An absent value in a filling (the fact stays unknown).
UNKNOWN = C.MISSING
_ITEM = re.compile(r"^(.*)\[(\d+)\]\.(.*)$")

Step = str | int
FactKey = tuple[Step, ...]


def parse_fact(fact: str) -> tuple[FactKey, tuple[C.Path, ...] | None, C.Path]:
    """A reported fact (``accelerators[0].derived.tpp``) as (steps into the view, list path, item path).

    The list path is None for a case-level fact."""
    m = _ITEM.match(fact)
    if m is None:
        path = tuple(fact.split("."))
        return path, None, path
    list_path = tuple(m.group(1).split("."))
    item = tuple(m.group(3).split("."))
    return (*list_path, int(m.group(2)), *item), (list_path,), item


# A residual condition: what is left of a rule's condition once the known facts are put in.
# ("c", fact, op, value, test) a comparison on an unknown fact; ("e", fact, want) `exists`;
# ("a", parts) all; ("o", parts) any; ("n", part) not; ("u", fact) a whole list unknown (never
# decided: its items are not enumerated). Partial evaluation is exact in Kleene logic, so a
# residual gives the rule's truth under any filling of the unknown facts.
Residual = Any
ResidualFn = Any


def compile_residual(cond: C.Condition) -> ResidualFn:
    """A function ``(doc, prefix) -> True | False | residual`` (closures, as ``conditions.compile_missing``)."""
    if isinstance(cond, C.Cmp):
        get = C.getter(cond.path)
        fact = ".".join(cond.path)
        if cond.op == "exists":
            want = bool(cond.value)

            def exists(doc: Any, prefix: str) -> Residual:
                return ("e", prefix + fact, want) if get(doc) is C.MISSING else want

            return exists
        op, value = cond.op, cond.value
        test = C._test(op, value)

        def cmp(doc: Any, prefix: str) -> Residual:
            actual = get(doc)
            if actual is C.MISSING:
                return ("c", prefix + fact, op, value, test)
            return bool(test(actual))

        return cmp
    if isinstance(cond, C.All | C.Any_):
        parts = tuple(compile_residual(c) for c in cond.children)
        stop = isinstance(cond, C.Any_)  # the value that decides the whole
        tag = "o" if stop else "a"

        def junction(doc: Any, prefix: str) -> Residual:
            left = []
            for part in parts:
                r = part(doc, prefix)
                if r is stop:
                    return stop
                if r is not (not stop):
                    left.append(r)
            if not left:
                return not stop
            return left[0] if len(left) == 1 else (tag, tuple(left))

        return junction
    if isinstance(cond, C.Not):
        inner = compile_residual(cond.child)

        def not_(doc: Any, prefix: str) -> Residual:
            r = inner(doc, prefix)
            return (not r) if r is True or r is False else ("n", r)

        return not_
    if isinstance(cond, C.Some):
        get_items = C.getter(cond.list_path)
        where = compile_residual(cond.where)
        name = ".".join(cond.list_path)

        def some(doc: Any, prefix: str) -> Residual:
            items = get_items(doc)
            if items is C.MISSING or not isinstance(items, list | tuple):
                return ("u", prefix + name)
            left = []
            for i, item in enumerate(items):
                r = where(item, f"{prefix}{name}[{i}].")
                if r is True:
                    return True
                if r is not False:
                    left.append(r)
            if not left:
                return False
            return left[0] if len(left) == 1 else ("o", tuple(left))

        return some
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover


def has_list(res: Residual) -> bool:
    """Whether the residual still reads a whole list left unknown (its items are never enumerated)."""
    if res is True or res is False:
        return False
    if res[0] == "u":
        return True
    if res[0] == "n":
        return has_list(res[1])
    if res[0] in ("a", "o"):
        return any(has_list(p) for p in res[1])
    return False


Evaluator = Any  # (assign) -> True | False | None


def compile_eval(res: Residual) -> Evaluator:
    """The Kleene truth of a residual as a function of a partial filling: facts in ``assign``
    have that value (``UNKNOWN``: stay absent); facts not in it are free (either), so the truth
    is monotone. Built once per residual: the exploration evaluates it at every step."""
    if res is True or res is False:
        const = bool(res)
        return lambda assign: const
    tag = res[0]
    if tag == "c":
        fact, test = res[1], res[4]

        def cmp(assign: dict[str, Any]) -> bool | None:
            v = assign.get(fact, UNKNOWN)
            return None if v is UNKNOWN else bool(test(v))

        return cmp
    if tag == "e":
        fact, want = res[1], bool(res[2])

        def exists(assign: dict[str, Any]) -> bool | None:
            if fact not in assign:
                return None  # not yet assigned: it may stay absent or be given
            return (assign[fact] is not UNKNOWN) == want

        return exists
    if tag == "n":
        inner = compile_eval(res[1])

        def not_(assign: dict[str, Any]) -> bool | None:
            r = inner(assign)
            return None if r is None else not r

        return not_
    if tag == "u":
        return lambda assign: None
    # A comparison among the parts is tested in place (no call of its own): most parts are
    # comparisons, and this runs at every step of the exploration. Parts keep their order.
    parts: tuple[tuple[str, Any, Evaluator | None], ...] = tuple(
        (p[1], p[4], None) if type(p) is tuple and p[0] == "c" else ("", None, compile_eval(p))
        for p in res[1])
    stop: bool = tag == "o"
    otherwise = not stop
    unknown = UNKNOWN

    def junction(assign: dict[str, Any]) -> bool | None:
        result: bool | None = otherwise
        get = assign.get
        for fact, test, part in parts:
            if part is None:
                v = get(fact, unknown)
                if v is unknown:
                    result = None
                    continue
                r = bool(test(v))
            else:
                r = part(assign)
                if r is None:
                    result = None
                    continue
            if r is stop:
                return stop
        return result

    return junction


def evaluate_residual(res: Residual, assign: dict[str, Any]) -> bool | None:
    """Kleene truth of a residual under a partial filling (see ``compile_eval``)."""
    return compile_eval(res)(assign)  # type: ignore[no-any-return]


def residual_leaves(res: Residual, out: dict[str, list[tuple[str, Any]]]) -> dict[str, list[tuple[str, Any]]]:
    """The comparisons a residual still makes, by fact."""
    if res is True or res is False:
        return out
    tag = res[0]
    if tag == "c":
        out.setdefault(res[1], []).append((res[2], res[3]))
    elif tag == "e":
        out.setdefault(res[1], []).append(("exists", res[2]))
    elif tag == "u":
        out.setdefault(res[1], []).append(("some", None))
    elif tag == "n":
        residual_leaves(res[1], out)
    else:
        for part in res[1]:
            residual_leaves(part, out)
    return out
