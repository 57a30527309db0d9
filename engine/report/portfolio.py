"""The portfolio of a batch run, aggregated in one streaming pass over its JSON lines.

``Portfolio.add`` takes one batch record (``{"line", "case_id", "assessment"}`` or ``{"line",
"case_id", "error"}``) and keeps only counts and a compact row per case: the memory held is
the aggregates plus about 25 bytes a case, never the assessments. ``Portfolio.data()`` is what
the dashboard page embeds: the counts its charts draw and the case table as fixed-width
base-64 columns (one string per column), which keeps 100,000 cases within a few megabytes.

The fired rules of each case (its *profile*: the rules that fired and those waiting for
information) are interned; once the distinct profiles would pass ``PROFILE_BUDGET`` characters,
later cases keep their drivers, levels and scores but not the full list (the page says so).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from engine.scale import DIMENSIONS, LEVELS

#: The digits of the compact columns (base64url: safe in JSON and in a script element).
DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: Rating codes of the table: the levels, then ``none`` (nothing assessed), then ``error``.
RATINGS: tuple[str, ...] = (*LEVELS, "none", "error")
#: Characters the interned profiles may take in all (about 1.5 MB of the page).
PROFILE_BUDGET = 1_500_000
#: Score histogram: ten bins of ten points (100 falls in the last).
BINS = 10
_NUMBERED = re.compile(r"(.*?)([1-9][0-9]{0,8}|0)")


def width_for(top: int) -> int:
    """How many base-64 digits the numbers up to ``top`` need."""
    width = 1
    while len(DIGITS) ** width <= top:
        width += 1
    return width


def encode_column(values: list[int], width: int | None = None) -> dict[str, Any]:
    """Non-negative integers as one string of fixed-width base-64 numbers (``w`` digits each;
    by default as many as the largest needs)."""
    width = width or width_for(max(values, default=0))
    chars = []
    for v in values:
        digits = []
        for _ in range(width):
            v, r = divmod(v, len(DIGITS))
            digits.append(DIGITS[r])
        chars.append("".join(reversed(digits)))
    return {"w": width, "s": "".join(chars)}


def decode_column(column: Mapping[str, Any]) -> list[int]:
    """The integers of an ``encode_column`` string (the page's script does the same)."""
    width, text = column["w"], column["s"]
    out = []
    for i in range(0, len(text), width):
        v = 0
        for ch in text[i:i + width]:
            v = v * len(DIGITS) + DIGITS.index(ch)
        out.append(v)
    return out


class _Interner:
    """Strings (or tuples) to small integers, in first-seen order."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}

    def __call__(self, value: Any) -> int:
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.index)
        return found

    def values(self) -> list[Any]:
        return list(self.index)


def region_of(assessment: Mapping[str, Any]) -> str | None:
    """A facility's hub node (its province-level hub), else the country it stands in; None for
    a project or a facility whose place is unknown."""
    if assessment.get("kind") != "facility":
        return None
    derived = (assessment.get("derived") or {}).get("case") or {}
    return derived.get("hub_node") or derived.get("location_ear_country") or None


class Portfolio:
    """Counts and compact rows of a batch run's records, fed one at a time (``add``)."""

    def __init__(self) -> None:
        self.lines = 0
        self.by_rating: Counter[str] = Counter()
        self.by_worst: Counter[str] = Counter()
        self.by_dimension: dict[str, Counter[str]] = {d: Counter() for d in DIMENSIONS}
        self.scores: dict[str, list[int]] = {d: [0] * BINS for d in DIMENSIONS}
        self.drivers: Counter[str] = Counter()
        self.waiting: Counter[str] = Counter()
        self.needing = 0
        self.regions: dict[str, Counter[str]] = {}
        self.error_codes: Counter[str] = Counter()
        self.rules: dict[str, tuple[str, str, str]] = {}  # id -> (title, severity, dimension)
        self._rule = _Interner()
        self._prefix = _Interner()
        self._region = _Interner()
        self._code = _Interner()
        self._drivers = _Interner()
        self._profile = _Interner()
        self._profile_chars = 0
        self.truncated = False
        self._cols: dict[str, list[int]] = {name: [] for name in (
            "line", "idp", "idn", "rating", "worst", "needs", "region", "error", "drivers", "profile",
            *(f"lvl_{d}" for d in DIMENSIONS), *(f"score_{d}" for d in DIMENSIONS))}

    def add(self, record: Mapping[str, Any]) -> None:
        """Count one batch record and keep its row."""
        self.lines += 1
        cols = self._cols
        cols["line"].append(int(record.get("line") or 0))
        self._case_id(record.get("case_id"))
        assessment = record.get("assessment")
        if assessment is None:
            code = str((record.get("error") or {}).get("code") or "error")
            self.error_codes[code] += 1
            self.by_rating["error"] += 1
            self.by_worst["error"] += 1
            self._blank_row(self._code(code) + 1)
            return
        self._assessment(assessment)

    def _case_id(self, case_id: Any) -> None:
        text = "" if case_id is None else str(case_id)
        m = _NUMBERED.fullmatch(text)
        if m:
            self._cols["idp"].append(self._prefix(m.group(1)))
            self._cols["idn"].append(int(m.group(2)) + 1)
        else:
            self._cols["idp"].append(self._prefix(text))
            self._cols["idn"].append(0)

    def _blank_row(self, error: int) -> None:
        cols = self._cols
        cols["rating"].append(RATINGS.index("error"))
        cols["worst"].append(RATINGS.index("error"))
        for name in ("needs", "region", "drivers", "profile"):
            cols[name].append(0)
        cols["error"].append(error)
        for d in DIMENSIONS:
            cols[f"lvl_{d}"].append(RATINGS.index("none"))
            cols[f"score_{d}"].append(0)

    def _assessment(self, a: Mapping[str, Any]) -> None:
        cols = self._cols
        rating = a.get("rating") or "none"
        worst = ((a.get("rating_range") or [None, None])[1]) or rating
        self.by_rating[rating] += 1
        self.by_worst[worst] += 1
        cols["rating"].append(RATINGS.index(rating))
        cols["worst"].append(RATINGS.index(worst))
        driven: list[str] = []
        for name in DIMENSIONS:
            d = (a.get("dimensions") or {}).get(name) or {"assessed": False, "score": 0}
            level = d.get("level") if d.get("assessed") else None
            self.by_dimension[name][level or "none"] += 1
            score = float(d.get("score") or 0)
            if level:
                self.scores[name][min(BINS - 1, max(0, int(score // (100 / BINS))))] += 1
            cols[f"lvl_{name}"].append(RATINGS.index(level or "none"))
            cols[f"score_{name}"].append(round(score * 10))
            driven += [r for r in d.get("drivers") or [] if r not in driven]
        self.drivers.update(driven)
        needs = a.get("needs_information") or []
        self.needing += bool(needs)
        self.waiting.update({n["rule_id"] for n in needs})
        for f in a.get("findings") or []:
            if f["rule_id"] not in self.rules:
                self.rules[f["rule_id"]] = (f.get("title") or "", f.get("severity") or "", f.get("dimension") or "")
        for n in needs:
            self.rules.setdefault(n["rule_id"], (n.get("title") or "", "", n.get("dimension") or ""))
        region = region_of(a)
        if region is not None:
            self.regions.setdefault(region, Counter())[rating] += 1
        cols["needs"].append(len(needs))
        cols["region"].append(0 if region is None else self._region(region) + 1)
        cols["error"].append(0)
        cols["drivers"].append(self._drivers(tuple(self._rule(r) for r in driven)) + 1)
        self._keep_profile(a, needs)

    def _keep_profile(self, a: Mapping[str, Any], needs: list[Mapping[str, Any]]) -> None:
        fired = tuple(self._rule(f["rule_id"]) for f in a.get("findings") or [])
        waiting = tuple(self._rule(n["rule_id"]) for n in needs)
        key = (fired, waiting)
        if key not in self._profile.index:
            cost = 2 * (len(fired) + len(waiting)) + 4
            if self._profile_chars + cost > PROFILE_BUDGET:
                self.truncated = True
                self._cols["profile"].append(0)
                return
            self._profile_chars += cost
        self._cols["profile"].append(self._profile(key) + 1)

    def data(self, *, top: int = 15, lang: str = "en", source: str = "") -> dict[str, Any]:
        """What the dashboard page embeds: the counts of every chart and the case table's columns."""
        rule_ids = self._rule.values()
        rw = width_for(len(rule_ids))
        lines = self._cols["line"]
        sequential = lines == list(range(1, len(lines) + 1))
        columns = {name: encode_column(values) for name, values in self._cols.items()
                   if not (name == "line" and sequential)}
        return {
            "lang": lang, "source": source, "cases": self.lines, "levels": list(LEVELS), "ratings": list(RATINGS),
            "dimensions": list(DIMENSIONS), "bins": BINS,
            "by_rating": {r: self.by_rating.get(r, 0) for r in RATINGS},
            "by_worst": {r: self.by_worst.get(r, 0) for r in RATINGS},
            "by_dimension": {d: {r: c.get(r, 0) for r in (*LEVELS, "none")} for d, c in self.by_dimension.items()},
            "scores": self.scores,
            "top_drivers": self.drivers.most_common(top),
            "top_waiting": self.waiting.most_common(top),
            "needing": self.needing,
            "regions": sorted(([name, {r: n for r in RATINGS if (n := c.get(r, 0))}]
                               for name, c in self.regions.items()),
                              key=lambda item: (-sum(item[1].values()), item[0])),
            "error_codes": self.error_codes.most_common(),
            "rules": rule_ids,
            "rule_info": {rid: list(self.rules.get(rid, ("", "", ""))) for rid in rule_ids},
            "prefixes": self._prefix.values(),
            "region_names": self._region.values(),
            "codes": self._code.values(),
            "driver_sets": [encode_column(list(s), rw)["s"] for s in self._drivers.values()],
            "profiles": [_profile_text(fired, waiting, rw) for fired, waiting in self._profile.values()],
            "rule_width": rw,
            "truncated": self.truncated, "profile_budget": PROFILE_BUDGET,
            "columns": columns, "sequential_lines": sequential,
        }


def _profile_text(fired: tuple[int, ...], waiting: tuple[int, ...], width: int) -> str:
    return f'{encode_column(list(fired), width)["s"]}.{encode_column(list(waiting), width)["s"]}'


def aggregate(records: Iterable[Mapping[str, Any]]) -> Portfolio:
    """A ``Portfolio`` of every record, in one pass."""
    portfolio = Portfolio()
    for record in records:
        portfolio.add(record)
    return portfolio
