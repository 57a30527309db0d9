"""Case sections used by the export-control dimension: accelerators, the export
transaction, US-person fab support, foundry orders and critical minerals.

Fractions are 0..1 (not percentages). Bandwidths are GB/s. Absent means unknown.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from engine.case.types import STRICT_MODEL, Code, Count, Country, Flag, Fraction, Name, NonNegative, Positive, Text


class PerformanceFigure(BaseModel):
    """One datasheet throughput figure: TOPS (or TFLOPS) at an operand bit length."""

    model_config = STRICT_MODEL

    tops: Positive = Field(description="TOPS or TFLOPS as printed on the datasheet")
    bit_length: Annotated[int, Field(ge=1, le=128, strict=True)] = Field(
        description="operand bits, e.g. 8 for INT8/FP8")
    sparsity: Flag = Field(False, description="true if the figure is quoted 'with sparsity' (it is halved)")


class Accelerator(BaseModel):
    """One line of accelerators (GPUs, NPUs, AI ASICs) held, bought or shipped.

    Give either datasheet figures (``datasheet``) or a
    stated ``tpp``; the engine derives TPP and performance density from them
    (see ``derived`` in the assessment)."""

    model_config = STRICT_MODEL

    model: Name
    vendor: Name | None = None
    count: Count = Field(description="number of units on this line")
    designer_country: Country | None = Field(None, description="country of the chip's designer, e.g. CN for Huawei")
    datasheet: list[PerformanceFigure] | None = Field(
        None, description="datasheet throughput figures, one per precision; TPP is the highest", max_length=16
    )
    tpp: NonNegative | None = Field(None, description="total processing performance, if stated rather than derived")
    die_area_mm2: Positive | None = Field(None, description="applicable logic die area, HBM excluded")
    non_planar: Flag | None = Field(None, description="logic die on a FinFET/GAA (non-planar) node")
    dram_bandwidth_gbps: NonNegative | None = Field(None, description="total DRAM bandwidth, GB/s")
    interconnect_gbps: NonNegative | None = Field(None, description="aggregate bidirectional I/O, GB/s")
    designed_for_datacenter: Flag | None = None
    marketed_for_datacenter: Flag | None = None
    transistors_billion: NonNegative | None = None
    has_hbm: Flag | None = None
    installed: Flag | None = Field(None, description="already installed (existing installed base)")
    licence_held: Flag | None = None
    commercially_available_in_us: Flag | None = Field(
        None, description="commercially available in the United States on 2026-01-15, when 91 FR 1684 was published")
    system: Name | None = Field(None, description="server or system this line is part of (e.g. 'HGX H100')")


class HBMStack(BaseModel):
    """High-bandwidth memory sold or shipped as an item (ECCN 3A090.c)."""

    model_config = STRICT_MODEL

    model: Name
    count: Count
    bandwidth_density_gbps_mm2: NonNegative | None = Field(None, description="memory bandwidth density, GB/s/mm²")
    co_packaged_with_logic: Flag | None = None


class ExportTransaction(BaseModel):
    """The shipment or transfer being assessed, if any."""

    model_config = STRICT_MODEL

    destination_country: Country | None = None
    exporter_country: Country | None = None
    transaction_type: Literal["export", "reexport", "in_country_transfer"] | None = Field(
        None, description="export from the US; reexport from one foreign country to another; or transfer "
        "within one foreign country")
    exported_from_us: Flag | None = None
    us_nexus: Flag | None = Field(None, description="US-origin items, US persons or US-made equipment involved")
    us_third_party_tested: Flag | None = None
    china_volume_share_of_us: NonNegative | None = Field(
        None, description="China shipment volume as a share of US volume (0.5 = 50%)"
    )
    buyer_kyc_done: Flag | None = None
    licence_held: Flag | None = None
    licence_exception: Literal["NAC", "ACA", "HBM", "none"] | None = None
    end_use: Code | None = Field(None, description="e.g. 'ai_training', 'military', 'wmd', 'inference'")
    via_cloud: Flag | None = None
    wmd_or_military_intelligence_training: Flag | None = None


class FabSupport(BaseModel):
    """US-person support to a fab (EAR §744.6(c)(2))."""

    model_config = STRICT_MODEL

    us_person_support: Flag | None = None
    fab_country: Country | None = None
    logic_node_nm: Positive | None = None
    non_planar_logic: Flag | None = None
    nand_layers: Count | None = None
    dram_half_pitch_nm: Positive | None = None
    ownership: Literal["prc", "multinational"] | None = None
    fab_operator: Literal["samsung", "sk_hynix", "intel_dalian", "other"] | None = Field(
        None, description="who runs the fab: Samsung (Xi'an), SK hynix (Wuxi, Dalian), Intel's former Dalian fab, "
        "or another operator")
    ear_items_supplied: Flag | None = Field(
        None, description="items subject to the EAR (tools, parts, software, technology) are shipped to the fab")


class FoundryOrder(BaseModel):
    """A fab or OSAT producing a customer's logic die (foundry due-diligence rule)."""

    model_config = STRICT_MODEL

    role: Literal["foundry", "osat"] | None = None
    transistors_billion: NonNegative | None = None
    has_hbm: Flag | None = None
    approved_designer_attestation: Flag | None = None
    customer_country: Country | None = None


class Materials(BaseModel):
    """Critical minerals and rare earths in the project's inputs or exports."""

    model_config = STRICT_MODEL

    contains: list[Code] | None = Field(
        None,
        description="minerals present: gallium, germanium, graphite, antimony, superhard, samarium, "
        "gadolinium, terbium, dysprosium, lutetium, scandium, yttrium, lithium_battery, graphite_anode",
        max_length=64,
    )
    sourced_from_china: Flag | None = None
    exported_from_china: Flag | None = None
    china_rare_earth_value_share: Fraction | None = None
    made_with_chinese_rare_earth_technology: Flag | None = None
    destination_country: Country | None = None
    us_military_end_user: Flag | None = None
    us_military_end_use: Flag | None = Field(
        None,
        description="the items will serve a military end use in or for the United States, whoever the buyer is "
        "(MOFCOM Announcement No. 46 [2024] Art. 1 bars dual-use exports to US military users or military uses)",
    )
    notes: Text | None = None
