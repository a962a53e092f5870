"""What the coordinator's state machine asks its I/O shell to do: commands, as values.

``CoordinatorState.handle`` (``machine.py``) returns lists of these; the server carries
them out (``effects.py``), in order. Their inputs are the events of ``stimuli.py``.
(This module was ``events.py``; it holds the outputs, so it is named for them.)
"""

from __future__ import annotations

from dataclasses import dataclass

from zmr.core.plan import JobPlan
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


@dataclass(frozen=True)
class AbortOutput:
    """The job failed or was cancelled: remove its partial output."""

    job_id: str
    output: str


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
class Persist:
    """Journal these changes (the answer to a ``Checkpoint``)."""

    changes: tuple[JobChange, ...]


Command = Send | SealOutput | AbortOutput | Publish | Persist
