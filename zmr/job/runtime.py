"""Calling job hooks: grouping sorted batches into ``(key, values)`` and running
combiner/reducer with their ``*_init``/``*_final`` hooks (mrjob's ``map_pairs``/``reduce_pairs``).

``values`` handed to a reducer is a lazy iterator that walks the sorted stream, batch after
batch; the engine never builds the list of a key's values, so one key may have more values
than fit in memory.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zmr.core.errors import FatalError, JobContractError, TaskError
from zmr.job.counters import Counters
from zmr.job.quarantine import Quarantine
from zmr.storage import codec
from zmr.storage.runs import Runs, join_runs

#: Built-in counter of the input records whose mapper call raised and was skipped.
SKIPPED_COUNTER = "MAP_SKIPPED_RECORDS"


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


def batch_runs(batch: pa.RecordBatch) -> Runs:
    """Runs of equal keys inside one sorted batch (see zmr.storage.runs), keys and values
    decoded a batch at a time."""
    keys = batch.column("k")
    starts, _ = key_runs(keys)
    start_keys = keys.take(pa.array(starts))
    return (start_keys.to_pylist(), codec.decode_keys(start_keys),
            codec.decode_values(batch.schema.names[1], batch.column(1)),
            np.append(starts, batch.num_rows).tolist())


def iter_groups(batches: Iterable[pa.RecordBatch]) -> Iterator[tuple[bytes, Any, Iterator[Any]]]:
    """(encoded key, key, values) per distinct key of a key-sorted batch stream."""
    return join_runs(map(batch_runs, batches))


class RecordSkipper:
    """Hadoop's skip mode: a mapper wrapper that drops a record whose mapper call raises,
    logs where it was (to stderr, the attempt's log) and counts it; once more than ``limit``
    records were skipped in this task it fails the task, naming the limit.

    It stands in for the mapper itself (not a second map loop), so the three loops that call
    a mapper (tuples, grouping, map-only) all skip alike, and the default path (no skipping)
    never pays for it. The output is materialised inside the ``try`` because a generator
    mapper raises only when iterated, and a skipped record must leave none of its pairs."""

    def __init__(self, mapper: Callable[[Any, str], Any], limit: int,
                 counters: Counters, position: str = "byte",
                 quarantine: Quarantine | None = None) -> None:
        self.mapper, self.limit, self.counters = mapper, limit, counters
        self.position = position      # what key[1] is: a byte offset, or a step's key
        self.skipped = 0
        # what was skipped, for <output>/_quarantine/ (zmr.job.quarantine)
        self.quarantine = Quarantine() if quarantine is None else quarantine

    def __call__(self, key: tuple[str, int], line: str) -> list[Any] | None:
        try:
            out = self.mapper(key, line)
            return None if out is None else list(out)
        except FatalError:
            raise                     # the job said no record like this may be skipped
        except Exception as exc:  # noqa: BLE001 - any error of the user's mapper is skippable
            self._skip(key, line, exc)
            return None

    def _skip(self, key: tuple[str, int], line: Any, exc: Exception) -> None:
        self.skipped += 1
        where = f"{key[0]} at {self.position} {key[1]!r}"
        detail = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        if self.skipped > self.limit:
            raise TaskError(f"this map task met more bad records than the limit of "
                            f"--skip-bad-records {self.limit} (SKIP_BAD_RECORDS); bad record "
                            f"{self.skipped} in {where}: {detail}") from exc
        self.counters.add(SKIPPED_COUNTER)
        self.quarantine.add(key, line, exc, self.position)
        print(f"zmr: skipped bad record {self.skipped} of at most {self.limit}: {where}: "
              f"{detail}", file=sys.stderr, flush=True)


def skip_limit_problem(limit: int, skipped: int) -> str:
    """Why a job that skipped ``skipped`` records in all fails (empty when it does not): the
    limit is for the whole job, each map task only knows its own share."""
    if limit <= 0 or skipped <= limit:
        return ""
    return (f"the map tasks skipped {skipped} bad records in all, more than the limit of "
            f"--skip-bad-records {limit} (SKIP_BAD_RECORDS)")


def checked_pairs(out: Iterable[Any], what: str) -> Iterator[tuple[Any, Any]]:
    """Pass pairs through, refusing anything that is not a ``(key, value)`` tuple."""
    for item in out:
        if type(item) is not tuple or len(item) != 2:
            raise JobContractError(f"{what} must yield (key, value) pairs, got {item!r}")
        yield item


def call_final(final: Callable[[], Any] | None, what: str) -> Iterable[tuple[Any, Any]]:
    """Run a ``*_final`` hook, which may return nothing or yield pairs."""
    if final is None:
        return ()
    out = final()
    return () if out is None else checked_pairs(out, what)

