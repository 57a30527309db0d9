"""The portfolio dashboard (``airisk report``, ``airisk batch --report``): the streaming
aggregation, the compact columns, the command line; and, in headless Chromium, charts drawn as
SVG with one mark per non-empty count, a table that filters, sorts, pages and opens rows."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from headless import Page, browser, distinct_colours
from hypothesis import given
from hypothesis import strategies as st

from engine import api
from engine.cli import main
from engine.report import portfolio as pf
from engine.report.dashboard import read_records, render_dashboard
from engine.ruleset.parse import plain_data
from engine.scale import DIMENSIONS, LEVELS
from engine.source.safeyaml import load_file

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-12-02"
COPIES = 3


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    """Batch records: every example case three times (distinct ids), then two error lines."""
    assessed = api.assess_files(sorted((ROOT / "cases").glob("*.yaml")), None, AS_OF)
    out: list[dict[str, Any]] = []
    for copy in range(COPIES):
        for a in assessed:
            out.append({"line": len(out) + 1, "case_id": f"{a['case_id']}-{copy}",
                        "assessment": dict(a, case_id=f"{a['case_id']}-{copy}")})
    out.append({"line": len(out) + 1, "case_id": None, "error": {"code": "parse_error", "message": "x"}})
    out.append({"line": len(out) + 1, "case_id": "bad", "error": {"code": "invalid", "message": "y"}})
    return out


@pytest.fixture(scope="module")
def results(records: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dash") / "results.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def _data_of(html: bytes) -> dict[str, Any]:
    m = re.search(rb'<script type="application/json" id="airisk-data">(.*?)</script>', html, re.S)
    assert m
    return dict(json.loads(m.group(1)))


@given(st.lists(st.integers(min_value=0, max_value=10**7), max_size=50),
       st.integers(min_value=1, max_value=5))
def test_a_column_decodes_to_the_numbers_it_encodes(values: list[int], extra: int) -> None:
    column = pf.encode_column(values)
    assert pf.decode_column(column) == values
    assert len(column["s"]) == column["w"] * len(values)
    wider = pf.encode_column(values, pf.width_for(max(values, default=0)) + extra)
    assert pf.decode_column(wider) == values


def test_the_counts_are_those_of_the_records(records: list[dict[str, Any]]) -> None:
    data = pf.aggregate(records).data()
    assessed = [r["assessment"] for r in records if "assessment" in r]
    assert data["cases"] == len(records)
    assert data["by_rating"]["error"] == 2
    for level in LEVELS:
        assert data["by_rating"][level] == sum(a["rating"] == level for a in assessed)
        assert data["by_worst"][level] == sum(a["rating_range"][1] == level for a in assessed)
    for d in DIMENSIONS:
        assert sum(data["by_dimension"][d].values()) == len(assessed)
        assert sum(data["scores"][d]) == sum(a["dimensions"][d]["assessed"] for a in assessed)
    assert data["needing"] == sum(bool(a["needs_information"]) for a in assessed)
    driven = Counter(r for a in assessed for r in {x for d in a["dimensions"].values() for x in d["drivers"]})
    assert data["top_drivers"][0][1] == max(driven.values())
    assert dict(data["error_codes"]) == {"parse_error": 1, "invalid": 1}


def test_each_row_keeps_the_case_id_line_levels_scores_and_rules(records: list[dict[str, Any]]) -> None:
    data = pf.aggregate(records).data()
    cols = {name: pf.decode_column(c) for name, c in data["columns"].items()}
    assert data["sequential_lines"] and "line" not in cols
    for i, r in enumerate(records):
        assert all(len(v) == len(records) for v in cols.values())
        n = cols["idn"][i]
        shown = data["prefixes"][cols["idp"][i]] + (str(n - 1) if n else "")
        assert shown == ("" if r["case_id"] is None else r["case_id"])
        a = r.get("assessment")
        if a is None:
            assert data["ratings"][cols["rating"][i]] == "error" and data["codes"][cols["error"][i] - 1]
            assert cols["drivers"][i] == 0 and cols["profile"][i] == 0
            continue
        assert data["ratings"][cols["rating"][i]] == a["rating"]
        for d in DIMENSIONS:
            dim = a["dimensions"][d]
            assert data["ratings"][cols[f"lvl_{d}"][i]] == (dim["level"] if dim["assessed"] else "none")
            assert cols[f"score_{d}"][i] == round(dim["score"] * 10)
        fired, waiting = data["profiles"][cols["profile"][i] - 1].split(".")
        width = data["rule_width"]
        driven = pf.decode_column({"w": width, "s": data["driver_sets"][cols["drivers"][i] - 1]})
        assert {data["rules"][v] for v in driven} == {x for d in a["dimensions"].values() for x in d["drivers"]}
        ids = [data["rules"][v] for v in pf.decode_column({"w": width, "s": fired})]
        assert ids == [f["rule_id"] for f in a["findings"]]
        assert len(waiting) == width * len(a["needs_information"]) and cols["needs"][i] == len(a["needs_information"])


def test_past_the_profile_budget_rows_keep_their_levels_but_not_their_rule_lists(
        records: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pf, "PROFILE_BUDGET", 200)
    portfolio = pf.aggregate(records)
    data = portfolio.data()
    profiles = pf.decode_column(data["columns"]["profile"])
    assert data["truncated"] and 0 in profiles[:-2] and profiles[0] != 0
    assert sum(len(p) + 3 for p in data["profiles"]) <= 200
    assert pf.decode_column(data["columns"]["drivers"]) == pf.decode_column(
        pf.aggregate(records).data()["columns"]["drivers"])  # the drivers of every case are still there
    assert b"are kept for the first" in render_dashboard(portfolio)


def test_airisk_report_writes_the_dashboard_of_a_batch_output(results: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(results), "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_bytes()
    assert html.startswith(b"<!DOCTYPE html>") and b"<script src" not in html and b"<link" not in html
    assert _data_of(html)["cases"] == len(list(read_records(results)))
    zh = tmp_path / "zh.html"
    assert CliRunner().invoke(main, ["report", str(results), "-o", str(zh), "--lang", "zh"]).exit_code == 0
    text = zh.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in text and "按评级统计的案例" in text


def test_a_line_that_is_not_a_batch_record_is_named_by_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"line": 1, "case_id": "a", "error": {"code": "x"}}\n{not json\n')
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", str(bad), "-o", str(out)])
    assert result.exit_code == 2 and not out.exists()
    assert f"{bad}:2: /: not a JSON line" in result.output
    bad.write_text('{"line": 1, "case_id": "a"}\n')
    result = CliRunner().invoke(main, ["report", str(bad), "-o", str(out)])
    assert result.exit_code == 2 and f"{bad}:1: /: not a record of `airisk batch`" in result.output
    bad.write_text('{"line": 1, "case_id": "a", "assessment": {"findings": [{"title": "no rule id"}]}}\n')
    result = CliRunner().invoke(main, ["report", str(bad), "-o", str(out)])
    assert result.exit_code == 2 and f"{bad}:1: /: a record not of the shape airisk writes" in result.output
    result = CliRunner().invoke(main, ["report", str(tmp_path / "missing.jsonl"), "-o", str(out)])
    assert result.exit_code == 2 and "missing.jsonl" in result.output


def test_airisk_batch_report_writes_the_dashboard_after_the_run(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    lines = [orjson.dumps(plain_data(load_file(str(p)).data)).decode()
             for p in sorted((ROOT / "cases").glob("ec-*.yaml"))[:4]]
    cases.write_text("\n".join([*lines, "{broken"]) + "\n")
    out, report = tmp_path / "out.jsonl", tmp_path / "report.html"
    result = CliRunner().invoke(main, ["batch", str(cases), "-o", str(out), "--report", str(report),
                                       "--as-of", AS_OF, "--no-progress"])
    assert result.exit_code == 3, result.output  # a line was an error; the dashboard is still written
    data = _data_of(report.read_bytes())
    assert data["cases"] == 5 and data["by_rating"]["error"] == 1
    refused = CliRunner().invoke(main, ["batch", str(cases), "--report", str(report)])
    assert refused.exit_code == 2 and "--report needs --output FILE" in refused.output


def _diff_records() -> list[dict[str, Any]]:
    """Records shaped as `airisk diff` writes them (engine/timeline/diff.py)."""
    def moved(n: int, case: str, old: str, new: str, added: list[str], distance: int) -> dict[str, Any]:
        return {"line": n, "case_id": case, "status": "moved", "rating": {"from": old, "to": new},
                "dimensions": {"safety": {"from": old, "to": new}},
                "added": [{"rule_id": r, "dimension": "safety", "severity": "high", "points": 30, "message": "m"}
                          for r in added], "removed": [], "changed": [], "rules": added, "distance": distance}
    return [
        moved(1, "a", "low", "high", ["EUA-010"], 2),
        moved(2, "b", "low", "high", ["EUA-010", "EUA-011"], 2),
        moved(3, "c", "high", "critical", [], 1),
        {"line": 4, "case_id": "d", "status": "same", "rating": {"from": "low", "to": "low"}, "dimensions": {},
         "added": [], "removed": [], "changed": [], "rules": [], "distance": 0},
        {"line": 5, "case_id": "e", "status": "changed", "rating": {"from": "low", "to": "low"}, "dimensions": {},
         "added": [], "removed": [{"rule_id": "OVC-001", "dimension": "overcapacity", "severity": "low",
                                   "points": 5, "message": "m"}], "changed": [], "rules": ["OVC-001"], "distance": 0},
        {"line": 6, "case_id": "f", "error": {"code": "parse_error", "message": "x"}},
    ]


def test_with_a_diff_the_dashboard_lists_the_cases_that_changed(results: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.report import changes

    diff = tmp_path / "diff.jsonl"
    diff.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in _diff_records()))
    out = tmp_path / "r.html"
    monkeypatch.setattr(changes, "KEEP", 3)
    result = CliRunner().invoke(main, ["report", str(results), "--diff", str(diff), "-o", str(out)])
    assert result.exit_code == 0, result.output
    ch = _data_of(out.read_bytes())["changes"]
    assert ch["by_status"] == {"moved": 3, "same": 1, "changed": 1, "error": 1} and ch["changed"] == 4
    assert ch["rating_moves"] == [["low", "high", 2], ["high", "critical", 1]]
    assert ch["added"] == [["EUA-010", 2], ["EUA-011", 1]] and ch["removed"] == [["OVC-001", 1]]
    assert [c["case_id"] for c in ch["cases"]] == ["a", "b", "c"]  # farthest first, then by line
    text = out.read_text(encoding="utf-8")
    assert text.count('<tr data-status="') == 3 and "The 3 cases that moved farthest are listed" in text
    diff.write_text('{"line": 1, "case_id": "a", "assessment": {}}\n')
    bad = CliRunner().invoke(main, ["report", str(results), "--diff", str(diff), "-o", str(out)])
    assert bad.exit_code == 2 and f"{diff}:1: /: not a record of `airisk diff`" in bad.output


# --------------------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from browser()


@pytest.fixture(scope="module")
def page_file(results: Path) -> Path:
    path = results.parent / "dashboard.html"
    path.write_bytes(render_dashboard(pf.aggregate(read_records(results)), source="results.jsonl"))
    return path


@pytest.fixture
def view(chromium: Any) -> Iterator[Page]:
    page = Page(chromium, width=1400, height=1000)
    yield page
    page.close()


def test_the_rating_moves_of_a_diff_are_one_bar_each(view: Page, results: Path, tmp_path: Path) -> None:
    from engine.report.changes import Changes

    changes = Changes()
    for record in _diff_records():
        changes.add(record)
    path = tmp_path / "with-diff.html"
    path.write_bytes(render_dashboard(pf.aggregate(read_records(results)), changes=changes))
    page = view.open(path)
    page.wait_for_selector("html[data-ready=true]")
    assert _marks(page, "changes") == 2
    assert page.locator("#changed-cases tbody tr").count() == 4
    assert view.errors == []


def _marks(page: Any, chart: str) -> int:
    return int(page.locator(f'svg[data-chart="{chart}"] .mark').count())


def test_the_charts_are_svg_with_one_mark_per_non_empty_count(
        view: Page, page_file: Path, records: list[dict[str, Any]]) -> None:
    page = view.open(page_file)
    page.wait_for_selector("html[data-ready=true]")
    assessed = [r["assessment"] for r in records if "assessment" in r]
    ratings = {a["rating"] or "none" for a in assessed} | {"error"}
    assert _marks(page, "ratings") == len(ratings)
    cells = {(d, a["dimensions"][d]["level"] if a["dimensions"][d]["assessed"] else "none")
             for a in assessed for d in DIMENSIONS}
    assert _marks(page, "dimensions") == len(cells)
    driven = {x for a in assessed for d in a["dimensions"].values() for x in d["drivers"]}
    assert _marks(page, "drivers") == min(15, len(driven))
    bins = {(d, min(9, int(a["dimensions"][d]["score"] // 10))) for a in assessed for d in DIMENSIONS
            if a["dimensions"][d]["assessed"]}
    assert _marks(page, "scores") == len(bins)
    assert page.locator('svg[data-chart="errors"] .mark').count() == 2
    assert view.errors == [] and all(u.startswith("file://") for u in view.requests)
    assert distinct_colours(page.screenshot(clip={"x": 0, "y": 0, "width": 900, "height": 700})) > 40


def test_the_table_filters_sorts_pages_and_opens_a_row(view: Page, page_file: Path,
                                                       records: list[dict[str, Any]]) -> None:
    page = view.open(page_file)
    page.wait_for_selector("html[data-ready=true]")
    count = page.locator("#match-count")
    assert count.get_attribute("data-count") == str(len(records))
    assert page.locator("#cases-body tr.case-row").count() == 50  # the first page of 50
    page.click("#page-next")
    assert page.locator("#cases-body tr.case-row").count() == len(records) - 50
    low = sum(1 for r in records if (r.get("assessment") or {}).get("rating") == "low")
    page.select_option("#f-rating", "low")
    assert count.get_attribute("data-count") == str(low) and 0 < low < len(records)
    assert page.locator("#cases-body tr.case-row").count() == low
    page.select_option("#f-rating", "")
    critical_ec = sum(1 for r in records if "assessment" in r
                      and r["assessment"]["dimensions"]["export_control"]["level"] == "critical")
    page.select_option("#f-dim", "export_control:critical")
    assert count.get_attribute("data-count") == str(critical_ec) and 0 < critical_ec < len(records)
    page.select_option("#f-dim", "")
    rule = "USX-090"
    having = sum(1 for r in records if rule in {f["rule_id"] for f in (r.get("assessment") or {}).get("findings", [])})
    page.fill("#f-search", rule.lower())
    assert count.get_attribute("data-count") == str(having) and having > 0
    page.fill("#f-search", "guizhou-icc-")
    assert count.get_attribute("data-count") == str(COPIES)
    page.fill("#f-search", "")
    page.check("#f-errors")
    assert count.get_attribute("data-count") == "2"
    page.uncheck("#f-errors")
    page.click('#cases thead th[data-sort="case"]')
    first = page.locator("#cases-body tr.case-row button.expand").first.inner_text()
    ids = sorted("" if r["case_id"] is None else r["case_id"] for r in records)
    assert first == ids[0]
    page.click('#cases thead th[data-sort="case"]')
    assert page.locator("#cases-body tr.case-row button.expand").first.inner_text() == ids[-1]
    page.fill("#f-search", "guizhou-icc-0")
    page.click("#cases-body tr.case-row button.expand")
    detail = page.locator("#cases-body tr.detail")
    assert detail.count() == 1 and "USX-090" in detail.inner_text()
    assert view.errors == []
