"""The case check that runs without pydantic: a plan built from the case model's public surface.

Importing pydantic and building the case models takes most of a one-case ``airisk assess``.
``plain_case`` (engine.case.validation) avoids both when it can: the case model is translated
once into a small plan of plain tuples, kept in the compile cache beside the rulesets
(engine.source.cache: keyed by the engine's code and pydantic's version), and run here.

The plan is built only from documented, public things: ``typing.get_origin``/``get_args`` of each
field's annotation, the ``FieldInfo`` attributes pydantic documents (``annotation``, ``metadata``,
``default``, ``alias`` ...), ``model_config``, ``model_computed_fields``, ``__pydantic_decorators__``,
pydantic's ``BeforeValidator``, ``AfterValidator``, ``Strict`` and ``StringConstraints``, and
annotated-types' ``Ge``/``Gt``/``Le``/``Lt``/``MinLen``/``MaxLen``. A validator is known only
when its function *is* one of ``engine.case.checks.CHECKS``. Anything else anywhere in the model
(another validator, an alias, a union, a default factory, a model validator, a config option)
means no plan at all: every case then goes through pydantic, correct and a little slower.

The plan only *accepts*: it follows each field for plain values of the exact types a loader
produces (str, int, float, bool, date, list, dict) and gives up on anything else. Whatever it
does not accept goes to the case model, which decides, and reports any errors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import types
import typing
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.case.checks import CHECKS

Plan = tuple[Any, ...]

# Patterns the plan checks itself: ^…$ around character classes, literals and counted repeats.
# pydantic-core's regex `$` matches only at the very end, so these are run with re.fullmatch.
_SIMPLE_PATTERN = re.compile(r"\^((?:\[[A-Za-z0-9._:\- ]+\]|[A-Za-z0-9_:.-])(?:\{\d+(?:,\d+)?\}|[*+?])?)+\$")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BOUNDS = ("ge", "gt", "le", "lt", "min_length", "max_length")
_CONFIG = {"title", "extra", "frozen", "str_strip_whitespace"}
_FIELD_UNSET = ("alias", "validation_alias", "default_factory", "discriminator")


class Unsupported(Exception):
    """The case model uses something the plan does not implement."""


class Reject(Exception):
    """The plan does not accept this value (it may still be valid: the case model decides)."""


def _check_name(func: Any) -> str:
    for name, ours in CHECKS.items():
        if func is ours:
            return name
    raise Unsupported(f"validator {func!r}")


def _constraints(meta: Any) -> list[tuple[str, Any]]:
    """The (bound, value) pairs of one constraint object, or Unsupported."""
    import annotated_types
    from pydantic import StringConstraints

    if isinstance(meta, StringConstraints):
        given = {f.name: getattr(meta, f.name) for f in dataclasses.fields(meta)}
        other = {k for k, v in given.items() if v is not None} - {"min_length", "max_length", "pattern"}
        if other:
            raise Unsupported(f"string constraints {sorted(other)}")
        out = [(k, given[k]) for k in ("min_length", "max_length") if given[k] is not None]
        pattern = given["pattern"]
        if pattern is not None:
            if not isinstance(pattern, str) or not _SIMPLE_PATTERN.fullmatch(pattern):
                raise Unsupported(f"pattern {pattern!r}")
            out.append(("pattern", pattern[1:-1]))
        return out
    kinds = {annotated_types.Ge: "ge", annotated_types.Gt: "gt", annotated_types.Le: "le",
             annotated_types.Lt: "lt", annotated_types.MinLen: "min_length", annotated_types.MaxLen: "max_length"}
    name = kinds.get(type(meta))
    if name is None:
        raise Unsupported(f"constraint {meta!r}")
    return [(name, getattr(meta, name))]


def _flatten(metadata: list[Any]) -> list[Any]:
    """Metadata with each nested ``Field(...)`` replaced by its own metadata (in order)."""
    from pydantic.fields import FieldInfo

    out: list[Any] = []
    for meta in metadata:
        if isinstance(meta, FieldInfo):
            if any(getattr(meta, name) is not None for name in _FIELD_UNSET):
                raise Unsupported("a field option the plan does not follow")
            out.extend(_flatten(list(meta.metadata)))
        else:
            out.append(meta)
    return out


def _base(annotation: Any) -> Plan:
    """The plan of a bare type: a model, a list, a literal or a scalar."""
    from pydantic import BaseModel

    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_plan(annotation)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return ("list", 0, None, type_plan(item, []))
    if origin is typing.Literal:
        expected = typing.get_args(annotation)
        if not all(type(v) is str for v in expected):
            raise Unsupported("a literal that is not text")
        return ("literal", frozenset(expected))
    scalars: dict[Any, Plan] = {str: ("str", 0, None, None), bool: ("bool",), dt.date: ("date",),
                                int: ("int", False, ()), float: ("float", False, ())}
    if annotation in scalars:
        return scalars[annotation]
    raise Unsupported(f"type {annotation!r}")


def type_plan(annotation: Any, metadata: list[Any]) -> Plan:
    """The plan for a value of ``annotation`` with the field's ``metadata`` applied (pydantic's order)."""
    from pydantic import AfterValidator, BeforeValidator, Strict

    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        others = [a for a in args if a is not type(None)]
        if len(args) != 2 or len(others) != 1:
            raise Unsupported("a union other than X | None")
        return ("nullable", type_plan(others[0], metadata))
    if origin is typing.Annotated:
        base, *inner = typing.get_args(annotation)
        return type_plan(base, [*inner, *metadata])
    node = _base(annotation)
    for meta in _flatten(metadata):
        if isinstance(meta, BeforeValidator):
            node = ("before", _check_name(meta.func), node)
        elif isinstance(meta, AfterValidator):
            node = ("after", _check_name(meta.func), node)
        elif isinstance(meta, Strict):
            # Strict changes nothing the plan accepts for these (it takes only the exact type).
            if node[0] not in ("int", "bool", "str") or not meta.strict:
                raise Unsupported(f"strict {node[0]}")
        else:
            for bound, value in _constraints(meta):
                node = ("check", bound, value, node)
    return node


def model_plan(model: Any) -> Plan:
    """The plan for one pydantic model class, or Unsupported."""
    config = dict(model.model_config)
    if set(config) - _CONFIG or config.get("extra") != "forbid" or config.get("str_strip_whitespace"):
        raise Unsupported(f"model config of {model.__name__}")
    decorators = model.__pydantic_decorators__
    if model.model_computed_fields or any(getattr(decorators, kind) for kind in (
            "validators", "field_validators", "root_validators", "field_serializers",
            "model_serializers", "model_validators", "computed_fields")):
        raise Unsupported(f"validators or serializers on {model.__name__}")
    fields = []
    for name, field in model.model_fields.items():
        if any(getattr(field, option) is not None for option in _FIELD_UNSET) or field.validate_default:
            raise Unsupported(f"{model.__name__}.{name}: a field option the plan does not follow")
        default: tuple[Any, ...] = ()  # required
        if not field.is_required():
            if type(field.default) not in (type(None), bool, int, float, str):
                raise Unsupported("a default that is not a plain value")
            default = (field.default,)
        fields.append((name, default, type_plan(field.annotation, list(field.metadata))))
    return ("model", tuple(fields), frozenset(name for name, _, _ in fields))


def build_plan() -> Plan | None:
    """The plan for the case model, or None when the model uses something the plan cannot follow."""
    from engine.case.model import Case

    try:
        return model_plan(Case)
    except (Unsupported, AttributeError, TypeError, ValueError):
        return None


_LIMIT: dict[str, Callable[[Any, Any], bool]] = {
    "ge": lambda x, b: x >= b, "gt": lambda x, b: x > b, "le": lambda x, b: x <= b, "lt": lambda x, b: x < b,
    "min_length": lambda x, b: len(x) >= b, "max_length": lambda x, b: len(x) <= b,
    "pattern": lambda x, p: x.isascii() and re.fullmatch(p, x) is not None,
}


def _run_model(plan: Plan, value: Any) -> Any:
    if type(value) is not dict or not plan[2].issuperset(value):
        raise Reject
    out = {}
    for name, default, node in plan[1]:
        if name in value:
            result = run(node, value[name])
        elif default:
            result = default[0]  # pydantic neither validates nor copies a plain default
        else:
            raise Reject  # a required field is missing
        if result is not None:  # model_dump(exclude_none=True)
            out[name] = result
    return out


def _run_scalar(kind: str, value: Any) -> Any:
    if kind in ("str", "bool"):
        if type(value) is not (str if kind == "str" else bool):
            raise Reject
        return value
    if kind in ("int", "float"):
        if type(value) is int or (kind == "float" and type(value) is float and math.isfinite(value)):
            return float(value) if kind == "float" else value
        raise Reject
    if type(value) is dt.date:  # date
        return value.isoformat()
    if type(value) is str and _ISO_DATE.fullmatch(value):
        return dt.date.fromisoformat(value).isoformat()  # ValueError: see plain_case
    raise Reject


def run(plan: Plan, value: Any) -> Any:
    """The JSON-ready value the case model would dump for ``value``, or Reject."""
    kind = plan[0]
    if kind == "model":
        return _run_model(plan, value)
    if kind == "nullable":
        return None if value is None else run(plan[1], value)
    if kind == "list":
        if type(value) is not list:
            raise Reject
        return [run(plan[3], item) for item in value]
    if kind == "literal":
        if type(value) is not str or value not in plan[1]:
            raise Reject
        return value
    if kind == "check":
        value = run(plan[3], value)
        if not _LIMIT[plan[1]](value, plan[2]):
            raise Reject
        return value
    if kind == "before":
        return run(plan[2], CHECKS[plan[1]](value))
    if kind == "after":
        return CHECKS[plan[1]](run(plan[2], value))
    return _run_scalar(kind, value)


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
def cached_plan() -> Plan | None:
    """The case model's plan from the compile cache (built and stored on a miss), or None."""
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
