"""Time and change (issue 19): a case's rating over time (``History``, ``airisk timeline``), the
changes due after an assessment (``upcoming``, ``airisk assess --horizon``), and the impact of a
new date or a rule change on a portfolio (``engine.timeline.diff``, ``airisk diff``)."""

from __future__ import annotations

from engine.timeline.dates import Calendar, Changes, change_days, edge_days
from engine.timeline.timeline import DEFAULT_HORIZON, History, describe, state_of, step

__all__ = ["DEFAULT_HORIZON", "Calendar", "Changes", "History", "change_days", "describe", "edge_days", "state_of",
           "step"]
