"""What a worker reports as a task's result, checked before the coordinator believes it.

``wire.decode`` guarantees a ``TaskDone.result`` has the shape of a MapManifest or a
ReduceResult, the one its attempt's kind calls for (``TaskDone`` refuses the other, so a
map result sent for a reduce attempt never gets here), but not that it fits the task. A result
that names another task, has the wrong number of partitions or malformed counters would
otherwise be stored and break the coordinator later (building a reduce's segments, summing
counters for ``zmr status``), far from its cause. A result that fails these checks fails
its attempt instead, like any error.
"""

from __future__ import annotations

from typing import Any

from zmr.coordinator.model import MAP, REDUCE
from zmr.core.specs import MapManifest, ReduceResult


def result_problem(index: int, num_reducers: int, result: MapManifest | ReduceResult) -> str:
    """Why ``result`` cannot be the output of task ``index`` of its kind ("" if it can)."""
    is_map = isinstance(result, MapManifest)
    own_index = result.map_index if is_map else result.partition  # type: ignore[union-attr]
    if own_index != index:
        return f"{MAP if is_map else REDUCE} result names task {own_index}, not {index}"
    if isinstance(result, MapManifest) and len(result.partitions) != num_reducers:
        return f"map output has {len(result.partitions)} partitions, not {num_reducers}"
    return _counters_problem(result.counters)


def _counters_problem(counters: Any) -> str:
    """The wire checks counters' shape too; results made in this process (tests, a
    restored journal) pass here as well."""
    for group, names in counters.items():
        if not isinstance(group, str) or not isinstance(names, dict) or not all(
                isinstance(n, str) and isinstance(v, int) and not isinstance(v, bool)
                for n, v in names.items()):
            return f"malformed counters in group {str(group)[:40]!r}"
    return ""
