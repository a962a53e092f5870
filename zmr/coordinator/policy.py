"""Pure scheduling choices: which task a worker asking for work gets next.

Oldest job first, skipping jobs whose declared ``RESOURCES`` do not fit in what the worker
has left (CPUs and memory it reported, minus what running declared-resource attempts
reserve); within a job, maps whose input the worker's host holds come first."""

from __future__ import annotations

import statistics

from zmr.coordinator.model import MAP, REDUCE, Job, Task, WorkerInfo
from zmr.coordinator.states import TaskState


def next_task(jobs: list[Job], worker: WorkerInfo, blacklist_after: int,
              live_workers: int) -> tuple[Job, Task] | None:
    """Oldest job first; its pending maps, then (once every map has succeeded, since a
    reducer needs all of them) its pending reduces. A worker that failed ``blacklist_after``
    tasks of a job gets no more of that job's tasks, unless every live worker has."""
    for job in jobs:
        if _blacklisted(job, worker.worker_id, blacklist_after, live_workers):
            continue
        if not worker.can_run_now(job.plan.resources):
            continue                    # its declared needs do not fit here right now
        # a map whose input this worker's host holds first (data locality), else any
        pending_map = job.first_pending_local(worker.host) or job.first_pending(MAP)
        if pending_map is not None:
            return job, pending_map
        if job.done(MAP) == len(job.maps):
            pending_reduce = job.first_pending(REDUCE)
            if pending_reduce is not None:
                return job, pending_reduce
    return None


def _blacklisted(job: Job, worker_id: str, limit: int, live_workers: int) -> bool:
    if job.worker_failures.get(worker_id, 0) < limit:
        return False
    return sum(n >= limit for n in job.worker_failures.values()) < live_workers


def backup_task(jobs: list[Job], worker: WorkerInfo, now: float, slow_factor: float,
                min_runtime_s: float) -> tuple[Job, Task] | None:
    """Speculative execution (the MapReduce paper's backup tasks): once a phase has nothing
    left to hand out, an attempt running ``slow_factor`` times longer than that phase's
    median task gets a backup on another worker; the first to commit wins."""
    for job in jobs:
        if not job.plan.speculative or not worker.can_run_now(job.plan.resources):
            continue
        for kind in (MAP, REDUCE):
            tasks = job.maps if kind == MAP else job.reduces
            if kind == REDUCE and job.done(MAP) < len(job.maps):
                break
            candidate = _slowest_straggler(tasks, worker, now, slow_factor, min_runtime_s)
            if candidate is not None:
                return job, candidate
    return None


def _slowest_straggler(tasks: list[Task], worker: WorkerInfo, now: float,
                       slow_factor: float, min_runtime_s: float) -> Task | None:
    if any(t.state == TaskState.PENDING for t in tasks):
        return None
    durations = [a.finished_s - a.started_s for t in tasks for a in t.attempts
                 if a.outcome == "succeeded" and a.finished_s is not None]
    if not durations:
        return None
    threshold = max(min_runtime_s, slow_factor * statistics.median(durations))
    stragglers = [(now - t.running()[0].started_s, t) for t in tasks
                  if t.state == TaskState.RUNNING and len(t.running()) == 1
                  and t.running()[0].worker_id != worker.worker_id
                  and now - t.running()[0].started_s > threshold]
    return max(stragglers, key=lambda st: st[0])[1] if stragglers else None
