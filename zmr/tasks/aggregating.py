"""Built-in aggregations run column-wise (``REDUCE = "sum"``, ``COMBINER = "sum"``).

What each built-in computes is defined in Python in zmr/job/aggregations.py; this module
computes the same thing without a Python call per key or per value:

* a spill's values are put in runs of equal keys (a grouped buffer's already are; else a
  stable sort of their distinct-key codes) and each run becomes one *partial* by the numpy
  kernels of zmr/tasks/aggregation_kernels.py (``np.add.reduceat`` and friends):
  ``spill_partials``;
* sorted runs of partials are merged by the same kernels, at the map side's final merge
  (``combined_partials``) and in the reduce task (``reduced_pairs``). A key may straddle
  two batches of a merge, so each batch's last partial is carried into the next.

Values that no typed column holds (ints beyond int64, mixed types, tuples, nulls) and a few
float corner cases where numpy and Python disagree (NaN and -0.0 for min/max/collect_set)
take the Python definition instead, batch by batch, so the answer is always Python's.

Float sums equal Python's ``sum`` over the same values in the same order: the reduce side
adds each key's partials one after another (Python 3.11's ``sum`` is a plain left-to-right
loop; where ``sum`` is compensated, as from 3.12, it is called per key instead). Map-side
partials group a key's values into per-spill sums first, as any combiner does, so with a
combiner the last bits of a float sum may differ from one Python reducer over all values.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zmr.core.errors import JobContractError
from zmr.job.aggregations import NUMBERS, Aggregation, as_pair
from zmr.job.counters import Counters
from zmr.job.runtime import key_runs
from zmr.storage import codec
from zmr.storage.sorting import KeyColumn, unify_value_columns
from zmr.tasks.aggregation_kernels import (
    MERGES,
    PLAIN,
    has_nan_or_negative_zero,
    lift_column,
    mean_struct,
)

TYPED = codec.TYPED_VALUES
_NUMERIC = (pa.int64(), pa.float64(), pa.bool_())


# --------------------------------------------------------------------------- map side

def spill_partials(agg: Aggregation, keys: KeyColumn, values: list[Any] | pa.Array,
                   lengths: np.ndarray | None = None) -> tuple[KeyColumn, str, pa.Array]:
    """One partial per distinct key of a spill: (distinct keys, value column name, column).
    ``lengths``: the keys are distinct already (a grouped buffer's), ``lengths[i]`` values
    each, in ``values`` one key after another. The values are put in runs of equal keys
    (a stable sort of the key codes: each key's values keep their order) and merged by the
    same kernels as sorted partials."""
    if lengths is None:
        encoded = pc.dictionary_encode(keys.raw)
        distinct = KeyColumn(encoded.dictionary, keys.pre_encoded)
        codes = encoded.indices.to_numpy()
        counts = np.bincount(codes, minlength=len(encoded.dictionary))
    else:
        distinct, counts = keys, np.asarray(lengths, dtype=np.int64)
        codes = np.repeat(np.arange(len(counts)), counts)
    name, column = _value_column(values)
    if name == TYPED and column is not None and _vectorisable(agg, column,
                                       lambda i: _key(distinct.raw[int(codes[i])])):
        if lengths is None:
            column = column.take(pa.array(np.argsort(codes, kind="stable")))
        ends = np.cumsum(counts)
        merged = MERGES[agg.name](lift_column(agg, column), ends - counts, ends)
        if merged is not None:
            return distinct, TYPED, merged
    python_values = values if isinstance(values, list) else codec.decode_values(name, column)
    return _python_partials(agg, distinct, codes, python_values)


_NUMPY_TYPES = {int: np.int64, float: np.float64, bool: np.bool_}


def grouped_values(lists: list[Any], count: int) -> list[Any] | pa.Array:
    """A grouped buffer's values (one key's after another) as one column, without a list of
    them all when they are all ints, floats or bools (word count's ones)."""
    kinds = set(map(type, itertools.chain.from_iterable(lists)))
    dtype = _NUMPY_TYPES.get(next(iter(kinds))) if len(kinds) == 1 else None
    if dtype is not None:
        try:
            return pa.array(np.fromiter(itertools.chain.from_iterable(lists), dtype=dtype,
                                        count=count))
        except OverflowError:
            pass                        # ints beyond int64: Python's ints, below
    return list(itertools.chain.from_iterable(lists))


def _value_column(values: list[Any] | pa.Array) -> tuple[str, pa.Array | None]:
    if isinstance(values, pa.Array):
        return codec.arrow_values(values)
    column = codec.typed_column(values)
    return (TYPED, column) if column is not None else (codec.ENCODED_VALUES, None)


def _key(raw: pa.Scalar) -> Any:
    value = raw.as_py()
    return codec.decode_key(value) if isinstance(value, bytes) and raw.type == pa.binary() \
        else value


def _vectorisable(agg: Aggregation, column: pa.Array, key_of: Callable[[int], Any]) -> bool:
    """Whether numpy/Arrow give Python's answer on these values; refuses (naming the key,
    the value and the setting) values of one type the built-in cannot take."""
    if column.null_count or column.type not in PLAIN:
        return False
    if agg.needs == NUMBERS and column.type not in _NUMERIC:
        raise JobContractError(agg.refusal(key_of(0), column[0].as_py()))
    if agg.name in ("min", "max", "collect_set") and column.type == pa.float64():
        return not has_nan_or_negative_zero(column.to_numpy())
    return True


def _python_partials(agg: Aggregation, distinct: KeyColumn, codes: np.ndarray,
                     values: list[Any]) -> tuple[KeyColumn, str, pa.Array]:
    """The Python definition, for values no typed column holds: one partial per key."""
    groups: dict[int, list[Any]] = {}
    for code, value in zip(codes.tolist(), values):
        groups.setdefault(code, []).append(value)
    partials = [agg.merge_checked(_key(distinct.raw[code]), vs, lifted=False)
                for code, vs in groups.items()]
    name, column = encode_partials(agg, partials)
    return distinct.take(pa.array(list(groups), pa.int64())), name, column


def encode_partials(agg: Aggregation, partials: list[Any]) -> tuple[str, pa.Array]:
    """Partials made in Python as a column: typed (a struct for mean, lists for collect)
    where they are of one plain type, so the next merge is vectorised again."""
    if agg.name == "mean":
        sums = codec.typed_column([s for s, _ in partials])
        if sums is not None and sums.type in (pa.int64(), pa.float64()):
            return TYPED, mean_struct(sums, pa.array([c for _, c in partials], pa.int64()))
    elif agg.name in ("collect_list", "collect_set"):
        flat = codec.typed_column(list(itertools.chain.from_iterable(partials)))
        if flat is not None and flat.type in PLAIN:
            bounds = np.concatenate(([0], np.cumsum([len(p) for p in partials])))
            return TYPED, pa.ListArray.from_arrays(pa.array(bounds.astype(np.int32)), flat)
    return codec.encode_values(partials)


def combined_partials(batches: Iterable[pa.RecordBatch], agg: Aggregation,
                      counters: Counters) -> Iterator[pa.RecordBatch]:
    """The map side's final merge: key-sorted partials -> one partial per key."""
    for merged in merged_partials(_counted(batches, counters), agg, lifted=True):
        counters.add("COMBINE_OUTPUT_RECORDS", merged.num_rows)
        yield merged


def _counted(batches: Iterable[pa.RecordBatch], counters: Counters
             ) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        counters.add("COMBINE_INPUT_RECORDS", batch.num_rows)
        yield batch


# --------------------------------------------------------------------------- reduce side

def reduced_pairs(batches: Iterable[pa.RecordBatch], agg: Aggregation, counters: Counters
                  ) -> Iterator[tuple[Any, Any]]:
    """The reducer's output, ``(key, final value)`` in key order, from key-sorted batches of
    partials (of values, when the map side did not combine); chained in C, not yielded."""
    def pairs(merged: pa.RecordBatch) -> Iterator[tuple[Any, Any]]:
        counters.add("REDUCE_INPUT_GROUPS", merged.num_rows)
        keys = codec.decode_keys(merged.column("k"))
        return zip(keys, final_values(agg, merged.schema.names[1], merged.column(1)))
    counters.add("REDUCE_INPUT_GROUPS", 0)          # present, as for a Python reducer
    return itertools.chain.from_iterable(map(pairs, merged_partials(batches, agg,
                                                                    lifted=agg.on_map)))


def final_values(agg: Aggregation, name: str, column: pa.Array) -> list[Any]:
    """The final value of each partial, as Python objects."""
    if agg.name == "mean" and name == TYPED and pa.types.is_struct(column.type):
        return _means(column.field("sum").to_numpy(), column.field("count").to_numpy())
    if name != TYPED or agg.name == "mean":
        return [agg.finish(p) for p in _python_values(name, column)]
    if column.type in (pa.int64(), pa.float64()):
        return column.to_numpy().tolist()
    return column.to_pylist()


def _means(sums: np.ndarray, counts: np.ndarray) -> list[float]:
    """sum / count as Python divides: int / int is correctly rounded, and so is float
    division of the two once both are exact doubles (|sum| <= 2**53)."""
    if sums.dtype == np.int64 and len(sums) and np.abs(sums.astype(np.float64)).max() > 2**53:
        return [s / c for s, c in zip(sums.tolist(), counts.tolist())]
    return (sums.astype(np.float64) / counts).tolist()


# --------------------------------------------------------------------------- merging runs

def merged_partials(batches: Iterable[pa.RecordBatch], agg: Aggregation, lifted: bool
                    ) -> Iterator[pa.RecordBatch]:
    """Key-sorted batches of partials (of values, if not ``lifted``) -> batches of one
    partial per key, each key in one batch: a batch's last partial waits for the next."""
    carry: pa.RecordBatch | None = None
    for batch in batches:
        if not batch.num_rows:
            continue
        if not lifted:
            batch = _lifted(agg, batch)
        if carry is not None:
            batch = _concat(carry, batch)
        keys = batch.column("k")
        starts, ends = key_runs(keys)
        name, column = _merge_runs(agg, batch, starts, ends)
        merged = pa.record_batch({"k": keys.take(pa.array(starts)), name: column})
        if merged.num_rows > 1:
            yield merged.slice(0, merged.num_rows - 1)
        carry = merged.slice(merged.num_rows - 1)
    if carry is not None:
        yield carry


def _concat(first: pa.RecordBatch, second: pa.RecordBatch) -> pa.RecordBatch:
    table = pa.Table.from_batches(unify_value_columns([first, second]))
    return table.combine_chunks().to_batches()[0]


def _lifted(agg: Aggregation, batch: pa.RecordBatch) -> pa.RecordBatch:
    """Values -> one partial each (count: 1, mean: (v, 1), collect: [v])."""
    name, column = batch.schema.names[1], batch.column(1)
    keys = batch.column("k")
    if name == TYPED and column is not None and _vectorisable(agg, column, lambda i: codec.decode_key(
            keys[i].as_py())):
        lifted = lift_column(agg, column)
    else:
        values = codec.decode_values(name, column)
        partials = []
        for i, value in enumerate(values):
            partials.append(agg.merge_checked(codec.decode_key(keys[i].as_py()), [value],
                                              lifted=False))
        name, lifted = encode_partials(agg, partials)
    return pa.record_batch({"k": keys, name: lifted})


def _merge_runs(agg: Aggregation, batch: pa.RecordBatch, starts: np.ndarray,
                ends: np.ndarray) -> tuple[str, pa.Array]:
    """One partial per run of equal keys: numpy/Arrow where they give Python's answer."""
    name, column = batch.schema.names[1], batch.column(1)
    if name == TYPED and not column.null_count:
        merged = MERGES[agg.name](column, starts, ends)
        if merged is not None:
            return TYPED, merged
    partials = _python_values(name, column)
    keys = codec.decode_keys(batch.column("k").take(pa.array(starts)))
    merged_values = [agg.merge_checked(key, partials[s:e], lifted=True)
                     for key, s, e in zip(keys, starts.tolist(), ends.tolist())]
    return encode_partials(agg, merged_values)


def _python_values(name: str, column: pa.Array) -> list[Any]:
    if name == TYPED and pa.types.is_struct(column.type):     # mean partials
        return list(zip(column.field("sum").to_pylist(), column.field("count").to_pylist()))
    values = codec.decode_values(name, column)
    return [as_pair(v) if isinstance(v, dict) else v for v in values]


