"""Typed JSON for zmr's value types: one conversion, driven by the type annotations.

Specs, plans, manifests and ids cross process boundaries (wire messages, the coordinator's
journal, map manifests on a worker's disk) as JSON and are used as frozen dataclasses
everywhere else. :func:`to_json` turns a value into plain JSON types and :func:`from_json`
turns JSON back into the annotated type, checking every field on the way: a wrong type,
a missing or unknown field is a :class:`ShapeError` naming where it is
(``MapTaskSpec.split.more[3][1]: expected int, got str``), never a half-built object.

Shapes: a dataclass is an object of its fields (empty container fields left out when
their default is empty, so a plan with 100k splits stays small, and so are fields marked
``field(default=0, metadata=omitted_when_default())`` while they hold it); a NamedTuple is a list
(``Piece``, ``AttemptId``: many of them, few fields); tuples and lists are lists;
``X | None`` may be null; ``A | B`` of dataclasses is the one whose fields an object has
(else the first that fits); a ``Literal`` takes only its values; ``Any`` is any JSON
value. A type may check across its fields in ``__post_init__`` by raising a ShapeError
that names the field (``ShapeError("...", ".result")``). Converters are built once per
type, as the hot messages are decoded thousands of times a second.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import sys
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any, Literal, Union

INT_MIN, INT_MAX = -(1 << 63), (1 << 63) - 1
FLOAT_MAX = int(sys.float_info.max)
Convert = Callable[[Any, str], Any]


class ShapeError(ValueError):
    """JSON that does not have the shape of the type it should become: ``problem`` at
    ``path`` (``.split.more[3][1]``) inside the value named ``where``."""

    def __init__(self, problem: str, path: str = "", where: str = "") -> None:
        super().__init__(f"{where}{path}: {problem}")
        self.problem, self.path, self.where = problem, path, where

    def at(self, step: str) -> ShapeError:
        """The same problem one step further out (``step`` is ``.name`` or ``[i]``)."""
        return ShapeError(self.problem, step + self.path, self.where)

    def named(self, where: str) -> ShapeError:
        return ShapeError(self.problem, self.path, where)


_PLAIN = frozenset({str, int, float, bool, type(None)})


def to_json(value: Any) -> Any:
    """A value of the core's types as plain JSON types (dict, list, str, int, ...)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    encode = _ENCODERS.get(kind)
    if encode is None:
        encode = _ENCODERS.setdefault(kind, _encoder(kind))
    return encode(value)


Encode = Callable[[Any], Any]
#: one encoder per type met, made once: every assignment the coordinator sends is encoded
_ENCODERS: dict[type, Encode] = {}


def _encoder(kind: type) -> Encode:
    if kind is dict:
        return lambda v: {k: to_json(x) for k, x in v.items()}
    if dataclasses.is_dataclass(kind):
        return _object_encoder(kind)
    if issubclass(kind, (list, tuple)):
        if hasattr(kind, "_fields") and all(map(_is_plain, _hints(kind).values())):
            return list             # a NamedTuple of scalars (AttemptId, OutputIdentity)
        defaults = getattr(kind, "_field_defaults", {})
        if hasattr(kind, "_fields") and None in defaults.values():
            return _named_tuple_encoder(kind)
        return lambda v: [x if type(x) in _PLAIN else to_json(x) for x in v]
    return lambda v: v


def _named_tuple_encoder(kind: type) -> Encode:
    """A NamedTuple with defaults (``Piece``) as a list without its trailing fields that
    are None by default and hold it: an optional field added later costs nothing where it
    is unused, and the shorter list still decodes."""
    optional = [kind._field_defaults.get(f, 0) is None        # type: ignore[attr-defined]
                for f in kind._fields]                         # type: ignore[attr-defined]

    def encode(value: Any) -> list[Any]:
        end = len(value)
        while end and optional[end - 1] and value[end - 1] is None:
            end -= 1
        return [x if type(x) in _PLAIN else to_json(x) for x in value[:end]]
    return encode


def _object_encoder(kind: type) -> Encode:
    """A dataclass as an object of its fields; a field annotated with a scalar type is
    taken as it is, and an empty container that is also the default is left out."""
    hints = _hints(kind)
    fields = [(f.name, _empty_by_default(f), _is_plain(hints.get(f.name)))
              for f in dataclasses.fields(kind)]

    def encode(value: Any) -> dict[str, Any]:
        out = {}
        for name, may_omit, plain in fields:
            v = getattr(value, name)
            if may_omit and not v:
                continue
            out[name] = v if plain else to_json(v)
        return out
    return encode


def _hints(kind: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(kind)
    except (NameError, TypeError):
        return {}                   # annotations that do not resolve: nothing is plain


def _is_plain(tp: Any) -> bool:
    """Whether a value annotated ``tp`` is already JSON (a scalar, or a choice of them)."""
    if tp in _PLAIN:
        return True
    origin = typing.get_origin(tp)
    if origin is Literal:
        return True
    return origin in (Union, types.UnionType) and all(_is_plain(a)
                                                       for a in typing.get_args(tp))


#: Field metadata key: leave the field out while it holds its (falsy) default.
OMIT_FALSY_DEFAULT = "zmr.jsonable.omit_falsy_default"


def omitted_when_default() -> dict[str, bool]:
    """Metadata of a scalar field left out of the JSON while it holds its falsy default
    (``Split.input``: 0 in all but jobs with several inputs, on each of 100k splits)."""
    return {OMIT_FALSY_DEFAULT: True}


def _empty_by_default(f: dataclasses.Field[Any]) -> bool:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory in (list, dict, tuple)
    if f.metadata.get(OMIT_FALSY_DEFAULT):
        return not f.default
    return isinstance(f.default, (tuple, list, dict)) and not f.default


def from_json(tp: Any, data: Any, where: str = "") -> Any:
    """``data`` (decoded JSON) as a value of type ``tp``; ShapeError if it is not one."""
    return converter(tp)(data, where or getattr(tp, "__name__", str(tp)))


@functools.cache
def converter(tp: Any) -> Convert:
    """The checking converter from JSON to ``tp`` (cached per type); its errors name the
    path from ``where``, the name of the whole value."""
    convert = _converter(tp)

    def named(v: Any, where: str) -> Any:
        try:
            return convert(v)
        except ShapeError as exc:
            raise exc.named(where) from None
    return named


# The converters below take the value alone: the path to it is put together only when
# something is wrong, each level adding its step as the error passes (an f-string per
# field of every message decoded was a fifth of the decoding time).
Check = Callable[[Any], Any]


@functools.cache
def _converter(tp: Any) -> Check:
    if tp is Any or tp is object:
        return _any
    if tp in _SCALARS:
        return _SCALARS[tp]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        return _union(args)
    if origin is Literal:
        return _literal(args)
    if origin in (list, tuple):
        return _sequence(origin, args)
    if origin is dict:
        return _mapping(_converter(args[1]) if args else _any)
    if isinstance(tp, type) and issubclass(tp, tuple) and hasattr(tp, "_fields"):
        return _named_tuple(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass(tp)
    raise TypeError(f"no JSON shape for {tp!r}")


def _any(v: Any) -> Any:
    return v


def _fail(expected: str, value: Any) -> ShapeError:
    return ShapeError(f"expected {expected}, got {type(value).__name__}")


def _int(v: Any) -> int:
    if type(v) is not int:
        raise _fail("int", v)
    # every integer a peer may send fits a signed 64-bit field (SQLite, numpy, Arrow)
    if not INT_MIN <= v <= INT_MAX:
        raise ShapeError(f"expected int of 64 bits, got one of {v.bit_length() + 1}")
    return v


def _float(v: Any) -> float:
    if type(v) is float:
        return v
    if type(v) is not int:
        raise _fail("float", v)
    # an int of 400 digits is valid JSON, but float() of it raises OverflowError
    if not -FLOAT_MAX <= v <= FLOAT_MAX:
        raise ShapeError(f"expected float, got an int of {len(str(abs(v)))} digits")
    return float(v)


def _str(v: Any) -> str:
    if type(v) is not str:
        raise _fail("str", v)
    return v


def _bool(v: Any) -> bool:
    if type(v) is not bool:
        raise _fail("bool", v)
    return v


def _none(v: Any) -> None:
    if v is not None:
        raise _fail("null", v)


_SCALARS: dict[Any, Check] = {int: _int, float: _float, str: _str, bool: _bool,
                              type(None): _none, None: _none}


def _union(args: tuple[Any, ...]) -> Check:
    options = [_converter(a) for a in args]
    names = " or ".join(getattr(a, "__name__", str(a)) for a in args)
    shapes = [(option, fields) for option, a in zip(options, args)
              if (fields := _field_names(a)) is not None]

    def convert(v: Any) -> Any:
        if type(v) is dict:
            # an object whose fields are those of exactly one of the dataclasses is that
            # one: its errors then say which field is wrong, not only "neither type"
            fits = [option for option, (known, required) in shapes
                    if required <= v.keys() <= known]
            if len(fits) == 1:
                return fits[0](v)
        for option in options:
            try:
                return option(v)
            except ShapeError:
                continue
        raise ShapeError(f"expected {names}, got {_describe(v)}")
    return convert


def _field_names(tp: Any) -> tuple[frozenset[str], frozenset[str]] | None:
    """A dataclass's field names and those of its required fields (None: not one)."""
    if not (isinstance(tp, type) and dataclasses.is_dataclass(tp)):
        return None
    fields = dataclasses.fields(tp)
    return (frozenset(f.name for f in fields),
            frozenset(f.name for f in fields if _required(f)))


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _literal(values: tuple[Any, ...]) -> Check:
    allowed = {(type(x), x) for x in values}      # with the type: True is not 1
    names = " or ".join(map(repr, values))

    def convert(v: Any) -> Any:
        if (type(v), v) not in allowed:
            raise ShapeError(f"expected {names}, got {_describe(v)}")
        return v
    return convert


def _describe(v: Any) -> str:
    if isinstance(v, dict):
        return "an object with fields " + ", ".join(sorted(map(str, v))[:8])
    if isinstance(v, str):
        return repr(v[:40])
    return type(v).__name__


def _sequence(origin: type, args: tuple[Any, ...]) -> Check:
    if origin is tuple and args and args[-1] is not Ellipsis:
        return _fixed_tuple([_converter(a) for a in args])
    item = _converter(args[0]) if args else _any

    def convert(v: Any) -> Any:
        if type(v) is not list:
            raise _fail("list", v)
        try:
            items = [item(x) for x in v]
        except ShapeError:
            raise _first_failure(zip(itertools.repeat(item), v)) from None
        return tuple(items) if origin is tuple else items
    return convert


def _first_failure(items: Iterable[tuple[Check, Any]]) -> ShapeError:
    """The error of the first item that fails, with its index (found again after a
    conversion of them all failed: errors are rare, and a loop that counts costs)."""
    for i, (convert, x) in enumerate(items):
        try:
            convert(x)
        except ShapeError as exc:
            return exc.at(f"[{i}]")
    raise AssertionError("a converter failed once and not again")


def _fixed_tuple(items: list[Check]) -> Check:
    def convert(v: Any) -> tuple[Any, ...]:
        if type(v) is not list or len(v) != len(items):
            raise _fail(f"list of {len(items)}", v)
        return tuple(_items(items, v))
    return convert


def _items(converters: list[Check], v: list[Any]) -> list[Any]:
    """``v``'s items, each by its own converter (``v`` is no longer than ``converters``)."""
    try:
        return [convert(x) for convert, x in zip(converters, v)]
    except ShapeError:
        raise _first_failure(zip(converters, v)) from None


def _mapping(value: Check) -> Check:
    def convert(v: Any) -> dict[str, Any]:
        if type(v) is not dict:
            raise _fail("object", v)
        out = {}
        for k, x in v.items():
            if type(k) is not str:
                raise _fail("str", k).at(" key")
            try:
                out[k] = value(x)
            except ShapeError as exc:
                raise exc.at(f"[{k!r}]") from None
        return out
    return convert


def _named_tuple(tp: type) -> Check:
    hints = typing.get_type_hints(tp)
    items = [_converter(hints[name]) for name in tp._fields]  # type: ignore[attr-defined]
    required = len(items) - len(tp._field_defaults)  # type: ignore[attr-defined]

    def convert(v: Any) -> Any:
        if type(v) is not list or not required <= len(v) <= len(items):
            raise _fail(f"list of {required}..{len(items)}", v)
        return tp(*_items(items, v))
    return convert


def _dataclass(tp: type) -> Check:
    hints = typing.get_type_hints(tp)
    fields = [(f.name, _converter(hints[f.name]), _required(f))
              for f in dataclasses.fields(tp)]
    names = frozenset(name for name, _, _ in fields)
    label = tp.__name__

    def convert(v: Any) -> Any:
        if type(v) is not dict:
            raise _fail(f"{label} object", v)
        if not v.keys() <= names:
            raise ShapeError(f"unknown fields {sorted(map(str, v.keys() - names))}")
        values = {}
        for name, convert_field, required in fields:
            if name in v:
                try:
                    values[name] = convert_field(v[name])
                except ShapeError as exc:
                    raise exc.at(f".{name}") from None
            elif required:
                raise ShapeError(f"missing field {name}")
        # a check across fields (__post_init__) raises a ShapeError naming its field
        return tp(**values)
    return convert


class JsonValue:
    """Mixin: ``to_dict()`` and ``from_dict()`` through the annotated shape."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return to_json(self)

    @classmethod
    def from_dict(cls, d: Any) -> Any:
        return from_json(cls, d)
