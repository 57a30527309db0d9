"""Constrained field types shared by the case models.

The case format is a compliance record: a number written as a string, a boolean
used as a number or a fraction given as a percentage is an input error, not
something to coerce silently. These annotated types make pydantic strict where
lax coercion would hide a mistake, and normalise text to Unicode NFC so that
byte-wise comparisons in the matching core agree with what a person reads.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from engine.case.checks import country_code, nfc_text, real_number

MAX_TEXT = 10_000


# The checks live in engine.case.checks, which engine.case.fastcheck runs without importing pydantic.
# Only the public pieces engine.case.fastcheck knows are used here: Before/AfterValidator of a
# function in engine.case.checks.CHECKS, Field or StringConstraints with lengths, bounds or a pattern.

Text = Annotated[str, BeforeValidator(nfc_text), Field(min_length=1, max_length=MAX_TEXT)]
Name = Annotated[str, BeforeValidator(nfc_text), Field(min_length=1, max_length=500)]
Code = Annotated[str, BeforeValidator(nfc_text), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.:-]{0,63}$")]
CaseId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
Country = Annotated[str, AfterValidator(country_code)]
Flag = StrictBool
Count = Annotated[StrictInt, Field(ge=0, le=2**53)]
Real = Annotated[float, BeforeValidator(real_number)]
NonNegative = Annotated[float, BeforeValidator(real_number), Field(ge=0)]
Positive = Annotated[float, BeforeValidator(real_number), Field(gt=0)]
Fraction = Annotated[float, BeforeValidator(real_number), Field(ge=0, le=1)]

STRICT_MODEL = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)
