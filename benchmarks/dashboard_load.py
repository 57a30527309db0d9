"""Size and load time of the portfolio dashboard, at scale, in headless Chromium.

    python benchmarks/dashboard_load.py [--cases N] [--scale M] [--rounds R]

1. ``airisk batch --report`` over N generated cases (benchmarks/gen_cases.py; default 2,000):
   the real pipeline end to end, its wall time and the dashboard it writes.
2. The same results scaled to M cases (default 100,000) without assessing M cases on a
   shared machine: each record is replayed with a new id and line, and each replica drops one
   of its findings in turn, so the interned rule profiles keep growing (as real portfolios make
   them) until the page's profile budget is reached. ``airisk report`` over that file.
3. Each page loaded R times (default 3) in headless Chromium (Debian's chromium, Playwright),
   timed from navigation to the end of the page's script (charts drawn, table's first page
   shown). The peer measured in the same run: the same page at 1,000 cases; the ratio is printed.

Prints sizes in MB and load times in seconds; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _common import AS_OF, ROOT, generated_cases  # noqa: E402

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def airisk(*args: str) -> float:
    """Run ``airisk ARGS`` in a new process; its wall time in seconds (exit 0 or 3 accepted)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "engine.cli", *args], env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode not in (0, 1, 3):
        raise SystemExit(f"airisk {' '.join(args)}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    return took


def scaled(results: Path, target: Path, cases: int) -> None:
    """Write ``cases`` records replayed from ``results`` (new ids and lines; replica k of a record
    drops its finding k mod n, so profiles differ between replicas)."""
    base = [orjson.loads(line) for line in results.read_bytes().splitlines() if line.strip()]
    with open(target, "wb") as out:
        for n in range(cases):
            record = dict(base[n % len(base)])
            replica = n // len(base)
            record["line"] = n + 1
            record["case_id"] = f"{record.get('case_id') or 'case'}-r{replica}"
            a = record.get("assessment")
            if a is not None and replica and a["findings"]:
                findings = list(a["findings"])
                del findings[replica % len(findings)]
                record["assessment"] = dict(a, findings=findings, case_id=record["case_id"])
            out.write(orjson.dumps(record) + b"\n")


def load_seconds(browser: Any, page_file: Path, rounds: int) -> list[float]:
    """Wall times of ``rounds`` loads of ``page_file`` until the page's script has finished."""
    times = []
    for _ in range(rounds):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        start = time.perf_counter()
        page.goto(page_file.as_uri(), wait_until="load")
        page.wait_for_selector("html[data-ready=true]", timeout=120_000)
        times.append(time.perf_counter() - start)
        page.close()
    return times


def main() -> None:
    """Run the three steps and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000, help="cases assessed by airisk batch (default 2000)")
    parser.add_argument("--scale", type=int, default=100_000, help="cases in the scaled dashboard (default 100000)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results, batch_report = work / "results.jsonl", work / "batch-report.html"
        took = airisk("batch", str(generated_cases(args.cases)), "-o", str(results), "--report", str(batch_report),
                      "--as-of", AS_OF, "--no-progress")
        print(f"airisk batch --report, {args.cases:,} cases: {took:.1f} s; dashboard "
              f"{batch_report.stat().st_size / 1e6:.2f} MB; results {results.stat().st_size / 1e6:.1f} MB")
        pages = {}
        for n in (1000, args.scale):
            big = work / f"results-{n}.jsonl"
            scaled(results, big, n)
            page = work / f"report-{n}.html"
            took = airisk("report", str(big), "-o", str(page))
            pages[n] = page
            print(f"airisk report, {n:,} cases: {took:.1f} s; dashboard {page.stat().st_size / 1e6:.2f} MB "
                  f"(results {big.stat().st_size / 1e6:.0f} MB)")
            big.unlink()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=FLAGS)
            try:
                loads = {n: load_seconds(browser, page, args.rounds) for n, page in pages.items()}
            finally:
                browser.close()
    small, large = (statistics.median(loads[n]) for n in (1000, args.scale))
    for n, times in loads.items():
        print(f"load in headless chromium, {n:,} cases: median {statistics.median(times):.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in times)})")
    print(f"ratio {args.scale:,} / 1,000 cases: {large / small:.1f}x load time")


if __name__ == "__main__":
    main()
