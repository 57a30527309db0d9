"""Headless Chromium for the HTML report tests: Debian's ``chromium`` driven by Playwright.

``browser()`` is a pytest fixture body: it yields a launched browser, or skips with a reason
when Playwright or the chromium binary is missing, except under ``CI=true``, where a missing
browser fails (CI installs it: ``.ci/run``). ``Page`` wraps a page that records every console
error and uncaught exception. ``distinct_colours`` decodes a PNG with the standard library.
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: The flags the browser needs as root on a machine with no network (and nothing to sync).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    """The chromium binary: ``AIRISK_CHROMIUM``, else ``chromium`` on the PATH."""
    return os.environ.get("AIRISK_CHROMIUM") or shutil.which("chromium")


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the browser tests need headless Chromium under CI: {reason}")
    pytest.skip(reason)


def browser() -> Iterator[Any]:
    """A launched headless Chromium (skip, or fail under CI=true, when there is none)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install '.[test]')")
    path = chromium_path()
    if path is None:
        _missing("no chromium on the PATH (Debian: apt-get install chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, headless=True, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


class Page:
    """A page of ``browser`` that keeps the console errors and page errors it saw."""

    def __init__(self, browser: Any, *, width: int = 1280, height: int = 1600) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self, path: Path) -> Any:
        """Load ``path`` as a file:// URL and wait until it has loaded."""
        self.page.goto(path.resolve().as_uri(), wait_until="load")
        return self.page

    def close(self) -> None:
        """Close the page's context."""
        self.context.close()


def _png_rows(data: bytes) -> tuple[int, int, int, list[bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour_type in (2, 6), (depth, colour_type)
    channels = 3 if colour_type == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        _unfilter(kind, line, prev, channels)
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def _unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> None:
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = prev[i]
        corner = prev[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
            line[i] = (line[i] + pred) & 0xFF


def distinct_colours(png: bytes, step: int = 3) -> int:
    """How many distinct RGB colours a PNG has (every ``step``-th pixel of every ``step``-th row)."""
    _, _, channels, rows = _png_rows(png)
    seen: set[bytes] = set()
    for row in rows[::step]:
        for x in range(0, len(row), channels * step):
            seen.add(row[x:x + 3])
    return len(seen)
