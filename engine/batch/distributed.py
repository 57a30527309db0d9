"""Batch assessment on a Dask cluster (optional: ``pip install airisk[dask]``).

Two ways in, both giving exactly the records of the local batch:

- ``assess_bag(bag)``: a ``dask.bag`` of JSON lines (e.g. ``dask.bag.read_text(
  "data/*.jsonl", blocksize=None)``, one partition per file) → a bag of
  records. Line numbers count from 1 in each partition, so with one partition
  per file they are the file's line numbers. Elements may also be
  ``(line_number, line)`` pairs, for partitions cut some other way.
- ``run_dask(address, "data/*.jsonl", "out/")`` (``airisk batch --dask
  tcp://scheduler:8786 'data/*.jsonl' --output out/``): one task per input file;
  each writes ``out/NAME.jsonl`` atomically (temp file + rename) and returns
  its counts. Inputs, outputs and ruleset files must be on a filesystem every
  worker sees at the same paths (NFS, a shared volume, or a single machine).

Each Dask worker *process* loads the rules and builds its Engine once, on its
first task, and reuses it. The matching core is not thread-safe, so tasks in
one process take turns (a lock); run workers with ``--nthreads 1`` and scale
with processes (``dask worker tcp://scheduler:8786 --nworkers 8 --nthreads 1``).
"""

from __future__ import annotations

import glob
import os
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.batch.progress import Stats
from engine.batch.reader import DEFAULT_MAX_LINE_BYTES, chunked, read_lines
from engine.batch.records import Assessor, Counts, make_assessor
from engine.batch.run import EXIT_FAIL_ON, EXIT_LINE_ERRORS, EXIT_OK
from engine.errors import AiriskError, Problem
from engine.render.sink import AtomicOutput

_LOCK = threading.Lock()
_ASSESSORS: dict[tuple[Any, ...], Assessor] = {}


@dataclass(frozen=True)
class RunSettings:
    """What every task of a Dask run assesses with, sent to the workers (small and picklable):
    ``lang`` of the rules' texts, accepted risk (an ``engine.waivers.WaiverSet``), the record kind
    (``"full"`` or ``"compact"``, engine.batch.catalog), ``verify`` and ``horizon``
    (engine.batch.records.make_assessor)."""

    lang: str = "en"
    waivers: Any = None
    record: str = "full"
    verify: bool = False
    horizon: int = 0  # days of upcoming changes in each assessment (0: none)

    def key(self) -> tuple[Any, ...]:
        w = self.waivers
        return (self.lang, None if w is None else (w.file, w.sha256, w.max_days), self.record, self.verify,
                self.horizon)


def _assessor(rules: Sequence[str] | None, as_of: str | None, scenario: str | None,
              max_line_bytes: int, settings: RunSettings | None = None) -> Assessor:
    """This process's Assessor for these settings (built on first use)."""
    settings = settings or RunSettings()
    key = (tuple(rules) if rules else None, as_of, scenario, max_line_bytes, settings.key())
    found = _ASSESSORS.get(key)
    if found is None:
        from engine.ruleset.load import load_rules

        found = make_assessor(load_rules(list(rules) if rules else None, settings.lang), as_of, scenario,
                              max_line_bytes, waivers=settings.waivers, record=settings.record,
                              verify=settings.verify, horizon=settings.horizon)
        _ASSESSORS[key] = found
    return found


def _fixed_day(as_of: str | None) -> str:
    # Fix "today" once on the client, so every worker assesses as of the same date.
    from engine.assessment.engine import parse_as_of

    return parse_as_of(as_of)


def assess_partition(lines: Iterable[Any], rules: Sequence[str] | None = None, as_of: str | None = None,
                     scenario: str | None = None, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
                     settings: RunSettings | None = None) -> list[dict[str, Any]]:
    """Records for one partition of JSON lines (or ``(line number, line)`` pairs)."""
    with _LOCK:
        assessor = _assessor(rules, as_of, scenario, max_line_bytes, settings)
        out = []
        for n, item in enumerate(lines, start=1):
            if isinstance(item, tuple):
                n, item = item
            raw = item.encode() if isinstance(item, str) else item
            raw = raw.rstrip(b"\r\n")
            out.append(assessor.line_record(n, raw if len(raw) <= max_line_bytes else None))
        return out


def assess_bag(bag: Any, rules: Sequence[str] | None = None, as_of: str | None = None,
               scenario: str | None = None, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
               settings: RunSettings | None = None) -> Any:
    """A ``dask.bag`` of records for a bag of JSON lines (see the module docstring).

    ``rules`` are ruleset paths every worker can read (default: the bundled rulesets);
    ``settings``: language, waivers, record kind and verification (default: English, full
    records, no waivers)."""
    day = _fixed_day(as_of)
    rules_list = list(rules) if rules else None
    return bag.map_partitions(assess_partition, rules=rules_list, as_of=day, scenario=scenario,
                              max_line_bytes=max_line_bytes, settings=settings)


def assess_file(path: str, out_path: str, rules: Sequence[str] | None = None, as_of: str | None = None,
                scenario: str | None = None, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
                settings: RunSettings | None = None) -> Counts:
    """Assess one JSON-lines file into ``out_path`` (atomically); the counts of its records.

    The cases its counts name for ``--fail-on`` carry the file's name with their line
    (``NAME.jsonl:LINE``), so a run over many files names them unambiguously."""
    with _LOCK:
        assessor = _assessor(rules, as_of, scenario, max_line_bytes, settings)
        counts = Counts()
        sink = AtomicOutput(out_path)
        try:
            with open(path, "rb") as fh:
                for chunk in chunked(read_lines(fh, max_line_bytes)):
                    blob, c = assessor.chunk(chunk)
                    counts.merge(c)
                    sink.write(blob)
        except BaseException:
            sink.abort()
            raise
        sink.commit()
        name = os.path.basename(path)
        for entries in counts.named.values():
            for entry in entries:
                entry[0] = f"{name}:{entry[0]}"
        return counts


#: Seconds to wait for the scheduler before giving up (``Client(timeout=)``).
CONNECT_TIMEOUT = 30.0


def _connect(client_type: Any, address: Any, timeout: float) -> Any:
    """A client of the scheduler at ``address``; an unreachable scheduler is an error naming it."""
    try:
        return client_type(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise AiriskError(Problem(message=f"cannot reach the Dask scheduler at {address}: {exc}", code="io_error",
                                  hint="start it (`dask scheduler`) or give its address as tcp://HOST:PORT")) from None


def run_dask(address: Any, pattern: str, out_dir: str, rules: Sequence[str] | None = None,
             as_of: str | None = None, scenario: str | None = None,
             max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, settings: RunSettings | None = None,
             catalog: str | None = None, connect_timeout: float = CONNECT_TIMEOUT) -> Stats:
    """Assess every file matching ``pattern`` on the cluster at ``address`` (or a ``Client``).

    Writes ``out_dir/NAME.jsonl`` per input file (NAME without its ``.jsonl``/``.json``
    suffix) and returns the combined counts (their named cases in file order, then line
    order). ``catalog``: where to write the run's rule catalogue, here on the client, before
    any task starts (needed by compact records, which name it by digest). A scheduler not
    reached in ``connect_timeout`` seconds is an ``AiriskError`` (``io_error``), and nothing is
    written."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise AiriskError(Problem(message="Dask is not installed", code="missing_dependency",
                                  hint="pip install 'airisk[dask]'")) from None
    settings = settings or RunSettings()
    if settings.record == "compact" and catalog is None:
        raise AiriskError(Problem(message="compact records need the rule catalogue they refer to",
                                  code="catalog_required", hint="add --catalog FILE"))
    files = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
    if not files or not all(os.path.isfile(f) for f in files):
        raise AiriskError(Problem(message=f"no input files match {pattern!r}", code="io_error"))
    names = [Path(f).name.removesuffix(".jsonl").removesuffix(".json") for f in files]
    if len(set(names)) != len(names):
        raise AiriskError(Problem(message="two input files have the same name; outputs would clash",
                                  code="io_error", hint="give each input file a distinct name"))
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    day = _fixed_day(as_of)
    rules_list = [os.path.abspath(r) for r in rules] if rules else None
    stats = Stats()
    own = not isinstance(address, Client)
    client = _connect(Client, address, connect_timeout) if own else address
    try:
        if catalog is not None:  # written once, on the client, before any task writes a record naming it
            from engine.batch.catalog import Catalog
            from engine.render.sink import write_output
            from engine.ruleset.load import load_rules

            write_output(Catalog.build(load_rules(rules_list, settings.lang), day, scenario).encoded, catalog)
        futures = [client.submit(assess_file, os.path.abspath(f),
                                 os.path.abspath(os.path.join(out_dir, f"{n}.jsonl")), rules_list, day,
                                 scenario, max_line_bytes, settings, pure=False)
                   for f, n in zip(files, names, strict=True)]
        for counts in client.gather(futures):
            stats.add(counts)
    finally:
        if own:
            client.close()
    return stats


def run_dask_cli(address: str, pattern: str, out_dir: str | None, *, rules: Sequence[str] | None,
                 as_of: str | None, scenario: str | None, fail_on: str | None, max_line_bytes: int,
                 fail_on_known: bool = False, settings: RunSettings | None = None,
                 catalog: str | None = None) -> tuple[int, Stats]:
    """``airisk batch --dask``: run, print the summary (and, with waivers, the stale and expired
    ones) to stderr; the exit code and the run's counts."""

    if not out_dir or out_dir == "-":
        raise AiriskError(Problem(message="--dask needs --output DIRECTORY (one output file per input file)",
                                  code="usage"))
    started = time.perf_counter()
    stats = run_dask(address, pattern, out_dir, rules=rules, as_of=as_of, scenario=scenario,
                     max_line_bytes=max_line_bytes, settings=settings, catalog=catalog)
    stats.started = started
    sys.stderr.write(stats.summary() + f"; outputs in {out_dir}\n")
    waivers = settings.waivers if settings is not None else None
    if waivers is not None:
        from engine.waivers.check import notices

        waivers.used |= stats.waivers_used  # what the workers saw, for the stale report
        for notice in notices(waivers, _fixed_day(as_of)):
            sys.stderr.write(f"airisk: {notice.kind}: {notice.text}\n")
    if stats.errors:
        return EXIT_LINE_ERRORS, stats
    if stats.gate(fail_on, fail_on_known):
        return EXIT_FAIL_ON, stats
    return EXIT_OK, stats
