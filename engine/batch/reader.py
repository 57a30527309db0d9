"""Reading JSON lines: a streaming, size-capped line reader and the feed that cuts chunks.

An oversize line is consumed in pieces and never held whole; ``LineFeed`` reads on a thread of
its own so that a slow or interactive input gets each record back as soon as it is assessed.
Standard library only (``airisk batch`` on a warm cache starts without pydantic or YAML).
"""

from __future__ import annotations

import collections
import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import IO, Protocol

DEFAULT_MAX_LINE_BYTES = 1024 * 1024
DEFAULT_CHUNK_LINES = 256
DEFAULT_CHUNK_BYTES = 1024 * 1024

_SKIP_PIECE = 64 * 1024

# One input line as it travels: its number and its bytes, or None when it was too long.
Line = tuple[int, bytes | None]


class ByteCount(Protocol):
    """Anything that counts the bytes read (``Stats``, for the progress bar)."""

    bytes_read: int


class CountingReader:
    """Counts bytes read (for the progress bar) around a binary stream."""

    def __init__(self, raw: IO[bytes], stats: ByteCount) -> None:
        self.raw = raw
        self.stats = stats

    def readline(self, limit: int = -1) -> bytes:
        """One line of at most ``limit`` bytes, counted."""
        line = self.raw.readline(limit)
        self.stats.bytes_read += len(line)
        return line


def read_lines(stream: IO[bytes] | CountingReader,
               max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[Line]:
    """(line number, bytes without the newline), or (n, None) for a line over the limit.

    An oversize line is consumed in 64 KiB pieces and never held whole."""
    n = 0
    readline = stream.readline
    while True:
        line = readline(max_line_bytes + 2)  # content + "\r\n"
        if not line:
            return
        n += 1
        if line.endswith(b"\n"):
            line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
            yield n, (line if len(line) <= max_line_bytes else None)
            continue
        if len(line) <= max_line_bytes:  # the last line, without a newline
            yield n, line
            return
        while True:
            piece = readline(_SKIP_PIECE)
            if not piece or piece.endswith(b"\n"):
                break
        yield n, None


def chunked(lines: Iterator[Line], max_lines: int = DEFAULT_CHUNK_LINES,
            max_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[list[Line]]:
    """Groups of lines, each at most ``max_lines`` lines or about ``max_bytes`` bytes."""
    chunk: list[Line] = []
    size = 0
    for item in lines:
        chunk.append(item)
        size += len(item[1] or b"")
        if len(chunk) >= max_lines or size >= max_bytes:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


class LineFeed:
    """Input lines read on a thread of their own, taken as chunks of whatever has arrived.

    A pipeline that feeds one case at a time and leaves its end open must get each record
    back without waiting for a full chunk or for the end of the input: the consumer never
    blocks on the input while results wait to be written, and a chunk is cut as soon as no
    further line has arrived. Lines held here are bounded (``max_pending`` bytes): the reader
    waits when the consumer falls behind. ``fileno()`` is readable whenever something may have
    arrived (for ``multiprocessing.connection.wait``)."""

    def __init__(self, lines: Iterator[Line], max_pending: int = 4 * DEFAULT_CHUNK_BYTES) -> None:
        self._lines = lines
        self._pending: collections.deque[Line] = collections.deque()
        self._bytes = 0
        self._limit = max_pending
        self._done = False
        self._closed = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._thread = threading.Thread(target=self._read, name="airisk-batch-input", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for item in self._lines:
                size = len(item[1] or b"") + 64
                with self._cond:
                    while self._bytes > self._limit and not self._closed:
                        self._cond.wait()
                    if self._closed:
                        return
                    self._pending.append(item)
                    self._bytes += size
                    self._signal()
        except BaseException as exc:  # handed to the consumer, which raises it
            self._error = exc
        finally:
            with self._cond:
                self._done = True
                self._signal()
                self._cond.notify_all()

    def _signal(self) -> None:
        # Under the lock, so that the descriptor is never written once close() has freed its number.
        if not self._closed:
            with contextlib.suppress(BlockingIOError):  # full: a wake-up is already waiting
                os.write(self._wake_w, b"!")
            self._cond.notify_all()

    def fileno(self) -> int:
        """A descriptor that is readable whenever a line may have arrived."""
        return self._wake_r

    def take(self, max_lines: int, max_bytes: int = DEFAULT_CHUNK_BYTES, *, wait: bool = False) -> list[Line] | None:
        """Up to ``max_lines`` lines (about ``max_bytes``) of those that have arrived; ``[]`` when
        none has yet (``wait``: block until one has); None once the input has ended and every
        line was taken. An error reading the input is raised here."""
        with self._cond:
            if self._closed:
                return None
            with contextlib.suppress(BlockingIOError):  # under the lock: close() frees the descriptor
                while os.read(self._wake_r, 4096):
                    pass
            while wait and not self._pending and not self._done:
                self._cond.wait()
            if not self._pending:
                if self._done:
                    if self._error is not None:
                        raise self._error
                    return None
                return []
            chunk: list[Line] = []
            size = 0
            while self._pending and len(chunk) < max_lines and size < max_bytes:
                item = self._pending.popleft()
                chunk.append(item)
                n = len(item[1] or b"") + 64
                size += n
                self._bytes -= n
            self._cond.notify_all()
            return chunk

    def chunks(self, max_lines: int, max_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[list[Line]]:
        """Chunks in order, each as soon as at least one line has arrived."""
        while (chunk := self.take(max_lines, max_bytes, wait=True)) is not None:
            yield chunk

    def finished(self, timeout: float = 0) -> bool:
        """Whether the reading thread has ended (after waiting up to ``timeout`` seconds)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close(self) -> None:
        """Stop taking lines. The thread ends at its next line (one blocked reading an open
        pipe stays blocked: it is a daemon thread, and owns nothing the process still uses)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
            os.close(self._wake_r)
            os.close(self._wake_w)


def own_stdin() -> IO[bytes]:
    """A reader of its own over standard input (a duplicate descriptor), for the input thread.

    Interpreter shutdown closes ``sys.stdin``; if a daemon thread were blocked inside its buffer
    (stdin left open), that close could not take the buffer's lock and Python aborts. A private
    reader is never touched at shutdown. Without a real descriptor (an in-memory stdin), stdin."""
    try:
        fd = os.dup(sys.stdin.fileno())
    except (AttributeError, OSError, ValueError):
        return sys.stdin.buffer
    return os.fdopen(fd, "rb", buffering=1 << 16)
