"""The case model's own value checks, as plain functions.

``engine.case.types`` attaches them to the case fields (pydantic ``BeforeValidator`` and
``AfterValidator``), and ``engine.case.fastcheck`` runs them without importing pydantic.
``CHECKS`` names each one; the fast check's plan refers to them by these names.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from typing import Any

from engine.source.document import CONTROL_CHARS


def nfc_text(value: Any) -> Any:
    """Text as NFC, refused when it holds a control character or a lone surrogate.

    Text that reached the model without the safe loader (a dict, a batch line) gets the loader's
    checks here. Anything that is not text passes unchanged (the field's type check refuses it)."""
    if isinstance(value, str):
        bad = CONTROL_CHARS.search(value)
        if bad:
            raise ValueError(f"text contains control character U+{ord(bad.group()):04X}")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError(f"text contains a lone surrogate (U+{ord(value[exc.start]):04X})") from None
            return unicodedata.normalize("NFC", value)
    return value


def real_number(value: Any) -> Any:
    """A finite int or float as a float; a bool, a numeric string, NaN or Infinity is refused."""
    # bool is an int subclass: refuse it explicitly, and refuse numeric strings.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number (NaN and Infinity are not allowed)")
    return float(value)


def country_code(value: str) -> str:
    """An ISO 3166-1 alpha-2 code in capitals, unchanged; anything else is refused."""
    if len(value) != 2 or not value.isascii() or not value.isalpha() or not value.isupper():
        raise ValueError("must be an ISO 3166-1 alpha-2 code in capitals, e.g. 'CN', 'MY', 'US'")
    return value


CHECKS: dict[str, Callable[[Any], Any]] = {
    "nfc_text": nfc_text, "real_number": real_number, "country_code": country_code,
}
"""Every check the case fields use, by name."""
