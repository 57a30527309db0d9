"""Test-wide settings: a private compile cache per test session, never the user's; and none of the
shell's airisk settings (``AIRISK_CONFIG``, ``AIRISK_FAIL_ON`` … : engine.config), so results do
not depend on the environment of whoever runs the tests."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

from engine.config.file import ENV_VAR, KEYS, env_var

if "AIRISK_CACHE_DIR" not in os.environ:
    _CACHE = tempfile.mkdtemp(prefix="airisk-test-cache-")
    os.environ["AIRISK_CACHE_DIR"] = _CACHE
    atexit.register(shutil.rmtree, _CACHE, True)  # the private cache goes with the test session

for _name in (ENV_VAR, *(env_var(k) for k in KEYS)):
    os.environ.pop(_name, None)
