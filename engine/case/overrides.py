"""Overrides of case data by dotted path (``airisk assess --set``, table tests, counterfactuals)."""

from __future__ import annotations

import copy
from typing import Any


def apply_set(data: Any, overrides: dict[str, Any]) -> Any:
    """A copy of ``data`` with dotted-path overrides applied.

    ``a.b: 1`` sets a key (creating missing mappings); an integer step indexes
    a list (``accelerators.0.count``; the index one past the end appends);
    ``null`` removes the key or list item. Raises ValueError saying which step
    of which path cannot be followed."""
    out = copy.deepcopy(data)
    for dotted, value in overrides.items():
        steps = str(dotted).split(".")
        node = out
        for depth, step in enumerate(steps):
            last = depth == len(steps) - 1
            here = ".".join(steps[: depth + 1])
            if isinstance(node, list):
                if not step.isdigit():
                    raise ValueError(f"{dotted}: {here} indexes a list; use an integer")
                index = int(step)
                if index > len(node) or (index == len(node) and (not last or value is None)):
                    raise ValueError(
                        f"{dotted}: index {index} is out of range (the list has {len(node)} items)"
                    )
                if last:
                    if value is None:
                        del node[index]
                    elif index == len(node):
                        node.append(copy.deepcopy(value))
                    else:
                        node[index] = copy.deepcopy(value)
                else:
                    node = node[index]
            elif isinstance(node, dict):
                if last:
                    if value is None:
                        node.pop(step, None)
                    else:
                        node[step] = copy.deepcopy(value)
                else:
                    if node.get(step) is None:
                        node[step] = {}
                    node = node[step]
            else:
                raise ValueError(
                    f"{dotted}: {'.'.join(steps[:depth])} is a single value, not a mapping or list"
                )
    return out
