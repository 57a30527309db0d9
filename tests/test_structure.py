"""The shape of the engine: no import cycles, no module over 600 lines, no function over 80 lines.

The import graph is built with ``ast`` from every ``engine/**/*.py``. Every import counts: at
module level, inside functions (a lazy import still makes the importing module depend on the
imported one, so a cycle through it is still a cycle in the design) and under ``TYPE_CHECKING``
(a type a module names is part of what it depends on). ``from engine.x import y`` is an edge to
``engine.x.y`` when that is a module, else to ``engine.x``; relative imports are resolved. A
package's ``__init__`` is a module like any other; importing ``engine.x.y`` is not counted as
importing ``engine.x`` (the parent package's ``__init__`` holds no code the child needs).

A function's length is counted from its ``def`` line (decorators excluded) to its last line,
docstring included; nested functions are counted on their own and inside their parent.

The checkers themselves are tested first (each can fail), then the whole engine is held to them.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "engine"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Every engine module by dotted name."""
    return {_name(p): p for p in sorted(ENGINE.rglob("*.py"))}


def _targets(module: str, node: ast.Import | ast.ImportFrom, known: dict[str, Path]) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = node.module or ""
    if node.level:
        package = module if known[module].name == "__init__.py" else module.rsplit(".", 1)[0]
        for _ in range(node.level - 1):
            package = package.rsplit(".", 1)[0]
        base = f"{package}.{base}" if base else package
    return {f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names}


@cache
def graph() -> dict[str, frozenset[str]]:
    """Module -> the engine modules it imports (anywhere in it)."""
    known = modules()
    out = {}
    for module, path in known.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges |= {t for t in _targets(module, node, known) if t in known and t != module}
        out[module] = frozenset(edges)
    return out


def cycles(edges: dict[str, frozenset[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def long_functions(path: Path) -> list[str]:
    """``name (lines)`` of every function in ``path`` longer than MAX_FUNCTION_LINES."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                out.append(f"{node.name} ({length})")
    return out


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines())


# --------------------------------------------------------------------------- the checkers can fail


def test_the_cycle_finder_finds_a_cycle_and_only_cycles() -> None:
    edges = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset({"a"})}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": frozenset({"b"}), "b": frozenset()}) == []


def test_the_graph_sees_lazy_relative_and_type_checking_imports(tmp_path: Path) -> None:
    known = {"engine.p": tmp_path / "__init__.py", "engine.p.a": tmp_path / "a.py", "engine.p.b": tmp_path / "b.py"}
    lazy = ast.parse("def f():\n    from engine.p import b\n").body[0].body[0]  # type: ignore[attr-defined]
    relative = ast.parse("from .b import x\n").body[0]
    assert _targets("engine.p.a", lazy, known) == {"engine.p.b"}
    assert _targets("engine.p.a", relative, known) == {"engine.p.b"}  # type: ignore[arg-type]
    assert "engine.case.model" in graph()["engine.case.validation"]  # under TYPE_CHECKING and in a function


def test_a_long_function_is_found(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    path = tmp_path / "m.py"
    path.write_text(f"def long():\n{body}\n\ndef short():\n    return 1\n")
    assert long_functions(path) == [f"long ({MAX_FUNCTION_LINES + 1})"]


# --------------------------------------------------------------------------- the whole engine


def test_the_engine_has_no_import_cycles() -> None:
    assert cycles(graph()) == [], "an import cycle: move what both sides need into a module of its own"


def test_no_engine_module_is_over_600_lines() -> None:
    over = {m: _lines(p) for m, p in modules().items() if _lines(p) > MAX_MODULE_LINES}
    assert not over, f"modules over {MAX_MODULE_LINES} lines: {over}"


def test_no_engine_function_is_over_80_lines() -> None:
    over = {m: long_functions(p) for m, p in modules().items() if long_functions(p)}
    assert not over, f"functions over {MAX_FUNCTION_LINES} lines: {over}"
