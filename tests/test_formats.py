"""The output-format registry: one entry per format, read by the CLI, the library and batch.

Adding an output format touches ``engine/render/`` only: a format registered through the public
``register`` function is offered by ``airisk assess --format`` and rendered by
``engine.render.render`` with no other change.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

import engine
from engine.cli import main
from engine.errors import AiriskError
from engine.render import FORMATS, Format, line_encoder, register, render
from engine.render.formats import render_json, render_markdown, render_text

ROOT = Path(__file__).resolve().parents[1]
CASES = [str(p) for p in sorted((ROOT / "cases").glob("*.yaml"))[:2]]
AS_OF = "2026-11-22"


@pytest.fixture
def registry() -> Iterator[dict[str, Format]]:
    """The live registry, restored afterwards (a format a test registers does not leak)."""
    saved = dict(FORMATS)
    try:
        yield FORMATS
    finally:
        FORMATS.clear()
        FORMATS.update(saved)


def _ids_one(a: Mapping[str, Any], colour: bool) -> bytes:
    return f"{a['case_id']},{a['rating']},{'colour' if colour else 'plain'}\n".encode()


def _ids_many(many: Sequence[Mapping[str, Any]], colour: bool) -> bytes:
    return b"".join(_ids_one(a, colour) for a in many)


def test_the_registry_holds_text_json_and_markdown_in_the_order_the_cli_lists_them() -> None:
    assert list(FORMATS) == ["text", "json", "markdown", "html", "sarif", "junit", "github"]
    assert {n: (f.media_type, f.extension) for n, f in FORMATS.items()} == {
        "text": ("text/plain; charset=utf-8", ".txt"), "json": ("application/json", ".json"),
        "markdown": ("text/markdown; charset=utf-8", ".md"), "html": ("text/html; charset=utf-8", ".html"),
        "sarif": ("application/sarif+json", ".sarif"),
        "junit": ("application/xml", ".xml"), "github": ("text/plain; charset=utf-8", ".txt")}
    assert [n for n, f in FORMATS.items() if f.render_with is not None] == ["sarif", "junit", "github"]
    assert all(f.many for f in FORMATS.values())
    assert [n for n, f in FORMATS.items() if f.colour] == ["text"]
    assert all(f.name == n and f.description for n, f in FORMATS.items())


def test_the_builtin_formats_render_what_the_renderers_do() -> None:
    results = [engine.assess_dict(c, as_of=AS_OF) for c in CASES]
    one = results[0]
    assert render("json", one) == render_json(one)
    assert render("json", results) == orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n"
    assert render("text", one) == render_text(one).encode()
    assert render("text", results, colour=True) == "\n".join(render_text(r, colour=True) for r in results).encode()
    assert render("markdown", results) == "\n".join(render_markdown(r) for r in results).encode()
    # Colour is asked of every format and used only by those that have it.
    assert b"\x1b[" in render("text", one, colour=True) and b"\x1b[" not in render("text", one)
    assert render("json", one, colour=True) == render("json", one)


def test_a_registered_format_is_offered_by_the_cli_and_rendered_by_the_library(registry: dict[str, Format]) -> None:
    runner = CliRunner()
    before = runner.invoke(main, ["assess", CASES[0], "--as-of", AS_OF, "--format", "ids"])
    assert before.exit_code == 2 and "ids" not in before.stdout
    register(Format("ids", "text/csv", ".csv", _ids_one, _ids_many, description="case id and rating"))

    help_text = runner.invoke(main, ["assess", "--help"]).stdout
    assert list(FORMATS)[-1] == "ids" and "[" + "|".join(FORMATS) + "]" in "".join(help_text.split())
    got = runner.invoke(main, ["assess", *CASES, "--as-of", AS_OF, "--format", "ids"])
    assert got.exit_code == 0, got.output
    results = [engine.assess_dict(c, as_of=AS_OF) for c in CASES]
    expected = "".join(f"{r['case_id']},{r['rating']},plain\n" for r in results)
    assert got.stdout == expected
    assert render("ids", results).decode() == expected
    assert render("ids", results[0]).decode() == expected.splitlines(keepends=True)[0]


def test_a_format_that_holds_one_case_refuses_several_with_a_usage_error(registry: dict[str, Format]) -> None:
    register(Format("single", "text/plain", ".txt", _ids_one, description="one case"))
    one = CliRunner().invoke(main, ["assess", CASES[0], "--as-of", AS_OF, "--format", "single"])
    assert one.exit_code == 0 and one.stdout.count("\n") == 1
    two = CliRunner().invoke(main, ["assess", *CASES, "--as-of", AS_OF, "--format", "single"])
    assert two.exit_code == 2 and two.stdout == ""
    assert "the single format holds one case, not 2" in two.stderr
    assert "text, json, markdown, html" in two.stderr  # the hint names the formats that hold several


def test_a_name_is_registered_once(registry: dict[str, Format]) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register(Format("json", "application/json", ".json", _ids_one))
    assert FORMATS["json"].render_one is not _ids_one


def test_an_unknown_format_is_a_located_usage_error_with_a_hint() -> None:
    with pytest.raises(AiriskError) as info:
        render("jsn", {"case_id": "x"})
    problem = info.value.problems[0]
    assert problem.code == "usage" and "jsn" in problem.message and "json" in (problem.hint or "")


def test_batch_writes_its_records_with_the_registrys_json_line_encoder() -> None:
    from engine.batch import records

    assert records.encode_record is line_encoder("json")
    assert records.encode_record({"line": 1, "case_id": "a"}) == b'{"line":1,"case_id":"a"}'
    with pytest.raises(ValueError, match="no one-line encoding"):
        line_encoder("markdown")
