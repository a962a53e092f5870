"""Sorting map output by (partition, key) and k-way merging sorted runs, with Arrow kernels.

``sort_pairs`` turns a buffer of Python ``(key, value)`` pairs into one table sorted by
partition, then key. It works on *distinct* keys: the key column is dictionary-encoded, only
the distinct keys are encoded, hashed and sorted, and the records are then ordered by the rank
of their key with a stable numpy argsort. Word-count-like output has few distinct keys per
buffer, so the per-record cost is a few vectorised passes.

``merge_sorted`` merges sorted batch streams batch-wise: each round takes, from every input's
current batch, the rows whose key is <= the smallest "last key" among them, and sorts just
those (stably, inputs in order). The input owning that smallest last key is always used up,
so every round makes progress, and memory stays at one batch per input.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zmr.storage import codec
from zmr.storage.partition import partition_ids

Partitioner = Callable[[Any, int], int]


def sort_pairs(keys: list[Any], values: list[Any], num_partitions: int,
               partitioner: Partitioner | None = None) -> tuple[np.ndarray, pa.Table]:
    """Sort pairs by (partition, key); returns (partition of each row, table of k and v)."""
    raw, encode_distinct = _raw_key_column(keys)
    dictionary = pc.dictionary_encode(raw)
    distinct_raw, codes = dictionary.dictionary, dictionary.indices.to_numpy()
    distinct = encode_distinct(distinct_raw)
    distinct_parts = _partitions(distinct, distinct_raw, num_partitions, partitioner)
    order = pc.sort_indices(pa.table({"p": distinct_parts, "k": distinct}),
                            [("p", "ascending"), ("k", "ascending")]).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    record_rank = rank[codes]
    if len(order) < 65536:          # numpy's stable sort is a radix sort for <= 16-bit ints
        record_rank = record_rank.astype(np.uint16)
    perm = np.argsort(record_rank, kind="stable")
    sorted_codes = pa.array(codes[perm])
    name, vals = codec.encode_values(values)
    table = pa.table({"k": distinct.take(sorted_codes), name: vals.take(pa.array(perm))})
    return distinct_parts[codes[perm]], table


def _raw_key_column(keys: list[Any]) -> tuple[pa.Array, Callable[[pa.Array], pa.Array]]:
    """Keys as an Arrow column that can be dictionary-encoded, and how to encode its values."""
    kinds = set(map(type, keys))
    if kinds == {str}:
        return pa.array(keys, pa.string()), lambda d: codec.encode_keys(d.to_pylist())
    if kinds == {int}:
        try:
            return pa.array(keys, pa.int64()), lambda d: codec.encode_keys(d.to_pylist())
        except OverflowError:
            pass
    encoded = pa.array([codec.encode_key(k) for k in keys], pa.binary())
    return encoded, lambda d: d


def _partitions(distinct: pa.Array, distinct_raw: pa.Array, num_partitions: int,
                partitioner: Partitioner | None) -> np.ndarray:
    if partitioner is None:
        return partition_ids(distinct, num_partitions)
    python_keys = codec.decode_keys(distinct)
    return np.array([checked_partition(partitioner, k, num_partitions) for k in python_keys],
                    dtype=np.int32)


def checked_partition(partitioner: Partitioner, key: Any, num_partitions: int) -> int:
    """Call a user partitioner and insist on an int in range (a bad one must not lose data)."""
    p = partitioner(key, num_partitions)
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, np.integer)) or not (
            0 <= p < num_partitions):
        raise ValueError(f"partitioner returned {p!r} for key {key!r}; it must return an int "
                         f"in 0..{num_partitions - 1}")
    return int(p)


def split_by_partition(parts: np.ndarray, table: pa.Table,
                       num_partitions: int) -> list[pa.Table]:
    """Slice a (partition, key)-sorted table into one table per partition."""
    bounds = np.searchsorted(parts, np.arange(num_partitions + 1), side="left")
    return [table.slice(int(a), int(b - a)) for a, b in zip(bounds[:-1], bounds[1:])]


# --------------------------------------------------------------------------- merging

class _KeyView(Sequence[bytes]):
    """Lets ``bisect`` search an Arrow binary column without converting all of it."""

    def __init__(self, column: pa.Array) -> None:
        self.column = column

    def __len__(self) -> int:
        return len(self.column)

    def __getitem__(self, i: int) -> bytes:  # type: ignore[override]
        return self.column[i].as_py()  # type: ignore[no-any-return]


def merge_sorted(sources: Sequence[Iterator[pa.RecordBatch]]) -> Iterator[pa.RecordBatch]:
    """Merge key-sorted batch streams into one key-sorted stream (stable: source order)."""
    heads: list[tuple[int, pa.RecordBatch, Iterator[pa.RecordBatch]]] = []
    for i, src in enumerate(sources):
        batch = _next_nonempty(src)
        if batch is not None:
            heads.append((i, batch, src))
    while heads:
        bound = min(h[1].column("k")[-1].as_py() for h in heads)
        pieces, next_heads = [], []
        for i, batch, src in heads:
            cut = bisect.bisect_right(_KeyView(batch.column("k")), bound)
            if cut:
                pieces.append(batch.slice(0, cut))
            rest = batch.slice(cut) if cut < batch.num_rows else _next_nonempty(src)
            if rest is not None:
                next_heads.append((i, rest, src))
        heads = next_heads
        yield _sorted_concat(pieces)


def _next_nonempty(src: Iterator[pa.RecordBatch]) -> pa.RecordBatch | None:
    for batch in src:
        if batch.num_rows:
            return batch
    return None


def _sorted_concat(pieces: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(pieces) == 1:
        return pieces[0]
    table = pa.Table.from_batches(unify_value_columns(pieces))
    indices = pc.sort_indices(table, [("k", "ascending")])  # stable: earlier sources first
    return table.take(indices).combine_chunks().to_batches()[0]


def unify_value_columns(batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
    """Give every batch the same value column, falling back to the generic encoding."""
    schemas = {b.schema for b in batches}
    if len(schemas) <= 1:
        return batches
    return [pa.record_batch({"k": b.column("k"),
                             codec.ENCODED_VALUES: codec.to_encoded_values(
                                 b.schema.names[1], b.column(1))}) for b in batches]
