"""Typed JSON for zmr's value types: one conversion, driven by the type annotations.

Specs, plans, manifests and ids cross process boundaries (wire messages, the coordinator's
journal, map manifests on a worker's disk) as JSON and are used as frozen dataclasses
everywhere else. :func:`to_json` turns a value into plain JSON types and :func:`from_json`
turns JSON back into the annotated type, checking every field on the way: a wrong type,
a missing or unknown field is a :class:`ShapeError` naming where it is
(``MapTaskSpec.split.more[3][1]: expected int, got str``), never a half-built object.

Shapes: a dataclass is an object of its fields (empty container fields left out when
their default is empty, so a plan with 100k splits stays small); a NamedTuple is a list
(``Piece``, ``AttemptId``: many of them, few fields); tuples and lists are lists;
``X | None`` may be null; ``A | B`` of dataclasses takes the first that fits; ``Any`` is
any JSON value. Converters are built once per type, as the hot messages are decoded
thousands of times a second.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from typing import Any, Union

INT_MIN, INT_MAX = -(1 << 63), (1 << 63) - 1
Convert = Callable[[Any, str], Any]


class ShapeError(ValueError):
    """JSON that does not have the shape of the type it should become."""


_PLAIN = frozenset({str, int, float, bool, type(None)})


def to_json(value: Any) -> Any:
    """A value of the core's types as plain JSON types (dict, list, str, int, ...)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {k: to_json(v) for k, v in value.items()}
    fields = _dataclass_fields(kind)
    if fields is not None:
        return _object(value, fields)
    return [to_json(v) for v in value] if isinstance(value, (list, tuple)) else value


def _object(value: Any, fields: tuple[tuple[str, bool], ...]) -> dict[str, Any]:
    out = {}
    for name, may_omit in fields:
        v = getattr(value, name)
        if may_omit and not v:
            continue          # an empty container that is also the default
        out[name] = to_json(v)
    return out


@functools.cache
def _dataclass_fields(cls: type) -> tuple[tuple[str, bool], ...] | None:
    """(name, may be left out when empty) per field of a dataclass; None for other types."""
    if not dataclasses.is_dataclass(cls):
        return None
    return tuple((f.name, _empty_by_default(f)) for f in dataclasses.fields(cls))


def _empty_by_default(f: dataclasses.Field[Any]) -> bool:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory in (list, dict, tuple)
    return isinstance(f.default, (tuple, list, dict)) and not f.default


def from_json(tp: Any, data: Any, where: str = "") -> Any:
    """``data`` (decoded JSON) as a value of type ``tp``; ShapeError if it is not one."""
    return converter(tp)(data, where or getattr(tp, "__name__", str(tp)))


@functools.cache
def converter(tp: Any) -> Convert:
    """The checking converter from JSON to ``tp`` (cached per type)."""
    if tp is Any or tp is object:
        return lambda v, where: v
    if tp in _SCALARS:
        return _SCALARS[tp]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        return _union(args)
    if origin in (list, tuple):
        return _sequence(tp, origin, args)
    if origin is dict:
        return _mapping(converter(args[1]) if args else converter(Any))
    if isinstance(tp, type) and issubclass(tp, tuple) and hasattr(tp, "_fields"):
        return _named_tuple(tp)
    if dataclasses.is_dataclass(tp):
        return _dataclass(tp)
    raise TypeError(f"no JSON shape for {tp!r}")


def _fail(where: str, expected: str, value: Any) -> ShapeError:
    return ShapeError(f"{where}: expected {expected}, got {type(value).__name__}")


def _int(v: Any, where: str) -> int:
    # every integer a peer may send fits a signed 64-bit field (SQLite, numpy, Arrow)
    if type(v) is not int or not INT_MIN <= v <= INT_MAX:
        raise _fail(where, "int", v)
    return v


def _float(v: Any, where: str) -> float:
    if type(v) not in (int, float):
        raise _fail(where, "float", v)
    return float(v)


def _str(v: Any, where: str) -> str:
    if type(v) is not str:
        raise _fail(where, "str", v)
    return v


def _bool(v: Any, where: str) -> bool:
    if type(v) is not bool:
        raise _fail(where, "bool", v)
    return v


def _none(v: Any, where: str) -> None:
    if v is not None:
        raise _fail(where, "null", v)


_SCALARS: dict[Any, Convert] = {int: _int, float: _float, str: _str, bool: _bool,
                                type(None): _none, None: _none}


def _union(args: tuple[Any, ...]) -> Convert:
    options = [converter(a) for a in args]
    names = " or ".join(getattr(a, "__name__", str(a)) for a in args)

    def convert(v: Any, where: str) -> Any:
        for option in options:
            try:
                return option(v, where)
            except ShapeError:
                continue
        raise ShapeError(f"{where}: expected {names}, got {_describe(v)}")
    return convert


def _describe(v: Any) -> str:
    if isinstance(v, dict):
        return "an object with fields " + ", ".join(sorted(map(str, v))[:8])
    return type(v).__name__


def _sequence(tp: Any, origin: type, args: tuple[Any, ...]) -> Convert:
    if origin is tuple and args and args[-1] is not Ellipsis:
        return _fixed_tuple([converter(a) for a in args])
    item = converter(args[0]) if args else converter(Any)

    def convert(v: Any, where: str) -> Any:
        if type(v) is not list:
            raise _fail(where, "list", v)
        items = [item(x, f"{where}[{i}]") for i, x in enumerate(v)]
        return tuple(items) if origin is tuple else items
    return convert


def _fixed_tuple(items: list[Convert]) -> Convert:
    def convert(v: Any, where: str) -> tuple[Any, ...]:
        if type(v) is not list or len(v) != len(items):
            raise _fail(where, f"list of {len(items)}", v)
        return tuple(c(x, f"{where}[{i}]") for i, (c, x) in enumerate(zip(items, v)))
    return convert


def _mapping(value: Convert) -> Convert:
    def convert(v: Any, where: str) -> dict[str, Any]:
        if type(v) is not dict:
            raise _fail(where, "object", v)
        return {_str(k, f"{where} key"): value(x, f"{where}[{k!r}]") for k, x in v.items()}
    return convert


def _named_tuple(tp: type) -> Convert:
    hints = typing.get_type_hints(tp)
    fields = [(name, converter(hints[name])) for name in tp._fields]  # type: ignore[attr-defined]
    required = len(fields) - len(tp._field_defaults)  # type: ignore[attr-defined]

    def convert(v: Any, where: str) -> Any:
        if type(v) is not list or not required <= len(v) <= len(fields):
            raise _fail(where, f"list of {required}..{len(fields)}", v)
        return tp(*(c(x, f"{where}[{i}]") for i, ((_, c), x) in enumerate(zip(fields, v))))
    return convert


def _dataclass(tp: type) -> Convert:
    hints = typing.get_type_hints(tp)
    fields = [(f.name, converter(hints[f.name]),
               f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
              for f in dataclasses.fields(tp)]
    names = frozenset(name for name, _, _ in fields)
    label = tp.__name__

    def convert(v: Any, where: str) -> Any:
        if type(v) is not dict:
            raise _fail(where, f"{label} object", v)
        if not v.keys() <= names:
            raise ShapeError(f"{where}: unknown fields {sorted(map(str, v.keys() - names))}")
        values = {}
        for name, convert_field, required in fields:
            if name in v:
                values[name] = convert_field(v[name], f"{where}.{name}")
            elif required:
                raise ShapeError(f"{where}: missing field {name}")
        return tp(**values)
    return convert


class JsonValue:
    """Mixin: ``to_dict()`` and ``from_dict()`` through the annotated shape."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return to_json(self)  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, d: Any) -> Any:
        return from_json(cls, d)
