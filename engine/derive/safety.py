"""Derived facts of the safety dimension: EU AI Act fine ceilings.

The ceilings come from ``rulesets/data/eu-penalties.yaml`` (figures and citation),
never from code. Each is the higher of a fixed amount and a share of worldwide
annual turnover; for SMEs and start-ups the lower (AI Act Art. 99(6)), except for
GPAI providers (Art. 101), where no SME rule exists. When SME status is unknown the
higher amount is given: it is a ceiling for every undertaking, and
``derived.eu_penalty_rule`` says so. Without a turnover nothing is derived.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from engine.source.resources import bundled

DATA_FILE = "eu-penalties.yaml"

# name -> (kind,) as engine.case.factspec expects; the lead's engine.derive.view merges these.
DERIVED_FIELDS: dict[str, tuple[str, ...]] = {
    "eu_penalty_art5_eur": ("number",),
    "eu_penalty_operator_eur": ("number",),
    "eu_penalty_information_eur": ("number",),
    "eu_penalty_gpai_eur": ("number",),
    "eu_penalty_rule": ("string",),
}

_RULE_TEXT = {
    True: "SME or start-up: the lower of the fixed amount and the turnover share (Art. 99(6))",
    False: "the higher of the fixed amount and the turnover share",
    None: "the higher of the fixed amount and the turnover share (SME status unknown: an upper bound)",
}


@lru_cache(maxsize=1)
def penalty_table() -> dict[str, dict[str, Any]]:
    """The fine ceilings by category (``art5``, ``operator``, ``information``, ``gpai``)."""
    import yaml  # only a case with a turnover reads the table

    path = bundled("rulesets/data") / DATA_FILE
    with path.open(encoding="utf-8") as fh:
        fines = yaml.safe_load(fh)["fines"]
    for name, row in fines.items():
        for key in ("fixed_eur", "turnover_share"):
            if isinstance(row.get(key), bool) or not isinstance(row.get(key), int | float):
                raise ValueError(f"{path}: fines.{name}.{key} must be a number")
    return dict(fines)


def ceiling(fixed_eur: float, turnover_share: float, turnover_eur: float, lower: bool) -> float:
    """The fine ceiling: the higher (or, for ``lower``, the lower) of the two amounts."""
    share = turnover_share * turnover_eur
    # Rounded to the cent: 0.07 × turnover is not exact in binary floating point.
    return round(float(min(fixed_eur, share) if lower else max(fixed_eur, share)), 2)


def derive(case: dict[str, Any], derived: dict[str, Any], items: dict[str, list[dict[str, Any]]]) -> None:
    """Add ``eu_penalty_*`` ceilings to ``derived`` when the turnover is known."""
    organisation = case.get("organisation") or {}
    turnover = organisation.get("worldwide_turnover_eur")
    if turnover is None:
        return
    sme = organisation.get("sme")
    for name, row in penalty_table().items():
        lower = sme is True and bool(row.get("sme_lower", True))
        derived[f"eu_penalty_{name}_eur"] = ceiling(row["fixed_eur"], row["turnover_share"], turnover, lower)
    derived["eu_penalty_rule"] = _RULE_TEXT[sme if isinstance(sme, bool) else None]
