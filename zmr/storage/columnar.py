"""Columnar sort keys: the memcomparable encoding of whole columns, without Python objects.

:func:`zmr.storage.codec.encode_key` encodes one key at a time. When a buffer's keys (and,
under ``SORT_VALUES``, its values) are all exactly ``bytes``, all ``str`` or all ``int``
within int64, the same bytes are built here with Arrow and numpy kernels:

* ``bytes`` -> ``0x40`` + body with ``0x00`` escaped as ``0x00 0xFF`` + ``0x00``
  (``str`` the same with tag ``0x30`` and the UTF-8 body; ``int`` -> ``0x14`` + 8 bytes);
* the secondary-sort composite ``(key, value)`` -> ``0x50`` + enc(key) + enc(value) + ``0x00``,
  whose group prefix is enc(key) itself, so no key is ever decoded to partition it.

The reduce side goes back the same way: :func:`user_keys` slices the key out of a column
of composites (its length follows from the value column beside it) and unescapes it in
bulk. Every function returns ``None`` for a shape it does not handle, and the caller falls
back to the scalar code, which stays the reference (the tests compare the two).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zmr.storage import codec

_TAGS = {"binary": codec.T_BYTES, "string": codec.T_STR}
# plain bytes, made Arrow scalars only in the kernel calls: pa.scalar imports pandas, which
# a client that only plans a job (and imports this module) should not pay for
_END, _NO_SEPARATOR = b"\x00", b""


# --------------------------------------------------------------------------- map side

def plain_column(items: Sequence[Any] | pa.Array) -> pa.Array | None:
    """Items that are all exactly bytes, all str or all int (within int64) as a ``binary``,
    ``string`` or ``int64`` Arrow column without nulls; anything else is None."""
    if isinstance(items, pa.ChunkedArray):
        items = items.combine_chunks()
    column = items if isinstance(items, pa.Array) else codec.typed_column(items)
    if column is None or len(column) == 0 or column.null_count:
        return None
    t = column.type
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return column.cast(pa.binary())
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return column.cast(pa.string())
    if pa.types.is_integer(t) and t != pa.uint64():
        return column.cast(pa.int64())
    return None


def encode_plain(column: pa.Array) -> pa.BinaryArray:
    """A :func:`plain_column` -> each item's ``codec.encode_key`` bytes, as one column."""
    if column.type == pa.int64():
        return _int64_keys(column)
    tag = _TAGS[str(column.type)]
    body = column.cast(pa.binary())
    if _has_zero(body):         # (a memchr-speed check: most text and records have none)
        body = pc.replace_substring(body, b"\x00", b"\x00\xff")
    return _joined(bytes((tag,)), body, _END)


def _joined(*parts: bytes | pa.Array) -> pa.BinaryArray:
    """Each row's parts back to back (bytes constants and binary columns): by numpy, as
    slices of one n x width array, when every column's rows have one width (TeraSort's
    keys and records: about 3x faster than Arrow's kernel); else ``binary_join``."""
    columns = [p for p in parts if isinstance(p, pa.Array)]
    n = len(columns[0])
    views: list[np.ndarray] = []
    for part in parts:
        if isinstance(part, bytes):
            views.append(np.frombuffer(part, dtype=np.uint8))
            continue
        offsets, data = _layout(part)
        rows = None if data is None or n == 0 else _equal_rows(data, offsets[:-1],
                                                               np.diff(offsets))
        if rows is None:
            return pc.binary_join_element_wise(*parts, _NO_SEPARATOR)
        views.append(rows)
    width = sum(v.shape[-1] for v in views)
    if n * width >= 1 << 31:            # beyond int32 offsets: let Arrow decide
        return pc.binary_join_element_wise(*parts, _NO_SEPARATOR)
    out = np.empty((n, width), dtype=np.uint8)
    at = 0
    for view in views:
        out[:, at:at + view.shape[-1]] = view
        at += view.shape[-1]
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.BinaryArray.from_buffers(pa.binary(), n,
                                       [None, pa.py_buffer(offsets), pa.py_buffer(out)])


def _has_zero(column: pa.Array) -> bool:
    """Whether any item of a binary column holds a 0x00 byte (which the codec escapes)."""
    offsets, data = _layout(column)
    if data is None or len(column) == 0 or offsets[-1] == offsets[0]:
        return False
    return bool(data[offsets[0]:offsets[-1]].min() == 0)


def _int64_keys(column: pa.Array) -> pa.BinaryArray:
    n = len(column)
    words = column.to_numpy(zero_copy_only=False).view(np.uint64) ^ np.uint64(1 << 63)
    rows = np.empty((n, 9), dtype=np.uint8)
    rows[:, 0] = codec.T_INT64
    rows[:, 1:] = words.astype(">u8").view(np.uint8).reshape(n, 8)
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(9), n, [None, pa.py_buffer(rows)])
    return fixed.cast(pa.binary())


def encode_pairs(encoded_keys: pa.Array, encoded_values: pa.Array) -> pa.BinaryArray:
    """Encoded keys and values -> the encoding of each ``(key, value)`` tuple."""
    return _joined(bytes((codec.T_TUPLE,)), encoded_keys, encoded_values, _END)


def sort_key_columns(keys: Sequence[Any] | pa.Array, values: Sequence[Any] | pa.Array,
                     sort_values: bool) -> tuple[pa.Array, pa.Array, pa.Array | Any] | None:
    """(encoded sort keys, their group prefixes, values) of a buffer when its keys (and
    values, if they are sorted too) have a plain shape; None otherwise. Under
    ``sort_values`` the values come back as their typed column."""
    key_column = plain_column(keys)
    if key_column is None:
        return None
    encoded_keys = encode_plain(key_column)
    if not sort_values:
        return encoded_keys, encoded_keys, values
    value_column = plain_column(values)
    if value_column is None or len(value_column) != len(encoded_keys):
        return None
    return _pair_keys(encoded_keys, value_column), encoded_keys, value_column


def _pair_keys(encoded_keys: pa.Array, value_column: pa.Array) -> pa.BinaryArray:
    """``encode_pairs(encoded_keys, encode_plain(value_column))``; for bytes or str values
    without a 0x00 (TeraSort's records) in one pass, without the values' encodings."""
    if value_column.type == pa.int64():
        return encode_pairs(encoded_keys, encode_plain(value_column))
    body = value_column.cast(pa.binary())
    if _has_zero(body):
        return encode_pairs(encoded_keys, encode_plain(value_column))
    tag = bytes((codec.T_TUPLE,)), bytes((_TAGS[str(value_column.type)],))
    return _joined(tag[0], encoded_keys, tag[1], body, _END + _END)


def sort_indices(column: pa.Array) -> np.ndarray:
    """``pc.sort_indices`` of a binary column (stable, bytewise), several times faster on
    keys that differ early: rows are first ordered by 8 bytes each (after the bytes every
    row shares, e.g. the tags of a ``(bytes, bytes)`` composite) read as one uint64 by
    numpy, then only the rows whose 8 bytes tie are sorted by Arrow on all their bytes, in
    row order (so equal keys keep it), and put back in their places (ties are contiguous
    and their groups already in order)."""
    n = len(column)
    offsets, data = _layout(column)
    if n < 2 or data is None:
        return np.arange(n)
    starts, lengths = offsets[:-1], np.diff(offsets)
    prefix = _leading_word(data, starts, lengths, _common_lead(data, starts, lengths))
    order = np.argsort(prefix)
    ranked = prefix[order]
    tied = np.zeros(n, dtype=bool)
    same = ranked[1:] == ranked[:-1]
    tied[1:] |= same
    tied[:-1] |= same
    places = np.flatnonzero(tied)
    if len(places):
        rows = np.sort(order[places])
        order[places] = rows[pc.sort_indices(column.take(pa.array(rows))).to_numpy()]
    return order


def _leading_word(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
                  skip: int) -> np.ndarray:
    """Bytes ``skip .. skip + 8`` of every row as a big-endian uint64 (zeros past its end:
    a shorter row then ties with a longer one and the tie is settled on all bytes)."""
    rows = _equal_rows(data, starts, lengths)
    if rows is not None and rows.shape[1] - skip >= 8:
        return np.ascontiguousarray(rows[:, skip:skip + 8]).view(">u8").ravel().astype(
            np.uint64)
    prefix = np.zeros(len(starts), dtype=np.uint64)
    base, room, last = starts + skip, lengths - skip, len(data) - 1
    for j in range(8):
        byte = data[np.minimum(base + j, last)].astype(np.uint64)
        byte[room <= j] = 0
        prefix |= byte << np.uint64(56 - 8 * j)
    return prefix


def _common_lead(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> int:
    """How many leading bytes every row has and shares (at most 8 are looked at)."""
    shortest = int(lengths.min())
    rows = _equal_rows(data, starts, lengths)
    for j in range(min(shortest, 8)):
        column = data[starts + j] if rows is None else rows[:, j]
        if np.any(column != column[0]):
            return j
    return min(shortest, 8)


def _equal_rows(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray
                ) -> np.ndarray | None:
    """The rows as an n x width view of ``data`` when they all have one width (fixed-length
    records: TeraSort's keys); None otherwise. Rows are contiguous in a binary column."""
    width = int(lengths[0])
    if not width or int(lengths.min()) != int(lengths.max()):
        return None
    first = int(starts[0])
    return data[first:first + width * len(starts)].reshape(len(starts), width)


# --------------------------------------------------------------------------- reduce side

def user_keys(sort_keys: pa.Array, value_name: str, values: pa.Array,
              sort_values: bool) -> pa.Array | None:
    """The keys as the job emitted them (a ``binary``, ``string`` or ``int64`` column) from
    a column of encoded sort keys: whole keys, or under ``sort_values`` the key inside each
    ``(key, value)`` composite. None when they are not all bytes, all str or all int64."""
    if len(sort_keys) == 0:
        return None
    if sort_keys.type != pa.binary():
        sort_keys = sort_keys.cast(pa.binary())
    offsets, data = _layout(sort_keys)
    starts, ends = offsets[:-1].copy(), offsets[1:].copy()
    if sort_values:
        tail = _encoded_lengths(value_name, values)
        if tail is None or data is None or np.any(data[starts] != codec.T_TUPLE):
            return None
        starts, ends = starts + 1, ends - 1 - tail     # drop the tuple tag, value and end
    if data is None or np.any(ends <= starts):
        return None
    tag = int(data[starts[0]])
    if np.any(data[starts] != tag):
        return None
    if tag == codec.T_INT64:
        return _int64_bodies(data, starts, ends)
    if tag not in (codec.T_BYTES, codec.T_STR):
        return None
    body = pc.replace_substring(_slices(data, starts + 1, ends - 1), b"\x00\xff", b"\x00")
    if tag == codec.T_BYTES:
        return body
    try:
        return body.cast(pa.string())     # lone surrogates (encoded with surrogatepass) fail
    except pa.ArrowInvalid:
        return None


def _encoded_lengths(value_name: str, values: pa.Array) -> np.ndarray | None:
    """Length of each value's encoding inside a composite (typed plain columns only)."""
    if value_name != codec.TYPED_VALUES or values.null_count:
        return None
    if values.type == pa.int64():
        return np.full(len(values), 9, dtype=np.int64)
    if values.type not in (pa.binary(), pa.string()):
        return None
    raw = values.cast(pa.binary())
    zeros = pc.count_substring(raw, b"\x00").to_numpy(zero_copy_only=False)
    lengths = pc.binary_length(raw).to_numpy(zero_copy_only=False)
    return 2 + lengths.astype(np.int64) + zeros.astype(np.int64)


def _layout(column: pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
    _, offsets_buf, data_buf = column.buffers()
    n = len(column)
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[column.offset:column.offset + n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else None
    return offsets.astype(np.int64), data


def _slices(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> pa.BinaryArray:
    """A binary column of ``data[starts[i]:ends[i]]``, gathered with one numpy take."""
    lengths = ends - starts
    offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    gather = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
    body = data[gather]
    return pa.BinaryArray.from_buffers(
        pa.binary(), len(starts),
        [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(body)])


def _int64_bodies(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> pa.Array | None:
    if np.any(ends - starts != 9):
        return None
    rows = data[starts[:, None] + np.arange(1, 9)]        # n x 8 big-endian words
    words = rows.copy().view(">u8").reshape(-1).astype(np.uint64) ^ np.uint64(1 << 63)
    return pa.array(words.view(np.int64))


class PairColumns:
    """One sorted batch of an identity reduce's output: its values as stored and its user
    keys decoded in bulk only when a writer asks (``fixed`` output never does)."""

    def __init__(self, batch: pa.RecordBatch, sort_values: bool) -> None:
        self.batch = batch
        self.sort_values = sort_values
        self.value_name = batch.schema.names[1]
        self._keys: pa.Array | None | bool = False      # False: not computed yet

    def __len__(self) -> int:
        return self.batch.num_rows

    def typed_values(self) -> pa.Array | None:
        """The value column when it is typed (one plain type), else None."""
        if self.value_name != codec.TYPED_VALUES:
            return None
        return self.batch.column(1)

    def keys(self) -> pa.Array | None:
        """The user keys as a binary, string or int64 column, or None for other shapes."""
        if self._keys is False:
            self._keys = user_keys(self.batch.column("k"), self.value_name,
                                   self.batch.column(1), self.sort_values)
        return self._keys

    def pairs(self) -> Any:
        """The (key, value) pairs as Python objects (the reference path)."""
        values = codec.decode_values(self.value_name, self.batch.column(1))
        keys = self.keys()
        if keys is not None:
            return zip(keys.to_pylist(), values)
        encoded = self.batch.column("k")
        if self.sort_values:
            return zip(map(codec.first_element, encoded.to_pylist()), values)
        return zip(codec.decode_keys(encoded), values)
