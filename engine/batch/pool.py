"""Worker processes: chunks out, JSON lines back, written in input order.

Lines are grouped into chunks and assessed either in this process (``serial_blobs``) or by
worker *processes* (``ParallelRunner``; durable-rules holds the GIL and is not thread-safe).
Each worker builds its own ``Engine`` once. Chunks carry sequence numbers; results are written
in input order from a bounded reorder buffer, so the output is byte-identical whatever the
worker count, and memory stays flat whatever the number of cases. A worker that dies costs a
retry of the chunk it held (a chunk that kills workers twice is retried line by line, and a line
that still kills a worker gets a ``worker_crashed`` error record), so every input line still
gets exactly one output line.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection as mpc
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from engine.batch.progress import Stats
from engine.batch.reader import DEFAULT_CHUNK_LINES, Line, LineFeed
from engine.batch.records import Assessor, Counts, encode_record, error_record, make_assessor
from engine.errors import Problem

_CHUNK_ATTEMPTS = 2  # a chunk that kills this many workers is retried line by line


@dataclass
class WorkerSpec:
    """What a worker process needs to build its own Engine."""

    rules: Any
    as_of: str
    scenario: str | None
    max_line_bytes: int
    parent_pid: int = field(default_factory=os.getpid)
    verify: bool = False
    waivers: Any = None  # an engine.waivers.WaiverSet (its usage counters start afresh in the worker)
    record: str = "full"  # or "compact": records against the run's rule catalogue (engine.batch.catalog)
    horizon: int = 0  # days of upcoming changes in each assessment (0: none)


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
                             verify=spec.verify, waivers=spec.waivers, record=spec.record, horizon=spec.horizon)
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
        conn.send_bytes(orjson.dumps([key, counts.to_wire()]) + b"\n" + blob)


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
    counts: Counts = field(default_factory=Counts)
    attempts: int = 0
    parts: list[bytes | None] | None = None
    part_attempts: list[int] | None = None


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
                    slot.parts[part] = encode_record(rec) + b"\n"
                    slot.counts.errors += 1
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
        slot.counts.merge(Counts.from_wire(counts))
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
        """Stop every worker (asked first, killed after two seconds) and close its pipe."""
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
