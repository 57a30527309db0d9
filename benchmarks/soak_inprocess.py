"""Many assessments in one process: no crash, flat memory, every result the fresh-process result.

    python benchmarks/soak_inprocess.py [--assessments 1000000] [--distinct 2000] [--seconds 0]
                                        [--seed 20261201] [--threads 1]

Takes ``--distinct`` cases (every example case, the rest from ``gen_cases.py``), gets each
one's assessment from a fresh ``airisk batch`` process (its reference), then assesses them
over and over in this one process (``engine.assess_many``, or ``--threads`` threads sharing
the engine) until ``--assessments`` are done or ``--seconds`` have passed. Every result is
compared byte for byte with its reference; the resident set size is sampled every 10,000
assessments. Exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def digest(record: dict[str, object]) -> bytes:
    body = record.get("assessment", record)
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).digest()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assessments", type=int, default=1_000_000)
    parser.add_argument("--distinct", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (0: no limit)")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--as-of", default="2026-12-01")
    args = parser.parse_args(argv)

    from gen_cases import generate, templates

    import engine

    cases = templates()
    cases += list(generate(max(0, args.distinct - len(cases)), seed=args.seed))
    cases = cases[:args.distinct]
    lines = b"".join(orjson.dumps(c) + b"\n" for c in cases)
    fresh = subprocess.run([sys.executable, "-m", "engine.cli", "batch", "--as-of", args.as_of, "--workers", "1"],
                           input=lines, capture_output=True, cwd=ROOT, check=False)
    if fresh.returncode not in (0, 1, 3):
        raise SystemExit(f"the reference batch failed ({fresh.returncode}): {fresh.stderr.decode()[-2000:]}")
    reference = [digest(orjson.loads(line)) for line in fresh.stdout.splitlines()]
    assert len(reference) == len(cases)

    def one(i: int) -> bool:
        record = next(engine.assess_many([cases[i]], as_of=args.as_of))
        return digest(record) == reference[i]

    start = time.perf_counter()
    done = differ = 0
    samples: list[tuple[int, float]] = [(0, rss_mb())]
    pool = concurrent.futures.ThreadPoolExecutor(args.threads) if args.threads > 1 else None
    batch = 1000
    while done < args.assessments:
        if args.seconds and time.perf_counter() - start > args.seconds:
            break
        idx = [(done + k) % len(cases) for k in range(min(batch, args.assessments - done))]
        if pool is None:
            records = engine.assess_many([cases[i] for i in idx], as_of=args.as_of)
            ok = [digest(r) == reference[i] for i, r in zip(idx, records, strict=True)]
        else:
            ok = list(pool.map(one, idx))
        differ += ok.count(False)
        done += len(idx)
        if done % 10_000 < batch:
            samples.append((done, rss_mb()))
            print(f"{done:>9} assessed, {differ} different, RSS {samples[-1][1]:.0f} MB, "
                  f"{done / (time.perf_counter() - start):,.0f}/s", flush=True)
    wall = time.perf_counter() - start
    later = [mb for n, mb in samples if n >= min(done, 50_000)] or [samples[-1][1]]
    print(f"soak: {done} assessments of {len(cases)} distinct cases in one process ({args.threads} thread(s)), "
          f"{wall:.0f} s; {differ} differ from the fresh-process result; RSS first {samples[0][1]:.0f} MB, "
          f"after 50,000 min {min(later):.0f} / max {max(later):.0f} MB")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
