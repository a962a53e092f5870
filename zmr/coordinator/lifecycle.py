"""How jobs and tasks move through their lifecycles: a job is submitted, its attempts'
results are reported, and the job ends (sealed, failed or cancelled).

The named transitions the other handlers share live here too (ending or killing an
attempt, counting a failure, re-running a map, finishing a job), so every path to a given
state change is the same code, checked against ``states.py`` and written to the story.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zmr.coordinator import rebalance, records, usage
from zmr.coordinator.assign import JOB_COUNTERS, dispatch, free_slots_said
from zmr.coordinator.commands import AbortOutput, Command, Publish, SealOutput, Send
from zmr.coordinator.model import MAP, REDUCE, Attempt, Job, Task
from zmr.coordinator.results import expected_identity, result_problem
from zmr.coordinator.states import (
    FINAL_JOB_STATES,
    AttemptState,
    JobState,
    ShrinkState,
    TaskState,
)
from zmr.core.ids import AttemptId
from zmr.core.specs import MapManifest
from zmr.job.runtime import SKIPPED_COUNTER, skip_limit_problem
from zmr.protocol.messages import JobEnded, KillTask, TaskFailed

if TYPE_CHECKING:
    from zmr.coordinator.machine import CoordinatorState
    from zmr.coordinator.stimuli import (
        AttemptFailed,
        AttemptSucceeded,
        JobCancelled,
        JobSubmitted,
        OutputSealed,
        ShrinkAnswered,
        Stimulus,
    )


# -- handlers ----------------------------------------------------------------------------
def submit(state: CoordinatorState, ev: JobSubmitted) -> list[Command]:
    if ev.job_id in state.jobs:
        raise ValueError(f"job id {ev.job_id} is taken (ask views.next_job_id)")
    job = Job(ev.job_id, ev.job_name, ev.plan, ev.code, ev.now)
    job.set_tasks([Task(job.job_id, MAP, i) for i in range(ev.plan.num_maps)],
                  [Task(job.job_id, REDUCE, r) for r in range(ev.plan.num_reducers)])
    state.jobs[job.job_id] = job
    state.last_job_number = max(state.last_job_number, records.job_number(job.job_id))
    state.jobs_changed()
    commands = dispatch(state, ev)
    if not job.maps:                     # no input at all: nothing to wait for
        commands.append(seal(job))
    return commands


def cancel(state: CoordinatorState, ev: JobCancelled) -> list[Command]:
    job = state.jobs[ev.job_id]
    if job.state in FINAL_JOB_STATES:
        return []
    job.error = "cancelled by request"
    return finish_job(state, job, JobState.CANCELLED, ev)


def attempt_succeeded(state: CoordinatorState, ev: AttemptSucceeded) -> list[Command]:
    msg = ev.msg
    # the report says how many attempts the worker now takes, so the dispatch that
    # follows it answers with the next ones in this same turn (no request round trip)
    found = _reported_attempt(state, msg.attempt, msg.worker_id)
    free_slots_said(state, msg.worker_id, msg.free_slots, finishing=found is not None)
    if found is None:
        return dispatch(state, ev)       # stale (late, duplicate, fenced off)
    job, task, attempt = found
    problem = result_problem(task.index, job.plan.num_reducers, msg.result,
                             expected_identity(state.incarnation, job, task))
    if problem:
        return _failed(state, TaskFailed(msg.worker_id, msg.attempt, problem, ""), found, ev)
    end_attempt(task, attempt, AttemptState.SUCCEEDED, ev)
    if task.state == TaskState.SUCCEEDED:
        return dispatch(state, ev)       # a second attempt also finished: discard it
    task.set_state(TaskState.SUCCEEDED, ev)
    task.result, task.output_worker = msg.result, msg.worker_id
    task.touch()
    if msg.worker_id in state.workers:
        state.workers[msg.worker_id].tasks_done += 1
    return kill_others(job, task, ev) + _after_success(state, job, task, ev)


def attempt_failed(state: CoordinatorState, ev: AttemptFailed) -> list[Command]:
    found = _reported_attempt(state, ev.msg.attempt, ev.msg.worker_id)
    free_slots_said(state, ev.msg.worker_id, ev.msg.free_slots, finishing=found is not None)
    if found is None:
        return dispatch(state, ev)       # stale, as for a success
    return _failed(state, ev.msg, found, ev)


def _reported_attempt(state: CoordinatorState, key: AttemptId, worker_id: str
                      ) -> tuple[Job, Task, Attempt] | None:
    """The running attempt a worker reports on, if it is the worker running it: another
    one's report is stale (an attempt of the same id given out by a coordinator on another
    state dir) or forged."""
    found = state.running_attempt(key)
    return found if found is not None and found[2].worker_id == worker_id else None


def _failed(state: CoordinatorState, msg: TaskFailed, found: tuple[Job, Task, Attempt],
            ev: Stimulus) -> list[Command]:
    job, task, attempt = found
    end_attempt(task, attempt, AttemptState.FAILED, ev)
    if task.state == TaskState.SUCCEEDED:
        return dispatch(state, ev)       # another attempt already committed
    if msg.worker_id in state.workers:
        state.workers[msg.worker_id].tasks_failed += 1
    if msg.lost_map >= 0 and (lost := job.task(MAP, msg.lost_map)) is not None:
        # a reducer could not fetch that map's output: the map runs again (the reducer's
        # own attempt does not count as a failure, as in Hadoop)
        if lost.state == TaskState.SUCCEEDED:
            rerun_map(job, lost, ev, counted=False)
        return dispatch(state, ev)
    if msg.input_error:
        return _input_error(state, job, task, msg, ev)
    if msg.fatal:
        return _fatal(state, job, task, msg, ev)
    return count_failure(state, job, task, msg.worker_id, msg.error, msg.traceback, ev)


def _fatal(state: CoordinatorState, job: Job, task: Task, msg: TaskFailed,
           ev: Stimulus) -> list[Command]:
    """The job's code said retrying cannot help (``zmr.FatalError``): the job fails now,
    its other attempts killed, as if the task had run out of attempts. Not counted
    against the worker (no blacklisting): the input is at fault, not the machine."""
    task.failures += 1
    task.error, task.traceback = msg.error, msg.traceback
    job.counters.increment(JOB_COUNTERS, "FAILED_ATTEMPTS")
    task.set_state(TaskState.FAILED, ev)   # other attempts are killed with the job
    job.error = (f"{task.name} raised a fatal error on worker {msg.worker_id} (not "
                 f"retried): {msg.error}\n{msg.traceback}")
    return finish_job(state, job, JobState.FAILED, ev)


def _input_error(state: CoordinatorState, job: Job, task: Task, msg: TaskFailed,
                 ev: Stimulus) -> list[Command]:
    """The input cannot be read as asked (invalid UTF-8, a line too long, a file changed
    since planning): every attempt would fail alike, so the job fails now, with the error's
    one line (naming file and offset) as its own, as it reads inline. The worker is not
    blamed."""
    task.failures += 1
    task.error, task.traceback = msg.error, ""
    job.counters.increment(JOB_COUNTERS, "FAILED_ATTEMPTS")
    task.set_state(TaskState.FAILED, ev)
    job.error, job.error_kind = f"{msg.error} ({task.name}, not retried)", "input"
    return finish_job(state, job, JobState.FAILED, ev)


def shrink_answered(state: CoordinatorState, ev: ShrinkAnswered) -> list[Command]:
    """A worker answers the cut ``rebalance.py`` asked of a running map: accepted, the
    remainder becomes a new map task, handed out at once; refused, the attempt may be
    asked again later (unless for good). An answer for an attempt that no longer runs,
    or to another question, changes nothing."""
    msg = ev.msg
    found = _reported_attempt(state, msg.attempt, msg.worker_id)
    if found is None:
        return []
    job, task, attempt = found
    if attempt.shrink != ShrinkState.ASKED or attempt.shrink_keep != msg.keep:
        return []
    if not msg.accepted:
        task.set_shrink(attempt, ShrinkState.NEVER if msg.final else ShrinkState.REFUSED, ev)
        return dispatch(state, ev)
    task.set_shrink(attempt, ShrinkState.ACCEPTED, ev)
    rebalance.cut(job, task, msg.keep, ev)
    return dispatch(state, ev)


def output_sealed(state: CoordinatorState, ev: OutputSealed) -> list[Command]:
    """The server wrote ``_SUCCESS`` (``error`` empty) or could not."""
    job = state.jobs.get(ev.job_id)
    if job is None or job.state in FINAL_JOB_STATES:
        return []
    if ev.error:
        job.error = f"every task committed, but {job.plan.output}/_SUCCESS: {ev.error}"
        return finish_job(state, job, JobState.FAILED, ev)
    return finish_job(state, job, JobState.SUCCEEDED, ev)


def _after_success(state: CoordinatorState, job: Job, task: Task,
                   ev: Stimulus) -> list[Command]:
    if task.kind == MAP and job.done(MAP) == len(job.maps):
        problem = skip_limit_problem(job.plan.skip_bad_records,
                                     job.map_counter(SKIPPED_COUNTER))
        if problem:                   # checked once the map phase is over, before any seal
            job.error = problem
            return finish_job(state, job, JobState.FAILED, ev)
    if job.complete():
        return [seal(job)]
    return dispatch(state, ev)


def seal(job: Job) -> SealOutput:
    """Commit ``job``'s output: ``_SUCCESS``, after the records its maps skipped."""
    return SealOutput(job.job_id, job.plan.output, tuple(
        (t.index, t.result.quarantined) for t in job.maps
        if isinstance(t.result, MapManifest) and t.result.quarantined))


# -- transitions the handlers share --------------------------------------------------------
def end_attempt(task: Task, attempt: Attempt, new: AttemptState, ev: Stimulus) -> None:
    """End ``attempt``; a running task left without running attempts is pending again,
    unless this one succeeded (the caller then moves the task on)."""
    task.end_attempt(attempt, new, ev)
    if task.state == TaskState.RUNNING and not task.running() and \
            new != AttemptState.SUCCEEDED:
        task.set_state(TaskState.PENDING, ev)


def kill(task: Task, attempt: Attempt) -> Send:
    """The message that stops ``attempt`` on its worker."""
    return Send(attempt.worker_id, KillTask(task.attempt_id(attempt)))


def kill_others(job: Job, task: Task, ev: Stimulus) -> list[Command]:
    """The first commit won: stop the task's other (speculative) attempts."""
    commands: list[Command] = []
    for other in task.running():
        task.end_attempt(other, AttemptState.KILLED, ev)
        job.counters.increment(JOB_COUNTERS, "KILLED_ATTEMPTS")
        commands.append(kill(task, other))
    return commands


def count_failure(state: CoordinatorState, job: Job, task: Task, worker_id: str, error: str,
                  tb: str, ev: Stimulus) -> list[Command]:
    """An attempt of ``task`` failed on ``worker_id``: retry, or fail the job once the task
    is out of attempts."""
    task.failures += 1
    task.error, task.traceback = error, tb
    task.touch()
    job.worker_failures[worker_id] = job.worker_failures.get(worker_id, 0) + 1
    job.counters.increment(JOB_COUNTERS, "FAILED_ATTEMPTS")
    if task.failures >= state.max_attempts:
        if task.state == TaskState.RUNNING:
            return dispatch(state, ev)    # another attempt is still running: let it try
        task.set_state(TaskState.FAILED, ev)
        job.error = (f"{task.name} failed {task.failures} times; last error on worker "
                     f"{worker_id}: {error}\n{tb}")
        return finish_job(state, job, JobState.FAILED, ev)
    return dispatch(state, ev)


def rerun_map(job: Job, task: Task, ev: Stimulus, counted: bool = True) -> None:
    """The map's output is gone (``counted``: with its worker): it runs again."""
    task.set_state(TaskState.PENDING, ev)
    task.result = None
    if counted:
        job.counters.increment(JOB_COUNTERS, "RERUN_MAPS")


def finish_job(state: CoordinatorState, job: Job, new: JobState,
               ev: Stimulus) -> list[Command]:
    """``job`` ends in ``new``: its running attempts are killed, its unfinished tasks too,
    its output is removed unless it succeeded, and everyone is told."""
    commands: list[Command] = []
    for task, attempt in job.running_attempts():
        task.end_attempt(attempt, AttemptState.KILLED, ev)
        commands.append(kill(task, attempt))
    for task in job.tasks():             # once per job: the walk is affordable
        if task.state in (TaskState.PENDING, TaskState.RUNNING):
            task.set_state(TaskState.KILLED, ev)
    usage.settle(job, ev.now)
    if job.state == JobState.QUEUED and new == JobState.SUCCEEDED:
        job.set_state(JobState.RUNNING, ev)
    job.set_state(new, ev)
    job.finished_s = ev.now
    state.jobs_changed(ended=job)
    if new != JobState.SUCCEEDED:
        commands.append(AbortOutput(job.job_id, job.plan.output))
    commands.append(Publish(JobEnded(job.job_id, new.value)))
    return commands + dispatch(state, ev)
