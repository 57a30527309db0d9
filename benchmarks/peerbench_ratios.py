"""The speed figures of issue 22, each as a ratio to its peer measured in the same run.

    python benchmarks/peerbench_ratios.py --seed 20261202                 # 3 rounds, 20,000 cases
    python benchmarks/peerbench_ratios.py --seed 7 --rounds 1 --quick     # smoke run (smaller sizes)

Needs ../shared/peerbench installed once (``./run_all.sh --rounds 1 --only io-floor`` there, or
``benchmarks/peerbench_run.sh``); its venv and build directory are in ``$PEERBENCH_WORK``
(default /tmp/peerbench). Four parts, run one after the other, each interleaving its own rows:

1. **peerbench** (``run_all.sh`` with ``SKIP_INSTALL=1``) on a corpus made with ``--seed``: the
   peers io-floor, python-lambdas, cel-expr-python, opa regorus and durable-rules, and airisk
   ``batch`` with full records (1 and 2 workers) and compact records (1 and 2 workers, with
   ``--catalog``), and ``airisk-core-only`` (benchmarks/core_only.py: airisk's matcher firing rules
   and nothing else, the ceiling of every airisk row). Every airisk row must agree with the
   reference on every case.
2. **scaling**: ``airisk batch`` on the bundled rulesets over ``--bundled-cases`` generated cases
   (seeded by ``--seed``), 1 and 2 workers, interleaved.
3. **cold start**: a one-case ``airisk assess cases/ec-ascend-910b-us-nexus.yaml --format json``
   with a warm compile cache against each peer's cold start (its runner on empty stdin),
   interleaved, ``--cold-runs`` each; the ratio is to the fastest peer's median.
4. **memory**: peak RSS of the parent and of each worker over ``--memory-cases`` streamed cases
   (``batch_memory.py``, 2 workers), and whether it grew after the first tenth.

Prints each figure with its target, the load average before and after, and the commands.
Asserts nothing (benchmarks never fail a build).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, generated_cases

PB_HOME = Path(os.environ.get("PEERBENCH_HOME", ROOT.parent / "shared" / "peerbench"))
PB_WORK = Path(os.environ.get("PEERBENCH_WORK", "/tmp/peerbench"))
PEERS = "io-floor,python-lambdas,cel-expr-python,opa regorus,durable-rules"
BASE = "cel-expr-python (c++)"
CASE = "cases/ec-ascend-910b-us-nexus.yaml"
AS_OF = "2026-11-22"
TARGETS = {  # figure -> (target ratio, "at least" or "at most")
    "full, 1 worker / cel-expr-python": (0.5, ">="),
    "full, 2 workers / cel-expr-python": (1.0, ">="),
    "compact, 1 worker / cel-expr-python": (0.75, ">="),
    "compact, 2 workers / cel-expr-python": (None, ">="),
    "bundled 2 workers / 1 worker": (1.8, ">="),
    "one-case assess / fastest peer cold start": (2.5, "<="),
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")}
    return env


def peerbench(seed: int, rounds: int, cases: int, py: str) -> dict[str, dict[str, float]]:
    """Run peerbench with the airisk rows; {row: {rate, cold, rss, agree, of}}."""
    build = PB_WORK / "build"
    build.mkdir(parents=True, exist_ok=True)
    rules = build / "airisk-rules.yaml"
    subprocess.run([py, str(ROOT / "benchmarks" / "peerbench_translate.py"), str(PB_HOME / "rules.yaml"), str(rules)],
                   check=True, cwd=ROOT)
    catalog = build / "airisk-catalog.json"
    cmd = (f"{py} -m engine.cli batch --no-bundled --rules $PEERBENCH_WORK/build/airisk-rules.yaml "
           f"--as-of {AS_OF} --no-progress")
    extras = []
    for name, extra in (("airisk-full-w1", "--workers 1"), ("airisk-full-w2", "--workers 2"),
                        ("airisk-compact-w1", f"--workers 1 --record compact --catalog {catalog}"),
                        ("airisk-compact-w2", f"--workers 2 --record compact --catalog {catalog}")):
        extras += ["--extra", f"{name}={cmd} {extra}", "--extra-version", name]
    # The ceiling of every airisk row: durable-rules through airisk's matcher, firing rules only.
    extras += ["--extra", f"airisk-core-only={py} {ROOT / 'benchmarks' / 'core_only.py'} "
               f"$PEERBENCH_WORK/build/airisk-rules.yaml --as-of {AS_OF}", "--extra-version", "airisk-core-only"]
    only = PEERS + ",airisk-full-w1,airisk-full-w2,airisk-compact-w1,airisk-compact-w2,airisk-core-only"
    env = {**_env(), "SKIP_INSTALL": "1", "PEERBENCH_WORK": str(PB_WORK), "PEERBENCH_SEED": str(seed),
           "PEERBENCH_CASES": str(cases), "PYTHONPATH": str(ROOT)}
    # python -m engine.cli runs in $PEERBENCH_HOME: PYTHONPATH makes it this checkout's engine.
    subprocess.run(["./run_all.sh", "--rounds", str(rounds), "--only", only, *extras], cwd=PB_HOME, env=env,
                   check=True)
    data = json.loads((build / "results.json").read_text())
    out = {}
    for row in data["rows"]:
        if row.get("rate_med") is None:
            print(f"peerbench row {row['engine']} failed: {row.get('failed')}", file=sys.stderr)
            continue
        out[row["engine"]] = {"rate": row["rate_med"], "cold": row["cold_med"], "rss": row["rss_med"],
                              "agree": row["agree"][0], "of": row["agree"][1]}
    return out


def _wall(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, input=b"", capture_output=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):  # assess exits 1 only with --fail-on, which is not given
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()[-1000:]}")
    return wall


def cold_start(runs: int, py: str) -> tuple[dict[str, float], str]:
    """Median wall seconds of the one-case assess and of each peer's cold start, interleaved."""
    data = json.loads((PB_WORK / "build" / "results.json").read_text())
    env = _env()
    cache = tempfile.mkdtemp(prefix="airisk-ratios-")
    rows: dict[str, tuple[list[str], dict[str, str], Path]] = {}
    peer_env = {**env, "PEERBENCH_HOME": str(PB_HOME), "PEERBENCH_WORK": str(PB_WORK),
                "NODE_PATH": str(PB_WORK / "node" / "node_modules")}
    for row in data["rows"]:
        if not row["engine"].startswith("airisk") and row.get("rate_med") is not None \
                and not row["engine"].startswith("io-floor"):
            rows[row["engine"]] = (row["argv"], peer_env, PB_HOME)
    rows["airisk assess"] = ([py, "-m", "engine.cli", "assess", CASE, "--format", "json"],
                             {**env, "AIRISK_CACHE_DIR": cache}, ROOT)
    times: dict[str, list[float]] = {name: [] for name in rows}
    names = list(rows)
    try:
        for argv, e, cwd in rows.values():  # warm-up: page cache, .pyc files, airisk's compile cache
            _wall(argv, e, cwd)
        for i in range(runs):
            for name in names[i % len(names):] + names[:i % len(names)]:
                argv, e, cwd = rows[name]
                times[name].append(_wall(argv, e, cwd))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    medians = {name: statistics.median(t) for name, t in times.items()}
    fastest = min((n for n in medians if n != "airisk assess"), key=medians.__getitem__)
    return medians, fastest


def scaling(seed: int, cases: int, rounds: int, py: str) -> dict[int, float]:
    """cases/s of airisk batch on the bundled rulesets with 1 and 2 workers (median of rounds)."""
    source = generated_cases(cases, seed)
    rates: dict[int, list[float]] = {1: [], 2: []}
    env = _env()
    with tempfile.TemporaryDirectory(prefix="airisk-scale-") as tmp:
        env["AIRISK_CACHE_DIR"] = tmp
        argv = [py, "-m", "engine.cli", "batch", str(source), "--as-of", AS_OF, "--no-progress",
                "--output", str(Path(tmp) / "out.jsonl")]
        subprocess.run([*argv[:4], str(generated_cases(200, seed)), *argv[5:], "--workers", "1"], cwd=ROOT, env=env,
                       check=False, capture_output=True)  # warm the compile cache
        for r in range(rounds):
            for w in ((1, 2) if r % 2 == 0 else (2, 1)):
                start = time.perf_counter()
                proc = subprocess.run([*argv, "--workers", str(w)], cwd=ROOT, env=env, capture_output=True, check=False)
                wall = time.perf_counter() - start
                if proc.returncode not in (0, 1):
                    raise SystemExit(f"batch exited {proc.returncode}: {proc.stderr.decode()[-1000:]}")
                rates[w].append(cases / wall)
    return {w: statistics.median(v) for w, v in rates.items()}


def memory(cases: int, py: str) -> str:
    """The last lines of batch_memory.py over ``cases`` streamed cases with 2 workers."""
    proc = subprocess.run([py, str(ROOT / "benchmarks" / "batch_memory.py"), "--cases", str(cases), "--workers", "2"],
                          cwd=ROOT / "benchmarks", env=_env(), capture_output=True, text=True, check=False)
    return "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-6:])


def _line(name: str, ratio: float) -> str:
    target, sense = TARGETS[name]
    if target is None:
        verdict = "(no target)"
    else:
        met = ratio >= target if sense == ">=" else ratio <= target
        verdict = f"target {sense} {target:g}: {'met' if met else 'MISSED'}"
    return f"  {name:<44} {ratio:6.2f}x   {verdict}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, required=True, help="corpus seed (peerbench corpus and generated cases)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cases", type=int, default=20_000, help="peerbench corpus size")
    ap.add_argument("--bundled-cases", type=int, default=100_000)
    ap.add_argument("--cold-runs", type=int, default=15)
    ap.add_argument("--memory-cases", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: peerbench,scaling,cold,memory")
    a = ap.parse_args()
    if a.quick:
        a.cases, a.bundled_cases, a.cold_runs, a.memory_cases = 2000, 2000, 3, 20_000
    skip = set(filter(None, a.skip.split(",")))
    py = sys.executable
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    lines = []
    if "peerbench" not in skip:
        rows = peerbench(a.seed, a.rounds, a.cases, py)
        base = rows[BASE]["rate"]
        lines.append(f"peerbench, seed {a.seed}, {a.cases:,} cases, {a.rounds} rounds "
                     f"(cases/s; {BASE}: {base:,.0f}):")
        for name, row in rows.items():
            lines.append(f"  {name:<28} {row['rate']:>10,.0f} cases/s  {row['rate'] / base:5.2f}x  "
                         f"cold {row['cold']:.3f} s  peak {row['rss']:.0f} MB  agree {row['agree']}/{row['of']}")
        for kind in ("full", "compact"):
            for w, label in ((1, "1 worker"), (2, "2 workers")):
                row = rows.get(f"airisk-{kind}-w{w}")
                if row:
                    lines.append(_line(f"{kind}, {label} / cel-expr-python", row["rate"] / base))
        core = rows.get("airisk-core-only")
        if core:
            lines.append(f"  the matching core alone (benchmarks/core_only.py, 1 process) / cel-expr-python: "
                         f"{core['rate'] / base:.2f}x: the ceiling of every airisk row with durable-rules "
                         "on the hot path")
    if "scaling" not in skip:
        rates = scaling(a.seed, a.bundled_cases, max(1, min(a.rounds, 2)), py)
        lines.append(f"bundled rulesets, {a.bundled_cases:,} generated cases (seed {a.seed}): "
                     f"1 worker {rates[1]:,.0f} cases/s, 2 workers {rates[2]:,.0f} cases/s")
        lines.append(_line("bundled 2 workers / 1 worker", rates[2] / rates[1]))
    if "cold" not in skip:
        medians, fastest = cold_start(a.cold_runs, py)
        lines.append(f"cold start, {a.cold_runs} interleaved runs each (median s): "
                     + ", ".join(f"{n} {t:.3f}" for n, t in medians.items()))
        lines.append(_line("one-case assess / fastest peer cold start", medians["airisk assess"] / medians[fastest])
                     + f" (fastest: {fastest})")
    if "memory" not in skip:
        lines.append(f"memory, {a.memory_cases:,} streamed cases, 2 workers (batch_memory.py):")
        lines.append(memory(a.memory_cases, py))
    print(f"\nissue-22 ratios, started {started}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, after "
          f"{os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
