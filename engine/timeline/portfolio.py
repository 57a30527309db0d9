"""Impact diff of a portfolio, at batch speed: the worker pool of ``airisk batch``, streaming.

A portfolio is a JSON-lines file (``-``: standard input) or case files (YAML or JSON; a directory
stands for the case files under it). Each case is assessed twice, under the two settings that
differ (``Side``: rules, as-of date, scenario), by the worker processes of ``engine.batch.pool``
(``diff_worker_main`` is their target), and the two assessments become one diff record
(``engine.timeline.diff.compare``), written in input order. Memory stays flat: the pool's reorder
window and the summary's counts are all that is kept. Two earlier batch outputs are compared with
``diff_outputs``, which streams the new file and matches the old one by case id.

``diff_partition`` / ``diff_bag`` are the same work for the partitions of a Dask bag (as
``engine.batch.distributed`` is for batch).
"""

from __future__ import annotations

import multiprocessing.connection as mpc
import os
import signal
import threading
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from engine.batch.pool import ParallelRunner, WorkerSpec, _die_with_parent
from engine.batch.reader import DEFAULT_MAX_LINE_BYTES, Line, LineFeed, chunked, read_lines
from engine.batch.records import Assessor, Counts, encode_record, make_assessor
from engine.errors import AiriskError, InputError, Problem
from engine.timeline.diff import PostProcess, Summary, compare, error_diff

__all__ = ["DiffSpec", "Differ", "case_files", "diff_bag", "diff_file", "diff_outputs", "diff_partition",
           "diff_worker_main", "run_dask_diff", "run_diff"]


@dataclass
class DiffSpec(WorkerSpec):
    """What a diff worker needs: the old side in the ``WorkerSpec`` fields, the new side here.

    ``files``: each input line is a case file's name, not a case. ``post``: applied to every
    assessment before the two are compared (``engine.timeline.diff.PostProcess``)."""

    new_rules: Any = None
    new_as_of: str = ""
    new_scenario: str | None = None
    files: bool = False
    post: PostProcess = field(default=None)


class Differ:
    """Diff records for input lines (or case files), with one Assessor per side."""

    def __init__(self, spec: DiffSpec, *, shared: bool = True) -> None:
        # Both sides under the same waivers (engine.waivers): a waiver is part of the question asked.
        self.old = make_assessor(spec.rules, spec.as_of, spec.scenario, spec.max_line_bytes, shared=shared,
                                 waivers=spec.waivers)
        same = spec.new_rules is spec.rules
        self.new = (Assessor(self.old.engine, spec.new_as_of, spec.new_scenario, spec.max_line_bytes,
                             waivers=spec.waivers) if same
                    else make_assessor(spec.new_rules, spec.new_as_of, spec.new_scenario, spec.max_line_bytes,
                                       shared=shared, waivers=spec.waivers))
        self.new.engine.in_force(spec.new_as_of, spec.new_scenario)  # an unknown scenario fails here
        self.files = spec.files
        self.post = spec.post
        # Per dimension, the rules in force on one side only (the same for every case of the run).
        old_ids = {(r.id, r.dimension) for r in self.old.engine.in_force(self.old.as_of, self.old.scenario)}
        new_ids = {(r.id, r.dimension) for r in self.new.engine.in_force(self.new.as_of, self.new.scenario)}
        self.in_force: dict[str, set[str]] = {}
        for rule_id, dimension in old_ids ^ new_ids:
            self.in_force.setdefault(dimension, set()).add(rule_id)

    def _pair(self, n: int, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        if "error" in old or "error" in new:
            side = "both" if "error" in old and "error" in new else "old" if "error" in old else "new"
            bad = old if "error" in old else new
            return error_diff(n, bad.get("case_id") or old.get("case_id") or new.get("case_id"), side, bad["error"])
        a, b = old["assessment"], new["assessment"]
        if self.post is not None:
            a, b = self.post(a), self.post(b)
        return compare(a, b, n, self.in_force)

    def line(self, n: int, raw: bytes | None) -> dict[str, Any]:
        """The diff record of one input line (or, with ``files``, of the case file it names)."""
        if self.files:
            return self._file(n, (raw or b"").decode())
        old = self.old.line_record(n, raw)
        if "error" in old and old["error"]["code"] in ("line_too_long", "blank_line", "invalid_json", "too_deep",
                                                      "duplicate_key"):
            return error_diff(n, old["case_id"], "both", old["error"])  # the line itself is bad
        new = self.new.record(n, orjson.loads(raw)) if raw is not None else old
        return self._pair(n, old, new)

    def _file(self, n: int, name: str) -> dict[str, Any]:
        from engine.api import read_document
        from engine.batch.records import error_record
        from engine.case.validation import plain_case

        def assess(assessor: Assessor, plain: dict[str, Any], file: str) -> dict[str, Any]:
            try:
                a = assessor.engine.assess_plain(plain, as_of=assessor.as_of, scenario=assessor.scenario)
            except AiriskError as exc:
                return error_record(n, plain.get("id"), exc.problems)
            return {"line": n, "case_id": a["case_id"], "assessment": a}

        try:
            doc = read_document(name)
            plain = plain_case(doc.data, file=doc.file, doc=doc)
        except AiriskError as exc:
            return error_diff(n, None, "both", error_record(n, None, exc.problems)["error"])
        return self._pair(n, assess(self.old, plain, doc.file or name), assess(self.new, plain, doc.file or name))

    def chunk(self, lines: Sequence[Line]) -> tuple[bytes, Counts]:
        """JSON lines of the diff records of a chunk, and their counts (errors only)."""
        out = []
        counts = Counts()
        for n, raw in lines:
            rec = self.line(n, raw)
            if "error" in rec:
                counts.errors += 1
            else:
                counts.known["changed" if rec["changed"] else "unchanged"] += 1
            out.append(encode_record(rec))
        out.append(b"")
        return b"\n".join(out), counts


def diff_worker_main(conn: mpc.Connection, spec: WorkerSpec) -> None:
    """A diff worker process (an ``engine.batch.pool`` target): build both sides once, then diff
    chunks until told to stop."""
    if not isinstance(spec, DiffSpec):
        raise TypeError("a diff worker needs a DiffSpec")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(spec.parent_pid)
    from engine.assessment import engine as pipeline

    pipeline.engine_for.cache_clear()  # never reuse durable handles inherited over fork
    differ = Differ(spec, shared=False)
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        key, lines = msg
        blob, counts = differ.chunk(lines)
        conn.send_bytes(orjson.dumps([key, counts.to_wire()]) + b"\n" + blob)


def case_files(names: Iterable[str]) -> list[str]:
    """Case files named, a directory standing for its ``*.yaml``, ``*.yml`` and ``*.json`` files
    (test tables excluded), sorted; a missing path is an ``InputError``."""
    out: list[str] = []
    problems = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            out += sorted(str(p) for p in path.rglob("*") if p.suffix in (".yaml", ".yml", ".json")
                          and not p.name.endswith(".tests.yaml") and p.is_file())
        elif path.exists():
            out.append(name)
        else:
            problems.append(Problem(message="no such file or directory", file=name, code="io_error"))
    if problems:
        raise InputError(problems)
    return out


def _lines(source: IO[bytes] | None, files: Sequence[str], max_line_bytes: int) -> Iterator[Line]:
    if source is not None:
        yield from read_lines(source, max_line_bytes)
    else:
        yield from ((n, name.encode()) for n, name in enumerate(files, start=1))


def run_diff(spec: DiffSpec, source: IO[bytes] | None, files: Sequence[str] = (), *, workers: int = 1,
             chunk_lines: int = 64, isolate: bool = True) -> Iterator[bytes]:
    """Diff records as JSON-lines blobs in input order, from ``source`` (JSON lines) or, when it
    is None, from the case ``files`` (``spec.files`` must then be true), on ``workers`` worker
    processes. As in ``airisk batch``, one worker is a process too (a crash in native code costs a
    chunk, not the run) unless ``isolate`` is false: then the work is done in this process."""
    feed = LineFeed(_lines(source, files, spec.max_line_bytes))
    try:
        if workers <= 1 and not isolate:
            differ = Differ(spec)
            for chunk in feed.chunks(chunk_lines):
                yield differ.chunk(chunk)[0]
            return
        runner = ParallelRunner(spec, max(1, workers), target=diff_worker_main)
        yield from runner.run(feed, chunk_lines)
    finally:
        feed.close()


_DIFFERS: dict[tuple[Any, ...], Differ] = {}
_DIFFERS_LOCK = threading.Lock()


def _differ(rules: Sequence[str] | None, against_rules: Sequence[str] | None, as_of: str | None,
            against_as_of: str | None, scenario: str | None, against_scenario: str | None,
            lang: str = "en") -> Differ:
    """This process's Differ for these settings (rulesets by path, their text in ``lang``; built on
    first use, under the lock)."""
    from engine.assessment.engine import parse_as_of
    from engine.ruleset.load import load_rules

    old_day = parse_as_of(as_of)
    key = (tuple(rules or ()), tuple(against_rules or ()), old_day, against_as_of, scenario, against_scenario, lang)
    differ = _DIFFERS.get(key)
    if differ is None:
        old_rules = load_rules(list(rules) if rules else None, lang)
        new_rules = load_rules(list(against_rules), lang) if against_rules else old_rules
        spec = DiffSpec(old_rules, old_day, scenario, DEFAULT_MAX_LINE_BYTES, new_rules=new_rules,
                        new_as_of=parse_as_of(against_as_of) if against_as_of else old_day,
                        new_scenario=against_scenario if against_scenario is not None else scenario)
        differ = _DIFFERS[key] = Differ(spec)
    return differ


def diff_file(path: str, out_path: str, rules: Sequence[str] | None = None,
              against_rules: Sequence[str] | None = None, as_of: str | None = None,
              against_as_of: str | None = None, scenario: str | None = None,
              against_scenario: str | None = None, top: int = 10, lang: str = "en") -> Summary:
    """Diff one JSON-lines file into ``out_path`` (atomically); the summary of its records (a Dask
    task). ``lang``: the language of the findings' text."""
    from engine.render.sink import AtomicOutput

    summary = Summary(top)
    with _DIFFERS_LOCK:
        differ = _differ(rules, against_rules, as_of, against_as_of, scenario, against_scenario, lang)
        sink = AtomicOutput(out_path)
        try:
            with open(path, "rb") as fh:
                for chunk in chunked(read_lines(fh, differ.old.max_line_bytes)):
                    for n, raw in chunk:
                        rec = differ.line(n, raw)
                        summary.add(rec)
                        sink.write(encode_record(rec) + b"\n")
        except BaseException:
            sink.abort()
            raise
        sink.commit()
    return summary


def run_dask_diff(address: Any, pattern: str, out_dir: str, *, rules: Sequence[str] | None = None,
                  against_rules: Sequence[str] | None = None, as_of: str | None = None,
                  against_as_of: str | None = None, scenario: str | None = None,
                  against_scenario: str | None = None, top: int = 10, lang: str = "en") -> Summary:
    """``airisk diff --dask``: diff every JSON-lines file matching ``pattern`` on the cluster at
    ``address`` (or a ``Client``), one task per file, each writing ``out_dir/NAME.jsonl``; the
    merged summary. Paths must be the same on every worker (as for ``airisk batch --dask``)."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise InputError(Problem(message="Dask is not installed", code="missing_dependency",
                                 hint="pip install 'airisk[dask]'")) from None
    import glob

    from engine.assessment.engine import parse_as_of

    files = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
    if not files or not all(os.path.isfile(f) for f in files):
        raise InputError(Problem(message=f"no input files match {pattern!r}", code="io_error"))
    names = [Path(f).name.removesuffix(".jsonl").removesuffix(".ndjson") for f in files]
    if len(set(names)) != len(names):
        raise InputError(Problem(message="two input files have the same name; outputs would clash",
                                 code="io_error", hint="give each input file a distinct name"))
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    old_day = parse_as_of(as_of)
    new_day = parse_as_of(against_as_of) if against_as_of else old_day
    paths = [os.path.abspath(r) for r in rules] if rules else None
    new_paths = [os.path.abspath(r) for r in against_rules] if against_rules else None
    summary = Summary(top)
    own = not isinstance(address, Client)
    client = Client(address) if own else address  # type: ignore[no-untyped-call]
    try:
        futures = [client.submit(diff_file, os.path.abspath(f), os.path.abspath(os.path.join(out_dir, f"{n}.jsonl")),
                                 paths, new_paths, old_day, new_day, scenario, against_scenario, top, lang,
                                 pure=False)
                   for f, n in zip(files, names, strict=True)]
        for part in client.gather(futures):
            summary.merge(part)
    finally:
        if own:
            client.close()
    return summary


def diff_partition(lines: Iterable[Any], rules: Sequence[str] | None = None,
                   against_rules: Sequence[str] | None = None, as_of: str | None = None,
                   against_as_of: str | None = None, scenario: str | None = None,
                   against_scenario: str | None = None, lang: str = "en") -> list[dict[str, Any]]:
    """The diff records of one partition of JSON lines (or ``(line number, line)`` pairs), for
    ``dask.bag.Bag.map_partitions`` (``diff_bag``). Rulesets are given as paths (None: bundled) and
    loaded once per process, their text in ``lang``; the matching core is not thread-safe, so partitions in one process
    take turns. Line numbers count from 1 in each partition."""
    with _DIFFERS_LOCK:
        differ = _differ(rules, against_rules, as_of, against_as_of, scenario, against_scenario, lang)
        out = []
        for n, item in enumerate(lines, start=1):
            if isinstance(item, tuple):
                n, item = item
            raw = item.encode() if isinstance(item, str) else item
            out.append(differ.line(n, raw.rstrip(b"\r\n")))
        return out


def diff_bag(bag: Any, rules: Sequence[str] | None = None, against_rules: Sequence[str] | None = None,
             as_of: str | None = None, against_as_of: str | None = None, scenario: str | None = None,
             against_scenario: str | None = None, lang: str = "en") -> Any:
    """A ``dask.bag`` of JSON lines (one partition per file: ``dask.bag.read_text(paths,
    blocksize=None)``) → a bag of diff records, the records ``run_diff`` gives for each file."""
    from engine.assessment.engine import parse_as_of

    return bag.map_partitions(diff_partition, rules, against_rules, parse_as_of(as_of),
                              parse_as_of(against_as_of) if against_as_of else None, scenario, against_scenario,
                              lang)


# --------------------------------------------------------------------------- two batch outputs


def _records(path: str) -> Generator[tuple[int, int, dict[str, Any]], None, None]:
    """(line, byte offset, record) of a batch output; a line that is not a record is an InputError
    at its line."""
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(Problem(message=f"cannot read batch output: {exc.strerror}", file=path,
                                 code="io_error")) from None
    with stream:
        offset = 0
        for n, raw in enumerate(iter(stream.readline, b""), start=1):
            here, offset = offset, offset + len(raw)
            yield n, here, _record(path, n, raw.rstrip(b"\r\n"))


def _record(path: str, n: int, raw: bytes) -> dict[str, Any]:
    try:
        rec = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InputError(Problem(message=f"not a batch record: malformed JSON: {exc}", file=path, line=n,
                                 code="invalid_json")) from None
    if not isinstance(rec, dict) or ("assessment" not in rec and "error" not in rec):
        raise InputError(Problem(message="not a batch record: expected an object with \"assessment\" or \"error\"",
                                 file=path, line=n, code="not_a_record",
                                 hint="give two outputs of `airisk batch`"))
    if "assessment" in rec:
        a = rec["assessment"]
        for key in ("case_id", "rating", "rating_range", "dimensions", "findings"):
            if not isinstance(a, dict) or key not in a:
                raise InputError(Problem(message=f"assessment without {key!r}", file=path, line=n,
                                         pointer=f"/assessment/{key}", code="not_a_record"))
    return rec


def _case_id(rec: dict[str, Any]) -> Any:
    return rec["assessment"]["case_id"] if "assessment" in rec else rec.get("case_id")


def diff_outputs(old_path: str, new_path: str, post: PostProcess = None) -> Iterator[dict[str, Any]]:
    """Diff records of two ``airisk batch`` outputs matched by case id, in the new output's order;
    then a record for each case only the old output has. Read in step while the ids agree line by
    line; otherwise the old output is indexed once (case id → byte offset)."""
    old_iter = _records(old_path)
    index: dict[Any, int] | None = None
    seen: set[Any] = set()
    handle = open(old_path, "rb")  # noqa: SIM115 - closed in finally
    try:
        for n, _, rec in _records(new_path):
            cid = _case_id(rec)
            seen.add(cid)
            old: dict[str, Any] | None = None
            if index is None:
                nxt = next(old_iter, None)
                if nxt is not None and _case_id(nxt[2]) == cid:
                    old = nxt[2]
                else:
                    index = {}
                    for _, start, r in _records(old_path):
                        index.setdefault(_case_id(r), start)
            if index is not None:
                found = index.get(cid)
                if found is not None:
                    handle.seek(found)
                    old = _record(old_path, 0, handle.readline().rstrip(b"\r\n"))
            if old is None:
                yield error_diff(n, cid, "old", {"code": "not_in_old", "message": f"case {cid!r} is not in {old_path}"})
            elif "error" in old or "error" in rec:
                side = "both" if "error" in old and "error" in rec else "old" if "error" in old else "new"
                yield error_diff(n, cid, side, (old if "error" in old else rec)["error"])
            else:
                a, b = old["assessment"], rec["assessment"]
                if post is not None:
                    a, b = post(a), post(b)
                yield compare(a, b, n)
        for _, _, rec in _records(old_path):
            cid = _case_id(rec)
            if cid not in seen:
                seen.add(cid)
                yield error_diff(None, cid, "new", {"code": "not_in_new",
                                                    "message": f"case {cid!r} is not in {new_path}"})
    finally:
        handle.close()
        old_iter.close()


def workers_default() -> int:
    """One worker per CPU this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
