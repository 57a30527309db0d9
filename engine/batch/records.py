"""Batch records: one output record per input line, and the counts of a chunk of them.

A record is ``{"line": n, "case_id": ..., "assessment": {...}}`` (the same dict
``Engine.assess_data`` returns, i.e. what ``airisk assess --format json``
prints) or ``{"line": n, "case_id": ..., "error": {"code", "message",
"field", "problems"}}``. A bad line (blank, malformed JSON, not an object, a
schema error, longer than ``max_line_bytes``) yields an error record and never
stops the run or shifts the others. ``engine.assess_many`` and ``airisk batch``
share this module: the library's records are exactly the CLI's lines before
JSON encoding (the JSON-lines encoder of ``engine.render``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from engine.batch.reader import DEFAULT_MAX_LINE_BYTES, Line
from engine.errors import AiriskError, Problem
from engine.render.registry import line_encoder

#: The rating of a case no dimension of which is assessed (it has no level).
UNRATED = "unrated"

#: One record as one JSON line (without the newline): the registry's JSON-lines encoder.
encode_record = line_encoder("json")


def error_record(line: int, case_id: Any, problems: list[Problem]) -> dict[str, Any]:
    """The error record of one input line (first problem in front, all of them listed)."""
    located = [p if p.line is not None else dataclasses.replace(p, line=line) for p in problems]
    first = located[0]
    return {"line": line, "case_id": case_id if isinstance(case_id, str) else None,
            "error": {"code": first.code, "message": first.message, "field": first.pointer,
                      "problems": [p.as_dict() for p in located]}}


def _case_id_of(data: Any) -> Any:
    if isinstance(data, Mapping):
        cid = data.get("id")
        if cid is None:
            cid = data.get("case_id")
        return cid
    return getattr(data, "id", None)


def rating_counts(assessment: Mapping[str, Any]) -> tuple[str, str]:
    """The two ratings an assessment is counted under: its rating on the known facts, and its
    worst case over the unknown facts (the top of ``rating_range``), which --fail-on compares.
    ``UNRATED`` for a case no dimension of which is assessed."""
    rating = assessment.get("rating") or UNRATED
    span = assessment.get("rating_range")
    return rating, (span[1] if span else rating)


#: How many cases per level a chunk's counts (and a run's stats) keep by name.
NAMED_PER_LEVEL = 10


def merge_named(into: dict[str, list[list[Any]]], other: dict[str, list[list[Any]]]) -> None:
    """Add ``other``'s named cases to ``into``, keeping the first ``NAMED_PER_LEVEL`` by input line
    (chunks may arrive in any order; the result does not depend on it)."""
    for key, entries in other.items():
        both = into.get(key, []) + entries
        both.sort(key=lambda e: (e[0] if isinstance(e[0], int) else 0))
        into[key] = both[:NAMED_PER_LEVEL]


@dataclass
class Counts:
    """What a chunk of records holds: cases by rating on the known facts, by worst case over the
    unknown facts, and error records."""

    known: Counter[str] = field(default_factory=Counter)
    worst: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    #: waivers (their index in the file) that covered a finding, live or expired (stale reports)
    waivers_used: set[int] = field(default_factory=set)
    #: The first cases (by input line) at each level, for the --fail-on notice that names them:
    #: ``{"known:high": [[line, case_id, known, worst], ...]}``, at most ``NAMED_PER_LEVEL`` each.
    named: dict[str, list[list[Any]]] = field(default_factory=dict)

    @property
    def lines(self) -> int:
        """Records counted (every assessed case once, every error once)."""
        return self.errors + sum(self.known.values())

    def count(self, record: Mapping[str, Any]) -> None:
        """Count one record."""
        if "assessment" in record:
            known, worst = rating_counts(record["assessment"])
            self.known[known] += 1
            self.worst[worst] += 1
            entry = [record.get("line"), record.get("case_id"), known, worst]
            for key in ("known:" + known, "worst:" + worst):
                bucket = self.named.setdefault(key, [])
                if len(bucket) < NAMED_PER_LEVEL:
                    bucket.append(entry)
        else:
            self.errors += 1

    def merge(self, other: Counts) -> None:
        """Add another chunk's counts to these."""
        self.known.update(other.known)
        self.worst.update(other.worst)
        self.errors += other.errors
        self.waivers_used |= other.waivers_used
        merge_named(self.named, other.named)

    def to_wire(self) -> dict[str, Any]:
        """Plain data, to send from a worker process."""
        wire: dict[str, Any] = {"known": dict(self.known), "worst": dict(self.worst), "errors": self.errors,
                                "named": self.named}
        if self.waivers_used:
            wire["waivers_used"] = sorted(self.waivers_used)
        return wire

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Counts:
        """The counts ``to_wire`` sent."""
        return cls(Counter(data["known"]), Counter(data["worst"]), int(data["errors"]),
                   waivers_used={int(i) for i in data.get("waivers_used", ())},
                   named={k: [list(e) for e in v] for k, v in data.get("named", {}).items()})


class Assessor:
    """Turns input lines (or parsed cases) into records, with one Engine."""

    def __init__(self, engine: Any, as_of: str, scenario: str | None, max_line_bytes: int,
                 verify: bool = False, waivers: Any = None, catalog: Any = None, horizon: int = 0) -> None:
        self.engine = engine
        #: Days after the as-of date whose changes each assessment lists (``upcoming``); 0: none.
        self.horizon = horizon
        #: An engine.batch.catalog.Catalog: records are written compact against it (None: full).
        self.catalog = catalog
        self.waivers = waivers  # an engine.waivers.WaiverSet, or None
        self.as_of = as_of
        self.scenario = scenario
        self.max_line_bytes = max_line_bytes
        self.verify = verify  # two-sided Rete / reference agreement on every case
        self.max_depth = _depth_limit()

    def record(self, n: int, data: Any) -> dict[str, Any]:
        """The record for one parsed case (a mapping or a ``Case``)."""
        from engine.case.model import Case

        too_deep = None if isinstance(data, Case) else _too_deep(data, self.max_depth)
        if too_deep is not None:
            return error_record(n, None, [too_deep])
        return self._assess(n, data)

    def _assess(self, n: int, data: Any) -> dict[str, Any]:
        """The record of a parsed case already checked for depth."""
        try:
            if self.horizon and self.engine.rules.input == "case" and isinstance(data, Mapping | _case_type()):
                result = self._with_upcoming(data)
            elif type(data) is dict:  # a parsed line: no need to load the case model to tell
                result = self.engine.assess_data(data, as_of=self.as_of, scenario=self.scenario, verify=self.verify,
                                                 waivers=self.waivers)
            elif isinstance(data, _case_type()):
                result = self.engine.assess_case(data, as_of=self.as_of, scenario=self.scenario, verify=self.verify,
                                                 waivers=self.waivers)
            elif isinstance(data, Mapping):
                result = self.engine.assess_data(data, as_of=self.as_of, scenario=self.scenario, verify=self.verify,
                                                 waivers=self.waivers)
            else:
                kind = "null" if data is None else type(data).__name__
                return error_record(n, None, [Problem(message=f"a case must be a JSON object, not {kind}",
                                                      code="not_a_mapping")])
        except AiriskError as exc:
            return error_record(n, _case_id_of(data), exc.problems)
        except Exception as exc:  # a bug must cost one line, not the run; the record says what happened
            return error_record(n, _case_id_of(data), [Problem(
                message=f"internal error: {type(exc).__name__}: {exc}", code="internal_error",
                hint="please report this line")])
        return {"line": n, "case_id": result["case_id"], "assessment": result}

    def _with_upcoming(self, data: Any) -> dict[str, Any]:
        """The assessment of a case with its ``upcoming`` changes (``airisk assess --horizon``)."""
        from engine.timeline.timeline import with_upcoming

        if isinstance(data, Mapping):
            from engine.case.validation import plain_case

            plain = plain_case(data)
        else:
            plain = data.model_dump(mode="json", exclude_none=True)
        result = self.engine.assess_plain(plain, as_of=self.as_of, scenario=self.scenario, verify=self.verify,
                                          waivers=self.waivers)
        return dict(with_upcoming(self.engine, plain, result, self.horizon, self.waivers))

    def line_record(self, n: int, raw: bytes | str | None) -> dict[str, Any]:
        """The record for one raw input line (None: the line was longer than the limit)."""
        if raw is None or len(raw) > self.max_line_bytes:
            return error_record(n, None, [Problem(
                message=f"line is longer than {self.max_line_bytes} bytes", code="line_too_long",
                hint="raise --max-line-bytes, or split the case")])
        if not raw.strip():
            return error_record(n, None, [Problem(message="blank line", code="blank_line",
                                                  hint="each line must hold one case as a JSON object")])
        if n == 1:  # a UTF-8 byte-order mark opening the input is accepted and dropped, as in case files
            if isinstance(raw, bytes) and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            elif isinstance(raw, str) and raw.startswith("\ufeff"):
                raw = raw[1:]
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return error_record(n, None, [Problem(message=f"malformed JSON: {exc}", code="invalid_json")])
        # A text with no more brackets than the limit cannot nest deeper (brackets in strings only
        # add to the count): the walk over the parsed data is needed only past that.
        brackets = raw.count(b"{") + raw.count(b"[") if isinstance(raw, bytes) else raw.count("{") + raw.count("[")
        too_deep = _too_deep(data, self.max_depth) if brackets > self.max_depth else None
        if too_deep is not None:
            return error_record(n, None, [too_deep])
        duplicate = _duplicate_key(raw, data)
        if duplicate is not None:
            key, where = duplicate
            return error_record(n, _case_id_of(data), [Problem(
                message=f"duplicate key {key!r}", pointer=where, code="duplicate_key",
                hint="a case file with two equal keys is refused too; keep one")])
        return self._assess(n, data)

    def chunk(self, lines: list[Line]) -> tuple[bytes, Counts]:
        """JSON lines for a chunk of input lines, and their counts."""
        out = []
        counts = Counts()
        encode = encode_record
        compact = self.catalog.compact if self.catalog is not None else None
        for n, raw in lines:
            rec = self.line_record(n, raw)
            counts.count(rec)
            out.append(encode(compact(rec) if compact is not None else rec))
        if self.waivers is not None:
            counts.waivers_used = self.waivers.used | self.waivers.expired_hits
        out.append(b"")
        return b"\n".join(out), counts


def _case_type() -> type:
    from engine.case.model import Case

    return Case


def make_assessor(rules: Any, as_of: str | dt.date | None, scenario: str | None,
                  max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, *, shared: bool = True,
                  verify: bool = False, waivers: Any = None, record: str = "full", horizon: int = 0) -> Assessor:
    """An Assessor for a RuleSet; the as-of date is fixed once here (default today).

    ``shared`` reuses the process-wide Engine; a worker process builds its own. ``verify``
    checks every case's fired set against the reference evaluator in both directions. ``record``:
    ``"full"`` or ``"compact"`` (records against the run's rule catalogue, engine.batch.catalog).
    ``horizon``: each assessment lists the changes due in that many days (``upcoming``; 0: none)."""
    from engine.assessment.engine import Engine, engine_for, parse_as_of

    engine = engine_for(rules) if shared else Engine(rules)
    day = parse_as_of(as_of)
    engine.in_force(day, scenario)  # an unknown scenario is a usage error, before any line
    catalog = None
    if record == "compact":
        from engine.batch.catalog import Catalog

        catalog = Catalog.build(rules, day, scenario)
    elif record != "full":
        raise ValueError(f"record kind {record!r} is not 'full' or 'compact'")
    if horizon < 0:
        raise ValueError(f"horizon {horizon} is negative")
    return Assessor(engine, day, scenario, max_line_bytes, verify, waivers, catalog, horizon)


def iter_records(cases: Iterable[Any], assessor: Assessor) -> Iterator[dict[str, Any]]:
    """Records for cases given as lines (str/bytes), mappings or ``Case`` objects, lazily (compact
    against the assessor's catalogue when it has one)."""
    compact = assessor.catalog.compact if assessor.catalog is not None else None
    for n, item in enumerate(cases, start=1):
        if isinstance(item, bytes | str):
            if isinstance(item, str):
                item = item.encode()
            rec = assessor.line_record(n, item.rstrip(b"\r\n"))
        else:
            rec = assessor.record(n, item)
        yield compact(rec) if compact is not None else rec


def _depth_limit() -> int:
    """The case depth limit (``AIRISK_MAX_DEPTH``, default 32), as for case files."""
    from engine.source.limits import limits_from_env
    from engine.source.safeyaml import DEFAULT_LIMITS

    try:
        return limits_from_env().max_depth
    except AiriskError:
        return DEFAULT_LIMITS.max_depth


def _too_deep(data: Any, limit: int) -> Problem | None:
    """A ``too_deep`` problem when ``data`` nests lists and mappings deeper than ``limit``.

    Iterative, so a line of 1,000 ``[`` costs one error record, not the worker's stack."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if type(value) is dict:
            children: Iterable[Any] = value.values()
        elif type(value) is list:
            children = value
        else:
            continue
        if depth > limit:
            return Problem(message=f"nesting deeper than {limit} levels", code="too_deep",
                           hint="a case is at most a few levels deep; see docs/limits.md")
        stack.extend((v, depth + 1) for v in children if type(v) in (dict, list))
    return None


# --------------------------------------------------------------------------- duplicate keys

_KEY_END = re.compile(rb'"[ \t\r\n]*:')
_QUOTE_GAPS = (b'" ', b'"\t', b'"\r', b'"\n')


def _count_keys(value: Any) -> int:
    if type(value) is dict:
        return len(value) + sum(_count_keys(v) for v in value.values() if type(v) in (dict, list))
    if type(value) is list:
        return sum(_count_keys(v) for v in value if type(v) in (dict, list))
    return 0


class _Duplicate(Exception):
    def __init__(self, key: str, where: str) -> None:
        super().__init__(key)
        self.key = key
        self.where = where


def _duplicate_key(raw: bytes | str, data: Any) -> tuple[str, str] | None:
    """(key, JSON pointer of its object) if a JSON text repeats a key in one object, else None.

    orjson keeps the last of two equal keys; ``airisk assess`` refuses them, and so must a
    batch line. Fast path: every key ends in ``":`` and string contents rarely do, so when the
    text has no more such endings than the parsed data has keys, no key can be repeated. Only
    otherwise is the text parsed again, with a hook that sees every (key, value) pair."""
    text = raw if isinstance(raw, bytes) else raw.encode()
    if b"\\u" not in text and not any(gap in text for gap in _QUOTE_GAPS):
        # Every key ends in '":' here, and orjson writes the parsed data back with the same
        # escapes for '"' and '\\' (only a \u escape could write a '"' or ':' otherwise):
        # the text has more '":' than the data written back exactly when a key repeats.
        if text.count(b'":') <= orjson.dumps(data).count(b'":'):
            return None
    elif len(_KEY_END.findall(text)) <= _count_keys(data):
        return None
    import json

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                raise _Duplicate(key, "")
            seen.add(key)
        return dict(items)

    try:
        json.loads(text, object_pairs_hook=pairs)
    except _Duplicate as dup:
        return dup.key, dup.where
    except ValueError:
        return None  # orjson accepted it; a disagreement on syntax is not a duplicate
    return None
