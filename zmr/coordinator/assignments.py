"""What an assignment carries: the task spec a worker runs, built from the job's plan and,
for a reduce, from where each map's output lives. Pure functions, no state changed."""

from __future__ import annotations

from typing import Any

from zmr.coordinator.model import MAP, Job, Task, WorkerInfo
from zmr.core.specs import MapManifest


def task_spec(job: Job, task: Task, number: int,
              workers: dict[str, WorkerInfo]) -> dict[str, Any]:
    """The spec of attempt ``number`` of ``task``, as the dict AssignTask carries."""
    if task.kind == MAP:
        return map_spec(job, task.index, number)
    segments = []
    for m in job.maps:
        holder = workers.get(m.output_worker)
        manifest = MapManifest.from_dict(m.result or {})
        segments.append(manifest.segment(task.index, holder.shuffle_endpoint,
                                         holder.shuffle_key) if holder
                        else manifest.segment(task.index))
    return job.plan.reduce_spec(job.job_id, task.index, number, segments, "").to_dict()


def map_spec(job: Job, index: int, number: int) -> dict[str, Any]:
    """``job.plan.map_spec(...).to_dict()``, from a per-job template: only the index, the
    attempt and the split differ between a job's maps, and building the whole spec
    dataclass and ``asdict``-ing it per assignment was a tenth of the coordinator's time."""
    if job.map_spec_base is None:
        job.map_spec_base = job.plan.map_spec(job.job_id, 0, 0, "").to_dict()
    return {**job.map_spec_base, "map_index": index, "attempt": number,
            "split": job.plan.splits[index].to_dict()}
