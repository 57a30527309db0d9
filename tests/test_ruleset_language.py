"""Rulesets that say a thing once: named conditions (`define:`), dated `parameters:` and a shared
sources file cited by key; and the bundled rulesets written that way."""

from __future__ import annotations

import collections
import copy
import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine import assess, load_rules
from engine.errors import RulesetError
from engine.ruleset.load import RULESET_LIMITS, combine, load_ruleset_file, ruleset_files
from engine.ruleset.model import RuleSet
from engine.ruleset.parse import parse_ruleset, written_out
from engine.ruleset.sources import parse_sources
from engine.source.safeyaml import load_text

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ("export-controls", "overcapacity", "tiered-safety")

FACILITY = {"id": "f1", "kind": "facility", "name": "Test facility",
            "location": {"country": "CN", "province": "Guizhou", "city": "Guiyang"},
            "accelerators": [{"model": "A800", "count": 100, "datasheet": [{"tops": 624, "bit_length": 8}],
                              "die_area_mm2": 826, "designed_for_datacenter": True}]}  # TPP 4992

TPP = {"fact": "derived.tpp", "gte": {"param": "tpp"}}


def rule(rid: str, when: dict[str, Any], **extra: Any) -> dict[str, Any]:
    base = {"id": rid, "title": rid, "dimension": "export_control", "severity": "high", "points": 30,
            "basis": "advisory", "effective_from": "2023-11-17", "when": when, "message": "m",
            "citations": [{"instrument": "test", "confidence": "S"}]}
    base.update(extra)
    return base


def data_of(rules: list[dict[str, Any]], **sections: Any) -> dict[str, Any]:
    return {"ruleset": {"id": "t", "version": "1", "title": "test"}, **sections, "rules": rules}


def load(data: dict[str, Any]) -> RuleSet:
    """Through YAML text, so problems carry real lines and columns."""
    return combine([parse_ruleset(load_text(yaml.safe_dump(data, sort_keys=False), "t.yaml"))])


def problems(data: dict[str, Any]) -> list[Any]:
    with pytest.raises(RulesetError) as exc:
        load(data)
    return exc.value.problems


def one(data: dict[str, Any], code: str) -> Any:
    found = [p for p in problems(data) if p.code == code]
    assert len(found) == 1, [str(p) for p in problems(data)]
    assert found[0].line is not None and found[0].file == "t.yaml"
    return found[0]


# ------------------------------------------------------------------ define


SOME_TPP = {"some": "accelerators", "where": {"ref": "meets"}}
DEFINE = {"high_tpp": {"fact": "derived.tpp", "gte": 4800},
          "dense": {"all": [{"fact": "derived.tpp", "gte": 1600},
                            {"fact": "derived.performance_density", "gte": 5.92}]},
          "meets": {"any": [{"ref": "high_tpp"}, {"ref": "dense"}]},
          "in_us": {"fact": "derived.destination_ear_country", "eq": "US"}}


def test_a_rule_using_named_conditions_gets_the_tree_it_would_have_written_out() -> None:
    written = rule("TST-001", {"all": [SOME_TPP, {"not": {"ref": "in_us"}}]})
    spelled = rule("TST-001", {"all": [
        {"some": "accelerators", "where": {"any": [DEFINE["high_tpp"], DEFINE["dense"]]}},
        {"not": DEFINE["in_us"]}]})
    named = load(data_of([written], define=DEFINE)).rules[0]
    plain = load(data_of([spelled])).rules[0]
    assert named.raw_when == plain.raw_when and named.condition == plain.condition
    assert named.source_when == written["when"] and plain.source_when is None
    assert [f.rule_id for f in assess(FACILITY, rules=load(data_of([written], define=DEFINE)),
                                      as_of="2024-01-01").findings] == ["TST-001"]


def test_an_unknown_named_condition_is_located_at_the_ref_with_a_did_you_mean() -> None:
    p = one(data_of([rule("TST-001", {"all": [{"ref": "high_tp"}, {"ref": "high_tpp"}]})],
                    define={"high_tpp": DEFINE["high_tpp"]}), "unknown_ref")
    assert p.pointer == "/rules/0/when/all/0/ref"
    assert "high_tp" in p.message and p.hint == "did you mean 'high_tpp'?"


def test_named_conditions_that_refer_to_each_other_in_a_cycle_are_refused_at_the_definition() -> None:
    define = {"a": {"any": [{"ref": "b"}, DEFINE["high_tpp"]]}, "b": {"not": {"ref": "a"}}}
    found = [p for p in problems(data_of([rule("TST-001", {"some": "accelerators", "where": {"ref": "a"}})],
                                          define=define)) if p.code == "ref_cycle"]
    assert {p.pointer for p in found} == {"/define/a/any/0/ref", "/define/b/not/ref"}
    assert any("a → b → a" in p.message for p in found)


def test_a_named_condition_no_rule_uses_is_an_error() -> None:
    p = one(data_of([rule("TST-001", DEFINE["in_us"])], define={"spare": DEFINE["high_tpp"]}),
            "unused_definition")
    assert p.pointer == "/define/spare" and "spare" in p.message


def test_a_problem_inside_a_definition_is_located_in_the_definition_and_names_where_it_was_used() -> None:
    define = {"bad": {"fact": "derived.tppp", "gte": 1}, "outer": {"all": [{"ref": "bad"}, DEFINE["high_tpp"]]}}
    found = [p for p in problems(data_of([rule("TST-001", {"some": "accelerators", "where": {"ref": "outer"}})],
                                          define=define)) if "tppp" in p.message]
    assert found and found[0].pointer == "/define/bad/fact"
    assert "in definition 'bad', used at /rules/0/when/where" in found[0].message


# ------------------------------------------------------------------ parameters


def split_rules(change: str = "2025-01-01") -> list[dict[str, Any]]:
    before = dt.date.fromisoformat(change) - dt.timedelta(days=1)
    text = {"message": "TPP at least {param.tpp:,.0f} ({param.tpp})", "title": "TPP ≥ {param.tpp}"}
    return [rule("TST-001", {"some": "accelerators", "where": TPP}, effective_to=before.isoformat(), **text),
            rule("TST-002", {"some": "accelerators", "where": TPP}, effective_from=change, **text)]


PARAMS = {"tpp": {"description": "a threshold that rises", "unit": "TPP", "values": {"2023-11-17": 4800,
                                                                                      "2025-01-01": 5000}}}


def test_each_rule_gets_the_value_in_force_in_its_window_in_conditions_and_text() -> None:
    rules = load(data_of(split_rules(), parameters=PARAMS))
    first, second = rules.rules
    assert first.raw_when["where"]["gte"] == 4800 and second.raw_when["where"]["gte"] == 5000
    assert first.message == "TPP at least 4,800 (4800)" and second.title == "TPP ≥ 5000"
    assert rules.rulesets[0].parameters["tpp"].at("2024-12-31") == 4800


def test_on_the_day_before_a_change_the_old_value_applies_and_on_the_day_the_new_one() -> None:
    rules = load(data_of(split_rules(), parameters=PARAMS))
    # TPP 4992: meets 4800 (before the change), not 5000 (from the change)
    assert [f.rule_id for f in assess(FACILITY, rules=rules, as_of="2024-12-31").findings] == ["TST-001"]
    assert [f.rule_id for f in assess(FACILITY, rules=rules, as_of="2025-01-01").findings] == []


def spanning_rule(**extra: Any) -> dict[str, Any]:
    text = {"message": "TPP at least {param.tpp:,.0f}", "title": "TPP ≥ {param.tpp}"}
    return rule("TST-001", {"some": "accelerators", "where": TPP}, **text, **extra)


def test_a_rule_whose_window_spans_a_parameter_change_is_one_dated_variant_per_value() -> None:
    rules = load(data_of([spanning_rule()], parameters=PARAMS))  # open-ended, from 2023-11-17
    first, second = rules.rules
    assert (first.id, second.id) == ("TST-001", "TST-001")
    assert (first.window.effective_from, first.window.effective_to) == ("2023-11-17", "2024-12-31")
    assert (second.window.effective_from, second.window.effective_to) == ("2025-01-01", None)
    assert first.raw_when["where"]["gte"] == 4800 and second.raw_when["where"]["gte"] == 5000
    assert first.title == "TPP ≥ 4800" and second.message == "TPP at least 5,000"
    assert [r.id for r in rules.rules if r.in_force("2024-12-31")] == ["TST-001"]
    assert [r.id for r in rules.rules if r.in_force("2025-01-01")] == ["TST-001"]
    bounded = load(data_of([spanning_rule(effective_to="2025-01-01")], parameters=PARAMS)).rules
    assert [(r.window.effective_from, r.window.effective_to) for r in bounded] == [
        ("2023-11-17", "2024-12-31"), ("2025-01-01", "2025-01-01")]


def test_the_dated_variant_in_force_decides_the_finding_its_window_and_its_text() -> None:
    rules = load(data_of([spanning_rule()], parameters=PARAMS))
    # TPP 4992: meets 4800 up to the day before the change, not 5000 from the change
    before = assess(FACILITY, rules=rules, as_of="2024-12-31")
    assert [(f.rule_id, f.title) for f in before.findings] == [("TST-001", "TPP ≥ 4800")]
    assert before.findings[0].effective.effective_to == "2024-12-31"
    assert assess(FACILITY, rules=rules, as_of="2025-01-01").findings == []
    assert before.provenance.rulesets[0].rules == 1  # one rule, in two dated variants
    bigger = copy.deepcopy(FACILITY)
    bigger["accelerators"][0]["datasheet"] = [{"tops": 700, "bit_length": 8}]  # TPP 5600
    after = assess(bigger, rules=rules, as_of="2025-01-01")
    assert [(f.rule_id, f.title, f.effective.effective_from) for f in after.findings] == [
        ("TST-001", "TPP ≥ 5000", "2025-01-01")]


def test_a_parameter_used_through_a_named_condition_cuts_the_rule_too() -> None:
    data = data_of([rule("TST-001", {"some": "accelerators", "where": {"ref": "meets"}})], parameters=PARAMS,
                   define={"meets": TPP})
    assert [r.raw_when["where"]["gte"] for r in load(data).rules] == [4800, 5000]


def test_a_value_written_again_unchanged_does_not_cut_a_rule() -> None:
    same = {"tpp": {"2023-11-17": 4800, "2025-01-01": 4800}}
    assert len(load(data_of([spanning_rule()], parameters=same)).rules) == 1


def test_a_rule_with_scenarios_whose_window_spans_a_change_is_refused_naming_rule_parameter_and_date() -> None:
    # A scenario's window may lie across the cut, so such a rule is not cut: its author splits it.
    scen = spanning_rule(effective_to="2025-06-01",
                         scenarios={"later": {"effective_from": "2024-06-01", "effective_to": None}})
    data = data_of([scen], parameters=PARAMS)
    data["ruleset"]["scenarios"] = {"later": {"title": "later", "basis": "advisory"}}
    found = [p for p in problems(data) if p.code == "parameter_window"]
    assert found and all(p.line is not None for p in found)
    assert any("parameter 'tpp' changes on 2025-01-01 (4800 → 5000), inside rule TST-001's window" in p.message
               and "split the rule at 2025-01-01" in p.message for p in found)


def test_a_scenario_window_that_spans_a_change_is_refused_too() -> None:
    scen = rule("TST-001", {"some": "accelerators", "where": TPP}, effective_to="2024-06-01",
                scenarios={"later": {"effective_from": "2024-06-01", "effective_to": None}})
    data = data_of([scen], parameters=PARAMS)
    data["ruleset"]["scenarios"] = {"later": {"title": "later", "basis": "advisory"}}
    assert "TST-001" in one(data, "parameter_window").message


def test_a_rule_in_force_before_a_parameters_first_date_is_refused() -> None:
    early = rule("TST-001", {"some": "accelerators", "where": TPP}, effective_from="2023-11-16",
                 effective_to="2024-01-01")
    p = one(data_of([early], parameters=PARAMS), "parameter_window")
    assert "in force from 2023-11-16, before parameter 'tpp' has a value (its first date is 2023-11-17)" in p.message


def test_unknown_parameters_in_conditions_and_text_are_located_with_a_did_you_mean() -> None:
    bad = rule("TST-001", {"some": "accelerators", "where": {"fact": "derived.tpp", "gte": {"param": "tp"}}},
               message="at least {param.tpx}", effective_to="2024-01-01")
    found = [p for p in problems(data_of([bad], parameters=PARAMS)) if p.code == "unknown_param"]
    assert [p.pointer for p in found] == ["/rules/0/message", "/rules/0/when/where/gte/param"]
    assert all(p.hint == "did you mean 'tpp'?" for p in found)


def test_a_malformed_date_an_unused_parameter_and_a_format_that_does_not_fit_are_errors() -> None:
    params = {**copy.deepcopy(PARAMS), "spare": {"2023-13-01": 1}}
    r = split_rules()
    r[0]["message"] = "{param.tpp:%Y}"
    codes = {(p.code, p.pointer) for p in problems(data_of(r, parameters=params))}
    assert ("parameter", "/parameters/spare/2023-13-01") in codes
    assert ("unused_parameter", "/parameters/spare") in codes
    assert ("parameter", "/rules/0/message") in codes


def test_the_foundry_rules_read_their_transistor_threshold_from_one_dated_parameter() -> None:
    rs = next(r for r in load_rules().rulesets if r.id == "export-controls")
    param = rs.parameters["foundry_transistors"]
    assert param.values == (("2025-01-16", 30), ("2027-01-01", 35), ("2029-01-01", 40))
    assert param.at("2026-12-31") == 30 and param.at("2027-01-01") == 35
    titles = {r.id: r.title for r in rs.rules}
    assert "35 billion" in titles["USX-081"] and "40 billion" in titles["USX-082"]


# ------------------------------------------------------------------ sources


SOURCES = """sources:
  fr-88-73458:
    instrument: "AC/S IFR, 88 FR 73458"
    url: "https://www.federalregister.gov/d/2023-23055"
    date: 2023-10-25
    confidence: P
"""


def write_pair(directory: Path, cites: list[Any], sources: str = SOURCES) -> Path:
    data = data_of([rule("TST-001", {"fact": "derived.destination_ear_country", "eq": "CN"}, citations=cites,
                         basis="binding")])
    data["ruleset"]["sources"] = "sources.yaml"
    path = directory / "t.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    (directory / "sources.yaml").write_text(sources, encoding="utf-8")
    return path


def test_a_citation_by_key_is_the_entry_with_its_pinpoint(tmp_path: Path) -> None:
    path = write_pair(tmp_path, ["fr-88-73458", {"source": "fr-88-73458", "article": "ECCN 3A090.a",
                                                 "note": "n", "confidence": "P-q"}])
    by_key, pinpointed = load_ruleset_file(path).rules[0].citations
    assert by_key.instrument == "AC/S IFR, 88 FR 73458" and by_key.date == "2023-10-25" and by_key.article is None
    assert (pinpointed.article, pinpointed.note, pinpointed.confidence) == ("ECCN 3A090.a", "n", "P-q")


def test_an_unknown_source_key_is_located_with_a_did_you_mean(tmp_path: Path) -> None:
    path = write_pair(tmp_path, ["fr-88-73548", {"source": "fr-88-7345"}])
    with pytest.raises(RulesetError) as exc:
        load_ruleset_file(path)
    found = [p for p in exc.value.problems if p.code == "unknown_source"]
    assert [p.pointer for p in found] == ["/rules/0/citations/0", "/rules/0/citations/1/source"]
    assert all(p.hint == "did you mean 'fr-88-73458'?" and p.line for p in found)


def test_a_key_in_a_ruleset_that_names_no_sources_file_is_an_error() -> None:
    p = one(data_of([rule("TST-001", DEFINE["in_us"], citations=["fr-88-73458"])]), "unknown_source")
    assert "names no sources file" in p.message and p.pointer == "/rules/0/citations/0"


def test_a_broken_sources_file_is_located_in_that_file() -> None:
    with pytest.raises(RulesetError) as exc:
        parse_sources(b"sources:\n  k:\n    instrument: x\n    confidense: P\n", "s.yaml")
    assert exc.value.first.file == "s.yaml" and exc.value.first.line is not None


def test_a_change_to_the_sources_file_misses_the_cache_and_changes_the_provenance_sha(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRISK_CACHE_DIR", str(tmp_path / "cache"))
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    path = write_pair(rules_dir, ["fr-88-73458"])
    first = load_rules(rules_dir)
    assert first.rules[0].citations[0].instrument == "AC/S IFR, 88 FR 73458"
    (rules_dir / "sources.yaml").write_text(SOURCES.replace("AC/S IFR", "Renamed IFR"), encoding="utf-8")
    second = load_rules(rules_dir)
    assert second.cache_key != first.cache_key
    assert second.rules[0].citations[0].instrument == "Renamed IFR, 88 FR 73458"
    expected = hashlib.sha256(path.read_bytes() + (rules_dir / "sources.yaml").read_bytes()).hexdigest()
    assert second.rulesets[0].sha256 == expected
    assert ruleset_files([rules_dir]) == [path]  # the sources file is not a ruleset


# ------------------------------------------------------------------ the bundled rulesets


_CMP = re.compile(r"\{fact: ([a-z0-9_.]+), (?:eq|ne|lt|lte|gt|gte): (-?\d[\d._]*(?:[eE][-+]?\d+)?)\}")


def test_no_bundled_ruleset_repeats_a_numeric_threshold_in_its_comparisons() -> None:
    for name in BUNDLED:
        text = (ROOT / "rulesets" / f"{name}.yaml").read_text(encoding="utf-8")
        seen = collections.Counter((m.group(1).split(".")[-1], float(m.group(2))) for m in _CMP.finditer(text))
        # 0 is "none"/"any", not a threshold
        repeated = {k: n for k, n in seen.items() if n > 1 and k[1] != 0}
        assert not repeated, f"{name}: write these once, under parameters: {repeated}"
        assert "{param:" in text



def _yaml_anchors_and_aliases(text: str) -> list[str]:
    """Each anchor (``&name``) and alias (``*name``) in a YAML text, with its line."""
    found = []
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            found.append(f"line {line}: alias *{event.anchor}")
        elif getattr(event, "anchor", None):
            found.append(f"line {line}: anchor &{event.anchor}")
    return found


def test_no_bundled_ruleset_uses_yaml_anchors_or_aliases() -> None:
    # an anchor is invisible to the engine: the rule docs print the expanded tree and a reader
    # cannot see what the name means; a named condition is shown by name
    assert _yaml_anchors_and_aliases("a: &x {b: 1}\nc: [*x]\n") == ["line 1: anchor &x", "line 2: alias *x"]
    for name in BUNDLED:
        text = (ROOT / "rulesets" / f"{name}.yaml").read_text(encoding="utf-8")
        found = _yaml_anchors_and_aliases(text)
        assert not found, (f"{name}.yaml: say a recurring condition once under `define:` and use it as "
                           f"{{ref: name}} (docs/rule-language.md, \"Saying a thing once\"), not with YAML "
                           f"anchors and aliases: {found}")

def _sources() -> dict[str, dict[str, Any]]:
    data = load_text((ROOT / "rulesets" / "sources.yaml").read_bytes(), "sources.yaml").data
    return dict(data["sources"])


def test_every_bundled_citation_is_by_key_and_each_instrument_is_written_once() -> None:
    for name in BUNDLED:
        data = load_text((ROOT / "rulesets" / f"{name}.yaml").read_bytes(), name).data
        assert data["ruleset"]["sources"] == "sources.yaml"
        for r in data["rules"]:
            for c in r["citations"]:
                assert isinstance(c, str) or "instrument" not in c, f"{name} {r['id']}: cite it by key"
    instruments = [e["instrument"] for e in _sources().values()]
    assert len(instruments) == len(set(instruments))


def test_every_shared_source_is_cited_by_some_bundled_rule() -> None:
    cited = {c.instrument for r in load_rules().rules for c in r.citations}
    assert {e["instrument"] for e in _sources().values()} <= cited


def test_each_federal_register_document_is_one_shared_source_not_several_spellings() -> None:
    primary: dict[str, list[str]] = collections.defaultdict(list)
    for key, entry in _sources().items():
        if entry["confidence"] in ("P", "P-q"):  # the document itself, not an analysis of it
            for doc in set(re.findall(r"\b\d+ FR \d+\b", entry["instrument"])):
                primary[doc].append(key)
    assert primary["88 FR 73458"] == ["fr-88-73458"]
    assert {doc: keys for doc, keys in primary.items() if len(keys) > 1} == {}


def test_a_sources_file_name_the_schema_refuses_is_reported_and_never_read() -> None:
    data = data_of([rule("TST-001", DEFINE["in_us"])])
    data["ruleset"]["sources"] = "/etc/sources.yaml"
    found = problems(data)
    assert [p.pointer for p in found if p.code == "schema"] == ["/ruleset/sources"]
    assert not [p for p in found if p.code == "io_error"]


def test_written_out_gives_a_bundled_rule_as_if_its_names_parameters_and_sources_were_spelt_out() -> None:
    doc = load_text((ROOT / "rulesets" / "export-controls.yaml").read_bytes(), str(ROOT / "rulesets" /
                                                                                   "export-controls.yaml"),
                    RULESET_LIMITS)
    data = written_out(doc)
    usx021 = next(r for r in data["rules"] if r["id"] == "USX-021")
    assert usx021["effective_from"] == dt.date(2023, 11, 17)  # everything else as written
    assert "ref" not in repr(usx021["when"]) and "param" not in repr(usx021["when"])
    assert usx021["citations"][0]["instrument"].endswith("88 FR 73458") and "define" not in data
    loaded = next(r for r in load_rules().rules if r.id == "USX-021")
    assert usx021["when"] == loaded.raw_when


def test_the_rule_docs_give_each_dated_variant_its_own_entry_and_link() -> None:
    from engine.authoring.docs import render_ruleset

    ruleset = load(data_of([spanning_rule()], parameters=PARAMS)).rulesets[0]
    page = render_ruleset(ruleset)
    assert "### TST-001: TPP ≥ 4800 (from 2023-11-17)" in page
    assert "### TST-001: TPP ≥ 5000 (from 2025-01-01)" in page
    assert "(#tst-001-tpp--4800-from-2023-11-17)" in page and "(#tst-001-tpp--5000-from-2025-01-01)" in page


SHARED = SOURCES + """parameters:
  tpp:
    description: a threshold two rulesets read
    source: fr-88-73458
    values: {"2023-11-17": 4800, "2025-01-01": 5000}
"""


def write_shared(directory: Path, name: str, **sections: Any) -> Path:
    data = data_of([spanning_rule(citations=["fr-88-73458"])], **sections)
    data["ruleset"]["sources"] = "sources.yaml"
    data["ruleset"]["id"] = name
    (directory / "sources.yaml").write_text(SHARED, encoding="utf-8")
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_parameter_in_the_sources_file_is_shared_by_every_ruleset_that_names_it(tmp_path: Path) -> None:
    one_rules = load_ruleset_file(write_shared(tmp_path, "one")).rules
    other_rules = load_ruleset_file(write_shared(tmp_path, "other")).rules
    for rules in (one_rules, other_rules):  # dated variants from the shared value, in each ruleset
        assert [(r.window.effective_from, r.raw_when["where"]["gte"]) for r in rules] == [
            ("2023-11-17", 4800), ("2025-01-01", 5000)]


def test_a_ruleset_that_defines_a_shared_parameter_again_is_refused_at_its_definition(tmp_path: Path) -> None:
    with pytest.raises(RulesetError) as exc:
        load_ruleset_file(write_shared(tmp_path, "one", parameters={"tpp": {"2023-11-17": 4800}}))
    (p,) = [p for p in exc.value.problems if p.code == "duplicate_parameter"]
    assert p.pointer == "/parameters/tpp" and p.line is not None and "sources.yaml" in p.message


def test_no_two_bundled_rulesets_define_the_same_parameter() -> None:
    owners: dict[str, list[str]] = {}
    for ruleset in load_rules().rulesets:
        data = yaml.safe_load(Path(ruleset.file).read_text(encoding="utf-8"))
        for name in data.get("parameters") or {}:
            owners.setdefault(name, []).append(ruleset.id)
    twice = {name: ids for name, ids in owners.items() if len(ids) > 1}
    assert not twice, f"define these once, under `parameters:` in rulesets/sources.yaml: {twice}"


def test_a_problem_in_a_rule_cut_into_dated_variants_is_reported_once() -> None:
    when = {"some": "accelerators", "where": {"all": [TPP, {"fact": "no_such_fact", "eq": 1}]}}
    text = {"message": "TPP at least {param.tpp:,.0f}", "title": "TPP ≥ {param.tpp}"}
    data = data_of([rule("TST-001", when, **text)], parameters=PARAMS)  # cut at 2025-01-01
    found = [p for p in problems(data) if "no_such_fact" in p.message]
    assert len(found) == 1, [str(p) for p in found]
