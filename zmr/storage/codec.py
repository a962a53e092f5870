"""Keys and values <-> Arrow arrays.

Keys are stored as one ``binary`` column in an *order-preserving* ("memcomparable") encoding:
comparing two encoded keys byte by byte gives the same answer as comparing the keys in zmr's
total order, which is *by type, then value*::

    None < bool < int < float < str < bytes < tuple < list < any other picklable object

So one Arrow sort kernel sorts keys of any mix of types, equal keys have equal bytes (grouping
is a byte comparison) and the partition hash is a hash of those bytes, identical in every
process and on every host. The layout follows FoundationDB's tuple layer: a tag byte, then
the payload; strings and bytes escape ``0x00`` as ``0x00 0xFF`` and end with ``0x00`` so that
nested tuples still compare element by element.

Values need no order, so a homogeneous batch of str/bytes/int/float/bool/None values is kept
as a typed Arrow column ``v``; anything else (tuples, lists, mixed types, big ints, objects) is
a ``v_enc`` column in the same tagged encoding as keys. Only objects outside those types are
pickled, and only inside that fallback tag.

The functions named ``*_py`` are the reference implementation; when zmr's C extension was
built (and ``ZMR_PURE_PYTHON`` is not set) ``encode_key``, ``decode_key``, ``element_end``,
``first_element`` and the bulk paths of generic keys and values run its C twin
(zmr/_codec.c), byte-identical, and call back into the Python functions here only for the
unusual cases (ints beyond int64, subclasses, numpy scalars, pickled objects). ``select``
switches between the two (the tests run both).
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zmr.core.speedups import compiled

T_NONE, T_FALSE, T_TRUE = 0x01, 0x02, 0x03
T_NEG_BIG, T_INT64, T_POS_BIG = 0x10, 0x14, 0x18
T_FLOAT = 0x20
T_STR, T_BYTES = 0x30, 0x40
T_TUPLE, T_LIST = 0x50, 0x51
T_PICKLE = 0x7F

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
_SIGN_BIT = 1 << 63
_END = b"\x00"
TRUNCATED = "truncated encoded key"

#: Value column names: a typed column, or the generic tagged encoding.
TYPED_VALUES, ENCODED_VALUES = "v", "v_enc"
_TYPED = {str: pa.string(), bytes: pa.binary(), int: pa.int64(), float: pa.float64(),
          bool: pa.bool_(), type(None): pa.null()}


# --------------------------------------------------------------------------- scalar encoding

def _escape(raw: bytes) -> bytes:
    return raw.replace(b"\x00", b"\x00\xff") + _END


def _encode_int(k: int) -> bytes:
    if INT64_MIN <= k <= INT64_MAX:
        return bytes((T_INT64,)) + ((k + _SIGN_BIT) & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
    magnitude = abs(k).to_bytes((abs(k).bit_length() + 7) // 8, "big")
    if k > 0:
        return bytes((T_POS_BIG, len(magnitude))) + magnitude
    # Bigger magnitudes must sort first among negatives: invert length and bytes.
    return bytes((T_NEG_BIG, 255 - len(magnitude))) + bytes(255 - b for b in magnitude)


def _encode_float(k: float) -> bytes:
    if k != k:                    # every NaN groups together, after +inf
        k = float("nan")
    elif k == 0.0:                # -0.0 == 0.0 in Python, so they must be one key
        k = 0.0
    (bits,) = struct.unpack(">Q", struct.pack(">d", k))
    bits = bits ^ 0xFFFFFFFFFFFFFFFF if bits & _SIGN_BIT else bits | _SIGN_BIT
    return bytes((T_FLOAT,)) + bits.to_bytes(8, "big")


def encode_key_py(k: Any) -> bytes:
    """One key -> its memcomparable bytes."""
    t = type(k)
    if t is str:
        return b"\x30" + _escape(k.encode("utf-8", "surrogatepass"))
    if t is int:
        return _encode_int(k)
    if k is None:
        return b"\x01"
    if t is bool:
        return b"\x03" if k else b"\x02"
    if t is float:
        return _encode_float(k)
    if t is bytes:
        return b"\x40" + _escape(k)
    if t is tuple or t is list:
        tag = b"\x50" if t is tuple else b"\x51"
        return tag + b"".join(map(encode_key_py, k)) + _END
    return _encode_subclass_or_pickle(k)


def _encode_slow(k: Any) -> bytes:
    """What the C encoder hands back to Python: ints beyond int64 and any other type."""
    return _encode_int(k) if type(k) is int else _encode_subclass_or_pickle(k)


#: Types whose subclasses' keys are stored as the plain base type (IntEnum as int, ...).
_PLAIN_BASES: tuple[type[Any], ...] = (bool, int, float, str, bytes, tuple, list)


def _encode_subclass_or_pickle(k: Any) -> bytes:
    if isinstance(k, np.generic):   # numpy scalars are keys like the Python values they hold
        return encode_key(k.item())
    for base in _PLAIN_BASES:
        if isinstance(k, base):   # e.g. numpy.str_, IntEnum: store as the plain base type
            return encode_key(base(k))
    return b"\x7f" + _escape(pickle.dumps(k, protocol=5))


# --------------------------------------------------------------------------- scalar decoding

def decode_key_py(data: bytes) -> Any:
    """Inverse of :func:`encode_key`."""
    value, end = _decode_checked(data, 0)
    if end != len(data):
        raise ValueError(f"trailing bytes after encoded key at {end}")
    return value


def element_end_py(data: bytes, pos: int) -> int:
    """Where the encoded key starting at ``pos`` ends (e.g. one element inside a tuple)."""
    return _decode_checked(data, pos)[1]


def first_element_py(data: bytes) -> Any:
    """The first element of an encoded tuple or list, decoded alone."""
    return _decode_checked(data, 1)[0]


def _decode_checked(data: bytes, pos: int) -> tuple[Any, int]:
    """``_decode_at``, failing with one ValueError on data that ends too early."""
    try:
        value, end = _decode_at(data, pos)
    except IndexError:
        raise ValueError(TRUNCATED) from None
    if end > len(data):
        raise ValueError(TRUNCATED)
    return value, end


def _unescape_at(data: bytes, pos: int) -> tuple[bytes, int]:
    out = bytearray()
    while True:
        end = data.find(b"\x00", pos)
        if end < 0:
            raise ValueError(TRUNCATED)
        out += data[pos:end]
        if end + 1 < len(data) and data[end + 1] == 0xFF:
            out += b"\x00"
            pos = end + 2
        else:
            return bytes(out), end + 1


def _decode_at(data: bytes, pos: int) -> tuple[Any, int]:
    tag = data[pos]
    pos += 1
    if tag == T_STR:
        raw, pos = _unescape_at(data, pos)
        return raw.decode("utf-8", "surrogatepass"), pos
    if tag == T_INT64:
        return int.from_bytes(data[pos:pos + 8], "big") - _SIGN_BIT, pos + 8
    if tag in (T_NONE, T_FALSE, T_TRUE):
        return (None, False, True)[tag - T_NONE], pos
    if tag == T_FLOAT:
        bits = int.from_bytes(data[pos:pos + 8], "big")
        bits = bits ^ _SIGN_BIT if bits & _SIGN_BIT else bits ^ 0xFFFFFFFFFFFFFFFF
        return struct.unpack(">d", bits.to_bytes(8, "big"))[0], pos + 8
    if tag == T_BYTES:
        return _unescape_at(data, pos)
    if tag in (T_TUPLE, T_LIST):
        return _decode_sequence(data, pos, tag)
    if tag in (T_POS_BIG, T_NEG_BIG):
        return _decode_big_int(data, pos, tag)
    if tag == T_PICKLE:
        raw, pos = _unescape_at(data, pos)
        return pickle.loads(raw), pos
    raise ValueError(f"unknown key tag 0x{tag:02x}")


def _decode_sequence(data: bytes, pos: int, tag: int) -> tuple[Any, int]:
    items = []
    while data[pos] != 0:
        item, pos = _decode_at(data, pos)
        items.append(item)
    return (tuple(items) if tag == T_TUPLE else items), pos + 1


def _decode_big_int(data: bytes, pos: int, tag: int) -> tuple[int, int]:
    if tag == T_POS_BIG:
        n = data[pos]
        return int.from_bytes(data[pos + 1:pos + 1 + n], "big"), pos + 1 + n
    n = 255 - data[pos]
    magnitude = bytes(255 - b for b in data[pos + 1:pos + 1 + n])
    return -int.from_bytes(magnitude, "big"), pos + 1 + n


# --------------------------------------------------------------------------- bulk keys

def encode_keys(keys: Sequence[Any]) -> pa.BinaryArray:
    """Many keys -> a binary array; homogeneous str/int keys take a vectorised path."""
    kinds = set(map(type, keys))
    if kinds == {str}:
        return _wrap(pa.array(keys, pa.string()).cast(pa.binary()), b"\x30", escape=True)
    if kinds == {int}:
        try:
            ints = np.fromiter(keys, dtype=np.int64, count=len(keys))
        except OverflowError:
            return encoded_array(keys)
        return _fixed_width_keys(T_INT64, (ints.view(np.uint64) ^ np.uint64(_SIGN_BIT)))
    return encoded_array(keys)


def _wrap(raw: pa.Array, tag: bytes, escape: bool) -> pa.BinaryArray:
    if escape:
        raw = pc.replace_substring(raw, b"\x00", b"\x00\xff")
    return pc.binary_join_element_wise(pa.scalar(tag), raw, pa.scalar(_END), pa.scalar(b""))


def _fixed_width_keys(tag: int, words: np.ndarray) -> pa.BinaryArray:
    n = len(words)
    rows = np.empty((n, 9), dtype=np.uint8)
    rows[:, 0] = tag
    rows[:, 1:] = words.astype(">u8").view(np.uint8).reshape(n, 8)
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(9), n, [None, pa.py_buffer(rows)])
    return fixed.cast(pa.binary())


def decode_keys(encoded: pa.Array) -> list[Any]:
    """A binary array of encoded keys -> Python keys (vectorised when all are plain str)."""
    if len(encoded) == 0:
        return []
    tags = pc.binary_slice(encoded, 0, 1)
    if pc.all(pc.equal(tags, pa.scalar(b"\x30"))).as_py():
        body = pc.binary_slice(encoded, 1, -1)
        body = pc.replace_substring(body, b"\x00\xff", b"\x00")
        return body.cast(pa.string()).to_pylist()
    return decoded_list(encoded)


# --------------------------------------------------------------------------- bulk values

def typed_column(values: Sequence[Any]) -> pa.Array | None:
    """Objects of one plain type (exactly str, bytes, int, float, bool or None) as a typed
    Arrow column, else None.

    The exact-type check comes first because Arrow's typed conversion coerces (bytes to
    string, 2.5 to 2), and it is cheaper than Arrow's own type inference.
    """
    kinds = set(map(type, values))
    if len(kinds) != 1:
        return pa.nulls(0) if not values else None
    arrow_type = _TYPED.get(next(iter(kinds)))
    if arrow_type is None:
        return None
    try:
        return pa.array(values, arrow_type)
    except (OverflowError, pa.ArrowInvalid, UnicodeEncodeError):
        return None     # ints beyond int64, lone surrogates: the generic encoding keeps them


def encode_values(values: Sequence[Any]) -> tuple[str, pa.Array]:
    """Values -> (column name, array): typed when homogeneous, else the tagged encoding."""
    column = typed_column(values)
    if column is not None:
        return TYPED_VALUES, column
    return ENCODED_VALUES, encoded_array(values)


def arrow_values(column: pa.Array) -> tuple[str, pa.Array]:
    """An Arrow value column (from a batch mapper) -> (column name, array) as stored."""
    t = column.type
    if t in (pa.string(), pa.binary(), pa.int64(), pa.float64(), pa.bool_(), pa.null()):
        return TYPED_VALUES, column
    if pa.types.is_large_string(t) or pa.types.is_large_binary(t):
        return TYPED_VALUES, column.cast(pa.string() if pa.types.is_large_string(t)
                                         else pa.binary())
    if pa.types.is_integer(t) and t != pa.uint64():
        return TYPED_VALUES, column.cast(pa.int64())
    if pa.types.is_floating(t):
        return TYPED_VALUES, column.cast(pa.float64())
    return encode_values(column.to_pylist())


def decode_values(name: str, column: pa.Array) -> list[Any]:
    """Inverse of :func:`encode_values`."""
    if name == ENCODED_VALUES:
        return decoded_list(column)
    return column.to_pylist()


def to_encoded_values(name: str, column: pa.Array) -> pa.Array:
    """Re-express any value column in the generic encoding (to concatenate mixed batches)."""
    if name == ENCODED_VALUES:
        return column
    return encoded_array(column.to_pylist())


# --------------------------------------------------------------------------- C or Python

def encoded_array(items: Sequence[Any]) -> pa.BinaryArray:
    """Objects -> a binary array of their encodings (in C straight into Arrow's buffers)."""
    if _C is not None:
        try:
            offsets, data = _C.encode_many(items)
        except OverflowError:         # beyond int32 offsets: let Arrow chunk it
            pass
        else:
            return pa.Array.from_buffers(pa.binary(), len(items),
                                         [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    return pa.array([encode_key(k) for k in items], pa.binary())


def decoded_list(column: pa.Array) -> list[Any]:
    """A binary array of encodings -> the objects (in C from Arrow's buffers, with no
    bytes object per row)."""
    rows = _rows(column)
    if rows is None:
        return [decode_key(v) for v in column.to_pylist()]
    return _C.decode_many(*rows)


def group_prefix_runs(column: pa.Array, skip: bool, group_by: int) -> np.ndarray | None:
    """In C, the rows of sorted encoded keys where their group prefix changes (ordering.py's
    ``KeyOrder.group_prefix``: ``skip`` the value of a ``(key, value)``, ``group_by``
    elements); None without the C codec."""
    rows = _rows(column)
    if rows is None:
        return None
    return np.frombuffer(_C.prefix_run_starts(*rows, skip, group_by), dtype=np.int64)


def group_prefixes(column: pa.Array, skip: bool, group_by: int) -> pa.BinaryArray | None:
    """In C, the group prefix of every encoded key, as a binary array; None without it."""
    rows = _rows(column)
    if rows is None:
        return None
    offsets, data = _C.group_prefixes(*rows, skip, group_by)
    return pa.Array.from_buffers(pa.binary(), len(column),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _rows(column: pa.Array) -> tuple[Any, Any, int, int] | None:
    """A binary array as the C functions read it (its buffers, first row and length), or
    None when the C codec is off or cannot read it."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if _C is None or column.null_count or column.type != pa.binary() or not len(column):
        return None
    _, offsets, data = column.buffers()
    return offsets, b"" if data is None else data, column.offset, len(column)


def speedups() -> Any:
    """The C extension when the compiled codec is in use, else None."""
    return _C


def select(speedups: Any) -> None:
    """Use the C codec of module ``speedups`` (``zmr._speedups``), or the Python one when
    it is None; done once at import, and by the tests, which run both."""
    global _C, COMPILED, encode_key, decode_key, element_end, first_element
    _C, COMPILED = speedups, speedups is not None
    if speedups is None:
        encode_key, decode_key = encode_key_py, decode_key_py
        element_end, first_element = element_end_py, first_element_py
        return
    speedups.codec_setup(_encode_slow, _decode_at)
    encode_key, decode_key = speedups.encode_key, speedups.decode_key
    element_end, first_element = speedups.element_end, speedups.first_element


_C: Any = None
#: True when the C codec is in use; the functions are bound by ``select``.
COMPILED = False
encode_key: Callable[[Any], bytes] = encode_key_py
decode_key: Callable[[bytes], Any] = decode_key_py
element_end: Callable[[bytes, int], int] = element_end_py
first_element: Callable[[bytes], Any] = first_element_py
select(compiled(needs="Groups"))   # not an older build's, without the codec
