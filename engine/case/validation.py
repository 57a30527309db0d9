"""Case validation with located, actionable errors.

Pydantic does the checking; this module turns its errors into Problems that
name the file, line, column and JSON pointer, with a did-you-mean for
unknown fields (from the model's own field names at that place).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import types
import typing
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args, get_origin

from engine.errors import InputError, Problem, did_you_mean, pointer
from engine.source.safeyaml import _CONTROL, DEFAULT_LIMITS, Document, Limits, load_file, load_text, syntax_of

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
    doc = load_text(text, name, limits, syntax_of(name, default="auto"))
    return case_from_data(doc.data, file=doc.file, doc=doc)


# --------------------------------------------------------------------------- the compiled case check
#
# Importing pydantic and building the case models takes most of a one-case `airisk assess`
# (about 0.14 s of 0.27 s). ``plain_case`` avoids both when it can: the case model's own core
# schema (what pydantic-core validates with) is translated once into a small plan of plain
# tuples, kept in the compile cache beside the rulesets (engine.source.cache: keyed by the engine's
# code and pydantic's version), and run here in Python. The plan only *accepts*: it follows
# each node of the schema for plain values of the exact types a loader produces (str, int,
# float, bool, date, list, dict) and gives up on anything else. Whatever it does not accept
# goes to the case model, which decides, and reports any errors, exactly as before. A schema
# node it does not know (a new validator, a serializer, an alias, a default other than None)
# means no plan at all: every case then goes through pydantic.
#
# These three are the case model's validators: engine.case.types imports them from here, so that
# running the plan does not import pydantic. ``_same_function`` still refuses to build a plan
# unless the function the model uses computes the same thing (same bytecode, constants,
# names and globals), should the model ever get validators of its own.



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


_FUNCTIONS = {"_nfc": _nfc, "_real": _real, "_country": _country}
_CHECKS = {  # pydantic's validators for known constraints (pydantic._internal._validators)
    "greater_than_validator": "gt", "greater_than_or_equal_validator": "ge", "less_than_validator": "lt",
    "less_than_or_equal_validator": "le", "min_length_validator": "min_length",
    "max_length_validator": "max_length",
}
# A constraint applied to a str through a wrap validator that only re-labels type errors.
_WRAP = "apply_known_metadata.<locals>._apply_constraint_with_incompatibility_info"
# Patterns the plan checks itself: ^…$ around character classes, literals and counted repeats.
# pydantic-core's regex `$` matches only at the very end, so these are run with re.fullmatch.
_SIMPLE_PATTERN = re.compile(r"\^((?:\[[A-Za-z0-9._:\- ]+\]|[A-Za-z0-9_:.-])(?:\{\d+(?:,\d+)?\}|[*+?])?)+\$")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

Plan = tuple[Any, ...]


class _Unsupported(Exception):
    """The case model uses something the plan does not implement."""


class _Reject(Exception):
    """The plan does not accept this value (it may still be valid: the case model decides)."""


def _same_function(ours: Any, theirs: Any) -> bool:
    """Whether two functions compute the same thing: same bytecode, constants, names and globals."""
    a, b = getattr(ours, "__code__", None), getattr(theirs, "__code__", None)
    if a is None or b is None:
        return False
    if (a.co_code, a.co_consts, a.co_names, a.co_varnames, a.co_argcount) != (
            b.co_code, b.co_consts, b.co_names, b.co_varnames, b.co_argcount):
        return False
    missing = object()
    for name in a.co_names:
        x, y = ours.__globals__.get(name, missing), theirs.__globals__.get(name, missing)
        if x is y:
            continue
        if isinstance(x, re.Pattern) and isinstance(y, re.Pattern) and (x.pattern, x.flags) == (y.pattern, y.flags):
            continue
        return False
    return True


def _keys(node: Mapping[str, Any], allowed: set[str]) -> None:
    extra = set(node) - allowed - {"type", "metadata"}
    if extra:
        raise _Unsupported(f"{node['type']}: {sorted(extra)}")


def _function(node: Mapping[str, Any]) -> Any:
    fn = node["function"]
    if fn.get("type") != "no-info" or set(fn) - {"type", "function"}:
        raise _Unsupported("validator with info")
    return fn["function"]


def _compile(node: Mapping[str, Any]) -> Plan:
    """The plan for one node of a pydantic-core schema, or _Unsupported."""
    kind = node["type"]
    if kind == "model":
        _keys(node, {"cls", "schema", "custom_init", "root_model", "config", "ref"})
        config = node.get("config", {})
        if node.get("custom_init") or node.get("root_model") or set(config) - {
                "title", "extra_fields_behavior", "str_strip_whitespace"} or config.get(
                "extra_fields_behavior") != "forbid" or config.get("str_strip_whitespace"):
            raise _Unsupported("model config")
        inner = node["schema"]
        if inner["type"] != "model-fields" or inner.get("computed_fields"):
            raise _Unsupported("model fields")
        _keys(inner, {"fields", "computed_fields", "model_name"})
        fields = []
        for name, field in inner["fields"].items():
            if field["type"] != "model-field":
                raise _Unsupported("field")
            _keys(field, {"schema"})
            schema = field["schema"]
            default: tuple[Any, ...] = ()  # required
            if schema["type"] == "default":
                _keys(schema, {"schema", "default"})
                if type(schema["default"]) not in (type(None), bool, int, float, str):
                    raise _Unsupported("a default that is not a plain value")
                default = (schema["default"],)
                schema = schema["schema"]
            fields.append((name, default, _compile(schema)))
        return ("model", tuple(fields), frozenset(name for name, _, _ in fields))
    if kind == "nullable":
        _keys(node, {"schema"})
        return ("nullable", _compile(node["schema"]))
    if kind == "list":
        _keys(node, {"items_schema", "min_length", "max_length"})
        return ("list", node.get("min_length", 0), node.get("max_length"), _compile(node["items_schema"]))
    if kind == "str":
        _keys(node, {"pattern", "min_length", "max_length", "strict"})
        pattern = node.get("pattern")
        if pattern is not None and not _SIMPLE_PATTERN.fullmatch(pattern):
            raise _Unsupported(f"pattern {pattern!r}")
        return ("str", node.get("min_length", 0), node.get("max_length"),
                None if pattern is None else pattern[1:-1])
    if kind == "literal":
        _keys(node, {"expected"})
        if not all(type(v) is str for v in node["expected"]):
            raise _Unsupported("a literal that is not text")
        return ("literal", frozenset(node["expected"]))
    if kind in ("bool", "date"):
        _keys(node, {"strict"})
        return (kind,)
    if kind in ("int", "float"):
        _keys(node, {"strict", "ge", "gt", "le", "lt"})
        checks = tuple((op, node[op]) for op in ("ge", "gt", "le", "lt") if op in node)
        return (kind, bool(node.get("strict")), checks)
    if kind == "chain":
        _keys(node, {"steps"})
        return ("chain", tuple(_compile(step) for step in node["steps"]))
    if kind in ("function-before", "function-after", "function-wrap"):
        _keys(node, {"function", "schema"})
        fn = _function(node)
        inner_plan = _compile(node["schema"])
        if kind == "function-wrap":
            if getattr(fn, "__qualname__", None) != _WRAP:
                raise _Unsupported("wrap validator")
            return inner_plan
        import functools

        from pydantic._internal import _validators

        if isinstance(fn, functools.partial) and not fn.args and len(fn.keywords) == 1:
            name = getattr(fn.func, "__name__", "")
            op = _CHECKS.get(name)
            if op is not None and fn.func is getattr(_validators, name) and op in fn.keywords:
                return ("check", op, fn.keywords[op], inner_plan) if kind == "function-after" else _no(kind)
        ours = _FUNCTIONS.get(getattr(fn, "__name__", ""))
        if ours is None or not _same_function(ours, fn):
            raise _Unsupported(f"validator {fn!r}")
        return ("before" if kind == "function-before" else "after", ours.__name__, inner_plan)
    raise _Unsupported(kind)


def _no(kind: str) -> Plan:
    raise _Unsupported(f"a constraint check as {kind}")


_LIMIT = {"ge": lambda x, b: x >= b, "gt": lambda x, b: x > b, "le": lambda x, b: x <= b,
          "lt": lambda x, b: x < b, "min_length": lambda x, b: len(x) >= b, "max_length": lambda x, b: len(x) <= b}


def _run(plan: Plan, value: Any) -> Any:
    """The JSON-ready value the case model would dump for ``value``, or _Reject."""
    kind = plan[0]
    if kind == "model":
        if type(value) is not dict or not plan[2].issuperset(value):
            raise _Reject
        out = {}
        for name, default, node in plan[1]:
            if name in value:
                result = _run(node, value[name])
            elif default:
                result = default[0]  # pydantic neither validates nor copies a plain default
            else:
                raise _Reject  # a required field is missing
            if result is not None:  # model_dump(exclude_none=True)
                out[name] = result
        return out
    if kind == "nullable":
        return None if value is None else _run(plan[1], value)
    if kind == "str":
        if type(value) is not str or len(value) < plan[1] or (plan[2] is not None and len(value) > plan[2]):
            raise _Reject
        if plan[3] is not None and not (value.isascii() and re.fullmatch(plan[3], value)):
            raise _Reject
        return value
    if kind == "list":
        if type(value) is not list or len(value) < plan[1] or (plan[2] is not None and len(value) > plan[2]):
            raise _Reject
        return [_run(plan[3], item) for item in value]
    if kind == "literal":
        if type(value) is not str or value not in plan[1]:
            raise _Reject
        return value
    if kind == "bool":
        if type(value) is not bool:
            raise _Reject
        return value
    if kind in ("int", "float"):
        if type(value) is int or (kind == "float" and type(value) is float and math.isfinite(value)):
            number = float(value) if kind == "float" else value
        else:
            raise _Reject
        for op, bound in plan[2]:
            if not _LIMIT[op](number, bound):
                raise _Reject
        return number
    if kind == "date":
        if type(value) is dt.date:
            return value.isoformat()
        if type(value) is str and _ISO_DATE.fullmatch(value):
            return dt.date.fromisoformat(value).isoformat()  # ValueError: see plain_case
        raise _Reject
    if kind == "chain":
        for step in plan[1]:
            value = _run(step, value)
        return value
    if kind == "check":
        value = _run(plan[3], value)
        if not _LIMIT[plan[1]](value, plan[2]):
            raise _Reject
        return value
    if kind == "before":
        return _run(plan[2], _FUNCTIONS[plan[1]](value))
    if kind == "after":
        return _FUNCTIONS[plan[1]](_run(plan[2], value))
    raise _Reject  # pragma: no cover - _compile makes no other node


def build_plan() -> Plan | None:
    """The plan for the case model, or None when the model uses something the plan cannot follow."""
    from engine.case.model import Case

    try:
        return _compile(Case.__pydantic_core_schema__)
    except (_Unsupported, KeyError, TypeError, AttributeError, ImportError):
        return None


def _pydantic_files() -> list[Path]:
    """Files whose contents name pydantic's and pydantic-core's versions, found without importing them."""
    import importlib.util

    files = []
    for name, file in (("pydantic", "version.py"), ("pydantic_core", "__init__.py")):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise OSError(f"{name} not found")
        files.append(Path(spec.origin).with_name(file))
    return files


@lru_cache(maxsize=1)
def _cached_plan() -> Plan | None:
    from engine.source.cache import cache_dir, cached, key_of

    if cache_dir() is None:
        return None  # building a plan needs the case model, which then validates the case itself
    try:
        files = _pydantic_files()
        versions = [str(p.stat().st_mtime_ns) for p in files]
        key = key_of(files, "case-plan", *versions)
    except OSError:
        return None
    return cached("caseplan", key, build_plan)


def plain_case(data: Any, *, file: str | None = None, doc: Document | None = None) -> dict[str, Any]:
    """The validated case as JSON-ready data: ``case_from_data(...).model_dump(mode="json", exclude_none=True)``.

    Checked by the cached plan when there is one and it accepts the data (no pydantic import);
    otherwise by the case model, which raises InputError with every located problem."""
    plan = _cached_plan()
    if plan is not None:
        try:
            out: dict[str, Any] = _run(plan, data)
            return out
        except (_Reject, ValueError, TypeError, OverflowError):
            pass  # the case model decides, and says why
    return case_from_data(data, file=file, doc=doc).model_dump(mode="json", exclude_none=True)
