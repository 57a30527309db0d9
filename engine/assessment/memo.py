"""Memos by fact values: what decides a rule that reads no list item on a case is the values of
the facts it reads, which recur across a portfolio (flags, categories, the same gap). The plan
remembers each such rule's missing facts by them, and the bounds its residual."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from engine.lang import conditions as C
from engine.ruleset.model import Rule

T = TypeVar("T")


#: How to read the facts a rule reads: their top-level keys (None when a path is deeper) and getters.
Reads = tuple["tuple[str, ...] | None", "tuple[C.Getter, ...]"]


def reads_of(rule: Rule) -> Reads | None:
    """How ``fact_key`` reads a rule's facts; None for a rule that reads list items (no key)."""
    if rule.item_paths:
        return None
    paths = sorted(rule.case_paths)
    return (tuple(p[0] for p in paths) if all(len(p) == 1 for p in paths) else None,
            tuple(C.getter(p) for p in paths))


def fact_key(rule_id: str, reads: Reads | None, view: Any) -> tuple[Any, ...] | None:
    """What decides a rule that reads no list item on ``view``: the values (with their types: True
    is not 1) of the facts it reads; None for a rule that reads list items. The key may hold an
    unhashable value (a list): a memo lookup then raises TypeError, and the caller goes without.
    An absent fact and a null read alike (both are missing to every condition)."""
    if reads is None:
        return None
    keys, getters = reads
    if keys is not None and type(view) is dict:
        values = tuple(map(view.get, keys))  # None for absent and for null, as the getters' MISSING
    else:
        values = tuple([get(view) for get in getters])
    return (rule_id, values, tuple(map(type, values)))


#: The most entries a memo by fact values keeps before it starts afresh: RSS stays flat over a long run.
MEMO_ENTRIES = 32768


def remembered(memo: dict[Any, T], key: tuple[Any, ...] | None, make: Callable[[], T]) -> T:
    """``memo[key]``, made with ``make()`` on a miss and kept (at most ``MEMO_ENTRIES``); no memo
    when ``key`` is None or holds an unhashable value (a list)."""
    if key is not None:
        try:
            found = memo.get(key)
        except TypeError:  # a list or mapping value: no memo for this rule here
            key = None
        else:
            if found is not None:
                return found
    value = make()
    if key is not None:
        if len(memo) >= MEMO_ENTRIES:
            memo.clear()
        memo[key] = value
    return value


