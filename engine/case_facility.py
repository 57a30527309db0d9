"""Case section used by the overcapacity dimension: an intelligent-computing
facility's operations, siting, financing and market.

Fractions are 0..1. Absent means unknown: a missing utilisation figure lowers
the stated confidence, it is never read as "healthy".
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from engine.types import STRICT_MODEL, Count, Flag, Fraction, NonNegative, Positive


class Facility(BaseModel):
    """Operations of a data centre or computing cluster."""

    model_config = STRICT_MODEL

    size_class: Literal["small", "medium", "large", "hyperscale"] | None = None
    new_build: Flag | None = None
    it_power_mw: NonNegative | None = None
    contracted_power_mw: NonNegative | None = Field(None, description="IT load contracted by tenants, MW")
    racks_built: Count | None = None
    rack_occupancy: Fraction | None = None
    accelerator_utilisation: Fraction | None = None
    pue: Positive | None = Field(None, description="power usage effectiveness (≥ 1.0)")
    green_power_share: Fraction | None = None
    workload: Literal["training", "inference", "mixed"] | None = None
    latency_to_demand_ms: NonNegative | None = None
    financing: list[Literal["local_government", "lgfv", "soe", "telecom", "state_bank", "private", "listed_company"]] | None = (
        Field(None, max_length=8)
    )
    anchor_tenant_share: Fraction | None = Field(None, description="share of capacity under contract with anchor tenants")
    local_incentives: Flag | None = Field(None, description="land, tax or power incentives from local government")
    domestic_chip_power_subsidy: Flag | None = None
    state_funded: Flag | None = None
    completion_share: Fraction | None = None
    commissioning_date: dt.date | None = None
    rent_8gpu_h100_server_rmb_month: NonNegative | None = None
    rent_gpu_hour_usd: NonNegative | None = None
    accelerator_age_years: NonNegative | None = None
    connected_to_national_monitoring: Flag | None = None
    electricity_price_rmb_kwh: NonNegative | None = None
