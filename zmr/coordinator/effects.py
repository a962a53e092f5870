"""Carrying out the state machine's commands: the I/O the server does on its behalf.

Messages leave through the callables the server passes in (its sockets are
``zmr.transport`` channels); here, job outputs are sealed or removed (``storage.commit``)
and the journal is written, paced by group commit. Whatever an effect learns (a
``_SUCCESS`` written or not, a worker that cannot be reached) goes back in through the
door as an event, and the commands that answers with are carried out in turn.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from zmr.coordinator import views
from zmr.coordinator.commands import AbortOutput, Command, Persist, Publish, SealOutput, Send
from zmr.coordinator.journal import Journal
from zmr.coordinator.stimuli import Checkpoint, OutputSealed, Stimulus, WorkerUnreachable
from zmr.core.errors import ZmrError
from zmr.protocol.messages import Message
from zmr.storage import commit

if TYPE_CHECKING:
    from zmr.coordinator.machine import CoordinatorState

log = logging.getLogger("zmr.coordinator")
#: Worker-driven changes are journaled at most this often (client replies always first).
SAVE_EVERY_S = 0.5


class Effects:
    """Runs commands for one ``CoordinatorState``; ``send`` delivers a ``Send`` (False: the
    peer is gone), ``publish`` broadcasts a message."""

    def __init__(self, state: CoordinatorState, journal: Journal,
                 send: Callable[[Send], bool], publish: Callable[[Message], None],
                 clock: Callable[[], float]) -> None:
        self.state, self.journal = state, journal
        self.send, self.publish, self.clock = send, publish, clock
        self.unsaved = False            # the state changed since the last journal write
        self._next_save_s = clock()

    def feed(self, event: Stimulus) -> None:
        """Hand ``event`` to the machine and carry out what it answers."""
        self.run(self.state.handle(event))

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
            return self.state.handle(WorkerUnreachable(self.clock(), command.peer))
        if isinstance(command, SealOutput):
            error = seal_output(command)
            then = self.state.handle(OutputSealed(self.clock(), command.job_id, error))
            self._log_finished(command.job_id)
            return then
        if isinstance(command, AbortOutput):
            abort_output(command)
            self._log_finished(command.job_id)
        elif isinstance(command, Publish):
            self.publish(command.msg)
        elif isinstance(command, Persist):
            self.journal.save(command.changes)
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
    """Write ``_SUCCESS``; the error text if that failed."""
    try:
        commit.mark_success(command.output)
    except (OSError, ZmrError) as exc:
        log.error("job=%s: writing %s/_SUCCESS failed: %s", command.job_id,
                  command.output, exc)
        return str(exc)
    return ""


def abort_output(command: AbortOutput) -> None:
    try:
        commit.abort_output(command.output)
    except OSError as exc:
        log.error("job=%s: removing partial output %s failed: %s", command.job_id,
                  command.output, exc)
