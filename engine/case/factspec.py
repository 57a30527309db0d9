"""The catalogue of fact paths a rule may read, with their types.

Built from the case model (``engine.case.model``) by introspection, plus the derived
facts declared by ``engine.derive.view`` and its domain extensions. The rule
validator uses it to reject unknown paths (with a did-you-mean) and operators
that do not fit a fact's type.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

# kinds: bool, number, string, date, scalar_list, object_list, object
Kind = str


@dataclass(frozen=True)
class FactType:
    kind: Kind
    enum: tuple[Any, ...] | None = None  # allowed values for strings / list elements
    element: Kind | None = None  # for scalar_list


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def _scalar(annotation: Any) -> FactType | None:
    annotation = _unwrap(annotation)
    if get_origin(annotation) is Literal:
        values = get_args(annotation)
        kind = "bool" if all(isinstance(v, bool) for v in values) else (
            "number" if all(isinstance(v, int | float) for v in values) else "string")
        return FactType(kind, enum=values)
    if annotation is bool:
        return FactType("bool")
    if annotation in (int, float):
        return FactType("number")
    if annotation is str:
        return FactType("string")
    if annotation is dt.date:
        return FactType("date")
    return None


def _model_paths(model: type[BaseModel], prefix: tuple[str, ...], out: dict[tuple[str, ...], FactType],
                 items: dict[tuple[str, ...], dict[tuple[str, ...], FactType]]) -> None:
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        annotation = _unwrap(info.annotation)
        scalar = _scalar(annotation)
        if scalar is not None:
            out[path] = scalar
            continue
        if get_origin(annotation) is list:
            (element,) = get_args(annotation)
            element = _unwrap(element)
            if isinstance(element, type) and issubclass(element, BaseModel):
                out[path] = FactType("object_list")
                item_paths: dict[tuple[str, ...], FactType] = {}
                _model_paths(element, (), item_paths, {})
                items[path] = item_paths
            else:
                el = _scalar(element)
                out[path] = FactType("scalar_list", enum=el.enum if el else None, element=el.kind if el else None)
            continue
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out[path] = FactType("object")
            _model_paths(annotation, path, out, items)


@dataclass(frozen=True)
class Catalogue:
    case: dict[tuple[str, ...], FactType]
    items: dict[tuple[str, ...], dict[tuple[str, ...], FactType]]

    def case_type(self, path: tuple[str, ...]) -> FactType | None:
        return self.case.get(path)

    def item_type(self, list_path: tuple[str, ...], path: tuple[str, ...]) -> FactType | None:
        return self.items.get(list_path, {}).get(path)


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The fact catalogue of the case model and the derived facts."""
    from engine.case.model import Case
    from engine.derive import view as derive

    case: dict[tuple[str, ...], FactType] = {}
    items: dict[tuple[str, ...], dict[tuple[str, ...], FactType]] = {}
    _model_paths(Case, (), case, items)
    case[("derived",)] = FactType("object")
    for name, kind in derive.derived_fields().items():
        case[("derived", *name.split("."))] = FactType(kind[0], element=kind[1] if len(kind) > 1 else None)
    for list_name, fields in derive.item_derived_fields().items():
        bucket = items.setdefault((list_name,), {})
        bucket[("derived",)] = FactType("object")
        for name, kind in fields.items():
            bucket[("derived", *name.split("."))] = FactType(kind[0], element=kind[1] if len(kind) > 1 else None)
    return Catalogue(case, items)
