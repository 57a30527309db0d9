"""Batch mode: one case per input line, one record per line, in order, at scale.

A record is ``{"line": n, "case_id": ..., "assessment": {...}}`` (the same dict
``Engine.assess_data`` returns, i.e. what ``airisk assess --format json``
prints) or ``{"line": n, "case_id": ..., "error": {"code", "message",
"field", "problems"}}``. A bad line (blank, malformed JSON, not an object, a
schema error, longer than ``max_line_bytes``) yields an error record and never
stops the run or shifts the others.

Reading is streaming: lines are read with a size cap (an oversize line is
skipped in pieces, never held whole), grouped into chunks, and assessed either
in this process (``workers=1``) or by worker *processes* (durable-rules holds
the GIL and is not thread-safe). Each worker builds its own ``Engine`` once.
Chunks carry sequence numbers; results are written in input order from a
bounded reorder buffer, so the output is byte-identical whatever the worker
count, and memory stays flat whatever the number of cases. A worker that dies
costs a retry of the chunk it held (a chunk that kills workers twice is retried
line by line, and a line that still kills a worker gets a ``worker_crashed``
error record), so every input line still gets exactly one output line.

``engine.assess_many`` and ``airisk batch`` share this module: the library's
records are exactly the CLI's lines before JSON encoding.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import multiprocessing
import multiprocessing.connection as mpc
import os
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from engine.errors import AiriskError, Problem
from engine.render.sink import AtomicOutput
from engine.scale import MOST_SEVERE_FIRST as LEVELS

DEFAULT_MAX_LINE_BYTES = 1024 * 1024
DEFAULT_CHUNK_LINES = 256
DEFAULT_CHUNK_BYTES = 1024 * 1024
EXIT_OK = 0
EXIT_FAIL_ON = 1
EXIT_USAGE = 2
EXIT_LINE_ERRORS = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader closed the output (`airisk batch | head -1`)
_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

_SKIP_PIECE = 64 * 1024
_CHUNK_ATTEMPTS = 2  # a chunk that kills this many workers is retried line by line

# One input line as it travels: its number and its bytes, or None when it was too long.
Line = tuple[int, bytes | None]


# --------------------------------------------------------------------------- records


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


class Assessor:
    """Turns input lines (or parsed cases) into records, with one Engine."""

    def __init__(self, engine: Any, as_of: str, scenario: str | None, max_line_bytes: int,
                 verify: bool = False) -> None:
        self.engine = engine
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
        try:
            if isinstance(data, Case):
                result = self.engine.assess_case(data, as_of=self.as_of, scenario=self.scenario, verify=self.verify)
            elif isinstance(data, Mapping):
                result = self.engine.assess_data(data, as_of=self.as_of, scenario=self.scenario, verify=self.verify)
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
        too_deep = _too_deep(data, self.max_depth)
        if too_deep is not None:
            return error_record(n, None, [too_deep])
        duplicate = _duplicate_key(raw, data)
        if duplicate is not None:
            key, where = duplicate
            return error_record(n, _case_id_of(data), [Problem(
                message=f"duplicate key {key!r}", pointer=where, code="duplicate_key",
                hint="a case file with two equal keys is refused too; keep one")])
        return self.record(n, data)

    def chunk(self, lines: list[Line]) -> tuple[bytes, Counter[str]]:
        """JSON lines for a chunk of input lines, and counts: by rating on the known facts, by
        worst case over the unknown ones (``worst:LEVEL``), and ``error`` for errors."""
        out = []
        counts: Counter[str] = Counter()
        dumps = orjson.dumps
        for n, raw in lines:
            rec = self.line_record(n, raw)
            if "assessment" in rec:
                counts.update(rating_counts(rec["assessment"]))
            else:
                counts["error"] += 1
            out.append(dumps(rec))
        out.append(b"")
        return b"\n".join(out), counts


#: The count key of a case no dimension of which is assessed (it has no level).
UNRATED = "unrated"


def rating_counts(assessment: Mapping[str, Any]) -> tuple[str, str]:
    """The two count keys of an assessment: its rating on the known facts, and ``worst:`` its
    worst case over the unknown facts (the top of ``rating_range``), which --fail-on compares."""
    rating = assessment.get("rating") or UNRATED
    span = assessment.get("rating_range")
    return rating, "worst:" + (span[1] if span else rating)


def make_assessor(rules: Any, as_of: str | dt.date | None, scenario: str | None,
                  max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, *, shared: bool = True,
                  verify: bool = False) -> Assessor:
    """An Assessor for a RuleSet; the as-of date is fixed once here (default today).

    ``shared`` reuses the process-wide Engine; a worker process builds its own. ``verify``
    checks every case's fired set against the reference evaluator in both directions."""
    from engine.assessment.engine import Engine, engine_for, parse_as_of

    engine = engine_for(rules) if shared else Engine(rules)
    day = parse_as_of(as_of)
    engine.in_force(day, scenario)  # an unknown scenario is a usage error, before any line
    return Assessor(engine, day, scenario, max_line_bytes, verify)


def iter_records(cases: Iterable[Any], assessor: Assessor) -> Iterator[dict[str, Any]]:
    """Records for cases given as lines (str/bytes), mappings or ``Case`` objects, lazily."""
    for n, item in enumerate(cases, start=1):
        if isinstance(item, bytes | str):
            if isinstance(item, str):
                item = item.encode()
            yield assessor.line_record(n, item.rstrip(b"\r\n"))
        else:
            yield assessor.record(n, item)


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


# --------------------------------------------------------------------------- reading


def read_lines(stream: IO[bytes] | _CountingReader,
               max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[Line]:
    """(line number, bytes without the newline), or (n, None) for a line over the limit.

    An oversize line is consumed in 64 KiB pieces and never held whole."""
    n = 0
    readline = stream.readline
    while True:
        line = readline(max_line_bytes + 2)  # content + "\r\n"
        if not line:
            return
        n += 1
        if line.endswith(b"\n"):
            line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
            yield n, (line if len(line) <= max_line_bytes else None)
            continue
        if len(line) <= max_line_bytes:  # the last line, without a newline
            yield n, line
            return
        while True:
            piece = readline(_SKIP_PIECE)
            if not piece or piece.endswith(b"\n"):
                break
        yield n, None


def chunked(lines: Iterator[Line], max_lines: int = DEFAULT_CHUNK_LINES,
            max_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[list[Line]]:
    """Groups of lines, each at most ``max_lines`` lines or about ``max_bytes`` bytes."""
    chunk: list[Line] = []
    size = 0
    for item in lines:
        chunk.append(item)
        size += len(item[1] or b"")
        if len(chunk) >= max_lines or size >= max_bytes:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


class LineFeed:
    """Input lines read on a thread of their own, taken as chunks of whatever has arrived.

    A pipeline that feeds one case at a time and leaves its end open must get each record
    back without waiting for a full chunk or for the end of the input: the consumer never
    blocks on the input while results wait to be written, and a chunk is cut as soon as no
    further line has arrived. Lines held here are bounded (``max_pending`` bytes): the reader
    waits when the consumer falls behind. ``fileno()`` is readable whenever something may have
    arrived (for ``multiprocessing.connection.wait``)."""

    def __init__(self, lines: Iterator[Line], max_pending: int = 4 * DEFAULT_CHUNK_BYTES) -> None:
        self._lines = lines
        self._pending: collections.deque[Line] = collections.deque()
        self._bytes = 0
        self._limit = max_pending
        self._done = False
        self._closed = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._thread = threading.Thread(target=self._read, name="airisk-batch-input", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for item in self._lines:
                size = len(item[1] or b"") + 64
                with self._cond:
                    while self._bytes > self._limit and not self._closed:
                        self._cond.wait()
                    if self._closed:
                        return
                    self._pending.append(item)
                    self._bytes += size
                    self._signal()
        except BaseException as exc:  # handed to the consumer, which raises it
            self._error = exc
        finally:
            with self._cond:
                self._done = True
                self._signal()
                self._cond.notify_all()

    def _signal(self) -> None:
        # Under the lock, so that the descriptor is never written once close() has freed its number.
        if not self._closed:
            with contextlib.suppress(BlockingIOError):  # full: a wake-up is already waiting
                os.write(self._wake_w, b"!")
            self._cond.notify_all()

    def fileno(self) -> int:
        return self._wake_r

    def take(self, max_lines: int, max_bytes: int = DEFAULT_CHUNK_BYTES, *, wait: bool = False) -> list[Line] | None:
        """Up to ``max_lines`` lines (about ``max_bytes``) of those that have arrived; ``[]`` when
        none has yet (``wait``: block until one has); None once the input has ended and every
        line was taken. An error reading the input is raised here."""
        with self._cond:
            if self._closed:
                return None
            with contextlib.suppress(BlockingIOError):  # under the lock: close() frees the descriptor
                while os.read(self._wake_r, 4096):
                    pass
            while wait and not self._pending and not self._done:
                self._cond.wait()
            if not self._pending:
                if self._done:
                    if self._error is not None:
                        raise self._error
                    return None
                return []
            chunk: list[Line] = []
            size = 0
            while self._pending and len(chunk) < max_lines and size < max_bytes:
                item = self._pending.popleft()
                chunk.append(item)
                n = len(item[1] or b"") + 64
                size += n
                self._bytes -= n
            self._cond.notify_all()
            return chunk

    def chunks(self, max_lines: int, max_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[list[Line]]:
        """Chunks in order, each as soon as at least one line has arrived."""
        while (chunk := self.take(max_lines, max_bytes, wait=True)) is not None:
            yield chunk

    def finished(self, timeout: float = 0) -> bool:
        """Whether the reading thread has ended (after waiting up to ``timeout`` seconds)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close(self) -> None:
        """Stop taking lines. The thread ends at its next line (one blocked reading an open
        pipe stays blocked: it is a daemon thread, and owns nothing the process still uses)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
            os.close(self._wake_r)
            os.close(self._wake_w)


# --------------------------------------------------------------------------- workers


@dataclass
class WorkerSpec:
    """What a worker process needs to build its own Engine."""

    rules: Any
    as_of: str
    scenario: str | None
    max_line_bytes: int
    parent_pid: int = field(default_factory=os.getpid)
    verify: bool = False


def _die_with_parent(parent_pid: int) -> None:
    """Linux: have the kernel SIGKILL this worker when the parent dies (a killed parent must not
    leave workers blocked forever on a pipe that a sibling's inherited descriptor keeps open)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)


def worker_main(conn: mpc.Connection, spec: WorkerSpec) -> None:
    """A worker process: build the Engine once, then assess chunks until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    _die_with_parent(spec.parent_pid)
    from engine.assessment import engine as pipeline

    pipeline.engine_for.cache_clear()  # never reuse durable handles inherited over fork
    assessor = make_assessor(spec.rules, spec.as_of, spec.scenario, spec.max_line_bytes, shared=False,
                             verify=spec.verify)
    assessor.engine.share_static = True  # private to this process, and every result is serialised at once
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        key, lines = msg
        blob, counts = assessor.chunk(lines)
        conn.send_bytes(orjson.dumps([key, dict(counts)]) + b"\n" + blob)


WorkerTarget = Callable[[mpc.Connection, WorkerSpec], None]


@dataclass
class _Worker:
    proc: Any
    conn: mpc.Connection
    pending: list[tuple[int, int]] = field(default_factory=list)  # keys of chunks sent, oldest first


@dataclass
class _Slot:
    """One chunk's place in the output order; split chunks fill their parts line by line."""

    lines: list[Line]
    blob: bytes | None = None
    counts: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    parts: list[bytes | None] | None = None
    part_attempts: list[int] | None = None


@dataclass
class Stats:
    """Live counts for the progress line and the summary."""

    lines: int = 0
    by_level: Counter[str] = field(default_factory=Counter)  # rating on the known facts
    by_worst: Counter[str] = field(default_factory=Counter)  # worst case over the unknown facts
    errors: int = 0
    restarts: int = 0
    retried_chunks: int = 0
    started: float = field(default_factory=time.perf_counter)
    bytes_read: int = 0

    def add(self, counts: Mapping[str, int]) -> None:
        for key, value in counts.items():
            if key.startswith("worst:"):
                self.by_worst[key[6:]] += value
                continue
            if key == "error":
                self.errors += value
            else:
                self.by_level[key] += value
            self.lines += value

    def gate(self, fail_on: str | None, known_only: bool = False) -> bool:
        """Whether a --fail-on gate trips: some case's worst case over its unknown facts (or,
        with ``known_only``, its rating on the known facts) is at or above ``fail_on``."""
        if not fail_on:
            return False
        from engine.ruleset.model import LEVEL_ORDER

        levels = self.by_level if known_only else self.by_worst
        return any(n and lvl in LEVEL_ORDER and LEVEL_ORDER[lvl] >= LEVEL_ORDER[fail_on]
                   for lvl, n in levels.items())

    def rate(self) -> float:
        elapsed = time.perf_counter() - self.started
        return self.lines / elapsed if elapsed > 0 else 0.0

    def summary(self) -> str:
        levels = ", ".join(f"{lvl} {self.by_level[lvl]}" for lvl in LEVELS)
        if self.by_level[UNRATED]:
            levels += f", not assessed {self.by_level[UNRATED]}"
        if self.by_worst and any(self.by_worst[lvl] != self.by_level[lvl] for lvl in LEVELS):
            levels += "; could be: " + ", ".join(f"{lvl} {self.by_worst[lvl]}" for lvl in LEVELS)
        elapsed = time.perf_counter() - self.started
        text = (f"airisk batch: {self.lines} lines, {self.lines - self.errors} assessed ({levels}), "
                f"{self.errors} errors, {self.rate():,.0f} cases/s, {elapsed:.1f} s")
        if self.restarts:
            # A worker should never die now that the matching core's retraction bug is avoided
            # (docs/durable-rules.md): a restart is an incident to report, not routine.
            text += (f"; INCIDENT: {self.restarts} worker(s) died and were restarted, {self.retried_chunks} "
                     "chunk(s) re-run on a new worker (please report this input)")
        return text


def _context() -> Any:
    # fork: workers inherit the loaded rules (no re-parse, fast start); main is single-threaded here.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class ParallelRunner:
    """Assess chunks on worker processes; yield output blobs in input order.

    ``depth`` is 1: a chunk is sent only to an idle worker. With more in flight,
    a parent blocked sending a large chunk and a worker blocked sending a large
    result would wait on each other (pipes hold 64 KiB); and a dead worker then
    costs exactly the chunk it was working on."""

    def __init__(self, spec: WorkerSpec, workers: int, *, depth: int = 1, ahead: int | None = None,
                 target: WorkerTarget = worker_main, stats: Stats | None = None) -> None:
        self.spec = spec
        self.n = workers
        self.depth = depth
        self.ahead = ahead if ahead is not None else max(4, 4 * workers)
        self.target = target
        self.stats = stats if stats is not None else Stats()
        self.ctx = _context()
        self.workers: list[_Worker] = []
        self.slots: dict[int, _Slot] = {}
        self.retry: list[tuple[int, int]] = []  # keys waiting for a worker: (seq, -1 whole | part index)
        self.interrupted = False

    def _spawn(self) -> _Worker:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=self.target, args=(child, self.spec), daemon=True)
        proc.start()
        child.close()
        return _Worker(proc, parent)

    def _send(self, worker: _Worker, key: tuple[int, int]) -> None:
        seq, part = key
        slot = self.slots[seq]
        lines = slot.lines if part < 0 else [slot.lines[part]]
        worker.pending.append(key)
        # A dead worker refuses the send; its sentinel fires and the chunk is retried.
        with contextlib.suppress(OSError):
            worker.conn.send((list(key), lines))

    def _free_worker(self) -> _Worker | None:
        best = min(self.workers, key=lambda w: len(w.pending), default=None)
        return best if best is not None and len(best.pending) < self.depth else None

    def _lost(self, worker: _Worker) -> None:
        """A worker died: respawn it and queue the chunks it held."""
        self.workers.remove(worker)
        with contextlib.suppress(OSError):
            worker.conn.close()
        worker.proc.join(timeout=1)
        self.stats.restarts += 1
        for seq, part in worker.pending:
            slot = self.slots.get(seq)
            if slot is None:
                continue
            self.stats.retried_chunks += 1
            if part < 0:
                slot.attempts += 1
                if slot.attempts >= _CHUNK_ATTEMPTS and len(slot.lines) > 1:
                    slot.parts = [None] * len(slot.lines)
                    slot.part_attempts = [0] * len(slot.lines)
                    self.retry.extend((seq, i) for i in range(len(slot.lines)))
                else:
                    self.retry.append((seq, -1))
            else:
                assert slot.part_attempts is not None and slot.parts is not None
                slot.part_attempts[part] += 1
                if slot.part_attempts[part] >= _CHUNK_ATTEMPTS:
                    n = slot.lines[part][0]
                    rec = error_record(n, None, [Problem(
                        message="a worker process died on this line twice", code="worker_crashed",
                        hint="the case may trigger a crash in the matching core; please report it")])
                    slot.parts[part] = orjson.dumps(rec) + b"\n"
                    slot.counts["error"] += 1
                else:
                    self.retry.append((seq, part))
        self.workers.append(self._spawn())

    def _receive(self, worker: _Worker) -> None:
        try:
            data = worker.conn.recv_bytes()
        except (EOFError, OSError):
            self._lost(worker)
            return
        head, _, blob = data.partition(b"\n")
        (seq, part), counts = orjson.loads(head)
        if (seq, part) in worker.pending:
            worker.pending.remove((seq, part))
        slot = self.slots.get(seq)
        if slot is None:
            return
        slot.counts.update(counts)
        if part < 0:
            slot.blob = blob
        else:
            assert slot.parts is not None
            slot.parts[part] = blob

    @staticmethod
    def _blob(slot: _Slot) -> bytes:
        if slot.parts is None:
            return slot.blob or b""
        return b"".join(p or b"" for p in slot.parts)

    @staticmethod
    def _done(slot: _Slot) -> bool:
        if slot.parts is not None:
            return all(p is not None for p in slot.parts)
        return slot.blob is not None

    def run(self, feed: LineFeed, max_lines: int = DEFAULT_CHUNK_LINES) -> Iterator[bytes]:
        """Output blobs (JSON lines) in input order; stops early if the consumer stops.

        A chunk is up to ``max_lines`` of the lines that have arrived when a worker is free, so
        a slow or interactive input gets each record back as soon as it is assessed."""
        self.workers = [self._spawn() for _ in range(self.n)]
        next_seq = 0  # next chunk to read
        flush_seq = 0  # next chunk to write
        exhausted = False
        try:
            while True:
                # Write whatever is complete at the head of the order (first: it frees reorder room).
                while flush_seq in self.slots and self._done(self.slots[flush_seq]):
                    slot = self.slots.pop(flush_seq)
                    self.stats.add(slot.counts)
                    flush_seq += 1
                    yield self._blob(slot)
                # Dispatch retries first, then new chunks while the reorder window has room.
                while self.retry:
                    worker = self._free_worker()
                    if worker is None:
                        break
                    self._send(worker, self.retry.pop(0))
                hungry = False  # a worker and the window are free, and no line has arrived yet
                while not exhausted and not self.retry and next_seq - flush_seq < self.ahead:
                    worker = self._free_worker()
                    if worker is None:
                        break
                    chunk = feed.take(max_lines)
                    if chunk is None:
                        exhausted = True
                        break
                    if not chunk:
                        hungry = True
                        break
                    self.slots[next_seq] = _Slot(chunk)
                    self._send(worker, (next_seq, -1))
                    next_seq += 1
                if exhausted and flush_seq == next_seq:
                    return
                conns = {w.conn: w for w in self.workers}
                sentinels = {w.proc.sentinel: w for w in self.workers}
                try:
                    ready = mpc.wait(list(conns) + list(sentinels) + ([feed] if hungry else []))
                except KeyboardInterrupt:
                    # Ctrl-C: hand over what is done, in order, and stop.
                    self.interrupted = True
                    while flush_seq in self.slots and self._done(self.slots[flush_seq]):
                        slot = self.slots.pop(flush_seq)
                        self.stats.add(slot.counts)
                        flush_seq += 1
                        yield self._blob(slot)
                    return
                for obj in ready:
                    if obj in conns and conns[obj] in self.workers:
                        w = conns[obj]
                        self._receive(w)
                for obj in ready:
                    if obj in sentinels and sentinels[obj] in self.workers:
                        w = sentinels[obj]
                        # Results it sent before dying are already read above; anything left is lost.
                        while w in self.workers and w.conn.poll(0):
                            self._receive(w)
                        if w in self.workers:
                            self._lost(w)
        finally:
            self.close()

    def close(self) -> None:
        for w in self.workers:
            with contextlib.suppress(OSError):
                w.conn.send(None)
        deadline = time.monotonic() + 2
        for w in self.workers:
            w.proc.join(timeout=max(0.0, deadline - time.monotonic()))
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(timeout=1)
            with contextlib.suppress(OSError):
                w.conn.close()
        self.workers = []


def serial_blobs(assessor: Assessor, feed: LineFeed, stats: Stats,
                 max_lines: int = DEFAULT_CHUNK_LINES) -> Iterator[bytes]:
    """Output blobs in order, assessed in this process, each chunk as soon as a line has arrived."""
    for chunk in feed.chunks(max_lines):
        blob, counts = assessor.chunk(chunk)
        stats.add(counts)
        yield blob


# --------------------------------------------------------------------------- output


# --------------------------------------------------------------------------- progress


class Progress:
    """A one-line progress bar with live counts on a terminal's stderr."""

    def __init__(self, stats: Stats, total_bytes: int | None, stream: IO[str], enabled: bool) -> None:
        self.stats = stats
        self.total = total_bytes
        self.stream = stream
        self.enabled = enabled
        self.last = 0.0

    def update(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self.last < 0.2:
            return
        self.last = now
        s = self.stats
        counts = " ".join(f"{lvl[:4]} {s.by_level[lvl]}" for lvl in LEVELS)
        if self.total:
            frac = min(1.0, s.bytes_read / self.total)
            bar = "#" * int(frac * 24)
            head = f"[{bar:<24}] {frac:4.0%}"
        else:
            head = "[streaming]"
        self.stream.write(f"\r\x1b[2K{head} {s.lines:,} lines | {counts} | errors {s.errors} "
                          f"| {s.rate():,.0f}/s")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.update(force=True)
            self.stream.write("\n")
            self.stream.flush()


def _own_stdin() -> IO[bytes]:
    """A reader of its own over standard input (a duplicate descriptor), for the input thread.

    Interpreter shutdown closes ``sys.stdin``; if a daemon thread were blocked inside its buffer
    (stdin left open), that close could not take the buffer's lock and Python aborts. A private
    reader is never touched at shutdown. Without a real descriptor (an in-memory stdin), stdin."""
    try:
        fd = os.dup(sys.stdin.fileno())
    except (AttributeError, OSError, ValueError):
        return sys.stdin.buffer
    return os.fdopen(fd, "rb", buffering=1 << 16)


class _CountingReader:
    """Counts bytes read (for the progress bar) around a binary stream."""

    def __init__(self, raw: IO[bytes], stats: Stats) -> None:
        self.raw = raw
        self.stats = stats

    def readline(self, limit: int = -1) -> bytes:
        line = self.raw.readline(limit)
        self.stats.bytes_read += len(line)
        return line


# --------------------------------------------------------------------------- the run


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Block SIGINT in this (main) thread for the duration; it is delivered right after."""
    can = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    if can:
        signal.pthread_sigmask(signal.SIG_BLOCK, set(_STOP_SIGNALS))
    try:
        yield
    finally:
        if can:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, set(_STOP_SIGNALS))


class _Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled as Ctrl-C is (the runner and the loop below stop on KeyboardInterrupt)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _stop_signals_interrupt(received: list[int]) -> Iterator[None]:
    """While running, SIGTERM and SIGHUP raise KeyboardInterrupt like SIGINT; ``received`` gets the number."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        received.append(signum)
        raise _Stopped(signum)

    previous = {}
    for sig in _STOP_SIGNALS:
        if sig != signal.SIGINT:
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _silence_stdout() -> None:
    """After the reader closed stdout: point fd 1 at nothing, so exit-time flushes cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)


@dataclass
class BatchOptions:
    """Everything ``airisk batch`` is told; the library defaults match the CLI's."""

    input: str = "-"
    output: str | None = None
    workers: int = 1
    as_of: str | dt.date | None = None
    scenario: str | None = None
    fail_on: str | None = None
    # --fail-on compares each case's worst case over its unknown facts; this: its known rating.
    fail_on_known: bool = False
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    chunk_lines: int = DEFAULT_CHUNK_LINES
    progress: bool | None = None  # None: only when stderr is a terminal
    # Check every case's fired set against the reference evaluator in both directions.
    verify: bool = False
    # Assess in worker processes even with workers=1. The matching core's known crash (retraction,
    # docs/durable-rules.md) is avoided at its cause; this stays as a last resort, so that a crash
    # in native code costs a re-run of one chunk (reported as an incident), not the whole run.
    isolate: bool = True


def run_batch(rules: Any, options: BatchOptions, *, stderr: IO[str] | None = None,
              target: WorkerTarget = worker_main) -> tuple[int, Stats]:
    """Run a batch end to end; (exit code, stats). Raises AiriskError on usage errors."""
    from engine.render.sink import check_output

    check_output(options.output)  # an unwritable --output fails before any line is assessed

    err = stderr if stderr is not None else sys.stderr
    in_process = options.workers <= 1 and not options.isolate
    assessor = make_assessor(rules, options.as_of, options.scenario, options.max_line_bytes, shared=in_process,
                             verify=options.verify)
    stats = Stats()
    if options.input == "-":
        source: IO[bytes] = _own_stdin()
        total = None
    else:
        try:
            source = open(options.input, "rb")  # noqa: SIM115 - closed in finally below
            total = os.path.getsize(options.input)
        except OSError as exc:
            raise AiriskError(Problem(message=f"cannot read input: {exc.strerror}", file=options.input,
                                      code="io_error")) from None
    show = options.progress if options.progress is not None else bool(getattr(err, "isatty", lambda: False)())
    progress = Progress(stats, total, err, show)
    sink = AtomicOutput(options.output)
    feed = LineFeed(read_lines(_CountingReader(source, stats), options.max_line_bytes))
    interrupted = False
    pipe_closed = False
    received: list[int] = []
    stop_guard = _stop_signals_interrupt(received)
    stop_guard.__enter__()
    try:
        runner: ParallelRunner | None = None
        if in_process:
            blobs = serial_blobs(assessor, feed, stats, options.chunk_lines)
        else:
            spec = WorkerSpec(rules, assessor.as_of, assessor.scenario, options.max_line_bytes,
                              verify=options.verify)
            runner = ParallelRunner(spec, max(1, options.workers), target=target, stats=stats)
            blobs = runner.run(feed, options.chunk_lines)
        try:
            for blob in blobs:
                # Ctrl-C is held back while a chunk is written, so the output always ends on a
                # whole line and the summary counts exactly the lines written.
                with _sigint_deferred():
                    sink.write(blob)
                    if sink.direct:
                        sink.flush()
                progress.update()
        except KeyboardInterrupt:
            interrupted = True
        except BrokenPipeError:
            pipe_closed = True
        finally:
            interrupted = interrupted or bool(getattr(runner, "interrupted", False))
            close = getattr(blobs, "close", None)
            if close is not None:
                close()
    except BaseException:
        if sink.target is None:
            _silence_stdout()
        sink.abort()
        progress.finish()
        raise
    finally:
        stop_guard.__exit__(None, None, None)
        feed.close()
        # The reading thread owns the source until it ends: close a file only once it has (at a
        # stop, a thread blocked on an open pipe keeps it, and the process exit closes it).
        if source is not sys.stdin.buffer and feed.finished(timeout=0.2):
            source.close()
    progress.finish()
    if pipe_closed:
        _silence_stdout() if sink.target is None else sink.abort()
        err.write(stats.summary() + "; stopped: the output was closed by its reader\n")
        return EXIT_BROKEN_PIPE, stats
    if interrupted:
        kept = sink.abort(keep_partial=True)
        how = {int(getattr(signal, "SIGTERM", 15)): "terminated (SIGTERM)",
               int(getattr(signal, "SIGHUP", 1)): "hung up (SIGHUP)"}.get(received[0], "interrupted") \
            if received else "interrupted"
        err.write(stats.summary() + f"; {how}" + (f", partial output in {kept}" if kept else "") + "\n")
        return (128 + received[0] if received else EXIT_INTERRUPTED), stats
    sink.commit()
    err.write(stats.summary() + "\n")
    if stats.errors:
        return EXIT_LINE_ERRORS, stats
    if stats.gate(options.fail_on, options.fail_on_known):
        return EXIT_FAIL_ON, stats
    return EXIT_OK, stats
