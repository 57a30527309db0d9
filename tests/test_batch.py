"""Batch mode: one ordered record per input line, whatever the lines and the worker count."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

import engine
from engine.batch.reader import DEFAULT_MAX_LINE_BYTES, read_lines
from engine.batch.records import Assessor, make_assessor
from engine.case.validation import case_from_data
from engine.derive.view import build_view
from engine.lang import conditions as C
from engine.ruleset.load import load_rules
from engine.ruleset.parse import plain_data
from engine.source.safeyaml import load_file

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-22"


def example_cases() -> list[dict[str, Any]]:
    return [plain_data(load_file(str(p)).data) for p in sorted((ROOT / "cases").glob("*.yaml"))]


def varied_cases(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """n valid cases: the examples with new ids and some numbers scaled."""
    rng = random.Random(seed)
    base = example_cases()
    out = []
    for i in range(n):
        case = orjson.loads(orjson.dumps(rng.choice(base)))
        case["id"] = f"{case['id']}-{i}"
        for item in case.get("accelerators") or []:
            if isinstance(item.get("count"), int) and rng.random() < 0.5:
                item["count"] = max(1, item["count"] * rng.choice((1, 2, 10)) // rng.choice((1, 4)))
        out.append(case)
    return out


def run_cli(args: list[str], stdin: bytes | None = None, timeout: float = 600) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], input=stdin, capture_output=True,
                          cwd=ROOT, env=env, timeout=timeout, check=False)


# --------------------------------------------------------------------------- the acceptance test


def mixed_input(n: int = 10_000) -> tuple[bytes, dict[int, str]]:
    """n lines, 1% bad (blank, malformed JSON, schema errors, not an object, one 10 MB line)."""
    rng = random.Random(11)
    cases = varied_cases(n)
    bad_lines = sorted(rng.sample(range(1, n + 1), n // 100))
    kinds = ["blank_line", "invalid_json", "unknown_field", "wrong_type", "not_a_mapping"]
    expected: dict[int, str] = {}
    lines: list[bytes] = []
    for i, case in enumerate(cases, start=1):
        if i not in bad_lines:
            lines.append(orjson.dumps(case))
            continue
        kind = "line_too_long" if i == bad_lines[len(bad_lines) // 2] else kinds[len(expected) % len(kinds)]
        expected[i] = kind
        if kind == "blank_line":
            lines.append(b"   ")
        elif kind == "invalid_json":
            lines.append(orjson.dumps(case)[:-7])
        elif kind == "unknown_field":
            lines.append(orjson.dumps({**case, "colour": "blue"}))
        elif kind == "wrong_type":
            lines.append(orjson.dumps({**case, "kind": 7}))
        elif kind == "not_a_mapping":
            lines.append(b"[1, 2, 3]")
        else:
            lines.append(b'{"id": "huge", "description": "' + b"x" * (10 * 1024 * 1024) + b'"}')
    return b"\n".join(lines) + b"\n", expected


def test_1000_lines_with_one_percent_bad_give_one_ordered_record_each_identical_for_one_and_two_workers(
        tmp_path: Path) -> None:
    # 1000 lines still hold every kind of bad line (10 bad: the 10 MB one, each other kind once or twice),
    # and 2 workers x 20 chunks of 50 still interleave out of order.
    data, expected = mixed_input(1000)
    source = tmp_path / "in.jsonl"
    source.write_bytes(data)
    one = run_cli(["batch", str(source), "--as-of", AS_OF, "--workers", "1"])
    two = run_cli(["batch", str(source), "--as-of", AS_OF, "--workers", "2", "--chunk-lines", "50"])
    assert one.returncode == 3, one.stderr.decode()[-2000:]
    assert two.returncode == 3, two.stderr.decode()[-2000:]
    assert one.stdout == two.stdout
    out = one.stdout.splitlines()
    assert len(out) == 1000
    codes = {}
    for n, line in enumerate(out, start=1):
        rec = orjson.loads(line)
        assert rec["line"] == n
        if "error" in rec:
            codes[n] = rec["error"]["code"]
        else:
            assert rec["assessment"]["case_id"] == rec["case_id"]
            assert rec["assessment"]["rating"] in ("low", "medium", "high", "critical")
    # The schema errors report the pydantic code of the first problem.
    assert {n: {"unknown_field": "unknown_field", "wrong_type": "invalid_value"}.get(k, k)
            for n, k in expected.items()} == codes
    summary = one.stderr.decode().strip().splitlines()[-1]
    assert summary.startswith("airisk batch: 1000 lines, 990 assessed") and "10 errors" in summary


# --------------------------------------------------------------------------- library and CLI agree


def small_input() -> bytes:
    cases = varied_cases(30, seed=3)
    lines = [orjson.dumps(c) for c in cases]
    lines[4] = b""
    lines[9] = b"{not json"
    lines[14] = orjson.dumps({**cases[14], "facility": {"pue": "high"}})
    return b"\n".join(lines) + b"\n"


def test_assess_many_yields_exactly_the_records_the_cli_prints() -> None:
    data = small_input()
    cli = run_cli(["batch", "-", "--as-of", AS_OF], stdin=data)
    records = list(engine.assess_many(data.splitlines(), as_of=AS_OF))
    assert [orjson.dumps(r) for r in records] == cli.stdout.splitlines()
    # Mappings give the same records as their JSON lines.
    parsed = [orjson.loads(x) if x.strip() and x.startswith(b"{\"") else x for x in data.splitlines()]
    assert list(engine.assess_many(parsed, as_of=AS_OF)) == records


def test_a_record_carries_the_line_the_case_id_and_the_assessment_the_pipeline_returns() -> None:
    case = varied_cases(1)[0]
    (rec,) = engine.assess_many([case], as_of=AS_OF)
    assert list(rec) == ["line", "case_id", "assessment"]
    assert rec["line"] == 1 and rec["case_id"] == case["id"]
    assert rec["assessment"] == engine.assess_dict(case, as_of=AS_OF)


def test_an_error_record_names_code_message_field_and_every_problem() -> None:
    case = varied_cases(1)[0]
    bad = {**case, "facility": {"pue": "high", "racks_built": -1}}
    (rec,) = engine.assess_many([orjson.dumps(bad)], as_of=AS_OF)
    assert rec["case_id"] == case["id"]
    err = rec["error"]
    assert err["field"].startswith("/facility/") and err["code"] and err["message"]
    assert len(err["problems"]) >= 2 and all(p["line"] == 1 for p in err["problems"])


def test_exit_code_is_zero_when_every_line_is_assessed_and_one_when_fail_on_is_hit() -> None:
    data = b"\n".join(orjson.dumps(c) for c in varied_cases(5)) + b"\n"
    ok = run_cli(["batch", "--as-of", AS_OF, "--no-progress"], stdin=data)
    assert ok.returncode == 0 and len(ok.stdout.splitlines()) == 5
    levels = [orjson.loads(x)["assessment"]["rating"] for x in ok.stdout.splitlines()]
    worst = max(levels, key=["low", "medium", "high", "critical"].index)
    hit = run_cli(["batch", "--as-of", AS_OF, "--fail-on", worst], stdin=data)
    assert hit.returncode == 1 and hit.stdout == ok.stdout


def _h100_without_datasheet() -> dict[str, Any]:
    """256 H100s for a buyer with a Chinese ultimate parent, no datasheet figures: low on the
    known facts, critical in the worst case over the unknown ones (issue 16)."""
    data = plain_data(load_file(str(ROOT / "cases" / "ec-h100-malaysia-cn-parent.yaml")).data)
    acc = data["accelerators"][0]
    acc["count"] = 256
    del acc["datasheet"], acc["die_area_mm2"]
    return data


def test_batch_fail_on_trips_on_the_worst_case_over_unknown_facts_and_fail_on_known_on_the_rating() -> None:
    # One case, known LOW but could be CRITICAL: only the worst case can trip a critical gate
    # (every example case could be critical, so none of them is mixed in here).
    data = orjson.dumps(_h100_without_datasheet()) + b"\n"
    ok = run_cli(["batch", "--as-of", "2026-12-01", "--no-progress"], stdin=data)
    first = orjson.loads(ok.stdout.splitlines()[0])["assessment"]
    assert (first["rating"], first["rating_range"]) == ("low", ["low", "critical"])
    gated = run_cli(["batch", "--as-of", "2026-12-01", "--no-progress", "--fail-on", "critical"], stdin=data)
    assert gated.returncode == 1 and gated.stdout == ok.stdout
    assert b"could be: critical 1" in gated.stderr
    loose = run_cli(["batch", "--as-of", "2026-12-01", "--no-progress", "--fail-on", "critical",
                     "--fail-on-known"], stdin=data)
    assert loose.returncode == 0 and loose.stdout == ok.stdout
    known = run_cli(["batch", "--as-of", "2026-12-01", "--no-progress", "--fail-on", "low", "--fail-on-known"],
                    stdin=data)
    assert known.returncode == 1


def test_batch_stats_gate_reads_worst_cases_unless_known_only() -> None:
    from engine.batch.progress import Stats
    from engine.batch.records import UNRATED, Counts, rating_counts

    assert rating_counts({"rating": "low", "rating_range": ["low", "high"]}) == ("low", "high")
    assert rating_counts({"rating": None, "rating_range": None}) == (UNRATED, UNRATED)
    counts = Counts()
    counts.count({"assessment": {"rating": "low", "rating_range": ["low", "high"]}})
    counts.count({"assessment": {"rating": None, "rating_range": None}})
    counts.count({"error": {"code": "blank_line"}})
    assert counts.lines == 3 and counts.errors == 1 and Counts.from_wire(counts.to_wire()) == counts
    stats = Stats()
    stats.add(counts)
    assert stats.lines == 3 and stats.errors == 1 and stats.by_level["low"] == 1 and stats.by_worst["high"] == 1
    assert stats.gate("high") and not stats.gate("critical") and not stats.gate(None)
    assert not stats.gate("medium", known_only=True) and stats.gate("low", known_only=True)
    assert "not assessed 1" in stats.summary() and "could be: critical 0, high 1, medium 0, low 0" in stats.summary()


def test_an_unknown_scenario_is_a_usage_error_with_exit_two_and_no_output() -> None:
    res = run_cli(["batch", "--as-of", AS_OF, "--scenario", "nope"], stdin=b"{}\n")
    assert res.returncode == 2 and res.stdout == b""
    assert b"unknown scenario" in res.stderr


def test_stdout_stays_pure_json_lines_and_the_summary_goes_to_stderr() -> None:
    res = run_cli(["batch", "--as-of", AS_OF, "--progress"], stdin=small_input())
    assert all(line.startswith(b'{"line":') for line in res.stdout.splitlines())
    assert b"airisk batch: 30 lines" in res.stderr and b"cases/s" in res.stderr


def test_batch_help_documents_the_exit_codes() -> None:
    res = run_cli(["batch", "--help"])
    text = res.stdout.decode()
    assert res.returncode == 0
    for code in ("0 ", "1 ", "2 ", "3 ", "130"):
        assert f"\n    {code}" in text


def test_output_file_is_complete_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    res = run_cli(["batch", "--as-of", AS_OF, "--output", str(target)], stdin=small_input())
    assert res.returncode == 3 and res.stdout == b""
    assert len(target.read_bytes().splitlines()) == 30
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


# --------------------------------------------------------------------------- reading


class Recorder(io.BytesIO):
    """A stream that remembers the largest piece it handed out."""

    largest = 0

    def readline(self, size: int | None = -1) -> bytes:
        piece = super().readline(size)
        self.largest = max(self.largest, len(piece))
        return piece


def test_an_oversize_line_is_skipped_in_pieces_and_never_held_whole() -> None:
    stream = Recorder(b'{"a": 1}\n' + b"y" * 5_000_000 + b"\n" + b'{"b": 2}\n' + b"z" * 3000)
    got = list(read_lines(stream, max_line_bytes=1000))
    assert got == [(1, b'{"a": 1}'), (2, None), (3, b'{"b": 2}'), (4, None)]
    assert stream.largest <= 64 * 1024


def test_lines_keep_their_numbers_with_crlf_and_a_last_line_without_newline() -> None:
    got = list(read_lines(io.BytesIO(b"a\r\n\nb"), DEFAULT_MAX_LINE_BYTES))
    assert got == [(1, b"a"), (2, b""), (3, b"b")]


# --------------------------------------------------------------------------- compiled conditions


@pytest.fixture(scope="module")
def bundled_assessor() -> Assessor:
    return make_assessor(load_rules(), AS_OF, None)


def test_compiled_conditions_agree_with_the_reference_evaluator_on_every_rule(bundled_assessor: Assessor) -> None:
    eng = bundled_assessor.engine
    views = [build_view(case_from_data(c).model_dump(mode="json", exclude_none=True)) for c in varied_cases(120)]
    # Drop facts at random so the unknown paths are exercised too.
    rng = random.Random(5)
    for view in list(views[:60]):
        thinned = {k: v for k, v in view.items() if k in ("id", "kind", "name", "derived") or rng.random() < 0.6}
        views.append(thinned)
    checked = 0
    for rule in eng.rules.rules:
        compiled = eng.compiled(rule)
        for view in views:
            ref = C.evaluate(rule.condition, view)
            got = compiled.evaluate(view)
            assert (got.truth, got.evidence, got.missing, got.items) == (ref.truth, ref.evidence, ref.missing,
                                                                         ref.items), rule.id
            assert compiled.truth(view) == C.truth(rule.condition, view)
            checked += 1
    assert checked > 10_000


def test_line_feed_hands_over_what_has_arrived_in_order_and_ends_with_none() -> None:
    import threading

    from engine.batch.reader import LineFeed

    gate = threading.Event()

    def lines() -> Any:
        yield from ((n, b"x%d" % n) for n in range(1, 4))
        gate.wait(10)  # the input pauses, still open
        yield from ((n, b"x%d" % n) for n in range(4, 700))

    feed = LineFeed(lines())
    first = feed.take(256, wait=True)
    while len(first or []) < 3:
        first = (first or []) + (feed.take(256, wait=True) or [])
    assert [n for n, _ in first] == [1, 2, 3]
    assert feed.take(256) == []  # nothing more yet: an empty chunk, not a wait
    gate.set()
    rest: list[Any] = []
    while (chunk := feed.take(256, wait=True)) is not None:
        assert 1 <= len(chunk) <= 256
        rest += chunk
    assert [n for n, _ in rest] == list(range(4, 700))
    assert feed.finished(5)
    feed.close()


def test_line_feed_raises_the_input_error_to_its_consumer() -> None:
    from engine.batch.reader import LineFeed

    def lines() -> Any:
        yield 1, b"a"
        raise OSError(5, "Input/output error")

    feed = LineFeed(lines())
    got = []
    with pytest.raises(OSError, match="Input/output"):
        while (chunk := feed.take(10, wait=True)) is not None:
            got += chunk
    assert got == [(1, b"a")]
    feed.close()


def test_a_closed_line_feed_hands_out_nothing_and_touches_no_descriptor() -> None:
    from engine.batch.reader import LineFeed

    feed = LineFeed(iter([(1, b"a")]))
    assert feed.finished(5)
    feed.close()
    assert feed.take(10) is None and feed.take(10, wait=True) is None
    feed.close()  # twice is harmless
