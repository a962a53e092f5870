"""Carrying out the state machine's commands: the I/O the server does on its behalf.

Messages leave through the callables the server passes in (its sockets are
``zmr.transport`` channels); here, job outputs are sealed or removed (``storage.commit``),
the next step of a multi-step job is planned from its input files, and the journal is
written, paced by group commit. Whatever an effect learns (a ``_SUCCESS`` written or not,
a step planned or not, a worker that cannot be reached) goes back in through the door
as an event, and the commands that answers with are carried out in turn.
"""

from __future__ import annotations

import collections
import logging
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING

from zmr.coordinator import views
from zmr.coordinator.commands import (
    AbortOutput,
    Command,
    DropSteps,
    ForgetJobs,
    Persist,
    PlanStep,
    Publish,
    SealOutput,
    Send,
)
from zmr.coordinator.journal import Journal
from zmr.coordinator.stimuli import (
    Checkpoint,
    OutputSealed,
    StepPlanned,
    Stimulus,
    WorkerUnreachable,
)
from zmr.core.errors import ZmrError
from zmr.core.plan import JobPlan
from zmr.job.planning import plan_input
from zmr.protocol.messages import Message
from zmr.storage import commit, layout, quarantine

if TYPE_CHECKING:
    from zmr.coordinator.event_recorder import EventRecorder
    from zmr.coordinator.machine import CoordinatorState

log = logging.getLogger("zmr.coordinator")
#: Worker-driven changes are journaled at most this often (client replies always first).
SAVE_EVERY_S = 0.5


class Effects:
    """Runs commands for one ``CoordinatorState``; ``send`` delivers a ``Send`` (False: the
    peer is gone), ``publish`` broadcasts a message."""

    def __init__(self, state: CoordinatorState, journal: Journal,
                 send: Callable[[Send], bool], publish: Callable[[Message], None],
                 clock: Callable[[], float], recorder: EventRecorder | None = None) -> None:
        self.state, self.journal, self.recorder = state, journal, recorder
        self.send, self.publish, self.clock = send, publish, clock
        self.unsaved = False            # the state changed since the last journal write
        self._next_save_s = clock()

    def feed(self, event: Stimulus) -> None:
        """Hand ``event`` to the machine and carry out what it answers."""
        self.run(self.handle(event))

    def handle(self, event: Stimulus) -> list[Command]:
        """The machine's answer to ``event``, its effect on jobs recorded in their event
        logs (the one way events reach the machine from here and from the server)."""
        if self.recorder is None:
            return self.state.handle(event)
        before = self.recorder.before(self.state, event)
        commands = self.state.handle(event)
        self.recorder.after(self.state, event, commands, before)
        return commands

    def run(self, commands: list[Command]) -> None:
        queue = collections.deque(commands)
        while queue:
            queue.extend(self._carry_out(queue.popleft()))

    def _carry_out(self, command: Command) -> list[Command]:
        """Do one command; the commands the machine answers its outcome with, if any."""
        if isinstance(command, Send):
            if self.send(command):
                return []
            log.warning("worker=%s unreachable: declared dead", command.peer)
            return self.handle(WorkerUnreachable(self.clock(), command.peer))
        if isinstance(command, SealOutput):
            error = seal_output(command)
            then = self.handle(OutputSealed(self.clock(), command.job_id, error))
            self._log_finished(command.job_id)
            return then
        if isinstance(command, PlanStep):
            plan, error = plan_step(command)
            return self.handle(StepPlanned(self.clock(), command.job_id,
                                                 command.number, plan, error))
        if isinstance(command, AbortOutput):
            abort_output(command)
            self._log_finished(command.job_id)
        elif isinstance(command, DropSteps):
            drop_steps(command)
        elif isinstance(command, Publish):
            self.publish(command.msg)
        elif isinstance(command, ForgetJobs):
            self.journal.forget(command.job_ids)
            if self.recorder is not None:
                self.recorder.log.forget(list(command.job_ids))
        elif isinstance(command, Persist):
            self.journal.save(command.changes, command.pipelines)
        return []

    def persist(self) -> None:
        """Journal what changed. Called before any reply that reveals state, so a client is
        never told something a restarted coordinator would not know; worker traffic alone is
        journaled at most every ``SAVE_EVERY_S`` (group commit): a task result lost in a
        crash in between is only re-run, as the worker no longer reports it running."""
        self.feed(Checkpoint(self.clock()))
        self.unsaved = False
        self._next_save_s = self.clock() + SAVE_EVERY_S

    def persist_if_due(self) -> None:
        if self.unsaved and self.clock() >= self._next_save_s:
            self.persist()

    def _log_finished(self, job_id: str) -> None:
        job = views.job_view(self.state, job_id)
        if job is not None:
            log.info("job=%s %s in %.2fs", job.job_id, job.state,
                     (job.finished_s or 0) - job.submitted_s)


def seal_output(command: SealOutput) -> str:
    """Write the skipped records' quarantine, then ``_SUCCESS``; the error text if that
    failed."""
    try:
        quarantine.write(command.output, command.quarantined)
        commit.mark_success(command.output)
    except (OSError, ZmrError) as exc:
        log.error("job=%s: writing %s/_SUCCESS failed: %s", command.job_id,
                  command.output, exc)
        return str(exc)
    return ""


def plan_step(command: PlanStep) -> tuple[JobPlan | None, str]:
    """Cut the next step's splits from the files of the step before, and make its output
    directory ours: the last step's output holds only ``_steps`` (the job's own, made at
    submission), anything else there is a leftover of an attempt lost in a restart."""
    try:
        plan = plan_input(command.step, list(command.inputs), allow_empty=True)
        # a lost attempt's parts, not a user's files nor the earlier steps' quarantine
        commit.abort_output(plan.output, commit.STEPS_ENTRIES)
        commit.prepare_output(plan.output)
    except (OSError, ZmrError) as exc:
        log.error("job=%s: planning step %d failed: %s", command.job_id, command.number, exc)
        return None, str(exc)
    return plan, ""


def drop_steps(command: DropSteps) -> None:
    shutil.rmtree(layout.steps_dir(command.output), ignore_errors=True)
    log.info("job=%s: intermediate outputs removed", command.job_id)


def abort_output(command: AbortOutput) -> None:
    try:
        commit.abort_output(command.output)
    except OSError as exc:
        log.error("job=%s: removing partial output %s failed: %s", command.job_id,
                  command.output, exc)
