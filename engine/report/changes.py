"""The cases that changed, for the dashboard: the records of ``airisk diff`` aggregated in one pass.

A diff record is ``{"line", "case_id", "status", "rating": {"from", "to"}, "dimensions": {dim:
{"from", "to"}}, "added": [finding], "removed": [finding], "rules", "distance", ...}`` (status
``same``, ``changed`` or ``moved``), or a batch error record. ``Changes`` keeps the counts by
status, the rating moves, the rules added and removed most often, and the ``KEEP`` cases that
moved farthest (the page lists those; the counts cover every case).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Mapping
from typing import Any

from engine.scale import DIMENSIONS

#: How many changed cases the page lists (those that moved farthest, then by line).
KEEP = 200


def _rule_ids(items: Any) -> list[str]:
    return [str(x["rule_id"]) if isinstance(x, Mapping) else str(x) for x in items or []]


class Changes:
    """Counts and the farthest-moved cases of a stream of diff records (``add``)."""

    def __init__(self) -> None:
        self.by_status: Counter[str] = Counter()
        self.rating_moves: Counter[tuple[str, str]] = Counter()
        self.dimension_moves: dict[str, Counter[tuple[str, str]]] = {d: Counter() for d in DIMENSIONS}
        self.added: Counter[str] = Counter()
        self.removed: Counter[str] = Counter()
        self._kept: list[tuple[int, int, int, dict[str, Any]]] = []  # (distance, -line, -seen, row)
        self._seen = 0

    def add(self, record: Mapping[str, Any]) -> None:
        """Count one diff record."""
        if "error" in record:
            self.by_status["error"] += 1
            return
        status = str(record.get("status") or "same")
        self.by_status[status] += 1
        if status == "same":
            return
        rating = record.get("rating") or {}
        old, new = rating.get("from") or "none", rating.get("to") or "none"
        if old != new:
            self.rating_moves[(old, new)] += 1
        dims = record.get("dimensions") or {}
        for name, move in dims.items():
            if name in self.dimension_moves and isinstance(move, Mapping):
                self.dimension_moves[name][(move.get("from") or "none", move.get("to") or "none")] += 1
        added, removed = _rule_ids(record.get("added")), _rule_ids(record.get("removed"))
        self.added.update(added)
        self.removed.update(removed)
        line = int(record.get("line") or 0)
        row = {"line": line, "case_id": record.get("case_id"), "status": status, "from": old, "to": new,
               "dimensions": {n: [m.get("from") or "none", m.get("to") or "none"] for n, m in dims.items()
                              if isinstance(m, Mapping)},
               "added": added, "removed": removed}
        self._seen += 1
        entry = (int(record.get("distance") or 0), -line, -self._seen, row)
        if len(self._kept) < KEEP:
            heapq.heappush(self._kept, entry)
        elif entry[:3] > self._kept[0][:3]:
            heapq.heapreplace(self._kept, entry)

    def data(self, top: int = 15) -> dict[str, Any]:
        """What the page shows: counts by status, moves, top rules added and removed, kept cases."""
        kept = [e[3] for e in sorted(self._kept, key=lambda e: (-e[0], -e[1], -e[2]))]
        return {
            "by_status": dict(self.by_status),
            "rating_moves": [[a, b, n] for (a, b), n in self.rating_moves.most_common()],
            "dimension_moves": {d: [[a, b, n] for (a, b), n in c.most_common()]
                                for d, c in self.dimension_moves.items()},
            "added": self.added.most_common(top), "removed": self.removed.most_common(top),
            "cases": kept, "kept": len(kept),
            "changed": sum(n for s, n in self.by_status.items() if s not in ("same", "error")),
        }
