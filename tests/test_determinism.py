"""Determinism: byte-identical output across runs, worker counts and PYTHONHASHSEED values.

Set iteration order, dict order from hashing, and worker scheduling must never
reach the output. Each run is a fresh process with its own hash seed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-22"
CASES = sorted((ROOT / "cases").glob("*.yaml"))
# Two seeds, not three: two hash seeds already iterate sets of strings in different orders.
SEEDS = ("0", "987654321")


def _run(args: list[str], seed: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, timeout=120)


def test_there_are_cases_to_check() -> None:
    assert len(CASES) >= 10


def test_assess_json_of_every_case_is_byte_identical_under_different_hash_seeds() -> None:
    outputs = []
    for seed in SEEDS:
        proc = _run(["assess", "--format", "json", "--as-of", AS_OF, *map(str, CASES)], seed)
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1]
    records = json.loads(outputs[0])
    assert [r["case_id"] for r in records] == [yaml.safe_load(p.read_text())["id"] for p in CASES]


def test_assess_json_of_one_case_matches_its_entry_in_the_many_case_output() -> None:
    from click.testing import CliRunner

    from engine.cli import main

    runner = CliRunner()
    many = json.loads(runner.invoke(main, ["assess", "--format", "json", "--as-of", AS_OF, *map(str, CASES)]).stdout)
    for path, expected in zip(CASES, many, strict=True):
        one = runner.invoke(main, ["assess", "--format", "json", "--as-of", AS_OF, str(path)])
        assert one.exit_code == 0, one.stderr
        assert json.loads(one.stdout) == expected, path.name


@pytest.fixture(scope="module")
def jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = [json.dumps(yaml.safe_load(p.read_text()), default=str, ensure_ascii=False) for p in CASES]
    lines.insert(3, '{"id": "bad", "kind": "project"}')  # an error record in the middle
    path = tmp_path_factory.mktemp("det") / "cases.jsonl"
    path.write_text("\n".join(lines * 8) + "\n", encoding="utf-8")
    return path


def test_batch_output_is_byte_identical_across_worker_counts_and_hash_seeds(jsonl: Path) -> None:
    runs = {}
    # Two runs that differ in both worker count and hash seed: output that depends on either differs.
    for workers, seed in (("1", "0"), ("2", "987654321")):
        proc = _run(["batch", str(jsonl), "--as-of", AS_OF, "--workers", workers, "--chunk-lines", "7"], seed)
        assert proc.returncode == 3, proc.stderr.decode()[-2000:]  # 3: some lines were errors
        runs[(workers, seed)] = proc.stdout
    first, *rest = runs.values()
    assert all(out == first for out in rest)
    assert len(first.splitlines()) == len(jsonl.read_text().splitlines())


def test_batch_assessments_equal_what_assess_prints_for_the_same_case(jsonl: Path) -> None:
    proc = _run(["assess", "--format", "json", "--as-of", AS_OF, "--horizon", "0", str(CASES[0])], "0")
    batch = _run(["batch", str(jsonl), "--as-of", AS_OF], "0")
    first = json.loads(batch.stdout.splitlines()[0])
    assert first["assessment"] == json.loads(proc.stdout)
