"""Pure scheduling choices: which task a worker asking for work gets next.

Oldest job first, skipping jobs whose declared ``RESOURCES`` do not fit in what the worker
has left (CPUs and memory it reported, minus what running declared-resource attempts
reserve); within a job, maps whose input the worker's host holds come first. A worker with
an idle slot and nothing pending to run takes over a task queued behind another worker's
busy slots (``pick_queued``) before it backs up stragglers."""

from __future__ import annotations

from collections.abc import Iterable

from zmr.coordinator.model import MAP, REDUCE, Attempt, Job, Task, WorkerInfo
from zmr.coordinator.states import FINAL_JOB_STATES, ShrinkState


#: An attempt queued this long behind a busy slot waits on a long one (workers ask for
#: prefetch only while their attempts take under a second): an idle worker takes it over.
TAKE_BACK_AFTER_S = 1.0


def next_task(jobs: list[Job], worker: WorkerInfo, blacklist_after: int,
              live_workers: int, maps_only: bool = False) -> tuple[Job, Task] | None:
    """Oldest job first; its pending maps, then (once every map has succeeded, since a
    reducer needs all of them) its pending reduces, unless ``maps_only`` (prefetch: a
    reduce is long, and never waits queued behind a busy slot). A worker that failed
    ``blacklist_after`` tasks of a job gets no more of that job's tasks, unless every live
    worker has."""
    for job in jobs:
        if _blacklisted(job, worker.worker_id, blacklist_after, live_workers):
            continue
        if not worker.can_run_now(job.plan.resources):
            continue                    # its declared needs do not fit here right now
        # a map whose input this worker's host holds first (data locality), else any
        pending_map = job.first_pending_local(worker.host) or job.first_pending(MAP)
        if pending_map is not None:
            return job, pending_map
        if not maps_only and job.done(MAP) == len(job.maps):
            pending_reduce = job.first_pending(REDUCE)
            if pending_reduce is not None:
                return job, pending_reduce
    return None


def blacklisted(job: Job, worker_id: str, limit: int, live_workers: int) -> bool:
    """Whether ``worker_id`` failed too many of ``job``'s tasks to get another."""
    return _blacklisted(job, worker_id, limit, live_workers)


def _blacklisted(job: Job, worker_id: str, limit: int, live_workers: int) -> bool:
    if job.worker_failures.get(worker_id, 0) < limit:
        return False
    return sum(n >= limit for n in job.worker_failures.values()) < live_workers


def queued_attempts(workers: Iterable[WorkerInfo],
                    now: float) -> list[tuple[Task, Attempt]]:
    """Attempts queued (prefetched, not started) behind busy slots for ``TAKE_BACK_AFTER_S``
    or more, longest-waiting first: each its task's only attempt (a backup is never moved).
    Found once per dispatch."""
    found = [(t, a) for w in workers for t, a in w.queued()
             if not a.speculative and len(t.running()) == 1
             and now - a.started_s >= TAKE_BACK_AFTER_S]
    return sorted(found, key=lambda ta: (ta[1].started_s, ta[0].name))


def pick_queued(queued: list[tuple[Task, Attempt]], jobs: dict[str, Job], worker: WorkerInfo,
                blacklist_after: int, live_workers: int) -> tuple[Job, Task, Attempt] | None:
    """The first of ``queued_attempts`` that ``worker``, idle, may run instead: queued on
    another worker, of a live job that does not blacklist it and whose declared needs fit
    here. Prefetch hides a round trip; it must not make a task wait on a busy worker while
    this one idles (at a phase's end, a long reduce queued behind another)."""
    for task, attempt in queued:
        job = jobs.get(task.job_id)
        if attempt.worker_id == worker.worker_id or job is None or \
                job.state in FINAL_JOB_STATES or \
                _blacklisted(job, worker.worker_id, blacklist_after, live_workers) or \
                not worker.can_run_now(job.plan.resources):
            continue
        return job, task, attempt
    return None


def backup_task(jobs: list[Job], worker: WorkerInfo, now: float, slow_factor: float,
                min_runtime_s: float) -> tuple[Job, Task] | None:
    """Speculative execution (the MapReduce paper's backup tasks): once a phase has nothing
    left to hand out, an attempt running ``slow_factor`` times longer than that phase's
    median task gets a backup on another worker; the first to commit wins."""
    return pick_backup(stragglers(jobs, now, slow_factor, min_runtime_s), worker)


def stragglers(jobs: list[Job], now: float, slow_factor: float,
               min_runtime_s: float) -> list[tuple[Job, list[Task]]]:
    """Per phase that may get backups (oldest job first, maps before reduces), its tasks
    running a single attempt for longer than the phase's threshold, slowest first. Costs
    O(running tasks), from the job's tally: dispatch asks once for every idle worker."""
    found = []
    for job in jobs:
        if not job.plan.speculative:
            continue
        for kind in (MAP, REDUCE):
            if kind == REDUCE and job.done(MAP) < len(job.maps):
                break
            slow = _slow_tasks(job, kind, now, slow_factor, min_runtime_s)
            if slow:
                found.append((job, slow))
    return found


def pick_backup(found: list[tuple[Job, list[Task]]],
                worker: WorkerInfo) -> tuple[Job, Task] | None:
    """The first of ``stragglers`` this worker may back up: its job's declared needs fit,
    the slow attempt runs elsewhere, and it has no backup yet."""
    for job, tasks in found:
        if not worker.can_run_now(job.plan.resources):
            continue
        for task in tasks:
            running = task.running()
            # (a map asked to cut its split waits for the answer: its remainder may be
            # the task this worker gets)
            if len(running) == 1 and running[0].worker_id != worker.worker_id and \
                    running[0].shrink != ShrinkState.ASKED:
                return job, task
    return None


def _slow_tasks(job: Job, kind: str, now: float, slow_factor: float,
                min_runtime_s: float) -> list[Task]:
    tally = job.tally
    assert tally is not None
    median = tally.median_s(kind)
    if tally.pending[kind] or median is None:
        return []
    threshold = max(min_runtime_s, slow_factor * median)
    slow = []
    for task in tally.running[kind].values():
        running = task.running()
        if len(running) == 1 and now - running[0].started_s > threshold:
            slow.append((now - running[0].started_s, task))
    # slowest first; among equals the lowest index, as max() over the tasks in order gave
    return [task for _, task in sorted(slow, key=lambda st: (-st[0], st[1].index))]


def unplaceable(needs: dict[str, int], workers: list[WorkerInfo]) -> str:
    """Why none of ``workers`` could ever run a task needing ``needs`` ("" if one could,
    or if there are no workers yet)."""
    if not needs or not workers or any(w.could_ever_run(needs) for w in workers):
        return ""
    largest = max(workers, key=lambda w: (w.cpus, w.memory_mb))
    return (f"no worker can run a task needing {needs}: the largest has "
            f"{largest.cpus} CPUs and {largest.memory_mb} MB")
