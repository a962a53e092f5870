"""What the coordinator's state machine asks its I/O shell to do: commands, as values.

``CoordinatorState`` (``machine.py``) returns lists of these; ``CoordinatorServer``
(``server.py``) carries them out. Inbound events are the wire messages themselves
(``zmr.protocol.messages``) plus the clock, passed as ``now``; nothing is duplicated here.
"""

from __future__ import annotations

from dataclasses import dataclass

from zmr.protocol.messages import Message


@dataclass(frozen=True)
class Send:
    """Send ``msg`` (and blobs) to the worker or client ``peer``."""

    peer: str
    msg: Message
    blobs: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class SealOutput:
    """Every task committed: write the job's ``_SUCCESS`` marker, then report the outcome
    with ``output_sealed``; only then is the job SUCCEEDED (or FAILED, if it could not be
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


Command = Send | SealOutput | AbortOutput | Publish
