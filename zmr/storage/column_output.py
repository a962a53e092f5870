"""Output written straight from Arrow columns (an identity reduce's merged batches).

A :class:`zmr.storage.formats.PairWriter` may have a ``write_columns(batches)`` method
taking :class:`zmr.storage.columnar.PairColumns`; :func:`write_columns` calls it, or the
writer's per-pair ``write``. Each writer stays byte-identical to its ``write``:

* ``fixed``: a binary value column's data buffer *is* the output, written in one call;
* text: ``key<TAB>value`` lines joined by an Arrow kernel when keys are str and values str
  or int (``format_field`` writes both as Arrow's cast does), ``value`` and ``key`` lines
  likewise; other types need JSON and keep the per-pair path;
* Parquet and CSV: tables cut into the same 16,384-row chunks as ``write`` makes, built
  from the columns when every column of the chunk has a type that ``write`` would have
  made the same column of (see ``formats._column``); a chunk with any other batch is
  made of Python pairs as before.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zmr.storage.columnar import PairColumns

_TAB, _NEWLINE, _NOTHING = "\t", "\n", ""


def write_columns(writer: Any, batches: Iterable[PairColumns]) -> tuple[int, int]:
    """Write an identity reduce's batches with ``writer``: its columnar method if it has
    one, else its ``write`` over the batches' Python pairs."""
    method = getattr(writer, "write_columns", None)
    if method is not None:
        return method(batches)
    return writer.write(python_pairs(batches))


def python_pairs(batches: Iterable[PairColumns]) -> Iterator[tuple[Any, Any]]:
    return itertools.chain.from_iterable(b.pairs() for b in batches)


def fixed_bytes(batch: PairColumns) -> pa.Buffer | None:
    """The ``fixed`` output of a batch whose values are all bytes: the bytes of its value
    column back to back (a slice of the column's data buffer)."""
    values = batch.typed_values()
    if values is None or values.type != pa.binary() or values.null_count:
        return None
    return _data_span(values)


def _data_span(column: pa.Array) -> pa.Buffer:
    """The bytes of a binary or string column's items back to back (no copy)."""
    _, offsets_buf, data = column.buffers()
    if len(column) == 0 or data is None:
        return pa.py_buffer(b"")
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)
    first, last = int(offsets[column.offset]), int(offsets[column.offset + len(column)])
    return data.slice(first, last - first)


def text_lines(batch: PairColumns) -> str | None:
    """``key<TAB>value\\n`` for every pair of a batch of str keys and str or int values."""
    values = batch.typed_values()
    if values is None or values.null_count or values.type not in (pa.string(), pa.int64()):
        return None                     # (a batch mapper's nulls are written as "null")
    keys = batch.keys()
    if keys is None or keys.type != pa.string():
        return None
    lines = pc.binary_join_element_wise(keys, _TAB, values.cast(pa.string()), _NEWLINE,
                                        _NOTHING)
    return _data_span(lines).to_pybytes().decode("utf-8")


def field_lines(column: pa.Array | None) -> str | None:
    """One line per item of a str or int column (``value`` and ``key`` output)."""
    if column is None or column.null_count or column.type not in (pa.string(), pa.int64()):
        return None
    lines = pc.binary_join_element_wise(column.cast(pa.string()), _NEWLINE, _NOTHING)
    return _data_span(lines).to_pybytes().decode("utf-8")


def table_chunks(batches: Iterable[PairColumns], size: int, types: tuple[pa.DataType, ...]
                 ) -> Iterator[tuple[pa.Array, pa.Array] | list[tuple[Any, Any]]]:
    """Consecutive chunks of ``size`` rows (the last shorter): as (keys, values) columns
    when every piece of the chunk has key and value columns of one of ``types`` (the same
    for all pieces), else as a list of Python pairs."""
    pieces: list[PairColumns] = []
    filled = 0
    for batch in batches:
        start = 0
        while start < len(batch):
            take = min(size - filled, len(batch) - start)
            pieces.append(PairColumns(batch.batch.slice(start, take), batch.sort_values))
            start, filled = start + take, filled + take
            if filled == size:
                yield _chunk(pieces, types)
                pieces, filled = [], 0
    if pieces:
        yield _chunk(pieces, types)


def _chunk(pieces: list[PairColumns], types: tuple[pa.DataType, ...]
           ) -> tuple[pa.Array, pa.Array] | list[tuple[Any, Any]]:
    keys = [p.keys() for p in pieces]
    values = [p.typed_values() for p in pieces]
    plain = [c for c in keys + values
             if c is not None and c.null_count == 0 and c.type in types]
    key_columns, value_columns = plain[:len(keys)], plain[len(keys):]
    if len(plain) == 2 * len(pieces) and len({k.type for k in key_columns}) == 1 and (
            len({v.type for v in value_columns}) == 1):
        return pa.concat_arrays(key_columns), pa.concat_arrays(value_columns)
    return list(python_pairs(pieces))
