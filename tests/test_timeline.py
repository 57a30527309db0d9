"""Timeline and upcoming changes (issue 19): a case's steps over time, and ``assess --horizon``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from engine.assessment.engine import engine_for
from engine.case.validation import plain_case
from engine.cli import main
from engine.source.safeyaml import load_file
from engine.timeline import History, change_days, edge_days
from engine.timeline.dates import day_after

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def history() -> History:
    from engine.api import load_rules

    return History(engine_for(load_rules()))


def plain(name: str, **changes: Any) -> dict[str, Any]:
    doc = load_file(str(ROOT / "cases" / f"{name}.yaml"))
    data = dict(doc.data)
    for key, value in changes.items():
        data[key] = value
    return plain_case(data, file=doc.file)  # type: ignore[no-any-return]


def steps_of(history: History, name: str, start: str, end: str, **changes: Any) -> dict[str, dict[str, Any]]:
    return {s["date"]: s for s in history.timeline(plain(name, **changes), start, end)["steps"]}


def test_the_cv_screening_case_becomes_high_risk_on_the_day_the_annex_iii_obligations_apply(history: History) -> None:
    steps = steps_of(history, "ts-eu-cv-screening", "2027-06-01", "2028-01-31")
    step = steps["2027-12-02"]
    safety = next(m for m in step["moves"] if m["dimension"] == "safety")
    assert (safety["from"], safety["to"]) == ("low", "high")
    appeared = {f["rule_id"]: f for f in step["appeared"]}
    assert "EUA-010" in appeared and "2027-12-02" in appeared["EUA-010"]["message"]
    assert appeared["EUA-010"]["citations"] and appeared["EUA-010"]["citations"][0]["instrument"]
    assert "EUA-015" in {f["rule_id"] for f in step["disappeared"]}
    assert "EUA-010" in step["rules_changing"]


def test_the_h20_case_steps_up_on_the_day_of_the_is_informed_letter(history: History) -> None:
    steps = steps_of(history, "ec-h20-china-icc", "2025-01-01", "2025-06-01")
    step = steps["2025-04-09"]
    assert step["was"]["rating"] == "low" and step["rating"] == "high"
    assert [f["rule_id"] for f in step["appeared"]] == ["USX-130"]


def test_a_facility_example_shows_the_affiliates_rule_its_suspension_and_its_return(history: History) -> None:
    # The H20 facility example: the Affiliates Rule reads listed ownership the case leaves unknown.
    dates = set(steps_of(history, "ec-h20-china-icc", "2025-09-01", "2026-12-01"))
    assert {"2025-09-29", "2025-11-10", "2026-11-10"} <= dates
    # The Johor facility example with a buyer 60% owned by listed parties: listed from 2025-09-29, the
    # suspension (2025-11-10 to 2026-11-09) says it may resume, and from 2026-11-10 the measure is back.
    owner = {**load_file(str(ROOT / "cases" / "ec-h100-malaysia-cn-parent.yaml")).data["owner"],
             "listed_owner_share": 0.6}
    steps = steps_of(history, "ec-h100-malaysia-cn-parent", "2025-09-01", "2026-12-01", owner=owner)
    assert [f["rule_id"] for f in steps["2025-09-29"]["appeared"]] == ["USX-060"]
    assert ([f["rule_id"] for f in steps["2025-11-10"]["appeared"]],
            [f["rule_id"] for f in steps["2025-11-10"]["disappeared"]]) == (["USX-061"], ["USX-060"])
    back = steps["2026-11-10"]
    assert ([f["rule_id"] for f in back["appeared"]], [f["rule_id"] for f in back["disappeared"]]) == (
        ["USX-062"], ["USX-061"])
    assert back["appeared"][0]["severity"] == "critical"


@pytest.mark.parametrize(("name", "start", "end"), [("ec-h20-china-icc", "2025-03-01", "2025-06-30"),
                                                   ("ts-eu-cv-screening", "2026-06-01", "2026-08-31"),
                                                   ("oc-county-lgfv", "2025-03-01", "2025-06-30")])
def test_skipping_quiet_days_gives_the_steps_of_assessing_every_day(history: History, name: str, start: str,
                                                                    end: str) -> None:
    case = plain(name)
    quick = history.timeline(case, start, end)
    full = history.timeline(case, start, end, every_day=True)
    assert quick == full
    assert quick["steps"]


def test_the_days_of_change_include_window_ends_and_country_group_dates(history: History) -> None:
    days = change_days(history.engine.rules)
    usx_061 = next(r for r in history.engine.rules.rules if r.id == "USX-061")
    assert usx_061.window.effective_from in days and day_after(str(usx_061.window.effective_to)) in days
    assert "2024-03-15" in days  # Nicaragua joins D:1 and D:5
    assert days == sorted(set(days))
    edges = edge_days(history.engine.rules.rules)
    assert {"2025-04-08", "2025-04-09", "2025-04-10"} <= set(edges)


def test_timeline_command_prints_text_markdown_and_json() -> None:
    case = str(ROOT / "cases" / "ec-h20-china-icc.yaml")
    text = run("timeline", case, "--from", "2025-03-01", "--to", "2025-05-01")
    assert text.exit_code == 0, text.output
    assert "2025-04-09  rating low → high" in text.output and "+ USX-130 [HIGH]" in text.output
    assert "  levels: safety not assessed, export_control high, overcapacity low" in text.output
    md = run("timeline", case, "--from", "2025-03-01", "--to", "2025-05-01", "--format", "markdown")
    assert md.exit_code == 0 and "## 2025-04-09" in md.output
    data = json.loads(run("timeline", case, "--from", "2025-03-01", "--to", "2025-05-01", "--format", "json").output)
    assert [s["date"] for s in data["steps"]] == ["2025-04-09"]
    assert "2025-04-09" in {d["date"] for d in data["days"]} and len(data["days"]) > len(data["steps"])
    assert f"{len(data['days'])} day(s) of change in the window" in text.output
    assert data["start"]["rating"] == "low"


def test_timeline_lang_zh_writes_chinese_labels_and_rule_text_with_the_same_steps() -> None:
    case = str(ROOT / "cases" / "ec-h20-china-icc.yaml")
    window = ("--from", "2025-03-01", "--to", "2025-05-01")
    en = json.loads(run("timeline", case, *window, "--format", "json").output)
    zh = json.loads(run("timeline", case, *window, "--format", "json", "--lang", "zh").output)
    assert en["lang"] == "en" and zh["lang"] == "zh"
    assert [(s["date"], s["moves"], s["rating"]) for s in zh["steps"]] == [
        (s["date"], s["moves"], s["rating"]) for s in en["steps"]]
    [appeared] = [f for f in zh["steps"][0]["appeared"] if f["rule_id"] == "USX-130"]
    english_title = next(f["title"] for f in en["steps"][0]["appeared"] if f["rule_id"] == "USX-130")
    assert appeared["title"] != english_title and CJK.search(appeared["title"])
    text = run("timeline", case, *window, "--lang", "zh")
    assert text.exit_code == 0, text.output
    assert "2025-04-09  评级 低 → 高" in text.output
    assert f"+ USX-130 [高] {appeared['title']}" in text.output
    assert "  各维度等级：安全 未评估、出口管制 高、产能过剩 低" in text.output
    assert f"此期间共有{len(zh['days'])}个变化日" in text.output
    assert "依据：" in text.output and "出口管制变为高" in text.output
    for english in ("rating ", "levels:", "finding(s)", "source:", "day(s) of change", "becomes", "Timeline"):
        assert english not in text.output, english
    md = run("timeline", case, *window, "--format", "markdown", "--lang", "zh")
    assert md.exit_code == 0 and md.output.startswith("# 时间线：") and "## 2025-04-09\n" in md.output
    assert "## 2025-03-01（起始）" in md.output


def test_timeline_lang_is_a_usage_error_when_unknown_and_english_by_default() -> None:
    case = str(ROOT / "cases" / "ec-h20-china-icc.yaml")
    bad = CliRunner().invoke(main, ["timeline", case, "--lang", "fr"])
    assert bad.exit_code == 2 and bad.stdout == "" and "--lang" in bad.stderr
    text = run("timeline", case, "--from", "2025-03-01", "--to", "2025-05-01")
    assert not CJK.search(text.output.split("source:")[0])  # labels before the first citation


def test_timeline_command_refuses_bad_input_with_a_located_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nkind: project\nai_system: {eu_markett: true}\n")
    result = CliRunner().invoke(main, ["timeline", str(bad)])
    assert result.exit_code == 2 and result.stdout == ""
    assert "bad.yaml:3" in result.stderr and "Traceback" not in result.stderr
    backwards = CliRunner().invoke(main, ["timeline", str(ROOT / "cases" / "guizhou-icc.yaml"),
                                          "--from", "2026-01-01", "--to", "2025-01-01"])
    assert backwards.exit_code == 2 and "before --from" in backwards.stderr


def test_assess_lists_the_upcoming_changes_under_the_explanation() -> None:
    case = str(ROOT / "cases" / "ts-eu-cv-screening.yaml")
    result = run("assess", case, "--as-of", "2026-12-02", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    keys = list(data)
    assert keys[keys.index("explanation") + 1] == "upcoming"
    entry = next(u for u in data["upcoming"] if u["date"] == "2027-12-02")
    assert entry["text"].startswith("2027-12-02: safety becomes high (EUA-010, High-risk AI system")
    assert {"dimension": "safety", "from": "low", "to": "high"}.items() <= entry["moves"][0].items()
    jsonschema.validate(data, json.loads((ROOT / "schemas" / "assessment.schema.json").read_text()))
    text = run("assess", case, "--as-of", "2026-12-02")
    lines = text.output.splitlines()
    assert lines[3] == "Upcoming changes:" and lines[4].startswith("- 2027-12-02: safety becomes high (EUA-010")
    md = run("assess", case, "--as-of", "2026-12-02", "--format", "markdown")
    assert "## Upcoming changes\n\n- 2027-12-02: safety becomes high" in md.output


def test_under_lang_zh_the_upcoming_text_is_chinese_with_the_same_changes() -> None:
    case = str(ROOT / "cases" / "ts-eu-cv-screening.yaml")
    en = json.loads(run("assess", case, "--as-of", "2026-12-02", "--format", "json").output)
    zh = json.loads(run("assess", case, "--as-of", "2026-12-02", "--format", "json", "--lang", "zh").output)
    assert [u["date"] for u in zh["upcoming"]] == [u["date"] for u in en["upcoming"]]
    assert [u["moves"] for u in zh["upcoming"]] == [u["moves"] for u in en["upcoming"]]
    entry = next(u for u in zh["upcoming"] if u["date"] == "2027-12-02")
    title = entry["appeared"][0]["title"]  # the rule's Chinese title, as the findings give it
    assert entry["text"].startswith(f"2027-12-02: 安全变为高（EUA-010：{title}"), entry["text"]
    assert not any(word in u["text"] for u in zh["upcoming"] for word in ("becomes", "stays", "range", "ends:"))
    text = run("assess", case, "--as-of", "2026-12-02", "--lang", "zh").output.splitlines()
    assert text[3] == "即将发生的变化：" and text[4].startswith("- 2027-12-02: 安全变为高（EUA-010")


def test_batch_horizon_gives_each_record_the_upcoming_list_assess_gives(tmp_path: Path) -> None:
    import engine
    from engine.batch.catalog import Catalog

    names = ["ts-eu-cv-screening", "ec-h20-china-icc", "guizhou-icc"]
    cases = [json.loads(json.dumps(yaml.safe_load((ROOT / "cases" / f"{n}.yaml").read_text()), default=str))
             for n in names]
    lines = tmp_path / "in.jsonl"
    lines.write_text("".join(json.dumps(c) + "\n" for c in cases) + "{not json\n")
    expected = [json.loads(run("assess", str(ROOT / "cases" / f"{n}.yaml"), "--as-of", "2026-12-02", "--format",
                               "json", "--horizon", "400").output) for n in names]
    assert any(e["upcoming"] for e in expected)
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}.jsonl"
        result = run("batch", str(lines), "--as-of", "2026-12-02", "--horizon", "400", "--workers", workers,
                     "--output", str(out))
        assert result.exit_code == 3  # the bad line is an error record, in its place
        records = [json.loads(line) for line in out.read_text().splitlines()]
        assert [r["assessment"] for r in records[:3]] == expected
        assert records[3]["error"]["code"] == "invalid_json"
    plain = [json.loads(line) for line in
             run("batch", str(lines), "--as-of", "2026-12-02").stdout.splitlines()]
    assert all("upcoming" not in r.get("assessment", {}) for r in plain)  # the default: none, bytes unchanged
    compact = list(engine.assess_many(cases, as_of="2026-12-02", horizon=400, record="compact"))
    catalog = engine.rule_catalog(as_of="2026-12-02")
    assert isinstance(catalog, Catalog)
    assert [catalog.expand(r)["assessment"] for r in compact] == expected


def test_a_horizon_of_zero_or_one_that_ends_before_the_change_leaves_upcoming_out() -> None:
    case = str(ROOT / "cases" / "ts-eu-cv-screening.yaml")
    off = json.loads(run("assess", case, "--as-of", "2026-12-02", "--format", "json", "--horizon", "0").output)
    assert "upcoming" not in off
    short = json.loads(run("assess", case, "--as-of", "2026-12-02", "--format", "json", "--horizon", "364").output)
    assert [u["date"] for u in short["upcoming"]] == []
    on = json.loads(run("assess", case, "--as-of", "2026-12-02", "--format", "json", "--horizon", "365").output)
    assert [u["date"] for u in on["upcoming"]] == ["2027-12-02"]
    off.pop("upcoming", None)
    on.pop("upcoming")
    assert on == off  # the horizon adds the list and changes nothing else


def test_batch_records_carry_no_upcoming_list(tmp_path: Path) -> None:
    case = yaml.safe_load((ROOT / "cases" / "ts-eu-cv-screening.yaml").read_text())
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(case, default=str) + "\n")
    result = CliRunner().invoke(main, ["batch", str(src), "--as-of", "2026-12-02"])
    record = json.loads(result.stdout.splitlines()[0])
    assert "upcoming" not in record["assessment"]
