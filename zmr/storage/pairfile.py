"""Pair files: a step's output read back, as Python objects, by the next step of a job.

An intermediate step of a multi-step job (``STEPS``) writes its part files as Arrow IPC
streams of ``(key, value)`` pairs, in the shuffle's own encoding (:mod:`zmr.storage.codec`):
column ``k`` holds memcomparable keys, ``v`` typed values or ``v_enc`` tagged ones. The next
step's mapper so gets every pair exactly as the reducer yielded it (ints stay ints, tuples
stay tuples) without formatting and parsing text. Pairs are kept in the order they were
written; when the value type changes a new stream starts, as in map output files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from zmr.storage import codec
from zmr.storage.ipc import read_streams

#: Pairs encoded into one record batch.
BATCH_PAIRS = 16384


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (the last may be shorter; none is empty)."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class PairFileWriter:
    """Appends pairs to a pair file; ``write`` returns (records, bytes written so far)."""

    def __init__(self, path: str, compression: str = "none") -> None:
        self.path = path
        self._options = pa.ipc.IpcWriteOptions(
            compression=None if compression == "none" else compression)
        self._file = pa.OSFile(path, "wb")
        self._stream: pa.ipc.RecordBatchStreamWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, pairs: Iterable[tuple[Any, Any]]) -> tuple[int, int]:
        start = self._file.tell()
        records = sum(self._write_batch(chunk) for chunk in batched(pairs, BATCH_PAIRS))
        return records, self._file.tell() - start

    def _write_batch(self, pairs: list[tuple[Any, Any]]) -> int:
        keys, values = zip(*pairs, strict=True)
        name, column = codec.encode_values(values)
        batch = pa.record_batch({"k": codec.encode_keys(keys), name: column})
        if self._stream is not None and self._schema != batch.schema:
            self._stream.close()          # one schema per IPC stream: start another
            self._stream = None
        if self._stream is None:
            self._schema = batch.schema
            self._stream = pa.ipc.new_stream(self._file, batch.schema, options=self._options)
        self._stream.write_batch(batch)
        return len(pairs)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
        self._file.close()


def iter_pair_batches(path: str) -> Iterator[tuple[list[Any], list[Any]]]:
    """``(keys, values)`` (parallel lists of Python objects) per batch of a pair file."""
    for batch in read_streams(path, 0, os.path.getsize(path)):
        keys = codec.decode_keys(batch.column("k"))
        yield keys, codec.decode_values(batch.schema.names[1], batch.column(1))
