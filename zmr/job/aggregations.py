"""Built-in reductions: ``REDUCE = "sum"`` (and ``COMBINER = "sum"``), what each computes.

A job that says ``REDUCE = "sum"`` instead of writing a reducer (its mapper may be a Python
generator or a vectorised ``map_batch``) gets the same output as the Python reducer in the
last column below, but no Python call per key or per value where the values are one plain
type: each spill becomes one *partial* per key, and sorted runs of partials are merged, by
numpy kernels over runs of equal keys, at the map side's final merge and in the reduce task
(zmr/tasks/aggregating.py). This module says what a partial
is and how partials merge, in plain Python: that is the definition, and the fallback for
values no typed column holds (ints beyond int64, mixed types, tuples).

| name | partial | final value | the equivalent Python reducer yields |
|---|---|---|---|
| sum | sum | sum | `sum(values)` |
| count | number of values | count | `sum(1 for _ in values)` |
| min / max | min / max | min / max | `min(values)` / `max(values)` |
| mean | (sum, count) | sum / count | `sum(vs) / len(vs)` |
| first | first value (map task order, then emission order) | that value | `next(values)` |
| collect_list | list of values (same order) | list | `list(values)` |
| collect_set | sorted distinct values | list | `sorted(set(values))` (zmr's key order) |

``collect_set`` is distinct and sorted the way zmr groups and sorts keys (by type, then
value: ``1`` and ``1.0`` stay apart), which for values of one plain type is Python's
``sorted(set(values))``.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import numbers
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from zmr.core.errors import JobContractError
from zmr.storage import codec

#: What a built-in needs its values to be: numbers (sum, mean) or anything.
NUMBERS, ANY = "numbers", "any"


@dataclass(frozen=True)
class Aggregation:
    """One built-in reduction, as a job declared it (``setting`` names the declaration in
    errors; ``on_map``: partials are made on the map side; ``on_reduce``: it is the reducer,
    else the job's own Python reducer gets the partials, which must then be values)."""

    name: str
    lift: Callable[[Any], Any]                  # one value -> its partial
    merge: Callable[[list[Any]], Any]           # partials of one key, in order -> one partial
    finish: Callable[[Any], Any]                # merged partial -> final value
    needs: str = ANY
    partial_is_value: bool = True               # so it may combine for a Python reducer
    setting: str = "REDUCE"
    on_map: bool = True
    on_reduce: bool = True

    def combiner(self, key: Any, values: Iterator[Any]) -> Iterator[tuple[Any, Any]]:
        """The combiner in Python: partials in (zmr makes them from values column-wise,
        zmr/tasks/aggregating.py), one partial out."""
        yield key, self.merge_checked(key, list(values), lifted=True)

    def reducer(self, key: Any, values: Iterator[Any]) -> Iterator[tuple[Any, Any]]:
        """The reducer in Python: partials in if the map side combined, else values."""
        yield key, self.finish(self.merge_checked(key, list(values), lifted=self.on_map))

    def merge_checked(self, key: Any, items: list[Any], lifted: bool) -> Any:
        """Merge one key's ``items`` (partials if ``lifted``, else values) in Python, an
        error naming the key, the value and the setting when a value will not do."""
        try:
            return self.merge(items if lifted else [self.lift(v) for v in items])
        except _NotAValue as exc:
            raise JobContractError(self.refusal(key, exc.value)) from None
        except TypeError as exc:
            raise JobContractError(f"{self.setting} = {self.name!r}: the values of key "
                                   f"{key!r} cannot be aggregated: {exc}") from None

    def refusal(self, key: Any, value: Any) -> str:
        return (f"{self.setting} = {self.name!r} needs numbers (int, float or bool), but "
                f"key {key!r} has the value {value!r} ({type(value).__name__})")


class _NotAValue(Exception):
    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.value = value


def _number(value: Any) -> Any:
    # any real number sums as Python sums it (numpy scalars, Fractions: the Python path)
    if not isinstance(value, numbers.Real):
        raise _NotAValue(value)
    return value


def _mean_partial(value: Any) -> tuple[Any, int]:
    return _number(value), 1


def _merge_mean(partials: Iterable[Any]) -> tuple[Any, int]:
    pairs = [as_pair(p) for p in partials]
    return sum(s for s, _ in pairs), sum(c for _, c in pairs)   # like Python's sum: from 0


def as_pair(partial: Any) -> tuple[Any, int]:
    """A mean partial as (sum, count), from a tuple or a struct row's dict."""
    if isinstance(partial, dict):
        return partial["sum"], partial["count"]
    return partial[0], partial[1]


def _merge_lists(partials: Iterable[list[Any]]) -> list[Any]:
    return list(itertools.chain.from_iterable(partials))


def sorted_distinct(values: Iterable[Any]) -> list[Any]:
    """Distinct values (the first of each encoding) in zmr's key order."""
    by_encoding: dict[bytes, Any] = {}
    for value in values:
        by_encoding.setdefault(codec.encode_key(value), value)
    return [by_encoding[k] for k in sorted(by_encoding)]


def _identity(x: Any) -> Any:
    return x


def _first(partials: list[Any]) -> Any:
    return partials[0]


AGGREGATIONS: dict[str, Aggregation] = {
    a.name: a for a in (
        Aggregation("sum", _number, sum, _identity, NUMBERS),
        Aggregation("count", lambda _v: 1, sum, _identity, partial_is_value=False),
        Aggregation("min", _identity, min, _identity),
        Aggregation("max", _identity, max, _identity),
        Aggregation("mean", _mean_partial, _merge_mean, lambda p: p[0] / p[1], NUMBERS,
                    partial_is_value=False),
        Aggregation("first", _identity, _first, _identity),
        Aggregation("collect_list", lambda v: [v], _merge_lists, _identity,
                    partial_is_value=False),
        Aggregation("collect_set", lambda v: [v],
                    lambda ps: sorted_distinct(itertools.chain.from_iterable(ps)), _identity,
                    partial_is_value=False),
    )
}


def unknown_name(setting: str, name: str, allowed: Iterable[str]) -> str:
    """Why ``setting = name`` names no built-in: the valid names and the nearest one."""
    allowed = list(allowed)
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f": did you mean {close[0]!r}?" if close else ""
    return f"{setting} = {name!r} is not one of {', '.join(allowed)}{hint}"


def declared(name: str, setting: str, on_map: bool, on_reduce: bool) -> Aggregation:
    """The built-in ``name`` as a job declared it (a name from ``AGGREGATIONS``)."""
    return dataclasses.replace(AGGREGATIONS[name], setting=setting, on_map=on_map,
                               on_reduce=on_reduce)
