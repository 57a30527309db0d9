"""Output sinks: stdout, or a file written atomically (temp file + rename).

A crash, a kill or Ctrl-C never leaves a half-written file that looks complete:
the target is either its old content or the whole new output.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import IO


class AtomicOutput:
    """A binary sink: stdout, or a temp file in the target's directory renamed on success.

    On failure the temp file is removed, so the target is either absent (or
    its old content) or complete. ``keep_partial`` renames it to
    ``TARGET.partial`` instead (after Ctrl-C: what was done, clearly marked)."""

    def __init__(self, target: str | None) -> None:
        self.target = None if target is None or target == "-" else Path(target)
        self.tmp: Path | None = None
        if self.target is None:
            self.fh: IO[bytes] = sys.stdout.buffer
        else:
            import tempfile  # only a file target needs it (a cold start does not)

            directory = self.target.parent if str(self.target.parent) else Path(".")
            fd, tmp = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".tmp", dir=directory)
            self.tmp = Path(tmp)
            self.fh = os.fdopen(fd, "wb", buffering=1024 * 1024)

    def write(self, data: bytes) -> None:
        self.fh.write(data)

    def commit(self) -> None:
        if self.target is None or self.tmp is None:
            self.fh.flush()
            return
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.replace(self.tmp, self.target)
        self.tmp = None

    def abort(self, keep_partial: bool = False) -> Path | None:
        if self.target is None or self.tmp is None:
            with contextlib.suppress(OSError, ValueError):
                self.fh.flush()
            return None
        with contextlib.suppress(OSError):
            self.fh.close()
        kept = None
        if keep_partial:
            kept = self.target.with_name(self.target.name + ".partial")
            os.replace(self.tmp, kept)
        else:
            self.tmp.unlink(missing_ok=True)
        self.tmp = None
        return kept


def write_output(data: bytes, output: str | None) -> None:
    """Write ``data`` to stdout (None or '-') or atomically to the file ``output``."""
    sink = AtomicOutput(output)
    try:
        sink.write(data)
        sink.commit()
    except BaseException:
        sink.abort()
        raise
