"""Declarative reductions: ``REDUCE = "sum"`` and friends, run as Arrow ``group_by`` kernels.

A job that says ``REDUCE = "sum"`` instead of writing a reducer gets:

* on the map side, each spill aggregated by Arrow's hash ``group_by`` (no Python call per
  record): one *partial* per distinct key;
* partials merged in Python once per key group when runs are merged and in the reducer,
  where the number of records is already small;
* the final value computed from the merged partial.

| name | partial state | final value |
|---|---|---|
| sum | sum | sum |
| count | number of values | count |
| min / max | min / max | min / max |
| mean | (sum, count) | sum / count |
| first | first value (map task order, then emission order) | that value |
| collect_list | list of values (same order) | list |
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Aggregation:
    """How one declarative reduction computes, merges and finishes its partials."""

    name: str
    arrow: tuple[tuple[str, Any], ...]         # group_by aggregations over column "v"
    merge: Callable[[Iterator[Any]], Any]      # partials of one key -> one partial
    finish: Callable[[Any], Any]               # merged partial -> final value

    def partials(self, codes: pa.Array, values: pa.Array) -> tuple[pa.Array, pa.Array]:
        """(distinct code, partial) for each distinct code, computed by Arrow."""
        table = pa.table({"c": codes, "v": values})
        specs = [("v", fn, opts) if opts is not None else ("v", fn) for fn, opts in self.arrow]
        out = table.group_by("c", use_threads=False).aggregate(specs)
        columns = [out.column(f"v_{fn}") for fn, _ in self.arrow]
        if self.name == "mean":
            partial = pa.array(list(zip(columns[0].to_pylist(), columns[1].to_pylist())))
        else:
            partial = columns[0].combine_chunks()
        return out.column("c").combine_chunks(), partial

    def combiner(self, key: Any, values: Iterator[Any]) -> Iterator[tuple[Any, Any]]:
        yield key, self.merge(values)

    def reducer(self, key: Any, values: Iterator[Any]) -> Iterator[tuple[Any, Any]]:
        yield key, self.finish(self.merge(values))


def _merge_mean(values: Iterator[Any]) -> tuple[float, int]:
    total, count = 0.0, 0
    for s, c in values:
        total += s
        count += c
    return total, count


def _merge_lists(values: Iterator[Any]) -> list[Any]:
    merged: list[Any] = []
    for part in values:
        merged.extend(part)
    return merged


def _identity(x: Any) -> Any:
    return x


_COUNT_ALL = pc.CountOptions(mode="all")
AGGREGATIONS: dict[str, Aggregation] = {
    a.name: a for a in (
        Aggregation("sum", (("sum", None),), sum, _identity),
        Aggregation("count", (("count", _COUNT_ALL),), sum, _identity),
        Aggregation("min", (("min", None),), min, _identity),
        Aggregation("max", (("max", None),), max, _identity),
        Aggregation("mean", (("sum", None), ("count", _COUNT_ALL)), _merge_mean,
                    lambda p: p[0] / p[1]),
        Aggregation("first", (("first", None),), lambda vs: next(iter(vs)), _identity),
        Aggregation("collect_list", (("list", None),), _merge_lists, _identity),
    )
}
