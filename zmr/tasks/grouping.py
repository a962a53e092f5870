"""Map-side grouping buffer for jobs with a combiner: values collected per key in a dict.

With a combiner, a spill only needs each key's values together, so instead of buffering one
``(key, value)`` tuple per record and sorting them all (Hadoop's way), pairs are grouped as
they are emitted and only the *distinct* keys are sorted at spill time. On Zipf-like output
(word count: ~1.5M pairs but ~50k distinct words per 8 MB of text) that halves the map side.

Grouping by dict uses Python equality, while zmr groups keys by their encoding (``True``,
``1`` and ``1.0`` are three keys). The two agree when every key is exactly a ``str``: only a
str (or a str subclass, which zmr encodes as the plain str anyway) can equal a str. So every
new key is checked to be a ``str``; the first one that is not ends grouping for the rest of
the task (``GroupingBuffer.feed`` returns what is left and the caller switches to tuples).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

#: Bytes per distinct key beyond the key itself: dict entry and a small list.
KEY_OVERHEAD = 56 + 32 + 48
#: Bytes per buffered value beyond the value itself: a list slot, with growth slack.
VALUE_OVERHEAD = 9


@dataclass
class Unfit:
    """Where grouping stopped: the pairs of the current mapper call not yet buffered (the
    offending one first) and the records not yet mapped."""

    pairs: Iterator[Any]
    records: Iterator[tuple[int, str]]


class GroupingBuffer:
    """Values per str key, in emission order; counts the pairs it holds."""

    def __init__(self) -> None:
        self.groups: dict[str, list[Any]] = {}
        self.pairs = 0
        self._key_bytes = 0
        self._value_bytes = 0

    def feed(self, mapper: Callable[[Any, str], Any], path: str,
             records: Iterable[tuple[int, str]]) -> Unfit | None:
        """Map ``records`` into the groups; stop at the first pair that cannot be grouped."""
        groups, get, count = self.groups, self.groups.get, 0
        records = iter(records)
        try:
            for offset, line in records:
                out = mapper((path, offset), line)
                if out is None:
                    continue
                pairs = iter(out)
                for pair in pairs:
                    try:
                        key, value = pair
                        values = get(key)
                    except (TypeError, ValueError):   # not a pair, or an unhashable key
                        return Unfit(itertools.chain((pair,), pairs), records)
                    if values is None:
                        if type(key) is not str:
                            return Unfit(itertools.chain((pair,), pairs), records)
                        groups[key] = values = []
                    values.append(value)
                    count += 1
        finally:
            self.pairs += count
        return None

    def add(self, pairs: Iterable[Any]) -> Unfit | None:
        """Group already-made pairs (from ``mapper_final``)."""
        return self.feed(lambda _key, _line: pairs, "", ((0, ""),))

    def estimated_bytes(self) -> int:
        if not self.groups:
            return 0
        if not self._key_bytes:
            self._measure()
        return len(self.groups) * self._key_bytes + self.pairs * self._value_bytes

    def _measure(self) -> None:
        sample = list(itertools.islice(self.groups.items(), 64))
        self._key_bytes = KEY_OVERHEAD + sum(sys.getsizeof(k) for k, _ in sample) // len(sample)
        values = [v for _, vs in sample for v in vs[:4]]
        owned = sum(sys.getsizeof(v) for v in values if sys.getrefcount(v) <= 4)
        self._value_bytes = VALUE_OVERHEAD + owned // max(1, len(values))

    def take(self) -> tuple[list[str], list[list[Any]], int]:
        """Empty the buffer: (keys, their value lists, number of pairs)."""
        keys, lists, pairs = list(self.groups), list(self.groups.values()), self.pairs
        self.groups, self.pairs = {}, 0
        return keys, lists, pairs

    def as_pairs(self) -> Iterator[tuple[str, Any]]:
        """Empty the buffer into pairs (each key's values in emission order)."""
        keys, lists, _ = self.take()
        for key, values in zip(keys, lists):
            yield from zip(itertools.repeat(key, len(values)), values)
