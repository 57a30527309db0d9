"""Impact diff (issue 19): ``airisk diff`` between two dates, two rule versions, two batch outputs."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from engine.api import load_rules
from engine.batch.run import BatchOptions, run_batch
from engine.cli import main
from engine.timeline.diff import Summary, compare, rises_to
from engine.timeline.portfolio import DiffSpec, diff_bag, diff_outputs, diff_partition, run_diff

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
CASES = str(ROOT / "cases")
GENERATED = 400  # generated cases for the portfolio tests (the 10,000-case run: benchmarks/diff_throughput.py)
OLD_THRESHOLD, NEW_THRESHOLD = "lt: 0.5}", "lt: 0.6}"
CJK = re.compile(r"[\u4e00-\u9fff]")


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def records(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines()]


def test_a_new_date_moves_the_h20_cases_up_by_the_is_informed_letter_and_every_move_names_a_rule() -> None:
    result = run("diff", CASES, "--as-of", "2025-01-01", "--against-as-of", "2025-05-01")
    assert result.exit_code == 0, result.stderr
    recs = records(result.stdout)
    assert [r["case_id"] for r in recs] == sorted(r["case_id"] for r in recs)  # input order: the sorted files
    moves = [(r["case_id"], m) for r in recs for m in r["moves"]]
    assert moves and all(m["rules"] and not m["unexplained"] for _, m in moves)
    h20 = {r["case_id"]: r for r in recs if any(m["dimension"] == "export_control" and m["direction"] == "up"
                                                 for m in r["moves"])}
    assert set(h20) == {"ec-h20-china-icc", "oc-guizhou-hub-h20"}  # the two example cases buying H20s
    for name, r in h20.items():
        assert "H20" in (ROOT / "cases" / f"{name}.yaml").read_text()
        export = next(m for m in r["moves"] if m["dimension"] == "export_control")
        assert "USX-130" in export["rules"] and "USX-130" in {f["rule_id"] for f in r["added"]}
    assert h20["ec-h20-china-icc"]["rating"] == {"from": "low", "to": "high"}


def test_the_summary_counts_moves_by_dimension_and_rule_in_text_markdown_and_json() -> None:
    args = ["diff", CASES, "--as-of", "2025-01-01", "--against-as-of", "2025-05-01", "--summary"]
    text = run(*args)
    assert text.exit_code == 0
    assert text.stdout.startswith("25 case(s): ") and "export_control up: low → high: 2" in text.stdout
    assert "USX-130 added: 3 case(s)" in text.stdout and "Moves no rule accounts for" not in text.stdout
    md = run(*args, "--format", "markdown")
    assert md.stdout.startswith("# Impact diff") and "## Rules accounting for the changes" in md.stdout
    data = json.loads(run(*args, "--format", "json").stdout)
    assert data["unexplained_moves"] == 0 and data["errors"] == 0
    assert data["moved_most"][0]["steps"] >= data["moved_most"][-1]["steps"]


def test_under_lang_zh_the_records_carry_chinese_text_and_the_summary_chinese_labels_with_the_same_counts() -> None:
    args = ["diff", CASES, "--as-of", "2025-01-01", "--against-as-of", "2025-05-01"]
    en, zh = records(run(*args).stdout), records(run(*args, "--lang", "zh").stdout)
    assert [(r["case_id"], r["rating"], [m["dimension"] for m in r["moves"]]) for r in zh] == [
        (r["case_id"], r["rating"], [m["dimension"] for m in r["moves"]]) for r in en]
    added = {f["rule_id"]: f["message"] for r in zh for f in r["added"]}
    assert CJK.search(added["USX-130"]) and added["USX-130"] != next(
        f["message"] for r in en for f in r["added"] if f["rule_id"] == "USX-130")
    text = run(*args, "--summary", "--lang", "zh")
    assert text.exit_code == 0, text.stderr
    assert text.stdout.startswith("共25个案例：") and "出口管制上升：低 → 高：2" in text.stdout
    assert "USX-130 新增：3个案例" in text.stdout and "导致变化的规则：" in text.stdout
    md = run(*args, "--summary", "--lang", "zh", "--format", "markdown")
    assert md.stdout.startswith("# 影响对比") and "## 导致变化的规则" in md.stdout
    data = json.loads(run(*args, "--summary", "--lang", "zh", "--format", "json").stdout)
    assert data == json.loads(run(*args, "--summary", "--format", "json").stdout)  # the data keeps English values


def test_every_row_of_the_summary_renders_in_each_language() -> None:
    from engine.lang.i18n import LANGS
    from engine.timeline.diff import render_summary

    summary = {"cases": 4, "changed": 2, "unchanged": 1, "errors": 1,
               "rating": [{"direction": "up", "from": "not assessed", "to": "high", "cases": 1},
                          {"direction": "range", "from": "low", "to": "low", "cases": 1}],
               "dimensions": [{"dimension": "overcapacity", "direction": "down", "from": "medium",
                               "to": "not assessed", "cases": 1}],
               "rules": [{"rule_id": f"R-{k}", "how": how, "cases": 1}
                         for k, how in enumerate(("added", "removed", "reworded", "undecided"))],
               "unexplained_moves": 1, "unexplained_cases": ["c-1", "c-2"],
               "moved_most": [{"case_id": "c-1", "line": 3, "steps": 2, "rating": "not assessed → high"}]}
    english = render_summary(summary, "text")
    assert english.splitlines()[0] == "4 case(s): 2 changed, 1 unchanged, 1 error(s)"
    assert "  up: not assessed → high: 1" in english and "  overcapacity down: medium → not assessed: 1" in english
    assert "  R-3 undecided: 1 case(s)" in english
    assert "  c-1 (line 3): rating not assessed → high, 2 step(s)" in english
    assert "Moves no rule accounts for:\n  1 move(s), e.g. c-1, c-2" in english
    chinese = render_summary(summary, "text", "zh")
    assert chinese.splitlines()[0] == "共4个案例：2个有变化，1个无变化，1个出错"
    assert "  上升：未评估 → 高：1" in chinese and "  产能过剩下降：中 → 未评估：1" in chinese
    assert "  c-1（第3行）：评级 未评估 → 高，2级" in chinese and "1处变化，例如c-1、c-2" in chinese
    assert "  R-0 新增：1个案例" in chinese and "  R-3 待定（取决于未知事实）：1个案例" in chinese
    for word in ("case(s)", "added", "undecided", "not assessed", "Rating", "line", "step(s)", "overcapacity"):
        assert word not in chinese, word
    for lang in LANGS:
        for fmt in ("text", "markdown"):
            assert render_summary(summary, fmt, lang).count("R-") == 4


def test_fail_on_increase_trips_only_when_a_case_rises_to_the_level() -> None:
    base = ["diff", str(ROOT / "cases" / "ec-h20-china-icc.yaml"), "--as-of", "2025-01-01",
            "--against-as-of", "2025-05-01"]
    assert run(*base, "--fail-on-increase", "high").exit_code == 1
    assert run(*base, "--fail-on-increase", "critical").exit_code == 0
    back = ["diff", str(ROOT / "cases" / "ec-h20-china-icc.yaml"), "--as-of", "2025-05-01",
            "--against-as-of", "2025-01-01", "--fail-on-increase", "low"]
    assert run(*back).exit_code == 0  # moving down never trips


def test_bad_input_is_located_with_exit_2_and_no_output(tmp_path: Path) -> None:
    bad = tmp_path / "old.jsonl"
    bad.write_text('{"line": 1, "case_id": "a", "assessment": {"case_id": "a"}}\n')
    good = tmp_path / "new.jsonl"
    good.write_text("")
    result = run("diff", str(bad), str(good))
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert f"{bad}:1" in result.stderr and "/assessment/rating" in result.stderr
    garbled = tmp_path / "garbled.jsonl"
    garbled.write_text("{nope\n")
    result = run("diff", str(garbled), str(garbled))
    assert result.exit_code == 2 and f"{garbled}:1" in result.stderr and "malformed JSON" in result.stderr
    assert run("diff", str(good)).exit_code == 2  # one input and nothing that differs: usage
    missing = run("diff", str(tmp_path / "nowhere"), "--against-as-of", "2025-01-01")
    assert missing.exit_code == 2 and "nowhere" in missing.stderr
    out = tmp_path / "out.jsonl"
    result = run("diff", str(garbled), str(garbled), "-o", str(out))
    assert result.exit_code == 2 and not out.exists()


def test_a_bad_case_costs_its_own_record_and_exit_3(tmp_path: Path) -> None:
    lines = tmp_path / "p.jsonl"
    lines.write_text('{"id": "x", "kind": "project", "ai_system": {"eu_markett": true}}\n\n')
    result = run("diff", str(lines), "--as-of", "2025-01-01", "--against-as-of", "2025-05-01")
    assert result.exit_code == 3
    recs = records(result.stdout)
    assert [(r["line"], r["side"], r["error"]["code"]) for r in recs][1] == (2, "both", "blank_line")
    assert "/ai_system/eu_markett" in {p["pointer"] for p in recs[0]["error"]["problems"]}


def test_compare_names_the_rules_and_post_processing_applies_before_comparing() -> None:
    old = {"case_id": "c", "rating": "low", "rating_range": ["low", "low"], "needs_information": [],
           "dimensions": {"safety": {"level": "low", "level_range": ["low", "low"], "decisive_unknowns": []}},
           "findings": []}
    finding = {"rule_id": "R-1", "dimension": "safety", "severity": "high", "message": "m"}
    new = {**old, "rating": "high", "rating_range": ["high", "high"], "findings": [finding],
           "dimensions": {"safety": {"level": "high", "level_range": ["high", "high"], "decisive_unknowns": []}}}
    rec = compare(old, new, 1)
    assert rec["moves"][0]["rules"] == ["R-1"] and rec["added"] == [finding] and rises_to(rec, "high")
    summary = Summary()
    summary.add(rec)
    assert summary.to_dict()["rules"] == [{"rule_id": "R-1", "how": "added", "cases": 1}]


# --------------------------------------------------------------------------- generated portfolios


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated cases and three batch outputs made once by the batch pool (two workers): the
    overcapacity ruleset, the same file loaded again from a copy, and the copy with OVC-001's
    threshold moved from 0.5 to 0.6."""
    from gen_cases import generate

    base = tmp_path_factory.mktemp("portfolio")
    cases = base / "cases.jsonl"
    cases.write_bytes(b"".join(orjson.dumps(c) + b"\n" for c in generate(GENERATED, seed=19)))
    text = (ROOT / "rulesets" / "overcapacity.yaml").read_text()
    assert text.count(f"{{fact: facility.accelerator_utilisation, {OLD_THRESHOLD}") == 1
    out: dict[str, Path] = {"cases": cases}
    for name, body in (("same", text), ("moved", text.replace(
            f"{{fact: facility.accelerator_utilisation, {OLD_THRESHOLD}",
            f"{{fact: facility.accelerator_utilisation, {NEW_THRESHOLD}"))):
        rules_dir = base / name
        rules_dir.mkdir()
        (rules_dir / "overcapacity.yaml").write_text(body)
        (rules_dir / "sources.yaml").write_text((ROOT / "rulesets" / "sources.yaml").read_text())
        out[f"{name}-rules"] = rules_dir / "overcapacity.yaml"
    for name, rules in (("original", ROOT / "rulesets" / "overcapacity.yaml"), ("same", out["same-rules"]),
                        ("moved", out["moved-rules"])):
        target = base / f"{name}.jsonl"
        code, _ = run_batch(load_rules([rules]), BatchOptions(input=str(cases), output=str(target), workers=2,
                                                              as_of="2026-06-01"), stderr=io.StringIO())
        assert code == 0
        out[name] = target
    return out


def test_a_ruleset_diffed_against_itself_reports_no_change(portfolio: dict[str, Path]) -> None:
    recs = list(diff_outputs(str(portfolio["original"]), str(portfolio["same"])))
    assert len(recs) == GENERATED and not any(r.get("changed") or "error" in r for r in recs)


def test_moving_one_threshold_reports_exactly_the_cases_between_the_old_and_new_value(
        portfolio: dict[str, Path]) -> None:
    expected = set()
    for line in portfolio["cases"].read_bytes().splitlines():
        case = orjson.loads(line)
        u = (case.get("facility") or {}).get("accelerator_utilisation")
        if case.get("kind") == "facility" and isinstance(u, int | float) and 0.5 <= u < 0.6:
            expected.add(case["id"])
    recs = list(diff_outputs(str(portfolio["original"]), str(portfolio["moved"])))
    changed = {r["case_id"] for r in recs if r.get("changed")}
    assert expected and changed == expected
    for r in recs:
        if r["changed"]:
            assert [f["rule_id"] for f in r["added"]] == ["OVC-001"] and not r["removed"]


def test_the_pool_gives_the_records_of_two_batch_outputs_diffed_and_the_same_for_any_worker_count(
        portfolio: dict[str, Path], tmp_path: Path) -> None:
    head = tmp_path / "head.jsonl"
    head.write_bytes(b"\n".join(portfolio["cases"].read_bytes().splitlines()[:80]) + b"\n")
    spec = DiffSpec(load_rules([ROOT / "rulesets" / "overcapacity.yaml"]), "2026-06-01", None, 1024 * 1024,
                    new_rules=load_rules([portfolio["moved-rules"]]), new_as_of="2026-06-01")
    with head.open("rb") as source:
        pooled = b"".join(run_diff(spec, source, workers=2, chunk_lines=16))
    with head.open("rb") as source:
        serial = b"".join(run_diff(spec, source, workers=1, isolate=False))
    assert pooled == serial
    from_outputs = list(diff_outputs(str(portfolio["original"]), str(portfolio["moved"])))[:80]
    assert [orjson.loads(line) for line in pooled.splitlines()] == from_outputs
    old_rules, new_rules = [str(ROOT / "rulesets" / "overcapacity.yaml")], [str(portfolio["moved-rules"])]
    part = diff_partition(head.read_bytes().splitlines()[:5], old_rules, new_rules, "2026-06-01")
    assert part == from_outputs[:5]


def test_a_dask_bag_gives_the_records_of_the_local_diff(portfolio: dict[str, Path], tmp_path: Path) -> None:
    db = pytest.importorskip("dask.bag")
    import dask

    head = tmp_path / "part.jsonl"
    head.write_bytes(b"\n".join(portfolio["cases"].read_bytes().splitlines()[:20]) + b"\n")
    bag = db.read_text(str(head), blocksize=None)
    with dask.config.set(scheduler="synchronous"):
        got = diff_bag(bag, [str(ROOT / "rulesets" / "overcapacity.yaml")], [str(portfolio["moved-rules"])],
                       "2026-06-01").compute()
    assert got == list(diff_outputs(str(portfolio["original"]), str(portfolio["moved"])))[:20]


def test_batch_outputs_in_another_order_are_matched_by_case_id(portfolio: dict[str, Path], tmp_path: Path) -> None:
    lines = portfolio["moved"].read_bytes().splitlines()[:50]
    shuffled = tmp_path / "shuffled.jsonl"
    shuffled.write_bytes(b"\n".join(reversed(lines)) + b"\n")
    recs = list(diff_outputs(str(portfolio["original"]), str(shuffled)))
    ids = [orjson.loads(x)["case_id"] for x in reversed(lines)]
    assert [r["case_id"] for r in recs[:50]] == ids
    assert all("error" not in r for r in recs[:50])
    assert {r["error"]["code"] for r in recs[50:]} == {"not_in_new"} and len(recs) == GENERATED


def test_the_dashboard_reads_the_diff_records(portfolio: dict[str, Path], tmp_path: Path) -> None:
    diff = tmp_path / "diff.jsonl"
    recs = list(diff_outputs(str(portfolio["original"]), str(portfolio["moved"])))
    diff.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs))
    moved = next(r for r in recs if r["status"] != "same")
    assert moved["distance"] >= 0 and moved["added"][0]["rule_id"] == "OVC-001"
    page = tmp_path / "report.html"
    result = run("report", str(portfolio["moved"]), "-o", str(page), "--diff", str(diff))
    assert result.exit_code == 0, result.stderr
    assert moved["case_id"] in page.read_text()


def test_over_four_years_every_move_of_the_examples_still_names_a_rule() -> None:
    # 2023 → 2026: dimensions become assessed as their first rules come into force (named too).
    result = run("diff", CASES, "--as-of", "2023-01-01", "--against-as-of", "2026-12-01", "--summary",
                 "--format", "json")
    data = json.loads(result.stdout)
    assert data["changed"] == 25 and data["unexplained_moves"] == 0


def test_a_diff_read_backwards_swaps_added_and_removed_and_reverses_every_move() -> None:
    import engine

    flip = {"up": "down", "down": "up", "range": "range"}
    for name in ("ec-h20-china-icc", "ts-workplace-emotion"):
        pool = [engine.assess_dict(str(ROOT / "cases" / f"{name}.yaml"), as_of=day)
                for day in ("2025-01-01", "2025-05-01", "2026-12-01")]
        for a in pool:
            assert compare(a, a)["status"] == "same" and not compare(a, a)["changed"]
            for b in pool:
                forth, back = compare(a, b), compare(b, a)
                assert forth["changed"] == back["changed"] and forth["distance"] == back["distance"]
                assert {f["rule_id"] for f in forth["added"]} == {f["rule_id"] for f in back["removed"]}
                assert {(m["dimension"], m["from"], m["to"]) for m in forth["moves"]} == {
                    (m["dimension"], m["to"], m["from"]) for m in back["moves"]}
                assert sorted(flip[m["direction"]] for m in forth["moves"]) == sorted(
                    m["direction"] for m in back["moves"])


def test_the_cli_runs_the_diff_on_a_dask_scheduler(portfolio: dict[str, Path], tmp_path: Path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    lines = portfolio["cases"].read_bytes().splitlines()[:20]
    data = tmp_path / "data"
    data.mkdir()
    for k in range(2):
        (data / f"part-{k}.jsonl").write_bytes(b"\n".join(lines[k * 10:(k + 1) * 10]) + b"\n")
    expected = list(diff_outputs(str(portfolio["original"]), str(portfolio["moved"])))[:20]
    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        result = run("diff", str(data / "*.jsonl"), "--dask", cluster.scheduler_address, "--output", str(out),
                     "--rules", str(ROOT / "rulesets" / "overcapacity.yaml"), "--against-rules",
                     str(portfolio["moved-rules"]), "--as-of", "2026-06-01", "--summary", "--format", "json",
                     "--fail-on-increase", "low")
    got = [orjson.loads(x) for k in range(2) for x in (out / f"part-{k}.jsonl").read_bytes().splitlines()]
    for rec in got[10:]:
        rec["line"] += 10  # line numbers count from 1 in each file
    assert got == expected
    summary = json.loads(result.stdout)
    assert summary["cases"] == 20 and summary["changed"] == sum(r["changed"] for r in expected)
    assert result.exit_code == (1 if any(rises_to(r, "low") for r in expected) else 0)
    no_output = run("diff", str(data / "*.jsonl"), "--dask", cluster.scheduler_address, "--against-as-of", "2025-01-01")
    assert no_output.exit_code == 2 and "--output DIRECTORY" in no_output.stderr
