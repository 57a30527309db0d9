"""Configuration and the shared command-line conventions (issue 20, parts 3 and 4).

``load_config()`` finds and checks ``airisk.yaml`` (or ``[tool.airisk]`` in ``pyproject.toml``);
``engine.config.apply`` turns it into click's ``default_map``; ``engine.config.conventions``
holds ``--rules``/``--no-bundled``, ``assess DIR``, ``--quiet``, ``--version`` and the
``--fail-on`` notice. See docs/config.md.
"""

from __future__ import annotations

from engine.config.file import KEYS, Config, ConfigError, find_config, load_config

__all__ = ["KEYS", "Config", "ConfigError", "find_config", "load_config"]
