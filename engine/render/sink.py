"""Output sinks: stdout, a file replaced atomically, or a FIFO or device written directly.

What ``--output PATH`` does depends on what PATH is, decided once, before any work:

- a new path, or a regular file: the output goes to a temporary file beside it,
  renamed over PATH on success. A crash, a kill or Ctrl-C never leaves a
  half-written file that looks complete: PATH has its old content or the whole
  new output. A new file gets mode ``0666 & ~umask``, like every Unix tool; a
  replaced file keeps its mode.
- a symbolic link: followed. The file it points to is replaced atomically (the
  link stays a link); a link to a FIFO or device is written directly, so
  ``-o /dev/stdout`` works.
- a FIFO or character device (``/dev/null``, a terminal): written directly, never
  replaced. Renaming a file over ``/dev/null`` would break the machine for every
  other process.
- a directory, a block device, a socket, or a path whose directory is missing or
  not writable: ``OutputError`` naming the path (exit 2), before any work starts,
  and nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path
from typing import IO

from engine.errors import AiriskError, Problem


class OutputError(AiriskError):
    """An output path that cannot be written (exit code 2)."""


def _refuse(path: str, why: str, hint: str | None = None) -> OutputError:
    return OutputError(Problem(message=f"cannot write output: {why}", file=path, code="output_error", hint=hint))


def current_umask() -> int:
    """The process umask, read without changing it where /proc allows."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # pragma: no cover - systems without /proc/self/status
    os.umask(mask)  # pragma: no cover
    return mask  # pragma: no cover


def _plan(target: str) -> tuple[str, str, int | None]:
    """How to write ``target``: ("replace", final path, mode to keep or None) or ("direct", path, None)."""
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return _new_path(target, target)
    except OSError as exc:
        raise _refuse(target, exc.strerror or str(exc)) from None
    if stat.S_ISLNK(st.st_mode):
        try:
            st = os.stat(target)  # what the link leads to (also /dev/stdout's magic links)
        except FileNotFoundError:
            return _new_path(target, os.path.realpath(target))  # a dangling link: create what it names
        except OSError as exc:
            raise _refuse(target, exc.strerror or str(exc)) from None
        if stat.S_ISREG(st.st_mode):
            return "replace", os.path.realpath(target), stat.S_IMODE(st.st_mode)
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return "replace", target, stat.S_IMODE(mode)
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return "direct", target, None
    if stat.S_ISDIR(mode):
        raise _refuse(target, "it is a directory", "name a file inside it")
    kind = "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
    raise _refuse(target, f"it is {kind}", "airisk writes to regular files, FIFOs and character devices")


def _new_path(shown: str, final: str) -> tuple[str, str, int | None]:
    directory = os.path.dirname(final) or "."
    try:
        st = os.stat(directory)
    except FileNotFoundError:
        raise _refuse(shown, f"the directory {directory} does not exist", "create it first") from None
    except OSError as exc:
        raise _refuse(shown, f"{directory}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise _refuse(shown, f"{directory} is not a directory")
    return "replace", final, None


class AtomicOutput:
    """A binary sink for stdout (None or '-') or ``target`` (see the module doc for what each kind of
    path gets). Construct it before the work: a path that cannot be written raises ``OutputError``.

    ``commit`` publishes the output; ``abort`` removes it, or with ``keep_partial`` renames
    it to ``TARGET.partial`` (after Ctrl-C: what was done, clearly marked)."""

    def __init__(self, target: str | None) -> None:
        self.target = None if target is None or target == "-" else Path(target)
        self.tmp: Path | None = None
        self.final: Path | None = None
        self.mode: int | None = None
        if self.target is None:
            self.fh: IO[bytes] = sys.stdout.buffer
            return
        shown = str(self.target)
        how, final, self.mode = _plan(shown)
        try:
            if how == "direct":
                self.fh = open(final, "wb", buffering=0)  # noqa: SIM115 - closed by commit/abort
                return
            import tempfile  # only a file target needs it (a cold start does not)

            self.final = Path(final)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.final.name}.", suffix=".tmp", dir=self.final.parent)
        except OSError as exc:
            raise _refuse(shown, exc.strerror or str(exc)) from None
        self.tmp = Path(tmp)
        self.fh = os.fdopen(fd, "wb", buffering=1024 * 1024)

    @property
    def direct(self) -> bool:
        """True when the output goes straight to stdout, a FIFO or a device (no temp file)."""
        return self.tmp is None and self.final is None

    def write(self, data: bytes) -> None:
        """Append bytes to the output (the temporary file, or stdout)."""
        self.fh.write(data)

    def flush(self) -> None:
        """Flush what was written (a direct output: the reader sees it now)."""
        self.fh.flush()

    def commit(self) -> None:
        """Finish: put the temporary file in place of the target (atomically), or flush stdout."""
        if self.target is None:
            self.fh.flush()
            return
        if self.tmp is None or self.final is None:  # a FIFO or device, written directly
            with contextlib.suppress(OSError):
                self.fh.flush()
            self.fh.close()
            return
        self.fh.flush()
        os.fchmod(self.fh.fileno(), self.mode if self.mode is not None else 0o666 & ~current_umask())
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.replace(self.tmp, self.final)
        self.tmp = None

    def abort(self, keep_partial: bool = False) -> Path | None:
        """Give up: remove the temporary file, or with ``keep_partial`` keep what was written
        beside the target; the path of what was kept, if anything."""
        if self.tmp is None or self.final is None:
            with contextlib.suppress(OSError, ValueError):
                self.fh.flush()
            if self.target is not None:
                with contextlib.suppress(OSError):
                    self.fh.close()
            return None
        with contextlib.suppress(OSError):
            self.fh.close()
        kept = None
        if keep_partial:
            kept = self.final.with_name(self.final.name + ".partial")
            with contextlib.suppress(OSError):
                os.chmod(self.tmp, 0o666 & ~current_umask())
            os.replace(self.tmp, kept)
        else:
            self.tmp.unlink(missing_ok=True)
        self.tmp = None
        return kept


def write_output(data: bytes, output: str | None) -> None:
    """Write ``data`` to stdout (None or '-') or to ``output`` (see ``AtomicOutput``)."""
    sink = AtomicOutput(output)
    try:
        sink.write(data)
        sink.commit()
    except BaseException:
        sink.abort()
        raise


def check_output(output: str | None) -> None:
    """Raise ``OutputError`` now if ``output`` could not be written (no file is created)."""
    if output is None or output == "-":
        return
    how, final, _ = _plan(output)
    if how == "replace":
        directory = os.path.dirname(final) or "."
        if not os.access(directory, os.W_OK | os.X_OK):
            raise _refuse(output, f"the directory {directory} is not writable")
