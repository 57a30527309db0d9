"""Files and names as untrusted input: FIFOs are refused, not waited on; bidi controls are escaped (issue 17)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import assess, load_rules
from engine.authoring.tabletests import load_table
from engine.errors import AiriskError
from engine.lang.template import escape_invisible
from engine.render.formats import render_markdown, render_text

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "cases" / "guizhou-icc.yaml"
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")


@needs_fifo
@pytest.mark.parametrize("command", ["validate", "assess"])
def test_a_fifo_given_as_rules_is_refused_not_waited_on(tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "rules.yaml"
    os.mkfifo(fifo)
    args = [command, str(fifo)] if command == "validate" else [command, "--no-bundled", "--rules", str(fifo), str(CASE)]
    proc = subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=ROOT, capture_output=True, timeout=60)
    assert proc.returncode == 2, proc.stderr[-800:]
    assert b"Traceback" not in proc.stderr


@needs_fifo
def test_a_fifo_given_as_rules_to_the_library_raises_a_located_error(tmp_path: Path) -> None:
    fifo = tmp_path / "rules.yaml"
    os.mkfifo(fifo)
    with pytest.raises(AiriskError) as info:
        load_rules(fifo)
    assert "regular file" in str(info.value.problems[0].message)


@needs_fifo
def test_a_fifo_given_as_a_case_file_in_a_tests_table_is_refused(tmp_path: Path) -> None:
    (tmp_path / "rules" / "cases").mkdir(parents=True)
    os.mkfifo(tmp_path / "rules" / "cases" / "pipe.yaml")
    table = tmp_path / "rules" / "x.tests.yaml"
    table.write_text("ruleset: x\ntests:\n  - name: piped\n    case_file: cases/pipe.yaml\n"
                     "    as_of: 2026-11-22\n    expect: {fires: [X-1]}\n")
    with pytest.raises(AiriskError) as info:
        load_table(table)
    assert any("not a regular file" in p.message and p.code == "io_error" for p in info.value.problems)


def test_bidi_controls_in_names_are_escaped_in_text_and_markdown(tmp_path: Path) -> None:
    hostile = "Acme \u202eEVIL\u202c \u2066x\u2069 \u200f"
    text = CASE.read_text().replace("name: Gui", f"name: {hostile} Gui", 1)
    assert hostile in text
    path = tmp_path / "c.yaml"
    path.write_text(text)
    result = json.loads(assess(path, as_of="2026-11-22").to_json())
    assert hostile in result["case_name"]  # the data keeps what it holds
    for out in (render_text(result), render_markdown(result)):
        assert not any(ch in out for ch in "\u202e\u202c\u2066\u2069\u200f")
        assert "<U+202E>EVIL<U+202C>" in out
    assert escape_invisible("\u0645\u200c\u06cc") == "\u0645\u200c\u06cc"  # ZWNJ is ordinary Persian text
