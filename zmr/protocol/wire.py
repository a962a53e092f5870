"""The frame layout of every zmr message, and the only code that encodes or decodes them.

A message is a ZeroMQ multipart message::

    frame 0   b"ZMR1"                 protocol name and version; anything else is refused
    frame 1   KIND                    e.g. b"ASSIGN" (see messages.py)
    frame 2   JSON object             the dataclass fields, UTF-8, at most MAX_PAYLOAD bytes
    frame 3.. blobs                   raw bytes (job code, shuffle data), at most MAX_BLOB each

(a ROUTER socket prepends the peer's identity frame, which the transport strips). Control
payloads are JSON and never unpickled. ``decode`` checks the version, the kind, every field's
presence and type, unknown fields and sizes, and raises :class:`ProtocolError` for anything
else; receivers log and drop such messages and count them.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from typing import Any, NamedTuple

from zmr.core.errors import ProtocolError
from zmr.protocol.messages import ALL_MESSAGES, Message

VERSION = b"ZMR1"
MAX_PAYLOAD = 16 << 20      # a job plan with a great many splits still fits
MAX_BLOB = 256 << 20        # job code or one shuffle chunk
MAX_FRAMES = 8
INT_MIN, INT_MAX = -(1 << 63), (1 << 63) - 1
_BY_KIND = {m.KIND: m for m in ALL_MESSAGES}
_SCALARS: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
}


class _Field(NamedTuple):
    name: str
    required: bool
    annotation: str
    check: Callable[[Any], bool]


def _checker(annotation: str) -> Callable[[Any], bool]:
    """The type check of one field, built once per message class (the hot messages are
    decoded thousands of times a second)."""
    base, _, inner = annotation.partition("[")
    if base == "int":
        # every integer a peer may send fits a signed 64-bit field (SQLite, numpy, Arrow)
        return lambda v: (isinstance(v, int) and not isinstance(v, bool)
                          and INT_MIN <= v <= INT_MAX)
    if base == "bool":
        return lambda v: isinstance(v, bool)
    if base in _SCALARS:
        types = _SCALARS[base]
        return lambda v: isinstance(v, types) and not isinstance(v, bool)
    if base == "list" and inner == "str]":
        return lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)
    if base in ("list", "dict"):
        container = list if base == "list" else dict
        return lambda v: isinstance(v, container)
    return lambda v: False


def _fields_of(cls: type[Message]) -> tuple[_Field, ...]:
    return tuple(_Field(f.name, f.default is dataclasses.MISSING
                        and f.default_factory is dataclasses.MISSING, str(f.type),
                        _checker(str(f.type))) for f in dataclasses.fields(cls))


_FIELDS = {m: _fields_of(m) for m in ALL_MESSAGES}
_NAMES = {m: frozenset(f.name for f in fields) for m, fields in _FIELDS.items()}
# made once: json.dumps / json.loads with options build a new encoder or decoder per call
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def encode(msg: Message, *blobs: bytes) -> list[bytes]:
    """A message (and optional blobs) -> frames."""
    fields = _FIELDS.get(type(msg)) or _fields_of(type(msg))
    payload = {f.name: getattr(msg, f.name) for f in fields}
    return [VERSION, msg.KIND, _ENCODER.encode(payload).encode(), *blobs]


def decode(frames: list[bytes]) -> tuple[Message, list[bytes]]:
    """Frames -> (message, blobs); raises ProtocolError for anything malformed."""
    if not 3 <= len(frames) <= MAX_FRAMES:
        raise ProtocolError(f"expected 3..{MAX_FRAMES} frames, got {len(frames)}")
    version, kind, payload, *blobs = (bytes(f) for f in frames)
    if version != VERSION:
        raise ProtocolError(f"unknown protocol version {version[:16]!r}")
    cls = _BY_KIND.get(kind)
    if cls is None:
        raise ProtocolError(f"unknown message kind {kind[:32]!r}")
    if len(payload) > MAX_PAYLOAD or any(len(b) > MAX_BLOB for b in blobs):
        raise ProtocolError(f"{kind.decode()} message too large")
    try:
        # strict UTF-8, as the format says: json.loads(bytes) would also take UTF-16/32
        # and let UTF-8-encoded lone surrogates through
        fields = _DECODER.decode(payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"{kind.decode()}: payload is not JSON: {exc}") from None
    except RecursionError:
        # a few kilobytes of "[[[[..." exhaust the parser's stack: refuse, never crash
        raise ProtocolError(f"{kind.decode()}: payload nested too deeply") from None
    _check_unicode(kind, payload, fields)
    return _build(cls, fields), blobs


def _check_unicode(kind: bytes, payload: bytes, fields: Any) -> None:
    """JSON may spell a lone UTF-16 surrogate (``"\\udf2f"``); such a str cannot be encoded,
    logged or stored, so it never gets in. Only payloads with a ``\\u`` escape of a
    surrogate are checked (our own encoder writes astral characters as surrogate pairs)."""
    if b"\\ud" not in payload.lower():
        return
    try:
        json.dumps(fields, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ProtocolError(f"{kind.decode()}: a string holds a lone surrogate") from None


def _finite(text: str) -> float:
    """JSON numbers only: 1e999 would become inf, which no field may hold."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:32]}")
    return value


def _not_json(name: str) -> Any:
    """Python's json accepts NaN and Infinity; the JSON standard (and zmr) does not."""
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_not_json)


def _build(cls: type[Message], fields: Any) -> Message:
    if not isinstance(fields, dict):
        raise ProtocolError(f"{cls.__name__}: payload must be a JSON object")
    if not fields.keys() <= _NAMES[cls]:
        unknown = sorted(fields.keys() - _NAMES[cls])
        raise ProtocolError(f"{cls.__name__}: unknown fields {unknown}")
    for f in _FIELDS[cls]:
        if f.name not in fields:
            if f.required:
                raise ProtocolError(f"{cls.__name__}: missing field {f.name}")
        elif not f.check(fields[f.name]):
            raise ProtocolError(f"{cls.__name__}.{f.name}: expected {f.annotation}, "
                                f"got {type(fields[f.name]).__name__}")
    return cls(**fields)
