"""The coordinator's side of the event log: what each event did, as records.

The state machine stays pure: it neither knows nor writes the log. :class:`EventRecorder`
sits beside it in the effects path (``effects.py``): given an event, the commands the
machine answered it with and the state after (read only, as ``views.py`` reads it), it
makes the records of :mod:`zmr.storage.events` (an ``AssignTask`` sent is a task assigned,
a ``TaskDone`` believed is a task started and finished, a ``JobEnded`` published is the job
ended...) and buffers them in the job's log, flushed when a phase or the job ends. A step of
a multi-step job writes into its job's log. What is recorded of a report is decided by
the state after it: a stale or forged report, which changes nothing, records nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zmr.coordinator.commands import Command, DropSteps, Publish, SealOutput, Send
from zmr.coordinator.model import MAP, Attempt, Job, Task
from zmr.coordinator.pipelines import STEP_MARK, owner_of
from zmr.coordinator.states import AttemptState
from zmr.coordinator.stimuli import (
    AttemptFailed,
    AttemptSucceeded,
    JobSubmitted,
    PipelineSubmitted,
    StepPlanned,
    Stimulus,
    Tick,
    WorkerExpired,
    WorkerRegistered,
    WorkerUnreachable,
)
from zmr.core.errors import ConfigError
from zmr.core.ids import AttemptId
from zmr.protocol.messages import AssignTask, JobEnded, KillTask
from zmr.storage import event_text, layout
from zmr.storage import events as ev
from zmr.storage.event_log import EventLog
from zmr.storage.events import JOB_NAME
from zmr.storage.quarantine import quarantine_dir

if TYPE_CHECKING:
    from zmr.coordinator.machine import CoordinatorState

#: Buffered lines are written at least this often (on the server's ticks), besides at a
#: phase's and a job's end.
FLUSH_EVERY_S = 5.0


class EventRecorder:
    """Turns (event, commands, state) into event records of ``log``."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self._steps_seen: set[str] = set()
        self._flushed_s = float("-inf")

    def before(self, state: CoordinatorState, event: Stimulus) -> Any:
        """What must be read before the machine handles ``event`` (a lost worker's
        attempts and outputs, gone after it)."""
        if isinstance(event, WorkerExpired | WorkerUnreachable):
            return self._held_by(state, event.worker_id)
        if isinstance(event, WorkerRegistered):
            # a new process under a registered worker's id: the old one's work is lost
            # (as recovery.worker_registered decides it)
            known, msg = state.workers.get(event.msg.worker_id), event.msg
            if known is not None and (known.shuffle_endpoint != msg.shuffle_endpoint
                                      or known.token != msg.token):
                return self._held_by(state, msg.worker_id)
        return None

    def after(self, state: CoordinatorState, event: Stimulus, commands: list[Command],
              before: Any) -> None:
        """Record what ``event`` did, given the ``commands`` it was answered with."""
        self._record_event(state, event, before)
        for command in commands:
            self._record_command(state, event, command)
        if isinstance(event, Tick) and event.now - self._flushed_s >= FLUSH_EVERY_S:
            self.log.flush()        # a running job's log stays a few seconds behind at most
            self._flushed_s = event.now

    def close(self) -> None:
        self.log.flush()

    def timeline(self, job_id: str, limit: int) -> dict[str, Any]:
        """The job's log as the dashboard shows it (:func:`event_text.timeline`), what is
        buffered written first; ConfigError if it has none (unknown, or pruned)."""
        path = layout.event_log_path(self.log.history_dir, job_id)
        if not JOB_NAME.fullmatch(job_id):
            raise ConfigError(f"no such job: {job_id[:40]}")
        self.log.flush(job_id)
        try:
            return event_text.timeline(path, limit)
        except FileNotFoundError:
            raise ConfigError(f"no event log for {job_id}") from None

    # -- events --------------------------------------------------------------------------
    def _record_event(self, state: CoordinatorState, event: Stimulus, before: Any) -> None:
        if isinstance(event, JobSubmitted) and not owner_of(event.job_id):
            self._add(event.job_id, ev.submitted(event.now, event.job_id, event.job_name,
                                              event.plan))
        elif isinstance(event, PipelineSubmitted):
            self._add(event.job_id, ev.submitted(
                event.now, event.job_id, event.job_name, event.steps[0].plan,
                len(event.steps), event.steps[-1].plan.output))
        elif isinstance(event, StepPlanned):
            plan = event.plan
            self._add(event.job_id, ev.StepPlanned(
                event.now, event.job_id, event.number, plan.num_maps if plan else 0,
                plan.num_reducers if plan else 0, event.error))
        elif isinstance(event, AttemptSucceeded | AttemptFailed):
            self._attempt_ended(state, event)
        elif isinstance(event, WorkerExpired | WorkerUnreachable | WorkerRegistered) and \
                before:
            self._worker_lost(event, before)

    def _attempt_ended(self, state: CoordinatorState,
                       event: AttemptSucceeded | AttemptFailed) -> None:
        msg = event.msg
        found = _attempt(state, msg.attempt)
        if found is None or found[2].worker_id != msg.worker_id:
            return
        job, task, attempt = found
        if attempt.finished_s != event.now:        # not ended by this report: stale
            return
        name, worker = ev.task_name(task.kind, task.index), msg.worker_id
        if isinstance(event, AttemptSucceeded):
            self._add(job.job_id, ev.TaskStarted(event.msg.started_s, job.job_id, name,
                                                 attempt.number, worker))
        if attempt.state == AttemptState.SUCCEEDED and isinstance(event, AttemptSucceeded):
            self._finished(job, task, attempt, event)
            return
        error = event.msg.error if isinstance(event, AttemptFailed) else task.error
        lost = event.msg.lost_map if isinstance(event, AttemptFailed) else -1
        fatal = event.msg.fatal if isinstance(event, AttemptFailed) else False
        self._add(job.job_id, ev.TaskFailed(event.now, job.job_id, name, attempt.number,
                                            worker, ev.error_summary(error), lost, fatal))

    def _finished(self, job: Job, task: Task, attempt: Attempt,
                  event: AttemptSucceeded) -> None:
        msg = event.msg
        self._add(job.job_id, ev.finished(
            event.now, job.job_id, ev.task_name(task.kind, task.index), attempt.number,
            msg.worker_id, msg.finished_s - msg.started_s, msg.result.counters))
        if task.kind == MAP and job.done(MAP) == len(job.maps):
            self.log.flush(_log_of(job.job_id))           # the map phase ended

    def _held_by(self, state: CoordinatorState, worker_id: str
                 ) -> list[tuple[str, tuple[str, ...], int]]:
        """Per live job: the attempts ``worker_id`` runs and the map outputs it holds."""
        held = []
        for job in state.live_jobs():
            attempts = tuple(f"{ev.task_name(t.kind, t.index)}-a{a.number}"
                             for t, a in job.running_attempts() if a.worker_id == worker_id)
            outputs = sum(1 for t in job.needed_outputs() if t.output_worker == worker_id)
            if attempts or outputs:
                held.append((job.job_id, attempts, outputs))
        return held

    def _worker_lost(self, event: WorkerExpired | WorkerUnreachable | WorkerRegistered,
                     held: list[tuple[str, tuple[str, ...], int]]) -> None:
        if isinstance(event, WorkerRegistered):
            worker, reason = event.msg.worker_id, "restarted (a new process registered)"
        else:
            worker = event.worker_id
            reason = ("missed its heartbeats" if isinstance(event, WorkerExpired)
                      else "unreachable")
        for job_id, attempts, outputs in held:
            self._add(job_id, ev.WorkerLost(event.now, job_id, worker, reason, attempts,
                                            outputs))

    # -- commands ------------------------------------------------------------------------
    def _record_command(self, state: CoordinatorState, event: Stimulus,
                        command: Command) -> None:
        if isinstance(command, Send):
            if isinstance(command.msg, AssignTask):
                self._assigned(state, event, command.msg.attempt, command.peer)
            elif isinstance(command.msg, KillTask):
                which = command.msg.attempt
                self._add(which.job_id, ev.TaskKilled(
                    event.now, which.job_id, ev.task_name(which.kind, which.index),
                    which.attempt, command.peer))
        elif isinstance(command, SealOutput) and command.quarantined:
            records = sum(len(entries) for _, entries in command.quarantined)
            self._add(command.job_id, ev.RecordsQuarantined(
                event.now, command.job_id, records, quarantine_dir(command.output)))
        elif isinstance(command, Publish) and isinstance(command.msg, JobEnded):
            job = state.jobs.get(command.msg.job_id)
            if job is not None:
                self._ended(job.job_id, job.state.value, job, event.now)
        elif isinstance(command, DropSteps):
            self._pipeline_ended(state, command.job_id, event.now)

    def _assigned(self, state: CoordinatorState, event: Stimulus, which: AttemptId,
                  worker: str) -> None:
        found = _attempt(state, which)
        if found is None:
            return
        job, task, attempt = found
        self._step_started(job, event.now)
        self._add(job.job_id, ev.TaskAssigned(
            event.now, job.job_id, ev.task_name(task.kind, task.index), attempt.number,
            worker, retry=attempt.number > 1 and not attempt.speculative,
            backup=attempt.speculative))

    def _step_started(self, job: Job, now: float) -> None:
        """The first assignment of a step job is its step's start."""
        owner = owner_of(job.job_id)
        if not owner or job.job_id in self._steps_seen:
            return
        self._steps_seen.add(job.job_id)
        number = _step_number(job.job_id)
        self._add(job.job_id, ev.StepStarted(now, job.job_id, number, job.plan.num_maps,
                                             job.plan.num_reducers))

    def _ended(self, job_id: str, state: str, job: Job, now: float) -> None:
        """A job ended; a step job's end is its step's."""
        counters = _counters([job])
        if owner_of(job_id):
            self._add(job_id, ev.StepEnded(
                now, job_id, _step_number(job_id), state, round(now - job.submitted_s, 6),
                len(job.maps), len(job.reduces), ev.error_summary(job.error)))
            return
        self._add(job_id, ev.JobEnded(
            now, job_id, state, round(now - job.submitted_s, 6), len(job.maps),
            len(job.reduces), counters.get("FAILED_ATTEMPTS", 0),
            ev.error_summary(job.error), counters))
        self.log.flush(job_id)

    def _pipeline_ended(self, state: CoordinatorState, job_id: str, now: float) -> None:
        """A multi-step job ended: its totals are its steps' (tasks, counters)."""
        pipeline = state.pipelines.get(job_id)
        if pipeline is None:
            return
        steps = [state.jobs[j] for j in pipeline.step_jobs if j in state.jobs]
        counters = _counters(steps)
        self._add(job_id, ev.JobEnded(
            now, job_id, pipeline.state.value, round(now - pipeline.submitted_s, 6),
            sum(len(j.maps) for j in steps), sum(len(j.reduces) for j in steps),
            counters.get("FAILED_ATTEMPTS", 0), ev.error_summary(pipeline.error), counters))
        self._steps_seen.difference_update(pipeline.step_jobs)
        self.log.flush(job_id)

    def _add(self, job_id: str, record: ev.Event) -> None:
        self.log.add(_log_of(job_id), record)


def _counters(jobs: list[Job]) -> dict[str, int]:
    """The totals a job's end reports (``ENDED_COUNTERS``), over ``jobs`` (a multi-step
    job's steps)."""
    total: dict[str, int] = {}
    for job in jobs:
        counters = job.total_counters().to_dict()
        for name, value in {**counters.get("zmr", {}), **counters.get("zmr.job", {})}.items():
            if name in ev.ENDED_COUNTERS:
                total[name] = total.get(name, 0) + int(value)
    return total


def _step_number(job_id: str) -> int:
    return int(job_id.rpartition(STEP_MARK)[2])


def _log_of(job_id: str) -> str:
    """The log a job's records go to: a step's go to its multi-step job's."""
    return owner_of(job_id) or job_id


def _attempt(state: CoordinatorState, which: AttemptId) -> tuple[Job, Task, Attempt] | None:
    job = state.jobs.get(which.job_id)
    task = job.task(which.kind, which.index) if job is not None else None
    attempt = task.attempt(which.attempt) if task is not None else None
    return None if attempt is None else (job, task, attempt)  # type: ignore[return-value]
