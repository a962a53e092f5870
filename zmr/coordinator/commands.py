"""What the coordinator's state machine asks its I/O shell to do: commands, as values.

``CoordinatorState.handle`` (``machine.py``) returns lists of these; the server carries
them out (``effects.py``), in order. Their inputs are the events of ``stimuli.py``.
(This module was ``events.py``; it holds the outputs, so it is named for them.)
"""

from __future__ import annotations

from dataclasses import dataclass

from zmr.core.plan import JobPlan, StepPlan
from zmr.core.specs import QuarantinedRecord
from zmr.protocol.messages import Message


@dataclass(frozen=True)
class Send:
    """Send ``msg`` (and blobs) to the worker ``peer``; if it cannot be delivered the
    worker is gone (``WorkerUnreachable``)."""

    peer: str
    msg: Message
    blobs: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class SealOutput:
    """Every task committed: write the job's ``_SUCCESS`` marker, then report the outcome
    as ``OutputSealed``; only then is the job SUCCEEDED (or FAILED, if it could not be
    written), so a client never sees a successful job without its marker."""

    job_id: str
    output: str
    # (map index, the records it skipped) to write under _quarantine/ before _SUCCESS
    quarantined: tuple[tuple[int, tuple[QuarantinedRecord, ...]], ...] = ()


@dataclass(frozen=True)
class AbortOutput:
    """The job failed or was cancelled: remove its partial output."""

    job_id: str
    output: str


@dataclass(frozen=True)
class PlanStep:
    """Step ``number`` of multi-step job ``job_id`` can start: list ``inputs`` (the step
    before's output), cut ``step``'s splits and prepare its output, then report the plan
    as ``StepPlanned``. Listing files is I/O, so the server does it, not the machine."""

    job_id: str
    number: int
    step: StepPlan
    inputs: tuple[str, ...]
    last: bool


@dataclass(frozen=True)
class DropSteps:
    """A multi-step job ended: remove its intermediate outputs (``<output>/_steps``)."""

    job_id: str
    output: str


@dataclass(frozen=True)
class ForgetJobs:
    """Delete these finished jobs' rows (job, tasks, attempt logs, multi-step record) from
    the journal: the machine has forgotten them."""

    job_ids: tuple[str, ...]


@dataclass(frozen=True)
class Publish:
    """Broadcast ``msg`` on the PUB socket (best effort: a backup to reliable messages)."""

    msg: Message


@dataclass(frozen=True)
class JobChange:
    """A job as the journal writes it: its header record and the tasks changed since the
    last checkpoint, already JSON (so nothing outside the machine holds live records).
    ``plan`` and ``code`` never change; the journal writes them once."""

    job_id: str
    job_name: str
    state: str
    final: bool
    header: str
    tasks: tuple[tuple[str, int, str], ...]      # (kind, index, task record as JSON)
    plan: JobPlan
    code: bytes


@dataclass(frozen=True)
class PipelineChange:
    """A multi-step job as the journal writes it: its record as JSON, and (written once)
    its step settings and codes."""

    job_id: str
    record: str
    final: bool
    steps: tuple[StepPlan, ...]
    codes: tuple[bytes, ...]


@dataclass(frozen=True)
class Persist:
    """Journal these changes (the answer to a ``Checkpoint``)."""

    changes: tuple[JobChange, ...]
    pipelines: tuple[PipelineChange, ...] = ()


Command = (Send | SealOutput | AbortOutput | PlanStep | DropSteps | ForgetJobs | Publish
           | Persist)
