"""Batch on a Dask cluster gives exactly the local batch's records."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from engine.batch.run import BatchOptions, run_batch
from engine.ruleset.load import load_rules

distributed = pytest.importorskip("dask.distributed")
db = pytest.importorskip("dask.bag")

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-22"


def part_files(tmp_path: Path) -> list[Path]:
    from tests.test_batch import varied_cases

    cases = varied_cases(90, seed=21)
    files = []
    for k in range(3):
        lines = [orjson.dumps(c) for c in cases[k * 30:(k + 1) * 30]]
        lines[k + 2] = b"{not json" if k != 1 else b""
        path = tmp_path / "data" / f"part-{k}.jsonl"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"\n".join(lines) + b"\n")
        files.append(path)
    return files


def local_batch(path: Path) -> bytes:
    out = path.with_suffix(".local")
    run_batch(load_rules(), BatchOptions(input=str(path), output=str(out), as_of=AS_OF, isolate=False,
                                         progress=False), stderr=io.StringIO())
    return out.read_bytes()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """One local cluster of two worker processes for both tests: starting it is most of their time,
    and each test still runs its own files on it."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as local:
        yield local


def test_a_local_dask_cluster_gives_the_records_of_the_local_batch_per_file_and_per_bag(tmp_path: Path,
                                                                                         cluster: Any) -> None:
    from engine.batch.distributed import assess_bag, run_dask

    files = part_files(tmp_path)
    expected = {f.stem: local_batch(f) for f in files}
    with distributed.Client(cluster) as client:
        # File to file, as `airisk batch --dask ADDRESS 'data/*.jsonl' --output out/` does.
        stats = run_dask(client, str(tmp_path / "data" / "*.jsonl"), str(tmp_path / "out"), as_of=AS_OF)
        for f in files:
            assert (tmp_path / "out" / f"{f.stem}.jsonl").read_bytes() == expected[f.stem]
        assert stats.lines == 90 and stats.errors == 3
        # A dask.bag of lines, one partition per file.
        bag = db.read_text([str(f) for f in files], blocksize=None)
        records = assess_bag(bag, as_of=AS_OF).compute()
    local = b"".join(expected[f.stem] for f in files)
    assert [orjson.dumps(r) for r in records] == local.splitlines()


def test_the_cli_runs_on_a_dask_scheduler_address(tmp_path: Path, cluster: Any) -> None:
    import subprocess
    import sys

    files = part_files(tmp_path)
    res = subprocess.run([sys.executable, "-m", "engine.cli", "batch", "--dask", cluster.scheduler_address,
                          str(tmp_path / "data" / "*.jsonl"), "--output", str(tmp_path / "out"),
                          "--as-of", AS_OF], capture_output=True, cwd=ROOT, timeout=120, check=False)
    assert res.returncode == 3, res.stderr.decode()[-2000:]
    assert b"airisk batch: 90 lines, 87 assessed" in res.stderr
    for f in files:
        assert (tmp_path / "out" / f"{f.stem}.jsonl").read_bytes() == local_batch(f)


def test_dask_takes_waivers_chinese_and_compact_records_as_the_local_run_does_and_names_the_cases_that_trip(
        tmp_path: Path, cluster: Any) -> None:
    import subprocess
    import sys

    from tests.test_batch import varied_cases

    cases = varied_cases(24, seed=23)
    files = []
    for k in range(2):
        path = tmp_path / "data" / f"p{k}.jsonl"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"".join(orjson.dumps(c) + b"\n" for c in cases[k * 12:(k + 1) * 12]))
        files.append(path)
    both = tmp_path / "both.jsonl"
    both.write_bytes(b"".join(f.read_bytes() for f in files))
    options = ["--as-of", AS_OF, "--waivers", str(ROOT / "docs" / "waivers.example.yaml"), "--lang", "zh",
               "--record", "compact", "--fail-on", "low"]

    def batch(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "engine.cli", "batch", *args, *options], capture_output=True,
                              cwd=ROOT, timeout=180, check=False)

    on_dask = batch("--dask", cluster.scheduler_address, str(tmp_path / "data" / "*.jsonl"),
                    "--output", str(tmp_path / "out"), "--catalog", str(tmp_path / "dask-catalog.json"))
    local = batch(str(both), "--output", str(tmp_path / "local.jsonl"), "--catalog",
                  str(tmp_path / "local-catalog.json"))
    assert on_dask.returncode == local.returncode == 1, on_dask.stderr.decode()[-2000:]
    assert (tmp_path / "dask-catalog.json").read_bytes() == (tmp_path / "local-catalog.json").read_bytes()
    records = b"".join((tmp_path / "out" / f"{f.stem}.jsonl").read_bytes() for f in files).splitlines()
    expected = (tmp_path / "local.jsonl").read_bytes().splitlines()
    # Line numbers restart in each file; everything else is the local run's record.
    assert [{**orjson.loads(r), "line": 0} for r in records] == [{**orjson.loads(r), "line": 0} for r in expected]
    assert all("catalog" in orjson.loads(r) for r in records)
    assert any("\u4e00" <= ch <= "\u9fff" for r in records for ch in r.decode()), "the texts are Chinese"

    def said(proc: subprocess.CompletedProcess[bytes], prefix: str) -> list[str]:
        return [line for line in proc.stderr.decode().splitlines() if line.startswith(prefix)]

    # The same cases named, in the same order (file order, then line order), and the same waiver reports.
    assert said(on_dask, "airisk: --fail-on") == said(local, "airisk: --fail-on") != []
    assert said(on_dask, "airisk: stale") == said(local, "airisk: stale")
    assert said(on_dask, "airisk: expired") == said(local, "airisk: expired")


def test_an_unreachable_scheduler_is_an_error_naming_it_and_nothing_is_written(tmp_path: Path) -> None:
    from engine.batch.distributed import RunSettings, run_dask
    from engine.errors import AiriskError

    part_files(tmp_path)
    with pytest.raises(AiriskError, match=re.escape("cannot reach the Dask scheduler at tcp://127.0.0.1:1")):
        run_dask("tcp://127.0.0.1:1", str(tmp_path / "data" / "*.jsonl"), str(tmp_path / "out"), as_of=AS_OF,
                 settings=RunSettings(record="compact"), catalog=str(tmp_path / "catalog.json"), connect_timeout=0.5)
    assert not (tmp_path / "catalog.json").exists()
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
