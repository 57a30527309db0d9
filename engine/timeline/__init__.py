"""Time and change (issue 19): a case's rating over time (``History``, ``airisk timeline``), the
changes due after an assessment (``upcoming``, ``airisk assess --horizon``), and the impact of a
new date or a rule change on a portfolio (``engine.timeline.diff``, ``airisk diff``).

The names below load on first use, so that registering the commands (``engine.timeline.cli``)
costs the command line's start-up nothing."""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["DEFAULT_HORIZON", "Calendar", "Changes", "History", "change_days", "describe", "edge_days", "state_of",
           "step"]

_WHERE = {"Calendar": "dates", "Changes": "dates", "change_days": "dates", "edge_days": "dates",
          "DEFAULT_HORIZON": "timeline", "History": "timeline", "describe": "timeline", "state_of": "timeline",
          "step": "timeline"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"engine.timeline.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'engine.timeline' has no attribute {name!r}")
