"""Batch lines as untrusted input: deep nesting and a byte-order mark (issue 17)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import engine
from engine.batch.distributed import assess_partition
from engine.source.safeyaml import load_file
from tests.procs import default_signals, hangup_ignored
from tests.test_hardening_batch import _children, _wait_for

ROOT = Path(__file__).resolve().parents[1]
CASE_LINE = json.dumps(load_file(str(ROOT / "cases" / "guizhou-icc.yaml")).data, default=str)


def deep(levels: int) -> str:
    return '{"id":"x","kind":"facility","name":"n","extra":' + "[" * levels + "]" * levels + "}"


@pytest.mark.parametrize("levels", [40, 256, 600, 1000])
def test_a_deeply_nested_line_is_one_too_deep_record_from_the_library(levels: int) -> None:
    for records in (list(engine.assess_many([deep(levels), CASE_LINE])),
                    list(assess_partition([deep(levels), CASE_LINE]))):
        assert records[0]["error"]["code"] == "too_deep", records[0]
        assert records[1]["case_id"] == "guizhou-icc" and "assessment" in records[1]


def test_a_deeply_nested_mapping_given_to_assess_many_is_a_record_not_an_exception() -> None:
    value: object = {}
    for _ in range(800):
        value = {"a": value}
    (record,) = engine.assess_many([value])  # type: ignore[list-item]
    assert record["error"]["code"] == "too_deep"


def test_batch_cli_gives_records_for_deep_lines_without_killing_workers(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join([deep(256), deep(1000), CASE_LINE]) + "\n")
    out = tmp_path / "out.jsonl"
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "batch", str(path), "-o", str(out), "--workers", "2"],
                          cwd=ROOT, capture_output=True, timeout=120)
    assert b"Traceback" not in proc.stderr and b"restart" not in proc.stderr.lower(), proc.stderr[-800:]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r.get("error", {}).get("code") for r in records[:2]] == ["too_deep", "too_deep"]
    assert records[2]["case_id"] == "guizhou-icc"


def test_a_byte_order_mark_on_the_first_batch_line_is_accepted() -> None:
    for first in ("\ufeff" + CASE_LINE, ("\ufeff" + CASE_LINE).encode()):
        (record,) = engine.assess_many([first])
        assert record["case_id"] == "guizhou-icc" and "assessment" in record
    second = list(engine.assess_many([CASE_LINE, "\ufeff" + CASE_LINE]))[1]
    assert second["error"]["code"] == "invalid_json"  # only the input's first line may carry one


# ---------------------------------------------------------------- signals and a closed pipe

def _many(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "many.jsonl"
    path.write_text((CASE_LINE + "\n") * n)
    return path


def test_a_closed_pipe_is_a_quiet_stop_with_exit_141(tmp_path: Path) -> None:
    source = _many(tmp_path, 1200)
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "batch", str(source)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141, err[-800:]
    assert json.loads(first)["case_id"] == "guizhou-icc"
    assert b"Traceback" not in err and b"Error" not in err, err[-800:]
    assert b"closed by its reader" in err


def test_under_nohup_a_hangup_does_not_stop_the_run(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "batch", "-o", str(out), "--workers", "2"],
                            cwd=ROOT, stdin=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=hangup_ignored)
    assert proc.stdin is not None
    try:
        proc.stdin.write((CASE_LINE + "\n").encode() * 50)
        proc.stdin.flush()
        _wait_for(lambda: len(_children(proc.pid)) >= 2)
        os.kill(proc.pid, signal.SIGHUP)  # the terminal closes; nohup said to carry on
        proc.stdin.write((CASE_LINE + "\n").encode() * 50)
        proc.stdin.close()
        err = proc.stderr.read() if proc.stderr else b""
        assert proc.wait(timeout=120) == 0, err[-800:]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(out.read_bytes().splitlines()) == 100


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGTERM, 143, b"SIGTERM"), (signal.SIGHUP, 129, b"SIGHUP")])
def test_sigterm_and_sighup_stop_like_ctrl_c(tmp_path: Path, sig: int, code: int, word: bytes) -> None:
    source = _many(tmp_path, 20_000)
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "batch", str(source), "-o", str(out),
                             "--workers", "2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=default_signals)
    # Signalled half a second after both workers exist (the handlers are set before they start),
    # not after a fixed 4 s of which half was start-up: it still lands mid-run, on busy workers.
    _wait_for(lambda: len(_children(proc.pid)) >= 2)
    time.sleep(0.5)
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err[-800:]
    assert word in err and b"Traceback" not in err
    assert not out.exists()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("many.jsonl", "out.jsonl.partial")]
    assert leftovers == []
    partial = tmp_path / "out.jsonl.partial"
    if partial.exists():  # whole lines only
        assert all(json.loads(line)["case_id"] == "guizhou-icc" for line in partial.read_text().splitlines())
