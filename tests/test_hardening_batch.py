"""`airisk batch` under hostile lines and faults (issue 8, point 3), with the bundled rules.

- hostile lines mixed with good ones: exactly one record per input line, in order;
- a worker killed from outside costs at most a retry: still one record per line;
- Ctrl-C flushes what is done, prints the summary and exits non-zero;
- ``--output FILE`` is atomic: FILE is old or complete, never half-written.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.procs import default_signals

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-22"
CASES = sorted((ROOT / "cases").glob("*.yaml"))
GOOD = [json.dumps(yaml.safe_load(p.read_text()), default=str, ensure_ascii=False).encode() for p in CASES]
H = b'{"id": "hostile", "kind": "project", "name": "Hostile input"'

if not hasattr(os, "fork"):
    pytest.skip("these tests signal worker processes", allow_module_level=True)

# (line, accepted codes; None: the line must be assessed; a set holding None: either is fine)
HOSTILE_LINES: list[tuple[str, bytes, set[str | None] | None]] = [
    ("malformed JSON", b'{"id": "x",, "kind": "project"}', {"invalid_json"}),
    ("truncated JSON", H, {"invalid_json"}),
    ("wrong type", H + b', "accelerators": [{"model": "H100", "count": "10"}]}', {"wrong_type"}),
    ("unknown field", H + b', "location": {"contry": "CN"}}', {"unknown_field"}),
    ("not UTF-8", H + b', "description": "caf\xe9"}', {"invalid_json", "encoding"}),
    ("UTF-16", (H + b"}").decode().encode("utf-16"), {"invalid_json", "encoding"}),
    ("NaN", H + b', "facility": {"pue": NaN}}', {"invalid_json", "wrong_type", "invalid_number"}),
    ("Infinity", H + b', "facility": {"pue": Infinity}}', {"invalid_json", "wrong_type", "invalid_number"}),
    ("exponent float", H + b', "ai_system": {"training_compute_flop": 1e+25}}', None),
    ("int beyond 64 bits", H + b', "ai_system": {"training_compute_flop": 100000000000000000000000000}}', None),
    ("count beyond 64 bits", H + b', "accelerators": [{"model": "H100", "count": 100000000000000000000000000}]}',
     {"wrong_type", "out_of_range", "invalid_json"}),
    ("huge string", H + b', "description": "' + b"a" * 200_000 + b'"}', {"out_of_range", "too_large"}),
    ("line too long", H + b', "description": "' + b"b" * (2 * 1024 * 1024) + b'"}', {"line_too_long"}),
    ("deep nesting", H + b', "tags": ' + b"[" * 5000 + b"]" * 5000 + b"}", {"invalid_json", "too_deep"}),
    ("some nesting", H + b', "tags": ' + b"[" * 40 + b"]" * 40 + b"}", {"wrong_type", "too_deep"}),
    ("a list", b"[" + GOOD[0] + b"]", {"not_a_mapping"}),
    ("a scalar", b"42", {"not_a_mapping"}),
    ("null", b"null", {"not_a_mapping"}),
    ("blank line", b"", {"blank_line", "empty"}),
    ("spaces only", b"   \t ", {"blank_line", "empty"}),
    ("lone surrogate", H + b', "description": "\\udc80"}', {"invalid_json", "invalid_text"}),
    ("escape char", H + b', "description": "red \\u001b[31m"}', {"invalid_text"}),
    ("NUL char", H + b', "description": "a\\u0000b"}', {"invalid_text"}),
    ("tag-like text", b'{"id": "!!python/object/apply:os.system", "kind": "project", "name": "n"}', {"invalid_value"}),
    ("NFD name", H.replace(b"Hostile input", unicodedata.normalize("NFD", "Île").encode()) + b"}", None),
    ("duplicate key", H + b', "name": "again"}', {"duplicate_key"}),
    ("UTF-8 BOM", b"\xef\xbb\xbf" + H + b"}", {"invalid_json", "encoding", None}),
]
DUPLICATE_KEY = ("duplicate key", H + b', "name": "again"}', {"duplicate_key", "invalid_json"})


def _batch(args: list[str], stdin: bytes | None = None, **kw: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "engine.cli", "batch", "--as-of", AS_OF, *args], cwd=ROOT,
                          input=stdin, capture_output=True, timeout=300, **kw)


def _records(stdout: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[set[str | None] | None]]:
    lines: list[bytes] = []
    expected: list[set[str | None] | None] = []
    for i, (_, line, codes) in enumerate(HOSTILE_LINES):
        lines.append(GOOD[i % len(GOOD)])
        expected.append(None)
        lines.append(line)
        expected.append(codes)
    path = tmp_path_factory.mktemp("mixed") / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, expected


@pytest.fixture(scope="module")
def mixed_runs(mixed: tuple[Path, list[set[str | None] | None]]) -> dict[str, subprocess.CompletedProcess[bytes]]:
    path, _ = mixed
    return {w: _batch([str(path), "--workers", w, "--chunk-lines", "4"]) for w in ("1", "2")}


@pytest.mark.parametrize("workers", ["1", "2"])
def test_hostile_lines_mixed_with_good_ones_give_one_record_per_line_in_order(
        workers: str, mixed: tuple[Path, list[set[str | None] | None]],
        mixed_runs: dict[str, subprocess.CompletedProcess[bytes]]) -> None:
    _, expected = mixed
    proc = mixed_runs[workers]
    assert proc.returncode == 3, proc.stderr.decode()[-2000:]  # 3: some lines were errors
    assert b"Traceback" not in proc.stderr
    records = _records(proc.stdout)
    assert [r["line"] for r in records] == list(range(1, len(expected) + 1))
    for record, codes in zip(records, expected, strict=True):
        if codes is None:
            assert "assessment" in record, record.get("error")
        elif None in codes and "assessment" in record:
            continue
        else:
            assert "error" in record, (record["line"], codes)
            assert record["error"]["code"] in codes, (record["line"], record["error"])


def test_hostile_batch_output_is_the_same_for_one_and_two_workers(
        mixed_runs: dict[str, subprocess.CompletedProcess[bytes]]) -> None:
    assert mixed_runs["1"].stdout == mixed_runs["2"].stdout


def test_an_error_record_names_the_field_where_there_is_one(
        mixed_runs: dict[str, subprocess.CompletedProcess[bytes]]) -> None:
    by_line = {r["line"]: r for r in _records(mixed_runs["1"].stdout)}
    names = [name for name, _, _ in HOSTILE_LINES]
    unknown = by_line[2 * names.index("unknown field") + 2]["error"]
    assert unknown["field"] == "/location/contry"
    wrong = by_line[2 * names.index("wrong type") + 2]["error"]
    assert wrong["field"] == "/accelerators/0/count"


def test_an_nfd_name_comes_out_in_nfc(mixed_runs: dict[str, subprocess.CompletedProcess[bytes]]) -> None:
    names = [name for name, _, _ in HOSTILE_LINES]
    record = _records(mixed_runs["1"].stdout)[2 * names.index("NFD name") + 1]
    assert record["assessment"]["case_name"] == unicodedata.normalize("NFC", "Île")


def test_a_batch_line_with_a_duplicate_key_is_an_error_record_as_in_assess() -> None:
    _, line, codes = DUPLICATE_KEY
    proc = _batch(["-"], stdin=line + b"\n")
    (record,) = _records(proc.stdout)
    assert "error" in record and record["error"]["code"] in codes


def test_assess_many_gives_one_record_per_hostile_item() -> None:
    import engine

    items: list[Any] = [line for _, line, _ in HOSTILE_LINES if len(line) < 100_000]
    items += [{"id": "x", "kind": "project", "name": "a\x1bb"}, {"id": "x", "kind": "project", "name": "\ud800"},
              [1, 2], None, 42]
    records = list(engine.assess_many(items, as_of=AS_OF))
    assert [r["line"] for r in records] == list(range(1, len(items) + 1))
    assert all(("assessment" in r) != ("error" in r) for r in records)
    assert all("error" in r for r in records[-5:])


# --------------------------------------------------------------------------- faults


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry.name))
    return sorted(out)


def _wait_for(predicate: Any, timeout: float = 60.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.fixture(scope="module")
def many_good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("many") / "many.jsonl"
    path.write_bytes(b"\n".join(GOOD[i % len(GOOD)] for i in range(2400)) + b"\n")
    return path


def _expected_assessments() -> dict[bytes, dict[str, Any]]:
    from engine.batch.records import make_assessor
    from engine.ruleset.load import load_rules

    assessor = make_assessor(load_rules(), AS_OF, None)
    return {line: assessor.line_record(1, line)["assessment"] for line in GOOD}


def test_a_worker_killed_from_outside_costs_a_retry_and_every_line_still_gets_its_one_record(
        many_good: Path, tmp_path: Path) -> None:
    # Half of many_good (1200 lines, 30 chunks) and the kill as soon as the first records are written,
    # not a second later: the killed worker still leaves some 1000 lines to redo or finish.
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(many_good.read_bytes().splitlines(keepends=True)[:1200]))
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "batch", str(source), "--as-of", AS_OF,
                             "--workers", "2", "--chunk-lines", "40", "--output", str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        workers = _wait_for(lambda: [c for c in _children(proc.pid)] if len(_children(proc.pid)) >= 2 else None)
        _wait_for(lambda: any(p.stat().st_size > 0 for p in _temp_files(tmp_path, out)))  # they took chunks
        assert proc.poll() is None, "the run ended before a worker could be killed; make the input longer"
        os.kill(workers[0], signal.SIGKILL)
        _, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr.decode()[-2000:]
    assert b"restarted" in stderr
    lines = out.read_bytes().splitlines()
    assert len(lines) == 1200
    expected = _expected_assessments()
    for n, (raw, line) in enumerate(zip(source.read_bytes().splitlines(), lines, strict=True), start=1):
        record = json.loads(line)
        assert record["line"] == n
        assert record["assessment"] == expected[raw], n


def _start(args: list[str], stdout: Any = subprocess.PIPE) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "engine.cli", "batch", "--as-of", AS_OF, *args], cwd=ROOT,
                            stdout=stdout, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=default_signals)


def _temp_files(directory: Path, target: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.name.startswith(f".{target.name}.")]


def test_ctrl_c_keeps_the_old_output_file_writes_what_is_done_to_a_partial_file_and_exits_non_zero(
        many_good: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"old content\n")
    proc = _start([str(many_good), "--workers", "2", "--chunk-lines", "20", "--output", str(out)])
    try:
        _wait_for(lambda: any(p.stat().st_size > 0 for p in _temp_files(tmp_path, out)))
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode not in (0, None), stderr.decode()
    assert proc.returncode == 130
    text = stderr.decode()
    assert "interrupted" in text and "lines" in text
    assert "Traceback" not in text
    assert out.read_bytes() == b"old content\n"
    partial = out.with_name(out.name + ".partial")
    records = [json.loads(line) for line in partial.read_bytes().splitlines()]
    assert 0 < len(records) < 2400
    assert [r["line"] for r in records] == list(range(1, len(records) + 1))
    assert _temp_files(tmp_path, out) == []


def _complete_records(data: bytes) -> list[dict[str, Any]]:
    assert data.endswith(b"\n"), f"the output ends in a partial line: ...{data[-80:]!r}"
    records = [json.loads(line) for line in data.splitlines()]
    assert [r["line"] for r in records] == list(range(1, len(records) + 1))
    return records


def test_ctrl_c_with_output_to_stdout_flushes_complete_lines_in_order(many_good: Path, tmp_path: Path) -> None:
    stdout = tmp_path / "stdout.jsonl"
    with stdout.open("wb") as fh:
        proc = _start([str(many_good), "--workers", "2", "--chunk-lines", "20"], stdout=fh)
        try:
            _wait_for(lambda: stdout.stat().st_size > 0)
            os.killpg(proc.pid, signal.SIGINT)
            _, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130, stderr.decode()
    records = _complete_records(stdout.read_bytes())
    assert 0 < len(records) < 2400
    assert f"{len(records)} lines" in stderr.decode() and "interrupted" in stderr.decode()


def _wchan(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return ""


def test_ctrl_c_while_a_slow_reader_holds_up_stdout_still_ends_on_a_whole_line(many_good: Path) -> None:
    if not Path("/proc/self/wchan").exists():
        pytest.skip("needs /proc/PID/wchan")
    proc = _start([str(many_good), "--workers", "2", "--chunk-lines", "20"])
    try:
        # Nobody reads stdout yet: the batch fills the pipe and blocks inside write().
        _wait_for(lambda: "pipe_write" in _wchan(proc.pid), timeout=60)
        os.killpg(proc.pid, signal.SIGINT)
        out, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    records = _complete_records(out)
    assert f"{len(records)} lines" in stderr.decode()


def test_a_run_killed_outright_leaves_the_old_output_file_untouched(many_good: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"old content\n")
    proc = _start([str(many_good), "--workers", "1", "--output", str(out)])
    try:
        _wait_for(lambda: any(p.stat().st_size > 0 for p in _temp_files(tmp_path, out)))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert out.read_bytes() == b"old content\n"
    assert all(p.name.endswith(".tmp") for p in _temp_files(tmp_path, out))  # a hidden leftover, never FILE


def test_a_completed_run_replaces_the_output_file_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"old content\n")
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(GOOD) + b"\n")
    proc = _batch([str(src), "--output", str(out)])
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert proc.stdout == b""
    assert len(out.read_bytes().splitlines()) == len(GOOD)
    assert _temp_files(tmp_path, out) == []


def test_a_usage_error_writes_no_output_file(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    src = tmp_path / "in.jsonl"
    src.write_bytes(GOOD[0] + b"\n")
    proc = _batch([str(src), "--output", str(out), "--scenario", "no-such-scenario"])
    assert proc.returncode == 2
    assert not out.exists()
    assert _temp_files(tmp_path, out) == []


@pytest.mark.parametrize(("text", "duplicate"), [
    (b'{"a":1,"b":{"c":2,"d":[{"e":3}]}}', None),
    (b'{"a":1,"a":2}', "a"),  # compact: the fast count
    (b'{"a":1,"b":{"c":2,"c":3}}', "c"),
    (b'{"a":1,"b":[{"e":1,"e":2}]}', "e"),
    (b'{"a":"x\\":y","b":1}', None),  # '":' inside a string, written back the same way
    (b'{"a":"x\\":y","a":1}', "a"),
    (b'{"a" : 1, "a" : 2}', "a"),  # a gap before the colon: the exact path
    (b'{"a":"\\u0022:","a":1}', "a"),  # a \\u escape could hide a repeat from the count
    (b'{"a":"\\u0022:\\u0022:","b":1}', None),
])
def test_duplicate_keys_are_found_on_the_fast_and_the_exact_path(text: bytes, duplicate: str | None) -> None:
    import orjson

    from engine.batch.records import _duplicate_key

    found = _duplicate_key(text, orjson.loads(text))
    assert (found[0] if found else None) == duplicate


def _read_line_within(proc: subprocess.Popen[bytes], seconds: float) -> bytes:
    """One line of the process's stdout, or b"" if none arrives in time (never blocks longer)."""
    import select

    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    got = b""
    deadline = time.monotonic() + seconds
    while not got.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return b""
        piece = os.read(fd, 1)
        if not piece:
            return got
        got += piece
    return got


@pytest.mark.parametrize("workers", ["1", "2"])
def test_streaming_with_stdin_left_open_gets_each_record_as_its_line_arrives(workers: str) -> None:
    """Issue 17: a pipeline that feeds one case at a time and keeps stdin open gets each record
    back while it waits for the next line (no 256-line chunk, no end of input needed)."""
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "batch", "--as-of", AS_OF, "--workers", workers,
                             "--no-progress"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for n, line in enumerate(GOOD[:3], start=1):
            proc.stdin.write(line + b"\n")
            proc.stdin.flush()
            out = _read_line_within(proc, 60)  # generous for a cold start on a loaded machine
            assert out, f"no record for line {n} while stdin stays open"
            assert json.loads(out)["line"] == n
        proc.stdin.write(b"not json\n")
        proc.stdin.close()
        rest = proc.stdout.read() if proc.stdout else b""
        assert proc.wait(timeout=60) == 3  # the bad line is an error record
        assert [json.loads(x)["line"] for x in rest.splitlines()] == [4]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_utf8_bom_on_the_first_batch_line_is_accepted_as_in_case_files() -> None:
    proc = _batch(["--no-progress"], stdin=b"\xef\xbb\xbf" + GOOD[0] + b"\n" + GOOD[1] + b"\n")
    assert proc.returncode == 0, proc.stderr[-500:]
    assert [("assessment" in r, r["line"]) for r in _records(proc.stdout)] == [(True, 1), (True, 2)]
