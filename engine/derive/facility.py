"""Facility-level derived facts for the overcapacity ruleset.

Called once per case, before matching, with the case as a plain dict (absent
fields omitted), the case-level ``derived`` dict to add keys to, and the
per-item derived dicts (unused here). Every key is absent — so rules on it are
"needs information" — when a figure it needs is unknown. Adds:

- ``derived.contracted_power_share``: contracted IT load ÷ built IT load
  (``facility.contracted_power_mw / facility.it_power_mw``). Absent when nothing
  is built (0 MW, or a load so small that the share overflows). Not capped: an
  over-contracted facility has a share above 1.
- ``derived.buildout_share_12m``: the share of today's built IT load that was
  added in the last 12 months, ``(it_power_mw − it_power_mw_12m_ago) ÷
  it_power_mw``; 1 for a facility built from nothing within the year, negative
  if the built load shrank. Absent when nothing is built today.
- ``derived.buildout_contracted_share_12m``: the share of that added load that
  new tenant contracts took up, ``max(0, contracted_power_mw −
  contracted_power_mw_12m_ago) ÷ (it_power_mw − it_power_mw_12m_ago)``. Lost
  contracts count as none taken up (0), so the share only falls as either
  figure worsens. Absent unless the built load grew.
- ``derived.utilisation_gap_to_hub_average`` and
  ``derived.utilisation_gap_to_national_average``: accelerator utilisation minus
  the hub-node or national average the case states (negative: below average).
"""

from __future__ import annotations

import math
from typing import Any

# name -> kind, for the rule validator (see engine.derive.view)
DERIVED_FIELDS: dict[str, tuple[str, ...]] = {
    "contracted_power_share": ("number",),
    "buildout_share_12m": ("number",),
    "buildout_contracted_share_12m": ("number",),
    "utilisation_gap_to_hub_average": ("number",),
    "utilisation_gap_to_national_average": ("number",),
}


def _put_ratio(derived: dict[str, Any], key: str, numerator: float, denominator: float) -> None:
    # A vanishing denominator (e.g. 5e-324 MW) overflows to infinity, which no
    # comparison in the matching core accepts: treat it like 0 MW, unknown.
    if denominator > 0:
        ratio = numerator / denominator
        if math.isfinite(ratio):
            derived[key] = ratio


def derive(case: dict[str, Any], derived: dict[str, Any], items: dict[str, list[dict[str, Any]]]) -> None:
    """Add the facility-level derived keys to ``derived`` (in place)."""
    facility = case.get("facility") or {}
    built = facility.get("it_power_mw")
    contracted = facility.get("contracted_power_mw")
    if built is not None and contracted is not None:
        _put_ratio(derived, "contracted_power_share", contracted, built)

    built_before = facility.get("it_power_mw_12m_ago")
    if built is not None and built_before is not None:
        added = built - built_before
        _put_ratio(derived, "buildout_share_12m", added, built)
        contracted_before = facility.get("contracted_power_mw_12m_ago")
        if contracted is not None and contracted_before is not None:
            _put_ratio(derived, "buildout_contracted_share_12m", max(0.0, contracted - contracted_before), added)

    utilisation = facility.get("accelerator_utilisation")
    if utilisation is not None:
        for average, key in (("hub_average_accelerator_utilisation", "utilisation_gap_to_hub_average"),
                             ("national_average_accelerator_utilisation", "utilisation_gap_to_national_average")):
            if facility.get(average) is not None:
                derived[key] = utilisation - facility[average]
