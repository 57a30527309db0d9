"""Derived facts, computed once in Python before matching and shown in the output.

The view a rule sees is the case as a plain dict (absent fields omitted) with a
``derived`` mapping at the top and one inside each list item. Domain modules
(``engine.derive_export``, ``engine.derive.safety``, ``engine.derive.facility``)
may add more: each defines ``derive(case, derived, items)`` and declares what it
adds in ``DERIVED_FIELDS`` / ``ITEM_DERIVED_FIELDS`` so the rule validator knows
the paths.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import sys
from collections.abc import Callable
from functools import lru_cache
from types import ModuleType
from typing import Any

from engine.source.tables import accelerators as accelerator_table
from engine.source.tables import country_groups, diffusion_tiers, hubs

# Each derived fact of this module: name -> (kind, the case facts it is computed from). The kind is
# (kind,) or (kind, element kind), see engine.case.factspec; the sources (dotted case paths; a list's
# item fields as ``list.field``) are what a user supplies to make the fact known (engine.assessment
# .levers.sources). One table: DERIVED_FIELDS, ITEM_DERIVED_FIELDS and DERIVED_SOURCES are read off it.
_DEST = ("export.destination_country", "location.country")
_HUB = ("location.province", "location.hub_node")
_CLUSTER = ("location.city", "location.cluster")
_TPP = ("accelerators.tpp", "accelerators.datasheet")
_CASE_FACTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "destination_country": (("string",), _DEST),
    "destination_groups": (("scalar_list", "string"), _DEST),
    "destination_ear_country": (("string",), ()),
    "location_ear_country": (("string",), ()),
    "owner_hq_ear_country": (("string",), ()),
    "owner_parent_ear_country": (("string",), ()),
    "fab_ear_country": (("string",), ()),
    "destination_ai_diffusion_tier1": (("bool",), ()),
    "export_reach": (("bool",), ()),
    "named_countries": (("scalar_list", "string"), ()),
    "buyer_hq_groups": (("scalar_list", "string"), ()),
    "buyer_hq_countries": (("scalar_list", "string"), ()),
    "location_groups": (("scalar_list", "string"), ("location.country",)),
    "owner_hq_groups": (("scalar_list", "string"), ("owner.headquarters_country",)),
    "owner_parent_groups": (("scalar_list", "string"), ("owner.ultimate_parent_country",)),
    "hub_node": (("string",), _HUB),
    "in_hub": (("bool",), _HUB),
    "western_hub": (("bool",), _HUB),
    "cluster": (("string",), _CLUSTER),
    "in_cluster": (("bool",), _CLUSTER),
    "accelerator_units": (("number",), ("accelerators.count",)),
    "tpp_total": (("number",), (*_TPP, "accelerators.count")),
}
_ITEM_FACTS: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "accelerators": {
        "tpp": (("number",), _TPP),
        "tpp_source": (("string",), _TPP),
        "performance_density": (("number",), ("accelerators.die_area_mm2", *_TPP)),
        "datacenter": (("bool",), ("accelerators.designed_for_datacenter", "accelerators.marketed_for_datacenter")),
        "tpp_line_total": (("number",), (*_TPP, "accelerators.count")),
        "model_id": (("string",), ()),
        "model_family": (("string",), ()),
        "model_known": (("bool",), ()),
        "designer_country": (("string",), ()),
        "pd_die_area_mm2": (("number",), ()),
        "pd_area_basis": (("string",), ()),
    },
    "parties": {
        "country_groups": (("scalar_list", "string"), ("parties.country",)),
        "hq_groups": (("scalar_list", "string"), ("parties.headquarters_country",)),
        "parent_groups": (("scalar_list", "string"), ("parties.ultimate_parent_country",)),
        "ear_country": (("string",), ()),
        "hq_ear_country": (("string",), ()),
        "parent_ear_country": (("string",), ()),
    },
}

DERIVED_FIELDS: dict[str, tuple[str, ...]] = {name: kind for name, (kind, _) in _CASE_FACTS.items()}
"""Case-level derived facts of this module: name -> kind."""
ITEM_DERIVED_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    list_name: {name: kind for name, (kind, _) in facts.items()} for list_name, facts in _ITEM_FACTS.items()}
"""Item-level derived facts of this module: list name -> name -> kind."""
DERIVED_SOURCES: dict[str, tuple[str, ...]] = {
    **{f"derived.{name}": found for name, (_, found) in _CASE_FACTS.items() if found},
    **{f"{list_name}.derived.{name}": found for list_name, facts in _ITEM_FACTS.items()
       for name, (_, found) in facts.items() if found},
}
"""Derived facts (as the rules read them) -> the case facts they are computed from."""

_EXTENSIONS = ("engine.derive_export", "engine.derive.safety", "engine.derive.facility")


@lru_cache(maxsize=1)
def _extensions() -> tuple[ModuleType, ...]:
    found = []
    for name in _EXTENSIONS:
        if importlib.util.find_spec(name) is not None:
            found.append(importlib.import_module(name))
    return tuple(found)


def derived_fields() -> dict[str, tuple[str, ...]]:
    """Every case-level derived fact: name -> kind."""
    fields = dict(DERIVED_FIELDS)
    for module in _extensions():
        fields.update(getattr(module, "DERIVED_FIELDS", {}))
    return fields


def item_derived_fields() -> dict[str, dict[str, tuple[str, ...]]]:
    """Every item-level derived fact: list name -> name -> kind."""
    fields = {k: dict(v) for k, v in ITEM_DERIVED_FIELDS.items()}
    for module in _extensions():
        for list_name, extra in getattr(module, "ITEM_DERIVED_FIELDS", {}).items():
            fields.setdefault(list_name, {}).update(extra)
    return fields


def capped(value: float) -> float:
    """A derived product or quotient of finite figures, kept finite: one beyond the largest float
    (1.7976931348623157e308 TOPS in a datasheet, say) is larger than any threshold, so it is kept
    as the largest float and compares as it should. Infinity would reach the matching core, which
    refuses it (a traceback, not a rating)."""
    return value if value <= sys.float_info.max else sys.float_info.max


def accelerator_tpp(item: dict[str, Any]) -> tuple[float | None, str | None]:
    """TPP of an accelerator line: stated, else the highest datasheet figure.

    TPP = TOPS × bit length (88 FR 73458 technical notes), dense figures only:
    a figure quoted with sparsity counts half."""
    if item.get("tpp") is not None:
        return float(item["tpp"]), "stated"
    best: float | None = None
    for fig in item.get("datasheet") or ():
        value = capped(fig["tops"] * fig["bit_length"] / (2 if fig.get("sparsity") else 1))
        best = value if best is None or value > best else best
    return (best, "datasheet") if best is not None else (None, None)


def _datacenter(item: dict[str, Any]) -> bool | None:
    designed, marketed = item.get("designed_for_datacenter"), item.get("marketed_for_datacenter")
    if designed is True or marketed is True:
        return True
    if designed is False and marketed is False:
        return False
    return None


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value


_PARTY_GROUPS = {"country": ("country_groups", "ear_country"),
                 "headquarters_country": ("hq_groups", "hq_ear_country"),
                 "ultimate_parent_country": ("parent_groups", "parent_ear_country")}


def _put_groups(target: dict[str, Any], source: dict[str, Any], fields: dict[str, tuple[str, str]],
                day: str) -> None:
    """Country-group membership on ``day`` (dated data table) of each known country field, and the
    country as the EAR reads it (Hong Kong as China from 2020-12-23)."""
    table = country_groups()
    for field_name, (groups_key, ear_key) in fields.items():
        if source.get(field_name):
            target[groups_key] = table.of(source[field_name], day)
            target[ear_key] = table.ear_country(source[field_name], day)


_AREA_BASIS = {
    True: "applicable die area: the stated logic die area on a non-planar (FinFET/GAA) node, HBM excluded",
    None: "the stated logic die area, HBM excluded; the case does not say whether the logic die is "
          "non-planar (the Technical Note counts only non-planar logic dies)",
    False: "no applicable die area: the logic die is planar, and the Technical Note counts only logic dies "
           "on a non-planar transistor architecture, so performance density is not derived",
}


def _density(item: dict[str, Any], tpp: float | None, d: dict[str, Any]) -> None:
    """Performance density = TPP ÷ applicable die area (88 FR 73458, 3A090 Technical Note): the area of
    logic dies made on a non-planar transistor architecture, HBM excluded. Says which area was used."""
    area = item.get("die_area_mm2")
    if not area:
        return
    non_planar = item.get("non_planar")
    d["pd_area_basis"] = _AREA_BASIS[non_planar]
    if non_planar is False:
        return
    d["pd_die_area_mm2"] = area
    if tpp is not None:
        d["performance_density"] = capped(tpp / area)


def _identify(item: dict[str, Any], d: dict[str, Any]) -> None:
    """The model as the alias table knows it (rulesets/data/accelerators.yaml), and the designer
    country: stated, else the table's."""
    model = accelerator_table().resolve(item["model"])
    d["model_known"] = model is not None
    if model is not None:
        d["model_id"] = model.model
        d["model_family"] = model.family
    designer = item.get("designer_country") or (model.designer_country if model else None)
    _put(d, "designer_country", designer)


# Parties on the receiving side of a transaction, whose headquarters the headquartered-in rules read.
BUYER_ROLES = ("buyer", "end_user", "consignee", "operator")


def _buyer_headquarters(parties: list[dict[str, Any]], day: str, derived: dict[str, Any]) -> None:
    """Groups and EAR-read countries of the headquarters and ultimate parents of the buyer-side
    parties, as one case-level list each, so a rule about items of another list (HBM) need not join
    two lists (durable-rules' retraction fault, shared/durable-rules.md). A list that lacks a value
    while some buyer-side country is unknown is unknown, not "does not contain"."""
    table = country_groups()
    groups: set[str] = set()
    countries: set[str] = set()
    unknown = False
    for party in parties:
        if party.get("role") not in BUYER_ROLES:
            continue
        for field_name in ("headquarters_country", "ultimate_parent_country"):
            country = party.get(field_name)
            if not country:
                unknown = True
                continue
            groups.update(table.of(country, day))
            countries.add(table.ear_country(country, day))
    if not unknown or "D:5" in groups:
        derived["buyer_hq_groups"] = sorted(groups)
    if not unknown or "MO" in countries:
        derived["buyer_hq_countries"] = sorted(countries)


_TRADE_ROLES = {"buyer", "end_user", "consignee", "supplier", "intermediary", "cloud_customer", "operator"}


def _export_reach(case: dict[str, Any]) -> bool:
    """Whether the case has a transaction or a party that export controls reach: an export, an
    accelerator or HBM stack bought, fab support, a foundry order, or a party in a trade role (a
    party whose role is not stated counts: unknown is not out of reach). The restricted-party
    screening rules ask for their facts only then. One derived fact, not an `any` of joins in
    each rule: that `any` over three lists made durable-rules refuse some cases (error 304,
    too many messages in one frame)."""
    if any(case.get(k) is not None for k in ("export", "fab_support", "foundry")):
        return True
    for name in ("accelerators", "hbm"):
        if any(isinstance(i, dict) and isinstance(i.get("count"), int | float) and i["count"] >= 1
               for i in case.get(name) or []):
            return True
    return any(isinstance(p, dict) and (p.get("role") is None or p.get("role") in _TRADE_ROLES)
               for p in case.get("parties") or [])


def _named_countries(case: dict[str, Any]) -> list[str]:
    """Every country the case names for a place or a party (as written, before the EAR's reading)."""
    found: set[str] = set()
    for section, fields in (("location", ("country",)), ("export", ("destination_country", "exporter_country")),
                            ("owner", ("headquarters_country", "ultimate_parent_country")),
                            ("fab_support", ("fab_country",))):
        for field_name in fields:
            value = (case.get(section) or {}).get(field_name)
            if value:
                found.add(value)
    for party in case.get("parties") or ():
        for field_name in _PARTY_GROUPS:
            if party.get(field_name):
                found.add(party[field_name])
    return sorted(found)


def _hub_facts(location: dict[str, Any], derived: dict[str, Any]) -> None:
    """Hub node and cluster membership (a fact about sites in mainland China only)."""
    table = hubs()
    if location.get("country") == "CN" and (location.get("province") or location.get("hub_node")):
        hub = table.hub_for(location.get("province"), location.get("hub_node"))
        derived["in_hub"] = hub is not None
        _put(derived, "hub_node", hub)
        derived["western_hub"] = hub in table.western if hub else False
        if location.get("city") or location.get("cluster"):
            cluster = table.cluster_for(location.get("city"), location.get("cluster"))
            # A cluster lies in one hub node: a same-named city elsewhere is not in it.
            if cluster is not None and table.cluster_hub[cluster] != hub:
                cluster = None
            derived["in_cluster"] = cluster is not None
            _put(derived, "cluster", cluster)


def _accelerator_facts(accelerators: list[dict[str, Any]], derived: dict[str, Any]) -> list[dict[str, Any]]:
    """Each accelerator line's derived facts; the units and total TPP go into ``derived``."""
    units = 0
    tpp_total: float | None = 0.0
    acc_derived = []
    for item in accelerators:
        d: dict[str, Any] = {}
        tpp, source = accelerator_tpp(item)
        _put(d, "tpp", tpp)
        _put(d, "tpp_source", source)
        _density(item, tpp, d)
        _identify(item, d)
        _put(d, "datacenter", _datacenter(item))
        if tpp is not None:
            d["tpp_line_total"] = capped(tpp * item["count"])
            if tpp_total is not None:
                tpp_total = capped(tpp_total + d["tpp_line_total"])
        else:
            tpp_total = None  # one unknown line makes the total unknown
        units += item["count"]
        acc_derived.append(d)
    derived["accelerator_units"] = units
    _put(derived, "tpp_total", tpp_total)
    return acc_derived


def derive(case: dict[str, Any], as_of: str | None = None
           ) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Case-level derived facts and item-level ones ({list: [derived per item]}), as of ``as_of``
    (ISO date; today when None): country-group membership is dated."""
    day = as_of or dt.date.today().isoformat()
    groups = country_groups()
    derived: dict[str, Any] = {}
    items: dict[str, list[dict[str, Any]]] = {}
    location = case.get("location") or {}
    owner = case.get("owner") or {}
    export = case.get("export") or {}

    destination = export.get("destination_country") or location.get("country")
    _put(derived, "destination_country", destination)
    if destination:
        derived["destination_groups"] = groups.of(destination, day)
        derived["destination_ear_country"] = groups.ear_country(destination, day)
        derived["destination_ai_diffusion_tier1"] = destination in diffusion_tiers().tier1
    _put_groups(derived, location, {"country": ("location_groups", "location_ear_country")}, day)
    _put_groups(derived, owner, {"headquarters_country": ("owner_hq_groups", "owner_hq_ear_country"),
                                 "ultimate_parent_country": ("owner_parent_groups", "owner_parent_ear_country")},
                day)
    fab_country = (case.get("fab_support") or {}).get("fab_country")
    if fab_country:
        derived["fab_ear_country"] = groups.ear_country(fab_country, day)

    _hub_facts(location, derived)
    accelerators = case.get("accelerators")
    if accelerators is not None:
        items["accelerators"] = _accelerator_facts(accelerators, derived)

    parties = case.get("parties")
    if parties is not None:
        _buyer_headquarters(parties, day, derived)
        party_derived = []
        for party in parties:
            d: dict[str, Any] = {}
            _put_groups(d, party, _PARTY_GROUPS, day)
            party_derived.append(d)
        items["parties"] = party_derived

    derived["named_countries"] = _named_countries(case)
    derived["export_reach"] = _export_reach(case)
    for module in _extensions():
        hook: Callable[[dict[str, Any], dict[str, Any], dict[str, list[dict[str, Any]]]], None] = module.derive
        hook(case, derived, items)
    return derived, items


def build_view(case: dict[str, Any], as_of: str | None = None) -> dict[str, Any]:
    """The document rules are evaluated on, as of ``as_of``: the case plus ``derived`` facts."""
    derived, items = derive(case, as_of)
    view = dict(case)
    view["derived"] = derived
    for list_name, per_item in items.items():
        source = case.get(list_name)
        if source is None:
            continue
        view[list_name] = [{**item, "derived": d} for item, d in zip(source, per_item, strict=True)]
    return view
