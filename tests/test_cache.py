"""The on-disk compile cache: same results, invalidated by any change, private to the user."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine import assess, load_rules
from engine.source.cache import cache_dir, cached

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
    assert any((tmp_path / "cache").glob("rules-*.json"))


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
    (tmp_path / "x-k.json").write_bytes(b"not json")
    os.chmod(tmp_path / "x-k.json", 0o600)
    assert cached("x", "k", lambda: 7) == 7
    assert cached("x", "k", lambda: 8) == 7


# ---------------------------------------------------------------- hardening (issue 17)

ENGINE = ROOT / "engine"


def test_no_object_deserialisation_anywhere_in_the_engine() -> None:
    import re

    banned = re.compile(r"\b(import\s+(c?pickle|marshal|shelve|dill|cloudpickle)\b|from\s+(c?pickle|marshal|shelve|"
                        r"dill|cloudpickle)\s+import|(pickle|marshal|shelve)\.(loads?|open|Unpickler)\b|"
                        r"__import__\(\s*['\"](pickle|marshal|shelve))")
    hits = [f"{f.name}:{n}" for f in sorted(ENGINE.rglob("*.py"))
            for n, line in enumerate(f.read_text().splitlines(), 1) if banned.search(line)]
    assert hits == []


def test_entries_are_tagged_json_and_round_trip() -> None:
    import datetime as dt

    from engine.source.cache import decode, dumps, loads

    rules = load_rules(ROOT / "rulesets")
    value = {"a": (1, 2.5, float("inf")), ("p", "q"): frozenset({"x"}), "d": dt.date(2026, 12, 1), "r": rules.rules[0]}
    back = loads(dumps(value))
    assert back["a"] == (1, 2.5, float("inf")) and back[("p", "q")] == frozenset({"x"})
    assert back["d"] == dt.date(2026, 12, 1)
    assert back["r"].id == rules.rules[0].id and back["r"].condition == rules.rules[0].condition
    for planted in (["C", "Popen", ["L", "sh"]], ["C", "os.system", "id"], {"__reduce__": 1}, ["X"]):
        with pytest.raises(ValueError):
            decode(planted)


def test_a_planted_pickle_or_foreign_type_in_the_cache_is_rebuilt_not_run(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    import pickle  # only the test writes a pickle, to plant it

    monkeypatch.setenv("AIRISK_CACHE_DIR", str(tmp_path))
    os.chmod(tmp_path, 0o700)
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    (tmp_path / "x-k.json").write_bytes(pickle.dumps(Evil()))
    (tmp_path / "y-k.json").write_bytes(b'["C","Evil"]')
    for name in ("x-k.json", "y-k.json"):
        os.chmod(tmp_path / name, 0o600)
    assert cached("x", "k", lambda: 1) == 1
    assert cached("y", "k", lambda: 2) == 2
    assert not marker.exists()


def test_a_symlinked_cache_directory_is_not_followed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "xdg").mkdir()
    (tmp_path / "xdg" / "airisk").symlink_to(real)
    monkeypatch.delenv("AIRISK_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() is None
    assert cached("x", "k", lambda: 3) == 3
    assert list(real.iterdir()) == []


def test_a_relative_xdg_cache_home_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AIRISK_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative-cache")
    monkeypatch.chdir(tmp_path)
    assert cache_dir() == tmp_path / "home" / ".cache" / "airisk"
    assert not (tmp_path / "relative-cache").exists()


def test_a_ruleset_rewritten_during_a_cold_load_cannot_poison_the_cache(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    import hashlib

    import engine.ruleset.parse as R

    monkeypatch.setenv("AIRISK_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "r.yaml"
    v1, v2 = RULE.replace("POINTS", "10").encode(), RULE.replace("POINTS", "20").encode()
    path.write_bytes(v1)
    real = R.parse_ruleset

    def racing(doc: object, *args: object) -> object:  # the other version lands while this one compiles
        path.write_bytes(v2)
        return real(doc, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(R, "parse_ruleset", racing)
    first = load_rules(path)
    monkeypatch.setattr(R, "parse_ruleset", real)
    assert first.rules[0].points == 10
    assert first.rulesets[0].sha256 == hashlib.sha256(v1).hexdigest()
    for data, points in ((v1, 10), (v2, 20), (v1, 10)):
        path.write_bytes(data)
        got = load_rules(path)
        assert got.rules[0].points == points
        assert got.rulesets[0].sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores file modes")
def test_a_read_only_cache_with_a_damaged_entry_does_not_fail(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIRISK_CACHE_DIR", str(tmp_path))
    (tmp_path / "x-k.json").write_bytes(b"damaged")
    os.chmod(tmp_path / "x-k.json", 0o600)
    os.chmod(tmp_path, 0o500)
    try:
        assert cached("x", "k", lambda: 5) == 5
        assert cached("z", "k", lambda: 6) == 6
    finally:
        os.chmod(tmp_path, 0o700)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x-k.json"]


def test_a_full_disk_leaves_no_temporaries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import errno

    import engine.source.cache as cache_mod

    monkeypatch.setenv("AIRISK_CACHE_DIR", str(tmp_path))
    os.chmod(tmp_path, 0o700)

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache_mod.os, "chmod", full)
    assert cached("x", "k", lambda: {"a": 1}) == {"a": 1}
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_file_system_with_a_damaged_entry_does_not_fail(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    import errno
    import tempfile

    monkeypatch.setenv("AIRISK_CACHE_DIR", str(tmp_path))
    os.chmod(tmp_path, 0o700)
    (tmp_path / "x-k.json").write_bytes(b"damaged")
    os.chmod(tmp_path / "x-k.json", 0o600)

    def read_only(*_: object, **__: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "unlink", read_only)  # works as root too, unlike a mode
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    assert cached("x", "k", lambda: 5) == 5
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x-k.json"]
