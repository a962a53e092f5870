"""numpy kernels of the built-in aggregations: one partial per run of equal keys.

Each ``MERGES[name](column, starts, ends)`` merges the partials ``column[starts[i]:ends[i]]``
of each run i into one, as zmr/job/aggregations.py defines it in Python, or returns None
where numpy would not give Python's answer (zmr/tasks/aggregating.py then runs the Python
definition): int sums that might pass int64, NaN and -0.0 among min/max/set values, and
columns not of one plain type.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zmr.job.aggregations import Aggregation

PLAIN = (pa.int64(), pa.float64(), pa.bool_(), pa.string(), pa.binary())
#: A key's int64 sum is computed by numpy only while it surely fits (else Python's ints).
_SAFE_SUM = float(1 << 62)
#: Python's own ``sum`` of floats is a left-to-right loop (3.11) rather than compensated.
_SEQUENTIAL_SUM = sum([1e16, 1.0, -1e16]) == 0.0
#: A float sum's runs still going once this few are left are finished by Python's sum.
_FEW_RUNS = 32


def has_nan_or_negative_zero(v: np.ndarray) -> bool:
    return bool(np.isnan(v).any() or (np.signbit(v) & (v == 0)).any())


def bound_fits(v: np.ndarray) -> bool:
    """No sum of these int64 values can overflow (the cheap check first)."""
    return not len(v) or max(abs(int(v.max())), abs(int(v.min()))) * len(v) < (1 << 62)


def mean_struct(sums: pa.Array, counts: pa.Array) -> pa.Array:
    return pa.StructArray.from_arrays([sums, counts.cast(pa.int64())], names=["sum", "count"])


def lift_column(agg: Aggregation, column: pa.Array) -> pa.Array:
    n = len(column)
    if column.type == pa.bool_() and agg.name in ("sum", "mean"):
        column = column.cast(pa.int64())
    if agg.name == "count":
        return pa.array(np.ones(n, dtype=np.int64))
    if agg.name == "mean":
        return mean_struct(column, pa.array(np.ones(n, dtype=np.int64)))
    if agg.name in ("collect_list", "collect_set"):
        return pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32)), column)
    return column


def _merge_sums(column: pa.Array, starts: np.ndarray, ends: np.ndarray) -> pa.Array | None:
    if column.type == pa.int64():
        v = column.to_numpy()
        if not (bound_fits(v) or np.add.reduceat(np.abs(v.astype(np.float64)),
                                                  starts).max() < _SAFE_SUM):
            return None             # Python's ints, exactly
        return pa.array(np.add.reduceat(v, starts))
    if column.type == pa.float64():
        return pa.array(_sequential_sums(column.to_numpy(), starts, ends))
    return None


def _sequential_sums(v: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Each run's values added left to right, from 0, as Python's ``sum`` does (numpy's
    own reductions add pairwise, whose last bits differ): one numpy step per position,
    over the runs still going; the last few long runs are finished by ``sum`` itself."""
    if not _SEQUENTIAL_SUM:
        return np.array([sum(v[s:e].tolist()) for s, e in zip(starts.tolist(),
                                                                ends.tolist())])
    lengths = ends - starts
    acc = v[starts] + 0.0                 # 0 + -0.0 is 0.0 in Python's sum too
    order = np.argsort(-lengths, kind="stable")
    descending = -lengths[order]
    step = 1
    while True:
        active = int(np.searchsorted(descending, -step, side="left"))
        if not active:
            return acc
        if active <= _FEW_RUNS:
            for i in order[:active].tolist():
                acc[i] = sum(v[starts[i] + step:ends[i]].tolist(), float(acc[i]))
            return acc
        idx = order[:active]
        acc[idx] += v[starts[idx] + step]
        step += 1


def _merge_counts(column: pa.Array, starts: np.ndarray, _ends: np.ndarray) -> pa.Array | None:
    if column.type != pa.int64():
        return None
    return pa.array(np.add.reduceat(column.to_numpy(), starts))


def _extreme(ufunc: np.ufunc, arrow_name: str) -> Callable[..., pa.Array | None]:
    def merge(column: pa.Array, starts: np.ndarray, ends: np.ndarray) -> pa.Array | None:
        if column.type in (pa.int64(), pa.bool_()) or (
                column.type == pa.float64()
                and not has_nan_or_negative_zero(column.to_numpy())):
            return pa.array(ufunc.reduceat(column.to_numpy(zero_copy_only=False), starts))
        if column.type in (pa.string(), pa.binary()):
            runs = np.repeat(np.arange(len(starts)), ends - starts)
            out = pa.table({"g": runs, "v": column}).group_by("g", use_threads=False) \
                .aggregate([("v", arrow_name)]).sort_by("g")
            return out.column(f"v_{arrow_name}").combine_chunks()
        return None
    return merge


def _merge_firsts(column: pa.Array, starts: np.ndarray, _ends: np.ndarray) -> pa.Array:
    return column.take(pa.array(starts))


def _merge_means(column: pa.Array, starts: np.ndarray, ends: np.ndarray) -> pa.Array | None:
    if not pa.types.is_struct(column.type):
        return None
    sums = _merge_sums(column.field("sum"), starts, ends)
    counts = _merge_counts(column.field("count"), starts, ends)
    return None if sums is None or counts is None else mean_struct(sums, counts)


def _list_parts(column: pa.Array) -> tuple[np.ndarray, pa.Array] | None:
    """A list column's offsets (from 0) and flat values, if its values are plain."""
    if not pa.types.is_list(column.type) or column.type.value_type not in PLAIN:
        return None
    offsets = column.offsets.to_numpy()
    flat = column.flatten()
    return offsets - offsets[0], flat


def _merge_lists(column: pa.Array, starts: np.ndarray, _ends: np.ndarray) -> pa.Array | None:
    parts = _list_parts(column)
    if parts is None or parts[1].null_count:
        return None
    offsets, flat = parts
    bounds = offsets[np.append(starts, len(column))].astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(bounds), flat)


def _merge_sets(column: pa.Array, starts: np.ndarray, ends: np.ndarray) -> pa.Array | None:
    parts = _list_parts(column)
    if parts is None or parts[1].null_count:
        return None
    offsets, flat = parts
    if flat.type == pa.float64() and has_nan_or_negative_zero(flat.to_numpy()):
        return None
    runs = np.repeat(np.arange(len(starts)), ends - starts)
    return _sorted_distinct_lists(np.repeat(runs, np.diff(offsets)), flat)[1]


def _sorted_distinct_lists(groups: np.ndarray, values: pa.Array
                           ) -> tuple[np.ndarray, pa.Array]:
    """(group, sorted distinct values of the group as a list) for each group present."""
    order = pc.sort_indices(pa.table({"g": groups, "v": values}),
                            [("g", "ascending"), ("v", "ascending")])
    g, v = groups[order.to_numpy()], values.take(order)
    keep = np.ones(len(g), dtype=bool)
    if len(g) > 1:
        same = pc.equal(v.slice(1), v.slice(0, len(v) - 1)).to_numpy(zero_copy_only=False)
        keep[1:] = (g[1:] != g[:-1]) | ~same
    g, v = g[keep], v.filter(pa.array(keep))
    firsts = np.flatnonzero(np.concatenate(([True], g[1:] != g[:-1])))
    bounds = np.append(firsts, len(g)).astype(np.int32)
    return g[firsts], pa.ListArray.from_arrays(pa.array(bounds), v)


MERGES: dict[str, Callable[..., pa.Array | None]] = {
    "sum": _merge_sums, "count": _merge_counts, "min": _extreme(np.minimum, "min"),
    "max": _extreme(np.maximum, "max"), "first": _merge_firsts, "mean": _merge_means,
    "collect_list": _merge_lists, "collect_set": _merge_sets,
}
