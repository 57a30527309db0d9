"""Derived facts, computed once in Python before matching and shown in the output.

The view a rule sees is the case as a plain dict (absent fields omitted) with a
``derived`` mapping at the top and one inside each list item. Domain modules
(``engine.derive_export``, ``engine.derive_safety``, ``engine.derive_facility``)
may add more: each defines ``derive(case, derived, items)`` and declares what it
adds in ``DERIVED_FIELDS`` / ``ITEM_DERIVED_FIELDS`` so the rule validator knows
the paths.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from functools import lru_cache
from types import ModuleType
from typing import Any

from engine.tables import country_groups, hubs

# name -> (kind,) or (kind, element kind); see engine.factspec
DERIVED_FIELDS: dict[str, tuple[str, ...]] = {
    "destination_country": ("string",),
    "destination_groups": ("scalar_list", "string"),
    "location_groups": ("scalar_list", "string"),
    "owner_hq_groups": ("scalar_list", "string"),
    "owner_parent_groups": ("scalar_list", "string"),
    "hub_node": ("string",),
    "in_hub": ("bool",),
    "western_hub": ("bool",),
    "cluster": ("string",),
    "in_cluster": ("bool",),
    "accelerator_units": ("number",),
    "tpp_total": ("number",),
}

ITEM_DERIVED_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "accelerators": {
        "tpp": ("number",),
        "tpp_source": ("string",),
        "performance_density": ("number",),
        "datacenter": ("bool",),
        "tpp_line_total": ("number",),
    },
    "parties": {
        "country_groups": ("scalar_list", "string"),
        "hq_groups": ("scalar_list", "string"),
        "parent_groups": ("scalar_list", "string"),
    },
}

_EXTENSIONS = ("engine.derive_export", "engine.derive_safety", "engine.derive_facility")


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


def accelerator_tpp(item: dict[str, Any]) -> tuple[float | None, str | None]:
    """TPP of an accelerator line: stated, else the highest datasheet figure.

    TPP = TOPS × bit length (88 FR 73458 technical notes), dense figures only:
    a figure quoted with sparsity counts half."""
    if item.get("tpp") is not None:
        return float(item["tpp"]), "stated"
    best: float | None = None
    for fig in item.get("datasheet") or ():
        value = fig["tops"] * fig["bit_length"] / (2 if fig.get("sparsity") else 1)
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


_PARTY_GROUPS = {"country": "country_groups", "headquarters_country": "hq_groups",
                 "ultimate_parent_country": "parent_groups"}


def _put_groups(target: dict[str, Any], source: dict[str, Any], fields: dict[str, str]) -> None:
    """Country-group membership (from the data table) of each known country field."""
    table = country_groups()
    for field_name, key in fields.items():
        if source.get(field_name):
            target[key] = table.of(source[field_name])


def derive(case: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Case-level derived facts and item-level ones ({list: [derived per item]})."""
    groups = country_groups()
    derived: dict[str, Any] = {}
    items: dict[str, list[dict[str, Any]]] = {}
    location = case.get("location") or {}
    owner = case.get("owner") or {}
    export = case.get("export") or {}

    destination = export.get("destination_country") or location.get("country")
    _put(derived, "destination_country", destination)
    if destination:
        derived["destination_groups"] = groups.of(destination)
    _put_groups(derived, location, {"country": "location_groups"})
    _put_groups(derived, owner, {"headquarters_country": "owner_hq_groups",
                                 "ultimate_parent_country": "owner_parent_groups"})

    # Hub and cluster membership is a fact about sites in mainland China only.
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

    accelerators = case.get("accelerators")
    if accelerators is not None:
        units = 0
        tpp_total: float | None = 0.0
        acc_derived = []
        for item in accelerators:
            d: dict[str, Any] = {}
            tpp, source = accelerator_tpp(item)
            _put(d, "tpp", tpp)
            _put(d, "tpp_source", source)
            if tpp is not None and item.get("die_area_mm2"):
                d["performance_density"] = tpp / item["die_area_mm2"]
            _put(d, "datacenter", _datacenter(item))
            if tpp is not None:
                d["tpp_line_total"] = tpp * item["count"]
                if tpp_total is not None:
                    tpp_total += d["tpp_line_total"]
            else:
                tpp_total = None  # one unknown line makes the total unknown
            units += item["count"]
            acc_derived.append(d)
        derived["accelerator_units"] = units
        _put(derived, "tpp_total", tpp_total)
        items["accelerators"] = acc_derived

    parties = case.get("parties")
    if parties is not None:
        party_derived = []
        for party in parties:
            d = {}
            _put_groups(d, party, _PARTY_GROUPS)
            party_derived.append(d)
        items["parties"] = party_derived

    for module in _extensions():
        hook: Callable[[dict[str, Any], dict[str, Any], dict[str, list[dict[str, Any]]]], None] = module.derive
        hook(case, derived, items)
    return derived, items


def build_view(case: dict[str, Any]) -> dict[str, Any]:
    """The document rules are evaluated on: the case plus ``derived`` facts."""
    derived, items = derive(case)
    view = dict(case)
    view["derived"] = derived
    for list_name, per_item in items.items():
        source = case.get(list_name)
        if source is None:
            continue
        view[list_name] = [{**item, "derived": d} for item, d in zip(source, per_item, strict=True)]
    return view
