"""Map-side output buffer: collect pairs, spill sorted (and combined) runs, merge at the end.

Hadoop's MapOutputBuffer in a few pieces: pairs accumulate in a Python list until their
estimated size passes the memory budget; the buffer is then sorted by (partition, key) with
Arrow kernels, passed through the combiner if the job has one, and written as a sorted run.
At the end the runs are merged partition by partition (combining again) into the task's
single partitioned output file.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import itemgetter
from typing import Any

import numpy as np
import pyarrow as pa

from zmr.core.errors import JobContractError
from zmr.core.specs import PartitionIndexEntry
from zmr.job.api import JobSpec
from zmr.job.counters import Counters
from zmr.storage import codec, columnar, layout
from zmr.storage.ipc import PartitionedWriter, read_segment
from zmr.storage.ordering import KeyOrder
from zmr.storage.sorting import (
    KeyColumn,
    SortedPairs,
    key_column,
    merge_factor,
    merge_round_rows,
    merge_sorted,
    sorted_run_tables,
)
from zmr.tasks import accel, aggregating
from zmr.tasks.combining import call_combiner, combine_batches, in_rank_order
from zmr.tasks.grouping import GroupingBuffer
from zmr.tasks.memory import release_memory

#: Share of the task memory budget the map output buffer may fill before it spills.
SPILL_PERCENT = 0.7
#: How often (in pairs) the buffer re-checks its size; small enough to respect tiny budgets.
CHECK_EVERY = 4096
#: Bytes a buffered pair costs beyond its key and value objects (tuple + list slot).
PAIR_OVERHEAD = sys.getsizeof((None, None)) + 8


class MapOutputCollector:
    """Buffers one map attempt's output and turns it into a partitioned, sorted file."""

    def __init__(self, job: JobSpec, num_partitions: int, memory_budget: int,
                 work_dir: str, output_path: str, counters: Counters,
                 compression: str = "none", order: KeyOrder | None = None) -> None:
        self.job = job
        self.order = order or KeyOrder()
        self.compression = compression
        self.num_partitions = num_partitions
        # The buffer spills at SPILL_PERCENT of the task's budget (Hadoop's
        # mapreduce.map.sort.spill.percent): the rest is for reading input and for sorting.
        self.memory_budget = int(memory_budget * SPILL_PERCENT)
        self.output_path = output_path
        self.counters = counters
        self.buffer: list[tuple[Any, Any]] = []
        # With a combiner, str-keyed output is grouped as it is emitted (see grouping.py);
        # a built-in combiner (REDUCE/COMBINER = "sum") makes its partials column-wise.
        built_in = job.aggregation
        self.aggregation = built_in if built_in is not None and built_in.on_map else None
        grouped = job.combiner is not None
        self.grouping = GroupingBuffer() if grouped else None
        self.next_check = CHECK_EVERY
        self._pair_bytes = 0
        self._spill_dir = layout.spill_dir(output_path)
        self._runs: list[tuple[str, tuple[PartitionIndexEntry, ...]]] = []
        self._run_number = 0
        self._arrow_chunks: list[tuple[pa.Array, pa.Array]] = []
        self._arrow_bytes = 0
        os.makedirs(work_dir, exist_ok=True)

    # -- buffering -------------------------------------------------------------------------
    def feed(self, mapper: Callable[[Any, str], Any], path: str,
             records: Iterable[tuple[int, str]]) -> None:
        """Call ``mapper`` on each (offset, line) of ``records`` and buffer what it yields."""
        if self.grouping is not None:
            unfit = self.grouping.feed(mapper, path, records)
            if unfit is None:
                return
            self._stop_grouping(unfit.pairs)
            records = unfit.records
        accel.extend_records(self.buffer.extend, mapper, path, records)

    def add(self, pairs: Iterable[Any]) -> None:
        """Buffer pairs made outside the mapper (``mapper_final``)."""
        if self.grouping is not None:
            unfit = self.grouping.add(pairs)
            if unfit is None:
                return
            self._stop_grouping(unfit.pairs)
        else:
            self.buffer.extend(pairs)

    def _stop_grouping(self, pending: Iterable[Any]) -> None:
        """A key that grouping cannot keep apart arrived: buffer tuples from now on."""
        assert self.grouping is not None
        self.buffer.extend(self.grouping.as_pairs())
        self.buffer.extend(pending)
        self.grouping = None

    def maybe_spill(self) -> None:
        """Spill when the buffer's estimated size passes the budget; cheap to call often."""
        if self.grouping is not None:
            if self.grouping.estimated_bytes() >= self.memory_budget:
                self.spill()
            return
        n = len(self.buffer)
        if n < self.next_check:
            return
        if not self._pair_bytes:
            self._pair_bytes = _estimate_pair_bytes(self.buffer[:64])
        if n * self._pair_bytes + self._arrow_bytes >= self.memory_budget:
            self.spill()
        self.next_check = len(self.buffer) + CHECK_EVERY

    def add_arrays(self, keys: pa.Array, values: pa.Array) -> None:
        """Buffer a batch mapper's output (Arrow memory is counted exactly)."""
        if len(keys) != len(values):
            raise ValueError(f"map_batch returned {len(keys)} keys but {len(values)} values")
        self._arrow_chunks.append((keys, values))
        self._arrow_bytes += keys.nbytes + values.nbytes
        if self._arrow_bytes >= self.memory_budget:
            self.spill()

    def spill(self) -> None:
        """Sort the buffer, combine it and write it as one sorted run; then give what the
        spill freed back to the OS (tasks/memory.py), or the next buffer would be filled
        on top of it."""
        self._spill()
        release_memory()

    def _spill(self) -> None:
        if self.grouping is not None and not self._arrow_chunks:   # (map_batch: no groups)
            self._spill_groups()
            return
        keys, values = self._take_buffer()
        if not len(keys):
            return
        self.counters.add("MAP_OUTPUT_RECORDS", len(keys))
        if self._spill_columnar(keys, values):
            return
        if not self.order.plain:
            keys, values = self._ordered(keys, values)
        column = key_column(keys)
        writer = self._new_run()
        if self.aggregation is not None:
            self._write_aggregated(column, values, writer)
        elif self.job.combiner is None:
            pairs = SortedPairs(column, values, self.num_partitions, self.job.partitioner,
                                order=self.order)
            for lo, hi in pairs.partition_ranges():
                writer.write_partition(pairs.table(lo, hi).to_batches() if hi > lo else ())
        else:
            self._write_combined(
                SortedPairs(column, values, self.num_partitions, self.job.partitioner,
                            order=self.order), writer)
        self._close_run(writer)

    def _spill_columnar(self, keys: Any, values: Any) -> bool:
        """Secondary sort and total order on keys (and sorted values) of one plain shape
        (all bytes, str or int): sort keys built, partitioned and sorted as columns, with
        no Python object per record (TeraSort's path). False: not that shape."""
        order, job = self.order, self.job
        if (order.plain or order.group_by or job.partitioner is not None
                or job.combiner is not None or job.aggregation is not None
                or list(order.cuts) != sorted(order.cuts)):
            return False
        columns = columnar.sort_key_columns(keys, values, order.sort_values)
        if columns is None:
            return False
        encoded, prefixes, values = columns
        writer = self._new_run()
        for table in sorted_run_tables(encoded, prefixes, values, self.num_partitions, order):
            writer.write_partition(table.to_batches() if table.num_rows else ())
        self._close_run(writer)
        return True

    def _ordered(self, keys: Any, values: Any) -> tuple[list[Any], Any]:
        """Sort keys under secondary sort or grouping (``(key, value)`` tuples when values
        are sorted too), checked to be composite where GROUP_BY needs it."""
        keys = keys.to_pylist() if isinstance(keys, pa.Array) else keys
        python_values = values.to_pylist() if isinstance(values, pa.Array) else values
        return self.order.sort_keys(keys, python_values), values

    def _new_run(self) -> PartitionedWriter:
        os.makedirs(self._spill_dir, exist_ok=True)
        self._run_number += 1
        return PartitionedWriter(layout.run_path(self._spill_dir, self._run_number),
                                 self.num_partitions, self.compression)

    def _close_run(self, writer: PartitionedWriter) -> None:
        index = writer.close()
        self._runs.append((writer.path, index))
        self.counters.add("SPILLED_RECORDS", sum(e.rows for e in index))

    def _spill_groups(self) -> None:
        """Grouped buffer: sort just the distinct keys, then combine each key's values."""
        assert self.grouping is not None
        keys, lists, pairs = self.grouping.take()
        if not keys:
            return
        self.counters.add("MAP_OUTPUT_RECORDS", pairs)
        column = KeyColumn(pa.array(keys, pa.string()), False)    # every key is a str
        del keys        # the buffer's key strings, freed now that the column holds them
        writer = self._new_run()
        if self.aggregation is not None:
            lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
            values = aggregating.grouped_values(lists, int(lengths.sum()))
            self._write_aggregated(column, values, writer, lengths)
            self._close_run(writer)
            return
        self.counters.add("COMBINE_INPUT_RECORDS", pairs)
        order = SortedPairs(column, lists, self.num_partitions, self.job.partitioner,
                            distinct=True, order=self.order)    # (total order: its cuts)
        self._write_groups(order, accel.take_items(lists, order.perm), writer)
        self._close_run(writer)

    def _take_buffer(self) -> tuple[Any, Any]:
        """Empty the buffer into (keys, values): Python lists, or Arrow arrays."""
        if self._arrow_chunks:
            keys = pa.concat_arrays([k for k, _ in self._arrow_chunks])
            values = pa.concat_arrays([v for _, v in self._arrow_chunks])
            self._arrow_chunks, self._arrow_bytes = [], 0
            return keys, values
        try:
            keys = [k for k, _ in self.buffer]
        except (TypeError, ValueError):
            raise JobContractError(_bad_pair_message(self.buffer)) from None
        values = list(map(itemgetter(1), self.buffer))   # shapes were checked just above
        self.buffer.clear()     # in place: the map loop holds a bound ``extend`` of this list
        # Homogeneous values (word count's 1s) become one Arrow column here, so sorting,
        # spilling and handing them to a combiner are vectorised from now on.
        typed = codec.typed_column(values)
        return keys, (values if typed is None else typed)

    def _write_combined(self, pairs: SortedPairs, writer: PartitionedWriter) -> None:
        """Combine each key's values straight from the sorted buffer (no Arrow round trip).

        A key with a single value is passed through without calling the combiner: Hadoop
        runs a combiner zero or more times on any subset of a key's values, and in Zipf-like
        data about 40% of a buffer's distinct keys occur once.
        """
        values, bounds = pairs.sorted_values(), pairs.bounds.tolist()
        self.counters.add("COMBINE_INPUT_RECORDS", len(values))
        self._write_groups(pairs, [values[a:b] for a, b in zip(bounds, bounds[1:])], writer)

    def _write_groups(self, pairs: SortedPairs, groups: list[Sequence[Any]],
                      writer: PartitionedWriter) -> None:
        """Combine ``groups[i]``, the values of the i-th distinct key in sorted order.

        Only keys with several values go through the (Python) combiner; single values pass
        through as they are, gathered with vectorised takes. Outputs are then put back in
        key order by a stable argsort of their key ranks.
        """
        sizes = accel.group_sizes(groups)
        single, multi = np.flatnonzero(sizes == 1), np.flatnonzero(sizes > 1)
        assert self.job.combiner is not None
        out_ranks, out_values = call_combiner(
            self.job.combiner, pairs.python_keys(multi), [groups[i] for i in multi.tolist()],
            multi.tolist())
        values = accel.first_values(groups, single) + out_values
        self.counters.add("COMBINE_OUTPUT_RECORDS", len(values))
        name, column = codec.encode_values(values)
        ranks, column = in_rank_order(
            np.concatenate((single, np.asarray(out_ranks, dtype=np.int64))), column)
        table = pa.table({"k": pairs.encoded.take(pa.array(ranks)), name: column})
        cuts = np.searchsorted(pairs.partitions[ranks], np.arange(self.num_partitions + 1))
        for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
            writer.write_partition(table.slice(lo, hi - lo).to_batches() if hi > lo else ())

    def _write_aggregated(self, column: KeyColumn, values: Any, writer: PartitionedWriter,
                          lengths: np.ndarray | None = None) -> None:
        """A built-in combiner: one partial per distinct key (tasks/aggregating.py), sorted
        (``lengths``: the keys are a grouped buffer's, see ``spill_partials``)."""
        assert self.aggregation is not None
        distinct, name, partials = aggregating.spill_partials(self.aggregation, column, values,
                                                              lengths)
        self.counters.add("COMBINE_INPUT_RECORDS", len(values))
        self.counters.add("COMBINE_OUTPUT_RECORDS", len(partials))
        pairs = SortedPairs(distinct, partials, self.num_partitions, self.job.partitioner,
                            distinct=True, order=self.order)     # one partial per key
        for lo, hi in pairs.partition_ranges():
            writer.write_partition([pa.record_batch({
                "k": pairs.encoded.slice(lo, hi - lo),
                name: partials.take(pa.array(pairs.perm[lo:hi]))})] if hi > lo else ())

    # -- combining -------------------------------------------------------------------------
    def _combined(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        if self.aggregation is not None:
            yield from aggregating.combined_partials(batches, self.aggregation, self.counters)
            return
        if self.job.combiner is None:
            yield from batches
            return
        yield from combine_batches(batches, self.job.combiner, self.counters)

    # -- finishing -------------------------------------------------------------------------
    def finish(self) -> tuple[PartitionIndexEntry, ...]:
        """Write the final output file (merging spilled runs) and return its index."""
        if not self._runs or self.buffer or self._arrow_chunks or (
                self.grouping is not None and self.grouping.groups):
            self.spill()
        if not self._runs:          # no output at all: still a valid, empty file
            return PartitionedWriter(self.output_path, self.num_partitions,
                                     self.compression).close()
        # A merge holds one batch per input, so at most merge_factor(budget) runs are merged
        # at once; more are first merged in groups (Hadoop's io.sort.factor passes).
        factor = merge_factor(self.memory_budget)
        while len(self._runs) > factor:
            group, self._runs = self._runs[:factor], self._runs[factor:]
            writer = self._new_run()
            self._merge_into(group, writer)
            self._close_run(writer)
            release_memory()
            for path, _ in group:
                os.unlink(path)
        if len(self._runs) == 1:
            os.replace(self._runs[0][0], self.output_path)
            index = self._runs[0][1]
        else:
            writer = PartitionedWriter(self.output_path, self.num_partitions, self.compression)
            self._merge_into(self._runs, writer)
            index = writer.close()
        shutil.rmtree(self._spill_dir, ignore_errors=True)
        return index

    def _merge_into(self, runs: list[tuple[str, tuple[PartitionIndexEntry, ...]]],
                    writer: PartitionedWriter) -> None:
        for r in range(self.num_partitions):
            sources = [read_segment(path, e.offset, e.length, e.crc32, path)
                       for path, index in runs for e in (index[r],)]
            merged = merge_sorted(sources, merge_round_rows(self.memory_budget))
            writer.write_partition(self._combined(merged))



def _estimate_pair_bytes(sample: list[tuple[Any, Any]]) -> int:
    """Average size of a buffered pair, from a sample (an estimate, as in any Python engine).

    Objects referenced from elsewhere too (small ints, interned strings, a value shared by
    every pair) cost the buffer nothing, so only objects the pair alone holds are counted.
    """
    total = 0
    for pair in sample:
        try:
            k, v = pair
        except (TypeError, ValueError):
            raise JobContractError(_bad_pair_message(sample)) from None
        total += PAIR_OVERHEAD + _owned_size(k) + _owned_size(v)
    return max(1, total // max(1, len(sample)))


def _owned_size(obj: Any) -> int:
    # references: the pair, the local name, getrefcount's argument, the unpacked local
    return sys.getsizeof(obj) if sys.getrefcount(obj) <= 4 else 0


def _bad_pair_message(pairs: list[Any]) -> str:
    bad = next((p for p in pairs if type(p) is not tuple or len(p) != 2), None)
    return f"mapper must yield (key, value) pairs, got {bad!r}"
