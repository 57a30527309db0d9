"""Helpers for tests that start airisk in a child process and signal it."""

from __future__ import annotations

import signal


def default_signals() -> None:
    """``preexec_fn`` of a child the test will signal: SIGINT, SIGHUP and SIGTERM as in a terminal,
    whatever the test runner was started with. A background job of a script (``cmd &``) inherits
    SIGINT ignored, and ``nohup`` SIGHUP; airisk keeps an inherited ignore, as POSIX tools do."""
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def hangup_ignored() -> None:
    """``preexec_fn`` of a child started as ``nohup`` starts it: SIGHUP ignored, the rest default."""
    default_signals()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
