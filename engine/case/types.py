"""Constrained field types shared by the case models.

The case format is a compliance record: a number written as a string, a boolean
used as a number or a fraction given as a percentage is an input error, not
something to coerce silently. These annotated types make pydantic strict where
lax coercion would hide a mistake, and normalise text to Unicode NFC so that
byte-wise comparisons in the matching core agree with what a person reads.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt

from engine.case.validation import _country, _nfc, _real

MAX_TEXT = 10_000


# The validators live in engine.case.validation, which runs them without importing pydantic too.

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
