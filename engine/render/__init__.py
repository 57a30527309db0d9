"""Output: the format registry (text, json, markdown; sarif, junit, github for CI) and atomic output sinks.

    import engine
    from engine.render import FORMATS, RenderContext, Source, render

    data = render("markdown", engine.assess_dict("cases/guizhou-icc.yaml", as_of="2026-01-01"))
    list(FORMATS)  # ['text', 'json', 'markdown', 'sarif', 'junit', 'github']: what `airisk assess --format` offers
    results, docs = engine.assess_documents(["cases/guizhou-icc.yaml"])  # with where each case came from
    sources = [Source.of(doc) for doc in docs]  # the file and the line of each fact
    sarif = render("sarif", results, context=RenderContext(fail_on="high", sources=sources))

``register(Format(...))`` adds a format; the CLI and ``render`` pick it up with no other change.
The registry loads on first use, so importing ``engine.render.sink`` alone stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.render.registry import (
        FORMATS,
        Format,
        RenderContext,
        Source,
        contextual,
        get,
        line_encoder,
        register,
        render,
    )

__all__ = ["FORMATS", "Format", "RenderContext", "Source", "contextual", "get", "line_encoder", "register", "render"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'engine.render' has no attribute {name!r}")
    value = getattr(importlib.import_module("engine.render.registry"), name)
    globals()[name] = value
    return value
