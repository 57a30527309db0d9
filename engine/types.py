"""Constrained field types shared by the case models.

The case format is a compliance record: a number written as a string, a boolean
used as a number or a fraction given as a percentage is an input error, not
something to coerce silently. These annotated types make pydantic strict where
lax coercion would hide a mistake, and normalise text to Unicode NFC so that
byte-wise comparisons in the matching core agree with what a person reads.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt

MAX_TEXT = 10_000


# C0 and C1 controls other than tab, LF and CR: invisible in reports, and ESC drives terminals.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _nfc(value: Any) -> Any:
    # Text that reached the model without the safe loader (a dict, a batch line) gets
    # the loader's checks here: no control characters, no lone surrogates, NFC.
    if isinstance(value, str):
        bad = _CONTROL.search(value)
        if bad:
            raise ValueError(f"text contains control character U+{ord(bad.group()):04X}")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError(f"text contains a lone surrogate (U+{ord(value[exc.start]):04X})") from None
            return unicodedata.normalize("NFC", value)
    return value


def _real(value: Any) -> Any:
    # bool is an int subclass: refuse it explicitly, and refuse numeric strings.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number (NaN and Infinity are not allowed)")
    return float(value)


def _country(value: str) -> str:
    if len(value) != 2 or not value.isascii() or not value.isalpha() or not value.isupper():
        raise ValueError("must be an ISO 3166-1 alpha-2 code in capitals, e.g. 'CN', 'MY', 'US'")
    return value


Text = Annotated[str, BeforeValidator(_nfc), Field(min_length=1, max_length=MAX_TEXT)]
Name = Annotated[str, BeforeValidator(_nfc), Field(min_length=1, max_length=500)]
Code = Annotated[str, BeforeValidator(_nfc), Field(pattern=r"^[a-z0-9][a-z0-9_.:-]{0,63}$")]
Country = Annotated[str, AfterValidator(_country)]
Flag = StrictBool
Count = Annotated[StrictInt, Field(ge=0, le=2**53)]
Real = Annotated[float, BeforeValidator(_real)]
NonNegative = Annotated[float, BeforeValidator(_real), Field(ge=0)]
Positive = Annotated[float, BeforeValidator(_real), Field(gt=0)]
Fraction = Annotated[float, BeforeValidator(_real), Field(ge=0, le=1)]

STRICT_MODEL = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)
