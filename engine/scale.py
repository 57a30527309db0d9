"""The one definition of the rating scale and the dimensions.

Every module that names a level, a severity or a dimension takes it from here: the ruleset
schema, the result model, scoring, bounds, the CLI's choices, batch summaries and the renderers.
The ``Literal`` types are the source; the tuples and orders are derived from them, so they
cannot disagree.
"""

from __future__ import annotations

from typing import Literal, get_args

Level = Literal["low", "medium", "high", "critical"]
Severity = Literal["info", "low", "medium", "high", "critical"]
Dimension = Literal["safety", "export_control", "overcapacity"]

LEVELS: tuple[Level, ...] = get_args(Level)
"""Levels from least to most severe."""
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
"""Finding severities from least to most severe; ``info`` ranks below every level."""
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)
"""The three dimensions, in the order results list them."""

LEVEL_ORDER: dict[str, int] = {level: rank for rank, level in enumerate(LEVELS)}
SEVERITY_ORDER: dict[str, int] = {severity: rank - 1 for rank, severity in enumerate(SEVERITIES)}
GRADED_LEVELS: tuple[Level, ...] = LEVELS[1:]
"""The levels a dimension's point thresholds name (``low`` is below the first threshold)."""
MOST_SEVERE_FIRST: tuple[Level, ...] = tuple(reversed(LEVELS))
