"""How map output keys are sorted, partitioned and grouped: secondary sort and total order.

By default a record's sort key is its key, and partitions and reduce groups are made of
equal keys. :class:`KeyOrder` changes that in three ways, all through the *group prefix*
of a record's encoded sort key (``codec.encode_key``):

* ``sort_values`` (mrjob's ``SORT_VALUES``): the sort key is the tuple ``(key, value)``,
  so the one external sort that orders keys also orders each key's values, beyond memory
  too; the group prefix is the encoding of ``key`` inside it.
* ``group_by = n`` (Hadoop's grouping comparator): keys are tuples, sorted on all their
  elements, while partitions and reduce groups are made on the first ``n``.
* ``cuts`` (``PARTITIONER = "total_order"``): group prefixes are range-partitioned by
  sorted cut points sampled before the map phase, so partition r holds only prefixes
  below those of partition r+1.

The encoding makes this exact: a tuple is its tag, then each element's self-delimiting
encoding, so the prefix of the first n elements orders groups exactly as the whole keys
order, and equal prefixes mean equal groups.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from zmr.core.errors import JobContractError
from zmr.storage import codec
from zmr.storage.partition import partition_ids
from zmr.storage.runs import Runs, join_runs

Partitioner = Callable[[Any, int], int]


@dataclass(frozen=True)
class KeyOrder:
    """Secondary sort, grouping and range cuts of one job (all off: plain key order)."""

    sort_values: bool = False
    group_by: int = 0                 # 0: group on the whole key
    cuts: tuple[bytes, ...] = ()      # encoded group prefixes; partition r < cuts[r]
    total_order: bool = False         # range partitioning (cuts may be empty: one range)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> KeyOrder:
        d = d or {}
        return cls(bool(d.get("sort_values")), int(d.get("group_by", 0)),
                   tuple(bytes.fromhex(c) for c in d.get("cuts", ())),
                   bool(d.get("total_order")))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form carried by plans and task specs (empty when plain)."""
        if self.plain:
            return {}
        return {"sort_values": self.sort_values, "group_by": self.group_by,
                "cuts": [c.hex() for c in self.cuts], "total_order": self.total_order}

    @property
    def plain(self) -> bool:
        return not (self.sort_values or self.group_by or self.total_order)

    @property
    def regroups(self) -> bool:
        """Whether reduce groups differ from runs of equal sort keys."""
        return self.sort_values or self.group_by > 0

    # -- map side ----------------------------------------------------------------------
    def sort_keys(self, keys: Sequence[Any], values: Sequence[Any]) -> list[Any]:
        """What each record is sorted on: ``(key, value)`` under ``sort_values``."""
        if self.group_by:
            for key in keys:
                self._check_composite(key)
        if self.sort_values:
            return list(zip(keys, values))
        return list(keys)

    def _check_composite(self, key: Any) -> None:
        if type(key) not in (tuple, list) or len(key) < self.group_by:
            raise JobContractError(f"GROUP_BY = {self.group_by} needs keys that are tuples "
                                   f"of at least {self.group_by} elements, got key {key!r}")

    def group_prefix(self, encoded: bytes) -> bytes:
        """The part of an encoded sort key that decides its partition and reduce group."""
        if self.sort_values:
            encoded = encoded[1:codec.element_end(encoded, 1)]   # the key inside (key, value)
        return self._leading(encoded)

    def key_prefix(self, key: Any) -> bytes:
        """The group prefix of records with this key (sampling needs no values for it)."""
        if self.group_by:
            self._check_composite(key)
        return self._leading(codec.encode_key(key))

    def _leading(self, encoded: bytes) -> bytes:
        """The first ``group_by`` elements of an encoded tuple key (all of any key if 0)."""
        if not self.group_by:
            return encoded
        pos = 1
        for _ in range(self.group_by):
            pos = codec.element_end(encoded, pos)
        return encoded[:pos]

    def user_key(self, encoded: bytes) -> Any:
        """The key as the job emitted it, from its encoded sort key (under ``sort_values``
        only the key inside ``(key, value)`` is decoded, not the value)."""
        return codec.first_element(encoded) if self.sort_values else codec.decode_key(encoded)

    def partitions(self, encoded: pa.Array, num_partitions: int,
                   partitioner: Partitioner | None, check: Callable[..., int]) -> np.ndarray:
        """The partition of each (distinct) encoded sort key."""
        if self.plain:
            raise AssertionError("plain key order partitions in zmr.storage.sorting")
        if partitioner is not None:
            keys = [self.user_key(b) for b in encoded.to_pylist()]
            return np.array([check(partitioner, k, num_partitions) for k in keys],
                            dtype=np.int32)
        if self.regroups and not self.total_order:
            return partition_ids(self.prefix_array(encoded), num_partitions)
        prefixes = [self.group_prefix(b) for b in encoded.to_pylist()]
        if self.total_order:
            return np.array([min(bisect.bisect_right(self.cuts, p), num_partitions - 1)
                             for p in prefixes], dtype=np.int32)
        return partition_ids(encoded, num_partitions)

    def prefix_array(self, encoded: pa.Array) -> pa.Array:
        """The group prefix of every encoded sort key, as a binary array (in C if built)."""
        prefixes = codec.group_prefixes(encoded, self.sort_values, self.group_by)
        if prefixes is None:
            prefixes = pa.array(map(self.group_prefix, encoded.to_pylist()), pa.binary())
        return prefixes

    # -- reduce side -------------------------------------------------------------------
    def groups(self, batches: Iterable[pa.RecordBatch]
               ) -> Iterator[tuple[bytes, Any, Iterator[Any]]]:
        """(group prefix, key, values) per reduce group of a sorted batch stream: the key
        is that of the group's first (smallest) record, as in Hadoop."""
        return join_runs(map(self._batch_runs, batches))

    def _batch_runs(self, batch: pa.RecordBatch) -> Runs:
        """Runs of one group in a sorted batch (see zmr.storage.runs), found in C when it
        was built (no Python per row); a run's key is that of its first record."""
        keys = batch.column("k")
        starts = codec.group_prefix_runs(keys, self.sort_values, self.group_by)
        if starts is None:
            prefixes = list(map(self.group_prefix, keys.to_pylist()))
            starts = np.flatnonzero([i == 0 or p != prefixes[i - 1]
                                     for i, p in enumerate(prefixes)])
        firsts = keys.take(pa.array(starts)).to_pylist()
        return ([self.group_prefix(k) for k in firsts], [self.user_key(k) for k in firsts],
                codec.decode_values(batch.schema.names[1], batch.column(1)),
                np.append(starts, batch.num_rows).tolist())


def cut_points(prefixes: Sequence[bytes], num_partitions: int) -> tuple[bytes, ...]:
    """``num_partitions - 1`` cut points splitting sorted samples into equal ranges
    (Hadoop's InputSampler.writePartitionFile): repeated samples are cut once, so a
    heavily repeated key may leave some partitions empty but never splits a group."""
    ordered = sorted(prefixes)
    cuts: list[bytes] = []
    for r in range(1, num_partitions):
        if not ordered:
            break
        cut = ordered[min(len(ordered) - 1, r * len(ordered) // num_partitions)]
        if not cuts or cut > cuts[-1]:
            cuts.append(cut)
    return tuple(cuts)
