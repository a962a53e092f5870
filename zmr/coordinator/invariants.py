"""What must always hold of the coordinator's state, checked the slow way: after every
event in the tests (``CoordinatorState.validate``, dask's ``validate_state``), never in
the server. Each check returns the problems it finds, as text that names the job, task or
worker, so a failing test says what broke.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zmr.coordinator import tally
from zmr.coordinator.model import MAP, Job, Task
from zmr.coordinator.states import FINAL_JOB_STATES, AttemptState, JobState, TaskState

if TYPE_CHECKING:
    from zmr.coordinator.machine import CoordinatorState
    from zmr.coordinator.pipelines import PipelineJob


def problems(state: CoordinatorState) -> list[str]:
    """Every broken invariant of ``state`` (empty: none)."""
    found = _live_problems(state) + _worker_problems(state)
    if state.step_ends:
        found.append(f"step jobs ended unfollowed: {[j.job_id for j in state.step_ends]}")
    for pipeline in state.pipelines.values():
        found += [f"{pipeline.job_id}: {p}" for p in _pipeline_problems(state, pipeline)]
    for job in state.jobs.values():
        found += [f"{job.job_id}: {p}" for p in _job_problems(state, job)]
    return found


def _live_problems(state: CoordinatorState) -> list[str]:
    live = [j for j in state.jobs.values() if j.state not in FINAL_JOB_STATES]
    kept = state.live_jobs()
    if [id(j) for j in kept] != [id(j) for j in live]:
        return [f"live jobs kept {[j.job_id for j in kept]}, "
                f"recount {[j.job_id for j in live]}"]
    return []


def _worker_problems(state: CoordinatorState) -> list[str]:
    found = [f"worker {w.worker_id}: {w.free_slots} free slots, not in "
             f"0..{w.slots + w.prefetch}" for w in state.workers.values()
             if not 0 <= w.free_slots <= w.slots + w.prefetch]
    # what a worker holds (its slots and its queue) is exactly what runs there
    running: dict[str, set[int]] = {w: set() for w in state.workers}
    for job in state.live_jobs():
        for _, attempt in job.running_attempts():
            running.get(attempt.worker_id, set()).add(id(attempt))
    for worker in state.workers.values():
        held = {id(a) for _, a in worker.held()}
        if held != running[worker.worker_id]:
            found.append(f"worker {worker.worker_id}: holds {len(held)} attempts, "
                         f"{len(running[worker.worker_id])} run there")
    return found


def _pipeline_problems(state: CoordinatorState, pipeline: PipelineJob) -> list[str]:
    """Its steps are jobs we know, in order; only the last may still run, and none once
    the pipeline is over."""
    found = [f"step job {j} unknown" for j in pipeline.step_jobs if j not in state.jobs]
    live = [j for j in pipeline.step_jobs
            if j in state.jobs and state.jobs[j].state not in FINAL_JOB_STATES]
    if live and (pipeline.final or live != pipeline.step_jobs[-1:]):
        found.append(f"step jobs {live} run in a {pipeline.state.value} pipeline at step "
                     f"{pipeline.current}/{pipeline.total}")
    if pipeline.current > pipeline.total:
        found.append(f"{pipeline.current} steps submitted of {pipeline.total}")
    return found


def _job_problems(state: CoordinatorState, job: Job) -> list[str]:
    found = tally.problems(job.maps, job.reduces, job.tally) if job.tally is not None else []
    final = job.state in FINAL_JOB_STATES
    if job.state == JobState.QUEUED and any(t.attempts for t in job.tasks()):
        found.append("QUEUED with attempts")
    # (a job without input succeeds at once: its reduces never run)
    if job.state == JobState.SUCCEEDED and job.maps and not job.complete():
        found.append("SUCCEEDED with tasks that did not")
    for task in job.tasks():
        found += [f"{task.kind}-{task.index}: {p}" for p in _task_problems(state, task, final)]
    return found + _usage_problems(job, final) + _range_problems(job) + _split_problems(job)


def _usage_problems(job: Job, final: bool) -> list[str]:
    """Slots cannot be busier than they exist: an ended job's busy time fits in its slot
    time (one journaled before usage was kept, without either, is not checked)."""
    if not final and job.busy is not None:
        return [f"{job.state.value} with busy time settled"]
    if job.busy is None or job.slot_time.since is None or job.finished_s is None:
        return []
    busy, slot_s = sum(job.busy.values()), job.slot_time.at(job.finished_s)
    return [f"busy {busy:.3f}s over {slot_s:.3f} slot-s"] if busy > slot_s + 1e-6 else []


def _range_problems(job: Job) -> list[str]:
    """Coalesced reduce tasks read every partition once, in order, one range each."""
    if not job.reduce_ranges:
        return []
    covered = [r for first, last in job.reduce_ranges for r in range(first, last)]
    if covered != list(range(job.plan.num_reducers)) or \
            len(job.reduces) != len(job.reduce_ranges):
        return [f"reduce ranges {job.reduce_ranges} for {len(job.reduces)} reduce tasks "
                f"of {job.plan.num_reducers} partitions"]
    return []


def _split_problems(job: Job) -> list[str]:
    """A split for every map, and a map whose split was cut (rebalancing) reads the
    plan's (a restored job may hold fewer task rows than splits: they come back later)."""
    if len(job.plan.splits) < len(job.maps):
        return [f"{len(job.plan.splits)} splits for {len(job.maps)} maps"]
    return [f"map-{t.index}: reads {t.split}, the plan says {job.plan.splits[t.index]}"
            for t in job.maps if t.split is not None and t.split != job.plan.splits[t.index]]


def _task_problems(state: CoordinatorState, task: Task, final: bool) -> list[str]:
    found = []
    if final and task.state in (TaskState.PENDING, TaskState.RUNNING):
        found.append(f"{task.state.value} in a job that is over")
    if task.state == TaskState.SUCCEEDED and task.result is None:
        found.append("SUCCEEDED without a result")
    if task.state == TaskState.SUCCEEDED and task.kind == MAP and not task.output_worker:
        found.append("SUCCEEDED map without the worker holding its output")
    if [a.number for a in task.attempts] != list(range(1, len(task.attempts) + 1)):
        found.append(f"attempts numbered {[a.number for a in task.attempts]}")
    for a in task.attempts:
        ended = a.state != AttemptState.RUNNING
        if ended != (a.finished_s is not None):
            found.append(f"{a.subject} is {a.state.value} with finished_s {a.finished_s}")
        # after a restart, workers have ``restore_grace_s`` to come back and claim theirs
        if not ended and a.worker_id not in state.workers and state.restored_at is None:
            found.append(f"{a.subject} runs on an unknown worker")
    return found
