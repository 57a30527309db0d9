"""A case's rating over time: its assessment on each day of change of the rules, and what changes.

``History`` walks the days of change (``engine.timeline.dates.Calendar``) of a window and
re-assesses the case where the rules that change could change its assessment. A day is *quiet*
for a case, and skipped, when every rule starting or stopping on it is out of the case's scope or
decided false on its known facts (its residual, ``engine.assessment.residual``, is ``False``: no
filling of the unknown facts makes it fire, so it adds no finding, no needed fact and nothing to
the range), and no dimension gains or loses its last applicable rule (which would make it assessed
or not assessed), and the derived country groups are unchanged. A quiet day's assessment equals
the one before it on everything a step reports; ``every_day=True`` re-assesses on every day of
change instead (``airisk timeline --every-day``; a test holds the two to the same steps).

A *step* is a day on which the rating, its range, a dimension's level or range, or the findings
(by rule id, severity and message) change: the new state, the moves, the findings that appear and
disappear with their messages and citations, and the rules that start or stop that day.
``upcoming`` is the steps of the next ``horizon`` days after an assessment (``airisk assess
--horizon``), each with a one-line summary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from engine.assessment.engine import Engine, parse_as_of
from engine.assessment.residual import compile_residual
from engine.lang import conditions as C
from engine.lang import i18n
from engine.ruleset.model import Rule
from engine.timeline.dates import Calendar, Changes, day_before

if TYPE_CHECKING:
    from engine.waivers.model import WaiverSet

__all__ = ["DEFAULT_HORIZON", "History", "describe", "finding_brief", "history_for", "state_of", "step", "upcoming_of",
           "with_upcoming"]

#: The default window of ``airisk assess --horizon``, in days.
DEFAULT_HORIZON = 365


def state_of(assessment: dict[str, Any]) -> dict[str, Any]:
    """What a step compares of an assessment: rating and range, each dimension's level and range,
    and the findings by rule id."""
    return {
        "date": assessment["provenance"]["as_of"],
        "rating": assessment["rating"], "rating_range": assessment["rating_range"],
        "dimensions": {d: {"level": r["level"], "level_range": r["level_range"]}
                       for d, r in assessment["dimensions"].items()},
        "findings": {f["rule_id"]: finding_brief(f) for f in assessment["findings"]},
    }


def finding_brief(f: dict[str, Any]) -> dict[str, Any]:
    """A finding as a step shows it: rule, dimension, severity, title, message, citations, window."""
    return {"rule_id": f["rule_id"], "dimension": f["dimension"], "severity": f["severity"], "title": f["title"],
            "message": f["message"], "citations": f["citations"], "effective": f["effective"]}


def step(before: dict[str, Any], after: dict[str, Any], changes: Changes | None = None) -> dict[str, Any] | None:
    """The step from state ``before`` to state ``after`` (``state_of``), or None when nothing a
    step reports changed."""
    moves = [{"dimension": d, "from": before["dimensions"].get(d, {}).get("level"), "to": r["level"],
              "from_range": before["dimensions"].get(d, {}).get("level_range"), "to_range": r["level_range"]}
             for d, r in after["dimensions"].items()
             if before["dimensions"].get(d) != r]
    old, new = before["findings"], after["findings"]
    appeared = [new[k] for k in new if k not in old]
    disappeared = [old[k] for k in old if k not in new]
    changed = [new[k] for k in new if k in old and (old[k]["severity"], old[k]["message"])
               != (new[k]["severity"], new[k]["message"])]
    rating_moved = (before["rating"], before["rating_range"]) != (after["rating"], after["rating_range"])
    if not (moves or appeared or disappeared or changed or rating_moved):
        return None
    return {"date": after["date"], "rating": after["rating"], "rating_range": after["rating_range"],
            "was": {"rating": before["rating"], "rating_range": before["rating_range"]},
            "moves": moves, "appeared": appeared, "disappeared": disappeared, "changed": changed,
            "rules_changing": changes.rule_ids if changes is not None else [],
            "dimensions": after["dimensions"]}


def _level(level: str | None, lang: str = "en") -> str:
    return i18n.phrase(lang, "not_assessed") if level is None else i18n.name(lang, level)


def _range(span: list[str] | None, lang: str = "en") -> str:
    if not span:
        return "-"
    return i18n.name(lang, span[0]) if span[0] == span[1] else f"{i18n.name(lang, span[0])}–{i18n.name(lang, span[1])}"


def _move(move: dict[str, Any], lang: str = "en") -> str:
    """``safety becomes high``; ``export_control stays low, range low–low → low–critical``."""
    key = "upcoming.becomes" if move["from"] != move["to"] else "upcoming.stays"
    head = i18n.phrase(lang, key, dimension=i18n.name(lang, move["dimension"]), level=_level(move["to"], lang))
    if move["to"] is not None and move["to_range"] != move["from_range"] and (
            move["from"] == move["to"] or move["to_range"][0] != move["to_range"][1]):
        head += i18n.phrase(lang, "upcoming.range", before=_range(move["from_range"], lang),
                            after=_range(move["to_range"], lang))
    return head


def describe(s: dict[str, Any], lang: str = "en") -> str:
    """One line for a step: ``2027-12-02: safety becomes high (EUA-010 …)``, in ``lang``
    (engine.lang.i18n; the rules' titles are in the language of the rules assessed)."""
    parts = []
    named: set[str] = set()
    items = i18n.phrase(lang, "sep.items")
    for move in s["moves"]:
        rules = [f for f in s["appeared"] + s["disappeared"] + s["changed"] if f["dimension"] == move["dimension"]]
        named.update(f["rule_id"] for f in rules)
        why = items.join(_why(f, s, lang) for f in rules)
        parts.append(_move(move, lang) + (i18n.phrase(lang, "upcoming.why", why=why) if why else ""))
    rest = [f for f in s["appeared"] + s["disappeared"] + s["changed"] if f["rule_id"] not in named]
    if rest:
        parts.append(items.join(_why(f, s, lang) for f in rest))
    if not parts:
        parts.append(i18n.phrase(lang, "upcoming.rating", level=_level(s["rating"], lang),
                                 range=_range(s["rating_range"], lang)))
    return f"{s['date']}: " + i18n.phrase(lang, "upcoming.sep").join(parts)


def _why(f: dict[str, Any], s: dict[str, Any], lang: str = "en") -> str:
    key = "upcoming.ends" if f in s["disappeared"] else "upcoming.changes" if f in s["changed"] else "upcoming.starts"
    return i18n.phrase(lang, key, rule=f["rule_id"], title=f["title"])


def upcoming_of(s: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """A step as an entry of an assessment's ``upcoming`` list (``engine.assessment.shape.UPCOMING``),
    its ``text`` in ``lang``."""
    def brief(f: dict[str, Any]) -> dict[str, Any]:
        return {"rule_id": f["rule_id"], "dimension": f["dimension"], "severity": f["severity"], "title": f["title"]}

    return {"date": s["date"], "rating": s["rating"], "rating_range": s["rating_range"],
            "moves": [{k: m[k] for k in ("dimension", "from", "to", "from_range", "to_range")} for m in s["moves"]],
            "appeared": [brief(f) for f in s["appeared"]], "disappeared": [brief(f) for f in s["disappeared"]],
            "text": describe(s, lang)}


class History:
    """The history of cases under one Engine and scenario (built once, used for many cases)."""

    def __init__(self, engine: Engine, scenario: str | None = None) -> None:
        self.engine = engine
        self.scenario = scenario
        self.calendar = Calendar(engine.rules, scenario)
        self._residuals: dict[int, Any] = {}
        #: Days re-assessed and days found quiet since this object was made (for measurements).
        self.assessed = 0
        self.skipped = 0

    def _residual(self, rule: Rule) -> Any:
        found = self._residuals.get(id(rule))
        if found is None:
            found = self._residuals[id(rule)] = compile_residual(rule.condition)
        return found

    @staticmethod
    def _applies(rule: Rule, view: dict[str, Any], kind: str | None) -> bool:
        """``engine.assessment.scope.out_of_scope``'s test for one rule, negated."""
        if kind and kind not in rule.applies_to:
            return False
        return not any(C.is_missing(C.lookup(view, path)) for path in rule.requires)

    def _assessed_dims(self, view: dict[str, Any], kind: str | None, day: str) -> set[str]:
        return {r.dimension for r in self.engine.in_force(day, self.scenario) if self._applies(r, view, kind)}

    def quiet(self, plain: dict[str, Any], changes: Changes, views: dict[str, dict[str, Any]]) -> bool:
        """Whether nothing a step reports can change for this case on ``changes.day`` (module doc)."""
        from engine.derive.view import build_view

        day, before = changes.day, day_before(changes.day)
        kind = plain.get("kind")

        def view(on: str) -> dict[str, Any]:
            found = views.get(on)
            if found is None:
                found = views[on] = build_view(plain, on)
            return found

        after_view = view(day)
        before_view = view(before) if changes.groups else after_view
        if changes.groups and before_view != after_view:
            return False
        dims: set[str] = set()
        for rules, seen in ((changes.starting, after_view), (changes.ending, before_view)):
            for rule in rules:
                if not self._applies(rule, seen, kind):
                    continue
                if self._residual(rule)(seen, "") is not False:
                    return False
                dims.add(rule.dimension)
        if dims:  # a decided-false rule still makes its dimension assessed: that must not flip
            was, now = self._assessed_dims(before_view, kind, before), self._assessed_dims(after_view, kind, day)
            if any((d in was) != (d in now) for d in dims):
                return False
        return True

    def steps(self, plain: dict[str, Any], start: str | dt.date | None, end: str | dt.date,
              first: dict[str, Any] | None = None, *, every_day: bool = False, waivers: WaiverSet | None = None
              ) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
        """The case's assessment on ``start`` (``first`` if given) and then, for each day of change
        up to ``end`` on which something changes, (assessment, step). ``plain`` is the validated
        case (``engine.case.validation.plain_case``). With ``waivers``, every day is assessed under
        them, and the days a waiver starts or stops applying are days of change too."""
        day = parse_as_of(start)
        last = first if first is not None else self.engine.assess_plain(plain, as_of=day, scenario=self.scenario,
                                                                        waivers=waivers)
        yield last, None
        state = state_of(last)
        views: dict[str, dict[str, Any]] = {}
        until = parse_as_of(end)
        calendar = self.calendar.between(day, until)
        forced = _waiver_days(waivers, day, until) - {c.day for c in calendar}
        if forced:
            calendar = sorted([*calendar, *(Changes(d, (), (), False) for d in forced)], key=lambda c: c.day)
        for changes in calendar:
            if not every_day and changes.day not in forced and self.quiet(plain, changes, views):
                self.skipped += 1
                continue
            self.assessed += 1
            now = self.engine.assess_plain(plain, as_of=changes.day, scenario=self.scenario, waivers=waivers)
            new_state = state_of(now)
            moved = step(state, new_state, changes)
            state = new_state
            if moved is not None:
                yield now, moved
            if len(views) > 16:
                views.clear()

    def timeline(self, plain: dict[str, Any], start: str | dt.date | None, end: str | dt.date,
                 *, every_day: bool = False, waivers: WaiverSet | None = None) -> dict[str, Any]:
        """The timeline of one case (``airisk timeline --format json``)."""
        walk = self.steps(plain, start, end, every_day=every_day, waivers=waivers)
        first, _ = next(walk)
        steps = [s for _, s in walk if s is not None]
        days = [{"date": c.day, "starting": sorted({r.id for r in c.starting}),
                 "ending": sorted({r.id for r in c.ending}), "country_groups": c.groups}
                for c in self.calendar.between(parse_as_of(start), parse_as_of(end))]
        return {"case_id": first["case_id"], "case_name": first["case_name"], "from": parse_as_of(start),
                "to": parse_as_of(end), "scenario": self.scenario, "lang": self.engine.rules.lang,
                "start": _start_of(first), "steps": steps,
                "days": days, "provenance": first["provenance"]}

    def upcoming(self, plain: dict[str, Any], assessment: dict[str, Any], horizon: int,
                 waivers: WaiverSet | None = None) -> list[dict[str, Any]]:
        """The ``upcoming`` list of ``assessment`` (of ``plain``, made under ``waivers``): its steps in
        the ``horizon`` days after its as-of date (a waiver's expiry is a step too)."""
        day = assessment["provenance"]["as_of"]
        end = (dt.date.fromisoformat(day) + dt.timedelta(days=horizon)).isoformat()
        walk = self.steps(plain, day, end, assessment, waivers=waivers)
        next(walk)
        lang = self.engine.rules.lang
        return [upcoming_of(s, lang) for _, s in walk if s is not None]


def _start_of(a: dict[str, Any]) -> dict[str, Any]:
    state = state_of(a)
    return {"date": state["date"], "rating": state["rating"], "rating_range": state["rating_range"],
            "dimensions": state["dimensions"], "findings": list(state["findings"].values())}



@lru_cache(maxsize=8)
def history_for(engine: Engine, scenario: str | None) -> History:
    """The process-wide ``History`` of an Engine under a scenario."""
    return History(engine, scenario)


def _waiver_days(waivers: WaiverSet | None, after: str, until: str) -> set[str]:
    """The days in (after, until] on which a waiver starts (``created``) or stops (``expires`` + 1)."""
    if waivers is None:
        return set()
    days = set()
    for w in waivers.waivers:
        for d in (w.created, (dt.date.fromisoformat(w.expires) + dt.timedelta(days=1)).isoformat()):
            if after < d <= until:
                days.add(d)
    return days


def with_upcoming(engine: Engine, plain: dict[str, Any], assessment: dict[str, Any], horizon: int,
                  waivers: WaiverSet | None = None) -> dict[str, Any]:
    """``assessment`` (of the validated case ``plain``, made under ``waivers``) with its ``upcoming``
    list for the next ``horizon`` days, placed after ``explanation``; unchanged when ``horizon`` is 0."""
    if horizon <= 0:
        return assessment
    from engine.assessment.shape import with_optional

    found = history_for(engine, assessment["provenance"]["scenario"]).upcoming(plain, assessment, horizon, waivers)
    return with_optional("Assessment", assessment, "upcoming", found)
