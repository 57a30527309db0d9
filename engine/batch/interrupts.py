"""Stopping a batch run cleanly: Ctrl-C, SIGTERM and SIGHUP, and a reader that closed stdout.

The output always ends on a whole line: Ctrl-C is held back while a chunk is written, and
SIGTERM or SIGHUP stop the run as Ctrl-C does (what is done is written, in order).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
    """Block SIGINT in this (main) thread for the duration; it is delivered right after."""
    can = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    if can:
        signal.pthread_sigmask(signal.SIG_BLOCK, set(STOP_SIGNALS))
    try:
        yield
    finally:
        if can:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, set(STOP_SIGNALS))


class _Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled as Ctrl-C is (the runner and the loop below stop on KeyboardInterrupt)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def stop_signals_interrupt(received: list[int]) -> Iterator[None]:
    """While running, SIGTERM and SIGHUP raise KeyboardInterrupt like SIGINT; ``received`` gets the number.

    A signal the process was started with ignored stays ignored (``nohup airisk batch …`` keeps
    running when its terminal hangs up; a background job of a script ignores SIGINT), as POSIX
    tools do."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        received.append(signum)
        raise _Stopped(signum)

    previous = {}
    for sig in STOP_SIGNALS:
        if sig != signal.SIGINT and signal.getsignal(sig) is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def silence_stdout() -> None:
    """After the reader closed stdout: point fd 1 at nothing, so exit-time flushes cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)


def stop_reason(received: list[int]) -> str:
    """How the run was stopped, for the summary: the first stop signal received, or Ctrl-C."""
    if not received:
        return "interrupted"
    return {int(getattr(signal, "SIGTERM", 15)): "terminated (SIGTERM)",
            int(getattr(signal, "SIGHUP", 1)): "hung up (SIGHUP)"}.get(received[0], "interrupted")
