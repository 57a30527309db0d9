"""Batch mode: one case per input line, one record per line, in order, at scale.

``run_batch`` is ``airisk batch`` end to end: open the input, stream its lines (``reader``), assess
them in this process or on worker processes (``pool``) into records (``records``), write them in
input order to an atomic sink, show progress and print the summary (``progress``), and stop
cleanly on a signal or a closed pipe (``interrupts``). The names other code imported from this
module before it was split are still importable from here.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from engine.batch.interrupts import sigint_deferred, silence_stdout, stop_reason, stop_signals_interrupt
from engine.batch.pool import ParallelRunner, WorkerSpec, WorkerTarget, serial_blobs, worker_main
from engine.batch.progress import Progress, Stats
from engine.batch.reader import (
    DEFAULT_CHUNK_BYTES,
    DEFAULT_CHUNK_LINES,
    DEFAULT_MAX_LINE_BYTES,
    CountingReader,
    Line,
    LineFeed,
    chunked,
    own_stdin,
    read_lines,
)
from engine.batch.records import (
    UNRATED,
    Assessor,
    Counts,
    error_record,
    iter_records,
    make_assessor,
    rating_counts,
)
from engine.errors import AiriskError, InputError, Problem
from engine.render.sink import AtomicOutput

__all__ = [
    "DEFAULT_CHUNK_BYTES", "DEFAULT_CHUNK_LINES", "DEFAULT_MAX_LINE_BYTES", "EXIT_BROKEN_PIPE", "EXIT_FAIL_ON",
    "EXIT_INTERRUPTED", "EXIT_LINE_ERRORS", "EXIT_OK", "EXIT_USAGE", "UNRATED", "Assessor", "BatchOptions",
    "Counts", "Line", "LineFeed", "ParallelRunner", "Stats", "WorkerSpec", "chunked", "error_record",
    "iter_records", "make_assessor", "rating_counts", "read_lines", "run_batch", "serial_blobs", "worker_main",
]

EXIT_OK = 0
EXIT_FAIL_ON = 1
EXIT_USAGE = 2
EXIT_LINE_ERRORS = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader closed the output (`airisk batch | head -1`)

# How the writing loop ended.
_DONE, _INTERRUPTED, _PIPE_CLOSED = "done", "interrupted", "pipe closed"


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
    # Accepted risk (engine.waivers.WaiverSet): covered findings are marked waived and do not count.
    waivers: Any = None
    # "full" records, or "compact" ones against the run's rule catalogue (engine.batch.catalog).
    record: str = "full"
    # Where to write the run's rule catalogue (needed with record="compact", allowed with "full").
    catalog: str | None = None
    # Each assessment lists the changes due in this many days after the as-of date (0: none).
    horizon: int = 0


def run_batch(rules: Any, options: BatchOptions, *, stderr: IO[str] | None = None,
              target: WorkerTarget = worker_main) -> tuple[int, Stats]:
    """Run a batch end to end; (exit code, stats). Raises AiriskError on usage errors."""
    from engine.render.sink import check_output

    check_output(options.output)  # an unwritable --output fails before any line is assessed
    if options.record == "compact" and options.catalog is None:
        raise InputError(Problem(message="compact records need the rule catalogue they refer to",
                                 code="catalog_required", hint="add --catalog FILE"))
    if options.catalog is not None:
        if options.catalog == options.output or options.catalog == "-":
            raise InputError(Problem(message="--catalog must be a file of its own (not '-' or the --output file)",
                                     code="invalid_option"))
        check_output(options.catalog)

    err = stderr if stderr is not None else sys.stderr
    in_process = options.workers <= 1 and not options.isolate
    assessor = make_assessor(rules, options.as_of, options.scenario, options.max_line_bytes, shared=in_process,
                             verify=options.verify, waivers=options.waivers, record=options.record,
                             horizon=options.horizon)
    if options.catalog is not None:
        from engine.batch.catalog import Catalog
        from engine.render.sink import write_output

        catalog = assessor.catalog or Catalog.build(rules, assessor.as_of, assessor.scenario)
        write_output(catalog.encoded, options.catalog)  # before any record that names it
    stats = Stats()
    source, total = _open_input(options.input)
    show = options.progress if options.progress is not None else bool(getattr(err, "isatty", lambda: False)())
    progress = Progress(stats, total, err, show)
    sink = AtomicOutput(options.output)
    feed = LineFeed(read_lines(CountingReader(source, stats), options.max_line_bytes))
    received: list[int] = []
    stop_guard = stop_signals_interrupt(received)
    stop_guard.__enter__()
    try:
        if in_process:
            runner = None
            blobs = serial_blobs(assessor, feed, stats, options.chunk_lines)
        else:
            spec = WorkerSpec(rules, assessor.as_of, assessor.scenario, options.max_line_bytes,
                              verify=options.verify, waivers=options.waivers, record=options.record,
                              horizon=options.horizon)
            runner = ParallelRunner(spec, max(1, options.workers), target=target, stats=stats)
            blobs = runner.run(feed, options.chunk_lines)
        ending = _write(blobs, runner, sink, progress)
    except BaseException:
        if sink.target is None:
            silence_stdout()
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
    return _conclude(ending, sink, stats, options, received, err), stats


def _open_input(path: str) -> tuple[IO[bytes], int | None]:
    """The input stream and its size in bytes (None for standard input)."""
    if path == "-":
        return own_stdin(), None
    try:
        source = open(path, "rb")  # noqa: SIM115 - run_batch closes it once the reading thread ends
        return source, os.path.getsize(path)
    except OSError as exc:
        raise AiriskError(Problem(message=f"cannot read input: {exc.strerror}", file=path,
                                  code="io_error")) from None


def _write(blobs: Iterator[bytes], runner: ParallelRunner | None, sink: AtomicOutput, progress: Progress) -> str:
    """Write the blobs to the sink in order; how the loop ended (done, interrupted, pipe closed)."""
    ending = _DONE
    try:
        for blob in blobs:
            # Ctrl-C is held back while a chunk is written, so the output always ends on a
            # whole line and the summary counts exactly the lines written.
            with sigint_deferred():
                sink.write(blob)
                if sink.direct:
                    sink.flush()
            progress.update()
    except KeyboardInterrupt:
        ending = _INTERRUPTED
    except BrokenPipeError:
        ending = _PIPE_CLOSED
    finally:
        close = getattr(blobs, "close", None)
        if close is not None:
            close()
    if ending == _DONE and runner is not None and runner.interrupted:
        ending = _INTERRUPTED
    return ending


def _conclude(ending: str, sink: AtomicOutput, stats: Stats, options: BatchOptions, received: list[int],
              err: IO[str]) -> int:
    """Commit or abandon the output, write the summary, and return the exit code."""
    if ending == _PIPE_CLOSED:
        if sink.target is None:
            silence_stdout()
        else:
            sink.abort()
        err.write(stats.summary() + "; stopped: the output was closed by its reader\n")
        return EXIT_BROKEN_PIPE
    if ending == _INTERRUPTED:
        kept = sink.abort(keep_partial=True)
        err.write(stats.summary() + f"; {stop_reason(received)}" + (f", partial output in {kept}" if kept else "")
                  + "\n")
        return 128 + received[0] if received else EXIT_INTERRUPTED
    sink.commit()
    err.write(stats.summary() + "\n")
    if options.waivers is not None:
        from engine.assessment.engine import parse_as_of
        from engine.waivers.check import notices

        options.waivers.used |= stats.waivers_used  # what the workers saw, for the stale report
        for notice in notices(options.waivers, parse_as_of(options.as_of)):
            err.write(f"airisk: {notice.kind}: {notice.text}\n")
    if stats.errors:
        return EXIT_LINE_ERRORS
    if stats.gate(options.fail_on, options.fail_on_known):
        return EXIT_FAIL_ON
    return EXIT_OK
