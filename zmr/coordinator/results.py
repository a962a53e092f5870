"""What a worker reports as a task's result, checked before the coordinator believes it.

``wire.decode`` guarantees a ``TaskDone.result`` has the shape of a MapManifest or a
ReduceResult, the one its attempt's kind calls for (``TaskDone`` refuses the other, so a
map result sent for a reduce attempt never gets here), but not that it fits the task. A result
that names another task, has the wrong number of partitions or malformed counters would
otherwise be stored and break the coordinator later (building a reduce's segments, summing
counters for ``zmr status``), far from its cause. A result that fails these checks fails
its attempt instead, like any error.

A map output also names the job incarnation and split it was computed for
(``core.specs.OutputIdentity``): one computed for another coordinator's job of the same id,
or from other input, is refused, never adopted (the map runs again).
"""

from __future__ import annotations

from typing import Any

from zmr.coordinator.model import MAP, REDUCE, Job, Task
from zmr.core.specs import MapManifest, OutputIdentity, ReduceResult


def result_problem(index: int, num_reducers: int, result: MapManifest | ReduceResult,
                   identity: OutputIdentity | None = None) -> str:
    """Why ``result`` cannot be the output of task ``index`` of its kind ("" if it can);
    a map output must have ``num_reducers`` partitions (the plan's: coalescing merges
    them into fewer reduce tasks later) and carry ``identity``, when one is given."""
    is_map = isinstance(result, MapManifest)
    own_index = result.map_index if is_map else result.partition  # type: ignore[union-attr]
    if own_index != index:
        return f"{MAP if is_map else REDUCE} result names task {own_index}, not {index}"
    if isinstance(result, MapManifest):
        if len(result.partitions) != num_reducers:
            return f"map output has {len(result.partitions)} partitions, not {num_reducers}"
        if identity is not None and result.identity != identity:
            return identity_problem(result.identity, identity)
    return _counters_problem(result.counters)


def expected_identity(incarnation: str, job: Job, task: Task) -> OutputIdentity | None:
    """What an output of ``task`` must carry (None: a reduce, or a machine without a
    journal, as in unit tests, that checks none)."""
    if task.kind != MAP or not incarnation:
        return None
    return job.plan.map_identity(incarnation, job.job_id, task.index)


def identity_problem(found: OutputIdentity | None, expected: OutputIdentity) -> str:
    """Why a map output computed for ``found`` is not the one ``expected``."""
    if found is None:
        return "map output carries no identity (written by an older zmr or another runner)"
    if found.incarnation != expected.incarnation:
        return (f"map output was computed for {found.job_id} of another coordinator state "
                f"(journal {found.incarnation}, not {expected.incarnation})")
    if found.split != expected.split:
        return f"map output was computed from other input (split {found.split}, " \
               f"not {expected.split})"
    return f"map output was computed for {found.job_id} map {found.map_index}"


def _counters_problem(counters: Any) -> str:
    """The wire checks counters' shape too; results made in this process (tests, a
    restored journal) pass here as well."""
    for group, names in counters.items():
        if not isinstance(group, str) or not isinstance(names, dict) or not all(
                isinstance(n, str) and isinstance(v, int) and not isinstance(v, bool)
                for n, v in names.items()):
            return f"malformed counters in group {str(group)[:40]!r}"
    return ""
