"""The case: one AI project or one compute facility, as a compliance analyst
describes it. The pydantic models here are the source of truth for the case
format; ``schemas/case.schema.json`` is generated from them.

Every field is optional except ``id``, ``kind`` and ``name``: an absent fact is
*unknown*, and rules that needed it are reported as "needs information".
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from engine.case.export import Accelerator, ExportTransaction, FabSupport, FoundryOrder, HBMStack, Materials
from engine.case.facility import Facility
from engine.case.safety import AISystem, DataProfile, Organisation
from engine.case.types import STRICT_MODEL, CaseId, Country, Flag, Fraction, Name, Text

MAX_ITEMS = 256


class Location(BaseModel):
    """Where the project runs or the facility stands."""

    model_config = STRICT_MODEL

    country: Country | None = None
    province: Name | None = Field(None, description="province or region, e.g. 'Guizhou', 'Ningxia'")
    city: Name | None = None
    hub_node: Name | None = Field(None, description="declared national hub node, if any")
    cluster: Name | None = Field(None, description="declared national data-centre cluster, if any")


class ListFlags(BaseModel):
    """Restricted-party screening results for one party (true = listed)."""

    model_config = STRICT_MODEL

    entity_list: Flag | None = None
    military_end_user_list: Flag | None = None
    sdn: Flag | None = None
    unverified_list: Flag | None = None
    unreliable_entity_list: Flag | None = Field(None, description="PRC MOFCOM Unreliable Entity List")
    listed_owner_share: Fraction | None = Field(
        None, description="combined ownership share held by Entity List / MEU parties (Affiliates Rule)"
    )


class Owner(ListFlags):
    """Who owns or operates the project or facility."""

    name: Name | None = None
    headquarters_country: Country | None = None
    ultimate_parent: Name | None = None
    ultimate_parent_country: Country | None = None
    ownership: Literal["state", "private", "mixed"] | None = None


class Party(ListFlags):
    """A buyer, end user, supplier, consignee or other party to the case."""

    name: Name
    role: Literal["buyer", "end_user", "consignee", "supplier", "intermediary", "cloud_customer", "operator"]
    country: Country | None = None
    headquarters_country: Country | None = None
    ultimate_parent_country: Country | None = None
    military_end_use: Flag | None = None


class Case(BaseModel):
    """One AI project or compute facility to assess."""

    model_config = STRICT_MODEL

    id: CaseId = Field(description="stable case identifier")
    kind: Literal["project", "facility"]
    name: Name
    description: Text | None = None
    location: Location | None = None
    owner: Owner | None = None
    organisation: Organisation | None = None
    parties: list[Party] | None = Field(None, max_length=MAX_ITEMS)
    accelerators: list[Accelerator] | None = Field(None, max_length=MAX_ITEMS)
    hbm: list[HBMStack] | None = Field(None, max_length=MAX_ITEMS)
    export: ExportTransaction | None = None
    fab_support: FabSupport | None = None
    foundry: FoundryOrder | None = None
    materials: Materials | None = None
    ai_system: AISystem | None = None
    data: DataProfile | None = None
    facility: Facility | None = None
    tags: list[Name] | None = Field(None, max_length=64)
    us_person_involved: Flag | None = Field(None, description="US persons (incl. US companies) involved in the project")
