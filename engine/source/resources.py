"""Where the bundled rulesets, data tables, schemas, example cases and vendored files are.

In a checkout they are the top-level ``rulesets/``, ``schemas/``, ``cases/`` and ``vendor/``
(third-party files shipped unmodified, such as d3 for the dashboard); in an installed wheel they
ship inside the package as ``engine/_bundled/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # engine/, above engine/source/


def bundled(name: str) -> Path:
    """Directory of a bundled resource: ``rulesets``, ``rulesets/data``, ``schemas``, ``cases`` or ``vendor``."""
    installed = _PACKAGE / "_bundled" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name
