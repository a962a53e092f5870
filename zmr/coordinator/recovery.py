"""Surviving failures: workers that die, come back or restart, a coordinator that restarts
from its journal, attempts that stall, and the heartbeats that show progress.

A lost worker's running attempts are LOST and run again; finished maps whose output lived
only on its disk run again while a reduce still needs them. A worker that comes back
offers the map outputs it still holds, which are adopted instead of recomputed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zmr.coordinator.assign import JOB_COUNTERS, dispatch
from zmr.coordinator.commands import Command, Send
from zmr.coordinator.lifecycle import (
    count_failure,
    end_attempt,
    kill,
    kill_others,
    rerun_map,
    seal,
)
from zmr.coordinator.model import MAP, REDUCE, Attempt, Job, Task, WorkerInfo
from zmr.coordinator.records import job_number
from zmr.coordinator.results import expected_identity, result_problem
from zmr.coordinator.states import FINAL_JOB_STATES, AttemptState, TaskState
from zmr.core.ids import AttemptId
from zmr.protocol.messages import HeldOutput, KillTask
from zmr.storage import cutting

if TYPE_CHECKING:
    from zmr.coordinator.machine import CoordinatorState
    from zmr.coordinator.stimuli import (
        ProgressReported,
        Restored,
        Stimulus,
        Tick,
        WorkerExpired,
        WorkerRegistered,
        WorkerUnreachable,
    )


# -- workers -------------------------------------------------------------------------------
def worker_registered(state: CoordinatorState, ev: WorkerRegistered) -> list[Command]:
    """A worker joins, or comes back (it reconnected, was declared dead while frozen, or
    we restarted): reconcile what it holds and runs with what we think it does."""
    msg = ev.msg
    known = state.workers.get(msg.worker_id)
    # the same process registering again (it reconnected) keeps its work; a new process
    # under the same id (another token or shuffle endpoint; admission.py lets it in only
    # once the old one is silent) is a restart: what the old one ran is lost
    restarted = known is not None and (known.shuffle_endpoint != msg.shuffle_endpoint
                                       or known.token != msg.token)
    commands = _lose_worker(state, msg.worker_id, ev) if restarted else []
    worker = state.workers[msg.worker_id] = WorkerInfo(
        msg.worker_id, msg.host, msg.shuffle_endpoint, msg.slots, msg.cpus, msg.memory_mb,
        msg.shuffle_key, prefetch=max(0, min(msg.prefetch, msg.slots)), token=msg.token)
    for hold in msg.holds:
        commands += _adopt_output(state, msg.worker_id, hold, ev)
    _forget_attempts_not_running(state, msg.worker_id, set(msg.running), ev)
    worker.given = _attempts_on(state, msg.worker_id)
    return commands + _stop_attempts_not_ours(state, worker, msg.running)


def worker_lost(state: CoordinatorState,
                ev: WorkerExpired | WorkerUnreachable) -> list[Command]:
    return _lose_worker(state, ev.worker_id, ev)


def _lose_worker(state: CoordinatorState, worker_id: str, ev: Stimulus) -> list[Command]:
    """A worker died (missed heartbeats, unreachable) or came back as new: re-queue what it
    ran and re-run finished maps whose output lived only on its disk, if still needed."""
    if state.workers.pop(worker_id, None) is None:
        return []
    commands: list[Command] = []
    for job in state.live_jobs():
        for task, attempt in job.running_attempts():
            if attempt.worker_id == worker_id:
                end_attempt(task, attempt, AttemptState.LOST, ev)
                job.counters.increment(JOB_COUNTERS, "LOST_ATTEMPTS")
        # a walk over the maps, but a worker dies rarely: no index is worth keeping
        lost = [t for t in job.needed_outputs() if t.output_worker == worker_id]
        for task in lost:
            rerun_map(job, task, ev)
        if lost:
            commands += _stop_reduces(job, ev)
    return commands + dispatch(state, ev)


def _stop_reduces(job: Job, ev: Stimulus) -> list[Command]:
    """Running reduces can no longer fetch every map output: stop them now rather than
    let them time out; they run again once the lost maps are redone (not a failure)."""
    commands: list[Command] = []
    for task, attempt in job.running_attempts(REDUCE):
        end_attempt(task, attempt, AttemptState.KILLED, ev)
        job.counters.increment(JOB_COUNTERS, "KILLED_ATTEMPTS")
        commands.append(kill(task, attempt))
    return commands


def _adopt_output(state: CoordinatorState, worker_id: str, hold: HeldOutput,
                  ev: Stimulus) -> list[Command]:
    """A (re)joining worker still has a finished map output: use it, don't recompute,
    if it is this job's (not one of the same id under another coordinator state) and was
    computed from the split as planned; else it is refused, and counted."""
    job = state.jobs.get(hold.job_id)
    if job is None or job.state in FINAL_JOB_STATES:
        return []
    task = job.task(MAP, hold.manifest.map_index)
    if task is None or task.state in (TaskState.SUCCEEDED, TaskState.FAILED):
        return []
    if result_problem(task.index, job.plan.num_reducers, hold.manifest,
                      expected_identity(state.incarnation, job, task)):
        job.counters.increment(JOB_COUNTERS, "REFUSED_MAP_OUTPUTS")
        return []
    own = task.attempt(hold.manifest.attempt)
    if own is not None and own.running and own.worker_id == worker_id:
        # the attempt that wrote it finished while we were down: it succeeded
        end_attempt(task, own, AttemptState.SUCCEEDED, ev)
    commands = kill_others(job, task, ev)     # recomputing it is now pointless
    task.set_state(TaskState.SUCCEEDED, ev)
    task.result, task.output_worker = hold.manifest, worker_id
    task.touch()
    job.counters.increment(JOB_COUNTERS, "RECOVERED_MAPS")
    return commands


def _forget_attempts_not_running(state: CoordinatorState, worker_id: str,
                                 running: set[AttemptId], ev: Stimulus) -> None:
    """A worker says what it runs; attempts we think it runs but it does not (their
    result was lost while we were down) run again."""
    for job in state.live_jobs():
        for task, attempt in job.running_attempts():
            if attempt.worker_id == worker_id and task.attempt_id(attempt) not in running:
                end_attempt(task, attempt, AttemptState.LOST, ev)


def _attempts_on(state: CoordinatorState, worker_id: str) -> list[tuple[Task, Attempt]]:
    """The running attempts we placed on ``worker_id``, oldest first (its queue order)."""
    found = [(t, a) for job in state.live_jobs() for t, a in job.running_attempts()
             if a.worker_id == worker_id]
    return sorted(found, key=lambda ta: ta[1].started_s)


def _stop_attempts_not_ours(state: CoordinatorState, worker: WorkerInfo,
                            running: list[AttemptId]) -> list[Command]:
    """Attempts a worker still runs that we no longer count on (it was declared dead and
    they ran again elsewhere, or we restarted without them): stop them, so its slots work
    for us again instead of on results that would be ignored."""
    ours = {t.attempt_id(a) for t, a in worker.given}
    return [Send(worker.worker_id, KillTask(key)) for key in running if key not in ours]


# -- restart -------------------------------------------------------------------------------
def restored(state: CoordinatorState, ev: Restored) -> list[Command]:
    """Take back journaled jobs after a restart. Attempts that were running stay so: their
    workers re-register and carry on. Whatever is still unaccounted for after
    ``restore_grace_s`` (workers that never came back) is settled by ``tick``."""
    for job in ev.jobs:
        state.jobs[job.job_id] = job
    state.jobs_changed()
    state.last_job_number = max([state.last_job_number,
                                 *(job_number(j.job_id) for j in ev.jobs)])
    state.restored_at = ev.now
    return []


def _settle_restore(state: CoordinatorState, ev: Stimulus) -> None:
    state.restored_at = None
    for job in state.live_jobs():
        for task, attempt in job.running_attempts():
            if attempt.worker_id not in state.workers:
                end_attempt(task, attempt, AttemptState.LOST, ev)
        for task in job.needed_outputs():
            if task.output_worker not in state.workers:
                rerun_map(job, task, ev)


# -- time and progress ---------------------------------------------------------------------
def tick(state: CoordinatorState, ev: Tick) -> list[Command]:
    """Time passes: kill attempts whose progress stalled, then look for stragglers."""
    commands: list[Command] = []
    if state.workers:
        state.workerless_since = None
    elif state.workerless_since is None:
        state.workerless_since = ev.now
    if state.restored_at is not None and ev.now - state.restored_at > state.restore_grace_s:
        _settle_restore(state, ev)
    for job in state.live_jobs():
        if job.complete():               # restored between its last commit and its seal
            commands.append(seal(job))
        for task, attempt in job.running_attempts():
            # running when listed, maybe not now: a timeout before it can end the job
            if attempt.running and ev.now - attempt.progress_s > state.task_timeout_s:
                commands += _time_out(state, job, task, attempt, ev)
    return commands + dispatch(state, ev)


def _time_out(state: CoordinatorState, job: Job, task: Task, attempt: Attempt,
              ev: Stimulus) -> list[Command]:
    end_attempt(task, attempt, AttemptState.TIMED_OUT, ev)
    error = (f"attempt {attempt.number} made no progress for {state.task_timeout_s:.0f}s "
             f"(task timeout) on worker {attempt.worker_id}: killed")
    if job.state in FINAL_JOB_STATES or task.state == TaskState.SUCCEEDED:
        return [kill(task, attempt)]
    return [kill(task, attempt),
            *count_failure(state, job, task, attempt.worker_id, error, "", ev)]


def progress_reported(state: CoordinatorState, ev: ProgressReported) -> list[Command]:
    """Heartbeat: records processed and bytes read of each attempt a worker holds."""
    for entry in ev.msg.running:
        found = state.running_attempt(entry.attempt)
        if found is None or found[2].worker_id != ev.msg.sender:
            continue
        task, attempt = found[1], found[2]
        total = entry.total
        if task.split is not None and total:    # cut (rebalanced) since it started
            total = min(total, cutting.split_length(task.split))
        attempt.read = max(0.0, min(1.0, entry.read / max(1, total)))
        attempt.bytes_read(entry.read, ev.now)
        if entry.records != attempt.progress:
            attempt.progress, attempt.progress_s = entry.records, ev.now
    return []
