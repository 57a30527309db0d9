"""Test-wide settings: a private compile cache per test session, never the user's."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

if "AIRISK_CACHE_DIR" not in os.environ:
    _CACHE = tempfile.mkdtemp(prefix="airisk-test-cache-")
    os.environ["AIRISK_CACHE_DIR"] = _CACHE
    atexit.register(shutil.rmtree, _CACHE, True)  # the private cache goes with the test session
