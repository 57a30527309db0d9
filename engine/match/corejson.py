"""JSON for the matching core: numbers written the way durable-rules' C parser reads them
(``shared/durable-rules.md``, pitfall 1)."""

from __future__ import annotations

import math
from typing import Any

import orjson

INT64 = 2**63 - 1


def number_json(value: float | int) -> str:
    """A number as durable's C parser accepts it: no bare exponent, no huge ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        if -INT64 <= value <= INT64:
            return str(value)
        value = float(value)  # beyond 64 bits the core clamps integers; compare as float
    if not math.isfinite(value):
        raise ValueError("NaN and infinite numbers cannot be matched")
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        text = f"{mantissa}e{exponent}"
    return text


def scalar_json(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return number_json(value)
    if isinstance(value, str):
        return orjson.dumps(value).decode()
    raise TypeError(f"not a scalar: {value!r}")


def dumps(value: Any) -> str:
    """JSON for the core, with numbers written as it accepts them."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{orjson.dumps(k).decode()}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return scalar_json(value)
