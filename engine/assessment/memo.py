"""Memos by fact values: what decides a rule that reads no list item on a case is the values of
the facts it reads, which recur across a portfolio (flags, categories, the same gap). The plan
remembers each such rule's missing facts by them, and the bounds its residual.

Every per-process memo of the hot path is a ``Memo``, bounded by its size in ``GENERATION``, and is
filled through ``remembered``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from engine.lang import conditions as C
from engine.ruleset.model import Rule

K = TypeVar("K")
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


class Memo(Generic[K, T]):
    """A bounded memo that keeps what recurs: two generations of at most ``limit`` entries each.

    New entries go into the young generation; when it is full it becomes the old one and the
    previous old one is dropped. A hit in the old generation moves the entry into the young one,
    so entries a run keeps using survive and a long run's memory stays flat at no more than
    ``2 * limit`` entries, each in one generation (an approximation of least-recently-used at the
    cost of a dict lookup). Lookups raise TypeError for an unhashable key, as a dict's do."""

    __slots__ = ("_new", "_old", "limit")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"memo limit {limit} is not positive")
        self.limit = limit
        self._new: dict[K, T] = {}
        self._old: dict[K, T] = {}

    def get(self, key: K) -> T | None:
        """The value kept for ``key``, or None."""
        found = self._new.get(key)
        if found is None and self._old:
            found = self._old.pop(key, None)
            if found is not None:
                self.put(key, found)
        return found

    def put(self, key: K, value: T) -> None:
        """Keep ``value`` for ``key`` (the oldest generation goes when the young one is full)."""
        if len(self._new) >= self.limit:
            self._old, self._new = self._new, {}
        self._new[key] = value

    def clear(self) -> None:
        """Forget everything."""
        self._new, self._old = {}, {}

    def __len__(self) -> int:
        return len(self._new) + len(self._old)

    def items(self) -> dict[K, T]:
        """Every entry kept, as a new dict (a key put again while in the old generation: its new value)."""
        return {**self._old, **self._new}


#: The generation size of each per-process memo of the hot path. Two generations are kept, so a
#: memo holds at most twice as many entries. The bytes an entry takes on the bundled rulesets
#: (``benchmarks/memo_sizes.py``, 5,000 generated cases) are about: missing facts 260, dimension
#: blocks and explanations 1,850, residuals 230, shared residuals 1,650, a case's bounds 5,100, an
#: explored group 2,900, an evaluator 1,700, a fact's moves 750, candidate values 1,500. With these
#: sizes all of them together stay under about 42 MB in a worker, however long the run.
GENERATION = {
    "missing": 8192,  # Plan._missing_memo: a rule's missing facts, by the values of the facts it reads
    "blocks": 2048,  # Plan.memo: dimension blocks and explanations
    "residuals": 8192,  # BoundsPlan.residuals: a rule's residual, by the values of the facts it reads
    "canon": 2048,  # BoundsPlan.canon: one object per distinct residual
    "bounds": 512,  # BoundsPlan.memo: a case's bounds
    "groups": 1024,  # BoundsPlan.groups: an explored group
    "evals": 1024,  # BoundsPlan.evals: a residual's compiled evaluator
    "moves": 1024,  # BoundsPlan.moves: what collecting a fact does to the rules reading it
    "candidates": 1024,  # bounds._CANDIDATES: the values to try for a fact, by its comparisons
}


def remembered(memo: Memo[Any, T], key: Any, make: Callable[[], T]) -> T:
    """``memo.get(key)``, made with ``make()`` on a miss and kept; made afresh each time, and not
    kept, when ``key`` is None or holds an unhashable value (a list, an unhashable literal)."""
    if key is not None:
        try:
            found = memo.get(key)
        except TypeError:  # a list or mapping in the key: no memo for it
            key = None
        else:
            if found is not None:
                return found
    value = make()
    if key is not None:
        memo.put(key, value)
    return value
