"""Pure scheduling choices: which task a worker asking for work gets next."""

from __future__ import annotations

from zmr.coordinator.model import MAP, Job, Task, WorkerInfo
from zmr.coordinator.states import TaskState


def next_task(jobs: list[Job], worker: WorkerInfo) -> tuple[Job, Task] | None:
    """Oldest job first; its pending maps, then (once every map has succeeded, since a
    reducer needs all of them) its pending reduces."""
    for job in jobs:
        pending_map = _first_pending(job.maps)
        if pending_map is not None:
            return job, pending_map
        if job.done(MAP) == len(job.maps):
            pending_reduce = _first_pending(job.reduces)
            if pending_reduce is not None:
                return job, pending_reduce
    return None


def _first_pending(tasks: list[Task]) -> Task | None:
    return next((t for t in tasks if t.state == TaskState.PENDING), None)
