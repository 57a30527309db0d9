"""Case validation with located, actionable errors.

Pydantic does the checking; this module turns its errors into Problems that
name the file, line, column and JSON pointer, with a did-you-mean for
unknown fields (from the model's own field names at that place).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args, get_origin

from engine.case import fastcheck
from engine.errors import InputError, Problem, did_you_mean, pointer
from engine.source.safeyaml import DEFAULT_LIMITS, Document, Limits, load_file, load_text, syntax_of

if TYPE_CHECKING:  # pydantic and the case model load on first use (see plain_case)
    from pydantic import BaseModel, ValidationError

    from engine.case.model import Case


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The pydantic model class that holds the field at ``loc`` (its parent)."""
    from pydantic import BaseModel

    from engine.case.model import Case

    model: Any = Case
    for step in loc[:-1]:
        if isinstance(step, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or step not in model.model_fields:
            return None
        annotation = model.model_fields[step].annotation
        model = _inner_model(annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    for _ in range(6):
        origin = get_origin(annotation)
        if origin in (typing.Union, types.UnionType, typing.Annotated, list):
            args = [a for a in get_args(annotation) if a is not type(None)]
            annotation = args[0] if args else None
            continue
        break
    return annotation


_RANGE_TYPES = {"less_than", "less_than_equal", "greater_than", "greater_than_equal", "too_long", "too_short",
                "string_too_long", "string_too_short"}
_NOT_NUMBERS = {"nan", "infinity", "inf", ".nan", ".inf"}


def problems_from_validation(exc: ValidationError, doc: Document | None, file: str | None,
                             base: tuple[str | int, ...] = ()) -> list[Problem]:
    """Located problems for every pydantic error."""
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        loc = tuple(p for p in loc if p not in ("str", "int", "float", "bool", "list[", "date"))
        full = (*base, *loc)
        hint = None
        message = err["msg"].removeprefix("Value error, ")
        code = "invalid"
        if err["type"] == "extra_forbidden":
            code = "unknown_field"
            parent = _model_at(loc)
            name = str(loc[-1]) if loc else ""
            message = f"unknown field {name!r}"
            if parent is not None:
                hint = did_you_mean(name, parent.model_fields) or f"fields here: {', '.join(parent.model_fields)}"
        elif err["type"] == "missing":
            code = "missing_field"
            message = "required field is missing"
        elif err["type"].startswith(("int", "float", "bool", "string", "date")) or "type" in err["type"]:
            code = "wrong_type"
        if err["type"] in ("literal_error", "string_pattern_mismatch"):
            code = "invalid_value"
        elif err["type"] in _RANGE_TYPES:
            code = "out_of_range"
        elif err["type"] == "value_error" and message.startswith("text contains"):
            code = "invalid_text"
        elif err["type"] == "value_error" and "number" in message:
            code = "wrong_type"
            if isinstance(err.get("input"), str) and err["input"].strip().lstrip("+-").lower() in _NOT_NUMBERS:
                hint = "NaN and Infinity are not numbers here; leave the field out if it is unknown"
        value_repr = ""
        if err["type"] not in ("missing", "extra_forbidden") and "input" in err:
            shown = repr(err["input"])
            value_repr = f" (got {shown[:60]}{'…' if len(shown) > 60 else ''})"
        text = f"{message}{value_repr}"
        if doc is not None:
            problem = doc.where(list(full), text, code=code, hint=hint)
        else:
            problem = Problem(message=text, file=file, pointer=pointer(list(full)), code=code, hint=hint)
        out.append(problem)
    return out


_KINDS = {str: "text", int: "number", float: "number", bool: "yes/no value", list: "list"}


def case_from_data(data: Any, *, file: str | None = None, doc: Document | None = None) -> Case:
    """Validate plain data as a Case; InputError with every located problem otherwise."""
    from pydantic import ValidationError

    from engine.case.model import Case

    if isinstance(data, Case):
        return data
    if not isinstance(data, Mapping):
        kind = _KINDS.get(type(data), type(data).__name__) if data is not None else "null"
        where = doc.where([], f"a case must be a mapping of fields, not a {kind}", code="not_a_mapping") if doc else \
            Problem(message=f"a case must be a mapping of fields, not a {kind}", file=file, code="not_a_mapping")
        raise InputError(where)
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems_from_validation(exc, doc, file)) from None


def load_case_file(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> Case:
    """Read a YAML or JSON case file and validate it (located errors)."""
    doc = load_file(str(path), limits)
    return case_from_data(doc.data, file=doc.file, doc=doc)


def load_case_text(text: str | bytes, name: str = "<stdin>", limits: Limits = DEFAULT_LIMITS) -> Case:
    """Validate a YAML or JSON case given as text (``name`` is the file named in errors)."""
    doc = load_text(text, name, limits, syntax_of(name, default="auto"))
    return case_from_data(doc.data, file=doc.file, doc=doc)


def plain_case(data: Any, *, file: str | None = None, doc: Document | None = None) -> dict[str, Any]:
    """The validated case as JSON-ready data: ``case_from_data(...).model_dump(mode="json", exclude_none=True)``.

    Checked by the cached plan (engine.case.fastcheck) when there is one and it accepts the data (no pydantic import);
    otherwise by the case model, which raises InputError with every located problem."""
    plan = fastcheck.cached_plan()
    if plan is not None:
        try:
            out: dict[str, Any] = fastcheck.run(plan, data)
            return out
        except (fastcheck.Reject, ValueError, TypeError, OverflowError):
            pass  # the case model decides, and says why
    return case_from_data(data, file=file, doc=doc).model_dump(mode="json", exclude_none=True)
