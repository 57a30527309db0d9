"""The on-disk compile cache: same results, invalidated by any change, private to the user."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine import assess, load_rules
from engine.cache import cache_dir, cached

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "cases" / "guizhou-icc.yaml"
RULE = (
    "ruleset: {id: c, version: '1', title: C}\n"
    "rules:\n"
    "  - id: CCH-001\n    title: In China\n    dimension: export_control\n    severity: high\n    points: POINTS\n"
    "    basis: advisory\n    effective_from: 2020-01-01\n    when: {fact: location.country, eq: CN}\n"
    "    message: m\n    citations: [{instrument: test, confidence: S}]\n"
)


def test_a_cached_load_gives_the_same_assessment_as_a_fresh_one(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    monkeypatch.setenv("AIRISK_CACHE_DIR", str(tmp_path / "cache"))
    first = assess(CASE, rules=load_rules(ROOT / "rulesets"), as_of="2026-11-22").to_json()
    second = assess(CASE, rules=load_rules(ROOT / "rulesets"), as_of="2026-11-22").to_json()
    monkeypatch.setenv("AIRISK_NO_CACHE", "1")
    fresh = assess(CASE, rules=load_rules(ROOT / "rulesets"), as_of="2026-11-22").to_json()
    assert first == second == fresh
    assert any((tmp_path / "cache").glob("rules-*.pickle"))


def test_changing_a_ruleset_file_invalidates_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIRISK_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "r.yaml"
    path.write_text(RULE.replace("POINTS", "10"))
    assert load_rules(path).rules[0].points == 10
    path.write_text(RULE.replace("POINTS", "20"))
    assert load_rules(path).rules[0].points == 20


def test_a_directory_others_can_write_to_is_not_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    monkeypatch.setenv("AIRISK_CACHE_DIR", str(shared))
    assert cache_dir() is None
    assert cached("x", "k", lambda: 42) == 42
    assert list(shared.iterdir()) == []


def test_a_damaged_entry_is_rebuilt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIRISK_CACHE_DIR", str(tmp_path))
    os.chmod(tmp_path, 0o700)
    (tmp_path / "x-k.pickle").write_bytes(b"not a pickle")
    os.chmod(tmp_path / "x-k.pickle", 0o600)
    assert cached("x", "k", lambda: 7) == 7
    assert cached("x", "k", lambda: 8) == 7
