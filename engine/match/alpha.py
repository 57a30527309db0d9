"""A model of durable-rules' alpha network, to bound the stack its traversal needs.

The core walks the alpha network depth first with a fixed stack of 64 (error 303 beyond it);
``AlphaBound`` builds the network's shape from a shard's pattern expressions, sharing nodes as
the core does, and ``peak`` gives the worst-case stack, so the compiler can split rules into
shards that stay under the limit (engine.match.compiler).
"""

from __future__ import annotations

from typing import Any

from engine.match.corejson import dumps


class _Alpha:
    __slots__ = ("children", "key")

    def __init__(self, key: Any) -> None:
        self.key = key
        self.children: dict[Any, _Alpha] = {}


def _leaf_key(expr: dict[str, Any]) -> tuple[str, str, str] | None:
    (op, body), = expr.items()
    if op.startswith("$") and op not in ("$and", "$or"):
        (field_name, value), = body.items()
        return op, field_name, dumps(value)
    if not op.startswith("$"):
        return "$eq", op, dumps(body)
    return None


Keyed = tuple[Any, ...]
"""An expression as the alpha-network model reads it: ``("$and" | "$or", (parts…))`` or a leaf's key."""


def keyed(expr: dict[str, Any]) -> Keyed:
    """``expr`` with each comparison replaced by its ``_leaf_key`` (worked out once, used by every model)."""
    (op, body), = expr.items()
    if op in ("$and", "$or"):
        return op, tuple(keyed(part) for part in body)
    key = _leaf_key(expr)
    assert key is not None
    return key


class AlphaBound:
    """A model of durable's alpha network to bound its traversal stack.

    Equal comparisons under the same parent share a node, as in durable's
    ``findAlpha``. The worst-case stack for a node with k children is
    max(k', k' - 1 + worst child), where k' counts the children that can match
    together (equalities on one field with different values are exclusive).
    """

    def __init__(self) -> None:
        self.root = _Alpha(None)
        self._fresh = 0

    def add(self, expr: dict[str, Any]) -> None:
        self.add_keyed(keyed(expr))

    def add_keyed(self, expr: Keyed) -> None:
        """Add an expression given as ``keyed`` gives it."""
        self._build(self.root, expr)

    def _build(self, parent: _Alpha, expr: Keyed) -> _Alpha:
        op = expr[0]
        if op == "$and":
            node = parent
            for part in expr[1]:
                node = self._build(node, part)
            return node
        if op == "$or":
            self._fresh += 1
            joint = _Alpha(("$fwd", self._fresh))
            for part in expr[1]:
                end = self._build(parent, part)
                end.children[joint.key] = joint
            return joint
        children = parent.children
        if expr not in children:
            children[expr] = _Alpha(expr)
        return children[expr]

    @staticmethod
    def _simultaneous(node: _Alpha) -> int:
        eq_fields: set[str] = set()
        others = 0
        for key in node.children:
            if isinstance(key, tuple) and key and key[0] == "$eq":
                eq_fields.add(key[1])
            else:
                others += 1
        return len(eq_fields) + others

    def peak(self) -> int:
        # Iterative post-order: a chain of hundreds of conjuncts must not exhaust Python's stack.
        memo: dict[int, int] = {}
        stack: list[tuple[_Alpha, bool]] = [(self.root, False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in memo:
                continue
            if not node.children:
                memo[id(node)] = 0
            elif not expanded:
                stack.append((node, True))
                stack.extend((c, False) for c in node.children.values() if id(c) not in memo)
            else:
                k = self._simultaneous(node)
                worst = max(memo[id(c)] for c in node.children.values())
                memo[id(node)] = max(k, k - 1 + worst)
        return memo[id(self.root)]
