"""The frame layout of every zmr message, and the only code that encodes or decodes them.

A message is a ZeroMQ multipart message::

    frame 0   b"ZMR2"                 protocol name and version; anything else is refused
    frame 1   KIND                    e.g. b"ASSIGN" (see messages.py)
    frame 2   JSON object             the dataclass fields, UTF-8, at most MAX_PAYLOAD bytes
    frame 3.. blobs                   raw bytes (job code, shuffle data), at most MAX_BLOB each,
                                      only for the kinds that carry them (``MAX_BLOBS``)

(a ROUTER socket prepends the peer's identity frame, which the transport strips). Control
payloads are JSON and never unpickled. ``decode`` checks the version, the kind, every field's
presence and type (nested specs, results, plans and ids to the last field), unknown fields
and sizes, and raises :class:`ProtocolError` for anything else; receivers log and drop such
messages and count them.

Version 2 (``ZMR2``) carries attempts as ``AttemptId`` lists and specs, results and plans
as their typed shapes; every peer comes from one install, so a peer of another version is
refused as one of an unknown version rather than read in a shape it does not have.
"""

from __future__ import annotations

import json
import math
from collections.abc import Hashable
from typing import Any, cast

from zmr.core.errors import ProtocolError
from zmr.core.jsonable import ShapeError, converter, to_json
from zmr.protocol.messages import ALL_MESSAGES, Message

VERSION = b"ZMR2"
MAX_PAYLOAD = 16 << 20      # a job plan with a great many splits still fits
MAX_BLOB = 256 << 20        # job code or one shuffle chunk
MAX_FRAMES = 8
_BY_KIND = {m.KIND: m for m in ALL_MESSAGES}


# (the cast: mypy takes a dataclass's instance __hash__ for its class's, python/mypy#11470)
_CONVERT = {m: converter(cast(Hashable, m)) for m in ALL_MESSAGES}
# made once: json.dumps / json.loads with options build a new encoder or decoder per call
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def encode(msg: Message, *blobs: bytes) -> list[bytes]:
    """A message (and optional blobs) -> frames."""
    return [VERSION, msg.KIND, _ENCODER.encode(to_json(msg)).encode(), *blobs]


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
    if len(blobs) > cls.MAX_BLOBS:
        raise ProtocolError(f"{kind.decode()} carries {len(blobs)} blobs, at most "
                            f"{cls.MAX_BLOBS} allowed")
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
    """Every field checked against its annotation, nested specs and ids included
    (:mod:`zmr.core.jsonable`), so a handler gets a fully typed message or none."""
    if not isinstance(fields, dict):
        raise ProtocolError(f"{cls.__name__}: payload must be a JSON object")
    try:
        return _CONVERT[cls](fields, cls.__name__)
    except ShapeError as exc:
        raise ProtocolError(str(exc)) from None
