"""English and Chinese (issue 21): the rulesets' Chinese text is complete and has the English
placeholders, a missing language or a placeholder mismatch is a located validation error, and
``--lang zh`` renders the rules and the report in Chinese while rule ids, fact paths, levels and
every decision stay those of the English."""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import engine
from engine.cli import main
from engine.errors import RulesetError
from engine.lang.i18n import LANGS, NAMES, PHRASES, name, phrase
from engine.render import render
from engine.ruleset.check_rules import placeholder_tokens
from engine.ruleset.load import load_rules, ruleset_files
from engine.scale import DIMENSIONS, LEVELS, SEVERITIES

ROOT = Path(__file__).resolve().parents[1]
RULESETS = ROOT / "rulesets"
BUNDLED = list(ruleset_files([RULESETS]))
CASE = ROOT / "cases" / "oc-guizhou-hub-h20.yaml"
AS_OF = "2026-12-01"
# Independent of the engine's own pattern: any {…} without braces inside is a placeholder.
BRACED = re.compile(r"\{[^{}]*\}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def _yaml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _overcapacity_rule(rule_id: str) -> dict[str, Any]:
    rule: dict[str, Any] = next(r for r in _yaml(RULESETS / "overcapacity.yaml")["rules"] if r["id"] == rule_id)
    return rule


# --------------------------------------------------------------------------- the bundled rulesets


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_every_bundled_ruleset_declares_english_and_chinese_and_every_rule_has_complete_chinese_text(
        path: Path) -> None:
    data = _yaml(path)
    header = data["ruleset"]
    assert header.get("languages") == ["en", "zh"], f"{path.name}: declare `languages: [en, zh]` in the header"
    gaps: list[str] = []
    zh_header = header.get("zh") or {}
    gaps += [f"ruleset.zh.{f}" for f in ("title", "description")
             if f in header and not CJK.search(zh_header.get(f, ""))]
    for tier, scheme in (header.get("tiers") or {}).items():
        if not CJK.search((scheme.get("zh") or {}).get("title", "")):
            gaps.append(f"tiers.{tier}.zh.title")
    for rule in data["rules"]:
        zh = rule.get("zh") or {}
        pairs = [(f, rule.get(f), zh.get(f)) for f in ("title", "message", "remediation", "would_change")]
        pairs += [(f"duty.{f}", (rule.get("duty") or {}).get(f), (zh.get("duty") or {}).get(f))
                  for f in ("obligation", "deadline")]
        for field, english, chinese in pairs:
            if english is None:
                assert chinese is None, f"{rule['id']}: zh.{field} translates nothing"
                continue
            if not isinstance(chinese, str) or not CJK.search(chinese):
                gaps.append(f"{rule['id']}.zh.{field}")
            elif Counter(BRACED.findall(english)) != Counter(BRACED.findall(chinese)):
                gaps.append(f"{rule['id']}.zh.{field} (placeholders differ)")
    assert not gaps, f"{path.name}: {len(gaps)} missing or wrong: {', '.join(gaps[:20])}"


def test_the_bundled_rules_load_in_chinese_with_every_text_in_chinese_for_the_overcapacity_ruleset() -> None:
    en, zh = load_rules(lang="en"), load_rules(lang="zh")
    assert zh.lang == "zh" and en.lang == "en"
    assert [r.id for r in en.rules] == [r.id for r in zh.rules]
    for a, b in zip(en.rules, zh.rules, strict=True):
        assert (a.condition, a.points, a.window, a.severity, len(a.citations)) == (
            b.condition, b.points, b.window, b.severity, len(b.citations))
        if a.ruleset_id == "overcapacity":
            for field in ("title", "message", "remediation", "would_change"):
                text = getattr(b, field)
                assert text is None or CJK.search(text), f"{b.id}.{field} is not Chinese: {text!r}"
    # One parse for both languages: same files, same provenance SHA-256, same compile-cache key.
    assert [rs.sha256 for rs in en.rulesets] == [rs.sha256 for rs in zh.rulesets]
    assert en.cache_key == zh.cache_key


# Instruments issued in China (by their English description's opening), and Chinese reports of them.
CHINESE_ISSUERS = re.compile(r"^(CAC |MOFCOM|PRC (export|licensing)|TC260|GB(/T)? \d|Personal Information Protection|"
                             r"Provisions on|Interim Measures|Measures for (Labelling|S&T)|Decision amending the "
                             r"Cybersecurity|AI Safety Governance|NDRC|MIIT|National Data|Special action|China "
                             r"Computing|Hub node|Implementation plan|CAICT|Xinhua|cnr\.cn|[\u4e00-\u9fff])")


def test_every_chinese_instrument_in_the_sources_file_has_its_chinese_title() -> None:
    sources = _yaml(RULESETS / "sources.yaml")["sources"]
    chinese = {k: v for k, v in sources.items() if CHINESE_ISSUERS.search(v["instrument"])}
    assert len(chinese) >= 30  # the check itself must see the Chinese instruments
    missing = [k for k, v in chinese.items() if not CJK.search((v.get("zh") or {}).get("instrument", ""))]
    assert not missing, f"no zh.instrument for: {', '.join(missing)}"
    titled = [v["zh"]["instrument"] for v in sources.values() if "zh" in v]
    assert "《生成式人工智能服务管理暂行办法》" in " ".join(titled)
    assert all(t.count("《") == t.count("》") for t in titled)


def test_a_citation_reads_under_its_chinese_title_in_chinese_and_its_english_one_in_english() -> None:
    sources = _yaml(RULESETS / "sources.yaml")["sources"]
    en = engine.assess_dict(str(CASE), as_of=AS_OF)
    zh = engine.assess_dict(str(CASE), as_of=AS_OF, lang="zh")
    chinese = {s["instrument"]: s["zh"]["instrument"] for s in sources.values() if "zh" in s}
    translated = 0
    for fe, fz in zip(en["findings"], zh["findings"], strict=True):
        for ce, cz in zip(fe["citations"], fz["citations"], strict=True):
            assert cz["instrument"] == chinese.get(ce["instrument"], ce["instrument"])
            assert (cz["url"], cz["date"], cz["confidence"], cz["article"]) == (
                ce["url"], ce["date"], ce["confidence"], ce["article"])
            translated += ce["instrument"] in chinese
    assert translated > 0


# --------------------------------------------------------------------------- validation


HEADER = "ruleset:\n  id: tiny\n  version: '1'\n  title: Tiny\n{extra}rules:\n"
RULE = """  - id: TNY-001
    title: Low utilisation
    dimension: overcapacity
    severity: medium
    points: 30
    basis: heuristic
    effective_from: 2020-01-01
    applies_to: [facility]
    when: {{fact: facility.accelerator_utilisation, lt: 0.5}}
    message: Utilisation is {{facility.accelerator_utilisation:.0%}} with PUE {{facility.pue}}.
    remediation: Report utilisation.
    citations:
      - {{instrument: Analyst, confidence: S}}
{zh}"""
ZH_OK = ("    zh:\n      title: 利用率低\n"
         "      message: PUE为{facility.pue}，利用率为{facility.accelerator_utilisation:.0%}。\n"
         "      remediation: 报告利用率。\n")


def _facility(**facts: Any) -> dict[str, Any]:
    return {"id": "f", "name": "F", "kind": "facility", "facility": facts}


def _write(tmp_path: Path, zh: str, extra: str = "  languages: [en, zh]\n  zh: {title: 微型}\n") -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(HEADER.format(extra=extra) + RULE.format(zh=zh), encoding="utf-8")
    return path


def _problems(path: Path) -> list[Any]:
    with pytest.raises(RulesetError) as info:
        load_rules([path])
    return list(info.value.problems)


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_a_complete_translation_with_its_placeholders_in_another_order_is_valid_and_renders(tmp_path: Path) -> None:
    path = _write(tmp_path, ZH_OK)
    rules = load_rules([path], lang="zh")
    assert rules.rules[0].title == "利用率低" and rules.rulesets[0].title == "微型"
    result = engine.assess_dict(_facility(accelerator_utilisation=0.3, pue=1.4), rules, as_of=AS_OF)
    assert result["lang"] == "zh"
    assert result["findings"][0]["message"] == "PUE为1.4，利用率为30%。"
    assert result["findings"][0]["rule_id"] == "TNY-001"


def test_a_placeholder_mismatch_is_a_located_error_naming_what_the_translation_lacks_and_adds(tmp_path: Path) -> None:
    bare = ZH_OK.replace("{facility.accelerator_utilisation:.0%}", "{facility.accelerator_utilisation}")
    path = _write(tmp_path, bare)
    [problem] = _problems(path)
    assert problem.code == "placeholder_mismatch"
    assert (problem.file, problem.pointer) == (str(path), "/rules/0/zh/message")
    assert problem.line == _line_of(path, "      message: PUE为")
    assert "{facility.accelerator_utilisation:.0%}" in problem.message and "lacks" in problem.message
    assert "has {facility.accelerator_utilisation}" in problem.message


def test_a_placeholder_used_twice_in_english_must_be_used_twice_in_the_translation(tmp_path: Path) -> None:
    twice = ZH_OK.replace("remediation: 报告利用率。", "remediation: 报告利用率{facility.pue}{facility.pue}。")
    path = _write(tmp_path, twice)
    [problem] = _problems(path)
    assert problem.pointer == "/rules/0/zh/remediation" and problem.code == "placeholder_mismatch"
    assert "{facility.pue} ×2" in problem.message


def test_a_rule_without_the_declared_language_is_a_located_error_naming_the_rule_and_its_fields(
        tmp_path: Path) -> None:
    path = _write(tmp_path, "")
    [problem] = _problems(path)
    assert problem.code == "missing_language" and problem.pointer == "/rules/0/zh"
    assert problem.line == _line_of(path, "- id: TNY-001")
    assert "TNY-001" in problem.message and "title, message, remediation" in problem.message


def test_a_field_missing_from_the_translation_is_a_located_error_at_that_field(tmp_path: Path) -> None:
    path = _write(tmp_path, ZH_OK.replace("      remediation: 报告利用率。\n", ""))
    [problem] = _problems(path)
    assert (problem.code, problem.pointer) == ("missing_language", "/rules/0/zh/remediation")
    assert problem.line == _line_of(path, "    zh:")


def test_a_translation_of_a_field_the_english_lacks_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, ZH_OK + "      would_change: 利用率达到50%。\n")
    [problem] = _problems(path)
    assert problem.pointer == "/rules/0/zh/would_change" and "no English `would_change`" in problem.message


def test_a_header_or_tier_without_its_declared_translation_is_a_located_error(tmp_path: Path) -> None:
    extra = ("  languages: [en, zh]\n  tiers:\n    size:\n      title: Size tier\n      order: [big, small]\n"
             "      default: small\n")
    path = _write(tmp_path, ZH_OK, extra=extra)
    found = {(p.pointer, p.code) for p in _problems(path)}
    assert found == {("/ruleset/zh", "missing_language"), ("/ruleset/tiers/size/zh", "missing_language")}


def test_a_duty_needs_its_translation_too(tmp_path: Path) -> None:
    path = _write(tmp_path, ZH_OK)
    text = path.read_text(encoding="utf-8").replace(
        "    citations:", "    duty: {jurisdiction: CN, obligation: File it, deadline: within a week}\n    citations:")
    path.write_text(text, encoding="utf-8")
    found = {p.pointer for p in _problems(path)}
    assert found == {"/rules/0/zh/duty"}
    path.write_text(text.replace("      remediation: 报告利用率。\n",
                                 "      remediation: 报告利用率。\n      duty: {obligation: 备案}\n"), encoding="utf-8")
    assert {p.pointer for p in _problems(path)} == {"/rules/0/zh/duty/deadline"}


def test_a_ruleset_declaring_english_only_stays_valid_and_assesses_in_chinese_chrome(tmp_path: Path) -> None:
    path = _write(tmp_path, "", extra="  languages: [en]\n")
    assert load_rules([path]).rulesets[0].languages == ("en",)
    undeclared = _write(tmp_path, "", extra="")
    rules = load_rules([undeclared], lang="zh")
    result = engine.assess_dict(_facility(accelerator_utilisation=0.3), rules, as_of=AS_OF)
    assert result["lang"] == "zh" and result["findings"][0]["title"] == "Low utilisation"
    assert result["explanation"].startswith(phrase("zh", "overall.rated", level=name("zh", "medium"), parts="")
                                            .rstrip("。"))


def test_an_undeclared_translation_is_still_held_to_the_english_placeholders(tmp_path: Path) -> None:
    path = _write(tmp_path, ZH_OK.replace("{facility.pue}", "{facility.it_power_mw}"), extra="")
    assert {p.code for p in _problems(path)} == {"placeholder_mismatch"}


def test_airisk_validate_reports_the_language_problems_with_file_line_and_pointer_and_exits_2(tmp_path: Path) -> None:
    path = _write(tmp_path, "")
    result = run("validate", str(path))
    assert result.exit_code == 2
    assert f"{path}:{_line_of(path, '- id: TNY-001')}:" in result.output
    assert "/rules/0/zh: rule TNY-001 has no `zh:` text" in result.output
    clean = run("validate", str(RULESETS))
    assert clean.exit_code == 0, clean.output


# --------------------------------------------------------------------------- rendering


def test_assess_lang_zh_prints_the_chinese_title_of_a_fired_rule_and_chinese_chrome() -> None:
    result = run("assess", str(CASE), "--as-of", AS_OF, "--lang", "zh")
    assert result.exit_code == 0, result.output
    title = _overcapacity_rule("OVC-002")["zh"]["title"]
    assert f"OVC-002 {title}" in result.output
    zh = engine.assess_dict(str(CASE), as_of=AS_OF, lang="zh")
    assert phrase("zh", "text.next") in result.output.splitlines()
    assert phrase("zh", "text.findings", count=len(zh["findings"])) in result.output.splitlines()
    assert result.output.splitlines()[1].startswith(phrase("zh", "text.rating", headline="", as_of="")[:3])
    assert zh["explanation"] in result.output and CJK.search(zh["explanation"])
    english = run("assess", str(CASE), "--as-of", AS_OF)
    assert f"OVC-002 {_overcapacity_rule('OVC-002')['title']}" in english.output
    assert not CJK.search(english.output.split("Findings")[0])


def _decision(a: dict[str, Any]) -> Any:
    """Everything of an assessment that is not text: what was decided, on which facts."""
    return {
        "rating": a["rating"], "range": a["rating_range"], "decisive": a["decisive_unknowns"],
        "dimensions": {k: {f: v for f, v in d.items() if f not in ("tiers", "duties")}
                       for k, d in a["dimensions"].items()},
        "tiers": {k: {t: (v["tier"], v["rules"]) for t, v in d["tiers"].items()} for k, d in a["dimensions"].items()},
        "findings": [(f["rule_id"], f["ruleset"], f["severity"], f["points"], f["basis"], f["evidence"], f["effective"],
                      f["tier"], f["tags"], [(c["url"], c["date"], c["confidence"]) for c in f["citations"]])
                     for f in a["findings"]],
        "needs": [(n["rule_id"], n["dimension"], n["missing"]) for n in a["needs_information"]],
        "derived": a["derived"], "provenance": a["provenance"], "coverage": a["coverage"], "bounds": a["bounds"],
    }


@pytest.mark.parametrize("case", sorted((ROOT / "cases").glob("*.yaml")), ids=lambda p: p.stem)
def test_the_language_changes_the_text_only_never_a_rule_id_a_fact_path_a_level_or_the_provenance(case: Path) -> None:
    en = engine.assess_dict(str(case), as_of=AS_OF)
    zh = engine.assess_dict(str(case), as_of=AS_OF, lang="zh")
    assert (en["lang"], zh["lang"]) == ("en", "zh")
    assert list(en) == list(zh) and list(en)[:4] == ["case_id", "case_name", "kind", "lang"]
    assert _decision(en) == _decision(zh)


def test_the_english_json_differs_from_a_language_free_result_by_the_lang_key_alone() -> None:
    result = run("assess", str(CASE), "--as-of", AS_OF, "--format", "json", "--horizon", "0")
    data = json.loads(result.output)
    assert data.pop("lang") == "en"
    again = engine.assess_dict(str(CASE), as_of=AS_OF)
    again.pop("lang")
    assert data == again
    explicit = run("assess", str(CASE), "--as-of", AS_OF, "--format", "json", "--lang", "en", "--horizon", "0")
    assert explicit.output == result.output


def test_no_chinese_appears_in_an_english_report_but_in_the_title_of_a_chinese_instrument() -> None:
    a = engine.assess_dict(str(CASE), as_of=AS_OF)
    instruments = {c["instrument"] for f in a["findings"] for c in f["citations"]}
    for fmt in ("text", "markdown"):
        out = render(fmt, a).decode()
        for line in out.splitlines():
            if CJK.search(line):
                assert any(i in line for i in instruments if CJK.search(i)), f"{fmt}: {line}"


def test_markdown_has_provenance_with_full_sha256_would_change_missing_facts_and_a_legend_of_the_marks_used() -> None:
    a = engine.assess_dict(str(ROOT / "cases" / "oc-unknown-utilisation.yaml"), as_of=AS_OF)
    md = render("markdown", a).decode()
    assert "## Provenance" in md and f"- Engine: airisk {a['provenance']['engine_version']}" in md
    for r in a["provenance"]["rulesets"]:
        assert f"| {r['id']} | {r['version']} | {r['rules_in_force']}/{r['rules']} | `{r['sha256']}` |" in md
    assert f"- As of: {AS_OF}" in md
    for f in a["findings"]:
        if f["would_change"]:
            assert f"- Would change: {f['would_change']}" in md
    missing = [m for d in a["dimensions"].values() for m in d["missing_facts"]]
    assert missing and "## Missing facts" in md and all(f"`{m}`" in md for m in missing)
    used = {c["confidence"] for f in a["findings"] for c in f["citations"]}
    legend = md.split("## Confidence marks", 1)[1]
    assert {m for m in ("P", "P-q", "S", "UNCONFIRMED") if f"- **{m}**:" in legend} == used


def test_markdown_in_chinese_has_chinese_headings_and_the_rules_chinese_text() -> None:
    a = engine.assess_dict(str(CASE), as_of=AS_OF, lang="zh")
    md = render("markdown", a).decode()
    for key in ("md.findings", "md.provenance", "md.legend"):
        assert phrase("zh", key) in md
    rule = _overcapacity_rule("OVC-002")
    assert f"### OVC-002 — {rule['zh']['title']}" in md
    assert phrase("zh", "md.would_change", text=rule["zh"]["would_change"]) in md


def test_markdown_lists_the_waivers_when_the_provenance_has_any() -> None:
    a = engine.assess_dict(str(CASE), as_of=AS_OF)
    a["provenance"]["waivers"] = [{"rule_id": "OVC-002", "reason": "board approval 2026-11"}]
    md = render("markdown", a).decode()
    assert "- rule_id: OVC-002; reason: board approval 2026-11" in md.split("## Provenance")[1]


def test_batch_lang_zh_writes_one_chinese_record_per_line_with_rule_ids_unchanged(tmp_path: Path) -> None:
    case = yaml.safe_load(CASE.read_text(encoding="utf-8"))
    lines = "\n".join(json.dumps(case, default=str) for _ in range(2)) + "\n"
    out = run("batch", "--as-of", AS_OF, "--lang", "zh", input=lines)
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(records) == 2 and all(r["assessment"]["lang"] == "zh" for r in records)
    en = engine.assess_dict(str(CASE), as_of=AS_OF)
    assert [f["rule_id"] for f in records[0]["assessment"]["findings"]] == [f["rule_id"] for f in en["findings"]]


def test_an_unknown_language_is_a_usage_error() -> None:
    result = run("assess", str(CASE), "--lang", "fr")
    assert result.exit_code == 2 and "fr" in result.output
    with pytest.raises(RulesetError):
        load_rules(lang="fr")


def test_the_library_takes_the_language_too() -> None:
    result = engine.assess(str(CASE), as_of=AS_OF, lang="zh")
    assert result.lang == "zh"
    rules = engine.load_rules(lang="zh")
    assert engine.assess_dict(str(CASE), rules, as_of=AS_OF)["lang"] == "zh"
    assert engine.assess_dict(str(CASE), rules, as_of=AS_OF, lang="en")["lang"] == "en"
    [files] = engine.assess_files([str(CASE)], as_of=AS_OF, lang="zh")
    assert files["lang"] == "zh"
    titles = {f["rule_id"]: f["title"] for f in files["findings"]}
    assert titles["OVC-002"] == _overcapacity_rule("OVC-002")["zh"]["title"]


def test_engines_of_the_two_languages_never_mix_their_text() -> None:
    titles = {}
    for lang in ("en", "zh", "en", "zh"):
        got = [f["title"] for f in engine.assess_dict(str(CASE), as_of=AS_OF, lang=lang)["findings"]]
        assert titles.setdefault(lang, got) == got
    assert titles["en"] != titles["zh"]


# --------------------------------------------------------------------------- the phrase table


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_every_language_has_every_phrase_and_no_placeholder_the_english_lacks() -> None:
    assert set(PHRASES) == set(LANGS)
    for lang, table in PHRASES.items():
        assert set(table) == set(PHRASES["en"]), lang
        for key, template in table.items():
            assert _fields(template) <= _fields(PHRASES["en"][key]), (lang, key)


def test_every_level_severity_and_dimension_has_a_chinese_name_and_english_names_are_the_values() -> None:
    for value in (*LEVELS, *SEVERITIES, *DIMENSIONS, "binding", "advisory", "heuristic"):
        assert CJK.search(name("zh", value)), value
        assert name("en", value) == value and name("en", value, upper=True) == value.upper()
    assert len(set(NAMES["zh"].values())) == len(NAMES["zh"])  # no two values share a Chinese name


# --------------------------------------------------------------------------- placeholders (hypothesis)

_NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,6}(\.[a-z_][a-z0-9_]{0,6}){0,2}", fullmatch=True)
_SPECS = st.sampled_from(["", ":,.0f", ":.0%", ":.2f", ":,"])
_PLACEHOLDERS = st.lists(st.tuples(_NAMES, _SPECS).map(lambda t: "{" + t[0] + t[1] + "}"), max_size=6)
_TEXT = st.text(alphabet=st.sampled_from("利用率为低于，。%MW ab1"), max_size=8)


@given(_PLACEHOLDERS, st.lists(_TEXT, min_size=7, max_size=7), st.randoms(use_true_random=False))
def test_placeholder_tokens_count_each_placeholder_however_the_text_around_them_is_arranged(
        tokens: list[str], texts: list[str], rnd: Any) -> None:
    english = "".join(t + p for t, p in zip(texts, tokens, strict=False)) + texts[-1]
    shuffled = list(tokens)
    rnd.shuffle(shuffled)
    chinese = "译" + "".join(p + t for p, t in zip(shuffled, reversed(texts), strict=False))
    assert placeholder_tokens(english) == Counter(tokens) == placeholder_tokens(chinese)
    if tokens:
        assert placeholder_tokens(chinese.replace(tokens[0], "", 1)) != placeholder_tokens(english)


def test_a_translation_gets_the_dated_parameter_values_of_each_variant_of_its_rule(tmp_path: Path) -> None:
    path = tmp_path / "dated.yaml"
    path.write_text(
        "ruleset: {id: dated, version: '1', title: Dated, languages: [en, zh], zh: {title: 日期}}\n"
        "parameters:\n  floor: {'2020-01-01': 0.5, '2024-01-01': 0.4}\n"
        "rules:\n  - id: DTD-001\n    title: Below {param.floor:.0%}\n    dimension: overcapacity\n"
        "    severity: low\n    points: 5\n    basis: heuristic\n    effective_from: 2020-01-01\n"
        "    applies_to: [facility]\n    when: {fact: facility.accelerator_utilisation, lt: {param: floor}}\n"
        "    message: Utilisation {facility.accelerator_utilisation:.0%} is below {param.floor:.0%}.\n"
        "    citations: [{instrument: Analyst, confidence: S}]\n"
        "    zh:\n      title: '低于{param.floor:.0%}'\n"
        "      message: '利用率{facility.accelerator_utilisation:.0%}低于{param.floor:.0%}。'\n",
        encoding="utf-8")
    rules = load_rules([path], lang="zh")
    assert [(r.window.effective_from, r.title) for r in rules.rules] == [("2020-01-01", "低于50%"),
                                                                           ("2024-01-01", "低于40%")]
    early = engine.assess_dict(_facility(accelerator_utilisation=0.45), rules, as_of="2023-06-01")
    assert early["findings"][0]["message"] == "利用率45%低于50%。"
    assert engine.assess_dict(_facility(accelerator_utilisation=0.45), rules, as_of="2024-06-01")["findings"] == []


def test_a_tier_scheme_and_the_ruleset_title_read_in_chinese_when_given(tmp_path: Path) -> None:
    extra = ("  languages: [en, zh]\n  zh: {title: 微型}\n  tiers:\n    size:\n      title: Size tier\n"
             "      zh: {title: 规模等级}\n      order: [big, small]\n      default: small\n")
    path = _write(tmp_path, ZH_OK, extra=extra)
    path.write_text(path.read_text(encoding="utf-8").replace("    citations:", "    tier: {size: big}\n    citations:"),
                    encoding="utf-8")
    case = _facility(accelerator_utilisation=0.3, pue=1.4)
    zh = engine.assess_dict(case, load_rules([path], lang="zh"), as_of=AS_OF)
    en = engine.assess_dict(case, load_rules([path]), as_of=AS_OF)
    assert zh["dimensions"]["overcapacity"]["tiers"]["size"] == {**en["dimensions"]["overcapacity"]["tiers"]["size"],
                                                                 "title": "规模等级"}
    assert load_rules([path], lang="zh").rulesets[0].title == "微型"
