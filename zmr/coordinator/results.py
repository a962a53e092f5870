"""What a worker reports as a task's result, checked before the coordinator believes it.

``wire.decode`` guarantees a ``TaskDone.result`` is a JSON object, not what is inside it. A
map manifest or reduce result that is missing fields, names another task, has the wrong
number of partitions or malformed counters would otherwise be stored and break the
coordinator later (building a reduce's segments, summing counters for ``zmr status``), far
from its cause. A result that fails these checks fails its attempt instead, like any error.
"""

from __future__ import annotations

from typing import Any

from zmr.coordinator.model import MAP
from zmr.core.specs import MapManifest, ReduceResult


def result_problem(kind: str, index: int, num_reducers: int, result: dict[str, Any]) -> str:
    """Why ``result`` cannot be the output of task ``kind``/``index`` ("" if it can)."""
    try:
        parsed = (MapManifest if kind == MAP else ReduceResult).from_dict(result)
    except (KeyError, TypeError, ValueError) as exc:
        return f"malformed {kind} result: {type(exc).__name__}: {exc}"
    own_index = parsed.map_index if isinstance(parsed, MapManifest) else parsed.partition
    if own_index != index:
        return f"{kind} result names task {own_index}, not {index}"
    if isinstance(parsed, MapManifest) and len(parsed.partitions) != num_reducers:
        return f"map output has {len(parsed.partitions)} partitions, not {num_reducers}"
    return _counters_problem(parsed.counters)


def _counters_problem(counters: Any) -> str:
    for group, names in counters.items():
        if not isinstance(group, str) or not isinstance(names, dict) or not all(
                isinstance(n, str) and isinstance(v, int) and not isinstance(v, bool)
                for n, v in names.items()):
            return f"malformed counters in group {str(group)[:40]!r}"
    return ""
