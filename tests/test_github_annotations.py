"""`airisk assess --format github`: one workflow command per finding at its fact's line, the
runner's escaping (checked with hypothesis), waived findings as notices, the gate's verdict."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

import engine
from engine.cli import main
from engine.cliutil import gate_level
from engine.render import RenderContext, Source, render
from engine.render.github import command, escape_data, escape_property
from engine.scale import LEVEL_ORDER

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-22"
CASES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "cases").glob("*.yaml"))
COMMAND = {"critical": "error", "high": "error", "medium": "warning", "low": "notice", "info": "notice"}
LINE = re.compile(r"^::(error|warning|notice)(?: ([^:]*))?::(.*)$")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def unescape_data(text: str) -> str:
    """What the Actions runner reads back from a message (its documented escapes)."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    """What the runner reads back from a property value."""
    return unescape_data(text.replace("%3A", ":").replace("%2C", ","))


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command line as the runner splits it: name, properties, message."""
    m = LINE.match(line)
    assert m is not None, line
    props = dict(item.split("=", 1) for item in m.group(2).split(",")) if m.group(2) else {}
    return m.group(1), {k: unescape_property(v) for k, v in props.items()}, unescape_data(m.group(3))


@given(st.text(), st.text())
def test_a_command_reads_back_as_the_runner_splits_it_whatever_the_text(title: str, message: str) -> None:
    line = command("error", message, file="cases/a,b:c.yaml", line=3, title=title)
    assert "\n" not in line and "\r" not in line
    name, props, text = parse(line)
    assert (name, props, text) == ("error", {"file": "cases/a,b:c.yaml", "line": "3", "title": title}, message)


@given(st.text())
def test_escaping_leaves_no_character_that_ends_a_value_or_a_line(text: str) -> None:
    assert not set(escape_property(text)) & {":", ",", "\r", "\n"}
    assert not set(escape_data(text)) & {"\r", "\n"}
    assert unescape_property(escape_property(text)) == text and unescape_data(escape_data(text)) == text


@pytest.fixture(scope="module")
def annotated() -> tuple[list[str], list[dict[str, Any]], list[Source]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        got = run("assess", *CASES, "--as-of", AS_OF, "--format", "github", "--fail-on", "high")
        results, docs = engine.assess_documents(CASES, as_of=AS_OF)
    assert got.exit_code == 1  # some example case is high or worse
    return got.stdout.split("\n")[:-1], results, [Source.of(d) for d in docs]


def test_each_finding_is_one_annotation_at_its_case_file_and_fact_line(annotated: Any) -> None:
    lines, results, sources = annotated
    parsed = [parse(line) for line in lines]
    expected = []
    for a, source in zip(results, sources, strict=True):
        if gate_level(a, False) >= LEVEL_ORDER["high"]:
            expected.append(("error", source.file, None))
        expected += [(COMMAND[f["severity"]], source.file, source.finding_line(f)) for f in a["findings"]]
        expected += [("notice", source.file, next((n for m in x["missing"] if (n := source.line(m)) is not None),
                                                  None)) for x in a["needs_information"]]
    got = [(name, props["file"], int(props["line"]) if "line" in props else None) for name, props, _ in parsed]
    assert got == expected
    messages = [f["message"] for a in results for f in a["findings"]]
    assert [m for _, props, m in parsed if props["title"].split(":")[0] in {
        f["rule_id"] for a in results for f in a["findings"]} and not m.startswith("Needs information")] == messages


def test_a_waived_finding_is_a_notice_with_its_reason(annotated: Any) -> None:
    _, results, sources = annotated
    a = copy.deepcopy(next(r for r in results if any(f["severity"] == "critical" for f in r["findings"])))
    target = next(f for f in a["findings"] if f["severity"] == "critical")
    target["waived"] = {"reason": "Licence 123, valid", "approver": "x@example.com", "ticket": None,
                        "created": "2026-10-01", "expires": "2027-01-01", "rule": target["rule_id"],
                        "file": "airisk-waivers.yaml", "line": 4}
    index = results.index(next(r for r in results if r["case_id"] == a["case_id"]))
    lines = render("github", a, context=RenderContext(sources=[sources[index]])).decode().split("\n")[:-1]
    mine = [parse(line) for line in lines if parse(line)[1].get("title", "").startswith(target["rule_id"] + ":")]
    assert len(mine) == 1
    name, _, message = mine[0]
    assert name == "notice" and message.startswith(target["message"]) and "Licence 123, valid" in message


def test_without_a_source_annotations_name_no_file_and_without_fail_on_there_is_no_verdict(annotated: Any) -> None:
    _, results, _ = annotated
    lines = render("github", results).decode().split("\n")[:-1]
    assert all("file" not in parse(line)[1] for line in lines)
    assert len(lines) == sum(len(a["findings"]) + len(a["needs_information"]) for a in results)
