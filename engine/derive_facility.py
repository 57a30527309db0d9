"""Facility-level derived facts for the overcapacity ruleset.

Called once per case, before matching, with the case as a plain dict (absent
fields omitted), the case-level ``derived`` dict to add keys to, and the
per-item derived dicts (unused here). Adds:

- ``derived.contracted_power_share``: contracted IT load ÷ built IT load
  (``facility.contracted_power_mw / facility.it_power_mw``). Absent — so rules
  on it are "needs information" — when either figure is unknown or nothing is
  built (0 MW, or a load so small that the share overflows). Not capped: an
  over-contracted facility has a share above 1.
"""

from __future__ import annotations

import math
from typing import Any

# name -> kind, for the rule validator (see engine.derive)
DERIVED_FIELDS: dict[str, tuple[str, ...]] = {"contracted_power_share": ("number",)}


def derive(case: dict[str, Any], derived: dict[str, Any], items: dict[str, list[dict[str, Any]]]) -> None:
    """Add the facility-level derived keys to ``derived`` (in place)."""
    facility = case.get("facility") or {}
    built = facility.get("it_power_mw")
    contracted = facility.get("contracted_power_mw")
    if built is not None and contracted is not None and built > 0:
        share = contracted / built
        # A vanishing built load (e.g. 5e-324 MW) overflows to infinity, which no
        # comparison in the matching core accepts: treat it like 0 MW, unknown.
        if math.isfinite(share):
            derived["contracted_power_share"] = share
