"""JSON input is strict RFC 8259 JSON, located at line and column; YAML stays YAML; and the
errors for input past a limit are the engine's own whichever parser (or PyYAML release) is used.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.source.safejson import load_json
from engine.source.safeyaml import DEFAULT_LIMITS, _parse_yaml, load_text

ROOT = Path(__file__).resolve().parents[1]
HEAD = '{"id": "x", "kind": "project", "name": "n"'

NOT_JSON = [
    # (text, code, line, column, pointer)
    ('{"id": "x", "name": NaN}', "invalid_number", 1, 21, "/name"),
    ('{"id": "x",\n "pue": Infinity}', "invalid_number", 2, 9, "/pue"),
    ('{"id": "x", "pue": -Infinity}', "invalid_number", 1, 20, "/pue"),
    ('{"id": x}', "parse_error", 1, 8, "/id"),
    ('{"id": "x"} // a comment', "parse_error", 1, 13, ""),
    ('{"id": /* c */ "x"}', "parse_error", 1, 8, "/id"),
    ('{"id": "x",}', "parse_error", 1, 12, ""),
    ('{"tags": ["a", "b",]}', "parse_error", 1, 20, "/tags/2"),
    ("{'id': 'x'}", "parse_error", 1, 2, ""),
    ('{"id": "x"\n "name": "n"}', "parse_error", 2, 2, ""),
    ('{"n": 01}', "parse_error", 1, 8, ""),
    ('{"n": 1.}', "parse_error", 1, 8, ""),
    ('{"t": "tab\there"}', "parse_error", 1, 7, "/t"),
    ('{"a": 1}{"b": 2}', "parse_error", 1, 9, ""),
    ('{"a": "\\x41"}', "parse_error", 1, 7, "/a"),
    ('{"a": True}', "parse_error", 1, 7, "/a"),
]


@pytest.mark.parametrize(("text", "code", "line", "column", "ptr"), NOT_JSON)
def test_what_rfc_8259_does_not_allow_is_a_located_error(text: str, code: str, line: int, column: int,
                                                         ptr: str) -> None:
    with pytest.raises(InputError) as info:
        load_text(text, "case.json", syntax="json")
    p = info.value.first
    assert (p.code, p.line, p.column, p.pointer, p.file) == (code, line, column, ptr, "case.json"), p


def test_an_astral_character_escaped_as_a_surrogate_pair_is_one_character() -> None:
    assert load_text('{"a": "\\ud83d\\ude00"}', "e.json", syntax="json").data == {"a": "\U0001f600"}


def test_the_same_text_in_a_yaml_file_stays_yaml() -> None:
    doc = load_text('{"id": "x", "name": NaN}', "case.yaml")
    assert doc.data == {"id": "x", "name": "NaN"}


def test_a_json_case_file_with_a_bare_nan_exits_2_with_its_location(tmp_path: Path) -> None:
    case = tmp_path / "nan.json"
    case.write_text(HEAD.replace('"n"', "NaN") + "}")
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "assess", str(case)], cwd=ROOT, capture_output=True,
                          timeout=120)
    assert proc.returncode == 2 and proc.stdout == b""
    assert f"{case}:1:40: /name: NaN is not a JSON number".encode() in proc.stderr
    assert b"Traceback" not in proc.stderr


def test_json_on_stdin_is_strict_and_yaml_on_stdin_is_yaml() -> None:
    bad = subprocess.run([sys.executable, "-m", "engine.cli", "assess", "-"], cwd=ROOT, capture_output=True,
                         input=(HEAD + ",}").encode(), timeout=120)
    assert bad.returncode == 2
    assert b"<stdin>:1:44: /: unexpected '}'" in bad.stderr
    good = subprocess.run([sys.executable, "-m", "engine.cli", "assess", "-", "--format", "json"], cwd=ROOT,
                          capture_output=True, input=b"id: y\nkind: project\nname: from yaml\n", timeout=120)
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["case_id"] == "y"


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=False, allow_infinity=False)
    | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text("abcxyz_", min_size=1, max_size=4), inner,
                                                               max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values, indent=st.sampled_from([None, 0, 2]), ensure_ascii=st.booleans())
def test_the_strict_reader_reads_every_json_text_as_the_json_module_does(value: Any, indent: int | None,
                                                                          ensure_ascii: bool) -> None:
    import unicodedata

    text = json.dumps(value, indent=indent, ensure_ascii=ensure_ascii)
    data = load_json(text, "v.json", DEFAULT_LIMITS).data

    def nfc(v: Any) -> Any:
        if isinstance(v, str):
            return unicodedata.normalize("NFC", v)
        if isinstance(v, list):
            return [nfc(x) for x in v]
        if isinstance(v, dict):
            return {nfc(k): nfc(x) for k, x in v.items()}
        return v

    assert data == nfc(json.loads(text))


@settings(max_examples=150, deadline=None)
@given(value=st.dictionaries(st.text("abc", min_size=1, max_size=3), json_values, max_size=5),
       indent=st.sampled_from([None, 2]))
def test_json_positions_are_those_the_yaml_reader_gave_for_the_same_text(value: dict[str, Any],
                                                                        indent: int | None) -> None:
    # ensure_ascii=False: PyYAML reads a \ud83d\ude00 surrogate-pair escape as two lone surrogates
    # (one reason JSON is no longer read by the YAML parser; see the test below).
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    # PyYAML does not count U+FEFF in a column (yaml/reader.py, Reader.forward); the JSON reader
    # counts it as editors do: the next test pins that one difference.
    assume("\ufeff" not in text)
    assert load_json(text, "v.json", DEFAULT_LIMITS).positions == _parse_yaml(text, "v", DEFAULT_LIMITS,
                                                                              pure=True).positions


def test_a_zero_width_no_break_space_is_a_column_to_the_json_reader_and_not_to_pyyaml() -> None:
    text = '{"a": "\ufeff", "b": 1}'
    json_pos = load_json(text, "v.json", DEFAULT_LIMITS).positions["/b"]
    yaml_pos = _parse_yaml(text, "v", DEFAULT_LIMITS, pure=True).positions["/b"]
    assert json_pos == (1, text.index('"b"') + 1)
    assert yaml_pos == (json_pos[0], json_pos[1] - 1)


@pytest.mark.parametrize("pure", [False, True])
@pytest.mark.parametrize("opener", ["[", "{a: "])
def test_deep_flow_nesting_is_too_deep_whichever_yaml_parser_reads_it(pure: bool, opener: str) -> None:
    # PyYAML 6.0.4's bundled libyaml stops flow nesting at 1,000 levels with its own error, while
    # looking far ahead of this engine's depth check; the engine's code must not depend on that.
    closer = "]" if opener == "[" else "}"
    text = "tags: " + opener * 5000 + "x" + closer * 5000 + "\n"
    with pytest.raises(InputError) as info:
        load_text(text, "deep.yaml") if not pure else _parse_yaml(text, "deep.yaml", DEFAULT_LIMITS, pure=True)
    p = info.value.first
    assert p.code == "too_deep" and p.line == 1, p


def test_an_ordinary_yaml_syntax_error_is_located_by_the_python_parser_whatever_libyaml_says() -> None:
    with pytest.raises(InputError) as info:
        load_text("id: x\nname: [unclosed\nkind: project\n", "bad.yaml")
    p = info.value.first
    assert p.code == "parse_error" and p.line is not None and p.file == "bad.yaml"
