"""Batch lines as untrusted input: deep nesting and a byte-order mark (issue 17)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import engine
from engine.distributed import assess_partition
from engine.safeyaml import load_file

ROOT = Path(__file__).resolve().parents[1]
CASE_LINE = json.dumps(load_file(str(ROOT / "cases" / "guizhou-icc.yaml")).data, default=str)


def deep(levels: int) -> str:
    return '{"id":"x","kind":"facility","name":"n","extra":' + "[" * levels + "]" * levels + "}"


@pytest.mark.parametrize("levels", [40, 256, 600, 1000])
def test_a_deeply_nested_line_is_one_too_deep_record_from_the_library(levels: int) -> None:
    for records in (list(engine.assess_many([deep(levels), CASE_LINE])),
                    list(assess_partition([deep(levels), CASE_LINE]))):
        assert records[0]["error"]["code"] == "too_deep", records[0]
        assert records[1]["case_id"] == "guizhou-icc" and "assessment" in records[1]


def test_a_deeply_nested_mapping_given_to_assess_many_is_a_record_not_an_exception() -> None:
    value: object = {}
    for _ in range(800):
        value = {"a": value}
    (record,) = engine.assess_many([value])  # type: ignore[list-item]
    assert record["error"]["code"] == "too_deep"


def test_batch_cli_gives_records_for_deep_lines_without_killing_workers(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join([deep(256), deep(1000), CASE_LINE]) + "\n")
    out = tmp_path / "out.jsonl"
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "batch", str(path), "-o", str(out), "--workers", "2"],
                          cwd=ROOT, capture_output=True, timeout=120)
    assert b"Traceback" not in proc.stderr and b"restart" not in proc.stderr.lower(), proc.stderr[-800:]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r.get("error", {}).get("code") for r in records[:2]] == ["too_deep", "too_deep"]
    assert records[2]["case_id"] == "guizhou-icc"


def test_a_byte_order_mark_on_the_first_batch_line_is_accepted() -> None:
    for first in ("\ufeff" + CASE_LINE, ("\ufeff" + CASE_LINE).encode()):
        (record,) = engine.assess_many([first])
        assert record["case_id"] == "guizhou-icc" and "assessment" in record
    second = list(engine.assess_many([CASE_LINE, "\ufeff" + CASE_LINE]))[1]
    assert second["error"]["code"] == "invalid_json"  # only the input's first line may carry one
