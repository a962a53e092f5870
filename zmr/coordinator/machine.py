"""The coordinator's state machine and its one door: ``CoordinatorState.handle(event)``.

``CoordinatorState`` is the only thing that changes scheduling state, and ``handle`` is
the only way in: an event (``stimuli.py``) goes in, commands (``commands.py``) come out,
and one handler per event type decides what changes (``HANDLERS``, like dask's
``_handle_event``). The machine does no I/O and reads no clock (every event carries
``now``); the server (``server.py``) turns socket traffic and timers into events and
carries out the commands (``effects.py``), and reads the state only through ``views.py``.
So scheduling is tested by feeding events and comparing commands, with ``validate()``
after each one, without sockets.

The handlers are plain functions taking the state, one module per concern:
``lifecycle.py`` (jobs, results, how tasks and jobs end), ``assign.py`` (handing tasks to
workers), ``recovery.py`` (workers lost and back, restarts, timeouts), ``pipelines.py``
(multi-step jobs, whose steps are jobs: it sits on top). Functions rather than mixins:
each module's imports say what it depends on, the layering test sees the order
(pipelines > recovery > lifecycle > assign), and no class spreads its attributes across
files.

Attempts are fenced: a result for an attempt that is not running (late, duplicate, from a
worker declared dead) is ignored, and the first successful attempt of a task is the only
one whose output and counters count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zmr.coordinator import (
    assign,
    history,
    invariants,
    lifecycle,
    pipeline_records,
    pipelines,
    records,
    recovery,
)
from zmr.coordinator.commands import Command, Persist, PipelineChange
from zmr.coordinator.model import Attempt, Job, Task, WorkerInfo, readable
from zmr.coordinator.pipelines import PipelineJob
from zmr.coordinator.states import FINAL_JOB_STATES, StoryEntry
from zmr.coordinator.stimuli import (
    AttemptFailed,
    AttemptSucceeded,
    Checkpoint,
    HistoryPruned,
    JobCancelled,
    JobSubmitted,
    OutputSealed,
    PipelineSubmitted,
    ProgressReported,
    Restored,
    ShrinkAnswered,
    StepPlanned,
    Stimulus,
    TaskRequested,
    Tick,
    WorkerExpired,
    WorkerRegistered,
    WorkerUnreachable,
)
from zmr.coordinator.usage import recharging
from zmr.core.ids import AttemptId


@dataclass
class CoordinatorState:
    """Jobs, tasks and workers. Change them only through ``handle``."""

    max_attempts: int = 4
    task_timeout_s: float = 600.0
    blacklist_after: int = 3
    speculative: bool = True
    slow_factor: float = 1.5
    min_runtime_s: float = 5.0
    rebalance: bool = True                   # cut running maps' remainders (rebalance.py)
    rebalance_min_bytes: int = 1 << 20
    rebalance_min_s: float = 0.5
    restore_grace_s: float = 12.0
    restored_at: float | None = None
    no_worker_warning_s: float = 30.0
    workerless_since: float | None = None    # since when no worker is registered (ticks)
    jobs: dict[str, Job] = field(default_factory=dict)
    workers: dict[str, WorkerInfo] = field(default_factory=dict)
    pipelines: dict[str, PipelineJob] = field(default_factory=dict)   # multi-step jobs
    last_job_number: int = 0                 # of job ids "job-NNNN" (jobs and pipelines)
    incarnation: str = ""                    # the journal's id, carried by map outputs
    step_ends: list[Job] = field(default_factory=list)   # step jobs ended by this event
    _live: list[Job] | None = None           # jobs not over yet, oldest first (None: recount)
    _ended: list[Job] = field(default_factory=list)   # final since the last checkpoint

    def handle(self, event: Stimulus) -> list[Command]:
        """The door: what ``event`` changes, and what the server must do about it."""
        handler = HANDLERS.get(type(event))
        if handler is None:
            raise TypeError(f"no handler for {type(event).__name__}: not a coordinator event")
        commands = handler(self, event)
        if self.step_ends:        # a step of a multi-step job ended: on to what follows
            commands += pipelines.steps_ended(self, event)
        return commands

    def validate(self) -> list[str]:
        """Every broken invariant (empty: none). For tests, after every event (dask's
        ``validate_state``); far too slow for the server."""
        return invariants.problems(self)

    def story(self, job_id: str, kind: str | None = None,
              index: int = 0) -> list[StoryEntry]:
        """The recent state changes of a task (or, without ``kind``, of the job), oldest
        first: which event moved what, from and to which state, when."""
        job = self.jobs.get(job_id)
        if job is None:
            return []
        owner = job.task(kind, index) if kind is not None else job
        return readable(owner.story) if owner is not None else []

    # -- lookups the handlers share ----------------------------------------------------
    def live_jobs(self) -> list[Job]:
        # kept: finished jobs stay in ``jobs`` (history, until pruned), and each event asks
        if self._live is None:
            self._live = [j for j in self.jobs.values() if j.state not in FINAL_JOB_STATES]
        return self._live

    def jobs_changed(self, ended: Job | None = None) -> None:
        """A job was added or ``ended``: the live list is counted again when next asked."""
        self._live = None
        if ended is not None:
            self._ended.append(ended)
            if pipelines.owner_of(ended.job_id):
                self.step_ends.append(ended)

    def running_attempt(self, which: AttemptId) -> tuple[Job, Task, Attempt] | None:
        """That attempt, its task and job, if it exists and runs (else it is stale or
        forged, and whatever it reports is ignored)."""
        job = self.jobs.get(which.job_id)
        task = job.task(which.kind, which.index) if job else None
        if job is None or task is None or job.state in FINAL_JOB_STATES:
            return None
        attempt = task.attempt(which.attempt)
        return (job, task, attempt) if attempt is not None and attempt.running else None


def checkpoint(state: CoordinatorState, ev: Checkpoint) -> list[Command]:
    """What the journal must write: every live job (the header is compared there) and the
    jobs that ended since the last checkpoint, with the tasks changed since then. Jobs that
    were already final when journaled never change, so history costs nothing here."""
    jobs, state._ended = state.live_jobs() + state._ended, []
    changed = [p for p in state.pipelines.values() if p.dirty]
    for pipeline in changed:
        pipeline.dirty = False
    return [Persist(tuple(records.job_change(job) for job in jobs),
                    tuple(_pipeline_change(p) for p in changed))]


def _pipeline_change(pipeline: PipelineJob) -> PipelineChange:
    return PipelineChange(pipeline.job_id, pipeline_records.record_json(pipeline),
                          pipeline.final, pipeline.steps, pipeline.codes)


Handler = Callable[[CoordinatorState, Any], list[Command]]
#: One handler per event type: the whole of what the machine responds to.
HANDLERS: dict[type[Stimulus], Handler] = {
    JobSubmitted: lifecycle.submit,
    PipelineSubmitted: pipelines.submit,
    StepPlanned: pipelines.step_planned,
    JobCancelled: pipelines.cancel,
    AttemptSucceeded: lifecycle.attempt_succeeded,
    AttemptFailed: lifecycle.attempt_failed,
    OutputSealed: lifecycle.output_sealed,
    TaskRequested: assign.task_requested,
    # workers coming and going change the slots running jobs are charged for
    WorkerRegistered: recharging(recovery.worker_registered),
    WorkerExpired: recharging(recovery.worker_lost),
    WorkerUnreachable: recharging(recovery.worker_lost),
    ProgressReported: recovery.progress_reported,
    ShrinkAnswered: lifecycle.shrink_answered,
    Restored: pipelines.restored,
    Tick: recovery.tick,
    Checkpoint: checkpoint,
    HistoryPruned: history.prune,
}
