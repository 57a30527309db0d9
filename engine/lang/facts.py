"""Reading a fact from a document: the value at a dotted path, or ``MISSING``.

An absent key and a null value are the same to the rule language: the fact is
unknown. ``lookup`` is the plain definition; ``getter`` builds a closure doing
the same for one path, for the compiled evaluators and the fact builders.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Scalar = str | int | float | bool
Path = tuple[str, ...]
Getter = Callable[[Any], Any]


MISSING: Any = object()  # what ``lookup`` returns for an absent or null fact


def lookup(doc: Any, path: Path) -> Any:
    """The value at ``path``, or ``MISSING`` when any step is absent or null."""
    for key in path:
        if not isinstance(doc, Mapping):
            return MISSING
        doc = doc.get(key, MISSING)
        if doc is MISSING or doc is None:
            return MISSING
    return doc


def is_missing(value: Any) -> bool:
    """Whether ``value`` is ``MISSING`` (an unknown fact)."""
    return value is MISSING


def getter(path: Path) -> Getter:
    """A function computing ``lookup(doc, path)`` (``MISSING`` when absent or null)."""
    missing = MISSING
    if len(path) == 1:
        (key,) = path

        def get1(doc: Any) -> Any:
            if type(doc) is dict or isinstance(doc, Mapping):
                value = doc.get(key, missing)
                return missing if value is None else value
            return missing

        return get1

    def get(doc: Any) -> Any:
        for step in path:
            if not (type(doc) is dict or isinstance(doc, Mapping)):
                return missing
            doc = doc.get(step, missing)
            if doc is missing or doc is None:
                return missing
        return doc

    return get
