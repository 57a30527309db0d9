"""Reference data tables (country groups, hubs) read from ``rulesets/data``.

Tables are data with their own sources: membership is never written in code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from engine.errors import Problem, RulesetError
from engine.resources import bundled
from engine.safeyaml import load_file


def _load(name: str) -> dict[str, Any]:
    """A table's data, reused from the on-disk cache (engine.cache) while the file is unchanged."""
    from engine.cache import cached, key_of

    path = bundled("rulesets/data") / name
    display = f"rulesets/data/{name}"

    def read() -> dict[str, Any]:
        doc = load_file(str(path), display=display)
        if not isinstance(doc.data, dict):
            raise RulesetError(Problem(message="a data table must be a mapping", file=doc.file, line=1))
        return doc.data

    return cached("table", key_of([path], display), read)


@dataclass(frozen=True)
class CountryGroups:
    groups: dict[str, frozenset[str]]
    source: list[dict[str, Any]]

    def of(self, country: str) -> list[str]:
        """The groups a country belongs to, in a stable order."""
        return sorted(g for g, members in self.groups.items() if country in members)


@lru_cache(maxsize=1)
def country_groups() -> CountryGroups:
    data = _load("country-groups.yaml")
    groups = {str(k): frozenset(str(c) for c in v) for k, v in data["groups"].items()}
    return CountryGroups(groups, list(data.get("source", [])))


def _norm(name: str) -> str:
    text = name.casefold().replace("’", "'").strip()
    for suffix in (" province", " autonomous region", " municipality", " city", " shi", " sheng"):
        if text.endswith(suffix):
            text = text[: -len(suffix)].strip()
    return text


@dataclass(frozen=True)
class Hubs:
    by_province: dict[str, str]
    western: frozenset[str]
    hub_names: dict[str, str]
    cluster_by_city: dict[str, str]
    cluster_names: dict[str, str]
    cluster_hub: dict[str, str]

    def hub_for(self, province: str | None, declared: str | None) -> str | None:
        if declared and _norm(declared) in self.hub_names:
            return self.hub_names[_norm(declared)]
        if province:
            return self.by_province.get(_norm(province))
        return None

    def cluster_for(self, city: str | None, declared: str | None) -> str | None:
        if declared and _norm(declared) in self.cluster_names:
            return self.cluster_names[_norm(declared)]
        if city:
            return self.cluster_by_city.get(_norm(city))
        return None


@lru_cache(maxsize=1)
def hubs() -> Hubs:
    data = _load("hubs.yaml")
    by_province: dict[str, str] = {}
    western: set[str] = set()
    hub_names: dict[str, str] = {}
    for hub in data["hub_nodes"]:
        hub_names[_norm(hub["name"])] = hub["name"]
        for province in hub["provinces"]:
            by_province[_norm(province)] = hub["name"]
        if hub.get("western"):
            western.add(hub["name"])
    cluster_by_city: dict[str, str] = {}
    cluster_names: dict[str, str] = {}
    cluster_hub: dict[str, str] = {}
    for cluster in data["clusters"]:
        cluster_names[_norm(cluster["name"])] = cluster["name"]
        cluster_hub[cluster["name"]] = cluster["hub_node"]
        for city in cluster.get("cities", []):
            cluster_by_city[_norm(city)] = cluster["name"]
    return Hubs(by_province, frozenset(western), hub_names, cluster_by_city, cluster_names, cluster_hub)
