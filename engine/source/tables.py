"""Reference data tables (country groups, accelerator aliases, AI Diffusion tiers, hubs)
read from ``rulesets/data``.

Tables are data with their own sources: membership is never written in code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from engine.errors import Problem, RulesetError
from engine.source.resources import bundled
from engine.source.safeyaml import load_file


def _load(name: str) -> dict[str, Any]:
    """A table's data, reused from the on-disk cache (engine.source.cache) while the file is unchanged."""
    from engine.source.cache import cached, key_of_bytes, read_bounded
    from engine.source.safeyaml import load_text

    path = bundled("rulesets/data") / name
    display = f"rulesets/data/{name}"
    raw = read_bounded(path)  # read once: the entry is keyed by, and built from, these bytes

    def read() -> dict[str, Any]:
        doc = load_file(str(path), display=display) if raw is None else load_text(raw, display)
        if not isinstance(doc.data, dict):
            raise RulesetError(Problem(message="a data table must be a mapping", file=doc.file, line=1))
        return doc.data

    return cached("table", key_of_bytes([(name, raw)], display), read)


def _day(value: Any) -> str | None:
    """A table date as ISO text (None stays None: an open end)."""
    return None if value is None else str(value)


@dataclass(frozen=True)
class Member:
    """One dated membership: ``country`` in a group from ``start`` to ``end`` (inclusive; None = open)."""

    country: str
    start: str
    end: str | None
    source: str

    def on(self, day: str) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class CountryGroups:
    """EAR country groups with dated membership, and destinations treated as another (HK as CN)."""

    members: dict[str, tuple[Member, ...]]
    treated_as: tuple[tuple[Member, str], ...]
    sources: dict[str, dict[str, Any]]

    def ear_country(self, country: str, day: str) -> str:
        """The country the EAR reads ``country`` as on ``day`` (Hong Kong → China from 2020-12-23)."""
        for member, other in self.treated_as:
            if member.country == country and member.on(day):
                return other
        return country

    def member(self, country: str, group: str, day: str) -> bool:
        """Whether ``country`` (as the EAR reads it) is in ``group`` on ``day``."""
        ear = self.ear_country(country, day)
        return any(m.country == ear and m.on(day) for m in self.members.get(group, ()))

    def of(self, country: str, day: str) -> list[str]:
        """The groups a country belongs to on ``day``, in a stable order."""
        return sorted(g for g in self.members if self.member(country, g, day))


def _members(rows: list[dict[str, Any]]) -> tuple[Member, ...]:
    return tuple(Member(str(r["country"]), str(r["from"]), _day(r.get("to")), str(r["source"])) for r in rows)


@lru_cache(maxsize=1)
def country_groups() -> CountryGroups:
    data = _load("country-groups.yaml")
    members = {str(k): _members(v) for k, v in data["groups"].items()}
    treated = tuple((m, str(r["as"])) for r, m in zip(data.get("treated_as", []),
                                                      _members(data.get("treated_as", [])), strict=True))
    sources = {str(k): dict(v) for k, v in (data.get("sources") or {}).items()}
    return CountryGroups(members, treated, sources)


@dataclass(frozen=True)
class Model:
    """One accelerator model of the alias table."""

    model: str
    family: str
    vendor: str
    designer_country: str | None
    source: str


def _model_key(name: str, prefixes: tuple[str, ...] = ()) -> str:
    """A model name reduced to what identifies the product: case, spacing, hyphens and leading
    vendor or product-line words do not count ("NVIDIA H20" = "h20"; "AMD Instinct MI308X" = "mi308x")."""
    text = " ".join(name.casefold().replace("-", " ").replace("_", " ").split())
    stripped = True
    while stripped:
        stripped = False
        for prefix in prefixes:
            if text.startswith(prefix + " "):
                text = text[len(prefix) + 1:]
                stripped = True
    return text.replace(" ", "")


@dataclass(frozen=True)
class Accelerators:
    """The accelerator alias table: normalised spelling → model."""

    by_key: dict[str, Model]
    prefixes: tuple[str, ...]

    def resolve(self, name: str) -> Model | None:
        return self.by_key.get(_model_key(name, self.prefixes))


@lru_cache(maxsize=1)
def accelerators() -> Accelerators:
    data = _load("accelerators.yaml")
    prefixes = tuple(sorted((" ".join(str(p).casefold().split()) for p in data.get("prefixes", [])),
                            key=len, reverse=True))
    by_key: dict[str, Model] = {}
    for row in data["models"]:
        model = Model(str(row["model"]), str(row["family"]), str(row["vendor"]),
                      row.get("designer_country"), str(row["source"]))
        for spelling in (model.model, *row.get("aliases", [])):
            key = _model_key(str(spelling), prefixes)
            found = by_key.setdefault(key, model)
            if found is not model:
                raise RulesetError(Problem(message=f"accelerator alias {spelling!r} names both "
                                           f"{found.model} and {model.model}", file="rulesets/data/accelerators.yaml"))
    return Accelerators(by_key, prefixes)


@dataclass(frozen=True)
class DiffusionTiers:
    """AI Diffusion rule (90 FR 4544) Tier 1 destinations."""

    tier1: frozenset[str]


@lru_cache(maxsize=1)
def diffusion_tiers() -> DiffusionTiers:
    data = _load("ai-diffusion-tiers.yaml")
    return DiffusionTiers(frozenset(str(c) for c in data["tier1"]["countries"]))


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
