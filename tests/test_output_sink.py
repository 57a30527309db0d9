"""Where output goes: files replaced atomically, FIFOs and devices written directly, symlinks
followed, and unwritable paths refused before any work, with exit 2 and no traceback.

No test here (or anywhere) points an output at a real device: a wrong sink would then break
the machine that runs the tests. FIFOs and symlinks are made in a temporary directory.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import EXIT_INTERNAL, main
from engine.render.sink import AtomicOutput, OutputError, check_output, current_umask, write_output

ROOT = Path(__file__).resolve().parents[1]
CASE = str(ROOT / "cases" / "ec-h20-china-icc.yaml")
AS_OF = "2026-11-22"


def cli(*args: str, input: str | bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    data = input.encode() if isinstance(input, str) else input
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=ROOT, input=data, capture_output=True,
                          timeout=300)


def _fifo_with_reader(path: Path) -> tuple[list[bytes], threading.Thread]:
    """Make a FIFO at ``path`` and start a thread reading it whole: (what it read, the thread)."""
    os.mkfifo(path)
    into: list[bytes] = []

    def reader() -> None:
        with open(path, "rb") as fh:
            into.append(fh.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    return into, thread


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_assess_writes_into_a_fifo_and_leaves_it_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    got, thread = _fifo_with_reader(fifo)
    proc = cli("assess", CASE, "--as-of", AS_OF, "--format", "json", "-o", str(fifo))
    thread.join(timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a file"
    assert json.loads(got[0])["case_id"] == "ec-h20-china-icc"
    assert [p.name for p in tmp_path.iterdir()] == ["out.fifo"], "a temporary file was left beside the FIFO"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_batch_streams_into_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    got, thread = _fifo_with_reader(fifo)
    line = json.dumps({"id": "x", "kind": "project", "name": "n"})
    proc = cli("batch", "--as-of", AS_OF, "-o", str(fifo), input=f"{line}\n{line}\n")
    thread.join(timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert len(got[0].splitlines()) == 2


def test_a_symlink_is_followed_and_its_target_replaced_atomically_keeping_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(target.name)
    write_output(b"new\n", str(link))
    assert link.is_symlink() and os.readlink(link) == "real.txt"
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640, "a replaced file keeps its mode"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "real.txt"]


def test_a_dangling_symlink_creates_the_file_it_names(tmp_path: Path) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to("made.txt")
    write_output(b"x\n", str(link))
    assert link.is_symlink() and (tmp_path / "made.txt").read_bytes() == b"x\n"


def test_a_symlink_to_a_fifo_is_written_through_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "f"
    got, thread = _fifo_with_reader(fifo)
    link = tmp_path / "l"
    link.symlink_to(fifo)
    write_output(b"through\n", str(link))
    thread.join(timeout=30)
    assert got == [b"through\n"] and link.is_symlink() and stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_a_new_file_gets_the_users_umask(tmp_path: Path, mask: int) -> None:
    old = os.umask(mask)
    try:
        assert current_umask() == mask
        out = tmp_path / f"new-{mask:o}.txt"
        write_output(b"x", str(out))
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~mask


def test_a_path_in_a_missing_directory_exits_2_naming_it_without_a_traceback(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x.txt"
    proc = cli("assess", CASE, "--as-of", AS_OF, "-o", str(target))
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert b"Traceback" not in proc.stderr
    assert f"{target}: /: cannot write output: the directory {target.parent} does not exist".encode() in proc.stderr
    assert not (tmp_path / "missing").exists()


def test_a_directory_as_output_is_refused_before_any_line_is_assessed(tmp_path: Path) -> None:
    lines = "".join(json.dumps({"id": f"c{i}", "kind": "project", "name": "n"}) + "\n" for i in range(300))
    proc = cli("batch", "--as-of", AS_OF, "-o", str(tmp_path), input=lines)
    assert proc.returncode == 2
    assert b"it is a directory" in proc.stderr and b"Traceback" not in proc.stderr
    assert b"assessed" not in proc.stderr, "the work ran before the output was checked"
    assert list(tmp_path.iterdir()) == [], "a temporary file was left behind"


def test_assess_to_a_directory_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["assess", CASE, "--as-of", AS_OF, "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "it is a directory" in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_an_unwritable_directory_is_refused_before_the_work(tmp_path: Path) -> None:
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o500)
    with pytest.raises(OutputError):
        check_output(str(locked / "x.txt"))


def test_a_unix_socket_is_refused(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        with pytest.raises(OutputError) as info:
            AtomicOutput(str(path))
    assert "socket" in info.value.first.message


def test_an_aborted_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "o.txt"
    out.write_text("old")
    sink = AtomicOutput(str(out))
    sink.write(b"half")
    sink.abort()
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["o.txt"]


def test_rules_docs_refuses_a_file_as_its_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "docs"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(main, ["rules", "docs", "-o", str(blocker / "sub")])
    assert result.exit_code == 2
    assert "cannot write output" in result.output


def test_an_internal_error_is_one_line_with_its_own_exit_code_and_debug_shows_the_traceback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.assessment.engine

    def broken(*_a: object, **_k: object) -> None:
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(engine.assessment.engine, "engine_for", broken)
    result = CliRunner().invoke(main, ["assess", CASE])
    assert result.exit_code == EXIT_INTERNAL == 70
    assert "airisk: internal_error: ZeroDivisionError: planted" in result.output
    assert "Traceback" not in result.output
    debug = CliRunner().invoke(main, ["--debug", "assess", CASE])
    assert debug.exit_code == 70 and "Traceback" in debug.output


def test_no_test_points_an_output_at_a_device() -> None:
    """A wrong sink pointed at a real device would break the machine running the tests."""
    devices = ["/dev/" + "null", "DEV" + "NULL", "/dev/" + "stdout", "/dev/" + "stderr", "/dev/" + "tty"]
    offenders = []
    for path in [*(ROOT / "tests").glob("*.py"), *(ROOT / "benchmarks").glob("*.py"), *(ROOT / "fuzz").glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: {d}" for d in devices if d in text]
    assert offenders == []
