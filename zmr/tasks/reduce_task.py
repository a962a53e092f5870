"""One reduce attempt: fetch partition r of every map output, merge, reduce, commit.
(A coalesced reduce task fetches a range of adjacent partitions of every map output and
merges them all: each is sorted, and every key lives in one partition.)

The merge streams: every input is a key-sorted Arrow IPC stream read a batch at a time, so
memory stays at about one batch per input however large the partition. When there are more
inputs than the merge factor allows within the memory budget, inputs are first merged in
groups into intermediate runs on disk (Hadoop's multi-pass merge, ``io.sort.factor``); those
records are counted as ``REDUCE_SPILLED_RECORDS``.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

from zmr.core.errors import DataCorruptionError, FetchFailedError, JobContractError
from zmr.core.specs import ReduceResult, ReduceTaskSpec, Segment
from zmr.job import params
from zmr.job.api import JobSpec
from zmr.job.counters import Counters, counting_into
from zmr.job.runtime import call_final, iter_groups, key_runs
from zmr.storage import codec, commit, layout
from zmr.storage.column_output import write_columns
from zmr.storage.columnar import PairColumns
from zmr.storage.formats import (
    TextPairWriter,
    format_field,
    format_line,
    open_pair_writer,
    part_suffix,
)
from zmr.storage.ipc import PartitionedWriter, read_segment
from zmr.storage.ordering import KeyOrder
from zmr.storage.sorting import merge_factor, merge_round_rows, merge_sorted
from zmr.tasks import accel, aggregating, progress
from zmr.tasks.memory import release_memory

Fetch = Callable[[Segment, str], tuple[str, int]]
def local_fetch(segment: Segment, scratch_path: str) -> tuple[str, int]:
    """Segments on this machine's disk are read in place, without a copy."""
    return segment.path, segment.offset


def run_reduce_task(spec: ReduceTaskSpec, job: JobSpec, fetch: Fetch = local_fetch
                    ) -> ReduceResult:
    """Run one reduce attempt to completion and commit its part file."""
    counters = Counters()
    scratch = layout.reduce_scratch_dir(spec.work_dir, spec.partition, spec.attempt)
    os.makedirs(scratch, exist_ok=True)
    try:
        with counting_into(counters), params.using(spec.params):
            sources = _open_inputs(spec, fetch, scratch, counters)
            sources = _premerge(sources, merge_factor(spec.memory_budget), scratch, counters,
                                spec.compression)
            merged = merge_sorted(sources, merge_round_rows(spec.memory_budget))
            staged = _reduce_to_staging(spec, job, merged, counters,
                                        KeyOrder.from_dict(spec.ordering))
        final = layout.part_path(spec.output_dir, spec.partition) + part_suffix(
            spec.output_format)
        committed = commit.commit_file(staged, final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return ReduceResult(spec.partition, spec.attempt, final, committed, counters.to_dict())


def _open_inputs(spec: ReduceTaskSpec, fetch: Fetch, scratch: str,
                 counters: Counters) -> list[Iterator[pa.RecordBatch]]:
    sources = []
    # in the order given (the maps' input order): a key's values are merged stably, so
    # they come in that order
    for seg in spec.segments:
        if seg.length == 0:
            continue
        path, offset = fetch(seg, layout.fetched_segment_path(scratch, seg.map_index,
                                                              seg.partition))
        what = f"map output of task {seg.map_index} attempt {seg.attempt} ({seg.path})"
        try:
            sources.append(read_segment(path, offset, seg.length, seg.crc32, what))
        except DataCorruptionError as exc:
            raise FetchFailedError(seg.map_index, str(exc)) from exc
        counters.add("REDUCE_SHUFFLE_BYTES", seg.length)
    return sources


def _premerge(sources: list[Iterator[pa.RecordBatch]], factor: int, scratch: str,
              counters: Counters, compression: str = "none") -> list[Iterator[pa.RecordBatch]]:
    """Merge groups of inputs into on-disk runs until one final merge can open them all."""
    level = 0
    while len(sources) > factor:
        merged = []
        for i in range(0, len(sources), factor):
            path = layout.run_path(scratch, level * 100000 + i)
            writer = PartitionedWriter(path, 1, compression)
            entry = writer.write_partition(merge_sorted(sources[i:i + factor]))
            writer.close()
            counters.add("REDUCE_SPILLED_RECORDS", entry.rows)
            progress.advance(entry.rows)
            merged.append(read_segment(path, entry.offset, entry.length, entry.crc32, path))
            release_memory()
        sources, level = merged, level + 1
    return sources


def _reduce_to_staging(spec: ReduceTaskSpec, job: JobSpec, batches: Iterator[pa.RecordBatch],
                       counters: Counters, order: KeyOrder) -> str:
    staging = commit.staging_dir(spec.output_dir, layout.reduce_task_name(spec.partition),
                                 spec.attempt, spec.work_dir)
    os.makedirs(staging, exist_ok=True)
    staged = layout.staged_part_path(staging, spec.partition)
    out = open_pair_writer(staged, spec.output_format, spec.compression,
                           spec.format_options.get("schema"))
    try:
        if _is_identity(job):
            records, chars = write_columns(out, _identity_batches(batches, counters, order))
        elif isinstance(out, TextPairWriter) and job.reducer is not None and not (
                job.aggregation is not None and job.aggregation.on_reduce):
            records, chars = _reduce_to_text(job, batches, counters, order, out)
        else:
            records, chars = out.write(_reduced_pairs(job, batches, counters, order))
    finally:
        out.close()
    counters.add("REDUCE_OUTPUT_RECORDS", records)
    counters.add("BYTES_WRITTEN", chars)
    return staged


def _is_identity(job: JobSpec) -> bool:
    return job.reducer is None and job.reducer_init is None and job.reducer_final is None


def _identity_batches(batches: Iterator[pa.RecordBatch], counters: Counters,
                      order: KeyOrder) -> Iterator[PairColumns]:
    """The identity reduce: the sorted, grouped map output as it is, batch by batch, for
    the output writer to take from the columns (a key's records stay in order)."""
    groups, last_key = 0, None
    try:
        for batch in _count_records(batches, counters):
            if batch.num_rows == 0:
                continue
            if order.sort_values:           # every record is its own group (see _groups)
                groups += batch.num_rows
            else:
                keys = batch.column("k")
                groups += len(key_runs(keys)[0]) - (keys[0].as_py() == last_key)
                last_key = keys[-1].as_py()
            yield PairColumns(batch, order.sort_values)
    finally:
        counters.add("REDUCE_INPUT_GROUPS", groups)


def _reduced_pairs(job: JobSpec, batches: Iterator[pa.RecordBatch], counters: Counters,
                   order: KeyOrder) -> Iterator[tuple[Any, Any]]:
    if job.reducer_init is not None:
        job.reducer_init()
    reducer, groups = job.reducer, 0
    batches = _count_records(batches, counters)
    if job.aggregation is not None and job.aggregation.on_reduce and not order.regroups:
        # REDUCE = "sum": column-wise over runs of equal keys (tasks/aggregating.py)
        yield from aggregating.reduced_pairs(batches, job.aggregation, counters)
        yield from call_final(job.reducer_final, "reducer_final")
        return
    key: Any = NO_KEY
    try:
        for _, key, values in _groups(batches, order, identity=reducer is None):
            groups += 1
            if reducer is None:          # identity reduce: sorted, grouped map output
                yield from ((key, v) for v in values)
                continue
            out = reducer(key, values)
            for pair in () if out is None else out:
                if type(pair) is not tuple or len(pair) != 2:
                    raise JobContractError(f"reducer must yield (key, value) pairs, got {pair!r}")
                yield pair
            key = NO_KEY                 # reading the next group is not this key's doing
    except Exception as exc:
        if key is not NO_KEY and reducer is not None:
            exc.add_note(failed_key_note(key))
        raise
    finally:
        counters.add("REDUCE_INPUT_GROUPS", groups)    # once, not per key: this loop is hot
    yield from call_final(job.reducer_final, "reducer_final")


#: No reduce group is being reduced (between groups, or before the first).
NO_KEY = object()
KEY_NOTE_MAX = 200


def failed_key_note(key: Any) -> str:
    """What a reducer's error adds: the key it failed on, as ``zmr replay --key`` takes it
    (the key as the text output writes it)."""
    text = format_field(key)
    shown = shlex.quote(text) if len(text) <= KEY_NOTE_MAX else \
        shlex.quote(text[:KEY_NOTE_MAX]) + " [...]"
    return f"the reducer failed on key {shown}: zmr replay JOB --key {shown} reruns it here"


#: Reduce groups per call of the text loop (``accel.reduce_text``).
GROUPS_PER_CALL = 4096


def _reduce_to_text(job: JobSpec, batches: Iterator[pa.RecordBatch], counters: Counters,
                    order: KeyOrder, out: TextPairWriter) -> tuple[int, int]:
    """``_reduced_pairs`` written as text, with the loop around the reducer (call it, check
    its pairs, format them) in C when built: a bigram count's reduce calls it per key."""
    if job.reducer_init is not None:
        job.reducer_init()
    current = [NO_KEY]
    groups = _tracking_key(_groups(_count_records(batches, counters), order, identity=False),
                           current)
    records = chars = done = 0
    try:
        while True:
            pairs, called, written, bad = accel.reduce_text(
                job.reducer, groups, format_line, out.write_lines, GROUPS_PER_CALL)
            records, done, chars = records + pairs, done + called, chars + written
            if bad is not None:
                raise JobContractError(f"reducer must yield (key, value) pairs, got {bad[0]!r}")
            if called < GROUPS_PER_CALL:
                break
    except Exception as exc:
        if current[0] is not NO_KEY:
            exc.add_note(failed_key_note(current[0]))
        raise
    finally:
        counters.add("REDUCE_INPUT_GROUPS", done)
    final_records, final_chars = out.write(call_final(job.reducer_final, "reducer_final"))
    return records + final_records, chars + final_chars


def _tracking_key(groups: Iterator[Any], current: list[Any]) -> Iterator[Any]:
    """``groups``, with ``current[0]`` the key of the group last handed out while the
    reducer has it, and ``NO_KEY`` while the next one is read (an error then is not that
    key's doing): which key a reducer's error names when the loop runs in C."""
    for group in groups:
        current[0] = group[1]
        yield group
        current[0] = NO_KEY


def _groups(batches: Iterator[pa.RecordBatch], order: KeyOrder, identity: bool
            ) -> Iterator[tuple[bytes, Any, Iterator[Any]]]:
    """The reduce groups: runs of equal keys, or of equal group prefixes under secondary
    sort; the identity reduce keeps every record's own key (under SORT_VALUES the key
    inside its ``(key, value)`` sort key, decoded without the value)."""
    if not identity:
        return order.groups(batches) if order.regroups else iter_groups(batches)
    if not order.sort_values:
        return iter_groups(batches)
    return ((kb, order.user_key(kb), iter((v,))) for batch in batches
            for kb, v in zip(batch.column("k").to_pylist(),
                             codec.decode_values(batch.schema.names[1], batch.column(1))))


def _count_records(batches: Iterator[pa.RecordBatch],
                   counters: Counters) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        counters.add("REDUCE_INPUT_RECORDS", batch.num_rows)
        progress.advance(batch.num_rows)
        yield batch
