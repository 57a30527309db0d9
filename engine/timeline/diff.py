"""Impact diff: what a new date or a rule change does to one case, and to a portfolio.

``compare(old, new)`` is the diff record of one case between two of its assessments (``status``
``same``, ``changed``: findings or ranges only, or ``moved``: the rating or a level; ``distance``:
level steps moved; the shape the dashboard's ``airisk report --diff`` reads): the rating
and each dimension's level and range before and after, the findings added, removed and reworded
(rule ids, messages), and, for each move, the rules that account for it (a finding of that
dimension added, removed or reworded, a rule that starts or stops deciding one of its decisive
unknowns, a rule of that dimension that starts or stops needing information, or, for a dimension
that becomes assessed or stops being, the rules of it in force on one side only). A move no rule
accounts for is marked ``unexplained``: the summary counts those, and a test holds the example
cases to none.

``Summary`` folds diff records, one at a time (bounded memory: counts and the ``top`` cases that
moved most), into the portfolio summary of ``airisk diff --summary``: cases moved up and down per
dimension and level, the rules accounting for the moves, the cases that moved most.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from engine.lang import i18n
from engine.scale import LEVEL_ORDER

__all__ = ["PostProcess", "Summary", "compare", "error_diff", "rise", "rises_to"]

#: A function applied to each assessment before it is compared (``None``: none). The place for a
#: step that changes an assessment after the engine made it, such as waivers (issue 20): it takes
#: an assessment dict and returns the assessment to compare.
PostProcess = Callable[[dict[str, Any]], dict[str, Any]] | None


def _rank(level: str | None) -> int:
    return -1 if level is None else LEVEL_ORDER[level]


def _direction(old: str | None, new: str | None) -> str:
    a, b = _rank(old), _rank(new)
    return "up" if b > a else "down" if b < a else "range"


def _finding(f: Mapping[str, Any]) -> dict[str, Any]:
    return {"rule_id": f["rule_id"], "dimension": f["dimension"], "severity": f["severity"], "message": f["message"]}


def _decisive_rules(dim: Mapping[str, Any] | None) -> set[str]:
    if not dim:
        return set()
    return {r for u in dim.get("decisive_unknowns") or () for r in u.get("rules", ())}


def _undecided(a: Mapping[str, Any]) -> dict[str, set[str]]:
    """Per dimension, the rules that need information (undecided on the known facts)."""
    out: dict[str, set[str]] = {}
    for n in a.get("needs_information") or ():
        out.setdefault(n["dimension"], set()).add(n["rule_id"])
    return out


def compare(old: Mapping[str, Any], new: Mapping[str, Any], line: int | None = None,
            in_force: Mapping[str, set[str]] | None = None) -> dict[str, Any]:
    """The diff record of one case between its assessments ``old`` and ``new`` (module doc).

    ``in_force``: per dimension, the rules in force on one side only (when the caller knows the two
    sides' rules): they account for a dimension that becomes assessed or stops being assessed with
    no finding of its own changing (its first applicable rules came into force, or its last left)."""
    old_f = {f["rule_id"]: f for f in old["findings"]}
    new_f = {f["rule_id"]: f for f in new["findings"]}
    added = [_finding(f) for k, f in new_f.items() if k not in old_f]
    removed = [_finding(f) for k, f in old_f.items() if k not in new_f]
    reworded = [_finding(f) for k, f in new_f.items()
                if k in old_f and (old_f[k]["severity"], old_f[k]["message"]) != (f["severity"], f["message"])]
    touched = added + removed + reworded
    undecided_old = _undecided(old)
    undecided_new = _undecided(new)
    moves = []
    for name, after in new["dimensions"].items():
        before = old["dimensions"].get(name) or {}
        if (before.get("level"), before.get("level_range")) == (after["level"], after["level_range"]):
            continue
        rules = {f["rule_id"] for f in touched if f["dimension"] == name}
        rules |= _decisive_rules(before) ^ _decisive_rules(after)
        rules |= undecided_old.get(name, set()) ^ undecided_new.get(name, set())
        if not rules and in_force and (before.get("level") is None) != (after["level"] is None):
            rules = set(in_force.get(name, ()))
        moves.append({"dimension": name, "from": before.get("level"), "to": after["level"],
                      "from_range": before.get("level_range"), "to_range": after["level_range"],
                      "direction": _direction(before.get("level"), after["level"]), "rules": sorted(rules),
                      "unexplained": not rules})
    changed = bool(moves or touched or old["rating"] != new["rating"] or old["rating_range"] != new["rating_range"])
    moved = old["rating"] != new["rating"] or any(m["from"] != m["to"] for m in moves)
    record = {"line": line, "case_id": new["case_id"], "status": "moved" if moved else "changed" if changed else "same",
              "changed": changed, "distance": 0,
              "rating": {"from": old["rating"], "to": new["rating"]},
              "rating_range": {"from": old["rating_range"], "to": new["rating_range"]},
              "dimensions": {m["dimension"]: {"from": m["from"], "to": m["to"]} for m in moves if m["from"] != m["to"]},
              "moves": moves, "added": added, "removed": removed, "reworded": reworded}
    record["distance"] = _magnitude(record)
    return record


def error_diff(line: int | None, case_id: Any, side: str, error: Mapping[str, Any]) -> dict[str, Any]:
    """The diff record of a case one side (``old``, ``new`` or ``both``) could not assess."""
    return {"line": line, "case_id": case_id, "side": side, "error": dict(error)}


def rise(record: Mapping[str, Any]) -> int:
    """The highest level (``LEVEL_ORDER`` rank; -1: none) a case rose to: its rating on the known
    facts, or its worst case over the unknown facts (the top of its range), where it is higher
    than before."""
    if "error" in record:
        return -1
    r, span = record["rating"], record["rating_range"]
    found = _rank(r["to"]) if _rank(r["to"]) > _rank(r["from"]) else -1
    worst_old = span["from"][1] if span["from"] else None
    worst_new = span["to"][1] if span["to"] else None
    if _rank(worst_new) > _rank(worst_old):
        found = max(found, _rank(worst_new))
    return found


def rises_to(record: Mapping[str, Any], level: str) -> bool:
    """Whether a case rises to ``level`` or above (``rise``)."""
    return rise(record) >= LEVEL_ORDER[level]


def _magnitude(record: Mapping[str, Any]) -> int:
    """How far a case moved: level steps over the rating and the dimensions, findings as tie-break."""
    steps = abs(_rank(record["rating"]["to"]) - _rank(record["rating"]["from"]))
    steps += sum(abs(_rank(m["to"]) - _rank(m["from"])) for m in record["moves"])
    return steps


class Summary:
    """The portfolio summary, folded from diff records in order (``add``), in bounded memory."""

    def __init__(self, top: int = 10) -> None:
        self.cases = 0
        self.changed = 0
        self.errors = 0
        self.rating: Counter[tuple[str, str, str]] = Counter()  # (direction, from, to)
        self.dimensions: Counter[tuple[str, str, str, str]] = Counter()  # (dimension, direction, from, to)
        self.rules: Counter[tuple[str, str]] = Counter()  # (rule id, added | removed | reworded | undecided)
        self.unexplained = 0
        self.unexplained_cases: list[str] = []
        self.top = top
        self._heap: list[tuple[int, int, str, str]] = []  # (magnitude, -line, case id, rating move)
        self.highest_rise = -1  # the highest level any case rose to (``rise``)

    def merge(self, other: Summary) -> None:
        """Add the counts of another part of the portfolio (e.g. another file of a Dask run)."""
        self.cases += other.cases
        self.changed += other.changed
        self.errors += other.errors
        self.rating.update(other.rating)
        self.dimensions.update(other.dimensions)
        self.rules.update(other.rules)
        self.unexplained += other.unexplained
        self.unexplained_cases = (self.unexplained_cases + other.unexplained_cases)[:self.top]
        self._heap = heapq.nlargest(self.top, self._heap + other._heap)
        heapq.heapify(self._heap)
        self.highest_rise = max(self.highest_rise, other.highest_rise)

    def rose_to(self, level: str) -> bool:
        """Whether some case rose to ``level`` or above."""
        return self.highest_rise >= LEVEL_ORDER[level]

    def add(self, record: Mapping[str, Any]) -> None:
        """Count one diff record."""
        self.cases += 1
        if "error" in record:
            self.errors += 1
            return
        self.highest_rise = max(self.highest_rise, rise(record))
        if not record["changed"]:
            return
        self.changed += 1
        r = record["rating"]
        if r["from"] != r["to"]:
            self.rating[(_direction(r["from"], r["to"]), _name(r["from"]), _name(r["to"]))] += 1
        named: set[str] = set()
        for m in record["moves"]:
            self.dimensions[(m["dimension"], m["direction"], _name(m["from"]), _name(m["to"]))] += 1
            named.update(m["rules"])
            if m["unexplained"]:
                self.unexplained += 1
                if len(self.unexplained_cases) < self.top:
                    self.unexplained_cases.append(str(record["case_id"]))
        for kind in ("added", "removed", "reworded"):
            for f in record[kind]:
                self.rules[(f["rule_id"], kind)] += 1
                named.discard(f["rule_id"])
        for rule_id in named:  # rules that account for a move through an unknown fact only
            self.rules[(rule_id, "undecided")] += 1
        entry = (_magnitude(record), -int(record.get("line") or 0), str(record["case_id"]),
                 f"{_name(r['from'])} → {_name(r['to'])}")
        if len(self._heap) < self.top:
            heapq.heappush(self._heap, entry)
        elif entry > self._heap[0]:
            heapq.heapreplace(self._heap, entry)

    def to_dict(self) -> dict[str, Any]:
        """The summary as data (``airisk diff --summary --format json``)."""
        return {
            "cases": self.cases, "changed": self.changed, "unchanged": self.cases - self.changed - self.errors,
            "errors": self.errors,
            "rating": [{"direction": d, "from": a, "to": b, "cases": n}
                       for (d, a, b), n in sorted(self.rating.items())],
            "dimensions": [{"dimension": dim, "direction": d, "from": a, "to": b, "cases": n}
                           for (dim, d, a, b), n in sorted(self.dimensions.items())],
            "rules": [{"rule_id": rid, "how": how, "cases": n}
                      for (rid, how), n in sorted(self.rules.items(), key=lambda kv: (-kv[1], kv[0]))],
            "unexplained_moves": self.unexplained, "unexplained_cases": self.unexplained_cases,
            "moved_most": [{"case_id": cid, "line": -neg, "steps": mag, "rating": move}
                           for mag, neg, cid, move in sorted(self._heap, reverse=True)],
        }


def _name(level: str | None) -> str:
    return "not assessed" if level is None else level


def _level_name(value: str, lang: str) -> str:
    """A level as the summary holds it (``not assessed`` for none), in ``lang``."""
    return i18n.phrase(lang, "not_assessed") if value == "not assessed" else i18n.name(lang, value)


def _move_name(move: str, lang: str) -> str:
    """``low → high`` (the summary's form of a rating move), in ``lang``."""
    return " → ".join(_level_name(part, lang) for part in move.split(" → "))


def render_summary(summary: Mapping[str, Any], fmt: str = "text", lang: str = "en") -> str:
    """The summary as text or Markdown, its labels, levels, dimensions and directions in ``lang``
    (``engine.lang.i18n``, ``diff.*``; the JSON keeps the English values)."""
    md = fmt == "markdown"
    out: list[str] = []

    def say(key: str, **values: Any) -> str:
        return i18n.phrase(lang, key, **values)

    def level(value: str) -> str:
        return _level_name(value, lang)

    head = (say("diff.head", cases=summary["cases"], changed=summary["changed"], unchanged=summary["unchanged"])
            + (say("diff.errors", errors=summary["errors"]) if summary["errors"] else ""))
    out += [say("diff.title"), "", head, ""] if md else [head]

    def section(key: str, rows: list[str]) -> None:
        if not rows:
            return
        title = say(key)
        if md:
            out.extend([f"## {title}", "", *rows, ""])
        else:
            out.extend(["", say("diff.section", title=title), *rows])

    bullet = "- " if md else "  "
    section("diff.rating", [bullet + say("diff.rating_row", direction=say(f"diff.{r['direction']}"),
                                         old=level(r["from"]), new=level(r["to"]), cases=r["cases"])
                            for r in summary["rating"]])
    section("diff.dimensions", [bullet + say("diff.dimension_row", dimension=i18n.name(lang, r["dimension"]),
                                             direction=say(f"diff.{r['direction']}"), old=level(r["from"]),
                                             new=level(r["to"]), cases=r["cases"])
                                for r in summary["dimensions"]])
    section("diff.rules", [bullet + say("diff.rule_row", rule=r["rule_id"], how=say(f"diff.how.{r['how']}"),
                                        cases=r["cases"])
                           for r in summary["rules"]])
    section("diff.moved", [bullet + say("diff.moved_row", case=r["case_id"], line=r["line"],
                                        rating=_move_name(r["rating"], lang), steps=r["steps"])
                           for r in summary["moved_most"] if r["steps"]])
    if summary["unexplained_moves"]:
        section("diff.unexplained", [bullet + say("diff.unexplained_row", moves=summary["unexplained_moves"],
                                                  cases=say("sep.list").join(summary["unexplained_cases"]))])
    return "\n".join(out).rstrip() + "\n"
