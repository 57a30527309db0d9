"""The templates and inlined assets every HTML page is made of.

Templates are Jinja2 with autoescape on (every value from an assessment is escaped; nothing
from a case or a ruleset is ever marked safe). Stylesheets and scripts are read from the
package's ``assets/`` and inlined, so a page fetches nothing.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import jinja2
import orjson
from markupsafe import Markup


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment over ``engine/report/templates`` (autoescape on, undefined is an error)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("engine.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json_script"] = json_script
    return env


@functools.cache
def asset(name: str) -> str:
    """The text of ``engine/report/assets/NAME`` (a stylesheet or a script), to inline."""
    return (resources.files("engine.report") / "assets" / name).read_text(encoding="utf-8")


@functools.cache
def vendored(name: str) -> str:
    """The text of a third-party file shipped unmodified (``vendor/NAME`` in a checkout,
    ``engine/_bundled/vendor/NAME`` in a wheel; vendor/README.md), to inline."""
    from engine.source.resources import bundled

    return (bundled("vendor") / name).read_text(encoding="utf-8")


def json_script(value: Any) -> Markup:
    """``value`` as JSON that is safe inside ``<script type="application/json">``: ``<``, ``>``
    and ``&`` are written as ``\\u`` escapes, so no text in the data can close the element."""
    text = orjson.dumps(value).decode()
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)


def render(template: str, **context: Any) -> bytes:
    """The page ``template`` rendered with ``context``, as UTF-8 bytes ending in a newline."""
    page = environment().get_template(template).render(**context)
    return page.rstrip("\n").encode("utf-8") + b"\n"
