"""The HTML case report (``airisk assess --format html``): self-contained, escaped, complete,
in English and Chinese; and, in headless Chromium, loaded without errors, printable on A4
without cut-off tables, and not blank."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from headless import Page, browser, distinct_colours

from engine import api
from engine.cli import main
from engine.render import render
from engine.report import strings
from engine.report.case import render_html

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "cases" / "guizhou-icc.yaml"
AS_OF = "2026-12-02"


@pytest.fixture(scope="module")
def icc() -> dict[str, Any]:
    return api.assess_files([CASE], None, AS_OF)[0]


@pytest.fixture(scope="module")
def unknowns() -> dict[str, Any]:
    """A case whose rating has a range: decisive facts are unknown."""
    return api.assess_files([ROOT / "cases" / "ts-eu-cv-screening.yaml"], None, AS_OF)[0]


class _Collect(HTMLParser):
    """The tags with their attributes, and the text of every element outside script/style."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: bytes) -> _Collect:
    parser = _Collect()
    parser.feed(html.decode("utf-8"))
    return parser


def test_airisk_assess_format_html_writes_one_page_that_loads_nothing_from_outside(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["assess", str(CASE), "--as-of", AS_OF, "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_bytes()
    assert html.startswith(b"<!DOCTYPE html>")
    page = _parse(html)
    assert not [t for t, a in page.tags if t in ("script", "link", "img", "iframe", "object", "embed")]
    hrefs = [a.get("href") or "" for t, a in page.tags if t == "a"]
    assert all(h.startswith(("#", "https://", "http://")) for h in hrefs)
    assert b"url(" not in html and b"@import" not in html
    assert b"default-src 'none'" in html  # the page's own policy forbids any fetch


def test_the_page_shows_every_finding_with_each_evidence_row_and_each_cited_url(icc: dict[str, Any]) -> None:
    html = render_html([icc])
    page = _parse(html)
    rules = [a["data-rule"] for t, a in page.tags if t == "section" and "data-rule" in a]
    assert sorted(rules) == sorted(f["rule_id"] for f in icc["findings"])
    text = html.decode()
    rows = re.findall(r'<tr><td><code>[^<]*</code></td><td class="op">', text)
    assert len(rows) == sum(len(f["evidence"]) for f in icc["findings"])
    hrefs = {a.get("href") for t, a in page.tags if t == "a"}
    urls = {c["url"] for f in icc["findings"] for c in f["citations"] if c["url"]}
    assert urls and urls <= hrefs
    for f in icc["findings"]:
        if f["remediation"]:
            assert _escaped(f["remediation"]) in text
        if f["would_change"]:
            assert _escaped(f["would_change"]) in text


def _escaped(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace("'", "&#39;")


def test_the_headline_the_panel_the_tiers_the_duties_and_the_provenance_are_all_there(icc: dict[str, Any]) -> None:
    text = render_html([icc]).decode()
    assert f'data-rating="{icc["rating"]}"' in text
    for name, d in icc["dimensions"].items():
        assert f'data-dimension="{name}" data-level="{d["level"] if d["assessed"] else "none"}"' in text
    for d in icc["dimensions"].values():
        for tier in d["tiers"].values():
            assert f'data-tier="{tier["tier"]}"' in text
        for duty in d["duties"]:
            assert _escaped(duty["obligation"]) in text
    for rs in icc["provenance"]["rulesets"]:
        assert rs["sha256"] in text and rs["version"] in text
    assert icc["provenance"]["engine_version"] in text and icc["provenance"]["as_of"] in text
    for n in icc["needs_information"]:
        assert f"<td>{n['rule_id']}</td>" in text


def test_a_rating_with_a_range_names_the_worst_case_and_each_decisive_unknown(unknowns: dict[str, Any]) -> None:
    best, worst = unknowns["rating_range"]
    assert unknowns["rating"] == best != worst and unknowns["decisive_unknowns"], "the fixture case must have a range"
    text = render_html([unknowns]).decode()
    assert f'data-worst="{worst}"' in text and f'data-range="{best}-{worst}"' in text
    for u in unknowns["decisive_unknowns"]:
        assert f"<code>{u['fact']}</code>" in text


def test_text_from_a_case_is_escaped_never_markup(icc: dict[str, Any]) -> None:
    hostile = copy.deepcopy(icc)
    hostile["case_name"] = '<script>alert("x")</script>'
    hostile["findings"][0]["message"] = "<img src=x onerror=alert(1)>"
    hostile["findings"][0]["citations"][0]["url"] = 'javascript:alert(1)" onclick="x'
    text = render_html([hostile]).decode()
    assert "<script>alert" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text
    assert 'onclick="x' not in text


def test_the_chrome_is_chinese_when_the_result_is_and_english_otherwise(icc: dict[str, Any]) -> None:
    zh = dict(icc, lang="zh")
    text = render_html([zh]).decode()
    assert '<html lang="zh-CN">' in text
    assert f">{strings.table('zh')['levels'][icc['rating']]}</span>" in text
    assert "<h2>发现 (" in text and "<h2>来源信息</h2>" in text
    en = render_html([icc]).decode()
    assert '<html lang="en">' in en and "<h2>Findings (" in en and "发现" not in en
    assert render_html([icc], lang="zh") == render_html([zh])


def test_every_level_severity_and_dimension_has_a_name_in_both_languages() -> None:
    assert strings.complete()
    zh = strings.table("zh")["levels"]
    assert [zh[x] for x in ("critical", "high", "medium", "low", "none")] == ["严重", "高", "中", "低", "未评估"]
    assert set(strings.table("en")) == set(strings.table("zh"))


def test_an_unknown_report_language_is_a_usage_error() -> None:
    from engine.errors import AiriskError

    with pytest.raises(AiriskError, match="no report language 'fr'"):
        strings.table("fr")


def test_several_cases_make_one_page_with_a_list_of_contents(icc: dict[str, Any], unknowns: dict[str, Any]) -> None:
    text = render("html", [icc, unknowns]).decode()
    assert text.count('<article class="case"') == 2
    assert '<a href="#case-1">guizhou-icc</a>' in text and f'<a href="#case-2">{unknowns["case_id"]}</a>' in text
    assert text.count("<!DOCTYPE html>") == 1


def test_upcoming_changes_and_waived_findings_are_shown_when_the_result_has_them(icc: dict[str, Any]) -> None:
    a = copy.deepcopy(icc)
    a["upcoming"] = [{  # the shape of engine.assessment.result.Upcoming (issue 19)
        "date": "2027-08-02", "rating": a["rating"], "rating_range": a["rating_range"],
        "moves": [{"dimension": "safety", "from": "medium", "to": "high", "from_range": ["medium", "medium"],
                   "to_range": ["high", "high"]}],
        "appeared": [{"rule_id": "EUA-100", "dimension": "safety", "severity": "high", "title": "GPAI duties"}],
        "disappeared": [], "text": "EU GPAI duties start"}]
    a["findings"][0]["waived"] = {"reason": "accepted by the board", "approver": "J. Doe", "ticket": "RISK-42",
                                  "created": "2026-11-01", "expires": "2027-01-31", "rule": a["findings"][0]["rule_id"],
                                  "file": "waivers.yaml", "line": 3}
    a["provenance"] = dict(a["provenance"], waivers={"file": "waivers.yaml", "sha256": "ab" * 32, "waivers": [{}]})
    text = render_html([a]).decode()
    assert "EU GPAI duties start" in text and "EUA-100" in text and "2027-08-02" in text
    assert "is-waived" in text and "accepted by the board" in text and "RISK-42" in text
    assert "ab" * 32 in text


# --------------------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from browser()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_report_loads_in_headless_chromium_without_errors_and_is_not_blank(
        chromium: Any, icc: dict[str, Any], tmp_path: Path, lang: str) -> None:
    path = tmp_path / f"report-{lang}.html"
    path.write_bytes(render_html([dict(icc, lang=lang)]))
    view = Page(chromium, width=1100, height=800)
    try:
        page = view.open(path)
        assert page.locator(".dimensions .dim").count() == len(icc["dimensions"])
        assert page.locator("section.finding").count() == len(icc["findings"])
        badge = page.locator(".headline [data-rating]").inner_text().strip()
        assert badge.lower() == strings.table(lang)["levels"][icc["rating"]].lower()
        shot = page.screenshot(clip={"x": 0, "y": 0, "width": 800, "height": 600})
        assert distinct_colours(shot) > 40
        assert view.errors == [] and all(u.startswith("file://") for u in view.requests)
    finally:
        view.close()


def test_printed_on_a4_no_table_is_wider_than_the_page(chromium: Any, icc: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "print.html"
    path.write_bytes(render_html([icc]))
    # A4 less the stylesheet's 12 mm side margins is 186 mm: 703 CSS pixels at 96 per inch
    view = Page(chromium, width=703, height=1000)
    try:
        page = view.open(path)
        page.emulate_media(media="print")
        widths = page.evaluate("""() => Array.from(document.querySelectorAll('table')).map(
            t => [t.scrollWidth, t.getBoundingClientRect().right])""")
        assert widths and all(scroll <= 703 and right <= 703.5 for scroll, right in widths), widths
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") > 1
        assert view.errors == []
    finally:
        view.close()
