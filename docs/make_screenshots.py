"""Make the README's screenshots of the HTML reports in headless Chromium.

    python docs/make_screenshots.py            # writes docs/report-en.png, docs/report-zh.png,
                                               # docs/dashboard.png

The case report is ``airisk assess cases/guizhou-icc.yaml --format html`` (with ``--lang zh``
for the Chinese one, when this airisk has the option; otherwise the result is marked Chinese,
which switches the report's chrome); the dashboard is ``airisk report`` over a batch of the
example cases. Needs Playwright and Debian's chromium (``pip install '.[test]'``,
``apt-get install chromium fonts-noto-cjk``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
AS_OF = "2026-12-02"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def case_report(lang: str) -> bytes:
    """The HTML report of the Guizhou example in ``lang``."""
    from click.testing import CliRunner

    from engine import api
    from engine.cli import main
    from engine.report.case import render_html

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.html"
        case = str(ROOT / "cases" / "guizhou-icc.yaml")
        args = ["assess", case, "--as-of", AS_OF, "--format", "html", "-o", str(out)]
        result = CliRunner().invoke(main, [*args, "--lang", lang])
        if result.exit_code == 0:
            return out.read_bytes()
    a = api.assess_files([ROOT / "cases" / "guizhou-icc.yaml"], None, AS_OF)[0]
    return render_html([dict(a, lang=lang)])


def dashboard() -> bytes:
    """The dashboard of the example cases, each assessed on three dates."""
    from engine import api
    from engine.report.dashboard import render_dashboard
    from engine.report.portfolio import Portfolio

    portfolio = Portfolio()
    cases = sorted((ROOT / "cases").glob("*.yaml"))
    for day in ("2024-06-01", "2025-06-01", AS_OF):
        for a in api.assess_files(cases, None, day):
            portfolio.add({"line": portfolio.lines + 1, "case_id": f"{a['case_id']}-{day}", "assessment": a})
    return render_dashboard(portfolio, source="examples.jsonl")


def shoot(browser: Any, html: bytes, target: Path, width: int, height: int) -> None:
    """Load ``html`` from a temporary file and save a screenshot of its top to ``target``."""
    with tempfile.TemporaryDirectory() as tmp:
        page_file = Path(tmp) / "page.html"
        page_file.write_bytes(html)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(page_file.as_uri(), wait_until="load")
        page.screenshot(path=str(target))
        page.close()
    print(f"wrote {target.relative_to(ROOT)}")


def main() -> None:
    """Write the three screenshots under docs/."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=FLAGS)
        try:
            shoot(browser, case_report("en"), ROOT / "docs" / "report-en.png", 1100, 1400)
            shoot(browser, case_report("zh"), ROOT / "docs" / "report-zh.png", 1100, 1400)
            shoot(browser, dashboard(), ROOT / "docs" / "dashboard.png", 1300, 1300)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
