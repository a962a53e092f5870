"""The map side's per-record loops, in C when ``zmr._speedups`` was built, else in Python.

Both loops run the user's mapper once per input record and put what it yields in the map
buffer; they are the engine's innermost per-pair code. With a combiner, a grouped buffer's
spill then loops over its distinct keys (``group_sizes``, ``take_items``, ``first_values``):
on a bigram count nearly every pair is a key of its own, so these are per-pair too. And
the loops around a Python combiner (``combine_groups``) and, on the reduce side, around a
Python reducer writing text (``reduce_text``).

``pip install`` compiles the C version (zmr/_speedups.c) with the machine's compiler;
without one, or with
``ZMR_PURE_PYTHON=1`` in the environment, the Python functions below run instead. They are
the reference: same results, same errors, and the tests run both (tests/tasks/conftest.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import itemgetter
from typing import Any

import numpy as np

from zmr.core.speedups import compiled

Records = Iterable[tuple[int, str]]
#: One key's buffered values: a list, or the C version's ValueRuns (len, iteration, [i]).
Values = Sequence[Any]
#: (pairs grouped, value slots they took, None or (the first pair that could not be
#: grouped, the rest of its mapper call's pairs))
Grouped = tuple[int, int, "tuple[Any, Iterator[Any]] | None"]


def group_records_py(groups: dict[str, list[Any]], mapper: Callable[[Any, str], Any],
                     path: str, records: Records) -> Grouped:
    """``groups[key].append(value)`` for every pair ``mapper((path, offset), line)`` yields,
    up to the first pair that does not unpack into two, has an unhashable key or a new key
    that is not exactly a str; ``records`` (an iterator) is then left just past that
    record. Each value takes a list slot (the C version stores runs of one object as one
    slot, and stops at any pair that is not a tuple: both fall back to the same tuple path,
    so only the speed of such odd mappers differs)."""
    get, count = groups.get, 0
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
                return count, count, (pair, pairs)
            if values is None:
                if type(key) is not str:
                    return count, count, (pair, pairs)
                groups[key] = values = []
            values.append(value)
            count += 1
    return count, count, None


def extend_records_py(extend: Callable[[Any], None], mapper: Callable[[Any, str], Any],
                      path: str, records: Records) -> None:
    """The plain map loop: ``extend(out)`` for each non-None ``mapper((path, offset), line)``
    (a list's ``extend``, mostly: pairs are checked when they are used)."""
    for offset, line in records:
        out = mapper((path, offset), line)
        if out is not None:
            extend(out)


def group_sizes_py(groups: list[Values]) -> np.ndarray:
    """``len()`` of each of a grouped buffer's groups (ValueRuns or lists), as int64s."""
    return np.fromiter(map(len, groups), dtype=np.int64, count=len(groups))


def take_items_py(items: list[Any], rows: np.ndarray) -> list[Any]:
    """``[items[r] for r in rows]``."""
    if len(rows) < 2:
        return [items[r] for r in rows.tolist()]
    return list(itemgetter(*rows.tolist())(items))


def first_values_py(groups: list[Values], rows: np.ndarray) -> list[Any]:
    """``[groups[r][0] for r in rows]``: the value of each group of one value."""
    return [groups[r][0] for r in rows.tolist()]


def reduce_text_py(reducer: Callable[[Any, Any], Any], groups: Iterator[Any],
                   line: Callable[[Any, Any], str], write: Callable[[str], int], most: int
                   ) -> tuple[int, int, int, tuple[Any] | None]:
    """The reduce loop of a text output: ``reducer(key, values)`` for up to ``most``
    groups of ``groups``, their pairs as ``key<TAB>value`` lines handed to ``write`` a few
    thousand at a time; (pairs, groups, what ``write`` returned in all, None or ``(item,)``
    for the first item of a reducer's output that is not a pair, where it stopped). A str
    key with a str or int value is formatted inline, as ``write_text`` does; any other
    pair by ``line``."""
    pieces: list[str] = []
    records = done = chars = 0
    bad: tuple[Any] | None = None
    for _, key, values in itertools.islice(groups, most):
        done += 1
        out = reducer(key, values)
        for pair in () if out is None else out:
            if type(pair) is not tuple or len(pair) != 2:
                bad = (pair,)
                break
            k, v = pair
            if type(k) is str and (type(v) is str or type(v) is int):
                pieces.append(f"{k}\t{v}\n")
            else:
                pieces.append(line(k, v))
            records += 1
            if len(pieces) >= 4096:
                chars += write("".join(pieces))
                pieces.clear()
        if bad is not None:
            break
    if pieces:
        chars += write("".join(pieces))
    return records, done, chars, bad


def combine_groups_py(combiner: Callable[[Any, Iterator[Any]], Any], keys: Iterable[Any],
                      groups: Iterable[Iterable[Any]], ranks: Iterable[int],
                      check: Callable[[Any, Any], None], refuse: Callable[[Any], None]
                      ) -> tuple[list[int], list[Any]]:
    """The loop around a combiner: ``combiner(key, iter(values))`` per group; (the rank
    of each pair it yields, its value). ``refuse(item)`` raises for an item that is not a
    pair; ``check(key, new)`` for a pair whose key is not the very key object given."""
    out_ranks: list[int] = []
    out_values: list[Any] = []
    for rank, key, values in zip(ranks, keys, groups):
        out = combiner(key, iter(values))
        for pair in () if out is None else out:
            if type(pair) is not tuple or len(pair) != 2:
                refuse(pair)
            if pair[0] is not key:
                check(key, pair[0])
            out_ranks.append(rank)
            out_values.append(pair[1])
    return out_ranks, out_values


def _sizes_c(groups: list[Values]) -> np.ndarray:
    return np.frombuffer(_C.group_sizes(groups), dtype=np.int64)


def _take_c(items: list[Any], rows: np.ndarray) -> list[Any]:
    return _C.take_items(items, np.ascontiguousarray(rows, dtype=np.int64))


def _firsts_c(groups: list[Values], rows: np.ndarray) -> list[Any]:
    return _C.first_values(groups, np.ascontiguousarray(rows, dtype=np.int64))


def select(speedups: Any) -> None:
    """Use the C loops of module ``speedups`` (``zmr._speedups``), or the Python ones when it
    is None; done once at import, and by the tests, which run both."""
    global COMPILED, group_records, extend_records, GROUP_BYTES, SLOT_BYTES, _C
    global group_sizes, take_items, first_values, reduce_text, combine_groups
    COMPILED, _C = speedups is not None, speedups
    group_records = speedups.group_records if COMPILED else group_records_py
    extend_records = speedups.extend_records if COMPILED else extend_records_py
    # a grouped buffer's spill: per-key loops over the groups (tasks/collector.py)
    group_sizes = _sizes_c if COMPILED else group_sizes_py
    take_items = _take_c if COMPILED else take_items_py
    first_values = _firsts_c if COMPILED else first_values_py
    # the reduce side's loop around a reducer, for text output (tasks/reduce_task.py)
    reduce_text = speedups.reduce_text if COMPILED else reduce_text_py
    combine_groups = speedups.combine_groups if COMPILED else combine_groups_py
    # Measured with tracemalloc on word-count buffers: bytes per distinct key beyond the
    # key (dict entry + list, or ValueRuns) and per value slot (a list slot, or a ValueRuns
    # value and count), growth slack included.
    GROUP_BYTES, SLOT_BYTES = (112, 24) if COMPILED else (136, 9)


#: True when the C loops are in use; the rest are bound by ``select``.
COMPILED = False
_C: Any = None
group_records: Callable[..., Grouped] = group_records_py
extend_records: Callable[..., None] = extend_records_py
group_sizes: Callable[[list[Values]], np.ndarray] = group_sizes_py
take_items: Callable[[list[Any], np.ndarray], list[Any]] = take_items_py
first_values: Callable[[list[Values], np.ndarray], list[Any]] = first_values_py
reduce_text: Callable[..., tuple[int, int, int, tuple[Any] | None]] = reduce_text_py
combine_groups: Callable[..., tuple[list[int], list[Any]]] = combine_groups_py
GROUP_BYTES = SLOT_BYTES = 0
select(compiled())


def chained(pair: Any, rest: Iterator[Any]) -> Iterator[Any]:
    """An unfit pair followed by the rest of its mapper call's pairs."""
    return itertools.chain((pair,), rest)
