"""Reduce groups from sorted batches: runs of one group inside each batch, joined across
batches, with each group's values read lazily.

A sorted batch is cut into runs (rows of one key, or of one group prefix under secondary
sort) by vectorised code; :func:`join_runs` then joins a run that ends a batch with the
runs of the same group starting the next ones. A reducer gets its group's values as an
iterator that reads the next batch only when it gets there, so one key may have more values
than fit in memory; moving on to the next group skips what it left unread
(``itertools.groupby``'s contract).

With zmr's C extension this is ``zmr._speedups.Groups`` (zmr/_groups.c): per value a list
read, per run a bytes comparison. :func:`join_runs_py` is the reference; the key codec's
switch (``codec.select``, ``ZMR_PURE_PYTHON``) chooses between them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any

from zmr.storage import codec

#: One sorted batch as runs: (group of each run (bytes), key of each run, the batch's
#: values, bounds) where run r's values are values[bounds[r]:bounds[r + 1]].
Runs = tuple[list[bytes], list[Any], list[Any], list[int]]
Group = tuple[bytes, Any, Iterator[Any]]


def join_runs(parts: Iterable[Runs]) -> Iterator[Group]:
    """(group, key of its first run, lazy values) per group of a sorted stream of runs."""
    speedups = codec.speedups()
    return join_runs_py(parts) if speedups is None else speedups.Groups(parts)


def join_runs_py(parts: Iterable[Runs]) -> Iterator[Group]:
    """The Python reference of ``zmr._speedups.Groups``."""
    runs = ((group, key, iter(values[start:end])) for groups, keys, values, bounds in parts
            for group, key, start, end in zip(groups, keys, bounds, bounds[1:]))
    for group, same in itertools.groupby(runs, key=itemgetter(0)):
        _, key, first = next(same)
        yield group, key, itertools.chain(first, itertools.chain.from_iterable(
            map(itemgetter(2), same)))  # noqa: B031  (consumed once, by the reducer)
