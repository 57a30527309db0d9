"""Batch mode under faults: dead workers, Ctrl-C, a crash while writing the output file."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest

from engine.batch.pool import WorkerSpec, worker_main
from engine.batch.run import BatchOptions, run_batch
from engine.ruleset.load import load_rules
from tests.procs import default_signals

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-22"
PEER_RULES = {
    "ruleset": {"id": "mini", "version": "1", "title": "mini document ruleset", "input": "document"},
    "rules": [
        {"id": "MIN-001", "title": "big", "dimension": "safety", "severity": "high", "points": 50,
         "basis": "heuristic", "effective_from": "2024-01-01", "when": {"fact": "size", "gte": 10},
         "message": "size {size}", "citations": [{"instrument": "test", "confidence": "S"}]},
        {"id": "MIN-002", "title": "flagged", "dimension": "safety", "severity": "low", "points": 5,
         "basis": "heuristic", "effective_from": "2024-01-01", "when": {"fact": "flag", "eq": True},
         "message": "flagged", "citations": [{"instrument": "test", "confidence": "S"}]},
    ],
}

if not hasattr(os, "fork"):
    pytest.skip("these tests inject faults into forked workers", allow_module_level=True)


@pytest.fixture(scope="module")
def rules_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import yaml

    path = tmp_path_factory.mktemp("rules") / "mini.yaml"
    path.write_text(yaml.safe_dump(PEER_RULES, sort_keys=False))
    return path


def lines(n: int) -> bytes:
    out = [orjson.dumps({"id": f"c{i}", "size": i % 20, "flag": i % 3 == 0}) for i in range(1, n + 1)]
    out[10] = b"{broken"
    return b"\n".join(out) + b"\n"


def run(rules_file: Path, data: bytes, tmp_path: Path, workers: int, target=worker_main,  # type: ignore[no-untyped-def]
        chunk_lines: int = 16) -> tuple[int, bytes, str]:
    source = tmp_path / "in.jsonl"
    source.write_bytes(data)
    target_file = tmp_path / f"out-{workers}-{time.monotonic_ns()}.jsonl"
    err = io.StringIO()
    code, _ = run_batch(load_rules([rules_file]),
                        BatchOptions(input=str(source), output=str(target_file), workers=workers, as_of=AS_OF,
                                     chunk_lines=chunk_lines, progress=False),
                        stderr=err, target=target)
    return code, target_file.read_bytes(), err.getvalue()


def killing_worker(marker: Path, line: int, every_time: bool = False):  # type: ignore[no-untyped-def]
    """A worker target that SIGKILLs itself on receiving the chunk holding ``line``
    (the first time only, unless ``every_time``)."""

    def target(conn, spec: WorkerSpec) -> None:  # type: ignore[no-untyped-def]
        real_recv = conn.recv

        def recv():  # type: ignore[no-untyped-def]
            msg = real_recv()
            if msg is not None and any(n == line for n, _ in msg[1]) and (every_time or not marker.exists()):
                marker.touch()
                os.kill(os.getpid(), signal.SIGKILL)
            return msg

        conn.recv = recv
        worker_main(conn, spec)

    return target


def test_a_killed_worker_costs_a_retry_of_its_chunk_and_every_line_still_gets_one_record(
        rules_file: Path, tmp_path: Path) -> None:
    data = lines(400)
    code1, serial, _ = run(rules_file, data, tmp_path, workers=1)
    code2, parallel, summary = run(rules_file, data, tmp_path, workers=2,
                                   target=killing_worker(tmp_path / "killed", line=123))
    assert (tmp_path / "killed").exists()
    assert code1 == code2 == 3
    assert parallel == serial
    assert [orjson.loads(x)["line"] for x in parallel.splitlines()] == list(range(1, 401))
    assert "INCIDENT: 1 worker(s) died and were restarted, 1 chunk(s) re-run" in summary


def test_a_line_that_kills_every_worker_gets_a_worker_crashed_record_and_the_rest_go_on(
        rules_file: Path, tmp_path: Path) -> None:
    data = lines(100)
    _, serial, _ = run(rules_file, data, tmp_path, workers=1)
    code, parallel, summary = run(rules_file, data, tmp_path, workers=2,
                                  target=killing_worker(tmp_path / "killed", line=37, every_time=True))
    assert code == 3
    got = [orjson.loads(x) for x in parallel.splitlines()]
    want = [orjson.loads(x) for x in serial.splitlines()]
    assert [r["line"] for r in got] == list(range(1, 101))
    assert got[36]["error"]["code"] == "worker_crashed"
    assert got[:36] + got[37:] == want[:36] + want[37:]
    assert "restarted" in summary


def test_a_worker_killed_from_outside_mid_run_costs_a_retry_and_the_output_is_complete(
        rules_file: Path, tmp_path: Path) -> None:
    psutil = pytest.importorskip("psutil")
    n = 6000
    data = lines(n)
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "batch", "--no-bundled", "--rules", str(rules_file),
                             "--as-of", AS_OF, "--workers", "2", "--chunk-lines", "50", "--output", str(out)],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdin is not None
    proc.stdin.write(data[: len(data) // 3])
    proc.stdin.flush()
    deadline = time.monotonic() + 60
    children: list = []
    while time.monotonic() < deadline and len(children) < 2:
        children = psutil.Process(proc.pid).children()
        time.sleep(0.05)
    assert len(children) == 2
    children[0].send_signal(signal.SIGKILL)
    proc.stdin.write(data[len(data) // 3:])
    proc.stdin.close()
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.wait(timeout=120) == 3, stderr
    got = [orjson.loads(x)["line"] for x in out.read_bytes().splitlines()]
    assert got == list(range(1, n + 1))
    assert "INCIDENT: 1 worker(s) died" in stderr


def test_output_file_is_atomic_so_a_killed_run_leaves_the_old_file_not_a_half_one(
        rules_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"previous complete output\n")
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "batch", "--no-bundled", "--rules", str(rules_file),
                             "--as-of", AS_OF, "--chunk-lines", "10", "--output", str(out)],
                            stdin=subprocess.PIPE, stderr=(tmp_path / "stderr.txt").open("wb"), cwd=ROOT)
    assert proc.stdin is not None
    proc.stdin.write(lines(5000))  # several MB of output: the buffered temp file is written to
    proc.stdin.flush()
    deadline = time.monotonic() + 60
    temps: list[Path] = []
    while time.monotonic() < deadline:
        temps = [p for p in tmp_path.iterdir() if p.name.startswith(".out.jsonl.") and p.stat().st_size > 0]
        if temps:
            break
        time.sleep(0.02)
    assert temps, "the run never started writing its temporary file"
    proc.kill()  # a crash: no clean-up code runs
    proc.wait(timeout=30)
    assert out.read_bytes() == b"previous complete output\n"
    assert all(p.name.startswith(".out.jsonl.") for p in tmp_path.iterdir() if p.name not in ("out.jsonl",
                                                                                           "stderr.txt"))


def test_ctrl_c_writes_what_is_done_in_order_prints_the_summary_and_exits_130(
        rules_file: Path, tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "batch", "--no-bundled", "--rules", str(rules_file),
                             "--as-of", AS_OF, "--chunk-lines", "10", "--workers", "2"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            preexec_fn=default_signals)
    assert proc.stdin is not None and proc.stdout is not None
    watchdog = threading.Timer(120, proc.kill)  # a run that ignores Ctrl-C fails the test, never hangs it
    watchdog.start()
    try:
        proc.stdin.write(lines(300))
        proc.stdin.flush()
        first = proc.stdout.readline()  # some output is done; stdin stays open, so the run is still going
        assert orjson.loads(first)["line"] == 1
        proc.send_signal(signal.SIGINT)
        rest = proc.stdout.read()  # not communicate(): it would skip what readline() buffered
        stderr = proc.stderr.read() if proc.stderr else b""
        assert proc.wait(timeout=60) == 130
    finally:
        watchdog.cancel()
        proc.stdin.close()
    got = [1] + [orjson.loads(x)["line"] for x in rest.splitlines()]
    assert got == list(range(1, len(got) + 1))
    assert b"interrupted" in stderr and b"airisk batch:" in stderr
