"""Shared helpers for the batch benchmarks: inputs, the batch command, RSS sampling."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = Path(os.environ.get("AIRISK_BENCH_DIR", "/tmp/airisk-bench"))
PEERBENCH = Path(os.environ.get("PEERBENCH_HOME", ROOT.parent / "shared" / "peerbench"))
AS_OF = "2026-11-22"


#: The generated corpus's default seed (benchmarks/gen_cases.py).
GENERATED_SEED = 20261122


def generated_cases(n: int, seed: int = GENERATED_SEED) -> Path:
    """A JSON-lines file of n generated cases (benchmarks/gen_cases.py), made once and cached."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"cases-{n}-{seed}.jsonl"
    if not path.exists():
        sys.path.insert(0, str(HERE))
        import orjson
        from gen_cases import generate

        tmp = path.with_suffix(".part")
        with open(tmp, "wb") as fh:
            for case in generate(n, seed):
                fh.write(orjson.dumps(case) + b"\n")
        tmp.replace(path)
    return path


#: peerbench's own corpus seed (shared/peerbench/gen_corpus.py), the default of every script.
PEERBENCH_SEED = 20240901


def peerbench_inputs(seed: int = PEERBENCH_SEED) -> tuple[Path, Path]:
    """(translated peerbench ruleset, its 20,000-case corpus of ``seed``), made once and cached."""
    CACHE.mkdir(parents=True, exist_ok=True)
    rules = CACHE / "peerbench-airisk.yaml"
    corpus = CACHE / ("peerbench-corpus.jsonl" if seed == PEERBENCH_SEED else f"peerbench-corpus-{seed}.jsonl")
    if not rules.exists():
        sys.path.insert(0, str(HERE))
        from peerbench_translate import main as translate

        translate(["peerbench_translate", str(PEERBENCH / "rules.yaml"), str(rules)])
    if not corpus.exists():
        import subprocess

        subprocess.run([sys.executable, str(PEERBENCH / "gen_corpus.py"), str(corpus), "20000", str(seed)],
                       check=True)
    return rules, corpus


def batch_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "engine.cli", "batch", "--as-of", AS_OF, "--no-progress", *args]


class RssSampler(threading.Thread):
    """Samples the RSS (MB) of a process and each of its children every ``every`` seconds."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.every = every
        self.samples: list[tuple[float, float, list[float]]] = []  # (t, parent MB, [worker MB...])
        self.stop = threading.Event()
        self.started_at = time.perf_counter()

    def run(self) -> None:
        import psutil

        try:
            proc = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self.stop.is_set():
            try:
                parent = proc.memory_info().rss / 2**20
                kids = []
                for child in proc.children():
                    with contextlib.suppress(psutil.Error):
                        kids.append(child.memory_info().rss / 2**20)
            except psutil.Error:
                return
            self.samples.append((time.perf_counter() - self.started_at, parent, kids))
            self.stop.wait(self.every)

    def peaks(self) -> dict[str, Any]:
        parent = max((p for _, p, _ in self.samples), default=0.0)
        worker = max((max(k) for _, _, k in self.samples if k), default=0.0)
        return {"parent_mb": parent, "worker_mb": worker}
