"""Waivers: accepted risk, with a reason, an approver and an expiry date.

A waiver file (YAML or JSON) lists waivers. Each names a rule (an id or a glob such as
``CNX-*``), the cases it covers (ids or id globs, tags, or a fact condition in the rule
language), why the risk is accepted, who accepted it, an optional ticket, and the dates it
was created and expires. A file may set ``policy: {max_days: N}``, the longest a waiver may
run (default 365 days); the loader refuses a waiver that runs longer, one that expires before
it was created, unknown keys and wrong types, each located at file, line and field.

See docs/waivers.md for the semantics (what a waiver changes in an assessment and what it
never hides)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from engine.errors import InputError, Problem, ProblemList, did_you_mean
from engine.lang import conditions as C
from engine.source.document import Document
from engine.source.safeyaml import Limits, load_text, syntax_of

WAIVER_LIMITS = Limits(max_bytes=2 * 1024 * 1024, max_depth=32, max_nodes=200_000)
DEFAULT_MAX_DAYS = 365
TOP_KEYS = ("policy", "waivers")
POLICY_KEYS = ("max_days",)
WAIVER_KEYS = ("rule", "cases", "reason", "approver", "ticket", "created", "expires")
CASES_KEYS = ("ids", "tags", "when")
MAX_WAIVERS = 10_000


@dataclass(frozen=True)
class Waiver:
    """One waiver, as loaded (``index``: its position in the file, from 0)."""

    index: int
    rule: str
    ids: tuple[str, ...]
    tags: tuple[str, ...]
    when: C.Condition | None
    reason: str
    approver: str
    ticket: str | None
    created: str
    expires: str
    file: str
    line: int | None

    def covers_rule(self, rule_id: str) -> bool:
        """Whether the waiver's ``rule`` (an id or a glob) names ``rule_id``."""
        return rule_id == self.rule or fnmatchcase(rule_id, self.rule)

    def covers_case(self, case_id: str, tags: Any, view: Any) -> bool:
        """Whether the case meets every selector given (ids, tags, condition). A condition that
        is unknown on the case's facts does not cover it: a waiver never rests on an unknown."""
        if self.ids and not any(case_id == i or fnmatchcase(case_id, i) for i in self.ids):
            return False
        if self.tags and not (isinstance(tags, list) and any(t in tags for t in self.tags)):
            return False
        return self.when is None or C.truth(self.when, view) is True

    def state(self, day: str) -> str:
        """``live`` (created ≤ day ≤ expires), ``expired`` (day after expires) or ``future``."""
        if day > self.expires:
            return "expired"
        if day < self.created:
            return "future"
        return "live"

    def as_output(self) -> dict[str, Any]:
        """The ``waived`` block a waived finding carries."""
        return {"reason": self.reason, "approver": self.approver, "ticket": self.ticket, "created": self.created,
                "expires": self.expires, "rule": self.rule, "file": self.file, "line": self.line}


@dataclass
class WaiverSet:
    """The waivers of one file, its SHA-256, and which waivers matched a finding in this process
    (``used``: live; ``expired_hits``: matched but expired), for stale-waiver reports."""

    waivers: tuple[Waiver, ...]
    file: str
    sha256: str
    max_days: int = DEFAULT_MAX_DAYS
    used: set[int] = field(default_factory=set)
    expired_hits: set[int] = field(default_factory=set)

    def provenance(self) -> dict[str, str]:
        return {"file": self.file, "sha256": self.sha256}

    def stale(self) -> list[Waiver]:
        """The waivers that matched no finding in any assessment so far."""
        return [w for w in self.waivers if w.index not in self.used and w.index not in self.expired_hits]

    def expired(self, day: str) -> list[Waiver]:
        return [w for w in self.waivers if w.state(day) == "expired"]

    def __reduce__(self) -> Any:  # sent to worker processes: the usage counters start afresh there
        return (WaiverSet, (self.waivers, self.file, self.sha256, self.max_days))


def _date(doc: Document, path: list[str | int], value: Any, problems: ProblemList) -> str | None:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    problems.add(doc.where(path, f"expected a date YYYY-MM-DD, got {value!r}", code="invalid_date"))
    return None


def _text(doc: Document, path: list[str | int], value: Any, problems: ProblemList, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(doc.where(path, "required: a non-empty text" if value is None else
                               f"expected a non-empty text, got {type(value).__name__}", code="invalid"))
        return None
    return value.strip()


def _names(doc: Document, path: list[str | int], value: Any, problems: ProblemList) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        problems.add(doc.where(path, "expected a non-empty list of texts"))
        return ()
    return tuple(value)


def _unknown(doc: Document, path: list[str | int], raw: dict[str, Any], allowed: tuple[str, ...],
             problems: ProblemList) -> None:
    for key in raw:
        if key not in allowed:
            guess = did_you_mean(str(key), allowed)
            problems.add(doc.where([*path, key], f"unknown key {key!r}", code="unknown_key",
                                   hint=guess or f"allowed: {', '.join(allowed)}"))


def _condition(doc: Document, path: list[str | int], raw: Any, problems: ProblemList) -> C.Condition | None:
    from engine.case.factspec import catalogue
    from engine.ruleset.check_conditions import _check_condition

    found = ProblemList()
    _check_condition(doc, raw, path, catalogue(), None, False, found)
    if found:
        problems.extend(found.problems)
        return None
    try:
        return C.parse(raw)
    except (KeyError, TypeError, ValueError, StopIteration, AttributeError):
        problems.add(doc.where(path, "not a condition of the rule language (all / any / not / some / fact)"))
        return None


def parse_waivers(doc: Document, sha256: str, max_days: int | None = None) -> WaiverSet:
    """Check and type a parsed waiver file (``max_days``: a policy maximum set by the caller, e.g.
    from the configuration, which the file's own ``policy.max_days`` may lower but not raise)."""
    problems = ProblemList()
    data = doc.data
    if not isinstance(data, dict):
        raise InputError(doc.where([], "a waiver file must be a mapping with a `waivers:` list"))
    _unknown(doc, [], data, TOP_KEYS, problems)
    limit = max_days if max_days is not None else DEFAULT_MAX_DAYS
    policy = data.get("policy")
    if policy is not None:
        if not isinstance(policy, dict):
            problems.add(doc.where(["policy"], "expected a mapping (max_days)"))
        else:
            _unknown(doc, ["policy"], policy, POLICY_KEYS, problems)
            days = policy.get("max_days")
            if days is not None:
                if not isinstance(days, int) or isinstance(days, bool) or days < 1:
                    problems.add(doc.where(["policy", "max_days"], "expected a whole number of days ≥ 1"))
                elif max_days is not None and days > max_days:
                    problems.add(doc.where(["policy", "max_days"], f"{days} days is over the configured maximum "
                                           f"of {max_days} days", code="policy"))
                else:
                    limit = days
    raw_list = data.get("waivers")
    if not isinstance(raw_list, list):
        problems.add(doc.where(["waivers"], "required: a list of waivers"))
        raw_list = []
    if len(raw_list) > MAX_WAIVERS:
        problems.add(doc.where(["waivers"], f"more than {MAX_WAIVERS} waivers", code="too_large"))
        raw_list = []
    out: list[Waiver] = []
    for i, raw in enumerate(raw_list):
        base: list[str | int] = ["waivers", i]
        if not isinstance(raw, dict):
            problems.add(doc.where(base, "a waiver must be a mapping (rule, cases, reason, approver, created, "
                                         "expires)"))
            continue
        before = len(problems.problems)
        _unknown(doc, base, raw, WAIVER_KEYS, problems)
        for key in ("rule", "cases", "reason", "approver", "created", "expires"):
            if key not in raw:
                problems.add(doc.where(base, f"required: `{key}`", code="missing"))
        rule = _text(doc, [*base, "rule"], raw.get("rule"), problems, required=False) if "rule" in raw else None
        reason = _text(doc, [*base, "reason"], raw.get("reason"), problems, required=False) if "reason" in raw else None
        approver = (_text(doc, [*base, "approver"], raw.get("approver"), problems, required=False)
                    if "approver" in raw else None)
        ticket = _text(doc, [*base, "ticket"], raw.get("ticket"), problems, required=False)
        created = _date(doc, [*base, "created"], raw["created"], problems) if "created" in raw else None
        expires = _date(doc, [*base, "expires"], raw["expires"], problems) if "expires" in raw else None
        if created and expires:
            span = (dt.date.fromisoformat(expires) - dt.date.fromisoformat(created)).days
            if span < 0:
                problems.add(doc.where([*base, "expires"], f"expires {expires} before it was created ({created})"))
            elif span > limit:
                problems.add(doc.where([*base, "expires"], f"runs {span} days, over the policy maximum of {limit} "
                                       "days (policy.max_days)", code="policy",
                                       hint="renew it with a new approval instead"))
        ids: tuple[str, ...] = ()
        tags: tuple[str, ...] = ()
        when = None
        cases = raw.get("cases")
        if isinstance(cases, list):
            ids = _names(doc, [*base, "cases"], cases, problems)
        elif isinstance(cases, dict):
            _unknown(doc, [*base, "cases"], cases, CASES_KEYS, problems)
            ids = _names(doc, [*base, "cases", "ids"], cases.get("ids"), problems)
            tags = _names(doc, [*base, "cases", "tags"], cases.get("tags"), problems)
            if "when" in cases:
                when = _condition(doc, [*base, "cases", "when"], cases["when"], problems)
            if not (set(cases) & set(CASES_KEYS)):
                problems.add(doc.where([*base, "cases"], "give at least one of ids, tags, when"))
        elif "cases" in raw:
            problems.add(doc.where([*base, "cases"], "expected a list of case ids or a mapping (ids, tags, when)"))
        if len(problems.problems) > before or not (rule and reason and approver and created and expires):
            continue
        line = doc.where(base, "").line
        out.append(Waiver(i, rule, ids, tags, when, reason, approver, ticket, created, expires, doc.file, line))
    problems.raise_if_any(InputError)
    return WaiverSet(tuple(out), doc.file, sha256, limit)


def load(path: str | Path, *, max_days: int | None = None) -> WaiverSet:
    """Read and check a waiver file; ``InputError`` with every located problem otherwise."""
    name = str(path)
    try:
        if os.path.isdir(name):
            raise InputError(Problem(message="a waiver file must be a file, not a directory", file=name,
                                     code="io_error"))
        with open(name, "rb") as fh:
            raw = fh.read(WAIVER_LIMITS.max_bytes + 1)
    except OSError as exc:
        raise InputError(Problem(message=f"cannot read waiver file: {exc.strerror}", file=name,
                                 code="io_error")) from None
    doc = load_text(raw, name, WAIVER_LIMITS, syntax_of(name))
    return parse_waivers(doc, hashlib.sha256(raw).hexdigest(), max_days)
