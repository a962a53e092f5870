"""Running a job's combiner over sorted map output, calling Python only where it must.

Hadoop's contract lets a combiner run any number of times on any subset of a key's values,
so a key with a single value skips it, and a key that straddles two batches of a merge may
be combined once in each. Only multi-value keys call the combiner; single values pass
through with vectorised takes, and the combiner's outputs are put back in key order by a
stable argsort of their keys' ranks. On unique-heavy output (bigrams) most keys are single.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from zmr.core.errors import JobContractError
from zmr.job.counters import Counters
from zmr.job.runtime import key_runs
from zmr.storage import codec
from zmr.tasks import accel

Combiner = Callable[[Any, Iterator[Any]], Any]


def call_combiner(combiner: Combiner, keys: Sequence[Any], groups: Iterable[Sequence[Any]],
                  ranks: Iterable[int]) -> tuple[list[int], list[Any]]:
    """Call ``combiner(keys[j], iter(groups[j]))`` for each j; return the rank (from
    ``ranks``) and value of every pair it yields. It must keep the key it was given, so
    its output stays sorted and in the same partition. The loop is
    ``accel.combine_groups`` (in C when built)."""
    return accel.combine_groups(combiner, keys, groups, ranks, check_same_key,
                                _refuse_pair)


def _refuse_pair(item: Any) -> None:
    raise JobContractError(f"combiner must yield (key, value) pairs, got {item!r}")


def check_same_key(key: Any, new: Any) -> None:
    if codec.encode_key(new) != codec.encode_key(key):
        raise JobContractError(f"combiner changed key {key!r} to {new!r}: a combiner "
                               "must yield pairs with the key it was given")


def in_rank_order(ranks: np.ndarray, column: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Sort rows by key rank, stably (a key's outputs keep their order)."""
    order = np.argsort(ranks, kind="stable")
    return ranks[order], column.take(pa.array(order))


def combine_batches(batches: Iterable[pa.RecordBatch], combiner: Combiner,
                    counters: Counters) -> Iterator[pa.RecordBatch]:
    """Combine a key-sorted batch stream batch by batch (the map side's final merge)."""
    for batch in batches:
        if batch.num_rows:
            counters.add("COMBINE_INPUT_RECORDS", batch.num_rows)
            out = _combine_batch(batch, combiner)
            counters.add("COMBINE_OUTPUT_RECORDS", out.num_rows)
            yield out


def _combine_batch(batch: pa.RecordBatch, combiner: Combiner) -> pa.RecordBatch:
    keys, name, column = batch.column("k"), batch.schema.names[1], batch.column(1)
    starts, ends = key_runs(keys)
    sizes = ends - starts
    multi = np.flatnonzero(sizes > 1)
    if not len(multi):
        return batch
    values = codec.decode_values(name, column.take(pa.array(np.flatnonzero(
        np.repeat(sizes > 1, sizes)))))
    bounds = np.concatenate(([0], np.cumsum(sizes[multi]))).tolist()
    out_ranks, out_values = call_combiner(
        combiner, codec.decode_keys(keys.take(pa.array(starts[multi]))),
        (values[a:b] for a, b in zip(bounds, bounds[1:])), multi.tolist())
    single = np.flatnonzero(sizes == 1)
    name, column = _concat_values((name, column.take(pa.array(starts[single]))),
                                  codec.encode_values(out_values))
    ranks, column = in_rank_order(
        np.concatenate((single, np.asarray(out_ranks, dtype=np.int64))), column)
    return pa.record_batch({"k": keys.take(pa.array(starts[ranks])), name: column})


def _concat_values(a: tuple[str, pa.Array], b: tuple[str, pa.Array]) -> tuple[str, pa.Array]:
    """Two value columns as one, in the generic encoding if their types differ."""
    if not len(b[1]):
        return a
    if not len(a[1]):
        return b
    if a[0] == b[0] and a[1].type == b[1].type:
        return a[0], pa.concat_arrays([a[1], b[1]])
    return codec.ENCODED_VALUES, pa.concat_arrays([codec.to_encoded_values(*a),
                                                    codec.to_encoded_values(*b)])
