"""On-disk cache of validated rulesets and compiled shards, for a fast cold start.

Loading and validating ~200 rules and compiling them for the matching core
takes most of a one-case ``airisk assess``. Both results depend only on the
bytes of the ruleset files and data tables and on the engine version, so they
are cached under a key made of those. The cache is private to the user
(directory 0700, files 0600, refused if another user could write to it), written
atomically, and any unreadable or stale entry is simply rebuilt.

``AIRISK_CACHE_DIR`` moves it (default ``$XDG_CACHE_HOME/airisk`` or
``~/.cache/airisk``); ``AIRISK_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from engine.version import __version__

T = TypeVar("T")
_FORMAT = 1


def cache_dir() -> Path | None:
    """The cache directory, or None when caching is off or the directory is not safe."""
    if os.environ.get("AIRISK_NO_CACHE"):
        return None
    base = os.environ.get("AIRISK_CACHE_DIR")
    if base:
        path = Path(base)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        path = (Path(xdg) if xdg else Path.home() / ".cache") / "airisk"
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = path.stat()
    except OSError:
        return None
    # Pickles run code when loaded: only trust a directory nobody else can write to.
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return None
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    return path


@lru_cache(maxsize=1)
def _engine_digest() -> str:
    # The engine's own code decides what a ruleset compiles to (case model, checks, compiler),
    # so any change to it, released or not, must miss the cache.
    h = hashlib.sha256()
    for f in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _file_digest(path: Path, limit: int = 32 * 1024 * 1024) -> bytes:
    # Bounded: `--rules /dev/zero` must reach the loader's size check, not read forever.
    # A file past the limit never loads, so a key over its first bytes is enough.
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read(limit)).digest()
    except OSError:
        return b"unreadable"  # the loader reports the error with its location


def key_of(files: Sequence[Path], *extra: str) -> str:
    """A key from the engine version and code, file names and contents, and extra strings."""
    h = hashlib.sha256(f"airisk {__version__} cache {_FORMAT} {_engine_digest()}".encode())
    for f in sorted(files):
        h.update(str(f.name).encode() + b"\0")
        h.update(_file_digest(f))
    for e in extra:
        h.update(e.encode() + b"\0")
    return h.hexdigest()


def cached(kind: str, key: str, build: Callable[[], T]) -> T:
    """The cached value for (kind, key), building and storing it when absent."""
    directory = cache_dir()
    if directory is None:
        return build()
    path = directory / f"{kind}-{key}.pickle"
    try:
        with open(path, "rb") as fh:
            info = os.fstat(fh.fileno())
            if (not hasattr(os, "getuid") or info.st_uid == os.getuid()) and not info.st_mode & 0o022:
                value: T = pickle.load(fh)  # our own file, in a private directory
                return value
    except FileNotFoundError:
        pass
    except Exception:  # a damaged entry is rebuilt, never trusted
        path.unlink(missing_ok=True)
    value = build()
    try:
        import tempfile  # only a miss writes: a warm start does not load it

        fd, tmp = tempfile.mkstemp(prefix=f".{kind}-", dir=directory)
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        _prune(directory, kind)
    except Exception:  # caching is an optimisation: never fail the run for it
        pass
    return value


def _prune(directory: Path, kind: str, keep: int = 32) -> None:
    """Keep the newest ``keep`` entries of a kind (rulesets in temporary paths would pile up)."""
    entries = sorted(directory.glob(f"{kind}-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        old.unlink(missing_ok=True)
