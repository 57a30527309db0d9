"""The live counts of a batch run: the progress line on a terminal and the summary on stderr.

Hand-written rather than ``click.progressbar``: the bar shows live counts by level and errors,
tracks bytes read of a stream whose length may be unknown, and the summary line's exact text is
asserted by the CLI tests; click's bar prints its own layout and would change that output.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any

from engine.batch.records import UNRATED, Counts, merge_named
from engine.scale import MOST_SEVERE_FIRST as LEVELS


@dataclass
class Stats:
    """Live counts for the progress line and the summary."""

    lines: int = 0
    by_level: Counter[str] = field(default_factory=Counter)  # rating on the known facts
    by_worst: Counter[str] = field(default_factory=Counter)  # worst case over the unknown facts
    errors: int = 0
    restarts: int = 0
    retried_chunks: int = 0
    started: float = field(default_factory=time.perf_counter)
    bytes_read: int = 0
    waivers_used: set[int] = field(default_factory=set)  # waivers that covered a finding (stale reports)
    named: dict[str, list[list[Any]]] = field(default_factory=dict)  # Counts.named, over the run

    def add(self, counts: Counts) -> None:
        """Count the records of one chunk."""
        self.waivers_used |= counts.waivers_used
        self.by_level.update(counts.known)
        self.by_worst.update(counts.worst)
        self.errors += counts.errors
        self.lines += counts.lines
        merge_named(self.named, counts.named)

    def gate(self, fail_on: str | None, known_only: bool = False) -> bool:
        """Whether a --fail-on gate trips: some case's worst case over its unknown facts (or,
        with ``known_only``, its rating on the known facts) is at or above ``fail_on``."""
        if not fail_on:
            return False
        from engine.ruleset.model import LEVEL_ORDER

        levels = self.by_level if known_only else self.by_worst
        return any(n and lvl in LEVEL_ORDER and LEVEL_ORDER[lvl] >= LEVEL_ORDER[fail_on]
                   for lvl, n in levels.items())

    def rate(self) -> float:
        """Lines per second since the start."""
        elapsed = time.perf_counter() - self.started
        return self.lines / elapsed if elapsed > 0 else 0.0

    def summary(self) -> str:
        """The one-line summary written to stderr at the end of a run."""
        levels = ", ".join(f"{lvl} {self.by_level[lvl]}" for lvl in LEVELS)
        if self.by_level[UNRATED]:
            levels += f", not assessed {self.by_level[UNRATED]}"
        if self.by_worst and any(self.by_worst[lvl] != self.by_level[lvl] for lvl in LEVELS):
            levels += "; could be: " + ", ".join(f"{lvl} {self.by_worst[lvl]}" for lvl in LEVELS)
        elapsed = time.perf_counter() - self.started
        text = (f"airisk batch: {self.lines} lines, {self.lines - self.errors} assessed ({levels}), "
                f"{self.errors} errors, {self.rate():,.0f} cases/s, {elapsed:.1f} s")
        if self.restarts:
            # A worker should never die now that the matching core's retraction bug is avoided
            # (docs/durable-rules.md): a restart is an incident to report, not routine.
            text += (f"; INCIDENT: {self.restarts} worker(s) died and were restarted, {self.retried_chunks} "
                     "chunk(s) re-run on a new worker (please report this input)")
        return text


class Progress:
    """A one-line progress bar with live counts on a terminal's stderr."""

    def __init__(self, stats: Stats, total_bytes: int | None, stream: IO[str], enabled: bool) -> None:
        self.stats = stats
        self.total = total_bytes
        self.stream = stream
        self.enabled = enabled
        self.last = 0.0

    def update(self, force: bool = False) -> None:
        """Redraw the line (at most five times a second unless ``force``)."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self.last < 0.2:
            return
        self.last = now
        s = self.stats
        counts = " ".join(f"{lvl[:4]} {s.by_level[lvl]}" for lvl in LEVELS)
        if self.total:
            frac = min(1.0, s.bytes_read / self.total)
            bar = "#" * int(frac * 24)
            head = f"[{bar:<24}] {frac:4.0%}"
        else:
            head = "[streaming]"
        self.stream.write(f"\r\x1b[2K{head} {s.lines:,} lines | {counts} | errors {s.errors} "
                          f"| {s.rate():,.0f}/s")
        self.stream.flush()

    def finish(self) -> None:
        """End the line (on a terminal)."""
        if self.enabled:
            self.update(force=True)
            self.stream.write("\n")
            self.stream.flush()
