"""Counters: Hadoop-style named integers, grouped, merged exactly once per committed attempt.

Built-in counters live in the ``zmr`` group under Hadoop's TaskCounter names
(``MAP_INPUT_RECORDS``, ``SPILLED_RECORDS``, ...). Job code adds its own with
:func:`increment_counter`; the counts of an attempt travel with its result and are added to
the job's totals only if that attempt is the one that committed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

BUILTIN_GROUP = "zmr"
#: Map tasks that reused a kept output instead of running (``--reuse``, zmr.tasks.reuse).
MAPS_REUSED = "MAPS_REUSED"
CounterDict = dict[str, dict[str, int]]


class Counters:
    """A mutable ``{group: {name: int}}`` table."""

    def __init__(self, initial: CounterDict | None = None) -> None:
        self._groups: defaultdict[str, defaultdict[str, int]] = defaultdict(
            lambda: defaultdict(int))
        if initial:
            self.merge(initial)

    def increment(self, group: str, name: str, amount: int = 1) -> None:
        self._groups[group][name] += amount

    def add(self, name: str, amount: int = 1) -> None:
        """Increment a built-in counter."""
        self._groups[BUILTIN_GROUP][name] += amount

    def get(self, name: str, group: str = BUILTIN_GROUP) -> int:
        counts = self._groups.get(group)
        return counts.get(name, 0) if counts else 0

    def merge(self, other: CounterDict | Counters) -> None:
        table = other.to_dict() if isinstance(other, Counters) else other
        for group, names in table.items():
            for name, value in names.items():
                self._groups[group][name] += int(value)

    def to_dict(self) -> CounterDict:
        return {g: dict(sorted(n.items())) for g, n in sorted(self._groups.items())}

    def __repr__(self) -> str:
        return f"Counters({self.to_dict()!r})"


# The counters of the attempt running in this process; set by the task runner so job code
# can count without being handed an object (mrjob's self.increment_counter, as a function).
_current: Counters | None = None


def increment_counter(group: str, name: str, amount: int = 1) -> None:
    """Add ``amount`` to the user counter ``group``/``name`` of the running task.

    Counts are kept per attempt and added to the job's totals once, from the attempt that
    committed, so retried and speculative attempts never count twice.
    """
    if not isinstance(group, str) or not isinstance(name, str):
        raise TypeError("counter group and name must be str")
    if not isinstance(amount, int):
        raise TypeError(f"counter amount must be an int, got {type(amount).__name__}")
    if _current is not None:
        _current.increment(group, name, amount)


class counting_into:
    """Context manager that routes :func:`increment_counter` into ``counters``."""

    def __init__(self, counters: Counters) -> None:
        self.counters = counters
        self._saved: Any = None

    def __enter__(self) -> Counters:
        global _current
        self._saved, _current = _current, self.counters
        return self.counters

    def __exit__(self, *exc: object) -> None:
        global _current
        _current = self._saved
