"""Calling job hooks: grouping sorted batches into ``(key, values)`` and running
combiner/reducer with their ``*_init``/``*_final`` hooks (mrjob's ``map_pairs``/``reduce_pairs``).

``values`` handed to a reducer is a lazy iterator that walks the sorted stream, batch after
batch; the engine never builds the list of a key's values, so one key may have more values
than fit in memory.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zmr.storage import codec


def key_runs(keys: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Start and end rows of each run of equal keys in a sorted key column."""
    n = len(keys)
    if n > 1:
        changes = pc.not_equal(keys.slice(1), keys.slice(0, n - 1)).to_numpy(
            zero_copy_only=False)
        starts = np.concatenate(([0], np.flatnonzero(changes) + 1))
    else:
        starts = np.zeros(n, dtype=np.int64)
    return starts, np.append(starts[1:], n)


def batch_runs(batch: pa.RecordBatch) -> Iterator[tuple[bytes, Any, Iterator[Any]]]:
    """Runs of equal keys inside one sorted batch: (encoded key, key, values)."""
    if batch.num_rows == 0:
        return
    keys = batch.column("k")
    starts, ends = key_runs(keys)
    start_keys = keys.take(pa.array(starts))
    encoded = start_keys.to_pylist()
    decoded = codec.decode_keys(start_keys)
    values = codec.decode_values(batch.schema.names[1], batch.column(1))
    for kb, key, s, e in zip(encoded, decoded, starts.tolist(), ends.tolist()):
        yield kb, key, iter(values[s:e])


def iter_groups(batches: Iterable[pa.RecordBatch]) -> Iterator[tuple[bytes, Any, Iterator[Any]]]:
    """(encoded key, key, values) per distinct key of a key-sorted batch stream."""
    runs = itertools.chain.from_iterable(map(batch_runs, batches))
    for kb, same_key in itertools.groupby(runs, key=itemgetter(0)):
        _, key, first = next(same_key)
        yield kb, key, itertools.chain(first, itertools.chain.from_iterable(
            map(itemgetter(2), same_key)))


def map_records(mapper: Callable[[Any, str], Any], path: str,
                records: Iterable[tuple[int, str]], extend: Callable[[Any], None]) -> None:
    """The plain map loop: ``mapper((path, offset), line)`` per record, what it yields (or
    returns) handed to ``extend`` (a list's, mostly: pairs are checked when they are used)."""
    for offset, line in records:
        out = mapper((path, offset), line)
        if out is not None:
            extend(out)


def checked_pairs(out: Iterable[Any], what: str) -> Iterator[tuple[Any, Any]]:
    """Pass pairs through, refusing anything that is not a ``(key, value)`` tuple."""
    for item in out:
        if type(item) is not tuple or len(item) != 2:
            raise TypeError(f"{what} must yield (key, value) pairs, got {item!r}")
        yield item


def call_final(final: Callable[[], Any] | None, what: str) -> Iterable[tuple[Any, Any]]:
    """Run a ``*_final`` hook, which may return nothing or yield pairs."""
    if final is None:
        return ()
    out = final()
    return () if out is None else checked_pairs(out, what)

