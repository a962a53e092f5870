"""Map-side grouping buffer for jobs with a combiner: values collected per key in a dict.

With a combiner, a spill only needs each key's values together, so instead of buffering one
``(key, value)`` tuple per record and sorting them all (Hadoop's way), pairs are grouped as
they are emitted and only the *distinct* keys are sorted at spill time. On Zipf-like output
(word count: ~1.5M pairs but ~50k distinct words per 8 MB of text) that halves the map side.

Grouping by dict uses Python equality, while zmr groups keys by their encoding (``True``,
``1`` and ``1.0`` are three keys). The two agree when every key is exactly a ``str``: only a
str (or a str subclass, which zmr encodes as the plain str anyway) can equal a str. So every
new key is checked to be a ``str``; the first one that is not (or a pair that is not a
2-tuple) ends grouping for the rest of the task (``GroupingBuffer.feed`` returns what is
left and the caller switches to tuples). The loop itself is ``accel.group_records``.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from zmr.tasks import accel


@dataclass
class Unfit:
    """Where grouping stopped: the pairs of the current mapper call not yet buffered (the
    offending one first) and the records not yet mapped."""

    pairs: Iterator[Any]
    records: Iterator[tuple[int, str]]


#: What spilling the buffer needs per distinct key on top of the buffer, for a key of n
#: characters: ``SPILL_KEY_BYTES + SPILL_KEY_CHAR_BYTES * n`` (Arrow copies of the keys:
#: their column, encoding, sorted order and output; numpy index arrays; list slots).
#: Measured as the tracemalloc peak plus the Arrow pool's peak over a spill: 170 B per key
#: on bigram's 10-character keys, 246 B on word count's 8 (more keys go through the
#: combiner there). Bigram's spill needs 0.9x its buffer again: counting it keeps the peak,
#: not just the buffer, inside the budget.
SPILL_KEY_BYTES = 160
SPILL_KEY_CHAR_BYTES = 5


class GroupingBuffer:
    """Values per str key, in emission order; counts the pairs it holds and the value slots
    they take (fewer than pairs when the C loop stores a run of one object as one slot)."""

    def __init__(self) -> None:
        self.groups: dict[str, accel.Values] = {}
        self.pairs = 0
        self.slots = 0
        self._key_bytes = 0
        self._value_bytes = 0
        self._spill_key_bytes = 0

    def feed(self, mapper: Callable[[Any, str], Any], path: str,
             records: Iterable[tuple[int, str]]) -> Unfit | None:
        """Map ``records`` into the groups; stop at the first pair that cannot be grouped."""
        records = iter(records)
        count, slots, unfit = accel.group_records(self.groups, mapper, path, records)
        self.pairs += count
        self.slots += slots
        return None if unfit is None else Unfit(accel.chained(*unfit), records)

    def add(self, pairs: Iterable[Any]) -> Unfit | None:
        """Group already-made pairs (from ``mapper_final``)."""
        return self.feed(lambda _key, _line: pairs, "", ((0, ""),))

    def estimated_bytes(self) -> int:
        """What the buffer holds (:meth:`held_bytes`) and what its spill will need."""
        return self.held_bytes() + len(self.groups) * self._spill_key_bytes

    def held_bytes(self) -> int:
        """The memory the buffer holds: keys, their value lists and the dict, from the
        sizes of a sample of them (measured once, on the first 64 keys)."""
        if not self.groups:
            return 0
        if not self._key_bytes:
            self._measure()
        return len(self.groups) * self._key_bytes + self.slots * self._value_bytes

    def _measure(self) -> None:
        sample = list(itertools.islice(self.groups.items(), 64))
        key_bytes = sum(sys.getsizeof(k) for k, _ in sample) // len(sample)
        self._key_bytes = accel.GROUP_BYTES + key_bytes
        chars = sum(len(k) for k, _ in sample) // len(sample)
        self._spill_key_bytes = SPILL_KEY_BYTES + SPILL_KEY_CHAR_BYTES * chars
        # a value repeated in a run is referenced more than once: counted as shared
        values = [v for _, vs in sample for v in itertools.islice(vs, 4)]
        owned = sum(sys.getsizeof(v) for v in values if sys.getrefcount(v) <= 4)
        self._value_bytes = accel.SLOT_BYTES + owned // max(1, len(values))

    def take(self) -> tuple[list[str], list[accel.Values], int]:
        """Empty the buffer: (keys, their values, number of pairs)."""
        keys, lists, pairs = list(self.groups), list(self.groups.values()), self.pairs
        self.groups, self.pairs, self.slots = {}, 0, 0
        return keys, lists, pairs

    def as_pairs(self) -> Iterator[tuple[str, Any]]:
        """Empty the buffer into pairs (each key's values in emission order)."""
        keys, lists, _ = self.take()
        for key, values in zip(keys, lists):
            yield from zip(itertools.repeat(key, len(values)), values)
