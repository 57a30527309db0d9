"""Where the bundled rulesets, data tables and schemas are.

In a checkout they are the top-level ``rulesets/`` and ``schemas/``; in an
installed wheel they ship inside the package as ``engine/_bundled/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # engine/, above engine/source/


def bundled(name: str) -> Path:
    """Directory of a bundled resource: ``rulesets``, ``rulesets/data`` or ``schemas``."""
    installed = _PACKAGE / "_bundled" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name
