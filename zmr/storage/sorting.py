"""Sorting map output by (partition, key) and k-way merging sorted runs, with Arrow kernels.

``SortedPairs`` turns a buffer of Python ``(key, value)`` pairs into one table sorted by
partition, then key. It works on *distinct* keys: the key column is dictionary-encoded, only
the distinct keys are encoded, hashed and sorted, and the records are then ordered by the rank
of their key with a stable numpy argsort. Word-count-like output has few distinct keys per
buffer, so the per-record cost is a few vectorised passes.

``merge_sorted`` merges sorted batch streams batch-wise: each round takes, from every input's
current batch, the rows whose key is <= the smallest key the inputs offer (each its row
``round_rows / inputs``, or its last), and sorts just those (stably, inputs in order). The
input that offered that key always gives up to it, so every round makes progress; memory
stays at one batch per input, and a round at about ``round_rows`` rows (``merge_round_rows``
of the memory budget).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zmr.core.errors import JobContractError
from zmr.storage import codec, columnar
from zmr.storage.ipc import BATCH_ROWS
from zmr.storage.ordering import KeyOrder
from zmr.storage.partition import partition_ids

Partitioner = Callable[[Any, int], int]


@dataclass(frozen=True)
class KeyColumn:
    """Keys as an Arrow column that can be dictionary-encoded, and how to encode its values.

    ``raw`` is a ``string`` or ``int64`` column for homogeneous str/int keys (the fast path),
    otherwise a ``binary`` column that already holds every key's encoding.
    """

    raw: pa.Array
    pre_encoded: bool

    def encode(self, distinct: pa.Array) -> pa.Array:
        """The memcomparable encodings of ``distinct`` keys (built as columns: a str or int
        column never becomes Python objects here; see ``columnar.encode_plain``)."""
        if self.pre_encoded:
            return distinct
        return columnar.encode_plain(distinct) if len(distinct) else codec.encode_keys([])

    def take(self, indices: pa.Array) -> KeyColumn:
        return KeyColumn(self.raw.take(indices), self.pre_encoded)


def key_column(keys: list[Any] | pa.Array) -> KeyColumn:
    """Keys that are all exactly str (or all int within int64) stay a typed column and are
    encoded only once distinct; any other mix is encoded key by key."""
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    raw = keys if isinstance(keys, pa.Array) else codec.typed_column(keys)
    if raw is not None and raw.null_count == 0:
        if pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type):
            return KeyColumn(raw.cast(pa.string()), False)
        if pa.types.is_integer(raw.type) and raw.type != pa.uint64():
            return KeyColumn(raw.cast(pa.int64()), False)
    python_keys = keys.to_pylist() if isinstance(keys, pa.Array) else keys
    return KeyColumn(codec.encoded_array(python_keys), True)


class SortedPairs:
    """A buffer of pairs ordered by (partition, key), held as distinct keys + a permutation.

    ``encoded[i]``/``partitions[i]`` describe the i-th distinct key in sorted order and
    ``bounds[i]:bounds[i+1]`` its rows in the sorted record order ``perm``. Values stay a
    Python list (record path) or an Arrow array (batch path) until written.
    """

    def __init__(self, keys: KeyColumn, values: list[Any] | pa.Array, num_partitions: int,
                 partitioner: Partitioner | None = None, distinct: bool = False,
                 order: KeyOrder | None = None) -> None:
        """``distinct``: the caller knows no key repeats (a grouped buffer's keys), so the
        dictionary-encoding pass that finds the distinct keys is skipped. ``order``: how
        sort keys are partitioned when not plainly by hash (secondary sort, total order)."""
        if distinct:
            unique, codes = keys.raw, None
        else:
            dictionary = pc.dictionary_encode(keys.raw)
            unique, codes = dictionary.dictionary, dictionary.indices.to_numpy()
        encoded = keys.encode(unique)
        if order is None or order.plain:
            parts = _partitions(encoded, num_partitions, partitioner)
        else:
            parts = order.partitions(encoded, num_partitions, partitioner, checked_partition)
        ranked = _partition_key_order(encoded, parts)
        if codes is None:
            self.perm, self.bounds = ranked, np.arange(len(ranked) + 1)
        else:
            self.perm, self.bounds = _record_order(ranked, codes)
        self.encoded = encoded.take(pa.array(ranked))
        self.partitions = parts[ranked]
        self._raw_distinct = None if keys.pre_encoded else unique.take(pa.array(ranked))
        self.values = values
        self.num_partitions = num_partitions

    def python_keys(self, indices: np.ndarray | None = None) -> list[Any]:
        """The distinct keys (or those at ``indices``), as Python objects, in sorted order."""
        take = (lambda a: a) if indices is None else (lambda a: a.take(pa.array(indices)))
        if self._raw_distinct is None:
            return codec.decode_keys(take(self.encoded))
        return take(self._raw_distinct).to_pylist()

    def sorted_values(self) -> list[Any]:
        """All values, in sorted record order."""
        return _pick(self.values, self.perm)

    def partition_ranges(self) -> list[tuple[int, int]]:
        """For each partition, the range of distinct-key indices that belong to it."""
        cuts = np.searchsorted(self.partitions, np.arange(self.num_partitions + 1))
        return [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:])]

    def table(self, lo: int, hi: int) -> pa.Table:
        """The rows of distinct keys ``lo:hi`` as a (k, value) table, one row per record."""
        rows = self.perm[self.bounds[lo]:self.bounds[hi]]
        counts = np.diff(self.bounds[lo:hi + 1])
        keys = self.encoded.take(pa.array(np.repeat(np.arange(lo, hi), counts)))
        if isinstance(self.values, pa.Array):
            name, column = codec.arrow_values(self.values.take(pa.array(rows)))
        else:
            name, column = codec.encode_values(_pick(self.values, rows))
        return pa.table({"k": keys, name: column})


def _partition_key_order(encoded: pa.Array, parts: np.ndarray) -> np.ndarray:
    """Indices ordering distinct keys by (partition, key): a one-column Arrow sort by key,
    then a stable numpy sort by partition (half the time of a two-column table sort)."""
    by_key = columnar.sort_indices(encoded)        # Arrow's stable bytewise order, faster
    by_part = parts[by_key]
    if len(by_part) and by_part.max() < 65536:    # numpy sorts <= 16-bit ints by radix
        by_part = by_part.astype(np.uint16)
    return by_key[np.argsort(by_part, kind="stable")]


def _record_order(order: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Records (their distinct-key ``codes``) in the order of ``order``: the permutation,
    and where each distinct key's records start and end in it."""
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    record_rank = rank[codes]
    if len(order) < 65536:      # numpy's stable sort is a radix sort for <= 16-bit ints
        record_rank = record_rank.astype(np.uint16)
    perm = np.argsort(record_rank, kind="stable")
    counts = np.bincount(record_rank, minlength=len(order))
    return perm, np.concatenate(([0], np.cumsum(counts)))


def _pick(values: list[Any] | pa.Array, rows: np.ndarray) -> list[Any]:
    if isinstance(values, pa.Array):
        numeric = pa.types.is_integer(values.type) or pa.types.is_floating(values.type)
        if numeric and values.null_count == 0:
            # numpy's tolist makes Python ints/floats several times faster than to_pylist
            return values.to_numpy()[rows].tolist()
        return values.take(pa.array(rows)).to_pylist()
    if len(rows) < 2:
        return [values[i] for i in rows.tolist()]
    return list(itemgetter(*rows.tolist())(values))


def _partitions(distinct: pa.Array, num_partitions: int,
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
        raise JobContractError(f"partitioner returned {p!r} for key {key!r}; it must return "
                               f"an int in 0..{num_partitions - 1}")
    return int(p)


# --------------------------------------------------------------------------- columnar runs

def sorted_run_tables(encoded: pa.Array, prefixes: pa.Array, values: list[Any] | pa.Array,
                      num_partitions: int, order: KeyOrder) -> Iterator[pa.Table]:
    """One sorted (k, value) table per partition from a buffer's encoded sort keys
    (:func:`zmr.storage.columnar.sort_key_columns`), with no Python object per record;
    made one at a time, so only one partition's sorted copy is held beside the buffer.

    Records are sorted by their sort keys (stably, ``columnar.sort_indices``). Under total
    order a partition is a range of group prefixes, and prefixes are monotonic in the sort
    key (an encoding is never a proper prefix of another), so the partition starts are
    found by binary search of the cut points among the sorted records; otherwise they are
    hashed (FNV-1a of the prefix, as ``KeyOrder.partitions``) and ordered by a stable
    radix sort.
    """
    perm = columnar.sort_indices(encoded)
    if order.total_order:
        starts = _range_starts(_KeyView(prefixes, perm), order.cuts, num_partitions)
    else:
        parts = partition_ids(prefixes, num_partitions)[perm]
        by_part = np.argsort(parts.astype(np.uint16) if num_partitions < 65536 else parts,
                             kind="stable")
        perm, parts = perm[by_part], parts[by_part]
        starts = np.searchsorted(parts, np.arange(num_partitions + 1))
    for lo, hi in zip(starts[:-1].tolist(), starts[1:].tolist()):
        rows = perm[lo:hi]
        if isinstance(values, pa.Array):
            name, column = codec.arrow_values(values.take(pa.array(rows)))
        else:
            name, column = codec.encode_values(_pick(values, rows))
        yield pa.table({"k": encoded.take(pa.array(rows)), name: column})


def _range_starts(sorted_prefixes: Sequence[bytes], cuts: tuple[bytes, ...],
                  num_partitions: int) -> np.ndarray:
    """Where each partition starts among sorted prefixes: record i belongs to partition
    ``min(bisect_right(cuts, prefix_i), num_partitions - 1)``, so partition r + 1 starts at
    the first prefix >= ``cuts[r]`` (cut points are strictly increasing)."""
    n = len(sorted_prefixes)
    starts = [0]
    for r in range(num_partitions - 1):
        starts.append(bisect.bisect_left(sorted_prefixes, cuts[r], lo=starts[-1])
                      if r < len(cuts) else n)
    starts.append(n)
    return np.array(starts, dtype=np.int64)


# --------------------------------------------------------------------------- merging

class _KeyView(Sequence[bytes]):
    """Lets ``bisect`` search an Arrow binary column (in the order of ``perm`` if given)
    without converting all of it."""

    def __init__(self, column: pa.Array, perm: np.ndarray | None = None) -> None:
        self.column = column
        self.perm = perm

    def __len__(self) -> int:
        return len(self.column)

    def __getitem__(self, i: int) -> bytes:  # type: ignore[override]
        row = i if self.perm is None else int(self.perm[i])
        return self.column[row].as_py()


#: Estimated bytes one open merge input holds (one decoded batch).
INPUT_BUFFER_BYTES = BATCH_ROWS * 64
MAX_MERGE_FACTOR = 100


#: Bytes a merged row costs downstream once decoded (a key string, a value, list slots).
ROUND_ROW_BYTES = 128


def merge_factor(memory_budget: int) -> int:
    """How many inputs one merge pass may open within the memory budget."""
    return max(2, min(MAX_MERGE_FACTOR, memory_budget // INPUT_BUFFER_BYTES))


def merge_round_rows(memory_budget: int) -> int:
    """Rows per merge round: an eighth of the budget once decoded, 1 to 4 batches (a round
    costs fixed work per input and per batch downstream, so not smaller than it must)."""
    return max(BATCH_ROWS, min(4 * BATCH_ROWS, memory_budget // 8 // ROUND_ROW_BYTES))


def merge_sorted(sources: Sequence[Iterator[pa.RecordBatch]],
                 round_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Merge key-sorted batch streams into one key-sorted stream (stable: source order).

    A round's output is about ``round_rows`` rows however many inputs there are: each
    input offers its first ``round_rows / inputs`` rows, and the round takes every row up to
    the smallest key offered (all of them from the input that offered it, so each round
    makes progress). Rounds up to the inputs' last keys would hold a batch per input twice
    over (pieces and their sorted copy), and the decoded Python objects of all of them
    downstream: 21 inputs made rounds of 340k rows, 10x what the merge factor counted."""
    heads: list[tuple[int, pa.RecordBatch, Iterator[pa.RecordBatch]]] = []
    for i, src in enumerate(sources):
        batch = _next_nonempty(src)
        if batch is not None:
            heads.append((i, batch, src))
    while heads:
        step = max(1, round_rows // len(heads)) - 1
        bound = min(h[1].column("k")[min(step, h[1].num_rows - 1)].as_py() for h in heads)
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
    table = pa.Table.from_batches(unify_value_columns(pieces)).combine_chunks()
    # stable: earlier sources first
    indices = columnar.sort_indices(table.column("k").chunk(0))
    return table.take(pa.array(indices)).to_batches()[0]


def unify_value_columns(batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
    """Give every batch the same value column, falling back to the generic encoding."""
    schemas = {b.schema for b in batches}
    if len(schemas) <= 1:
        return batches
    return [pa.record_batch({"k": b.column("k"),
                             codec.ENCODED_VALUES: codec.to_encoded_values(
                                 b.schema.names[1], b.column(1))}) for b in batches]
