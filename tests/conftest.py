"""Test-wide settings: a private compile cache per test session, never the user's."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("AIRISK_CACHE_DIR", tempfile.mkdtemp(prefix="airisk-test-cache-"))
