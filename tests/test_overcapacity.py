"""The overcapacity ruleset: its sourcing conventions, its level design, monotone
scoring (a Hypothesis property over generated facilities that is shown to catch
a band rule), and the handling of missing facts.
"""

from __future__ import annotations

import copy
import functools
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engine import assess, load_case, load_rules
from engine.case.overrides import apply_set
from engine.derive.facility import derive
from engine.derive.view import derive as derive_case
from engine.ruleset.load import RULESET_LIMITS
from engine.ruleset.parse import written_out
from engine.source.safeyaml import load_file
from engine.source.tables import hubs

ROOT = Path(__file__).resolve().parents[1]
RULESET = ROOT / "rulesets" / "overcapacity.yaml"
CASES = [*sorted((ROOT / "cases").glob("oc-*.yaml")), ROOT / "cases" / "guizhou-icc.yaml"]
FACT_SHEET = ROOT.parent / "shared" / "domain" / "overcapacity.md"
LEVELS = ("low", "medium", "high", "critical")
AS_OF = "2026-11-22"


@pytest.fixture(scope="module")
def rules() -> Any:
    return load_rules([RULESET])


def _raw_ruleset() -> dict[str, Any]:
    # the rules as written out: named conditions, parameters and shared sources resolved
    return written_out(load_file(str(RULESET), RULESET_LIMITS))


# The table itself (rulesets/overcapacity.tests.yaml: a firing and a silent test at every
# threshold) runs, with its coverage check, in tests/test_rule_tables.py and `airisk test`.
# Here are the properties a table cannot state.


# --------------------------------------------------------------------------- sourcing conventions

def test_heuristic_rules_carry_the_ovh_prefix_and_say_so() -> None:
    for rule in _raw_ruleset()["rules"]:
        heuristic = rule["basis"] == "heuristic"
        assert heuristic == rule["id"].startswith("OVH-"), rule["id"]
        if heuristic:
            assert "heuristic" in rule["message"].lower(), rule["id"]


def test_no_overcapacity_rule_claims_to_be_binding() -> None:
    assert {r["basis"] for r in _raw_ruleset()["rules"]} <= {"advisory", "heuristic"}


def test_every_published_signal_cites_a_dated_source() -> None:
    for rule in _raw_ruleset()["rules"]:
        if not rule["id"].startswith("OVC-"):
            continue
        dated = [c for c in rule["citations"] if c.get("date") or re.search(r"\b20\d\d\b", c.get("note", ""))]
        assert dated, f"{rule['id']} has no dated citation"


def test_market_data_thresholds_say_which_date_they_are_from() -> None:
    market = {"signal:utilisation", "signal:rent"}
    for rule in _raw_ruleset()["rules"]:
        if rule["basis"] == "heuristic" or not market & set(rule.get("tags", [])):
            continue
        assert re.search(r"\b20\d\d\b", rule["message"]), f"{rule['id']} message gives no observation date"


def test_unconfirmed_sources_make_advisory_rules_that_say_unconfirmed() -> None:
    for rule in _raw_ruleset()["rules"]:
        if rule["basis"] == "advisory" and all(c["confidence"] == "UNCONFIRMED" for c in rule["citations"]):
            assert "UNCONFIRMED" in rule["message"], rule["id"]


def test_the_hub_table_matches_the_fact_sheet() -> None:
    hubs = load_file(str(ROOT / "rulesets" / "data" / "hubs.yaml")).data
    text = FACT_SHEET.read_text(encoding="utf-8") if FACT_SHEET.exists() else None
    if text is None:
        pytest.skip("shared/domain/overcapacity.md is not beside the checkout")
    hub_line = next(line for line in text.splitlines() if "8 national hub nodes" in line)
    cluster_line = next(line for line in text.splitlines() if line.startswith("- 10 data-centre clusters"))
    for hub in hubs["hub_nodes"]:
        assert hub["name"] in hub_line, hub["name"]
    for cluster in hubs["clusters"]:
        assert cluster["name"] in cluster_line, cluster["name"]
    assert len(hubs["hub_nodes"]) == 8
    assert len(hubs["clusters"]) == 10
    assert {c["hub_node"] for c in hubs["clusters"]} <= {h["name"] for h in hubs["hub_nodes"]}
    western = {h["name"] for h in hubs["hub_nodes"] if h["western"]}
    assert western == {"Inner Mongolia", "Guizhou", "Gansu", "Ningxia"}


# The review of 2026-12-01: Horinger = Horinger New Area plus the Jining big-data industrial park
# (Ulanqab); Wuhu = Jiujiang District, Yijiang District and Wuwei City.
CLUSTER_AREAS = [
    ("Inner Mongolia", "和林格尔新区", "Horinger"), ("Inner Mongolia", "Horinger New Area", "Horinger"),
    ("Inner Mongolia", "集宁区", "Horinger"), ("Inner Mongolia", "Jining District", "Horinger"),
    ("Inner Mongolia", "Ulanqab", "Horinger"),
    ("Anhui", "鸠江区", "Wuhu"), ("Anhui", "弋江区", "Wuhu"), ("Anhui", "无为市", "Wuhu"),
    ("Anhui", "Jiujiang District", "Wuhu"), ("Anhui", "Yijiang District", "Wuhu"), ("Anhui", "Wuwei City", "Wuhu"),
]


def _cluster_of(province: str, city: str) -> tuple[Any, Any]:
    derived, _ = derive_case({"location": {"country": "CN", "province": province, "city": city}})
    return derived.get("in_cluster"), derived.get("cluster")


@pytest.mark.parametrize(("province", "city", "cluster"), CLUSTER_AREAS)
def test_the_corrected_cluster_areas_are_in_their_clusters(province: str, city: str, cluster: str) -> None:
    assert _cluster_of(province, city) == (True, cluster)


@pytest.mark.parametrize(("province", "city"), [("Shandong", "Jining"), ("Jiangxi", "Jiujiang"), ("Gansu", "Wuwei")])
def test_a_same_named_city_in_another_province_is_not_in_the_cluster(province: str, city: str) -> None:
    assert _cluster_of(province, city) == (False, None)


def test_no_city_name_is_listed_under_two_clusters() -> None:
    listed = [(city, cluster["name"]) for cluster in load_file(str(ROOT / "rulesets" / "data" / "hubs.yaml"))
              .data["clusters"] for city in cluster["cities"]]
    table = hubs()
    for city, cluster in listed:
        assert table.cluster_for(city, None) == cluster, f"{city!r} is listed under two clusters"


# --------------------------------------------------------------------------- levels

def test_no_single_signal_family_reaches_the_top_level_on_any_date() -> None:
    raw = _raw_ruleset()
    critical = raw["ruleset"]["dimensions"]["overcapacity"]["levels"]["critical"]
    rules = raw["rules"]
    worst: dict[str, float] = defaultdict(float)
    # The in-force set only changes on an effective_from date.
    for day in {str(r["effective_from"]) for r in rules}:
        families: dict[str, float] = defaultdict(float)
        for rule in rules:
            ends = rule.get("effective_to")
            if str(rule["effective_from"]) <= day and (ends is None or day <= str(ends)):
                families[next(t for t in rule["tags"] if t.startswith("signal:"))] += rule["points"]
        for family, points in families.items():
            worst[family] = max(worst[family], points)
    assert max(worst.values()) < critical, dict(worst)


def test_utilisation_below_20_percent_alone_raises_the_level_but_25_percent_does_not(rules: Any) -> None:
    base = load_file(str(ROOT / "cases" / "oc-eastern-70pct.yaml")).data
    strong = assess(apply_set(base, {"facility.accelerator_utilisation": 0.19}), rules=rules, as_of=AS_OF)
    band = assess(apply_set(base, {"facility.accelerator_utilisation": 0.25}), rules=rules, as_of=AS_OF)
    assert {f.rule_id for f in strong.findings} == {"OVC-001", "OVC-002", "OVC-003"}
    assert strong.dimensions["overcapacity"].level == "medium"
    assert band.dimensions["overcapacity"].level == "low"


# --------------------------------------------------------------------------- missing facts

def test_unknown_utilisation_lowers_confidence_and_names_the_missing_fact(rules: Any) -> None:
    result = assess(ROOT / "cases" / "oc-unknown-utilisation.yaml", rules=rules, as_of=AS_OF)
    dim = result.dimensions["overcapacity"]
    assert dim.confidence < 1
    assert "facility.accelerator_utilisation" in dim.missing_facts
    assert "OVH-001" in {f.rule_id for f in result.findings}
    waiting = {n.rule_id: n for n in result.needs_information}
    assert {"OVC-001", "OVC-002", "OVC-003"} <= set(waiting)


def test_a_fully_described_facility_has_full_confidence(rules: Any) -> None:
    result = assess(ROOT / "cases" / "oc-eastern-70pct.yaml", rules=rules, as_of=AS_OF)
    assert result.dimensions["overcapacity"].confidence == 1
    assert result.dimensions["overcapacity"].missing_facts == []


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_overcapacity_cases_are_valid_cases(path: Path) -> None:
    assert load_case(path).kind == "facility"


def test_contracted_power_share_is_contracted_over_built() -> None:
    derived: dict[str, Any] = {}
    derive({"facility": {"it_power_mw": 40, "contracted_power_mw": 6}}, derived, {})
    assert derived == {"contracted_power_share": 0.15}


@pytest.mark.parametrize("facility", [{"it_power_mw": 0, "contracted_power_mw": 0}, {"it_power_mw": 10}, {},
                                      {"it_power_mw": 5e-324, "contracted_power_mw": 1.0}])
def test_contracted_power_share_is_unknown_without_both_figures(facility: dict[str, Any]) -> None:
    derived: dict[str, Any] = {}
    derive({"facility": facility}, derived, {})
    assert "contracted_power_share" not in derived


def test_build_out_shares_are_the_added_load_and_the_share_of_it_newly_contracted() -> None:
    derived: dict[str, Any] = {}
    derive({"facility": {"it_power_mw": 40, "it_power_mw_12m_ago": 8,
                         "contracted_power_mw": 6, "contracted_power_mw_12m_ago": 4}}, derived, {})
    assert derived["buildout_share_12m"] == 0.8
    assert derived["buildout_contracted_share_12m"] == 2 / 32


def test_contracts_lost_during_a_build_out_count_as_none_taken_up() -> None:
    derived: dict[str, Any] = {}
    derive({"facility": {"it_power_mw": 40, "it_power_mw_12m_ago": 8,
                         "contracted_power_mw": 6, "contracted_power_mw_12m_ago": 10}}, derived, {})
    assert derived["buildout_contracted_share_12m"] == 0


@pytest.mark.parametrize("facility", [
    {"it_power_mw": 40, "it_power_mw_12m_ago": 40, "contracted_power_mw": 6, "contracted_power_mw_12m_ago": 4},
    {"it_power_mw": 30, "it_power_mw_12m_ago": 40, "contracted_power_mw": 6, "contracted_power_mw_12m_ago": 4},
    {"it_power_mw": 40, "it_power_mw_12m_ago": 8, "contracted_power_mw": 6},
    {"it_power_mw": 5e-324, "it_power_mw_12m_ago": 0, "contracted_power_mw": 1.0, "contracted_power_mw_12m_ago": 0},
])
def test_the_contracted_share_of_a_build_out_is_unknown_without_growth_or_figures(facility: dict[str, Any]) -> None:
    derived: dict[str, Any] = {}
    derive({"facility": facility}, derived, {})
    assert "buildout_contracted_share_12m" not in derived


def test_utilisation_gaps_are_utilisation_minus_the_stated_averages_and_unknown_without_them() -> None:
    derived: dict[str, Any] = {}
    derive({"facility": {"accelerator_utilisation": 0.25, "hub_average_accelerator_utilisation": 0.35,
                         "national_average_accelerator_utilisation": 0.25}}, derived, {})
    assert derived["utilisation_gap_to_hub_average"] == pytest.approx(-0.1)
    assert derived["utilisation_gap_to_national_average"] == 0
    derived = {}
    derive({"facility": {"accelerator_utilisation": 0.25}}, derived, {})
    assert not {"utilisation_gap_to_hub_average", "utilisation_gap_to_national_average"} & set(derived)


# --------------------------------------------------------------------------- monotone scoring

LOCATIONS = [
    ({"country": "CN", "province": "Guizhou", "city": "Gui'an"}, "CN"),
    ({"country": "CN", "province": "Ningxia", "city": "Zhongwei"}, "CN"),
    ({"country": "CN", "province": "Shanghai", "city": "Qingpu"}, "CN"),
    ({"country": "CN", "province": "Shanghai", "city": "Shanghai"}, "CN"),
    ({"country": "CN", "province": "Henan", "city": "Zhengzhou"}, "CN"),
    ({"country": "CN", "province": "Henan"}, "CN"),
    ({"country": "MY", "province": "Johor", "city": "Johor Bahru"}, "CN"),
    ({"country": "MY", "province": "Johor", "city": "Johor Bahru"}, "MY"),
]
CHIPS = {
    # datasheet figures from shared/domain/chips.csv
    "H20": {"vendor": "NVIDIA", "designer_country": "US", "datasheet": [{"tops": 296, "bit_length": 8}],
            "die_area_mm2": 814, "dram_bandwidth_gbps": 4000, "designed_for_datacenter": True},
    "H100 SXM": {"vendor": "NVIDIA", "designer_country": "US",
                 "datasheet": [{"tops": 1978.9, "bit_length": 8}],
                 "die_area_mm2": 814, "dram_bandwidth_gbps": 3350, "designed_for_datacenter": True},
    "Ascend 910B": {"vendor": "Huawei", "designer_country": "CN",
                    "datasheet": [{"tops": 640, "bit_length": 8}],
                    "die_area_mm2": 665.6, "designed_for_datacenter": True},
    "L20": {"vendor": "NVIDIA", "designer_country": "US", "datasheet": [{"tops": 239, "bit_length": 8}],
            "die_area_mm2": 608.4, "dram_bandwidth_gbps": 864, "designed_for_datacenter": True},
}
FINANCING = ["local_government", "lgfv", "soe", "telecom", "state_bank", "private", "listed_company"]
STATE_LINKED = ["local_government", "lgfv", "soe"]


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _thresholds() -> dict[str, list[float]]:
    """Every number a rule compares each ``facility.*`` fact with (and the contracted share)."""
    found: dict[str, set[float]] = defaultdict(set)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            fact = node.get("fact", "")
            for op in ("lt", "lte", "gt", "gte", "eq"):
                value = node.get(op)
                if fact.startswith(("facility.", "derived.")) and isinstance(value, int | float) \
                        and not isinstance(value, bool):
                    found[fact.split(".", 1)[1]].add(float(value))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk([r["when"] for r in _raw_ruleset()["rules"]])
    return {k: sorted(v) for k, v in found.items()}


THRESHOLDS = _thresholds()


@functools.cache  # building and validating a strategy cost more than drawing from it; the draws are the same
def _number(field: str, lo: float, hi: float) -> st.SearchStrategy[float]:
    """Any value in [lo, hi], often one at or just beside a rule threshold, where
    non-monotone rule shapes show."""
    near = sorted({min(hi, max(lo, t + d)) for t in THRESHOLDS.get(field, []) for d in (-1e-6, 0.0, 1e-6)})
    anywhere = st.floats(lo, hi, allow_nan=False)
    return st.one_of(anywhere, st.sampled_from(near)) if near else anywhere


def _fraction(field: str) -> st.SearchStrategy[float]:
    return _number(field, 0.0, 1.0)


@functools.cache
def _facility_facts() -> dict[str, st.SearchStrategy[Any]]:
    """The strategy of each facility fact, built once: the same draws as building them per case, faster."""
    return {
        "size_class": _maybe(st.sampled_from(["small", "medium", "large", "hyperscale"])),
        "new_build": _maybe(st.booleans()),
        "it_power_mw": _maybe(st.floats(0, 200, allow_nan=False)),
        "contracted_power_mw": _maybe(st.floats(0, 240, allow_nan=False)),
        "commissioning_date": _maybe(st.sampled_from(["2023-12-25", "2023-12-26", "2025-01-01"])),
        "rack_occupancy": _maybe(_fraction("rack_occupancy")),
        "accelerator_utilisation": _maybe(_fraction("accelerator_utilisation")),
        "pue": _maybe(_number("pue", 1.0, 2.5)),
        "green_power_share": _maybe(_fraction("green_power_share")),
        "workload": _maybe(st.sampled_from(["training", "inference", "mixed"])),
        "latency_to_demand_ms": _maybe(_number("latency_to_demand_ms", 0, 100)),
        "financing": _maybe(st.lists(st.sampled_from(FINANCING), max_size=3, unique=True)),
        "anchor_tenant_share": _maybe(_fraction("anchor_tenant_share")),
        "local_incentives": _maybe(st.booleans()),
        "domestic_chip_power_subsidy": _maybe(st.booleans()),
        "state_funded": _maybe(st.booleans()),
        "completion_share": _maybe(_fraction("completion_share")),
        "rent_8gpu_h100_server_rmb_month": _maybe(_number("rent_8gpu_h100_server_rmb_month", 0, 2e5)),
        "rent_gpu_hour_usd": _maybe(_number("rent_gpu_hour_usd", 0, 10)),
        "accelerator_age_years": _maybe(_number("accelerator_age_years", 0, 10)),
        "connected_to_national_monitoring": _maybe(st.booleans()),
        "connected_to_scheduling_platform": _maybe(st.booleans()),
        "shared_capacity_offered": _maybe(st.booleans()),
    }


@st.composite
def facilities(draw: st.DrawFn) -> dict[str, Any]:
    """A facility case with any mix of known and unknown facts."""
    location, hq = draw(st.sampled_from(LOCATIONS))
    lines = []
    for model in draw(st.lists(st.sampled_from(sorted(CHIPS)), max_size=3, unique=True)):
        line = {"model": model, "count": draw(st.integers(1, 4096)), **CHIPS[model],
                "installed": draw(st.booleans())}
        if draw(st.booleans()):
            line["licence_held"] = draw(st.booleans())
        lines.append(line)
    facility = {field: draw(strategy) for field, strategy in _facility_facts().items()}
    # Last year's figures: anything, or a part of today's (a build-out), so that the build-out shares
    # fall on both sides of their thresholds.
    for field, now, hi in (("it_power_mw_12m_ago", "it_power_mw", 200), ("contracted_power_mw_12m_ago",
                                                                          "contracted_power_mw", 240)):
        part = st.floats(0, 1, allow_nan=False).map(lambda k, n=facility[now]: k * n)
        options = [st.floats(0, hi, allow_nan=False), *([part] if facility[now] is not None else [])]
        facility[field] = draw(_maybe(st.one_of(*options)))
    # A stated average is often exactly the facility's own utilisation, where `lt` and `lte` differ.
    own = facility["accelerator_utilisation"]
    for average in ("hub_average_accelerator_utilisation", "national_average_accelerator_utilisation"):
        facility[average] = draw(_maybe(st.one_of(_fraction("accelerator_utilisation"),
                                                  st.just(own) if own is not None else st.nothing())))
    case: dict[str, Any] = {
        "id": "generated", "kind": "facility", "name": "generated facility",
        "location": location, "owner": {"headquarters_country": hq},
        "facility": {k: v for k, v in facility.items() if v is not None},
    }
    if lines or draw(st.booleans()):
        case["accelerators"] = lines
    return case


# Each worsening moves one input the wrong way (or leaves it) and keeps everything else.
Worsening = Callable[[Callable[[st.SearchStrategy[Any]], Any], dict[str, Any]], None]


def _lower(field: str) -> Worsening:
    def worsen(draw: Callable[[st.SearchStrategy[Any]], Any], f: dict[str, Any]) -> None:
        f[field] = draw(_number(field, 0.0, f[field]))
    return worsen


def _raise_pue(draw: Callable[[st.SearchStrategy[Any]], Any], f: dict[str, Any]) -> None:
    f["pue"] = draw(_number("pue", f["pue"], 3.0))


def _lower_contracted(draw: Callable[[st.SearchStrategy[Any]], Any], f: dict[str, Any]) -> None:
    f["contracted_power_mw"] = draw(st.floats(0, f["contracted_power_mw"], allow_nan=False))


def _add_state_financing(draw: Callable[[st.SearchStrategy[Any]], Any], f: dict[str, Any]) -> None:
    source = draw(st.sampled_from(STATE_LINKED))
    if source not in f["financing"]:
        f["financing"] = [*f["financing"], source]


def _raise(field: str, hi: float) -> Worsening:
    def worsen(draw: Callable[[st.SearchStrategy[Any]], Any], f: dict[str, Any]) -> None:
        f[field] = draw(st.floats(f[field], hi, allow_nan=False))
    return worsen


def _raise_fraction(field: str) -> Worsening:
    """A higher stated average, often exactly the facility's own utilisation (the `lte`/`lt` edge)."""
    def worsen(draw: Callable[[st.SearchStrategy[Any]], Any], f: dict[str, Any]) -> None:
        options = [st.floats(f[field], 1.0, allow_nan=False)]
        own = f.get("accelerator_utilisation")
        if own is not None and own >= f[field]:
            options.append(st.just(own))
        f[field] = draw(st.one_of(*options))
    return worsen


def _lower_float(field: str) -> Worsening:
    def worsen(draw: Callable[[st.SearchStrategy[Any]], Any], f: dict[str, Any]) -> None:
        f[field] = draw(st.floats(0, f[field], allow_nan=False))
    return worsen


def _set(field: str, value: Any) -> Worsening:
    def worsen(draw: Callable[[st.SearchStrategy[Any]], Any], f: dict[str, Any]) -> None:
        f[field] = value
    return worsen


SIZES = ["small", "medium", "large", "hyperscale"]


def _larger(draw: Callable[[st.SearchStrategy[Any]], Any], f: dict[str, Any]) -> None:
    f["size_class"] = draw(st.sampled_from(SIZES[SIZES.index(f["size_class"]):]))


WORSENINGS: dict[str, Worsening] = {
    "accelerator_utilisation": _lower("accelerator_utilisation"),
    "rack_occupancy": _lower("rack_occupancy"),
    "pue": _raise_pue,
    "financing": _add_state_financing,
    "anchor_tenant_share": _lower("anchor_tenant_share"),
    "contracted_power_mw": _lower_contracted,
    # the facts of the 2023 opinion and the 2026-2028 plan
    "size_class": _larger,
    "new_build": _set("new_build", True),
    "connected_to_scheduling_platform": _set("connected_to_scheduling_platform", False),
    "shared_capacity_offered": _set("shared_capacity_offered", False),
    "hub_average_accelerator_utilisation": _raise_fraction("hub_average_accelerator_utilisation"),
    "national_average_accelerator_utilisation": _raise_fraction("national_average_accelerator_utilisation"),
    # built vs contracted capacity: more built against the same contracts, a smaller base a year
    # ago (a faster build-out), more contracts a year ago (fewer new ones)
    "it_power_mw": _raise("it_power_mw", 400),
    "it_power_mw_12m_ago": _lower_float("it_power_mw_12m_ago"),
    "contracted_power_mw_12m_ago": _raise("contracted_power_mw_12m_ago", 480),
}


def _overcapacity(case: dict[str, Any], rules: Any, as_of: str) -> dict[str, Any]:
    """The overcapacity block of the case's assessment: its score and level, as ``assess`` gives
    them (a brief assessment without the range search: neither changes a score or a level, which
    tests/test_bounds.py holds to the full assessment), at a fifth of the cost."""
    from engine.assessment.engine import engine_for
    from engine.case.validation import plain_case

    result = engine_for(rules).assess_plain(plain_case(case), as_of=as_of, brief=True, bounds=False)
    block: dict[str, Any] = result["dimensions"]["overcapacity"]
    return block


def test_the_brief_block_is_the_full_assessments(rules: Any) -> None:
    for path in CASES:
        case = load_file(str(path)).data
        full = assess(case, rules=rules, as_of=AS_OF).dimensions["overcapacity"]
        brief = _overcapacity(case, rules, AS_OF)
        assert (brief["score"], brief["level"]) == (full.score, full.level), path.name


def monotonicity_property(rules: Any, examples: int, seen: list[str], *, derandomize: bool = False,
                          only: tuple[str, ...] = tuple(WORSENINGS), shrink: bool = True,
                          cases: Any = None) -> Any:
    """A Hypothesis test: worsening one input of a generated facility never lowers its score or level.
    ``only`` limits the inputs worsened and ``shrink=False`` stops at the first counterexample (both
    for the band-rule test, which only needs to see the property fail); ``cases``: the facilities
    (default ``facilities()``)."""
    phases = tuple(Phase) if shrink else (Phase.explicit, Phase.reuse, Phase.generate)

    @settings(max_examples=examples, deadline=None, derandomize=derandomize, database=None, phases=phases,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(case=facilities() if cases is None else cases,
           as_of=st.sampled_from(["2023-12-26", "2025-06-01", AS_OF, "2027-01-01"]), data=st.data())
    def check(case: dict[str, Any], as_of: str, data: st.DataObject) -> None:
        present = [k for k in only if k in case["facility"]]
        if not present:
            seen.append("nothing to worsen")
            return
        field = data.draw(st.sampled_from(present), label="worsened")
        worse = copy.deepcopy(case)
        WORSENINGS[field](data.draw, worse["facility"])
        before, after = _overcapacity(case, rules, as_of), _overcapacity(worse, rules, as_of)
        seen.append(field)
        assert after["score"] >= before["score"], f"{field}: {before['score']} -> {after['score']}"
        assert LEVELS.index(after["level"]) >= LEVELS.index(before["level"]), (
            f"{field}: {before['level']} -> {after['level']}")

    return check


def test_worsening_any_input_never_lowers_the_score_or_level_over_1000_facilities(rules: Any) -> None:
    seen: list[str] = []
    monotonicity_property(rules, 1000, seen)()
    assert len(seen) >= 1000
    assert set(WORSENINGS) <= set(seen), "every kind of worsening was exercised"


@st.composite
def _in_the_build_out_band(draw: st.DrawFn) -> dict[str, Any]:
    """A generated facility whose new contracts took up 10-50% of the load added in the year (the
    build-out band below): what a worse build-out figure moves out of it. Generic facilities reach
    the band by a narrow combination of four figures, which Hypothesis finds or not depending on
    the constants of the modules other tests loaded first (its draws are not only the seed's)."""
    case = draw(facilities())
    built = draw(st.floats(50, 400))
    before = built * draw(st.floats(0, 0.8))
    contracted_before = draw(st.floats(0, 100))
    share = draw(st.floats(0.12, 0.48))
    case["facility"].update(it_power_mw=built, it_power_mw_12m_ago=before,
                            contracted_power_mw_12m_ago=contracted_before,
                            contracted_power_mw=contracted_before + share * (built - before))
    return case


BANDS = {
    "pue": ({"all": [{"fact": "facility.pue", "gte": 1.3}, {"fact": "facility.pue", "lt": 1.5}]}, ("pue",), None),
    "build-out": ({"all": [{"fact": "derived.buildout_contracted_share_12m", "gte": 0.1},
                           {"fact": "derived.buildout_contracted_share_12m", "lt": 0.5}]},
                  ("contracted_power_mw", "it_power_mw", "it_power_mw_12m_ago", "contracted_power_mw_12m_ago"),
                  _in_the_build_out_band),
    "sharing": ({"fact": "facility.shared_capacity_offered", "eq": True}, ("shared_capacity_offered",), None),
}


@pytest.mark.parametrize("band", sorted(BANDS))
def test_the_monotonicity_property_catches_a_band_rule(tmp_path: Path, band: str) -> None:
    when, only, cases = BANDS[band]
    rule = yaml.safe_dump([{
        "id": "OVX-999", "title": "A non-monotone rule (a band, or a reward for a worse value)",
        "dimension": "overcapacity",
        "severity": "medium", "points": 40, "basis": "heuristic", "effective_from": "2020-01-01",
        "applies_to": ["facility"],
        "when": when,
        "message": "A band rule, for testing the property only (heuristic).",
        "citations": [{"instrument": "test fixture", "confidence": "UNCONFIRMED"}],
        # the bundled ruleset declares languages [en, zh]: a rule added to it has both
        "zh": {"title": "非单调规则（仅供测试）", "message": "用于测试该性质的区间规则（启发式）。"},
    }], allow_unicode=True)
    broken = tmp_path / "overcapacity.yaml"
    indented = "".join(f"  {line}\n" for line in rule.splitlines())
    broken.write_text(RULESET.read_text(encoding="utf-8") + "\n" + indented, encoding="utf-8")
    (tmp_path / "sources.yaml").write_bytes((RULESET.parent / "sources.yaml").read_bytes())  # the sources it cites
    with pytest.raises(AssertionError):
        # It stops at the first counterexample; 300 examples leave a wide margin for each band (the
        # build-out band from facilities inside it, see _in_the_build_out_band).
        monotonicity_property(load_rules([broken]), 300, [], derandomize=True, only=only, shrink=False,
                              cases=None if cases is None else cases())()
