"""Partitioned Arrow IPC files: the on-disk form of map outputs and spilled sorted runs.

One file per map attempt (not one per partition): with thousands of map tasks and hundreds of
reducers, one file per partition would mean hundreds of thousands of small files, inodes and
``open`` calls; Hadoop's ``file.out`` + ``file.out.index`` made the same choice. The file is a
concatenation of independent Arrow IPC *streams*, one per reduce partition, so that:

* a partition is one contiguous byte range (``offset``, ``length``) that the shuffle can send
  as raw bytes and the reducer can open with ``pyarrow.ipc.open_stream`` -- zero-copy when the
  file is local (memory-mapped);
* each partition carries its own schema, so value column types may differ between partitions;
* a CRC-32 per partition, recorded in the task's manifest, lets any reader detect corruption.

Every stream holds batches with columns ``k`` (memcomparable keys, sorted) and either ``v``
(typed values) or ``v_enc`` (generically encoded values); see :mod:`zmr.storage.codec`.
Files are written in place, with no temporary name and rename: every file here belongs to
one attempt (its name says which), nothing reads it before the attempt reports it done, and
what proves a map output complete is its index, written after it (``map_task.py``). On this
kind of disk a rename costs as much as a small task's whole work.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from zmr.core.errors import DataCorruptionError
from zmr.core.specs import PartitionIndexEntry

#: Rows per record batch written; bounds the memory a k-way merge holds per input.
BATCH_ROWS = 16384


class _CrcFile:
    """A write-only file object that keeps a running CRC-32 and byte count of what passes."""

    def __init__(self, raw: Any) -> None:     # a binary file or an Arrow output stream
        self.raw = raw
        self.crc = 0
        self.size = 0
        self.closed = False

    def write(self, data: object) -> int:
        view = memoryview(data)  # type: ignore[arg-type]
        self.crc = zlib.crc32(view, self.crc)
        self.size += view.nbytes
        return self.raw.write(view)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True   # the underlying file outlives each partition's stream


class PartitionedWriter:
    """Writes partitions 0..R-1 in order into one file; ``close()`` returns the index."""

    def __init__(self, path: str, num_partitions: int, compression: str = "none") -> None:
        self.path = path
        self.num_partitions = num_partitions
        # Arrow compresses each buffer; readers decompress transparently
        self._options = pa.ipc.IpcWriteOptions(
            compression=None if compression == "none" else compression)
        self._file = open(path, "wb")  # noqa: SIM115 - closed in close()/abort()
        self._index: list[PartitionIndexEntry] = []

    def write_partition(self, batches: Iterable[pa.RecordBatch]) -> PartitionIndexEntry:
        """Write the next partition from sorted batches (an empty iterable is allowed), in
        batches of ``BATCH_ROWS`` rows: a reader pays a fixed cost per batch, and a merge
        whose combiner shrank its rounds would otherwise write many small ones."""
        offset = self._file.tell()
        sink = _CrcFile(self._file)
        writer: pa.ipc.RecordBatchStreamWriter | None = None
        schema: pa.Schema | None = None
        rows = 0
        for batch in _full_batches(batches):
            if writer is not None and batch.schema != schema:
                # Values changed type mid-partition (ints, then floats, then a mix): an IPC
                # stream has one schema, so start another; read_segment reads them all.
                writer.close()
                writer = None
            if writer is None:
                schema = batch.schema
                writer = pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), schema,
                                           options=self._options)
            writer.write_batch(batch)
            rows += batch.num_rows
        if writer is not None:
            writer.close()
        entry = PartitionIndexEntry(offset, sink.size, rows, sink.crc)
        self._index.append(entry)
        return entry

    def close(self) -> tuple[PartitionIndexEntry, ...]:
        while len(self._index) < self.num_partitions:
            self.write_partition(())
        # No fsync: a map output is intermediate data, as in Hadoop. A process crash leaves
        # it whole in the page cache; a machine crash may tear it, and then the CRC-32 and
        # length in its index fail the fetch and the map runs again. The fsync cost a
        # millisecond per task, the largest share of a small task's cost.
        self._file.close()
        return tuple(self._index)

    def abort(self) -> None:
        self._file.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


def _full_batches(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The rows of ``batches`` in order, as batches of ``BATCH_ROWS`` (the last one of each
    run of one schema may be shorter)."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        if not batch.num_rows:
            continue
        if pending and batch.schema != pending[0].schema:
            yield pa.concat_batches(pending)
            pending, held = [], 0
        pending.append(batch)
        held += batch.num_rows
        if held >= BATCH_ROWS:
            whole = pending[0] if len(pending) == 1 else pa.concat_batches(pending)
            cut = held - held % BATCH_ROWS
            for start in range(0, cut, BATCH_ROWS):
                yield whole.slice(start, BATCH_ROWS)
            pending, held = ([whole.slice(cut)], held - cut) if held > cut else ([], 0)
    if pending:
        yield pending[0] if len(pending) == 1 else pa.concat_batches(pending)


#: Bytes read at a time while a segment's CRC-32 is checked.
CHECK_PIECE = 1 << 20


def read_segment(path: str, offset: int, length: int, crc32: int,
                 what: str = "") -> Iterator[pa.RecordBatch]:
    """Stream the batches of one partition, after checking its CRC-32.

    Both the check and the reading go through the file a piece at a time, so a task's memory
    stays at one piece or one batch per open segment however large the segment (a memory
    map would be zero-copy, but every page it touches stays in the task's resident set until
    the segment is done: a 200 MB partition would cost 200 MB of RSS).
    """
    if length == 0:
        return iter(())
    try:
        intact = segment_intact(path, offset, length, crc32)
    except OSError as exc:
        raise DataCorruptionError(f"cannot read {what or path}: {exc}") from exc
    if not intact:
        raise DataCorruptionError(
            f"checksum mismatch in {what or path} (bytes {offset}..{offset + length}): "
            "the intermediate file is corrupt or truncated")
    return read_streams(path, offset, offset + length)


def segment_intact(path: str, offset: int, length: int, crc32: int) -> bool:
    """Whether ``length`` bytes at ``offset`` of ``path`` are there and have the CRC-32
    ``crc32``, read a piece at a time (OSError if the file cannot be read)."""
    with open(path, "rb") as f:
        f.seek(offset)
        crc, left = 0, length
        while left:
            piece = f.read(min(CHECK_PIECE, left))
            if not piece:
                break
            crc, left = zlib.crc32(piece, crc), left - len(piece)
    return not left and crc == crc32


def read_streams(path: str, start: int, end: int) -> Iterator[pa.RecordBatch]:
    """The batches of one or more IPC streams written back to back in ``start:end``."""
    with pa.OSFile(path, "r") as source:
        source.seek(start)
        while source.tell() < end:
            yield from pa.ipc.open_stream(source)
