"""Case section used by the overcapacity dimension: an intelligent-computing
facility's operations, siting, financing and market.

Fractions are 0..1 (0.25, not 25). Absent means unknown: a missing utilisation
figure lowers the stated confidence and is listed, it is never read as
"healthy". Market figures (rents) are the facility's own current figures; the
rules compare them with dated market observations.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from engine.case.types import STRICT_MODEL, Count, Flag, Fraction, NonNegative, Positive

FinancingSource = Literal[
    "local_government", "lgfv", "soe", "telecom", "state_bank", "private", "listed_company"
]


class Facility(BaseModel):
    """Operations of a data centre or computing cluster."""

    model_config = STRICT_MODEL

    size_class: Literal["small", "medium", "large", "hyperscale"] | None = Field(
        None,
        description=(
            "data-centre size class as stated in the project's filing or approval (the 2021 hub plan "
            "and the December 2023 computing-network opinion name large and hyperscale)"
        ),
    )
    new_build: Flag | None = Field(
        None, description="built or approved after the 2021 hub plan (a new data centre)"
    )
    it_power_mw: NonNegative | None = Field(None, description="built IT load, MW")
    contracted_power_mw: NonNegative | None = Field(None, description="IT load contracted by tenants, MW")
    it_power_mw_12m_ago: NonNegative | None = Field(
        None, description="built IT load 12 months before the reported it_power_mw, MW (0 if nothing was built)"
    )
    contracted_power_mw_12m_ago: NonNegative | None = Field(
        None, description="IT load contracted by tenants 12 months before the reported contracted_power_mw, MW"
    )
    racks_built: Count | None = None
    rack_occupancy: Fraction | None = Field(None, description="share of built racks in use (policy metric)")
    accelerator_utilisation: Fraction | None = Field(
        None, description="average share of accelerator capacity in use over the last reported period"
    )
    hub_average_accelerator_utilisation: Fraction | None = Field(
        None,
        description=(
            "average compute-resource (accelerator) utilisation of the facility's hub node, as published "
            "for the same period (0..1); give its date in average_utilisation_as_of"
        ),
    )
    national_average_accelerator_utilisation: Fraction | None = Field(
        None,
        description=(
            "national average compute-resource (accelerator) utilisation, as published for the same "
            "period (0..1); give its date in average_utilisation_as_of"
        ),
    )
    average_utilisation_as_of: dt.date | None = Field(
        None, description="observation date of the stated hub and national average utilisation"
    )
    pue: Positive | None = Field(None, description="power usage effectiveness (≥ 1.0)")
    green_power_share: Fraction | None = Field(
        None, description="share of electricity from renewable sources"
    )
    workload: Literal["training", "inference", "mixed"] | None = None
    latency_to_demand_ms: NonNegative | None = Field(
        None, description="network latency to the main users it serves, ms"
    )
    financing: list[FinancingSource] | None = Field(
        None, max_length=8, description="who financed the build; lgfv = local-government financing vehicle"
    )
    anchor_tenant_share: Fraction | None = Field(
        None, description="share of capacity under contract with anchor tenants"
    )
    local_incentives: Flag | None = Field(
        None, description="land, tax or power incentives from local government"
    )
    domestic_chip_power_subsidy: Flag | None = Field(
        None, description="receives a provincial electricity subsidy for using domestic AI chips"
    )
    state_funded: Flag | None = Field(None, description="a state-funded project")
    completion_share: Fraction | None = Field(None, description="share of construction complete")
    commissioning_date: dt.date | None = None
    rent_8gpu_h100_server_rmb_month: NonNegative | None = Field(
        None, description="rent the facility obtains for an 8-GPU H100-class server, RMB a month"
    )
    rent_gpu_hour_usd: NonNegative | None = Field(None, description="rent per H100-class GPU-hour, USD")
    accelerator_age_years: NonNegative | None = Field(
        None, description="average age of the installed accelerators, years"
    )
    connected_to_national_monitoring: Flag | None = Field(
        None, description="reports automatically to the national/provincial compute-monitoring platform"
    )
    connected_to_scheduling_platform: Flag | None = Field(
        None,
        description=(
            "connected to the national compute scheduling service (the China Computing Power Platform or "
            "a provincial sub-platform), so that its capacity can be scheduled for outside users"
        ),
    )
    shared_capacity_offered: Flag | None = Field(
        None,
        description=(
            "offers part of its capacity to other users through compute pooling or sharing (the scheduling "
            "platform, a compute-sharing market or a pooled-capacity scheme), not only to its own tenants"
        ),
    )
    electricity_price_rmb_kwh: NonNegative | None = None
