"""Coalescing reduce partitions (Spark AQE's ``coalescePartitions``): once every map has
run, the reduce partitions whose map outputs turned out small are merged into fewer reduce
tasks, each reading a range ``[first, last)`` of **adjacent** partitions.

It applies only when the user did not choose ``NUM_REDUCERS`` (``JobPlan.coalesce``): an
explicit number is that many part files. Adjacent only: under ``PARTITIONER =
"total_order"`` partition r holds keys below partition r+1's, so part files stay in global
order; a task merges its partitions' sorted runs, so keys stay sorted within a part file.

The rule (:func:`coalesce`), with Spark's defaults for parallelism first: the target input
of a task is the job's map output divided by the slots that run it, at most
``ADVISORY_BYTES`` (64 MB, Spark's ``advisoryPartitionSizeInBytes``), at least
``MIN_BYTES`` (1 MB, Spark's ``minPartitionSize``). Dividing by the slots keeps a big job on
every slot: each task holds at most the target (or one partition bigger than it), so there
are at least total / target tasks, about one per slot or more, whenever the partitions
allow. The floor keeps a tiny job from paying a task's start, fetch and commit for a few
kilobytes. Empty partitions join their neighbour: they cost no task. A task also spans no
more partitions than keep its list of segments (maps x partitions) under ``MAX_SEGMENTS``.
Pure: sizes in, ranges out.
"""

from __future__ import annotations

from collections.abc import Sequence

#: The most map output bytes one coalesced reduce task reads (Spark's advisory size).
ADVISORY_BYTES = 64 << 20
#: Below this, a task is not worth its own start, fetch and commit (Spark's minimum).
MIN_BYTES = 1 << 20
#: The most map output segments (one per map and partition) a coalesced reduce task reads:
#: its assignment lists them all (~250 bytes each on the wire, whose payloads stop at
#: 16 MB), and a job of thousands of maps with tiny outputs would otherwise list millions.
MAX_SEGMENTS = 20_000


def target_bytes(total: int, slots: int, advisory: int = ADVISORY_BYTES,
                 minimum: int = MIN_BYTES) -> int:
    """How many bytes of map output one reduce task should read: an equal share per slot,
    capped at ``advisory`` and never below ``minimum``."""
    share = -(-total // max(1, slots))          # rounded up: the shares cover the total
    return max(minimum, min(advisory, share))


def coalesce(sizes: Sequence[int], slots: int, advisory: int = ADVISORY_BYTES,
             minimum: int = MIN_BYTES, maps: int = 1) -> list[tuple[int, int]]:
    """The reduce tasks for partitions of ``sizes`` bytes (in partition order) of ``maps``
    map outputs: ranges ``(first, last)`` of adjacent partitions, covering every partition
    once, in order; a partition starts a new range if it has data and would take the
    current one over the target, or if the range already spans as many partitions as
    ``MAX_SEGMENTS`` allows. At least one range when there are partitions, so a job always
    writes a part file."""
    if not sizes:
        return []
    target = target_bytes(sum(sizes), slots, advisory, minimum)
    widest = max(1, MAX_SEGMENTS // max(1, maps))
    ranges: list[tuple[int, int]] = []
    first, held = 0, 0
    for index, size in enumerate(sizes):
        if index - first >= widest or size and held and held + size > target:
            ranges.append((first, index))
            first, held = index, 0
        held += size
    ranges.append((first, len(sizes)))
    return ranges


def partition_sizes(outputs: Sequence[Sequence[int]], partitions: int) -> list[int]:
    """Bytes per partition summed over map outputs, each the byte length of its
    partitions in order (``MapManifest.partitions[r].length``)."""
    sizes = [0] * partitions
    for lengths in outputs:
        for r, length in enumerate(lengths):
            sizes[r] += length
    return sizes
