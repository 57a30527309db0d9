"""On-disk cache of validated rulesets and compiled shards, for a fast cold start.

Loading and validating ~200 rules and compiling them for the matching core
takes most of a one-case ``airisk assess``. Both results depend only on the
bytes of the ruleset files and data tables and on the engine version, so they
are cached under a key made of those bytes: callers read each file once, key
the entry by the bytes read and build from the same bytes
(``read_bounded`` / ``key_of_bytes``), so a file rewritten during a build
cannot store one version's result under the other's key.

Entries are data, never objects: JSON in which lists, tuples, sets, mappings,
dates and the engine's own plain dataclasses (a fixed list of ruleset, condition
and compiled-shard types, rebuilt from their fields) are tagged. Nothing in an
entry can name code to run, so a planted entry can at worst make a rebuild.
The cache is private to the user (directory 0700, files 0600, refused if it is a
symbolic link, owned by another user or writable by others), written atomically,
and best effort: an unreadable, damaged or stale entry is rebuilt, and a
read-only or full cache never fails the run nor leaves temporaries behind.

``AIRISK_CACHE_DIR`` moves it (default: the platform's user cache directory, from
platformdirs: ``$XDG_CACHE_HOME/airisk`` or ``~/.cache/airisk`` on Linux, where a relative
``XDG_CACHE_HOME`` is ignored, as the XDG specification says); ``AIRISK_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import math
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import orjson

from engine.version import __version__

T = TypeVar("T")
_FORMAT = 4  # 3: plain JSON subtrees stored untagged ("J"); 4: written and read by orjson
_SUFFIX = ".json"
READ_LIMIT = 32 * 1024 * 1024


def _user_cache() -> Path:
    """The platform's per-user cache directory for airisk (platformdirs: ``$XDG_CACHE_HOME/airisk``
    or ``~/.cache/airisk`` on Linux, ``~/Library/Caches/airisk`` on macOS, ``%LOCALAPPDATA%\\airisk\\Cache``
    on Windows)."""
    import platformdirs  # ~1 ms, and only when the cache is not moved by AIRISK_CACHE_DIR

    path = platformdirs.user_cache_path("airisk", appauthor=False)
    if not path.is_absolute():
        # A relative XDG_CACHE_HOME, which platformdirs passes through. XDG Base Directory: "If an
        # implementation encounters a relative path in any of these variables it should consider
        # the path invalid and ignore it."
        path = Path.home() / ".cache" / "airisk"
    return path


def cache_dir() -> Path | None:
    """The cache directory, or None when caching is off or the directory is not safe."""
    if os.environ.get("AIRISK_NO_CACHE"):
        return None
    base = os.environ.get("AIRISK_CACHE_DIR")
    path = Path(base) if base else _user_cache()
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = path.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode):  # a symbolic link (planted by someone else?) or not a directory
        return None
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return None
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    return path


@lru_cache(maxsize=1)
def _engine_digest() -> str:
    # The engine's own code decides what a ruleset compiles to (case model, checks, compiler),
    # so any change to it, released or not, must miss the cache.
    # os.scandir rather than Path.rglob: the same files in the same order, in half the time of
    # a warm start's first step.
    h = hashlib.sha256()
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found: list[str] = []
    todo = [""]
    while todo:
        rel = todo.pop()
        with os.scandir(os.path.join(package, rel)) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        todo.append(f"{rel}{entry.name}/")
                elif entry.name.endswith(".py"):
                    found.append(rel + entry.name)
    for name in sorted(found, key=lambda n: n.split("/")):  # Path order: part by part
        with open(os.path.join(package, name), "rb") as fh:
            h.update(name.encode() + b"\0" + fh.read())
    return h.hexdigest()


def blocks(mode: int) -> bool:
    """Whether a file of this mode is refused as input: a FIFO or socket blocks on open or read
    until another process writes, and a directory is not a file. (A device such as /dev/zero
    is read with a bound and refused at the size limit.)"""
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISDIR(mode)


def read_bounded(path: Path, limit: int = READ_LIMIT) -> bytes | None:
    """The first ``limit`` + 1 bytes of a file, or None when it cannot be read or would block.

    Bounded: `--rules /dev/zero` must reach the loader's size check, not read forever;
    and a FIFO is not opened at all (opening one blocks until a writer comes)."""
    try:
        if blocks(os.stat(path).st_mode):
            return None
        with open(path, "rb") as fh:
            return fh.read(limit + 1)
    except OSError:
        return None


def key_of_bytes(contents: Iterable[tuple[str, bytes | None]], *extra: str) -> str:
    """A key from the engine version and code, (name, bytes) pairs and extra strings."""
    h = hashlib.sha256(f"airisk {__version__} cache {_FORMAT} {_engine_digest()}".encode())
    for name, raw in sorted(contents, key=lambda c: c[0]):
        h.update(name.encode() + b"\0")
        h.update(hashlib.sha256(raw).digest() if raw is not None else b"unreadable")
    for e in extra:
        h.update(e.encode() + b"\0")
    return h.hexdigest()


def key_of(files: Sequence[Path], *extra: str) -> str:
    """A key from the engine version and code, file names and contents, and extra strings.

    Reads the files here: use ``key_of_bytes`` over bytes you then build from when the
    files could change between this read and the build."""
    return key_of_bytes([(str(f.name), read_bounded(f)) for f in files], *extra)


# --------------------------------------------------------------------------- data codec


@lru_cache(maxsize=1)
def _types() -> dict[str, type]:
    """The dataclasses an entry may hold: the engine's own plain-data types, nothing else."""
    from engine.lang import conditions
    from engine.match import compiler
    from engine.ruleset import model as models

    out: dict[str, type] = {}
    for module in (models, conditions, compiler):
        for name, obj in vars(module).items():
            if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == module.__name__:
                out[name] = obj
    return out


_FIELDS: dict[type, list[str]] = {}


def _init_fields(cls: type) -> list[str]:
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = [f.name for f in dataclasses.fields(cls) if f.init]
    return found


def _plain(value: Any) -> bool:
    """Whether ``value`` is JSON as it stands: str-keyed dicts, lists and scalars only (no tuple,
    set, date or dataclass anywhere inside), so it reads back as itself with no tags."""
    kind = type(value)
    if kind is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if kind is list:
        return all(_plain(v) for v in value)
    return value is None or kind is str or kind is bool or (kind is float and math.isfinite(value)) or (
        kind is int and _INT_MIN <= value <= _INT_MAX)


_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1  # what orjson writes as a JSON number


def encode(value: Any) -> Any:
    """``value`` as JSON-able data with containers, dates and known dataclasses tagged. A list or
    dict that is plain JSON all the way down is one ``J`` entry: reading it back costs no Python
    work per node (a warm start reads every rule's conditions and texts this way)."""
    if value is None or isinstance(value, bool | int | float | str):
        if _plain(value):
            return value
        if isinstance(value, float):  # infinities (a rule may hold one); NaN is never cached
            if math.isnan(value):
                raise TypeError("cannot cache NaN")
            return ["I", 1 if value > 0 else -1]
        return ["B", str(value)]  # an integer beyond 64 bits
    if type(value) in (list, dict) and _plain(value):
        return ["J", value]
    if isinstance(value, list):
        return ["L", *map(encode, value)]
    if isinstance(value, tuple):
        if type(value) is tuple and all(_plain(v) for v in value):
            return ["P", list(value)]  # a tuple of plain values (a path): one entry, read with tuple()
        return ["T", *map(encode, value)]
    if type(value) is frozenset and all(type(v) not in (list, dict) and _plain(v) for v in value):
        return ["Q", sorted(value, key=lambda v: json.dumps(v))]
    if isinstance(value, frozenset | set):
        items = sorted((encode(v) for v in value), key=lambda e: json.dumps(e, sort_keys=True))
        return ["F" if isinstance(value, frozenset) else "S", *items]
    if isinstance(value, dict):
        out: list[Any] = ["D"]
        for k, v in value.items():
            out.append(encode(k))
            out.append(encode(v))
        return out
    if isinstance(value, dt.datetime):
        return ["t", value.isoformat()]
    if isinstance(value, dt.date):
        return ["d", value.isoformat()]
    name = type(value).__name__
    if dataclasses.is_dataclass(value) and _types().get(name) is type(value):
        return ["C", name, *(encode(getattr(value, f)) for f in _init_fields(type(value)))]
    raise TypeError(f"cannot cache a {type(value).__name__}")


def decode(data: Any) -> Any:
    """The value ``encode`` gave ``data`` for; ValueError for anything it could not have given."""
    if type(data) is not list:
        if isinstance(data, dict):
            raise ValueError("untagged mapping")
        return data
    if not data or not isinstance(data[0], str):
        raise ValueError("untagged list")
    tag = data[0]
    # Scalars are themselves: only lists (tagged values) go through decode again, which keeps a
    # warm start's read of the rules to one call per container rather than one per value.
    if tag == "C" and len(data) > 1 and isinstance(data[1], str):
        cls = _types().get(data[1])
        if cls is None:
            raise ValueError(f"unknown type {data[1]!r}")
        names = _init_fields(cls)
        if len(names) != len(data) - 2:
            raise ValueError(f"{data[1]} has {len(names)} fields")
        return cls(**{n: (decode(v) if type(v) is list else v) for n, v in zip(names, data[2:], strict=True)})
    if len(data) == 2 and type(data[1]) is list:
        if tag == "P":
            return tuple(data[1])
        if tag == "Q":
            return frozenset(data[1])
    if tag == "J" and len(data) == 2 and type(data[1]) in (list, dict):
        return data[1]
    rest = data[1:]
    if tag == "T":
        return tuple([decode(v) if type(v) is list else v for v in rest])
    if tag == "L":
        return [decode(v) if type(v) is list else v for v in rest]
    if tag == "F":
        return frozenset([decode(v) if type(v) is list else v for v in rest])
    if tag == "S":
        return {decode(v) if type(v) is list else v for v in rest}
    if tag == "D":
        if len(rest) % 2:
            raise ValueError("odd mapping")
        items = [decode(v) if type(v) is list else v for v in rest]
        return {items[i]: items[i + 1] for i in range(0, len(items), 2)}
    if tag == "I" and rest in ([1], [-1]):
        return math.inf if rest[0] > 0 else -math.inf
    if tag == "B" and len(rest) == 1 and isinstance(rest[0], str):
        return int(rest[0])
    if tag == "d" and len(rest) == 1 and isinstance(rest[0], str):
        return dt.date.fromisoformat(rest[0])
    if tag == "t" and len(rest) == 1 and isinstance(rest[0], str):
        return dt.datetime.fromisoformat(rest[0])
    raise ValueError(f"unknown tag {tag!r}")


def loads(raw: bytes) -> Any:
    """Decode an entry (JSON read by orjson; infinities are tagged, NaN is never written)."""
    return decode(orjson.loads(raw))


def dumps(value: Any) -> bytes:
    return orjson.dumps(encode(value))


# --------------------------------------------------------------------------- entries


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):  # a read-only cache: the entry stays, rebuilt in memory each time
        path.unlink(missing_ok=True)


def _read(path: Path) -> Any:
    """The entry's value; FileNotFoundError when absent; ValueError when not ours or damaged."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if (hasattr(os, "getuid") and info.st_uid != os.getuid()) or info.st_mode & 0o022:
            raise ValueError("not our own private file")
        return loads(fh.read())


def cached(kind: str, key: str, build: Callable[[], T]) -> T:
    """The cached value for (kind, key), building and storing it when absent (best effort)."""
    directory = cache_dir()
    if directory is None:
        return build()
    path = directory / f"{kind}-{key}{_SUFFIX}"
    try:
        value: T = _read(path)
        return value
    except FileNotFoundError:
        pass
    except Exception:  # a damaged or foreign entry is rebuilt, never trusted
        _unlink(path)
    value = build()
    _store(directory, kind, path, value)
    return value


def _store(directory: Path, kind: str, path: Path, value: Any) -> None:
    tmp: str | None = None
    try:
        import tempfile  # only a miss writes: a warm start does not load it

        data = dumps(value)
        fd, tmp = tempfile.mkstemp(prefix=f".{kind}-", dir=directory)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        tmp = None
        _prune(directory, kind)
    except Exception:  # caching is an optimisation: never fail the run for it (full disk, read-only)
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _prune(directory: Path, kind: str, keep: int = 32) -> None:
    """Keep the newest ``keep`` entries of a kind (rulesets in temporary paths would pile up)."""
    def mtime(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:
            return 0.0

    entries = sorted(directory.glob(f"{kind}-*{_SUFFIX}"), key=mtime, reverse=True)
    for old in entries[keep:]:
        _unlink(old)
