"""The coalescing rule, a pure function: partition sizes and slots in, ranges of adjacent
partitions out (``zmr.core.coalescing``)."""

from __future__ import annotations

import random

import pytest

from zmr.core.coalescing import (
    ADVISORY_BYTES,
    MAX_SEGMENTS,
    MIN_BYTES,
    coalesce,
    partition_sizes,
    target_bytes,
)

MB = 1 << 20


def covers_in_order(ranges, partitions):
    """Every partition once, in order, no range empty."""
    return ([r for first, last in ranges for r in range(first, last)] == list(range(partitions))
            and all(first < last for first, last in ranges))


def test_a_tiny_output_is_one_task_whatever_the_slots():
    assert coalesce([100, 0, 2000, 5, 0, 0, 7, 1], slots=8) == [(0, 8)]


def test_a_big_output_uses_every_slot():
    ranges = coalesce([8 * MB] * 8, slots=4)
    assert ranges == [(0, 2), (2, 4), (4, 6), (6, 8)]


def test_no_task_reads_more_than_the_advisory_size_unless_one_partition_does():
    ranges = coalesce([30 * MB, 30 * MB, 30 * MB, 100 * MB, 1 * MB], slots=1)
    assert ranges == [(0, 2), (2, 3), (3, 4), (4, 5)]
    assert target_bytes(10 << 30, 1) == ADVISORY_BYTES


def test_empty_partitions_cost_no_task():
    sizes = [0, 0, 3 * MB, 0, 0, 3 * MB, 0, 0]
    ranges = coalesce(sizes, slots=2)
    assert ranges == [(0, 5), (5, 8)]


def test_the_target_is_a_share_per_slot_between_the_floor_and_the_advisory_size():
    assert target_bytes(0, 4) == MIN_BYTES
    assert target_bytes(10 * MB, 2) == 5 * MB
    assert target_bytes(10 * MB, 0) == 10 * MB          # no slot known: one share


@pytest.mark.parametrize("seed", range(20))
def test_ranges_always_cover_every_partition_once_in_order(seed):
    rng = random.Random(seed)
    sizes = [rng.choice([0, 0, rng.randrange(1, 40 * MB)]) for _ in range(rng.randrange(1, 60))]
    slots = rng.randrange(1, 9)
    ranges = coalesce(sizes, slots)
    assert covers_in_order(ranges, len(sizes))
    target = target_bytes(sum(sizes), slots)
    for first, last in ranges:
        held = sum(sizes[first:last])
        assert held <= target or last - first == 1 or \
            sum(1 for s in sizes[first:last] if s) == 1, (sizes, ranges)
    if max(sizes) <= target:      # then no task holds more than the target: enough tasks
        assert len(ranges) >= -(-sum(sizes) // target)


def test_a_task_of_many_maps_spans_few_enough_partitions_to_list_its_segments():
    maps = MAX_SEGMENTS // 3                  # tiny outputs, but 3 partitions' segments fill a task
    ranges = coalesce([10] * 10, slots=1, maps=maps)
    assert ranges == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert coalesce([10] * 4, slots=1, maps=2 * MAX_SEGMENTS) == [(0, 1), (1, 2), (2, 3), (3, 4)]


def test_partition_sizes_sum_every_map_output():
    assert partition_sizes([[1, 0, 5], [2, 3, 0]], 3) == [3, 3, 5]
