"""Total order: sample map output keys before the map phase and cut them into key ranges.

``PARTITIONER = "total_order"`` range-partitions what the mappers emit, so it is mapper
*output* keys that are sampled, not input records as Hadoop's ``InputSampler`` does (there
the input key is what TeraSort partitions). The client runs the job's mapper over the first
records of up to :data:`MAX_SPLITS_SAMPLED` evenly spaced splits (Hadoop's
``SplitSampler``: its defaults are 100,000 samples from at most 10 splits) while planning,
before anything is submitted, and puts the ``num_reducers - 1`` cut points in the plan;
the map tasks then only compare keys with them (``zmr.storage.ordering``).

Sampling runs where the job is planned, with the job's code: a mapper that fails on a
sampled record fails the submission, naming the file and offset. A ``map_batch`` job's
sampled keys stay one Arrow column, encoded and sorted as a column (TeraSort's path).
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from collections.abc import Callable, Iterator
from operator import itemgetter
from typing import Any

import pyarrow as pa

from zmr.core.errors import TaskError
from zmr.core.plan import JobPlan
from zmr.job import params
from zmr.job.api import JobSpec
from zmr.job.planning import plan_job
from zmr.settings.job import JobOptions
from zmr.storage import codec, columnar
from zmr.storage.ordering import KeyOrder, cut_points
from zmr.tasks import accel, map_task

#: Hadoop's SplitSampler default: sample the first records of at most this many splits.
MAX_SPLITS_SAMPLED = 10


def plan_sorted_job(job: JobSpec, inputs: list[str], output: str,
                    options: JobOptions | None = None, parallelism: int = 1) -> JobPlan:
    """:func:`plan_job` for ``parallelism`` slots, with the key ranges of a total-order
    job sampled into the plan (``num_reducers - 1`` cuts, whether NUM_REDUCERS was given
    or is the slot count)."""
    plan = plan_job(job, inputs, output, options, parallelism=parallelism)
    order = KeyOrder.from_dict(plan.ordering)
    if not order.total_order or plan.num_reducers <= 1:
        return plan
    size = (options or JobOptions()).resolved(job.settings).sample_size
    with params.using(plan.params):       # the mapper may read zmr.param() as in its tasks
        keys = sample_keys(job, plan, int(size or 1))
    cuts = _cuts(order, keys, plan.num_reducers)
    return dataclasses.replace(plan, ordering=dataclasses.replace(order, cuts=cuts).to_dict())


def _cuts(order: KeyOrder, keys: list[Any] | pa.Array, num_partitions: int
          ) -> tuple[bytes, ...]:
    """The cut points of the sampled keys. Keys that are all exactly bytes, all str or all
    int are sorted as they are (their encodings sort the same way: the codec preserves
    order) and only the picked ones are encoded; a column of them (a batch mapper's) is
    encoded and sorted as a column. Either way: the same cuts as :func:`cut_points` of
    every key's prefix, without encoding 100,000 keys one by one."""
    if isinstance(keys, pa.Array):
        column = None if order.group_by else columnar.plain_column(keys)
        if column is not None:
            encoded = columnar.encode_plain(column)
            ranked = columnar.sort_indices(encoded)
            return _picked(len(ranked), num_partitions,
                           lambda i: encoded[int(ranked[i])].as_py())
        keys = keys.to_pylist()
    if order.group_by or set(map(type, keys)) not in ({bytes}, {str}, {int}):
        return cut_points([order.key_prefix(k) for k in keys], num_partitions)
    ordered = sorted(keys)
    return _picked(len(ordered), num_partitions, lambda i: codec.encode_key(ordered[i]))


def _picked(count: int, num_partitions: int, encoded_at: Callable[[int], bytes]
            ) -> tuple[bytes, ...]:
    """:func:`cut_points` of ``count`` sorted samples, the i-th encoded by ``encoded_at``."""
    cuts: list[bytes] = []
    for r in range(1, num_partitions):
        if not count:
            break
        cut = encoded_at(min(count - 1, r * count // num_partitions))
        if not cuts or cut > cuts[-1]:
            cuts.append(cut)
    return tuple(cuts)


def sample_keys(job: JobSpec, plan: JobPlan, size: int) -> list[Any] | pa.Array:
    """The keys the mapper emits for the first records of evenly spaced splits: a list, or
    the Arrow column of a ``map_batch`` job's keys (no Python object per key) when every
    sampled split's keys have one type."""
    keys: list[Any] = []
    columns: list[pa.Array] = []
    for source, spec, limit in _sampled_splits(job, plan, size):
        if source.map_batch is None:
            keys.extend(map(itemgetter(0), _first_pairs(source, spec, limit)))
        else:
            columns.extend(c for c in _batch_keys(source, spec, limit) if len(c))
    if not columns:
        return keys
    if keys or len({c.type for c in columns}) > 1:      # (INPUTS: hooks of both kinds)
        return keys + [k for c in columns for k in c.to_pylist()]
    return pa.concat_arrays(columns)


def _sampled_splits(job: JobSpec, plan: JobPlan, size: int
                    ) -> Iterator[tuple[JobSpec, Any, int]]:
    """(the split's input's hooks, its map spec, keys wanted) for each sampled split."""
    count = min(MAX_SPLITS_SAMPLED, plan.num_maps)
    chosen = sorted({i * plan.num_maps // count for i in range(count)})
    per_split = math.ceil(size / max(1, len(chosen)))
    initialised: set[int] = set()
    with tempfile.TemporaryDirectory(prefix="zmr-sample-") as work:
        for index in chosen:
            spec = plan.map_spec("sample", index, 0, work)
            source = job.for_input(spec.split.input)     # INPUTS: that input's mapper
            if source.mapper_init is not None and spec.split.input not in initialised:
                initialised.add(spec.split.input)
                source.mapper_init()
            yield source, spec, per_split


def _batch_keys(job: JobSpec, spec: Any, limit: int) -> Iterator[pa.Array]:
    """The first ``limit`` keys of a batch mapper's output for a split, column by column."""
    map_batch = job.map_batch
    assert map_batch is not None
    for batch in map_task.line_batches(spec):
        if limit <= 0:
            return
        keys, _values = map_task.key_value_columns(map_batch(batch))
        yield keys.slice(0, limit)
        limit -= min(limit, len(keys))


def _first_pairs(job: JobSpec, spec: Any, limit: int) -> list[tuple[Any, Any]]:
    """The first ``limit`` pairs the mapper yields for a split's records, mapped in runs of
    at most as many records as pairs are still wanted (one mapper loop per run, the map
    task's own, ``accel.extend_records``)."""
    pairs: list[Any] = []
    for piece, offsets, lines in map_task.input_records(spec):
        start = 0
        while start < len(lines) and len(pairs) < limit:
            end = min(len(lines), start + limit - len(pairs))
            _map_run(job, piece.path, offsets[start:end], lines[start:end], pairs, limit)
            start = end
        if len(pairs) >= limit:
            break
    del pairs[limit:]
    if set(map(type, pairs)) <= {tuple} and set(map(len, pairs)) <= {2}:   # C-level checks
        return pairs
    return list(map_task.checked_pairs(pairs, "mapper"))      # raises, naming the bad one


def _map_run(job: JobSpec, path: str, offsets: list[Any], lines: list[Any],
             pairs: list[Any], limit: int) -> None:
    """Append the mapper's pairs for these records. If the mapper raises, the run is mapped
    again record by record, stopping at ``limit`` pairs as the sample does, so an error is
    reported (naming its record) only when that record's pairs were wanted."""
    done, mapper = len(pairs), job.mapper
    assert mapper is not None
    try:
        accel.extend_records(pairs.extend, mapper, path, zip(offsets, lines))
        return
    except Exception:  # noqa: BLE001 - found again, with its record, just below
        del pairs[done:]
    for offset, line in zip(offsets, lines):
        if len(pairs) >= limit:
            return
        try:
            pairs.extend(mapper((path, offset), line) or ())
        except Exception as exc:
            raise TaskError(f"sampling keys for PARTITIONER = \"total_order\": the "
                            f"mapper raised on {path} at {offset!r}: "
                            f"{type(exc).__name__}: {exc}") from exc
