"""Waivers against ground truth (from branch waivers2): waiving a case's fired rules gives the level
that deleting those rules from the rulesets gives, and ranges never below that (unknown is never
safe); a property over random waiver sets: waiving never raises a level or a worst end, and each
range stays around its level."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import api, waivers
from engine.ruleset.model import LEVEL_ORDER, RuleSet

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-12-02"
CASES = [str(ROOT / "cases" / n) for n in ("ts-nudifier-app.yaml", "ec-ascend-910b-us-nexus.yaml", "guizhou-icc.yaml")]


@pytest.fixture(scope="module")
def rules() -> Any:
    return api.load_rules()


@pytest.fixture(scope="module")
def plain(rules: Any) -> list[dict[str, Any]]:
    return api.assess_files(CASES, rules, AS_OF)


def _waivers(tmp: Path, case_id: str, rule_ids: list[str]) -> Any:
    path = tmp / f"w-{len(list(tmp.iterdir()))}.yaml"
    path.write_text("waivers:\n" + "".join(
        f"  - rule: {r}\n    cases: {{ids: [{case_id}]}}\n    reason: r\n    approver: a\n"
        "    created: 2026-01-01\n    expires: 2026-12-31\n" for r in rule_ids) if rule_ids else "waivers: []\n",
        encoding="utf-8")
    return waivers.load(path)


def test_waiving_fired_rules_is_deleting_them_for_the_level_and_never_lowers_the_range_below(
        rules: Any, plain: list[dict[str, Any]], tmp_path: Path) -> None:
    for path, a in zip(CASES[:2], plain, strict=False):
        for dim in ("safety", "export_control"):
            fired = sorted({f["rule_id"] for f in a["findings"] if f["dimension"] == dim})
            if not fired:
                continue
            waived = api.assess_files([path], rules, AS_OF, waivers=_waivers(tmp_path, a["case_id"], fired))[0]
            without = RuleSet(tuple(dataclasses.replace(rs, rules=tuple(r for r in rs.rules if r.id not in fired))
                                    for rs in rules.rulesets))  # built in memory: no cache key
            truth = api.assess_dict(path, without, AS_OF)
            mine, real = waived["dimensions"][dim], truth["dimensions"][dim]
            assert mine["level"] == real["level"], (a["case_id"], dim)
            assert LEVEL_ORDER[mine["level_range"][1]] >= LEVEL_ORDER[real["level_range"][1]], (a["case_id"], dim)
            assert LEVEL_ORDER[waived["rating_range"][1]] >= LEVEL_ORDER[truth["rating_range"][1]]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_waiving_never_raises_a_level_and_keeps_every_range_around_its_level(
        data: st.DataObject, rules: Any, plain: list[dict[str, Any]], tmp_path: Path) -> None:
    i = data.draw(st.integers(0, len(CASES) - 1))
    a = plain[i]
    fired = sorted({f["rule_id"] for f in a["findings"]})
    chosen = data.draw(st.lists(st.sampled_from(fired), unique=True, max_size=6))
    out = api.assess_files([CASES[i]], rules, AS_OF, waivers=_waivers(tmp_path, a["case_id"], chosen))[0]
    assert sorted({f["rule_id"] for f in out["findings"] if f.get("waived")}) == sorted(chosen)
    for dim, d in out["dimensions"].items():
        if not d["assessed"]:
            continue
        before = a["dimensions"][dim]
        lo, hi = (LEVEL_ORDER[x] for x in d["level_range"])
        assert lo <= LEVEL_ORDER[d["level"]] <= hi
        assert LEVEL_ORDER[d["level"]] <= LEVEL_ORDER[before["level"]]
        assert hi <= LEVEL_ORDER[before["level_range"][1]]
        counted = [f for f in out["findings"] if f["dimension"] == dim and not f.get("waived")
                   and f["severity"] != "info"]
        assert d["score"] == min(100.0, round(sum(f["points"] for f in counted), 6))
