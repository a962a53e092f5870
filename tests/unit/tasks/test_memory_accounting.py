"""What a map task counts against its memory budget is what it really holds: the grouped
buffer at its traced size, a spill's working memory per distinct key, and merge rounds of a
bounded number of rows. (The peak RSS itself is checked by bench/bench_memory.py.)"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pyarrow as pa
import pytest

from zmr.job.api import JobSpec
from zmr.job.counters import Counters
from zmr.storage import codec
from zmr.storage.ipc import BATCH_ROWS, PartitionedWriter, read_segment
from zmr.storage.sorting import merge_sorted
from zmr.tasks.collector import MapOutputCollector
from zmr.tasks.grouping import GroupingBuffer

pytestmark = pytest.mark.usefixtures("map_loops")

VOCABULARY = [f"w{i * 7919 % 100003:05d}" for i in range(20000)]


def _lines(count: int, start: int = 0) -> list[tuple[int, str]]:
    return [(i, " ".join(VOCABULARY[(i * 31 + j * 17) % len(VOCABULARY)] for j in range(8)))
            for i in range(start, start + count)]


def words(_key, line):              # word count's shape: few keys, many values each
    for word in line.split():
        yield word, 1


def pairs(_key, line):              # bigram's shape: mostly keys seen once
    tokens = line.split()
    for a, b in zip(tokens, tokens[1:]):
        yield f"{a} {b}", len(a)


def _combine(key, values):
    yield key, sum(values)


@pytest.mark.parametrize("mapper", [words, pairs])
def test_grouped_buffer_reports_its_traced_size(mapper):
    records = _lines(6000)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        buffer = GroupingBuffer()
        assert buffer.feed(mapper, "in.txt", records) is None
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(buffer.groups) > 1000
    # never much under (the budget would be overrun); the Python loops' per-slot constants
    # were measured on word-count buffers and over-count small lists by up to a third
    assert 0.85 * held <= buffer.held_bytes() <= 1.35 * held, (buffer.held_bytes(), held)


def _collector(tmp_path, budget: int) -> MapOutputCollector:
    job = JobSpec("bigrams", __file__, pairs, reducer=_combine, combiner=_combine)
    return MapOutputCollector(job, 2, budget, str(tmp_path), str(tmp_path / "out"),
                              Counters())


def test_spill_allowance_covers_what_a_spill_allocates(tmp_path):
    """The per-key allowance grouping.py adds for the spill is within 2x of the Python
    (tracemalloc) and Arrow (pool) memory a spill of bigram-like keys really allocates."""
    collector = _collector(tmp_path, 1 << 40)
    collector.feed(pairs, "in.txt", _lines(50))
    collector.spill()                       # first: the modules a spill imports
    collector.feed(pairs, "in.txt", _lines(8000, start=50))
    buffer = collector.grouping
    assert buffer is not None
    allowance = buffer.estimated_bytes() - buffer.held_bytes()
    default_pool = pa.default_memory_pool()
    pool = pa.proxy_memory_pool(default_pool)       # its own peak, from zero
    pa.set_memory_pool(pool)
    tracemalloc.start()
    try:
        collector.spill()
        python_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        pa.set_memory_pool(default_pool)
    used = python_peak + pool.max_memory()
    assert allowance / 2 <= used <= allowance * 1.25, (used, allowance)


def test_a_spill_is_triggered_at_the_budget(tmp_path):
    collector = _collector(tmp_path, 2 << 20)
    threshold = collector.memory_budget
    spills = 0
    for start in range(0, 12000, 500):
        collector.feed(pairs, "in.txt", _lines(500, start))
        buffer = collector.grouping
        assert buffer is not None
        before, runs = buffer.estimated_bytes(), len(collector._runs)
        collector.maybe_spill()
        spilled = len(collector._runs) > runs
        assert spilled == (before >= threshold), (before, threshold)
        assert buffer.estimated_bytes() < threshold
        spills += spilled
    assert spills >= 3


def _sorted_source(rng: np.random.Generator, batches: int) -> list[pa.RecordBatch]:
    keys = np.sort(rng.choice(1 << 40, size=batches * BATCH_ROWS, replace=False))
    encoded = codec.encode_keys(keys.tolist())
    return [pa.record_batch({"k": encoded.slice(i, BATCH_ROWS),
                             "v": pa.array(keys[i:i + BATCH_ROWS])})
            for i in range(0, len(keys), BATCH_ROWS)]


@pytest.mark.parametrize("inputs", [2, 7, 40])
def test_merge_rounds_stay_near_one_batch_whatever_the_inputs(inputs):
    rng = np.random.default_rng(inputs)
    sources = [_sorted_source(rng, 2) for _ in range(inputs)]
    rounds = list(merge_sorted([iter(s) for s in sources]))
    assert max(r.num_rows for r in rounds) <= BATCH_ROWS
    merged = np.concatenate([r.column("v").to_numpy() for r in rounds])
    everything = np.concatenate([b.column("v").to_numpy() for s in sources for b in s])
    assert np.array_equal(merged, np.sort(everything))



def test_map_outputs_are_written_in_full_batches_however_small_the_rounds(tmp_path):
    """Readers pay per batch: a merge's small combined rounds are written BATCH_ROWS at a
    time (the rows in order; a new batch where the value type changes)."""
    values = np.arange(3 * BATCH_ROWS + 5)
    rounds = [pa.record_batch({"k": codec.encode_keys(values[a:b].tolist()),
                               "v": pa.array(values[a:b])})
              for a, b in zip(range(0, len(values), 1000),
                              range(1000, len(values) + 1000, 1000))]
    floats = pa.record_batch({"k": codec.encode_keys([10 ** 9]), "v": pa.array([0.5])})
    writer = PartitionedWriter(str(tmp_path / "out"), 1)
    entry = writer.write_partition([*rounds, floats])
    writer.close()
    read = list(read_segment(str(tmp_path / "out"), entry.offset, entry.length, entry.crc32))
    assert [b.num_rows for b in read] == [BATCH_ROWS] * 3 + [5, 1]
    assert np.array_equal(np.concatenate([b.column("v").to_numpy() for b in read[:4]]), values)
