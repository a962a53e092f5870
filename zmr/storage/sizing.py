"""How big splits are when the user did not say (``SPLIT_SIZE`` / ``--split-size`` not
given): sized to the input and to the slots that will run the job, Spark's rule
(``FilePartition.maxSplitBytes``)::

    split = min(MAX_SPLIT, max(floor, (bytes + files * OPEN_COST) / (slots * SPLITS_PER_SLOT)))

* ``SPLITS_PER_SLOT = 3``: Spark divides by the parallelism alone; three splits per slot
  make the last wave short (a slot that drew a slow split holds the job up for a third of
  its share, not all of it) and leave the scheduler something to balance with and to
  back up speculatively, for a per-task cost of ~1.5 ms (docs/benchmarks.md), nothing next
  to a split of 64 KiB or more.
* ``OPEN_COST = 32 KiB`` is what a file costs beyond its bytes, counted in the total and
  in each small file's packing weight, so a split of many small files holds fewer bytes
  than one of a big file's range (Spark's ``openCostInBytes``). Spark's 4 MiB is a
  remote file system's open; measured here, a local file read as its own piece of a packed
  split costs ~40 us more than the same bytes in one file, ~20 KiB at the reading rate of
  text (~550 MB/s), plus the stat that checks it has not changed: 32 KiB. With Spark's
  4 MiB, 1,000 files of 4 KiB would be 64 splits instead of a few per slot.
* The floor, ``MIN_SPLIT = 64 KiB``: a split reads up to 64 KiB past its end to finish its
  last line (``splits._TAIL_READ``), so a smaller one reads more than it owns; and the
  splits are never more than one per ``MIN_SPLIT`` of *data*, so a few tiny files (open
  costs, not bytes) stay one split: 1 KB is one map task whatever the cluster.
* ``MAX_SPLIT = 64 MiB``: Spark's ``maxPartitionBytes`` and the old fixed default, so a big
  input is cut exactly as before, and a task's input stays a small share of its memory.

A text file bigger than this size is cut into equal ranges of at most it
(``splits._file_pieces``), so no short tail runs as a task of its own. A user's split size
is used as given: no open cost, no floor, full ranges and a tail, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

SPLITS_PER_SLOT = 3
OPEN_COST = 32 << 10
MIN_SPLIT = 64 << 10
MAX_SPLIT = 64 << 20


def auto_split_size(sizes: Sequence[int], parallelism: int) -> int:
    """The split size for files of ``sizes`` bytes run on ``parallelism`` slots; pieces
    are packed with :data:`OPEN_COST` added to each small file's weight."""
    data = sum(sizes)
    weight = data + len(sizes) * OPEN_COST
    per_slot = -(-weight // (max(1, parallelism) * SPLITS_PER_SLOT))
    # at most one split per MIN_SPLIT of data: a ceiling so that the weights fit
    most_splits = max(1, data // MIN_SPLIT)
    floor = max(MIN_SPLIT, -(-weight // most_splits))
    return min(MAX_SPLIT, max(floor, per_slot))
