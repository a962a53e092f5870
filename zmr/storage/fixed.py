"""Fixed-length binary records: ``INPUT_FORMAT = "fixed:N"`` (e.g. TeraSort's 100 bytes).

A file is a sequence of N-byte records with nothing between them, so a split is a byte
range whose start and length are multiples of N (the split size is rounded down to one)
and every record belongs to exactly one split without any scanning for separators. The
mapper gets ``((path, byte offset), record)`` with the record as ``bytes``; a ``map_batch``
job gets batches of them as an Arrow ``binary`` column (:func:`iter_fixed_columns`). A file whose
size is not a multiple of N is an error naming the file, at planning (or, for a gzip/bz2
file, whose size is known only once read, when its last record is cut short).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import IO

import numpy as np
import pyarrow as pa

from zmr.core.errors import BadInputError, InputError
from zmr.core.formats import record_size  # noqa: F401  (re-exported with the reader)
from zmr.core.specs import Piece, Split

#: Records handed to the mapper per batch.
BATCH_RECORDS = 4096


def fixed_pieces(path: str, size: int, split_size: int, record: int,
                 compressed: bool) -> list[tuple[Piece, int | None]]:
    """A file's pieces, aligned to its records (see :func:`zmr.storage.splits.plan_splits`
    for the weights)."""
    if compressed:
        return [(Piece(path, 0, size, True), None)]
    if size % record:
        raise InputError(f"{path}: {size} bytes is not a whole number of {record}-byte "
                         f"records (INPUT_FORMAT = \"fixed:{record}\"): {size % record} "
                         "bytes left over")
    step = max(record, split_size // record * record)
    if size < step:
        return [(Piece(path, 0, size), size)]
    full, tail = divmod(size, step)
    pieces: list[tuple[Piece, int | None]] = [
        (Piece(path, i * step, step), None) for i in range(full)]
    if tail:
        pieces.append((Piece(path, full * step, tail), tail))
    return pieces


def iter_fixed_records(split: Split, record: int, opened: AbstractContextManager[IO[bytes]]
                       ) -> Iterator[tuple[list[int], list[bytes]]]:
    """Batches ``(byte offsets, records)`` of one (unpacked) split; ``opened`` is the
    split's file as :func:`zmr.storage.splits._open` gives it (decompressed if need be)."""
    for pos, data in _chunks(split, record, opened, record * BATCH_RECORDS):
        size = len(data)
        # built by C-level map/range (no Python frame per record): about twice as fast
        cuts = map(slice, range(0, size, record), range(record, size + record, record))
        yield list(range(pos, pos + size, record)), list(map(data.__getitem__, cuts))


def iter_fixed_columns(split: Split, record: int, opened: AbstractContextManager[IO[bytes]],
                       chunk_bytes: int) -> Iterator[tuple[np.ndarray, pa.BinaryArray]]:
    """Batches ``(byte offsets, records)`` of one (unpacked) split as columns, for a
    ``map_batch`` job: the records are a ``binary`` Arrow column over the bytes as they
    were read (no copy, no Python object per record), about ``chunk_bytes`` at a time."""
    chunk = record * max(BATCH_RECORDS, chunk_bytes // record)
    for pos, data in _chunks(split, record, opened, chunk):
        n = len(data) // record
        offsets = np.arange(0, (n + 1) * record, record, dtype=np.int32)
        column = pa.BinaryArray.from_buffers(
            pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
        yield np.arange(pos, pos + n * record, record, dtype=np.int64), column


def _chunks(split: Split, record: int, opened: AbstractContextManager[IO[bytes]],
            chunk: int) -> Iterator[tuple[int, bytes]]:
    """(byte offset, bytes) of whole records, ``chunk`` bytes at a time (less at the end)."""
    with opened as f:
        pos = 0 if split.whole else split.start
        if pos:
            f.seek(pos)
        end = None if split.whole else split.end
        while end is None or pos < end:
            data = f.read(chunk if end is None else min(chunk, end - pos))
            if not data:
                break
            if len(data) % record:
                cut = pos + len(data) // record * record
                raise BadInputError(f"{split.path}: the record at byte {cut} is cut short "
                                 f"({len(data) % record} of {record} bytes; "
                                 f"INPUT_FORMAT = \"fixed:{record}\")")
            yield pos, data
            pos += len(data)
