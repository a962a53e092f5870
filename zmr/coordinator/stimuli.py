"""Everything that can happen to the coordinator, as events: the only input of
``CoordinatorState.handle`` (dask's stimuli).

Each event is a small frozen dataclass carrying ``now``, the time the server saw it: the
state machine reads no clock, so a test replays any history exactly, and every state change
it causes is stamped (with the event's name) in the task's story. External events come
from peers and mostly wrap the decoded wire message as it is (``zmr.protocol.messages``
stays the one definition of the wire format); internal ones come from the server's loop
(time passing, a silent worker, a ``_SUCCESS`` written, a journal read back).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from zmr.core.plan import JobPlan, StepPlan
from zmr.protocol.messages import (
    Heartbeat,
    Register,
    RequestTask,
    ShrinkAnswer,
    TaskDone,
    TaskFailed,
)

if TYPE_CHECKING:
    from zmr.coordinator.model import Job
    from zmr.coordinator.pipelines import PipelineJob


@dataclass(frozen=True, slots=True)
class Stimulus:
    """Base of every event: when it happened (the server's wall clock)."""

    now: float

    @property
    def name(self) -> str:
        """How a story names the event that caused a change."""
        return type(self).__name__


# ------------------------------------------------------------------ from workers and clients

@dataclass(frozen=True, slots=True)
class WorkerRegistered(Stimulus):
    """A worker joined or came back (``Register``: what it holds and still runs)."""

    msg: Register


@dataclass(frozen=True, slots=True)
class TaskRequested(Stimulus):
    """A worker asks for ``free_slots`` more attempts."""

    msg: RequestTask


@dataclass(frozen=True, slots=True)
class AttemptSucceeded(Stimulus):
    """A worker reports an attempt done, with its result (checked before it is believed)."""

    msg: TaskDone


@dataclass(frozen=True, slots=True)
class AttemptFailed(Stimulus):
    """A worker reports an attempt failed (or, ``lost_map`` >= 0, that a reduce could not
    fetch a map's output)."""

    msg: TaskFailed


@dataclass(frozen=True, slots=True)
class ShrinkAnswered(Stimulus):
    """A worker answers a request to cut a running map's split (dynamic work
    rebalancing): accepted, or refused and why."""

    msg: ShrinkAnswer


@dataclass(frozen=True, slots=True)
class ProgressReported(Stimulus):
    """A worker's heartbeat, with the progress of each attempt it runs."""

    msg: Heartbeat


@dataclass(frozen=True, slots=True)
class JobSubmitted(Stimulus):
    """A client submits a job; ``job_id`` is ``views.next_job_id`` (the server asks first,
    so it can journal and answer before it carries out the job's first assignments)."""

    job_id: str
    job_name: str
    plan: JobPlan
    code: bytes


@dataclass(frozen=True, slots=True)
class PipelineSubmitted(Stimulus):
    """A client submits a multi-step job; ``job_id`` as for ``JobSubmitted``. ``codes``:
    each step's code, in order."""

    job_id: str
    job_name: str
    steps: tuple[StepPlan, ...]
    codes: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class JobCancelled(Stimulus):
    """A client cancels a job."""

    job_id: str


# ------------------------------------------------------------------ from the server's loop

@dataclass(frozen=True, slots=True)
class Tick(Stimulus):
    """Time passed (twice a second): timeouts, stragglers, the end of a restore's grace."""


@dataclass(frozen=True, slots=True)
class HistoryPruned(Stimulus):
    """The retention policy (``[retention]``) chose these finished jobs (and multi-step
    jobs, with their steps) to be forgotten."""

    job_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WorkerExpired(Stimulus):
    """A worker missed its heartbeats for the liveness timeout: it is dead."""

    worker_id: str


@dataclass(frozen=True, slots=True)
class WorkerUnreachable(Stimulus):
    """A message to a worker could not be sent (its connection is gone): it is dead."""

    worker_id: str


@dataclass(frozen=True, slots=True)
class OutputSealed(Stimulus):
    """The server tried to write a job's ``_SUCCESS``; ``error`` is empty if it did."""

    job_id: str
    error: str = ""


@dataclass(frozen=True, slots=True)
class StepPlanned(Stimulus):
    """The server listed a multi-step job's step output and cut the next step's splits
    (``plan``), or could not (``error``, and no plan)."""

    job_id: str                  # the pipeline's
    number: int                  # of the step planned
    plan: JobPlan | None
    error: str = ""


@dataclass(frozen=True, slots=True)
class Restored(Stimulus):
    """The journal was read back after a restart: these jobs (and multi-step jobs) are ours
    again."""

    jobs: tuple[Job, ...]
    pipelines: tuple[PipelineJob, ...] = ()


@dataclass(frozen=True, slots=True)
class Checkpoint(Stimulus):
    """The server is about to journal: hand over what changed since the last one."""
